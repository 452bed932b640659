"""The twin's HTTP side: storefront, OAuth endpoints (C6), REST (C7) and the Admin (C5).

A ThreadingHTTPServer: tokensExchange POSTs to the endpoint inside a request, and the endpoint may call
back into the store while that request is still open.

What it answers is held against a real 2.4.7-p3 store's recorded replies (shared/magento-2.4.7-p3,
compared by tests/twin/test_conformance.py): status, headers that clients read (Content-Type, Set-Cookie,
Location), JSON key order and escaping (`\\/`), the Admin's JS-escaped URL templates (`\\u002F`, `\\u003A`),
message texts. It behaves like a store in developer mode when env.php says so (REST errors carry `trace`).
"""

from __future__ import annotations

import email.utils
import hashlib
import html
import json
import os
import secrets
import sys
import threading
import time
import traceback
import urllib.parse
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from twin import acl, crypto, site
from twin import integration as svc
from twin.oauth import MissingParameters, OauthError, OauthInputError, OauthServer, protocol_params

NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
NO_ROUTE = "Request does not match any route."
LOGIN_FAILED = (
    "The account sign-in was incorrect or your account is disabled temporarily. "
    "Please wait and try again later."
)
INVALID_FORM_KEY = "Invalid Form Key. Please refresh the page."
INVALID_SECRET_KEY = "You entered an invalid Secret Key. Please refresh the page."
SESSIONS_TERMINATED = "All other open sessions for this account were terminated."
# Magento_Security's text for a session ended by a login elsewhere (read from its code, not recorded).
SESSION_ENDED = (
    "Someone logged into this account from another device or browser. Your current session is terminated."
)
INSECURE = (
    "Warning! Integrations not using HTTPS are insecure and potentially expose private or personally "
    "identifiable information"
)
POPUP = (
    "<div><p>Please setup or sign in into your 3rd party account to complete setup of this integration."
    "</p></div>\n"
)
TFA_TEXT = (
    "<div>\n    <p>You need to configure Two-Factor Authorization in order to proceed to your store&#039;s "
    "admin area</p>\n    <p>An E-mail was sent to you with further instructions</p>\n</div>\n"
)
TFA_MAIL_FAILED = "Failed to send the message. Please contact the administrator"
TWIN_TRACE = "#0 /var/www/html/vendor/magento/module-webapi/Controller/Rest.php: (magento-twin)\n#1 {main}"

# Fault injection for tests/faults, off unless these core_config_data paths are set (never on a real store).
FAULT_OAUTH_SIGNED_STATUS = "twin/fault/oauth_signed_status"
# Seconds the store's clock is off (its Date header and its nonce window); negative: behind.
FAULT_CLOCK_OFFSET = "twin/fault/clock_offset"

SESSIONS: dict[str, dict[str, Any]] = {}
SESSIONS_LOCK = threading.Lock()
HTML = "text/html; charset=UTF-8"


def php_json(data: Any) -> str:
    """PHP's json_encode: compact, `/` escaped as `\\/`, non-ASCII as \\uXXXX."""
    return json.dumps(data, separators=(",", ":")).replace("/", "\\/")


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def js_escape(text: str) -> str:
    """Magento's Escaper::escapeJs: every character but letters, digits, `,`, `.` and `_` as \\uXXXX."""
    return "".join(c if c.isascii() and (c.isalnum() or c in ",._") else f"\\u{ord(c):04X}" for c in text)


def escape_html(text: str) -> str:
    """htmlspecialchars(ENT_QUOTES): `'` as &#039;."""
    return html.escape(text, quote=True).replace("&#x27;", "&#039;")


class Response:
    """A reply. Headers come out in Magento's order: cookies, the no-cache trio, the reply's own headers
    (Location, ...), the security headers, then the content type."""

    def __init__(self, status: int = 200, body: str | bytes = "", ctype: str | None = HTML) -> None:
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.cookies: list[tuple[str, str]] = []
        self.headers: list[tuple[str, str]] = []
        self.ctype = ctype
        self.magento_headers = False

    @classmethod
    def json(cls, status: int, data: Any, ctype: str = "application/json; charset=utf-8") -> Response:
        return cls(status, php_json(data), ctype)

    def cookie(
        self, name: str, value: str, max_age: int, path: str, domain: str | None, http_only: bool
    ) -> None:
        expires = http_date(time.time() + max_age) if max_age else "Thu, 01 Jan 1970 00:00:01 GMT"
        parts = [f"{name}={value}", f"expires={expires}", f"Max-Age={max_age}", f"path={path}"]
        if domain:
            parts.append(f"domain={domain}")
        if http_only:
            parts.append("HttpOnly")
        parts.append("SameSite=Lax")
        self.cookies.append(("Set-Cookie", "; ".join(parts)))

    def final_headers(self) -> list[tuple[str, str]]:
        out = list(self.cookies)
        if self.magento_headers:
            out += [
                ("Pragma", "no-cache"),
                ("Cache-Control", "max-age=0, must-revalidate, no-cache, no-store"),
                ("Expires", http_date(time.time() - 365 * 86400)),
            ]
        out += self.headers
        if self.magento_headers:
            out += [
                ("X-Content-Type-Options", "nosniff"),
                ("X-XSS-Protection", "1; mode=block"),
                ("X-Frame-Options", "SAMEORIGIN"),
            ]
        if self.ctype:
            # PHP adds its default `Content-type` last; Magento's own JSON replies say `Content-Type`.
            out.append(("Content-type" if self.ctype == HTML else "Content-Type", self.ctype))
        return out


