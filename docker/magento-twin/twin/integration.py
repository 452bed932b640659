"""Magento_Integration's services: integrations, consumers, grants (C2-C5), config processing (C3)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import ssl
import time
import urllib.parse
import xml.etree.ElementTree as ET
from typing import Any

from twin.acl import ADMIN, ROOT_ALL, AclTree, with_ancestors
from twin.crypto import random_token
from twin.site import Module, Site

STATUS_INACTIVE, STATUS_ACTIVE, STATUS_RECREATED = 0, 1, 2
TYPE_MANUAL, TYPE_CONFIG = 0, 1
USER_TYPE_INTEGRATION = 1

ROLE_NOT_FOUND = "The role wasn't found for the user. Verify the role and try again."
POST_FAILED = (
    "The attempt to post data to consumer failed due to an unexpected error. Please try again later."
)
KEYS = {"email": "email", "endpoint_url": "endpoint", "identity_link_url": "identity_link_url"}
# What Magento's Laminas client sends: the User-Agent, and (its quirk) the endpoint's host:port once more
# as a header line of its own after Accept (recorded: admin/tokensExchange_reauth0_endpoint_post.json).
USER_AGENT = "Laminas\\Http\\Client"
PLUGIN_FILE = "/var/www/html/vendor/magento/module-integration/Model/Plugin/Integration.php"


class MagentoError(Exception):
    """A LocalizedException: its message is what Magento shows."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


# ---------------------------------------------------------------- consumers and tokens
def create_consumer(cur: Any, site: Site, name: str) -> int:
    cur.execute(
        f"INSERT INTO {site.t('oauth_consumer')} (created_at, name, `key`, secret, callback_url, "
        "rejected_callback_url) VALUES (%s, %s, %s, %s, NULL, '')",
        (now(), name, random_token(), site.encryptor.encrypt(random_token())),
    )
    return int(cur.lastrowid)


def load_consumer(cur: Any, site: Site, consumer_id: int) -> dict[str, Any] | None:
    cur.execute(f"SELECT * FROM {site.t('oauth_consumer')} WHERE entity_id=%s", (consumer_id,))
    return cur.fetchone()


def integration_token(cur: Any, site: Site, consumer_id: int) -> dict[str, Any] | None:
    """`loadByConsumerIdAndUserType`: the first row, which on InnoDB is the lowest entity_id (C6.6)."""
    cur.execute(
        f"SELECT * FROM {site.t('oauth_token')} WHERE consumer_id=%s AND user_type=%s LIMIT 1",
        (consumer_id, USER_TYPE_INTEGRATION),
    )
    return cur.fetchone()


def delete_integration_token(cur: Any, site: Site, consumer_id: int) -> bool:
    token = integration_token(cur, site, consumer_id)
    if token is None:
        return False
    cur.execute(f"DELETE FROM {site.t('oauth_token')} WHERE entity_id=%s", (token["entity_id"],))
    return True


def create_verifier_token(cur: Any, site: Site, consumer_id: int) -> dict[str, Any]:
    """TokenProvider::createVerifierToken: reuse the integration token when it is a verifier, else
    make one."""
    token = integration_token(cur, site, consumer_id)
    if token is not None and token["type"] == "verifier":
        return token
    cur.execute(
        f"SELECT * FROM {site.t('oauth_token')} WHERE consumer_id=%s AND type='verifier' LIMIT 1",
        (consumer_id,),
    )
    existing = cur.fetchone()
    if existing is not None:
        return existing
    cur.execute(
        f"INSERT INTO {site.t('oauth_token')} (consumer_id, type, token, secret, verifier, callback_url, "
        "user_type, created_at) VALUES (%s, 'verifier', %s, %s, %s, 'oob', %s, %s)",
        (consumer_id, random_token(), random_token(), random_token(), USER_TYPE_INTEGRATION, now()),
    )
    cur.execute(f"SELECT * FROM {site.t('oauth_token')} WHERE entity_id=%s", (cur.lastrowid,))
    return cur.fetchone()


