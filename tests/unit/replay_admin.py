"""A local server that answers as the Admin of a real 2.4.7-p3 store did (../shared/magento-2.4.7-p3/admin/).

Each request gets the recorded reply for its (method, path); the recorded origin is rewritten to the
server's in every encoding the pages use (plain, JSON's ``\\/`` and escapeJs's ``\\u002F``/``\\u003A``).
A request the recordings do not cover gets a 599.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from ansible.module_utils.magento_admin import AdminSession
from local_http import LocalHTTPServer
from recordings import Recording, recording

ORIGIN = "http://127.0.0.1:8180"
RECORDED_KEY = "d66jg0g8dllna9mp4ni89xxuk23zlh01"  # ProbeSync's consumer key in the recordings
PASSWORD = "recorded-password"  # the replay does not check it; the recorded reply decides


def _encodings(origin: str) -> list[tuple[str, str]]:
    return [
        (ORIGIN, origin),
        (ORIGIN.replace("/", "\\/"), origin.replace("/", "\\/")),
        (
            ORIGIN.replace(":", "\\u003A").replace("/", "\\u002F"),
            origin.replace(":", "\\u003A").replace("/", "\\u002F"),
        ),
    ]


class ReplayAdmin:
    """Serves recorded replies by (method, path); several for one path are served in order, the last
    one again after that."""

    def __init__(self, *names: str, edit: dict[str, tuple[str, str]] | None = None) -> None:
        self.queues: dict[tuple[str, str], list[Recording]] = {}
        for name in names:
            rec = recording(f"admin/{name}.json")
            key = (rec.method, urlsplit(rec.url).path)
            self.queues.setdefault(key, []).append(rec)
        self.edit = edit or {}
        self.requests: list[tuple[str, str, dict[str, str], dict[str, list[str]]]] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode()) if length else {}
                path = urlsplit(self.path).path
                replay.requests.append((method, path, dict(self.headers.items()), form))
                queue = replay.queues.get((method, path))
                if not queue:
                    self.send_response(599)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                rec = queue.pop(0) if len(queue) > 1 else queue[0]
                body = replay.rewrite(rec.response.body, rec.name)
                data = body.encode()
                self.send_response(rec.status)
                for name, value in rec.response.headers:
                    if name.lower() in {"content-length", "transfer-encoding", "connection", "host"}:
                        continue
                    value = replay.rewrite(value, "")
                    if name.lower() == "set-cookie":
                        value = value.replace("domain=127.0.0.1; ", "")
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        self.server = LocalHTTPServer(Handler)
        self.base_url = self.server.base_url
        self.origin = self.base_url.rstrip("/")

    def rewrite(self, text: str, name: str) -> str:
        for recorded, served in _encodings(self.origin):
            text = text.replace(recorded, served)
        if name in self.edit:
            old, new = self.edit[name]
            assert old in text, f"{old!r} is not in {name}: the edit no longer applies"
            text = text.replace(old, new)
        return text

    def session(self) -> AdminSession:
        return AdminSession(self.base_url, "admin", "admin", PASSWORD, timeout=5)

    def paths(self, method: str = "GET") -> list[str]:
        return [path for m, path, _, _ in self.requests if m == method]

    def close(self) -> None:
        self.server.close()