def redirect(location: str) -> Response:
    r = Response(302, "")
    r.headers.append(("Location", location))
    return r


# ---------------------------------------------------------------- request context
class Ctx:
    def __init__(self, handler: BaseHTTPRequestHandler, method: str, body: bytes) -> None:
        self.h = handler
        self.method = method
        self.body = body
        raw = handler.path
        parts = urllib.parse.urlsplit(raw)
        self.raw_path = raw
        self.path = parts.path
        self.query = parts.query
        self.site = site.Site()
        self.conn = self.site.connect()
        self.cur = self.conn.cursor()

    def header(self, name: str) -> str | None:
        return self.h.headers.get(name)

    def query_param(self, name: str) -> str | None:
        values = urllib.parse.parse_qs(self.query, keep_blank_values=True).get(name)
        return values[0] if values else None

    def cookie_domain(self) -> str:
        return (self.header("Host") or "").rsplit(":", 1)[0].strip("[]")

    def signed_url(self) -> str:
        """scheme://host[:port]/path as Magento sees it (C6.1), X-Forwarded-Proto honoured."""
        scheme = (self.header("X-Forwarded-Proto") or "http").split(",")[0].strip().lower()
        host = (self.header("Host") or "").lower()
        if (scheme == "http" and host.endswith(":80")) or (scheme == "https" and host.endswith(":443")):
            host = host.rsplit(":", 1)[0]
        return f"{scheme}://{host}{self.path}"

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def close(self) -> None:
        try:
            self.cur.close()
            self.conn.close()
        except Exception:  # noqa: S110
            pass


def php_session_cookie(ctx: Ctx, resp: Response) -> None:
    resp.cookie("PHPSESSID", secrets.token_hex(13), 3600, "/", ctx.cookie_domain(), True)


# ---------------------------------------------------------------- OAuth endpoints (C6)
def oauth_endpoint(ctx: Ctx, kind: str) -> Response:
    """Replies are text/html (PHP's default type), with Magento's frontend cookies and headers
    (recorded: oauth/*.json)."""
    fault = ctx.site.config_value(ctx.cur, FAULT_OAUTH_SIGNED_STATUS)
    if fault and ctx.header("Authorization"):
        # Test-only fault (tests/faults): a store that breaks on signed token requests, as a PHP fatal
        # error would; unsigned probes still answer normally.
        return Response(int(fault), "<html><body><h1>Internal Server Error</h1></body></html>")
    params = protocol_params(ctx.header("Authorization"), ctx.header("Content-Type"), ctx.body, ctx.query)
    server = OauthServer(ctx.site, ctx.cur)
    try:
        if kind == "request":
            token, secret = server.request_token(params, ctx.method, ctx.signed_url())
        else:
            token, secret = server.access_token(params, ctx.method, ctx.signed_url())
        resp = Response(200, urllib.parse.urlencode({"oauth_token": token, "oauth_token_secret": secret}))
    except OauthError as exc:
        resp = Response(exc.status, urllib.parse.urlencode({"oauth_problem": str(exc)}))
    php_session_cookie(ctx, resp)
    resp.cookie("private_content_version", secrets.token_hex(16), 315360000, "/", None, False)
    resp.magento_headers = True
    resp.headers += [
        ("X-Magento-Cache-Control", "max-age=0, must-revalidate, no-cache, no-store"),
        ("X-Magento-Cache-Debug", "MISS"),
    ]
    return resp


# ---------------------------------------------------------------- REST (C7)
def _xml_value(tag: str, value: Any, indent: int) -> str:
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return f"{pad}<{tag}/>\n"
        inner = "".join(_xml_value(str(k), v, indent + 1) for k, v in value.items())
        return f"{pad}<{tag}>\n{inner}{pad}</{tag}>\n"
    if isinstance(value, list):
        if not value:
            return f"{pad}<{tag}/>\n"
        inner = "".join(_xml_value("item", v, indent + 1) for v in value)
        return f"{pad}<{tag}>\n{inner}{pad}</{tag}>\n"
    if value is None or value == "":
        return f"{pad}<{tag}/>\n"
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return f"{pad}<{tag}>{html.escape(text, quote=False)}</{tag}>\n"


def rest_xml(data: Any) -> str:
    """Webapi's XML renderer: root `<response>`, list entries as `<item>`, two-space indent (recorded:
    rest/orders_accept_xml.json)."""
    return '<?xml version="1.0"?>\n' + _xml_value("response", data, 0)


def rest_reply(ctx: Ctx, status: int, data: Any, session: bool = True) -> Response:
    """A REST answer in the format the Accept header asks for (JSON unless it names XML)."""
    accept = (ctx.header("Accept") or "").lower()
    if "xml" in accept and not accept.startswith("application/json"):
        resp = Response(status, rest_xml(data), "application/xml; charset=utf-8")
    else:
        resp = Response.json(status, data)
    if session:
        php_session_cookie(ctx, resp)
        resp.headers += [("Expires", "Thu, 19 Nov 1981 08:52:00 GMT"), ("Pragma", "no-cache")]
    resp.headers.append(("Cache-Control", "no-store"))
    return resp