def to_request(cur: Any, site: Site, token_id: int) -> tuple[str, str]:
    token, secret = random_token(), random_token()
    cur.execute(
        f"UPDATE {site.t('oauth_token')} SET type='request', token=%s, secret=%s, callback_url='oob' "
        "WHERE entity_id=%s",
        (token, secret, token_id),
    )
    return token, secret


def to_access(cur: Any, site: Site, token_id: int) -> tuple[str, str]:
    token, secret = random_token(), random_token()
    cur.execute(
        f"UPDATE {site.t('oauth_token')} SET type='access', token=%s, secret=%s, user_type=%s "
        "WHERE entity_id=%s",
        (token, site.encryptor.encrypt(secret), USER_TYPE_INTEGRATION, token_id),
    )
    return token, secret


def _raw_post(endpoint: str, body: str, timeout: float) -> None:
    """The POST as Magento's Laminas client writes it, byte for byte (recorded in the *_endpoint_post.json
    files): HTTP/1.1, Host, User-Agent, Accept, the stray `host:port` line, Content-Length, Content-Type.
    The answer is read and ignored; a redirect is not followed (oauth/consumer/post_maxredirects 0)."""
    url = urllib.parse.urlsplit(endpoint)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError("bad endpoint")
    port = url.port or (443 if url.scheme == "https" else 80)
    path = (url.path or "/") + ("?" + url.query if url.query else "")
    data = body.encode()
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: {url.netloc}",
        f"User-Agent: {USER_AGENT}",
        "Accept: */*",
        url.netloc,
        f"Content-Length: {len(data)}",
        "Content-Type: application/x-www-form-urlencoded",
    ]
    sock = socket.create_connection((url.hostname, port), timeout=timeout)
    try:
        if url.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=url.hostname)
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
        if not reply.startswith(b"HTTP/"):
            raise ValueError("no HTTP answer")
    finally:
        sock.close()


FAULT_ENDPOINT_POST_TIMEOUT = "twin/fault/endpoint_post_timeout"


def post_to_consumer(conn: Any, site: Site, consumer_id: int, endpoint: str | None) -> str:
    """OauthService::postToConsumer (C5.3): stamp, verifier, synchronous form POST, response ignored."""
    with conn.cursor() as cur:
        consumer = load_consumer(cur, site, consumer_id)
        if consumer is None:
            raise MagentoError(
                f'A consumer with "{consumer_id}" ID doesn\'t exist. Verify the ID and try again.'
            )
        cur.execute(
            f"UPDATE {site.t('oauth_consumer')} SET updated_at=%s WHERE entity_id=%s", (now(), consumer_id)
        )
        verifier = create_verifier_token(cur, site, consumer_id)
        base_url = site.base_url(cur)
        timeout = float(site.config(cur, "oauth/consumer/post_timeout") or 5)
        # Test-only fault (tests/faults): the POST never reaches the endpoint, as behind a dropped route.
        blackhole = site.config(cur, FAULT_ENDPOINT_POST_TIMEOUT) == "1"
    body = urllib.parse.urlencode(
        {
            "oauth_consumer_key": consumer["key"],
            "oauth_consumer_secret": site.encryptor.decrypt(consumer["secret"]),
            "store_base_url": base_url,
            "oauth_verifier": verifier["verifier"],
        }
    )
    try:
        if blackhole:
            time.sleep(timeout)
            raise TimeoutError("endpoint POST timed out (twin fault)")
        _raw_post(endpoint or "", body, timeout)
    except Exception as exc:
        raise MagentoError(POST_FAILED) from exc
    return str(verifier["verifier"])


def create_access_token(cur: Any, site: Site, consumer_id: int, clear_existing: bool) -> bool:
    """OauthService::createAccessToken (the Admin's tokensDialog, C5.1): verifier -> request -> access
    without any endpoint call, unless the consumer already has its integration token (then nothing)."""
    existing = integration_token(cur, site, consumer_id)
    if existing is not None and clear_existing:
        cur.execute(f"DELETE FROM {site.t('oauth_token')} WHERE entity_id=%s", (existing["entity_id"],))
        existing = None
    if existing is not None:
        return False
    verifier = create_verifier_token(cur, site, consumer_id)
    to_request(cur, site, verifier["entity_id"])
    to_access(cur, site, verifier["entity_id"])
    return True


