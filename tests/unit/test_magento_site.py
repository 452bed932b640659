"""Reaching a site's files and commands: LocalRunner for real in a tmp dir, DockerRunner on a fake client."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile

import docker.errors
import pytest
from ansible.module_utils.magento_common import ModuleFailure, SiteParams
from ansible.module_utils.magento_runners import DockerRunner, LocalRunner, runner_from_params
from ansible.module_utils.magento_site import Site

import docker


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- LocalRunner ---------------------------------------------------------------------------------------


def test_local_run_returns_rc_and_both_streams(tmp_path) -> None:
    res = LocalRunner().run(["sh", "-c", "pwd; echo oops >&2; exit 3"], cwd=str(tmp_path))
    assert (res.rc, res.stdout.strip(), res.stderr.strip()) == (3, str(tmp_path), "oops")
    assert res.seconds >= 0


def test_local_run_past_its_timeout_fails_naming_the_timeout_and_the_fix() -> None:
    with pytest.raises(ModuleFailure) as err:
        LocalRunner().run(["sleep", "5"], timeout=1)
    assert "within 1 s" in err.value.message
    assert "raise the timeout option" in err.value.message
    assert err.value.details == {"timed_out": True}


def test_local_run_of_a_missing_program_names_magento_root_and_cli_command(tmp_path) -> None:
    with pytest.raises(ModuleFailure) as err:
        LocalRunner().run(["bin/magento", "cache:flush"], cwd=str(tmp_path))
    assert "'bin/magento'" in err.value.message
    assert "magento_root" in err.value.message and "cli_command" in err.value.message


def test_local_read_file_gives_bytes_or_none_when_absent(tmp_path) -> None:
    (tmp_path / "env.php").write_bytes(b"<?php return [];")
    runner = LocalRunner()
    assert runner.read_file(str(tmp_path / "env.php")) == b"<?php return [];"
    assert runner.read_file(str(tmp_path / "missing.php")) is None


def test_local_write_files_creates_folders_sets_the_mode_and_replaces(tmp_path) -> None:
    runner = LocalRunner()
    dest = tmp_path / "app" / "code" / "Acme" / "Sync"
    runner.write_files(str(dest), {"etc/module.xml": b"one", "registration.php": b"<?php"}, mode=0o600)
    assert (dest / "etc" / "module.xml").read_bytes() == b"one"
    assert stat.S_IMODE(os.stat(dest / "etc" / "module.xml").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(dest / "registration.php").st_mode) == 0o600

    runner.write_files(str(dest), {"etc/module.xml": b"two"})
    assert (dest / "etc" / "module.xml").read_bytes() == b"two"
    assert stat.S_IMODE(os.stat(dest / "etc" / "module.xml").st_mode) == 0o644
    # Atomic writes leave no temporary files behind.
    assert sorted(os.listdir(dest / "etc")) == ["module.xml"]


def test_local_file_hashes_are_relative_sha256_and_empty_when_absent(tmp_path) -> None:
    (tmp_path / "m" / "etc").mkdir(parents=True)
    (tmp_path / "m" / "etc" / "module.xml").write_bytes(b"x")
    (tmp_path / "m" / "registration.php").write_bytes(b"y")
    os.symlink(tmp_path / "m" / "registration.php", tmp_path / "m" / "link.php")
    runner = LocalRunner()
    assert runner.file_hashes(str(tmp_path / "m")) == {
        "etc/module.xml": sha(b"x"),
        "registration.php": sha(b"y"),
    }
    assert runner.file_hashes(str(tmp_path / "nothing")) == {}


def test_local_remove_tree_removes_folders_files_and_links_but_not_link_targets(tmp_path) -> None:
    runner = LocalRunner()
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "sub" / "f").write_bytes(b"1")
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "f").write_bytes(b"2")
    os.symlink(tmp_path / "keep", tmp_path / "link")
    (tmp_path / "file").write_bytes(b"3")

    for name in ("d", "link", "file", "absent"):
        runner.remove_tree(str(tmp_path / name))

    assert sorted(os.listdir(tmp_path)) == ["keep"]
    assert (tmp_path / "keep" / "f").read_bytes() == b"2"
    assert not runner.exists(str(tmp_path / "d"))
    assert runner.exists(str(tmp_path / "keep"))


def test_local_glob_lists_matches_relative_to_root_sorted(tmp_path) -> None:
    for rel in ("app/code/B/M/etc/acl.xml", "app/code/A/M/etc/acl.xml", "vendor/v/m/etc/acl.xml"):
        (tmp_path / rel).parent.mkdir(parents=True)
        (tmp_path / rel).write_bytes(b"<acl/>")
    found = LocalRunner().glob(str(tmp_path), ["vendor/*/*/etc/acl.xml", "app/code/*/*/etc/acl.xml"])
    assert found == ["app/code/A/M/etc/acl.xml", "app/code/B/M/etc/acl.xml", "vendor/v/m/etc/acl.xml"]


# -- Site on a local tree ------------------------------------------------------------------------------


def test_site_without_env_php_names_magento_root(tmp_path) -> None:
    site = Site(LocalRunner(), str(tmp_path))
    with pytest.raises(ModuleFailure) as err:
        site.env()
    assert str(tmp_path / "app/etc/env.php") in err.value.message
    assert "set magento_root" in err.value.message


def test_site_acl_files_come_only_from_enabled_modules(tmp_path) -> None:
    (tmp_path / "app/etc").mkdir(parents=True)
    (tmp_path / "app/etc/config.php").write_text(
        "<?php return ['modules' => ['Acme_On' => 1, 'Acme_Off' => 0, 'Magento_Sales' => 1]];"
    )
    for rel, name in (
        ("app/code/Acme/On", "Acme_On"),
        ("app/code/Acme/Off", "Acme_Off"),
        ("vendor/magento/module-sales", "Magento_Sales"),
    ):
        (tmp_path / rel / "etc").mkdir(parents=True)
        (tmp_path / rel / "etc/acl.xml").write_text("<config/>")
        (tmp_path / rel / "etc/module.xml").write_text(f'<config><module name="{name}"/></config>')
    files = Site(LocalRunner(), str(tmp_path)).acl_xml_files()
    assert [(f.module, f.path) for f in files] == [
        ("Acme_On", "app/code/Acme/On/etc/acl.xml"),
        ("Magento_Sales", "vendor/magento/module-sales/etc/acl.xml"),
    ]


def test_docker_runner_without_container_says_to_set_it() -> None:
    with pytest.raises(ModuleFailure) as err:
        runner_from_params(SiteParams(runner="docker", container=None))
    assert "set container" in err.value.message


# -- DockerRunner on a fake Docker client --------------------------------------------------------------


def tar_of(entries: dict[str, bytes | None]) -> bytes:
    """A tar archive: name → content (None: a folder)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, content in entries.items():
            info = tarfile.TarInfo(name)
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