def rest_error(
    ctx: Ctx,
    status: int,
    message: str,
    parameters: Any = None,
    errors: list[dict[str, Any]] | None = None,
    trace: bool = True,
    session: bool = True,
) -> Response:
    """Webapi's error body: the raw phrase (placeholders kept), `parameters` when it has any (a list for
    %1, an object for %name), `errors` for several input errors, and in developer mode `trace` (null for
    errors raised without one, such as an unknown route)."""
    data: dict[str, Any] = {"message": message}
    if errors:
        data["errors"] = errors
    if parameters:
        data["parameters"] = parameters
    if site.developer_mode():
        data["trace"] = TWIN_TRACE if trace else None
    return rest_reply(ctx, status, data, session=session)


def oauth_rest_error(ctx: Ctx, exc: OauthError) -> Response:
    if isinstance(exc, MissingParameters) and len(exc.names) > 1:
        errors = [{"message": MissingParameters.REQUIRED, "parameters": {"fieldName": n}} for n in exc.names]
        return rest_error(ctx, 400, exc.raw, errors=errors)
    return rest_error(ctx, 400 if isinstance(exc, OauthInputError) else 401, exc.raw, exc.parameters)


def webapi_routes(modules: list[site.Module]) -> dict[tuple[str, str], list[str]]:
    routes: dict[tuple[str, str], list[str]] = {}
    for mod in modules:
        path = mod.file("etc/webapi.xml")
        if not os.path.isfile(path):
            continue
        for route in ET.parse(path).getroot().findall("route"):  # noqa: S314
            key = (route.get("method", "GET").upper(), route.get("url", ""))
            routes[key] = [r.get("ref", "") for r in route.findall("resources/resource")]
    return routes


def search_criteria(query: str) -> tuple[dict[str, Any] | None, int, int]:
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    if not any(k == "searchCriteria" or k.startswith("searchCriteria[") for k, _ in pairs):
        return None, 0, 1
    values = dict(pairs)
    criteria: dict[str, Any] = {"filter_groups": []}
    size = int(values.get("searchCriteria[pageSize]", "0") or 0)
    page = int(values.get("searchCriteria[currentPage]", "1") or 1)
    if size:
        criteria["page_size"] = size
    if "searchCriteria[currentPage]" in values:
        criteria["current_page"] = page
    return criteria, size, page


def rest_data(ctx: Ctx, route: str) -> Response:
    t = ctx.site.t
    if route == "/V1/store/storeViews":
        ctx.cur.execute(
            f"SELECT store_id, code, name, website_id, group_id, is_active FROM {t('store')} "
            f"ORDER BY store_id"
        )
        return rest_reply(
            ctx,
            200,
            [
                {
                    "id": r["store_id"],
                    "code": r["code"],
                    "name": r["name"],
                    "website_id": r["website_id"],
                    "store_group_id": r["group_id"],
                    "is_active": r["is_active"],
                }
                for r in ctx.cur.fetchall()
            ],
        )
    criteria, size, page = search_criteria(ctx.query)
    if criteria is None:
        return rest_error(
            ctx, 400, '"%fieldName" is required. Enter and try again.', {"fieldName": "searchCriteria"}
        )
    table, mapper = {
        "/V1/orders": (
            "sales_order",
            lambda r: {
                "entity_id": r["entity_id"],
                "increment_id": r["increment_id"],
                "state": r["state"],
                "status": r["status"],
                "store_id": r["store_id"],
                "customer_email": r["customer_email"],
                "customer_firstname": r["customer_firstname"],
                "customer_lastname": r["customer_lastname"],
                "grand_total": float(r["grand_total"]),
                "order_currency_code": r["order_currency_code"],
                "total_item_count": r["total_item_count"],
                "created_at": str(r["created_at"]),
                "items": [],
            },
        ),
        "/V1/products": (
            "catalog_product_entity",
            lambda r: {
                "id": r["entity_id"],
                "sku": r["sku"],
                "name": r["name"],
                "attribute_set_id": r["attribute_set_id"],
                "price": float(r["price"] or 0),
                "status": 1,
                "visibility": 4,
                "type_id": r["type_id"],
                "created_at": str(r["created_at"]),
                "updated_at": str(r["updated_at"]),
            },
        ),
        "/V1/customers/search": (
            "customer_entity",
            lambda r: {
                "id": r["entity_id"],
                "group_id": r["group_id"],
                "email": r["email"],
                "firstname": r["firstname"],
                "lastname": r["lastname"],
                "store_id": r["store_id"],
                "website_id": r["website_id"],
                "created_at": str(r["created_at"]),
                "updated_at": str(r["updated_at"]),
            },
        ),
    }[route]
    ctx.cur.execute(f"SELECT COUNT(*) AS n FROM {t(table)}")
    total = ctx.cur.fetchone()["n"]
    sql = f"SELECT * FROM {t(table)} ORDER BY entity_id"
    if size:
        sql += f" LIMIT {int(size)} OFFSET {int(size) * (max(page, 1) - 1)}"
    ctx.cur.execute(sql)
    return rest_reply(
        ctx,
        200,
        {"items": [mapper(r) for r in ctx.cur.fetchall()], "search_criteria": criteria, "total_count": total},
    )


