"""C7 (and C4.3): REST routes with OAuth-signed requests, ACL, status, bearer flag, response shape."""

from __future__ import annotations

import pytest
import requests
from twin_clients import AdminClient, Credentials, handshake, rest_get

pytestmark = pytest.mark.docker

NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
ORDERS = {"searchCriteria[pageSize]": "1"}


@pytest.fixture
def creds_for(stack, make_integration, listener):
    def make(resources: list[str]) -> tuple[dict, Credentials, AdminClient]:
        row = make_integration(endpoint=listener.url, resources=resources)
        admin = AdminClient(stack)
        return row, handshake(stack, admin, row["integration_id"], listener), admin

    return make


def test_c7_4_orders_shape(stack, creds_for):
    """C7.4: GET /rest/V1/orders?searchCriteria[pageSize]=1 -> items, search_criteria, total_count."""
    _, creds, _ = creds_for(["Magento_Sales::actions_view"])
    resp = rest_get(stack, creds, "V1/orders", ORDERS)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"items", "search_criteria", "total_count"}
    assert len(body["items"]) == 1 and body["total_count"] >= 1
    assert body["search_criteria"]["page_size"] == 1


def test_c7_1_store_code_paths(stack, creds_for):
    """C7.1: /rest/<store_code>/V1/... for `default` and `all`."""
    _, creds, _ = creds_for(["Magento_Sales::actions_view"])
    for store in ("default", "all"):
        resp = rest_get(stack, creds, "V1/orders", ORDERS, store=store)
        assert resp.status_code == 200, (store, resp.text)


def test_c4_3_routes_and_acl(stack, creds_for):
    """C4.3: each route needs its resource; a denied one gets the C7.2 body with the resource id."""
    _, creds, _ = creds_for(["Magento_Sales::actions_view", "Magento_Backend::store"])
    assert rest_get(stack, creds, "V1/orders", ORDERS).status_code == 200
    views = rest_get(stack, creds, "V1/store/storeViews")
    assert views.status_code == 200 and any(v["code"] == "default" for v in views.json())
    for path, resource in (
        ("V1/products", "Magento_Catalog::products"),
        ("V1/customers/search", "Magento_Customer::customer"),
    ):
        resp = rest_get(stack, creds, path, {"searchCriteria[pageSize]": "1"})
        assert resp.status_code == 401
        assert stack.rest_error(resp) == {"message": NOT_AUTHORIZED, "parameters": {"resources": resource}}


def test_c4_3_products_and_customers_allowed(stack, creds_for):
    """C4.3: Magento_Catalog::products and Magento_Customer::customer open their routes."""
    _, creds, _ = creds_for(["Magento_Catalog::products", "Magento_Customer::customer"])
    for path in ("V1/products", "V1/customers/search"):
        resp = rest_get(stack, creds, path, {"searchCriteria[pageSize]": "2"})
        assert resp.status_code == 200, resp.text
        assert len(resp.json()["items"]) == 2


def test_c4_3_explicit_child_allowed_under_denied_parent(stack, creds_for):
    """C4.3: an explicitly allowed child is allowed even when its parent is denied."""
    row, creds, _ = creds_for(["Magento_Sales::actions_view"])
    role = stack.query(
        f"SELECT role_id FROM {stack.t('authorization_role')} WHERE user_id=%s AND user_type='1'",
        (row["integration_id"],),
    )[0]["role_id"]
    stack.execute(
        f"UPDATE {stack.t('authorization_rule')} SET permission='deny' WHERE role_id=%s AND resource_id IN "
        "('Magento_Sales::actions', 'Magento_Sales::sales_order', 'Magento_Sales::sales')",
        (role,),
    )
    assert rest_get(stack, creds, "V1/orders", ORDERS).status_code == 200


def test_c7_1_only_while_status_is_1(stack, creds_for):
    """C7.1: the same valid signature is refused when the integration is not active."""
    row, creds, _ = creds_for(["Magento_Sales::actions_view"])
    stack.execute(
        f"UPDATE {stack.t('integration')} SET status=0 WHERE integration_id=%s", (row["integration_id"],)
    )
    resp = rest_get(stack, creds, "V1/orders", ORDERS)
    assert resp.status_code == 401
    assert stack.rest_error(resp) == {
        "message": NOT_AUTHORIZED,
        "parameters": {"resources": "Magento_Sales::actions_view"},
    }


def test_c7_2_unauthenticated_and_bad_signature(stack, creds_for):
    """C7.2: no credentials -> not authorized body; wrong token secret -> signature body."""
    _, creds, _ = creds_for(["Magento_Sales::actions_view"])
    anon = requests.get(f"{stack.base_url}rest/V1/orders", params=ORDERS, timeout=30)
    assert anon.status_code == 401
    assert stack.rest_error(anon) == {
        "message": NOT_AUTHORIZED,
        "parameters": {"resources": "Magento_Sales::actions_view"},
    }
    bad = Credentials(creds.consumer_key, creds.consumer_secret, creds.access_token, "x" * 32)
    resp = rest_get(stack, bad, "V1/orders", ORDERS)
    assert resp.status_code == 401
    assert stack.rest_error(resp) == {"message": "The signature is invalid. Verify and try again."}


def test_c7_2_token_deleted_by_reauthorisation(stack, creds_for, listener):
    """C7.2: after reauthorize=1 the old access token -> 401 `Specified token does not exist`."""
    row, creds, admin = creds_for(["Magento_Sales::actions_view"])
    assert admin.tokens_exchange(row["integration_id"], reauthorize=True).status_code == 200
    resp = rest_get(stack, creds, "V1/orders", ORDERS)
    assert resp.status_code == 401
    assert stack.rest_error(resp) == {"message": "Specified token does not exist"}


def test_c7_3_bearer_only_with_flag(stack, creds_for):
    """C7.3: the access token as Bearer is refused unless oauth/consumer/enable_integration_as_bearer=1."""
    _, creds, _ = creds_for(["Magento_Sales::actions_view"])
    before = stack.config_value("oauth/consumer/enable_integration_as_bearer")
    headers = {"Authorization": f"Bearer {creds.access_token}"}
    url = f"{stack.base_url}rest/V1/orders"
    try:
        stack.magento("config:set", "oauth/consumer/enable_integration_as_bearer", "0")
        off = requests.get(url, params=ORDERS, headers=headers, timeout=30)
        assert off.status_code == 401
        assert off.json()["message"] == NOT_AUTHORIZED
        stack.magento("config:set", "oauth/consumer/enable_integration_as_bearer", "1")
        on = requests.get(url, params=ORDERS, headers=headers, timeout=30)
        assert on.status_code == 200, on.text
    finally:
        if before is None:
            stack.execute(
                f"DELETE FROM {stack.t('core_config_data')} WHERE "
                f"path='oauth/consumer/enable_integration_as_bearer'"
            )
        else:
            stack.magento("config:set", "oauth/consumer/enable_integration_as_bearer", before)


def test_c7_4_search_criteria_required(stack, creds_for):
    """C7.4: searchCriteria is a required parameter of the list routes."""
    _, creds, _ = creds_for(["Magento_Sales::actions_view"])
    resp = rest_get(stack, creds, "V1/orders")
    assert resp.status_code == 400
    assert resp.json()["parameters"] == {"fieldName": "searchCriteria"}
