"""magento_listener: accepts only the form POST with the expected consumer key (C5.3), refuses the rest
with a 4xx and keeps waiting, times out with a message naming the address and the fix."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests
from ansible.module_utils.magento_listener import EndpointListener, ListenerError

KEY = "k" * 32
FORM = {
    "oauth_consumer_key": KEY,
    "oauth_consumer_secret": "s" * 32,
    "store_base_url": "http://127.0.0.1:8080/",
    "oauth_verifier": "v" * 32,
}


def test_accepts_the_expected_post_and_returns_the_four_fields() -> None:
    with EndpointListener(KEY, "127.0.0.1", 0) as listener:
        assert listener.port > 0
        reply = requests.post(f"http://127.0.0.1:{listener.port}/endpoint", data=FORM, timeout=5)
        assert reply.status_code == 200
        post = listener.wait(1)
    assert (post.consumer_key, post.consumer_secret, post.store_base_url, post.verifier) == (
        KEY,
        "s" * 32,
        "http://127.0.0.1:8080/",
        "v" * 32,
    )
    assert post.received_at <= time.monotonic()
    for secret in (KEY, "s" * 32, "v" * 32):
        assert secret not in repr(post)


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": {**FORM, "oauth_consumer_key": "x" * 32}}, 403),
        ({"data": {k: v for k, v in FORM.items() if k != "oauth_verifier"}}, 400),
        ({"json": FORM}, 415),
    ],
)
def test_refuses_other_posts_and_keeps_waiting(kwargs: dict, status: int) -> None:
    with EndpointListener(KEY) as listener:
        url = f"http://127.0.0.1:{listener.port}/endpoint"
        assert requests.post(url, timeout=5, **kwargs).status_code == status
        assert requests.get(url, timeout=5).status_code == 405
        assert listener.received is None
        assert requests.post(url, data=FORM, timeout=5).status_code == 200
        assert listener.wait(1).consumer_key == KEY
        assert len(listener.rejected) == 2


def test_exactly_one_post_is_taken() -> None:
    """A second POST (a human's Reauthorize during the run) is refused, never mixed into this handshake."""
    with EndpointListener(KEY) as listener:
        url = f"http://127.0.0.1:{listener.port}/"
        assert requests.post(url, data=FORM, timeout=5).status_code == 200
        again = requests.post(url, data={**FORM, "oauth_verifier": "w" * 32}, timeout=5)
        assert again.status_code == 409
        assert listener.wait(1).verifier == "v" * 32
        assert listener.rejected == ["POST /: the endpoint POST was already received"]


def test_only_the_endpoint_path_counts() -> None:
    with EndpointListener(KEY, path="/reintegrate/endpoint") as listener:
        base = f"http://127.0.0.1:{listener.port}"
        assert requests.post(f"{base}/other", data=FORM, timeout=5).status_code == 404
        assert requests.post(f"{base}/reintegrate/endpoint?x=1", data=FORM, timeout=5).status_code == 200
        assert listener.wait(1).verifier == "v" * 32
        assert listener.rejected == ["POST /other: not the integration's endpoint path"]


def test_wait_blocks_until_the_post_arrives() -> None:
    with EndpointListener(KEY) as listener:
        url = f"http://127.0.0.1:{listener.port}/endpoint"
        timer = threading.Timer(0.2, lambda: requests.post(url, data=FORM, timeout=5))
        timer.start()
        started = time.monotonic()
        post = listener.wait(5)
        assert time.monotonic() - started >= 0.15
        assert post.verifier == "v" * 32
        timer.join()


def test_timeout_names_address_port_and_fix_and_rejections() -> None:
    with EndpointListener(KEY) as listener:
        requests.post(
            f"http://127.0.0.1:{listener.port}/e", data={**FORM, "oauth_consumer_key": "x"}, timeout=5
        )
        with pytest.raises(ListenerError) as caught:
            listener.wait(0.3)
    message = str(caught.value)
    assert f"no POST reached 127.0.0.1:{listener.port} in 0.3 s" in message
    assert "endpoint_url must point at the listener" in message and "host.docker.internal" in message
    assert "refused 1 other request" in message
    assert KEY not in message and "s" * 32 not in message


def test_busy_port_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ListenerError, match=f"cannot listen on 127.0.0.1:{port}.*listen_port"):
            EndpointListener(KEY, "127.0.0.1", port).start()


def test_close_frees_the_port() -> None:
    listener = EndpointListener(KEY)
    port = listener.start()
    listener.close()
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