def rest(ctx: Ctx) -> Response:
    parts = ctx.path[len("/rest") :]
    segs = parts.split("/", 2)  # ['', 'V1' or store, rest]
    if len(segs) >= 2 and segs[1] != "V1":
        store_code = segs[1]
        parts = "/" + (segs[2] if len(segs) > 2 else "")
        if store_code != "all":
            ctx.cur.execute(f"SELECT store_id FROM {ctx.site.t('store')} WHERE code=%s", (store_code,))
            if ctx.cur.fetchone() is None:
                return rest_error(
                    ctx, 400, "The store that was requested wasn't found. Verify the store and try again."
                )
    route = parts.rstrip("/") or "/"
    modules = site.enabled_modules()
    routes = webapi_routes(modules)
    resources = routes.get((ctx.method, route))
    if resources is None:
        # A Webapi\\Exception made without a trace, before any session (recorded: rest/unknown_route.json).
        return rest_error(ctx, 404, NO_ROUTE, trace=False, session=False)
    integration_id = None
    auth = ctx.header("Authorization") or ""
    try:
        if auth.lower().startswith("bearer "):
            integration_id = bearer_integration(ctx, auth[7:].strip())
        else:
            params = protocol_params(auth, ctx.header("Content-Type"), ctx.body, ctx.query)
            if params:
                consumer_id = OauthServer(ctx.site, ctx.cur).validate_access_request(
                    params, ctx.method, ctx.signed_url()
                )
                ctx.cur.execute(
                    f"SELECT integration_id FROM {ctx.site.t('integration')} WHERE "
                    f"consumer_id=%s AND status=%s",
                    (consumer_id, svc.STATUS_ACTIVE),
                )
                row = ctx.cur.fetchone()
                integration_id = row["integration_id"] if row else None
    except OauthError as exc:
        return oauth_rest_error(ctx, exc)
    allowed = False
    if integration_id is not None:
        tree = acl.build_tree(modules)
        rules = svc.rules(ctx.cur, ctx.site, integration_id)
        allowed = all(acl.is_allowed(tree, rules, r) for r in resources)
    if not allowed:
        return rest_error(ctx, 401, NOT_AUTHORIZED, {"resources": ", ".join(resources)})
    return rest_data(ctx, route)


def bearer_integration(ctx: Ctx, token: str) -> int | None:
    """Integration access tokens as bearer tokens only with
    oauth/consumer/enable_integration_as_bearer=1 (C7.3)."""
    if ctx.site.config(ctx.cur, "oauth/consumer/enable_integration_as_bearer") != "1":
        return None
    ctx.cur.execute(
        f"SELECT * FROM {ctx.site.t('oauth_token')} WHERE token=%s AND type='access' AND revoked=0", (token,)
    )
    row = ctx.cur.fetchone()
    if row is None or row["user_type"] != svc.USER_TYPE_INTEGRATION:
        return None
    ctx.cur.execute(
        f"SELECT integration_id FROM {ctx.site.t('integration')} WHERE consumer_id=%s AND status=%s",
        (row["consumer_id"], svc.STATUS_ACTIVE),
    )
    integ = ctx.cur.fetchone()
    return integ["integration_id"] if integ else None


# ---------------------------------------------------------------- Admin (C5)
def slow_if_cold(step_seconds: float = 1.0) -> None:
    """Admin pages render slowly right after a cache flush (issue 5), with the realistic-timing knob."""
    if site.realistic_timing() and os.path.exists(site.COLD_FLAG):
        time.sleep(step_seconds)


def url_key(route: str, controller: str, action: str, form_key: str) -> str:
    """The secret URL key: one per route/controller/action and session form key (C5.2: keys per URL)."""
    return hashlib.sha256((route + controller + action + form_key).encode()).hexdigest()


MESSAGE_TYPES = ("error", "warning", "notice", "success")


