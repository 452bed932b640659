"""magento_targets against a real AWS API server: moto's server mode, started by these tests on a free
127.0.0.1 port with IAM enforced, the SDK pointed at it through endpoint_url. The signed probe goes to a
fake store that checks the HMAC-SHA256 signature, and that looks at the target while a probe is in flight.

Each target: first delivery, a converged run writes nothing, a rotation keeps the previous version current
until the probe with the read-back values passed, a failed probe leaves the previous version current (and
says so, without a value), the rerun reuses the written version; the preflight (operation prove) stops on
a denied principal and on an unreachable endpoint; check mode and --diff name fields, never values.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils.magento_common import ModuleFailure
from ansible.module_utils.magento_credentials import SECRET_FIELDS, Credentials, write_credentials
from ansible.module_utils.magento_targets import run_target, scrub
from ansible.module_utils.magento_targets_options import target_options
from test_targets_support import MotoServer, SignedStore, moto_or_fail, port_closed

PROJECT = Path(__file__).resolve().parents[2]
VAULT = Path(sys.executable).parent / "ansible-vault"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = moto_or_fail()
    yield server
    server.close()


@pytest.fixture
def aws(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    for key, value in moto.env("deployer").items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto


@pytest.fixture
def store() -> Iterator[SignedStore]:
    server = SignedStore()
    yield server
    server.close()


def creds_for(store: SignedStore, when: str) -> Credentials:
    return Credentials(
        base_url=store.base_url,
        consumer_key=secrets.token_hex(16),
        consumer_secret=secrets.token_hex(16),
        access_token=secrets.token_hex(16),
        access_token_secret=secrets.token_hex(16),
        obtained_at=when,
    )


def run(params: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return run_target(target_options(params), **kwargs)


def assert_quiet(text: str, *creds: Credentials) -> None:
    for c in creds:
        for name in SECRET_FIELDS:
            assert getattr(c, name) not in text, f"{name} appears"


def deliver(src: Path, creds: Credentials, target: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    write_credentials(str(src), creds)
    return run({**target, "operation": "deliver", "src": str(src)}, **kwargs)


def failure(src: Path, creds: Credentials, target: dict[str, Any]) -> ModuleFailure:
    write_credentials(str(src), creds)
    with pytest.raises(ModuleFailure) as caught:
        run({**target, "operation": "deliver", "src": str(src)})
    return caught.value


# ---------------------------------------------------------------- Secrets Manager
def sm_state(moto: MotoServer, name: str) -> dict[str, Any]:
    sm = moto.client("secretsmanager")
    stages = sm.describe_secret(SecretId=name).get("VersionIdsToStages", {})
    current = next((v for v, s in stages.items() if "AWSCURRENT" in s), None)
    # VersionStage named: moto's GetSecretValue without it keeps answering the first AWSCURRENT version
    # after UpdateSecretVersionStage moved the stage (AWS answers AWSCURRENT, whichever version has it).
    reply = sm.get_secret_value(SecretId=name, VersionStage="AWSCURRENT") if current else None
    value = json.loads(reply["SecretString"]) if reply else None
    return {"stages": stages, "current": current, "value": value}


def test_secretsmanager_delivery_convergence_and_rotation_without_a_gap(
    aws: MotoServer, store: SignedStore, tmp_path: Path
) -> None:
    name = f"reintegrate/sm-{secrets.token_hex(4)}"
    target = {"target": "aws_secretsmanager", "name": name, "endpoint_url": aws.endpoint}
    src = tmp_path / "creds.json"
    first = creds_for(store, "2025-01-01T00:00:00Z")
    store.valid = [asdict(first)]

    proved = run({**target, "operation": "prove"})
    assert proved["changed"] and "CreateSecret allowed" in proved["proofs"][-1]
    assert sm_state(aws, name)["stages"] == {}  # created without a value

    out = deliver(src, first, target)
    assert out["changed"] and out["probe"]["status"] == 200 and not out["rotated"]
    state = sm_state(aws, name)
    assert state["value"] == asdict(first) and out["version"] == state["current"]
    assert state["stages"] == {state["current"]: ["AWSCURRENT"]}

    again = deliver(src, first, target)
    assert not again["changed"] and again["changed_fields"] == [] and again["probe"]["status"] is None
    assert sm_state(aws, name)["stages"] == state["stages"]

    # Rotation: while the probe with the new version is in flight, readers still get the old one.
    second = creds_for(store, "2025-01-02T00:00:00Z")
    seen: list[dict[str, Any]] = []
    store.valid, store.hook = [asdict(second)], lambda: seen.append(sm_state(aws, name))
    rotated = deliver(src, second, target)
    assert seen and all(s["value"] == asdict(first) for s in seen)
    assert any("AWSPENDING" in stages for stages in seen[0]["stages"].values())
    assert rotated["rotated"] and rotated["previous_version"] == state["current"]
    assert "base_url" not in rotated["changed_fields"] and "access_token" in rotated["changed_fields"]
    after = sm_state(aws, name)
    assert after["value"] == asdict(second)
    assert after["stages"][state["current"]] == ["AWSPREVIOUS"]
    assert after["stages"][rotated["version"]] == ["AWSCURRENT"]

    # A probe that fails leaves AWSCURRENT on the previous version and says so.
    third = creds_for(store, "2025-01-03T00:00:00Z")
    store.valid, store.hook = [], None
    exc = failure(src, third, target)
    assert f"AWSCURRENT still points at version {rotated['version']}" in exc.message
    assert "carries only AWSPENDING" in exc.message and str(src) in exc.message
    assert_quiet(exc.message + json.dumps(exc.details), first, second, third)
    failed = sm_state(aws, name)
    assert failed["value"] == asdict(second)
    pending = exc.details["staged_version"]
    assert failed["stages"][pending] == ["AWSPENDING"]

    # The rerun proves the pending version again, writes nothing new, and moves AWSCURRENT.
    store.valid = [asdict(third)]
    retry = deliver(src, third, target)
    assert retry["staged_reused"] and retry["version"] == pending
    final = sm_state(aws, name)
    assert final["value"] == asdict(third) and set(final["stages"]) == set(failed["stages"])
    assert final["stages"][pending] == ["AWSCURRENT"]


# ---------------------------------------------------------------- SSM
def ssm_labelled(moto: MotoServer, names: list[str], label: str = "current") -> dict[str, str]:
    reply = moto.client("ssm").get_parameters(Names=[f"{n}:{label}" for n in names], WithDecryption=True)
    return {p["Name"]: p["Value"] for p in reply["Parameters"]}


def ssm_history(moto: MotoServer, names: list[str]) -> dict[str, int]:
    ssm = moto.client("ssm")
    return {n: len(ssm.get_parameter_history(Name=n)["Parameters"]) for n in names}


@pytest.mark.parametrize("layout", ["fields", "json"])
def test_ssm_delivery_convergence_and_rotation_under_the_label(
    aws: MotoServer, store: SignedStore, tmp_path: Path, layout: str
) -> None:
    base = f"/reintegrate/ssm-{secrets.token_hex(4)}"
    kms = aws.client("kms").create_key()["KeyMetadata"]["KeyId"]
    if layout == "fields":
        target = {"target": "aws_ssm", "prefix": base, "kms_key_id": kms}
        names = [f"{base}/{f}" for f in ("base_url", "consumer_key", "consumer_secret", "access_token")]
        names += [f"{base}/access_token_secret", f"{base}/obtained_at"]
    else:
        target = {"target": "aws_ssm", "layout": "json", "name": base, "kms_key_id": kms}
        names = [base]
    target["endpoint_url"] = aws.endpoint

    def view() -> dict[str, Any] | None:
        values = ssm_labelled(aws, names)
        if len(values) < len(names):
            return None
        if layout == "json":
            return json.loads(values[base])
        return {n.rsplit("/", 1)[1]: v for n, v in values.items()}

    src = tmp_path / "creds.json"
    first = creds_for(store, "2025-01-01T00:00:00Z")
    store.valid = [asdict(first)]
    assert run({**target, "operation": "prove"})["changed"]  # placeholders, unlabelled
    assert view() is None
    out = deliver(src, first, target)
    assert out["changed"] and out["probe"]["status"] == 200 and view() == asdict(first)
    history = ssm_history(aws, names)

    assert not deliver(src, first, target)["changed"]
    assert ssm_history(aws, names) == history

    second = creds_for(store, "2025-01-02T00:00:00Z")
    seen: list[Any] = []
    store.valid, store.hook = [asdict(second)], lambda: seen.append(view())
    rotated = deliver(src, second, target)
    assert seen == [asdict(first)] and rotated["rotated"] and view() == asdict(second)

    third = creds_for(store, "2025-01-03T00:00:00Z")
    store.valid, store.hook = [], None
    exc = failure(src, third, target)
    assert "The label current still marks the previous credentials" in exc.message
    assert_quiet(exc.message + json.dumps(exc.details), first, second, third)
    assert view() == asdict(second)
    written = ssm_history(aws, names)

    store.valid = [asdict(third)]
    retry = deliver(src, third, target)
    assert retry["staged_reused"] and view() == asdict(third)
    assert ssm_history(aws, names) == written  # nothing written again, only the label moved


# ---------------------------------------------------------------- Ansible Vault file
def vault_view(path: Path, vault_id: str) -> str:
    proc = subprocess.run(
        [str(VAULT), "view", f"--vault-id={vault_id}", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return proc.stdout


def test_vault_file_delivery_convergence_and_rotation(store: SignedStore, tmp_path: Path) -> None:
    import yaml

    password = tmp_path / "vault-pass"
    password.write_text(secrets.token_hex(12) + "\n")
    password.chmod(0o600)
    vault_id = f"prod@{password}"
    path = tmp_path / "private" / "magento.vault.yml"
    target = {"target": "vault_file", "path": str(path), "vault_id": [vault_id]}
    src = tmp_path / "creds.json"
    first = creds_for(store, "2025-01-01T00:00:00Z")
    store.valid = [asdict(first)]

    proved = run({**target, "operation": "prove"})
    assert not proved["changed"] and not path.exists()
    out = deliver(src, first, target)
    assert out["changed"] and out["probe"]["status"] == 200
    assert path.read_text().startswith("$ANSIBLE_VAULT;1.2;AES256;prod")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert yaml.safe_load(vault_view(path, vault_id)) == asdict(first)
    blob = path.read_bytes()

    assert not deliver(src, first, target)["changed"] and path.read_bytes() == blob

    second = creds_for(store, "2025-01-02T00:00:00Z")
    store.valid = []
    exc = failure(src, second, target)
    assert f"{path} keeps the previous credentials" in exc.message and ".pending" in exc.message
    assert path.read_bytes() == blob
    pending = Path(str(path) + ".pending")
    assert stat.S_IMODE(pending.stat().st_mode) == 0o600
    assert_quiet(exc.message, first, second)

    store.valid = [asdict(second)]
    assert deliver(src, second, target)["rotated"]
    assert yaml.safe_load(vault_view(path, vault_id)) == asdict(second) and not pending.exists()


def test_vault_password_given_as_a_value_reaches_ansible_vault_only_through_a_private_file(
    store: SignedStore, tmp_path: Path
) -> None:
    password = secrets.token_hex(12)
    path = tmp_path / "v.json"
    creds = creds_for(store, "2025-01-01T00:00:00Z")
    store.valid = [asdict(creds)]
    target = {"target": "vault_file", "path": str(path), "format": "json", "vault_password": password}
    tmp = tempfile.gettempdir()
    before = set(os.listdir(tmp))
    out = deliver(tmp_path / "c.json", creds, target)
    assert out["changed"] and out["probe"]["status"] == 200
    leftovers = {p for p in set(os.listdir(tmp)) - before if "reintegrate-vault" in p}
    assert leftovers == set()
    secret_file = tmp_path / "pw"
    secret_file.write_text(password)
    assert json.loads(vault_view(path, f"default@{secret_file}")) == asdict(creds)


def test_vault_file_with_the_wrong_password_stops_in_the_preflight(
    store: SignedStore, tmp_path: Path
) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text("right-one\n")
    bad.write_text("wrong-one\n")
    path = tmp_path / "v.yml"
    creds = creds_for(store, "2025-01-01T00:00:00Z")
    store.valid = [asdict(creds)]
    deliver(
        tmp_path / "c.json", creds, {"target": "vault_file", "path": str(path), "vault_id": [f"a@{good}"]}
    )
    with pytest.raises(ModuleFailure) as caught:
        run({"target": "vault_file", "operation": "prove", "path": str(path), "vault_id": [f"a@{bad}"]})
    assert (
        "ansible-vault could not decrypt" in caught.value.message and "fix vault_id" in caught.value.message
    )


# ---------------------------------------------------------------- preflight failures
@pytest.mark.parametrize(
    ("target", "action"),
    [
        ({"target": "aws_secretsmanager", "name": "reintegrate/denied"}, "secretsmanager:PutSecretValue"),
        ({"target": "aws_ssm", "prefix": "/reintegrate/denied"}, "ssm:PutParameter"),
    ],
)
def test_preflight_stops_on_a_principal_that_may_read_but_not_write(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch, target: dict[str, Any], action: str
) -> None:
    for key, value in moto.env("reader").items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ModuleFailure) as caught:
        run({**target, "operation": "prove", "endpoint_url": moto.endpoint})
    message = caught.value.message
    assert f"AWS denied {action}" in message and f"grant {action}" in message and "README.md" in message
    assert caught.value.details["changed"] is False


def test_preflight_stops_on_an_unreachable_endpoint_within_seconds(aws: MotoServer) -> None:
    started = time.monotonic()
    with pytest.raises(ModuleFailure) as caught:
        run(
            {
                "target": "aws_secretsmanager",
                "operation": "prove",
                "name": "x",
                "endpoint_url": port_closed(),
                "aws_timeout": 3,
            }
        )
    assert "cannot reach AWS secretsmanager" in caught.value.message
    assert time.monotonic() - started < 30


def test_check_mode_and_diff_name_the_fields_and_write_nothing(
    aws: MotoServer, store: SignedStore, tmp_path: Path
) -> None:
    name = f"reintegrate/check-{secrets.token_hex(4)}"
    target = {"target": "aws_secretsmanager", "name": name, "endpoint_url": aws.endpoint}
    src = tmp_path / "creds.json"
    checked = run({**target, "operation": "prove"}, check_mode=True)
    assert not checked["changed"] and "would create the secret" in checked["proofs"][-1]
    with pytest.raises(Exception, match="ResourceNotFound"):
        aws.client("secretsmanager").describe_secret(SecretId=name)
    old = creds_for(store, "2025-01-01T00:00:00Z")
    store.valid = [asdict(old)]
    run({**target, "operation": "prove"})
    deliver(src, old, target)
    stages = sm_state(aws, name)["stages"]
    new = creds_for(store, "2025-01-02T00:00:00Z")
    out = deliver(src, new, target, check_mode=True, want_diff=True)
    assert out["changed"] and sm_state(aws, name)["stages"] == stages
    assert "consumer_secret: (new secret)" in out["diff"]["after"]
    assert "consumer_secret: (secret)" in out["diff"]["before"]
    assert_quiet(json.dumps(out), old, new)
    replaced = run({**target, "operation": "deliver", "src": str(src), "src_replaced": True}, check_mode=True)
    assert replaced["changed_fields"] == [
        "consumer_key",
        "consumer_secret",
        "access_token",
        "access_token_secret",
        "obtained_at",
    ]


def test_export_writes_the_working_copy_unless_it_holds_newer_credentials(
    aws: MotoServer, store: SignedStore, tmp_path: Path
) -> None:
    name = f"reintegrate/export-{secrets.token_hex(4)}"
    target = {"target": "aws_secretsmanager", "name": name, "endpoint_url": aws.endpoint}
    stored = creds_for(store, "2025-01-02T00:00:00Z")
    store.valid = [asdict(stored)]
    run({**target, "operation": "prove"})
    deliver(tmp_path / "src.json", stored, target)
    copy = tmp_path / "work" / "copy.json"
    out = run({**target, "operation": "export", "export_to": str(copy)})
    assert out["exported"] and json.loads(copy.read_text()) == asdict(stored)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert not run({**target, "operation": "export", "export_to": str(copy)})["changed"]
    newer = creds_for(store, "2025-01-03T00:00:00Z")
    write_credentials(str(copy), newer)
    kept = run({**target, "operation": "export", "export_to": str(copy)})
    assert not kept["exported"] and "newer" in kept["reason"]
    older = creds_for(store, "2025-01-01T00:00:00Z")
    write_credentials(str(copy), older)
    assert run({**target, "operation": "export", "export_to": str(copy)})["exported"]


def test_scrub_masks_every_secret_value() -> None:
    creds = Credentials("http://x/", "ck-value", "cs-value", "at-value", "ats-value", "now")
    text = scrub("a ck-value b cs-value c at-value d ats-value e http://x/", creds)
    assert text == "a (consumer_key) b (consumer_secret) c (access_token) d (access_token_secret) e http://x/"


# ---------------------------------------------------------------- the module itself
SITECUSTOMIZE = """
import importlib.abc, sys

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("boto3", "botocore"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Blocker())
import ansible.module_utils
ansible.module_utils.__path__.append(%r)
"""


def test_missing_boto3_fails_before_anything_and_names_the_install(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE % str(PROJECT / "module_utils"))
    args = tmp_path / "args.json"
    args.write_text(
        json.dumps({"ANSIBLE_MODULE_ARGS": {"target": "aws_ssm", "operation": "prove", "prefix": "/x"}})
    )
    proc = subprocess.run(
        [sys.executable, str(PROJECT / "library" / "magento_credentials_target.py"), str(args)],
        env={**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    result = json.loads(proc.stdout)
    assert result["failed"] and result["changed"] is False and result["missing"] == ["boto3"]
    assert "boto3" in result["msg"] and "pip install -e .[aws]" in result["msg"]
    assert "Traceback" not in proc.stdout + proc.stderr


def test_module_documentation_matches_its_argument_spec() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "mct", PROJECT / "library" / "magento_credentials_target.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-doc"),
            "--json",
            "-M",
            "library",
            "magento_credentials_target",
        ],
        cwd=PROJECT,
        env={**os.environ, "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg")},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    doc = json.loads(proc.stdout)["magento_credentials_target"]["doc"]
    argspec = mod.argument_spec()
    assert set(doc["options"]) == set(argspec)
    for option, rules in argspec.items():
        for key in ("type", "default", "choices", "elements"):
            assert doc["options"][option].get(key) == rules.get(key), f"{option}.{key}"
        assert bool(doc["options"][option].get("required")) == bool(rules.get("required")), option
    assert argspec["vault_password"]["no_log"] is True
