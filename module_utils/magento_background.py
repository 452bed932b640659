"""A call started now in a thread, whose answer (or exception) is taken later where it is needed.

The preflight waits on the store several times (an HTTP GET of the storefront, a process started as the
CLI user, the Docker read of its files): calls that need nothing from one another overlap, and each
failure is still raised at the point the sequential code raised it.

Public API (stable):
    class InBackground(call)
        result() -> value      waits; re-raises what the call raised, in the caller's thread
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")


class InBackground(Generic[T]):
    def __init__(self, call: Callable[[], T]) -> None:
        self._box: dict[str, Any] = {}

        def target() -> None:
            try:
                self._box["value"] = call()
            except BaseException as exc:  # handed to the caller, which decides
                self._box["error"] = exc

        # Daemon: a run that fails before it asks for the answer does not wait for it.
        self._thread = threading.Thread(target=target, daemon=True)
        self._thread.start()

    def result(self) -> T:
        self._thread.join()
        if "error" in self._box:
            raise self._box["error"]
        return self._box["value"]
