"""A one-shot endpoint for Magento's activation POST (C5.3).

Magento's activation (Admin tokensExchange or ``bin/magento integration:activate``) POSTs, form-encoded,
``oauth_consumer_key``, ``oauth_consumer_secret``, ``store_base_url`` and ``oauth_verifier`` to the
integration's endpoint_url, with a 5 s timeout, ignoring the reply. This listener accepts exactly one such
POST, the one carrying the expected consumer key; anything else gets a 4xx and it keeps waiting.

Public API (stable):
    ENDPOINT_FIELDS: tuple[str, ...]
    class EndpointPost(consumer_key, consumer_secret, store_base_url, verifier, received_at)
                                             repr shows only store_base_url and received_at
    class ListenerError(Exception)           bind failure or timeout; message names the cause and the fix
    class EndpointListener(expected_consumer_key, address="127.0.0.1", port=0, path=None)
        .start() -> int                      bind and serve in a thread; returns the bound port
        .check_bind() -> int                 bind and release at once (a preflight's proof)
        .wait(timeout) -> EndpointPost       block until the POST arrived; ListenerError on timeout
        .rejected -> list[str]               why other requests were refused (no values)
        .close()                             stop serving (also on ``with`` exit)
        .address, .port
"""

from __future__ import annotations

import errno
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

# C5.3 the four form fields Magento posts.
ENDPOINT_FIELDS = ("oauth_consumer_key", "oauth_consumer_secret", "store_base_url", "oauth_verifier")
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_BODY = 64 * 1024
# Seconds a port in use is tried again before the bind fails (a concurrent run's momentary bind).
BUSY_RETRY_SECONDS = 2.0


@dataclass(frozen=True)
class EndpointPost:
    """What Magento posted. The key, secret and verifier are secrets: repr hides them."""

    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    store_base_url: str
    verifier: str = field(repr=False)
    received_at: float = 0.0  # time.monotonic() at receipt (C6.5: the consumer expires from here on)


class ListenerError(Exception):
    """The listener could not bind or no acceptable POST arrived. Never carries a secret."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], listener: EndpointListener) -> None:
        self.listener = listener
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        # Never log: the request line is harmless but the body carries the consumer secret.
        return

    def _reply(self, status: int, text: str) -> None:
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def _refuse(self, status: int, reason: str) -> None:
        self.server.listener._reject(f"{self.command} {self.path.split('?')[0]}: {reason}")
        self._reply(status, reason)

    def do_GET(self) -> None:
        self._refuse(405, "only POST is accepted")

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def do_POST(self) -> None:
        listener = self.server.listener
        if listener.path is not None and self.path.split("?")[0] != listener.path:
            self._refuse(404, "not the integration's endpoint path")
            return
        if listener._received.is_set():
            self._refuse(409, "the endpoint POST was already received")
            return
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._refuse(400, "bad Content-Length")
            return
        body = self.rfile.read(length).decode("utf-8", "replace")
        if content_type != FORM_CONTENT_TYPE:
            self._refuse(415, f"expected {FORM_CONTENT_TYPE}")
            return
        form = parse_qs(body, keep_blank_values=True)
        values = {name: (form.get(name) or [""])[0] for name in ENDPOINT_FIELDS}
        missing = [name for name, value in values.items() if not value]
        if missing:
            self._refuse(400, f"missing {', '.join(missing)}")
            return
        if not self.server.listener._offer(values):
            self._refuse(403, "oauth_consumer_key is not the expected one")
            return
        self._reply(200, "OK")


class EndpointListener:
    """One-shot HTTP endpoint: ``start()``, trigger the activation, ``wait()``, ``close()``."""

    def __init__(
        self, expected_consumer_key: str, address: str = "127.0.0.1", port: int = 0, path: str | None = None
    ) -> None:
        self._expected = expected_consumer_key
        self.address = address
        self.port = port
        # Only POSTs to the endpoint_url's path count; None accepts any path.
        self.path = path or None
        self.rejected: list[str] = []
        self._post: EndpointPost | None = None
        self._received = threading.Event()
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"EndpointListener(address={self.address!r}, port={self.port!r})"

    def start(self) -> int:
        self._server = self._bind()
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self.port

    def check_bind(self) -> int:
        """Bind and release at once: proves start() can bind now, without a server thread to stop (whose
        shutdown waits for its next poll)."""
        server = self._bind()
        try:
            return server.server_address[1]
        finally:
            server.server_close()

    def _bind(self) -> _Server:
        if not 0 <= int(self.port) <= 65535:  # bind() raises OverflowError, not OSError, for these
            raise ListenerError(
                f"cannot listen on {self.address}:{self.port}: the port is out of range (0-65535): set "
                "listen_port to the endpoint_url's port (or leave it unset)"
            )
        deadline = time.monotonic() + BUSY_RETRY_SECONDS
        while True:
            try:
                return _Server((self.address, self.port), self)
            except OSError as exc:
                # A port taken for a moment (another run's preflight proving it can bind) is free again
                # within a blink; one that stays taken is another listener.
                if exc.errno == errno.EADDRINUSE and self.port and time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                raise ListenerError(
                    f"cannot listen on {self.address}:{self.port}: {exc.strerror or exc}: free the port or "
                    "set listen_port to another one (and point the integration's endpoint_url at it)"
                ) from None

    def _reject(self, reason: str) -> None:
        with self._lock:
            self.rejected.append(reason)

    def _offer(self, values: dict[str, str]) -> bool:
        if values["oauth_consumer_key"] != self._expected:
            return False
        # Exactly one POST is taken; a later one (a human's Reauthorize meanwhile) is refused with 409.
        with self._lock:
            self._post = EndpointPost(
                consumer_key=values["oauth_consumer_key"],
                consumer_secret=values["oauth_consumer_secret"],
                store_base_url=values["store_base_url"],
                verifier=values["oauth_verifier"],
                received_at=time.monotonic(),
            )
        self._received.set()
        return True

    @property
    def received(self) -> EndpointPost | None:
        """The accepted POST so far (None before it arrived)."""
        with self._lock:
            return self._post

    def wait(self, timeout: float) -> EndpointPost:
        if not self._received.wait(timeout):
            raise ListenerError(self._timeout_message(timeout))
        post = self.received
        if post is None:  # _received is set only after received is
            raise AssertionError("listener woke without a POST")
        return post

    def _timeout_message(self, timeout: float) -> str:
        message = (
            f"no POST reached {self.address}:{self.port} in {timeout:g} s: the integration's endpoint_url "
            f"must point at the listener (http://{self.address}:{self.port}/...); with a bridge network use "
            "host.docker.internal"
        )
        with self._lock:
            rejected = list(self.rejected)
        if rejected:
            message += f"; refused {len(rejected)} other request(s): " + "; ".join(rejected[:3])
        return message

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> EndpointListener:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
