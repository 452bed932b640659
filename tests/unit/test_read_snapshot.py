"""One read per site file within a read-only module run (magento_read_snapshot), on a real LocalRunner."""

from __future__ import annotations

import pytest
from ansible.module_utils import magento_doctor as doctor
from ansible.module_utils.magento_common import ModuleFailure, SiteParams
from ansible.module_utils.magento_read_snapshot import ReadSnapshot, read_snapshot
from ansible.module_utils.magento_site import LocalRunner, Site, runner_from_params


class CountingRunner(LocalRunner):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def read_file(self, path: str) -> bytes | None:
        self.calls.append(f"read_file {path}")
        return super().read_file(path)

    def glob(self, root: str, patterns: list[str]) -> list[str]:
        self.calls.append(f"glob {root}")
        return super().glob(root, patterns)

    def run(self, argv, cwd=None, timeout=60, user=None):  # type: ignore[no-untyped-def]
        self.calls.append("run " + argv[0])
        return super().run(argv, cwd=cwd, timeout=timeout, user=user)


def test_a_file_is_read_once_and_each_caller_gets_its_own_copy(tmp_path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.xml").write_bytes(b"one")
    inner = CountingRunner()
    snap = ReadSnapshot(inner)
    assert snap.read_file(str(tmp_path / "a" / "x.xml")) == b"one"
    assert snap.read_file(str(tmp_path / "a" / "x.xml")) == b"one"
    first = snap.glob(str(tmp_path), ["a/*.xml"])
    first.append("changed by the caller")
    assert snap.glob(str(tmp_path), ["a/*.xml"]) == ["a/x.xml"]
    assert inner.calls == [f"read_file {tmp_path}/a/x.xml", f"glob {tmp_path}"]


def test_a_command_or_a_write_makes_the_snapshot_read_again(tmp_path) -> None:
    path = tmp_path / "config.php"
    path.write_bytes(b"before")
    snap = ReadSnapshot(CountingRunner())
    assert snap.read_file(str(path)) == b"before"
    snap.run(["sh", "-c", f"printf after > {path}"])
    assert snap.read_file(str(path)) == b"after"
    snap.write_files(str(tmp_path), {"config.php": b"written"})
    assert snap.read_file(str(path)) == b"written"
    snap.remove_tree(str(path))
    assert snap.read_file(str(path)) is None


def test_runners_are_shared_only_inside_a_snapshot() -> None:
    params = SiteParams(runner="local")
    assert runner_from_params(params) is not runner_from_params(params)
    assert not isinstance(runner_from_params(params), ReadSnapshot)
    with read_snapshot():
        shared = runner_from_params(params)
        assert isinstance(shared, ReadSnapshot) and runner_from_params(params) is shared
        with read_snapshot():  # a nested snapshot is the same one
            assert runner_from_params(params) is shared
    assert not isinstance(runner_from_params(params), ReadSnapshot)


def test_env_php_is_evaluated_once_per_snapshot_by_every_site(tmp_path) -> None:
    (tmp_path / "app" / "etc").mkdir(parents=True)
    (tmp_path / "app" / "etc" / "env.php").write_text(
        "<?php return ['db' => ['connection' => ['default' => ['host' => 'db', 'dbname' => 'm', "
        "'username' => 'u', 'password' => 'p']]], 'backend' => ['frontName' => 'admin']];"
    )
    inner = CountingRunner()
    snap = ReadSnapshot(inner)
    first, second = Site(snap, str(tmp_path)), Site(snap, str(tmp_path))
    assert first.env().db_host == "db"
    calls = list(inner.calls)
    assert calls  # PHP ran, or the file was read (no PHP CLI here)
    assert second.env().db_host == "db" and second.env_reader == first.env_reader
    assert inner.calls == calls  # the second Site asked the site nothing


def test_the_site_report_runs_inside_one_snapshot(monkeypatch) -> None:
    seen: list[object] = []

    def site_from_params(params: SiteParams) -> Site:
        seen.append(runner_from_params(params))
        seen.append(runner_from_params(params))
        raise ModuleFailure("stop here")

    monkeypatch.setattr(doctor, "site_from_params", site_from_params)
    with pytest.raises(ModuleFailure):
        doctor.collect(SiteParams(runner="local"))
    assert isinstance(seen[0], ReadSnapshot) and seen[0] is seen[1]
    assert not isinstance(runner_from_params(SiteParams(runner="local")), ReadSnapshot)  # ended with the call