class FakeContainer:
    """Files as {absolute path: bytes}; archives shaped like the Docker SDK's (stream of chunks, stat)."""

    def __init__(self, status: str = "running") -> None:
        self.id = "c0ffee"
        self.status = status
        self.files: dict[str, bytes] = {}
        self.put: list[tuple[str, bytes]] = []
        self.put_ok = True

    def get_archive(self, path: str):
        base = os.path.basename(path)
        if path in self.files:
            data = tar_of({base: self.files[path]})
        else:
            inside = {p[len(path) + 1 :]: c for p, c in self.files.items() if p.startswith(path + "/")}
            if not inside:
                raise docker.errors.NotFound(f"Could not find the file {path} in container")
            data = tar_of({base: None, **{f"{base}/{rel}": c for rel, c in inside.items()}})
        return iter([data[:512], data[512:]]), {"name": base}

    def put_archive(self, path: str, data: bytes) -> bool:
        self.put.append((path, data))
        return self.put_ok


class FakeApi:
    """exec_create/exec_start/exec_inspect; ``reply(argv)`` gives (rc, stdout, stderr) or raises."""

    def __init__(self) -> None:
        self.execs: list[dict] = []
        self.reply = lambda argv: (0, b"", b"")

    def exec_create(self, container_id, cmd, workdir=None, user="", stdout=True, stderr=True):
        self.execs.append({"container": container_id, "cmd": cmd, "workdir": workdir, "user": user})
        return {"Id": f"exec{len(self.execs)}"}

    def exec_start(self, exec_id, demux=False):
        assert demux is True
        rc, out, err = self.reply(self.execs[-1]["cmd"])
        self.rc = rc
        return out, err

    def exec_inspect(self, exec_id):
        return {"ExitCode": self.rc}


