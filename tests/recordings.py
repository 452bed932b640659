"""Read the recordings of a real Magento 2.4.7-p3 store, in place (../shared/magento-2.4.7-p3/).

A clone has no shared/ folder of its own: CI lays a copy of it beside the clone, and so does every
developer's machine. The recordings are never copied into this repository. When the folder is missing,
tests that need it fail under CI=true and are skipped otherwise.

    RECORDINGS                       the folder (env REINTEGRATE_RECORDINGS overrides)
    recording(rel) -> Recording      one HTTP exchange (``admin/integrations_grid.json``)
    cli_recording(rel) -> dict       one CLI run: argv, rc, stdout, stderr, seconds
    text(rel) -> str                 a raw file (``site/env.php``)
    data(rel) -> Any                 a JSON file as it is (``acl/tree.json``)
    class Recording: request/response parts, ``body`` (body_file resolved), ``header(name)``
"""

from __future__ import annotations

import json
import os
import pathlib
from dataclasses import dataclass
from typing import Any

import pytest

RECORDINGS = pathlib.Path(
    os.environ.get(
        "REINTEGRATE_RECORDINGS",
        pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "magento-2.4.7-p3",
    )
)


def _require(path: pathlib.Path) -> pathlib.Path:
    if not path.exists():
        msg = f"recording {path} is missing: the real-store recordings live in ../shared/magento-2.4.7-p3/"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@dataclass(frozen=True)
class Part:
    headers: list[list[str]]
    body: str

    def header(self, name: str) -> str | None:
        """The first header of that name (case-insensitive), as sent."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def headers_named(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


@dataclass(frozen=True)
class Recording:
    name: str
    method: str
    url: str
    request: Part
    status: int
    response: Part
    note: str
    raw: dict[str, Any]

    def json(self) -> Any:
        return json.loads(self.response.body)


def text(rel: str) -> str:
    return _require(RECORDINGS / rel).read_text(encoding="utf-8")


def data(rel: str) -> Any:
    return json.loads(text(rel))


def recording(rel: str) -> Recording:
    raw = data(rel)
    req, resp = raw["request"], raw["response"]
    body = resp.get("body")
    if body is None and resp.get("body_file"):
        body = text(str(pathlib.PurePosixPath(rel).parent / resp["body_file"]))
    return Recording(
        name=rel,
        method=req.get("method", ""),
        url=req.get("url", ""),
        request=Part(headers=req.get("headers") or [], body=req.get("body") or ""),
        status=int(resp.get("status", 0)),
        response=Part(headers=resp.get("headers") or [], body=body or ""),
        note=raw.get("note", ""),
        raw=raw,
    )


def cli_recording(rel: str) -> dict[str, Any]:
    return data(rel)
