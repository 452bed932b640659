"""One read per site file within a read-only module run (magento_read_snapshot), on a real LocalRunner."""

from __future__ import annotations

import subprocess

import pytest
from ansible.module_utils import magento_doctor as doctor
from ansible.module_utils.magento_common import ModuleFailure, SiteParams
from ansible.module_utils.magento_read_snapshot import ReadSnapshot, read_snapshot
from ansible.module_utils.magento_runners import LocalRunner, _bundle_script, _tar_members, runner_from_params
from ansible.module_utils.magento_site import Site


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


# -- the prefetch: the reads of a read-only run in one round trip (Docker), answered as the runner would --


def _store(tmp_path):
    """A Magento root with env.php, config.php, a vendor module with an ACL and one app/code module."""
    for rel, text in {
        "app/etc/env.php": "<?php return ['backend' => ['frontName' => 'admin']];",
        "app/etc/config.php": "<?php return ['modules' => ['Magento_Backend' => 1, 'Acme_Sync' => 1]];",
        "vendor/magento/module-backend/etc/acl.xml": "<config><acl/></config>",
        "vendor/magento/module-backend/etc/module.xml": '<config><module name="Magento_Backend"/></config>',
        "vendor/magento/module-store/etc/module.xml": '<config><module name="Magento_Store"/></config>',
        "app/code/Acme/Sync/etc/module.xml": '<config><module name="Acme_Sync"/></config>',
        "app/code/Acme/Sync/etc/webapi.xml": "<routes/>",
        "app/code/Acme/Sync/registration.php": "<?php",
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


class BundlingRunner(CountingRunner):
    """Bundles as DockerRunner.read_bundle does, with the same script, run by the local sh."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail

    def read_bundle(self, root, paths, module_rels):  # type: ignore[no-untyped-def]
        self.calls.append("read_bundle")
        if self.fail:
            raise ModuleFailure("the engine went away")
        proc = subprocess.run(
            ["sh", "-c", _bundle_script(module_rels), "sh", root, *paths], capture_output=True, check=False
        )
        assert proc.returncode == 0, proc.stderr
        found = sorted({line for line in proc.stderr.decode().splitlines() if line})
        return _tar_members(proc.stdout), found


def _reads(site: Site) -> tuple:
    return (
        site.env_text(),
        site.config_modules(),
        [(f.module, f.path, f.content) for f in site.acl_xml_files() + site.webapi_xml_files()],
        site.runner.file_hashes(site.module_dir("Acme_Sync")),
        site.runner.file_hashes(site.module_dir("Acme_Missing")),
    )


def test_a_prefetch_answers_every_read_as_the_runner_itself_does_in_one_round_trip(tmp_path) -> None:
    root = str(_store(tmp_path))
    plain = _reads(Site(ReadSnapshot(CountingRunner()), root))
    inner = BundlingRunner()
    site = Site(ReadSnapshot(inner), root)
    site.prefetch(["Acme_Sync", "Acme_Missing", "../../etc_x"])  # a name that is no module is not read
    assert _reads(site) == plain
    assert plain[2] and plain[3]  # the store above has an ACL file, a REST file and module files
    assert inner.calls == ["read_bundle"]


def test_a_failed_prefetch_leaves_each_read_to_the_runner(tmp_path) -> None:
    root = str(_store(tmp_path))
    plain = _reads(Site(ReadSnapshot(CountingRunner()), root))
    inner = BundlingRunner(fail=True)
    site = Site(ReadSnapshot(inner), root)
    site.prefetch(["Acme_Sync"])
    assert _reads(site) == plain
    assert inner.calls[0] == "read_bundle" and len(inner.calls) > 1


def test_a_read_only_command_keeps_what_was_read_and_a_command_forgets_it(tmp_path) -> None:
    root = str(_store(tmp_path))
    inner = BundlingRunner()
    snap = ReadSnapshot(inner)
    site = Site(snap, root)
    site.prefetch([])
    snap.run_read_only(["true"])
    site.env_text()
    assert inner.calls == ["read_bundle", "run true"]
    (tmp_path / "app/etc/env.php").write_text("<?php return [];")
    snap.run(["true"])
    assert site.env_text() == "<?php return [];"


def test_no_prefetch_where_the_runner_reads_locally(tmp_path) -> None:
    inner = CountingRunner()  # LocalRunner: each read is a file read, nothing to bundle
    Site(ReadSnapshot(inner), str(_store(tmp_path))).prefetch(["Acme_Sync"])
    Site(inner, str(tmp_path)).prefetch(["Acme_Sync"])  # outside a snapshot: nothing kept, nothing read
    assert inner.calls == []