class FakeContainers:
    def __init__(self, known: dict[str, FakeContainer]) -> None:
        self.known = known

    def get(self, name: str) -> FakeContainer:
        if name not in self.known:
            raise docker.errors.NotFound(f"No such container: {name}")
        return self.known[name]


class FakeClient:
    def __init__(self, known: dict[str, FakeContainer]) -> None:
        self.containers = FakeContainers(known)
        self.api = FakeApi()


@pytest.fixture
def app(monkeypatch) -> FakeContainer:
    container = FakeContainer()
    client = FakeClient({"reintegrate-app": container})
    monkeypatch.setattr(docker, "from_env", lambda **kw: client)
    container.client = client
    return container


def test_docker_missing_container_names_it_and_how_to_start_the_stack(monkeypatch) -> None:
    monkeypatch.setattr(docker, "from_env", lambda **kw: FakeClient({}))
    with pytest.raises(ModuleFailure) as err:
        DockerRunner("reintegrate-app")
    assert "'reintegrate-app' not found" in err.value.message
    assert "ansible-playbook playbooks/up.yml" in err.value.message


def test_docker_stopped_container_says_so_and_how_to_start_it(monkeypatch) -> None:
    monkeypatch.setattr(docker, "from_env", lambda **kw: FakeClient({"app": FakeContainer("exited")}))
    with pytest.raises(ModuleFailure) as err:
        DockerRunner("app")
    assert "'app' is exited, not running" in err.value.message
    assert "playbooks/up.yml" in err.value.message


def test_docker_unreachable_engine_names_the_fix(monkeypatch) -> None:
    def refuse(**kw):
        raise docker.errors.DockerException("Error while fetching server API version")

    monkeypatch.setattr(docker, "from_env", refuse)
    with pytest.raises(ModuleFailure) as err:
        DockerRunner("app")
    assert "cannot reach the Docker engine (DockerException)" in err.value.message
    assert "set docker_host" in err.value.message


def test_docker_host_option_is_the_engine_used(monkeypatch) -> None:
    seen = {}

    def client(base_url=None, timeout=None):
        seen["base_url"] = base_url
        return FakeClient({"app": FakeContainer()})

    monkeypatch.setattr(docker, "DockerClient", client)
    monkeypatch.setattr(docker, "from_env", lambda **kw: pytest.fail("DOCKER_HOST used despite docker_host"))
    DockerRunner("app", docker_host="tcp://127.0.0.1:2375")
    assert seen["base_url"] == "tcp://127.0.0.1:2375"


def test_docker_run_bounds_the_command_with_timeout_and_returns_its_result(app) -> None:
    app.client.api.reply = lambda argv: (3, b"out\xff", b"err")
    res = DockerRunner("reintegrate-app").run(["bin/magento", "cache:flush"], cwd="/var/www/html", timeout=45)
    assert (res.rc, res.stdout, res.stderr) == (3, "out\ufffd", "err")
    assert app.client.api.execs == [
        {
            "container": "c0ffee",
            "cmd": ["timeout", "--kill-after=10", "45", "bin/magento", "cache:flush"],
            "workdir": "/var/www/html",
            "user": "",
        }
    ]