# ---------------------------------------------------------------- integrations and grants
def find_by_name(cur: Any, site: Site, name: str) -> dict[str, Any] | None:
    cur.execute(f"SELECT * FROM {site.t('integration')} WHERE name=%s", (name,))
    return cur.fetchone()


def get(cur: Any, site: Site, integration_id: int) -> dict[str, Any] | None:
    cur.execute(f"SELECT * FROM {site.t('integration')} WHERE integration_id=%s", (integration_id,))
    return cur.fetchone()


def find_role(cur: Any, site: Site, integration_id: int) -> dict[str, Any] | None:
    cur.execute(
        f"SELECT * FROM {site.t('authorization_role')} WHERE user_id=%s AND user_type=%s AND role_type='U'",
        (integration_id, str(USER_TYPE_INTEGRATION)),
    )
    return cur.fetchone()


def rules(cur: Any, site: Site, integration_id: int) -> dict[str, str]:
    role = find_role(cur, site, integration_id)
    if role is None:
        return {}
    cur.execute(
        f"SELECT resource_id, permission FROM {site.t('authorization_rule')} WHERE role_id=%s",
        (role["role_id"],),
    )
    return {r["resource_id"]: r["permission"] for r in cur.fetchall()}


def allowed_resources(cur: Any, site: Site, integration_id: int) -> list[str]:
    """AclRetriever::getAllowedResourcesByUser: fails when the role row is missing (C8.2)."""
    role = find_role(cur, site, integration_id)
    if role is None:
        raise MagentoError(ROLE_NOT_FOUND)
    cur.execute(
        f"SELECT resource_id FROM {site.t('authorization_rule')} WHERE role_id=%s AND permission='allow'",
        (role["role_id"],),
    )
    return [r["resource_id"] for r in cur.fetchall()]


def grant(cur: Any, site: Site, tree: AclTree, integration_id: int, resources: list[str]) -> None:
    """AuthorizationService::grantPermissions + ResourceModel\\Rules::saveRel (C4.2): the role's rules are
    deleted; an empty list writes none; exactly [`Magento_Backend::all`] writes that one allow row;
    anything else writes one row per ACL resource in tree order, `allow` for the listed ids AND always for
    `Magento_Backend::admin` ("Give basic admin permissions to any admin"), `deny` for the rest."""
    role = find_role(cur, site, integration_id)
    if role is None:
        cur.execute(
            f"INSERT INTO {site.t('authorization_role')} (parent_id, tree_level, sort_order, "
            f"role_type, user_id, "
            "user_type, role_name) VALUES (0, 1, 0, 'U', %s, %s, %s)",
            (integration_id, str(USER_TYPE_INTEGRATION), f"{USER_TYPE_INTEGRATION}{integration_id}"),
        )
        role_id = cur.lastrowid
    else:
        role_id = role["role_id"]
    cur.execute(f"DELETE FROM {site.t('authorization_rule')} WHERE role_id=%s", (role_id,))
    if not resources:
        return
    if resources == [ROOT_ALL]:
        rows = [(role_id, ROOT_ALL, "allow")]
    else:
        wanted = {*resources, ADMIN}
        rows = [(role_id, rid, "allow" if rid in wanted else "deny") for rid in tree.order]
    cur.executemany(
        f"INSERT INTO {site.t('authorization_rule')} (role_id, resource_id, privileges, permission) "
        "VALUES (%s, %s, NULL, %s)",
        rows,
    )


