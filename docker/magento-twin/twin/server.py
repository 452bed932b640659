"""The twin's HTTP side: storefront, OAuth endpoints (C6), REST (C7) and the Admin (C5).

A ThreadingHTTPServer: tokensExchange POSTs to the endpoint inside a request, and the endpoint may call
back into the store while that request is still open.
"""

from __future__ import annotations

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
from twin.oauth import OauthError, OauthInputError, OauthServer, protocol_params

NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
LOGIN_FAILED = (
    "The account sign-in was incorrect or your account is disabled temporarily. "
    "Please wait and try again later."
)
INVALID_FORM_KEY = "Invalid Form Key. Please refresh the page."

SESSIONS: dict[str, dict[str, Any]] = {}
SESSIONS_LOCK = threading.Lock()


class Response:
    def __init__(
        self, status: int = 200, body: str | bytes = "", ctype: str = "text/html; charset=UTF-8"
    ) -> None:
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.headers: list[tuple[str, str]] = [("Content-Type", ctype)]

    @classmethod
    def json(cls, status: int, data: Any) -> Response:
        return cls(status, json.dumps(data, separators=(",", ":")), "application/json; charset=utf-8")

    @classmethod
    def redirect(cls, location: str) -> Response:
        r = cls(302, "")
        r.headers.append(("Location", location))
        return r


def js_escape_url(url: str) -> str:
    return url.replace("/", "\\u002F")


# ---------------------------------------------------------------- request context
class Ctx:
    def __init__(self, handler: BaseHTTPRequestHandler, method: str, body: bytes) -> None:
        self.h = handler
        self.method = method
        self.body = body
        raw = handler.path
        parts = urllib.parse.urlsplit(raw)
        self.path = parts.path
        self.query = parts.query
        self.site = site.Site()
        self.conn = self.site.connect()
        self.cur = self.conn.cursor()

    def header(self, name: str) -> str | None:
        return self.h.headers.get(name)

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


# ---------------------------------------------------------------- OAuth endpoints (C6)
def oauth_endpoint(ctx: Ctx, kind: str) -> Response:
    params = protocol_params(ctx.header("Authorization"), ctx.header("Content-Type"), ctx.body, ctx.query)
    server = OauthServer(ctx.site, ctx.cur)
    try:
        if kind == "request":
            token, secret = server.request_token(params, ctx.method, ctx.signed_url())
        else:
            token, secret = server.access_token(params, ctx.method, ctx.signed_url())
    except OauthError as exc:
        body = urllib.parse.urlencode({"oauth_problem": str(exc)})
        return Response(exc.status, body, "text/html; charset=UTF-8")
    return Response(200, urllib.parse.urlencode({"oauth_token": token, "oauth_token_secret": secret}))


