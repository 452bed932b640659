"""magento_background: a call under way in a thread, its answer or its failure taken where it is needed."""

from __future__ import annotations

import threading
import time

import pytest
from ansible.module_utils.magento_background import InBackground
from ansible.module_utils.magento_common import ModuleFailure


def test_the_call_runs_while_the_caller_goes_on_and_its_value_is_taken_later() -> None:
    started = threading.Event()
    release = threading.Event()

    def call() -> str:
        started.set()
        release.wait(5)
        return "answer"

    later = InBackground(call)
    assert started.wait(5)  # under way before anyone asks
    release.set()
    assert later.result() == "answer"
    assert later.result() == "answer"  # asked twice, run once


def test_a_failure_is_raised_in_the_caller_where_it_asks_with_its_message() -> None:
    def call() -> None:
        raise ModuleFailure("HTTP GET http://127.0.0.1:1/ failed (ConnectionError): start the store")

    later = InBackground(call)
    time.sleep(0.01)  # failed already, raised only when asked
    with pytest.raises(ModuleFailure, match="start the store") as err:
        later.result()
    assert err.value.message.startswith("HTTP GET")
