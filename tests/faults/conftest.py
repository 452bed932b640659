"""Fixtures of the fault suite: one private stack per session, and the collector behind docs/reliability.md.

    private_stack   the PrivateStack (faults_support.py): DB 127.0.0.1:13392, store 127.0.0.1:18092, both
                    integrations ("Faults Sync" and the bystander "Faults ERP") converged once; removed at
                    the end of the session. Tests leave it converged.
    record          record(kind, name, injected, outcome) adds one row to docs/reliability.md. outcome keys:
                    rc, message (the error), changed, seconds, and where measured tables_unchanged,
                    files_unchanged, rerun_converged (bool). Any test of this folder may use it.

At the end of a session in which every collected test of this folder ran and passed (or failed as marked
xfail), docs/reliability.md is rewritten from the records. A partial run (-k, a failure, a skip) leaves
it alone. NOT_COVERED_YET is the list of faults no test injects yet: move an item out when its test
lands.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from faults_support import BYSTANDER, MAIN, PROJECT, PrivateStack, first_line, run_playbook

DOC = PROJECT / "docs" / "reliability.md"
HERE = Path(__file__).resolve().parent

NOT_COVERED_YET: list[str] = []


HEADER = " ".join(
    """
Written by `tests/faults` (`make test-faults`); do not edit by hand. Each row is one test that ran
`ansible-playbook playbooks/reinstall_integration.yml` (or one module, where the playbook cannot express
the input) against a private twin stack of the sandbox's own images (DB 127.0.0.1:13392, store
http://127.0.0.1:18092/), with the input or fault of the row injected. A bad input must fail with a
message that names its cause and its fix, and change nothing: every table's `CHECKSUM TABLE`, the hashes
of the store's `app/` tree and `app/etc/config.php`, and of the credentials and backup folders are the
same before and after. Bad inputs and faults run as a staging reset (`reintegrate_force=true
reintegrate_force_setup=true`: a run that would otherwise clear setup rows, rerun setup:upgrade, purge
tokens and mint new credentials) unless the row says "not forced". A fault must fail with a clear message
and lose nothing: the bystander integration's tokens are untouched, every deleted row is in a backup, the
old credentials still sign a 200 (or the message names the restore), and a rerun without the fault
converges.
""".split()
)


@dataclass
class Entry:
    kind: str
    name: str
    injected: str
    outcome: dict[str, Any]
    nodeid: str


class Collector:
    """The records, and which tests of the session passed; registered as a plugin for the reports."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.ok: dict[str, bool] = {}  # nodeid -> passed (or failed as marked xfail)
        self.collected: set[str] = set()
        self.files: set[Path] = set()
        self.gaps: dict[str, str] = {}  # nodeid -> the xfail reason: a known gap, failing as marked
        self.partial = False

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.partial = self.partial or bool(items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if hasattr(report, "wasxfail"):
            self.gaps[report.nodeid] = str(report.wasxfail)
        if report.failed or (report.skipped and not hasattr(report, "wasxfail")):
            self.ok[report.nodeid] = False
        elif report.when == "call":
            self.ok.setdefault(report.nodeid, True)

    def complete(self, exitstatus: int) -> bool:
        """Every collected test of this folder ran and passed, and each record comes from one of them."""
        if not self.entries or self.partial or exitstatus != 0 or not self.collected:
            return False
        if self.files != set(HERE.glob("test_*.py")):  # a run of some files only (pytest tests/faults/x.py)
            return False
        return all(self.ok.get(n, False) for n in self.collected | {e.nodeid for e in self.entries})


COLLECTOR = pytest.StashKey[Collector]()


def pytest_configure(config: pytest.Config) -> None:
    collector = Collector()
    config.stash[COLLECTOR] = collector
    config.pluginmanager.register(collector, "reintegrate-faults-collector")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    collector = config.stash[COLLECTOR]
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.docker)
            collector.collected.add(item.nodeid)
            collector.files.add(Path(str(item.fspath)).resolve())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    collector = session.config.stash.get(COLLECTOR, None)
    if collector is not None and collector.complete(int(exitstatus)):
        DOC.write_text(render(collector.entries, collector.gaps))


# ---------------------------------------------------------------- docs/reliability.md
def _yes_no(value: Any) -> str:
    return "—" if value is None else ("yes" if value else "**no**")


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(entries: list[Entry], gaps: dict[str, str] | None = None) -> str:
    gaps = gaps or {}
    kinds = {"bad input": 0, "fault": 1}
    rows = sorted(entries, key=lambda e: (kinds.get(e.kind, 2), e.nodeid))
    lines = [
        "# Reliability: bad inputs and faults",
        "",
        HEADER,
        "",
        f"Last written {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} from {len(rows)} records.",
        "",
        "| kind | name | injected | rc | error (first line) | changed | s | tables unchanged "
        "| files unchanged | rerun converged |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in rows:
        o = e.outcome
        lines.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    e.kind,
                    e.name + (" (known gap)" if e.nodeid in gaps else ""),
                    e.injected,
                    o.get("rc", "—"),
                    first_line(str(o.get("message", ""))) or "—",
                    o.get("changed", "—"),
                    o.get("seconds", "—"),
                    _yes_no(o.get("tables_unchanged")),
                    _yes_no(o.get("files_unchanged")),
                    _yes_no(o.get("rerun_converged")),
                )
            )
            + " |"
        )
    known = [e for e in rows if e.nodeid in gaps]
    if known:
        lines += ["", "## Known gaps", ""]
        lines += [
            "Rows marked *known gap* fail as expected (strict xfail): the input is refused, but late.",
            "",
        ]
        lines += [f"- {e.name}: {gaps[e.nodeid].removeprefix('reason: ')}" for e in known]
    lines += ["", "## Not covered yet", ""]
    lines += [f"- {item}" for item in NOT_COVERED_YET] or ["Every fault listed for this suite has a test."]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def private_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateStack]:
    stack = PrivateStack(tmp_path_factory.mktemp("faults"))
    try:
        for spec in (BYSTANDER, MAIN):
            run = run_playbook(stack, stack.integration_vars(spec))
            assert run.rc == 0, f"converging {spec['name']} failed: {run.message}\n{run.out[-3000:]}"
        assert stack.signed_get(stack.delivered(MAIN)) == 200
        assert stack.signed_get(stack.delivered(BYSTANDER)) == 200
        yield stack
    finally:
        if not os.environ.get("REINTEGRATE_FAULTS_KEEP"):
            stack.remove()


@pytest.fixture
def record(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str, str, str, dict[str, Any]], None]:
    collector = request.config.stash[COLLECTOR]
    base = str(tmp_path_factory.getbasetemp())

    def add(kind: str, name: str, injected: str, outcome: dict[str, Any]) -> None:
        # The session's temporary folder changes every run: $TMP keeps the table stable.
        outcome = {k: v.replace(base, "$TMP") if isinstance(v, str) else v for k, v in outcome.items()}
        collector.entries.append(
            Entry(kind, name, injected.replace(base, "$TMP"), outcome, request.node.nodeid)
        )

    return add