def create(
    cur: Any, site: Site, tree: AclTree, data: dict[str, Any], resources: list[str], status: int
) -> int:
    """IntegrationService::create: the row, a consumer named Integration<id>, the grant."""
    cur.execute(
        f"INSERT INTO {site.t('integration')} (name, email, endpoint, status, created_at, updated_at, "
        "setup_type, identity_link_url) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            data["name"],
            data.get("email") or "",
            data.get("endpoint"),
            status,
            now(),
            now(),
            data.get("setup_type", TYPE_MANUAL),
            data.get("identity_link_url"),
        ),
    )
    iid = int(cur.lastrowid)
    consumer_id = create_consumer(cur, site, f"Integration{iid}")
    cur.execute(
        f"UPDATE {site.t('integration')} SET consumer_id=%s WHERE integration_id=%s", (consumer_id, iid)
    )
    grant(cur, site, tree, iid, resources)
    return iid


def update(cur: Any, site: Site, iid: int, data: dict[str, Any]) -> None:
    cols = [c for c in ("email", "endpoint", "identity_link_url", "setup_type") if c in data]
    if cols:
        cur.execute(
            f"UPDATE {site.t('integration')} SET "
            + ", ".join(f"{c}=%s" for c in cols)
            + " WHERE integration_id=%s",
            (*[data[c] for c in cols], iid),
        )


def delete(cur: Any, site: Site, iid: int) -> None:
    """Removes the integration and its role; its consumer (and tokens) stay behind, orphaned (C3.2)."""
    role = find_role(cur, site, iid)
    if role is not None:
        cur.execute(f"DELETE FROM {site.t('authorization_role')} WHERE role_id=%s", (role["role_id"],))
    cur.execute(f"DELETE FROM {site.t('integration')} WHERE integration_id=%s", (iid,))


# ---------------------------------------------------------------- configuration files (C3)
def _text(node: ET.Element, tag: str) -> str | None:
    el = node.find(tag)
    if el is None:
        return None
    return (el.text or "").strip()


def read_consolidated(modules: list[Module]) -> dict[str, dict[str, Any]]:
    """Merged etc/integration.xml of the given modules (C3.1)."""
    out: dict[str, dict[str, Any]] = {}
    for mod in modules:
        path = mod.file("etc/integration.xml")
        if not os.path.isfile(path):
            continue
        for node in ET.parse(path).getroot().findall("integration"):  # noqa: S314
            name = node.get("name", "")
            entry = out.setdefault(name, {"resources": []})
            for tag, key in KEYS.items():
                val = _text(node, tag)
                if val is not None:
                    entry[key] = val
            entry["resources"] += [r.get("name", "") for r in node.findall("resources/resource")]
    return out


def read_legacy(
    modules: list[Module], validate: bool = False
) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """Merged etc/integration/config.xml and api.xml (C3.3). A `<resources>` block in config.xml is not in
    its schema: ignored, or with `validate` (developer mode, where Magento validates config files
    against their XSD) the XML is refused."""
    cfg: dict[str, dict[str, Any]] = {}
    api: dict[str, list[str]] = {}
    for mod in modules:
        path = mod.file("etc/integration/config.xml")
        if os.path.isfile(path):
            for node in ET.parse(path).getroot().findall("integration"):  # noqa: S314
                if validate and node.find("resources") is not None:
                    raise MagentoError(_invalid_xml(path, "resources"))
                entry = cfg.setdefault(node.get("name", ""), {})
                for tag, key in KEYS.items():
                    val = _text(node, tag)
                    if val is not None:
                        entry[key] = val
        path = mod.file("etc/integration/api.xml")
        if os.path.isfile(path):
            for node in ET.parse(path).getroot().findall("integration"):  # noqa: S314
                listed = api.setdefault(node.get("name", ""), [])
                for r in node.findall("resources/resource"):
                    # Config\\Integration\\Reader merges <resource> nodes by name: one entry per id.
                    if r.get("name", "") not in listed:
                        listed.append(r.get("name", ""))
    return cfg, api


