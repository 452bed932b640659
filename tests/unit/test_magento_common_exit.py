"""exit_from: how every module hands its logic function's result to Ansible."""

from typing import Any

import pytest
from ansible.module_utils.magento_common import exit_from


class FakeModule:
    def __init__(self, diff: bool) -> None:
        self._diff = diff
        self.warned: list[str] = []
        self.exited: dict[str, Any] | None = None

    def warn(self, text: str) -> None:
        self.warned.append(text)

    def exit_json(self, **result: Any) -> None:
        self.exited = result


@pytest.mark.parametrize("diff", [True, False])
def test_warnings_go_through_warn_and_diff_only_under_diff_mode(diff: bool) -> None:
    module = FakeModule(diff)
    exit_from(module, {"changed": True, "warnings": ["a", "b"], "diff": {"before": "x", "after": ""}})
    assert module.warned == ["a", "b"]
    assert module.exited is not None and "warnings" not in module.exited
    assert ("diff" in module.exited) is diff
    assert module.exited["changed"] is True


def test_a_result_without_warnings_or_diff_passes_unchanged() -> None:
    module = FakeModule(diff=True)
    exit_from(module, {"changed": False, "rc": 0})
    assert module.warned == [] and module.exited == {"changed": False, "rc": 0}


class FailingModule(FakeModule):
    def fail_json(self, **result: Any) -> None:
        self.failed = result


@pytest.mark.parametrize("where", ["result", "details"])
def test_fail_from_sends_warnings_through_warn_not_fail_json(where: str) -> None:
    """A failed preflight carries the warnings it gathered; a "warnings" key in fail_json makes
    ansible-core 2.19 print "Passing warnings to exit_json or fail_json is deprecated"."""
    from ansible.module_utils.magento_common import ModuleFailure, fail_from

    module = FailingModule(diff=False)
    details = {"warnings": ["two-factor auth is on"]} if where == "details" else {}
    result = (
        {"warnings": ["two-factor auth is on"], "changed": False} if where == "result" else {"changed": False}
    )
    fail_from(module, ModuleFailure("cannot connect: start the DB", db_port=3306, **details), **result)
    assert module.warned == ["two-factor auth is on"]
    assert module.failed == {"msg": "cannot connect: start the DB", "changed": False, "db_port": 3306}