class Admin:
    def __init__(self, ctx: Ctx, segs: list[str]) -> None:
        self.ctx = ctx
        self.segs = segs
        self.front = ctx.site.front_name
        self.base = ctx.site.base_url(ctx.cur)
        self.keys_on = ctx.site.config(ctx.cur, "admin/security/use_form_key") != "0"
        self.lifetime = int(ctx.site.config(ctx.cur, "admin/security/session_lifetime") or 900)
        self.sid, self.session = self.load_session()
        self.dispatched = False
        self.cookie_plan: list[str] = []

    # --- session, cookies, URLs
    def load_session(self) -> tuple[str, dict[str, Any]]:
        cookies = {}
        for part in (self.ctx.header("Cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            cookies[name] = value
        sid = cookies.get("admin", "")
        with SESSIONS_LOCK:
            sess = SESSIONS.get(sid)
            if sess is None:
                sid = secrets.token_hex(13)
                sess = {"form_key": crypto.random_form_key(), "user_id": None, "messages": [], "tfa": False}
                SESSIONS[sid] = sess
        return sid, sess

    def add_message(self, kind: str, text: str) -> None:
        self.session["messages"].append((kind, text))

    def is_ajax(self) -> bool:
        """Request::isAjax: the X-Requested-With header, or an ajax/isAjax parameter."""
        return (self.ctx.header("X-Requested-With") or "") == "XMLHttpRequest" or bool(
            self.ctx.query_param("isAjax") or self.ctx.query_param("ajax")
        )

    def url(
        self,
        route_front: str,
        controller: str = "index",
        action: str = "index",
        params: dict[str, str] | None = None,
    ) -> str:
        """Backend\\Model\\Url: keys on, `.../key/<k>/`; keys off (use_form_key 0) no key,
        and trailing default `index` parts left out (`/admin/admin/integration/`, recorded)."""
        route = {"admin": "adminhtml"}.get(route_front, route_front)
        parts = [route_front, controller, action]
        for k, v in (params or {}).items():
            parts += [k, v]
        if self.keys_on:
            parts += ["key", url_key(route, controller, action, self.session["form_key"])]
        elif not params:
            while len(parts) > 1 and parts[-1] == "index":
                parts.pop()
        return f"{self.base}{self.front}/" + "/".join(parts) + "/"

    def startup_url(self) -> str:
        return self.url("admin", "dashboard", "index")

    def grid_url(self) -> str:
        return self.url("admin", "integration", "index")

    def redirect(self, location: str) -> Response:
        """An Admin redirect; for an XHR Magento answers 200 JSON {"_redirect": url} instead (recorded:
        admin/tokensExchange_nolistener_reauth0_1_get.json, admin/tokensExchange_wrong_key.json)."""
        if self.is_ajax():
            return Response.json(200, {"_redirect": location}, "application/json")
        return redirect(location)

    def finish(self, resp: Response) -> Response:
        resp.magento_headers = True
        plan = self.cookie_plan or (["admin", "admin"] if self.dispatched else ["admin"])
        domain = self.ctx.cookie_domain()
        for name in plan:
            if name == "admin":
                resp.cookie("admin", self.sid, self.lifetime, f"/{self.front}", domain, True)
            else:
                resp.cookie("form_key", "deleted", 0, f"/{self.front}", domain, False)
        return resp

    # --- pages
    def messages_html(self) -> str:
        msgs = self.session["messages"]
        self.session["messages"] = []
        return "".join(
            f'<div class="message message-{kind} {kind}"><div data-ui-id="messages-message-{kind}" >'
            f"{escape_html(text)}</div></div>"
            for order in MESSAGE_TYPES
            for kind, text in msgs
            if kind == order
        )

    def document(self, title: str, body_class: str, body: str, base_route: str = "admin") -> str:
        return (
            '<!doctype html>\n<html lang="en">\n    <head >\n        <script>\n'
            f"    var BASE_URL = '{self.url(base_route)}';\n"
            f"    var FORM_KEY = '{self.session['form_key']}';\n"
            '</script>        <meta charset="utf-8"/>\n'
            f'<meta name="title" content="{escape_html(title)}"/>\n'
            f"<title>{escape_html(title)}</title>\n    </head>\n"
            f'    <body data-container="body" id="html-body" class="{body_class}">\n'
            f'        <section class="page-wrapper">\n{body}</section>    </body>\n</html>\n'
        )

    def login_layout(self, title: str, body_class: str, content: str, base_route: str = "admin") -> Response:
        messages = self.messages_html()
        block = f'<div class="messages">{messages}</div>' if messages else ""
        return Response(
            200,
            self.document(
                title,
                body_class,
                '<header class="login-header"><a href="' + f"{self.base}{self.front}/admin/" + '" '
                'class="logo">Magento Admin Panel</a>\n</header>'
                f'<div class="login-content">{block}{content}</div>'
                '<footer class="login-footer"></footer>',
                base_route,
            ),
        )

    def admin_page(self, title: str, body_class: str, content: str) -> Response:
        menu = (
            '<ul id="nav" role="menubar" ><li  data-ui-id="menu-magento-backend-dashboard"  '
            'class="item-dashboard    level-0" id="menu-magento-backend-dashboard" aria-haspopup="true" '
            f'role="menu-item"><a href="{self.startup_url()}"   class=""><span>Dashboard</span></a></li>'
            '<li  data-ui-id="menu-magento-backend-system"  class="item-system  parent  level-0" '
            'id="menu-magento-backend-system" aria-haspopup="true" role="menu-item"><a href="#"   '
            'onclick="return false;" class=""><span>System</span></a><div class="submenu"><ul role="menu" >'
            '<li  data-ui-id="menu-magento-integration-system-extensions"  class="item-system-extensions  '
            'parent  level-1" role="menu-item"><strong class="submenu-group-title" role="presentation">'
            '<span>Extensions</span></strong><div class="submenu"><ul role="menu" ><li  '
            'data-ui-id="menu-magento-integration-system-integrations"  class="item-system-integrations    '
            f'level-2" role="menu-item"><a href="{self.grid_url()}"   class=""><span>Integrations</span>'
            "</a></li></ul></div></li></ul></div></li>"
            '<li  data-ui-id="menu-magento-backend-stores"  class="item-stores level-0" role="menu-item">'
            f'<a href="{self.url("admin", "auth", "logout")}" class=""><span>Sign Out</span></a></li></ul>'
        )
        return Response(
            200,
            self.document(
                f"{title} / Magento Admin",
                body_class,
                f'<div class="menu-wrapper">{menu}</div>'
                f'<div id="messages"><div class="messages">{self.messages_html()}</div></div>'
                f'<div id="page:main-container" class="page-columns">{content}</div>',
            ),
        )

    def login_page(self) -> Response:
        slow_if_cold()
        form = (
            '<form method="post" action="" id="login-form" data-mage-init=\'{"form": {}, "validation": {}}\' '
            'autocomplete="off">\n    <fieldset class="admin__fieldset">\n'
            '        <legend class="admin__legend">'
            "\n            <span>Welcome, please sign in</span>\n        </legend><br/>\n"
            f'        <input name="form_key" type="hidden" value="{self.session["form_key"]}" />\n'
            '        <input id="username" class="admin__control-text" type="text" name="login[username]" '
            'autofocus value="" data-validate="{required:true}" placeholder="user&#x20;name" '
            'autocomplete="off" />\n'
            '        <input id="login" class="admin__control-text" type="password" name="login[password]" '
            'data-validate="{required:true}" value="" placeholder="password" autocomplete="off" />\n'
            '        <div class="form-actions"><div class="actions"><button class="action-login '
            'action-primary"><span>Sign in</span></button></div></div>\n    </fieldset>\n</form>\n'
        )
        return self.login_layout("Magento Admin", "adminhtml-auth-login page-layout-admin-login", form)

    # --- dispatch
    def handle(self) -> Response:
        ctx = self.ctx
        form = ctx.form() if ctx.method == "POST" else {}
        if "login[username]" in form:
            return self.login(form)
        if self.session.pop("ended", False):
            self.add_message("error", SESSION_ENDED)
        if not self.session["user_id"]:
            return self.login_page()
        route_front = self.segs[0] if self.segs else ""
        if not route_front:
            # Backend's index controller sends the startup page; keyed, the bare URL fails the key check.
            self.dispatched = not self.keys_on
            return self.redirect(self.startup_url())
        controller = self.segs[1] if len(self.segs) > 1 else "index"
        action = self.segs[2] if len(self.segs) > 2 else "index"
        rest = self.segs[3:]
        params = {rest[i]: rest[i + 1] for i in range(0, len(rest) - 1, 2)}
        route = {"admin": "adminhtml"}.get(route_front, route_front)
        if self.keys_on and params.get("key") != url_key(route, controller, action, self.session["form_key"]):
            # AbstractAction::_processUrlKeys (recorded: admin/grid_wrong_key_1_get.json,
            # admin/tokensExchange_wrong_key.json, admin/tokensExchange_wrong_key_isAjax.json).
            if ctx.query_param("isAjax") or ctx.query_param("ajax"):
                return Response.json(200, {"error": True, "message": INVALID_SECRET_KEY}, "application/json")
            return self.redirect(self.startup_url())
        if self.two_factor_pending() and route != "tfa":
            return self.redirect(self.url("tfa", "tfa", "requestconfig"))
        self.dispatched = True
        if route == "tfa":
            return self.tfa_page()
        if controller == "dashboard":
            return self.dashboard()
        if controller == "integration" and action == "index":
            return self.grid()
        if controller == "integration" and action == "tokensExchange":
            return self.tokens_exchange(params)
        if controller == "integration" and action == "tokensDialog":
            return self.tokens_dialog(params)
        if controller == "integration" and action == "delete":
            return self.delete(params)
        if controller == "auth" and action == "logout":
            self.session["user_id"] = None
            return self.redirect(f"{self.base}{self.front}/")
        return Response(404, "<html><body>404 Not Found</body></html>")

    def two_factor_pending(self) -> bool:
        return "Magento_TwoFactorAuth" in site.enabled_module_names() and not self.session["tfa"]

    def login(self, form: dict[str, str]) -> Response:
        slow_if_cold()
        if form.get("form_key") != self.session["form_key"]:
            self.add_message("error", INVALID_FORM_KEY)
            return redirect(f"{self.base}{self.front}/")
        self.session["form_key"] = crypto.random_form_key()  # a new one for every attempt (recorded)
        username = form.get("login[username]", "")
        t = self.ctx.site.t
        self.ctx.cur.execute(
            f"SELECT user_id, password, is_active, lock_expires FROM {t('admin_user')} WHERE username=%s",
            (username,),
        )
        row = self.ctx.cur.fetchone()
        locked = row is not None and hasattr(row["lock_expires"], "year") and row["lock_expires"] > svc.now()
        if (
            row is None
            or not row["is_active"]
            or locked
            or not crypto.verify_password(form.get("login[password]", ""), row["password"])
        ):
            self.add_message("error", LOGIN_FAILED)
            self.cookie_plan = ["admin", "form_key"]
            return self.login_page()
        user_id = row["user_id"]
        with SESSIONS_LOCK:
            SESSIONS.pop(self.sid, None)
            self.sid = secrets.token_hex(13)  # a new session id at login
            SESSIONS[self.sid] = self.session
            ended = 0
            if self.ctx.site.config(self.ctx.cur, "admin/security/admin_account_sharing") != "1":
                for other in SESSIONS.values():
                    if other is not self.session and other.get("user_id") == user_id:
                        other.update(user_id=None, ended=True)
                        ended += 1
        self.session.update(user_id=user_id, tfa=False)
        if ended:
            self.add_message("warning", SESSIONS_TERMINATED)
        self.ctx.cur.execute(
            f"UPDATE {t('admin_user')} SET logdate=%s, lognum=lognum+1 WHERE user_id=%s", (svc.now(), user_id)
        )
        self.cookie_plan = ["form_key", "admin"]
        # Keys on: the absolute keyed startup page. Keys off: the request URI, relative (recorded:
        # admin/login_ok_1_post.json, admin/nokey_login_ok_1_post.json).
        return redirect(self.startup_url() if self.keys_on else self.ctx.raw_path)

    def tfa_page(self) -> Response:
        """Magento_TwoFactorAuth's requestconfig page (recorded: admin/tfa_login_ok_3_get.json)."""
        self.add_message("error", TFA_MAIL_FAILED)
        logout = self.url("admin", "auth", "logout")
        content = f'<li><a href="{logout}" class="tfa-logout-link" >Logout</a></li>{TFA_TEXT}'
        return self.login_layout(
            "Magento Admin", "tfa-tfa-requestconfig page-layout-admin-login", content, "tfa"
        )

    def dashboard(self) -> Response:
        slow_if_cold()
        return self.admin_page(
            "Dashboard",
            "adminhtml-dashboard-index page-layout-admin-1column",
            '<h1 class="page-title">Dashboard</h1>',
        )

    def grid_row(self, r: dict[str, Any]) -> str:
        """One row; the Activate link as Link\\Activate renders it: caption `Reauthorize` only for status 1,
        data-row-is-reauthorize 0 only for status 0, token exchange when endpoint AND identity link are set
        (recorded: admin/integrations_grid.html)."""
        status = r["status"]
        caption = "Reauthorize" if status == svc.STATUS_ACTIVE else "Activate"
        insecure = any((r[c] or "").lower().startswith("http:") for c in ("endpoint", "identity_link_url"))
        notice = (
            '<span class="security-notice"><span>Integration not secure</span></span>' if insecure else ""
        )
        status_text = {0: "Inactive", 1: "Active", 2: "Reset"}.get(status, "")
        iid = r["integration_id"]
        exchange = "1" if r["endpoint"] and r["identity_link_url"] else "0"
        delete = self.url("admin", "integration", "delete", {"id": str(iid)})
        disabled = ' disabled="disabled"' if r["setup_type"] == svc.TYPE_CONFIG else ""
        return (
            '<tr data-role="row" title="" ><td data-column="name" class="&#x20;col-name  ">'
            f"{escape_html(r['name'])}{notice}</td>"
            f'<td data-column="status" class="&#x20;col-status  ">{status_text}</td>'
            '<td data-column="activate" class="&#x20;col-activate  ">'
            f'<a href="javascript:void(0);" title="{caption}" data-row-id="{iid}" '
            'data-row-dialog="permissions" '
            f'data-row-is-reauthorize="{0 if status == svc.STATUS_INACTIVE else 1}" '
            f'data-row-is-token-exchange="{exchange}" onclick="integration.popup.show(this);">'
            f"{caption}</a></td>"
            '<td data-column="delete" class="&#x20;col-delete  last">'
            f'<button class="action&#x20;delete" id="delete"{disabled}></button><script>'
            f"this.setAttribute('data-url', '{delete}');</script></td></tr>"
        )

    def grid(self) -> Response:
        """The integration grid (C5.2): `new Integration(...)` with five positional URL templates, each
        JS-escaped (`\\u002F`, `\\u003A`) and keyed for its own action (recorded:
        admin/integrations_grid.html, admin/nokey_integrations_grid.html)."""
        slow_if_cold()
        if site.realistic_timing() and os.path.exists(site.COLD_FLAG):
            os.unlink(site.COLD_FLAG)
        t = self.ctx.site.t
        self.ctx.cur.execute(f"SELECT * FROM {t('integration')} ORDER BY integration_id")
        rows = list(self.ctx.cur.fetchall())
        if any(
            (r[c] or "").lower().startswith("http:") for r in rows for c in ("endpoint", "identity_link_url")
        ):
            self.add_message("notice", INSECURE)
        dialog = {"id": ":id", "reauthorize": ":isReauthorize"}
        templates = [
            self.url("admin", "integration", "permissionsDialog", dialog),
            self.url("admin", "integration", "tokensDialog", dialog),
            self.url("admin", "integration", "tokensExchange", dialog),
            self.url("admin", "integration", "index"),
            self.url("admin", "integration", "loginSuccessCallback"),
        ]
        args = ",\n".join(f"            '{js_escape(u)}'" for u in templates)
        script = (
            '<script>    require([\n        "jquery",\n        "Magento_Integration/js/integration"\n'
            "    ], function ($) {\n\n        window.integration = new Integration(\n"
            f"{args}\n        );\n    }});</script>\n"
            '<div id="integration-popup-container"></div>\n'
        )
        body = "".join(self.grid_row(r) for r in rows)
        table = (
            '<div id="integrationGrid" data-grid-id="integrationGrid"><table class="data-grid" '
            f'id="integrationGrid_table"><tbody>{body}</tbody></table></div>'
        )
        return self.admin_page(
            "Integrations / Extensions / System",
            "adminhtml-integration-index page-layout-admin-1column",
            '<h1 class="page-title">Integrations</h1>' + script + table,
        )

    def integration_from(self, params: dict[str, str]) -> dict[str, Any] | None:
        try:
            iid = int(params.get("id", "0"))
        except ValueError:
            iid = 0
        integ = svc.get(self.ctx.cur, self.ctx.site, iid)
        if integ is None:
            self.add_message("error", f'The integration with ID "{iid}" doesn\'t exist.')
        return integ

    def delete(self, params: dict[str, str]) -> Response:
        """Integration controller delete: config-made integrations cannot be deleted (C3.4)."""
        ctx = self.ctx
        integ = self.integration_from(params)
        if integ is None:
            pass
        elif integ["setup_type"] == svc.TYPE_CONFIG:
            self.add_message("error", f"Uninstall the extension to remove integration '{integ['name']}'.")
        else:
            svc.delete(ctx.cur, ctx.site, integ["integration_id"])
            self.add_message("success", f"The integration '{integ['name']}' has been deleted.")
        return self.redirect(self.grid_url())

    def tokens_exchange(self, params: dict[str, str]) -> Response:
        """Integration controller tokensExchange (C5.3): always the POST to the endpoint; the JSON reply
        (recorded: admin/tokensExchange_reauth0.json); on a failure the error goes to the session and the
        answer is a redirect to the grid (for an XHR the {"_redirect"} JSON)."""
        ctx = self.ctx
        integ = self.integration_from(params)
        if integ is None:
            return self.redirect(self.grid_url())
        consumer_id = integ["consumer_id"]
        reauthorize = params.get("reauthorize", "0") not in ("", "0")
        if reauthorize:
            svc.delete_integration_token(ctx.cur, ctx.site, consumer_id)
            ctx.cur.execute(
                f"UPDATE {ctx.site.t('integration')} SET status=%s WHERE integration_id=%s",
                (svc.STATUS_INACTIVE, integ["integration_id"]),
            )
        try:
            svc.post_to_consumer(ctx.conn, ctx.site, consumer_id, integ["endpoint"])
        except svc.MagentoError as exc:
            self.add_message("error", str(exc))
            return self.redirect(self.grid_url())
        sent = "re-authorization" if reauthorize else "activation"
        self.add_message("notice", f"Integration '{escape_html(integ['name'])}' has been sent for {sent}.")
        consumer = svc.load_consumer(ctx.cur, ctx.site, consumer_id)
        return Response.json(
            200,
            {
                "identity_link_url": integ["identity_link_url"],
                "oauth_consumer_key": consumer["key"] if consumer else None,
                "popup_content": POPUP,
            },
            "application/json",
        )

    def tokens_dialog(self, params: dict[str, str]) -> Response:
        """Integration controller tokensDialog (C5.1): the Admin mints the tokens itself, no endpoint call,
        status 1; the popup shows them (what integration.js opens for a row without token exchange)."""
        ctx = self.ctx
        integ = self.integration_from(params)
        if integ is None:
            return self.redirect(self.grid_url())
        clear = params.get("reauthorize", "0") not in ("", "0")
        if svc.create_access_token(ctx.cur, ctx.site, integ["consumer_id"], clear):
            ctx.cur.execute(
                f"UPDATE {ctx.site.t('integration')} SET status=%s WHERE integration_id=%s",
                (svc.STATUS_ACTIVE, integ["integration_id"]),
            )
        consumer = svc.load_consumer(ctx.cur, ctx.site, integ["consumer_id"]) or {}
        token = svc.integration_token(ctx.cur, ctx.site, integ["consumer_id"]) or {}
        fields = {
            "consumer_key": consumer.get("key", ""),
            "consumer_secret": ctx.site.encryptor.decrypt(consumer["secret"]) if consumer else "",
            "token": token.get("token", ""),
            "token_secret": ctx.site.encryptor.decrypt(token["secret"]) if token else "",
        }
        inputs = "".join(
            f'<input id="{k}" name="{k}" type="text" readonly value="{escape_html(v)}" />'
            for k, v in fields.items()
        )
        return Response(200, f'<div id="integration-token-popup">{inputs}</div>')


# ---------------------------------------------------------------- dispatch
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""

    clock_offset = 0.0

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The store's clock, moved by the test-only fault knob (tests/faults: clock skew).
        return super().date_time_string((time.time() if timestamp is None else timestamp) + self.clock_offset)

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            resp = self.dispatch(body)
        except Exception:
            traceback.print_exc()
            resp = Response(500, "<html><body>An error has happened during application run.</body></html>")
        self.send_response(resp.status)
        for k, v in resp.final_headers():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

    def dispatch(self, body: bytes) -> Response:
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/index.php/"):
            self.path = self.path[len("/index.php") :]
            path = path[len("/index.php") :]
        if not site.is_installed():
            return Response(503, "<html><body>Magento is not installed yet.</body></html>")
        os.makedirs(
            os.path.join(site.GENERATED, "code"), exist_ok=True
        )  # regenerated on demand (default mode)
        ctx = Ctx(self, self.command, body)
        try:
            self.clock_offset = float(ctx.site.config_value(ctx.cur, FAULT_CLOCK_OFFSET) or 0)
            if path.rstrip("/") in ("/oauth/token/request", "/oauth/token/access"):
                return oauth_endpoint(ctx, path.rstrip("/").rsplit("/", 1)[1])
            if path.startswith("/rest/"):
                return rest(ctx)
            front = "/" + ctx.site.front_name
            if path == front or path.startswith(front + "/"):
                segs = [s for s in path[len(front) :].split("/") if s != ""]
                admin = Admin(ctx, segs)
                return admin.finish(admin.handle())
            if path in ("/", ""):
                return Response(
                    200,
                    "<!doctype html><html><head><title>Home page</title></head>"
                    "<body><h1>Home Page</h1></body></html>",
                )
            return Response(
                404, "<html><head><title>404 Not Found</title></head><body>Whoops, our bad...</body></html>"
            )
        finally:
            ctx.close()


def main() -> None:
    listen = os.environ.get("MAGENTO_LISTEN", "127.0.0.1:8080")
    host, _, port = listen.rpartition(":")
    server = ThreadingHTTPServer((host or "0.0.0.0", int(port)), Handler)  # noqa: S104
    server.daemon_threads = True
    print(f"magento-twin listening on {listen}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
