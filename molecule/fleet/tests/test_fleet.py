"""Both fleet sites after `reinstall_integration.yml` ran on them in parallel (forks 2)."""

import pytest
from delivered import CREDENTIAL_KEYS
from fleet_sites import INTEGRATION, SITE_IDS, SITES, file_mode


@pytest.mark.parametrize("site", SITES, ids=SITE_IDS)
def test_credentials_file_is_private_and_names_its_own_store(site):
    assert file_mode(site.credentials_path) == 0o600
    assert file_mode(site.credentials_path.parent) == 0o700
    creds = site.credentials()
    assert set(creds) == CREDENTIAL_KEYS
    assert creds["base_url"] == site.base_url


@pytest.mark.parametrize("site", SITES, ids=SITE_IDS)
def test_delivered_tokens_sign_a_200_on_orders(site):
    response = site.signed_get(site.credentials())
    assert response.status_code == 200
    assert {"items", "search_criteria", "total_count"} <= set(response.json())


@pytest.mark.parametrize("site", SITES, ids=SITE_IDS)
def test_one_access_row_for_the_consumer_and_active(site):
    assert site.token_types() == ["access"]
    assert site.rows("SELECT status FROM integration WHERE name = %s", INTEGRATION) == [{"status": 1}]


@pytest.mark.parametrize("site", SITES, ids=SITE_IDS)
def test_endpoint_rendered_from_the_spec_points_at_the_sites_own_listener(site):
    rows = site.rows("SELECT endpoint, identity_link_url FROM integration WHERE name = %s", INTEGRATION)
    prefix = f"http://127.0.0.1:{site.listen_port}/reintegrate/"
    assert rows == [{"endpoint": prefix + "endpoint", "identity_link_url": prefix + "identity"}]


@pytest.mark.parametrize(
    "signer, target", [(SITES[0], SITES[1]), (SITES[1], SITES[0])], ids=["a-on-b", "b-on-a"]
)
def test_one_sites_credentials_are_refused_by_the_other(signer, target):
    assert target.signed_get(target.credentials()).status_code == 200  # the call itself is fine there
    response = target.signed_get(signer.credentials())
    assert response.status_code == 401


def test_sites_have_distinct_consumers_and_tokens():
    a, b = (site.credentials() for site in SITES)
    for key in ("consumer_key", "consumer_secret", "access_token", "access_token_secret"):
        assert a[key] != b[key], key