def _invalid_xml(path: str, element: str) -> str:
    """Magento's Config\\Reader\\Filesystem wording for a file that fails its per-file schema (libxml's
    message and line). Not recorded on the real store: the wording is read from Magento's code."""
    line = 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, text in enumerate(fh, 1):
            if f"<{element}" in text:
                line = number
                break
    return (
        f'The XML in file "{path}" is invalid:\n'
        f"Element '{element}': This element is not expected.\nLine: {line}\n\n"
        "Verify the XML and try again."
    )


def _loosely_equal(a: Any, b: Any) -> bool:
    """PHP's `!=`: null equals '' and numbers compare by value."""
    if a in (None, "") and b in (None, ""):
        return True
    return str(a) == str(b)


def config_resources(name: str, consolidated: dict[str, list[str]], api: dict[str, list[str]]) -> list[str]:
    """Plugin\\Integration::_addAllowedResources for a config integration: array_merge(api.xml,
    integration.xml)[name]['resource'] (integration.xml wins). Absent from both: PHP's warning, which
    Magento's error handler turns into an exception."""
    if name in consolidated:
        return consolidated[name]
    if name in api:
        return [r for r in api[name] if r]
    raise MagentoError(f'Warning: Undefined array key "{name}" in {PLUGIN_FILE} on line 129')


def process_consolidated(
    cur: Any,
    site: Site,
    tree: AclTree,
    integrations: dict[str, dict[str, Any]],
    api: dict[str, list[str]] | None = None,
) -> list[str]:
    """ConfigBasedIntegrationManager::processConfigBasedIntegrations (C3.1, C3.2): every config integration
    is updated, and the update's plugin grants its resources again (new rule rows every run); then, if
    anything differs from before, it is deleted and created anew (status 2)."""
    computed = {n: with_ancestors(tree, d.get("resources", [])) for n, d in integrations.items()}
    changed: list[str] = []
    for name, details in integrations.items():
        data: dict[str, Any] = {"name": name, "setup_type": TYPE_CONFIG}
        data.update({k: v for k, v in details.items() if k != "resources"})
        resources = config_resources(name, computed, api or {})
        existing = find_by_name(cur, site, name)
        status = STATUS_INACTIVE
        if existing is not None:
            original = allowed_resources(cur, site, existing["integration_id"])
            merged = {**existing, **data}
            same_fields = all(
                _loosely_equal(existing[c], merged[c])
                for c in ("email", "endpoint", "identity_link_url", "setup_type")
            )
            update(cur, site, existing["integration_id"], data)
            grant(cur, site, tree, existing["integration_id"], resources)
            common = set(original) & set(resources)
            if same_fields and len(common) == len(original) and len(common) == len(resources):
                continue
            delete(cur, site, existing["integration_id"])
            status = STATUS_RECREATED
        create(cur, site, tree, data, resources, status)
        changed.append(name)
    return changed


def process_legacy(
    cur: Any,
    site: Site,
    tree: AclTree,
    names: list[str],
    cfg: dict[str, dict[str, Any]],
    api: dict[str, list[str]],
    consolidated: dict[str, dict[str, Any]] | None = None,
) -> None:
    """ConfigBasedIntegrationManager::processIntegrationConfig (C3.3): create or update in place. The
    grant comes from the service plugin (api.xml's list as written: no parents added) and again from
    Webapi's Manager plugin; both go through Rules::saveRel, so `Magento_Backend::admin` is allowed too."""
    computed = {n: with_ancestors(tree, d.get("resources", [])) for n, d in (consolidated or {}).items()}
    for name in names:
        if name not in cfg:
            raise MagentoError(
                f'Warning: Undefined array key "{name}" in /var/www/html/vendor/magento/module-integration/'
                "Model/ConfigBasedIntegrationManager.php on line 72"
            )
        data: dict[str, Any] = {"name": name, "setup_type": TYPE_CONFIG, **cfg[name]}
        existing = find_by_name(cur, site, name)
        if existing is None:
            iid = create(cur, site, tree, data, [], STATUS_INACTIVE)
        else:
            iid = existing["integration_id"]
            update(cur, site, iid, data)
        grant(cur, site, tree, iid, config_resources(name, computed, api))