# ---------------------------------------------------------------- REST (C7)
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
        return Response.json(
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
        return Response.json(
            400,
            {
                "message": '"%fieldName" is required. Enter and try again.',
                "parameters": {"fieldName": "searchCriteria"},
            },
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
    return Response.json(
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
                return Response.json(
                    400,
                    {"message": "The store that was requested wasn't found. Verify the store and try again."},
                )
    route = parts.rstrip("/") or "/"
    modules = site.enabled_modules()
    routes = webapi_routes(modules)
    resources = routes.get((ctx.method, route))
    if resources is None:
        return Response.json(404, {"message": "Request does not match any route."})
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
    except OauthInputError as exc:
        return Response.json(400, {"message": str(exc)})
    except OauthError as exc:
        return Response.json(401, {"message": str(exc)})
    allowed = False
    if integration_id is not None:
        tree = acl.build_tree(modules)
        rules = svc.rules(ctx.cur, ctx.site, integration_id)
        allowed = all(acl.is_allowed(tree, rules, r) for r in resources)
    if not allowed:
        return Response.json(
            401, {"message": NOT_AUTHORIZED, "parameters": {"resources": ", ".join(resources)}}
        )
    return rest_data(ctx, route)


def bearer_integration(ctx: Ctx, token: str) -> int | None:
    """Integration access tokens as bearer tokens only with
    oauth/consumer/enable_integration_as_bearer=1 (C7.3)."""
    if ctx.site.config_value(ctx.cur, "oauth/consumer/enable_integration_as_bearer", "0") != "1":
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
    return hashlib.sha256((route + controller + action + form_key).encode()).hexdigest()


class Admin:
    def __init__(self, ctx: Ctx, segs: list[str]) -> None:
        self.ctx = ctx
        self.segs = segs
        self.front = ctx.site.front_name
        self.base = ctx.site.base_url(ctx.cur)
        self.cookie_header: str | None = None
        self.session = self.load_session()

    def load_session(self) -> dict[str, Any]:
        cookies = {}
        for part in (self.ctx.header("Cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            cookies[name] = value
        sid = cookies.get("admin", "")
        with SESSIONS_LOCK:
            sess = SESSIONS.get(sid)
            if sess is None:
                sid = secrets.token_hex(16)
                sess = {
                    "id": sid,
                    "form_key": crypto.random_token(16),
                    "user_id": None,
                    "messages": [],
                    "tfa": False,
                }
                SESSIONS[sid] = sess
        self.cookie_header = f"admin={sid}; path=/{self.front}; HttpOnly; SameSite=Lax"
        return sess

    def url(
        self,
        route_front: str,
        controller: str,
        action: str,
        params: dict[str, str] | None = None,
        route: str = "adminhtml",
        key: bool = True,
    ) -> str:
        path = f"{self.base}{self.front}/{route_front}/{controller}/{action}/"
        for k, v in (params or {}).items():
            path += f"{k}/{v}/"
        if key:
            path += f"key/{url_key(route, controller, action, self.session['form_key'])}/"
        return path

    def dashboard_url(self) -> str:
        return self.url("admin", "dashboard", "index")

    def tfa_url(self) -> str:
        return self.url("tfa", "tfa", "index", route="tfa")

    def finish(self, resp: Response) -> Response:
        if self.cookie_header:
            resp.headers.append(("Set-Cookie", self.cookie_header))
        return resp

    def page(self, title: str, body: str) -> Response:
        msgs = "".join(
            f'<div class="message message-{kind} {kind}"><div data-ui-id="messages-message-{kind}">'
            f"{html.escape(text)}</div></div>"
            for kind, text in self.session["messages"]
        )
        self.session["messages"] = []
        return Response(
            200,
            f"<!doctype html><html><head><title>{html.escape(title)} / Magento Admin</title></head><body>"
            f'<div id="messages"><div class="messages">{msgs}</div></div>{body}</body></html>',
        )

    def login_page(self) -> Response:
        slow_if_cold()
        return self.page(
            "Magento Admin",
            f'<form method="post" action="{self.base}{self.front}/" id="login-form" autocomplete="off">'
            f'<input name="form_key" type="hidden" value="{self.session["form_key"]}" />'
            '<fieldset class="admin__fieldset"><legend class="admin__legend"><span>Welcome, '
            "please sign in</span>"
            '</legend><input id="username" type="text" name="login[username]" />'
            '<input id="login" type="password" name="login[password]" />'
            '<button type="submit" class="action-login action-primary"><span>Sign in</span></button>'
            "</fieldset></form>",
        )

    def handle(self) -> Response:
        ctx = self.ctx
        form = ctx.form() if ctx.method == "POST" else {}
        if "login[username]" in form:
            return self.login(form)
        if not self.session["user_id"]:
            return self.login_page()
        route_front = self.segs[0] if self.segs else ""
        if not route_front:
            return Response.redirect(self.dashboard_url())
        controller = self.segs[1] if len(self.segs) > 1 else "index"
        action = self.segs[2] if len(self.segs) > 2 else "index"
        rest = self.segs[3:]
        params = {rest[i]: rest[i + 1] for i in range(0, len(rest) - 1, 2)}
        route = {"admin": "adminhtml"}.get(route_front, route_front)
        if self.two_factor_pending() and route != "tfa":
            return Response.redirect(self.tfa_url())
        if params.get("key") != url_key(route, controller, action, self.session["form_key"]):
            return Response.redirect(self.dashboard_url())
        if route == "tfa":
            return self.tfa_page()
        if controller == "dashboard":
            return self.dashboard()
        if controller == "integration" and action == "index":
            return self.grid()
        if controller == "integration" and action == "tokensExchange":
            return self.tokens_exchange(params)
        if controller == "integration" and action == "delete":
            return self.delete(params)
        if controller == "auth" and action == "logout":
            self.session["user_id"] = None
            return Response.redirect(f"{self.base}{self.front}/")
        return Response(404, "<html><body>404 Not Found</body></html>")

    def two_factor_pending(self) -> bool:
        return "Magento_TwoFactorAuth" in site.enabled_module_names() and not self.session["tfa"]

    def login(self, form: dict[str, str]) -> Response:
        slow_if_cold()
        if form.get("form_key") != self.session["form_key"]:
            self.session["messages"].append(("error", INVALID_FORM_KEY))
            return Response.redirect(f"{self.base}{self.front}/")
        username = form.get("login[username]", "")
        self.ctx.cur.execute(
            f"SELECT user_id, password, is_active FROM {self.ctx.site.t('admin_user')} WHERE username=%s",
            (username,),
        )
        row = self.ctx.cur.fetchone()
        if (
            row is None
            or not row["is_active"]
            or not crypto.verify_password(form.get("login[password]", ""), row["password"])
        ):
            self.session["messages"].append(("error", LOGIN_FAILED))
            return self.login_page()
        self.session["user_id"] = row["user_id"]
        self.ctx.cur.execute(
            f"UPDATE {self.ctx.site.t('admin_user')} SET logdate=%s, lognum=lognum+1 WHERE user_id=%s",
            (svc.now(), row["user_id"]),
        )
        return Response.redirect(self.dashboard_url())

    def tfa_page(self) -> Response:
        return self.page(
            "Two-Factor Authentication",
            '<div class="tfa-configure"><h1>Two-Factor Authentication</h1><p>You need to '
            "configure Two-Factor "
            "Authorization in order to proceed to your store's admin panel. If you have any "
            "questions, please "
            "contact your administrator.</p></div>",
        )

    def dashboard(self) -> Response:
        slow_if_cold()
        grid = self.url("admin", "integration", "index")
        return self.page(
            "Dashboard",
            '<h1 class="page-title">Dashboard</h1><nav><ul id="nav">'
            f'<li class="item-system-integrations"><a href="{grid}">Integrations</a></li>'
            f'<li><a href="{self.url("admin", "auth", "logout")}">Sign Out</a></li></ul></nav>',
        )

    def grid(self) -> Response:
        slow_if_cold()
        if site.realistic_timing() and os.path.exists(site.COLD_FLAG):
            os.unlink(site.COLD_FLAG)
        t = self.ctx.site.t
        self.ctx.cur.execute(f"SELECT * FROM {t('integration')} ORDER BY integration_id")
        status_text = {0: "Inactive", 1: "Active", 2: "Reset"}
        rows = "".join(
            f'<tr data-row-id="{r["integration_id"]}"><td>{html.escape(r["name"])}</td>'
            f"<td>{status_text.get(r['status'], '')}</td>"
            f'<td><a href="#" data-row-id="{r["integration_id"]}" class="action activate">'
            f"{'Reauthorize' if r['status'] == 1 else 'Activate'}</a></td></tr>"
            for r in self.ctx.cur.fetchall()
        )
        urls = {
            "tokensExchange": js_escape_url(
                self.url(
                    "admin", "integration", "tokensExchange", {"id": ":id", "reauthorize": ":isReauthorize"}
                )
            ),
            "permissionsDialog": js_escape_url(
                self.url(
                    "admin",
                    "integration",
                    "permissionsDialog",
                    {"id": ":id", "reauthorize": ":isReauthorize"},
                )
            ),
            "delete": js_escape_url(self.url("admin", "integration", "delete", {"id": ":id"})),
            "tokensDialog": js_escape_url(
                self.url(
                    "admin", "integration", "tokensDialog", {"id": ":id", "reauthorize": ":isReauthorize"}
                )
            ),
        }
        init = (
            '{"*": {"Magento_Integration/js/integration": {"url": {'
            + ", ".join(f'"{k}": "{v}"' for k, v in urls.items())
            + "}}}}"
        )
        return self.page(
            "Integrations",
            '<h1 class="page-title">Integrations</h1><table class="data-grid" id="integrationGrid_table">'
            f"<tbody>{rows}</tbody></table>"
            f'<script type="text/x-magento-init">{init}</script>',
        )

    def delete(self, params: dict[str, str]) -> Response:
        """Integration controller delete: config-made integrations cannot be deleted (C3.4)."""
        ctx = self.ctx
        integ = svc.get(ctx.cur, ctx.site, int(params.get("id", "0") or 0))
        if integ is None:
            self.session["messages"].append(("error", "This integration no longer exists."))
        elif integ["setup_type"] == svc.TYPE_CONFIG:
            self.session["messages"].append(
                ("error", f"Uninstall the extension to remove integration '{integ['name']}'.")
            )
        else:
            svc.delete(ctx.cur, ctx.site, integ["integration_id"])
            self.session["messages"].append(
                ("success", f"The integration '{integ['name']}' has been deleted.")
            )
        return Response.redirect(self.url("admin", "integration", "index"))

    def tokens_exchange(self, params: dict[str, str]) -> Response:
        """Integration controller tokensExchange (C5.3); without endpoint + identity link, mints
        tokens (C5.1)."""
        ctx = self.ctx
        grid = self.url("admin", "integration", "index")
        try:
            iid = int(params.get("id", "0"))
        except ValueError:
            iid = 0
        integ = svc.get(ctx.cur, ctx.site, iid)
        if integ is None:
            self.session["messages"].append(("error", f'The integration with ID "{iid}" doesn\'t exist.'))
            return Response.redirect(grid)
        consumer_id = integ["consumer_id"]
        if not (integ["endpoint"] and integ["identity_link_url"]):
            ctx.cur.execute("START TRANSACTION")
            svc.mint_access_token(ctx.cur, ctx.site, consumer_id)
            ctx.cur.execute(
                f"UPDATE {ctx.site.t('integration')} SET status=%s WHERE integration_id=%s",
                (svc.STATUS_ACTIVE, iid),
            )
            ctx.cur.execute("COMMIT")
            self.session["messages"].append(
                ("success", f"The integration '{integ['name']}' has been activated.")
            )
            return Response.json(
                200,
                {
                    "identity_link_url": integ["identity_link_url"],
                    "oauth_consumer_key": None,
                    "popup_content": '<div id="integration-token-popup"></div>',
                },
            )
        if params.get("reauthorize") == "1":
            svc.delete_integration_token(ctx.cur, ctx.site, consumer_id)
            ctx.cur.execute(
                f"UPDATE {ctx.site.t('integration')} SET status=%s WHERE integration_id=%s",
                (svc.STATUS_INACTIVE, iid),
            )
        try:
            svc.post_to_consumer(ctx.conn, ctx.site, consumer_id, integ["endpoint"])
        except svc.MagentoError as exc:
            self.session["messages"].append(("error", str(exc)))
            return Response.redirect(grid)
        consumer = svc.load_consumer(ctx.cur, ctx.site, consumer_id)
        return Response.json(
            200,
            {
                "identity_link_url": integ["identity_link_url"],
                "oauth_consumer_key": consumer["key"] if consumer else None,
                "popup_content": '<div id="integration-popup-container" data-role="integration-popup"></div>',
            },
        )


# ---------------------------------------------------------------- dispatch
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""

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
        for k, v in resp.headers:
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