def test_docker_run_killed_by_timeout_fails_naming_the_timeout(app) -> None:
    app.client.api.reply = lambda argv: (124, b"", b"")
    with pytest.raises(ModuleFailure) as err:
        DockerRunner("reintegrate-app").run(["bin/magento", "setup:upgrade"], timeout=7)
    assert "within 7 s" in err.value.message and "raise the timeout option" in err.value.message
    assert err.value.details["timed_out"] is True


def test_docker_exec_error_names_the_container(app) -> None:
    def broken(argv):
        raise docker.errors.APIError("container is restarting")

    app.client.api.reply = broken
    with pytest.raises(ModuleFailure) as err:
        DockerRunner("reintegrate-app").run(["true"])
    assert "docker exec in 'reintegrate-app' failed" in err.value.message
    assert "playbooks/up.yml" in err.value.message


def test_docker_read_file_gives_bytes_or_none_when_absent(app) -> None:
    app.files["/var/www/html/app/etc/env.php"] = b"<?php return [];"
    runner = DockerRunner("reintegrate-app")
    assert runner.read_file("/var/www/html/app/etc/env.php") == b"<?php return [];"
    assert runner.read_file("/var/www/html/app/etc/missing.php") is None


def test_docker_file_hashes_are_relative_to_the_folder_and_empty_when_absent(app) -> None:
    app.files["/m/Sync/etc/module.xml"] = b"x"
    app.files["/m/Sync/registration.php"] = b"y"
    runner = DockerRunner("reintegrate-app")
    assert runner.file_hashes("/m/Sync/") == {"etc/module.xml": sha(b"x"), "registration.php": sha(b"y")}
    assert runner.file_hashes("/m/Other") == {}


def test_docker_write_files_sends_one_archive_with_mode_owner_and_folders(app) -> None:
    DockerRunner("reintegrate-app").write_files(
        "/var/www/html/app/code/Acme/Sync",
        {"etc/integration/api.xml": b"<a/>", "registration.php": b"<?php"},
        mode=0o640,
        owner="33:34",
    )
    assert app.client.api.execs[0]["cmd"][-3:] == ["mkdir", "-p", "/var/www/html/app/code/Acme/Sync"]
    [(dest, data)] = app.put
    assert dest == "/var/www/html/app/code/Acme/Sync"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert tar.extractfile("etc/integration/api.xml").read() == b"<a/>"
    assert sorted(members) == ["etc", "etc/integration", "etc/integration/api.xml", "registration.php"]
    assert members["etc/integration"].isdir() and members["etc/integration"].mode == 0o755
    assert members["registration.php"].mode == 0o640
    assert {(m.uid, m.gid) for m in members.values()} == {(33, 34)}


def test_docker_write_files_failures_are_reported(app) -> None:
    runner = DockerRunner("reintegrate-app")
    app.put_ok = False
    with pytest.raises(ModuleFailure) as err:
        runner.write_files("/dest", {"f": b"1"})
    assert "writing files to /dest in 'reintegrate-app' failed" in err.value.message

    app.client.api.reply = lambda argv: (1, b"", b"mkdir: Permission denied\n")
    with pytest.raises(ModuleFailure) as err:
        runner.write_files("/dest", {"f": b"1"})
    assert err.value.message == "cannot create /dest in 'reintegrate-app': mkdir: Permission denied"


def test_docker_remove_tree_and_exists_run_in_the_container(app) -> None:
    runner = DockerRunner("reintegrate-app")
    app.client.api.reply = lambda argv: (0 if argv[-1] == "/present" else 1, b"", b"")
    assert runner.exists("/present") and not runner.exists("/absent")
    app.client.api.reply = lambda argv: (0, b"", b"")
    runner.remove_tree("/var/www/html/app/code/Acme/Sync")
    assert app.client.api.execs[-1]["cmd"][-4:] == ["rm", "-rf", "--", "/var/www/html/app/code/Acme/Sync"]
    app.client.api.reply = lambda argv: (1, b"", b"rm: Device or resource busy\n")
    with pytest.raises(ModuleFailure) as err:
        runner.remove_tree("/x")
    assert "cannot remove /x in 'reintegrate-app': rm: Device or resource busy" in err.value.message
