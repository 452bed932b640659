"""One read of each site file per read-only module run.

Public API (stable):
    with read_snapshot(): ...        runners made inside (runner_from_params) are shared and read-through
    @read_snapshot()                 the same for every call of a function
    shared_runner(key, make) -> Runner   make() outside a snapshot; inside, one ReadSnapshot per key
    class ReadSnapshot(runner)           read_file, read_files, glob, file_hashes, exists remembered;
                                         run, write_files, remove_tree forget everything, then delegate
        memo(key, compute, settle=True)  any other read (env.php's reading) remembered too; settle=False
                                         does not wait for a prefetch
        prefetch(fetch)                  fetch() -> {key: value} runs in the background: many reads in
                                         one round trip; every read waits for it, a failed one is ignored
        run_read_only(argv, ...)         a command that reads only (PHP reading env.php): remembered reads
                                         stay, and it may run while a prefetch is under way
        file_key(path), hashes_key(dir)  the keys read_file and file_hashes remember their answers under

Why: magento_site_info reads config.php five times, env.php twice and the ACL tree twice (the declaration,
the plan, the helper, the handshake check each make their own Site); through Docker each read is a
70-130 ms round trip. Within one snapshot a file is read once, and every part of the run sees the same
state of the site. A prefetch makes the reads a run is known to need one round trip (magento_site_info:
env.php, config.php, the ACL and REST trees and the module folders in one tar), while env.php alone is
read beside it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

_ACTIVE: dict[Any, ReadSnapshot] | None = None


class ReadSnapshot:
    """A runner whose reads are remembered until something runs or writes on the site."""

    def __init__(self, runner: Any) -> None:
        self.inner = runner
        self._memo: dict[Any, Any] = {}
        self._pending: threading.Thread | None = None
        self._fetched: dict[Any, Any] = {}

    @staticmethod
    def file_key(path: str) -> Any:
        return ("read_file", path)

    @staticmethod
    def hashes_key(directory: str) -> Any:
        return ("file_hashes", directory)

    def prefetch(self, fetch: Callable[[], dict[Any, Any]]) -> None:
        self._settle()

        def target() -> None:
            try:
                self._fetched = fetch()
            except Exception:  # only a shortcut: each read then asks the site itself
                self._fetched = {}

        self._pending = threading.Thread(target=target, daemon=True)
        self._pending.start()

    def _settle(self) -> None:
        if self._pending is not None:
            self._pending.join()
            self._pending = None
            for key, value in self._fetched.items():
                self._memo.setdefault(key, value)
            self._fetched = {}

    def memo(self, key: Any, compute: Callable[[], T], settle: bool = True) -> T:
        """settle=False: a read no prefetch answers, which may run while one is under way."""
        if settle:
            self._settle()
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def forget(self) -> None:
        self._settle()
        self._memo.clear()

    # Reads: callers get their own copy of a list or dict, so one cannot change what the next one sees.
    def read_file(self, path: str) -> bytes | None:
        return self.memo(self.file_key(path), lambda: self.inner.read_file(path))

    def read_files(self, root: str, rels: list[str]) -> dict[str, bytes]:
        return dict(self.memo(("read_files", root, tuple(rels)), lambda: self.inner.read_files(root, rels)))

    def glob(self, root: str, patterns: list[str]) -> list[str]:
        return list(self.memo(("glob", root, tuple(patterns)), lambda: self.inner.glob(root, patterns)))

    def file_hashes(self, directory: str) -> dict[str, str]:
        return dict(self.memo(self.hashes_key(directory), lambda: self.inner.file_hashes(directory)))

    def exists(self, path: str) -> bool:
        return self.memo(("exists", path), lambda: self.inner.exists(path))

    # A command or a write may change any file: nothing read before it is trusted after it.
    def _changing(self, call: Callable[[], T]) -> T:
        self.forget()
        try:
            return call()
        finally:
            self.forget()

    def run(self, argv: list[str], cwd: str | None = None, timeout: int = 60, user: str | None = None) -> Any:
        return self._changing(lambda: self.inner.run(argv, cwd=cwd, timeout=timeout, user=user))

    def run_read_only(
        self, argv: list[str], cwd: str | None = None, timeout: int = 60, user: str | None = None
    ) -> Any:
        return self.inner.run(argv, cwd=cwd, timeout=timeout, user=user)

    def write_files(
        self, dest_dir: str, files: dict[str, bytes], mode: int = 0o644, owner: str | None = None
    ) -> None:
        self._changing(lambda: self.inner.write_files(dest_dir, files, mode=mode, owner=owner))

    def remove_tree(self, path: str) -> None:
        self._changing(lambda: self.inner.remove_tree(path))


@contextmanager
def read_snapshot() -> Iterator[None]:
    global _ACTIVE
    outer = _ACTIVE
    if outer is None:
        _ACTIVE = {}
    try:
        yield
    finally:
        if outer is None:
            _ACTIVE = None


def shared_runner(key: Any, make: Callable[[], Any]) -> Any:
    if _ACTIVE is None:
        return make()
    if key not in _ACTIVE:
        _ACTIVE[key] = ReadSnapshot(make())
    return _ACTIVE[key]
