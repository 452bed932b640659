"""Read and write the PHP array files of app/etc (env.php, config.php), C1.2.

The reader is a small tokenizer/parser for the subset Magento writes: `return [...]` or `array(...)`,
single/double-quoted strings, ints, floats, true/false/null, comments and trailing commas.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|//[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<open><\?php)
  | (?P<sq>'(?:[^'\\]|\\.)*')
  | (?P<dq>"(?:[^"\\]|\\.)*")
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<arrow>=>)
  | (?P<punct>[\[\](),;])
  | (?P<word>[A-Za-z_\\][A-Za-z0-9_\\:]*)
    """,
    re.VERBOSE | re.DOTALL,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"unexpected PHP syntax at offset {pos}: {text[pos : pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        if kind in ("ws", "open"):
            continue
        out.append((kind, m.group()))
    return out


def _unquote_single(s: str) -> str:
    return re.sub(r"\\([\\'])", r"\1", s[1:-1])


def _unquote_double(s: str) -> str:
    escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "$": "$", "0": "\0"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), "\\" + m.group(1)), s[1:-1])


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.t = tokens
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.t[self.i] if self.i < len(self.t) else ("eof", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if value is not None and tok[1].lower() != value:
            raise ValueError(f"expected {value!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def value(self) -> Any:
        kind, text = self.peek()
        if kind == "punct" and text == "[":
            self.take()
            return self.array("]")
        if kind == "word" and text.lower() == "array":
            self.take()
            self.take("(")
            return self.array(")")
        self.take()
        if kind == "sq":
            return _unquote_single(text)
        if kind == "dq":
            return _unquote_double(text)
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind == "word":
            low = text.lower()
            if low in ("true", "false"):
                return low == "true"
            if low == "null":
                return None
            return text  # a constant name: keep it as written
        raise ValueError(f"unexpected token {text!r}")

    def array(self, close: str) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        next_index = 0
        while self.peek()[1] != close:
            first = self.value()
            if self.peek()[0] == "arrow":
                self.take()
                result[first] = self.value()
                if isinstance(first, int):
                    next_index = max(next_index, first + 1)
            else:
                result[next_index] = first
                next_index += 1
            if self.peek()[1] == ",":
                self.take()
        self.take(close)
        return result


def loads(text: str) -> dict[Any, Any]:
    """Parse a PHP file that returns an array."""
    p = _Parser(_tokens(text))
    p.take("return")
    data = p.value()
    if not isinstance(data, dict):
        raise ValueError("the file does not return an array")
    return data


def load(path: str) -> dict[Any, Any]:
    with open(path, encoding="utf-8") as fh:
        return loads(fh.read())


def _scalar(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return "'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _dump(v: Any, indent: int) -> str:
    if isinstance(v, list):
        if not v:
            return "[\n" + " " * indent + "]"
        pad = " " * (indent + 4)
        return "[\n" + ",\n".join(f"{pad}{_dump(x, indent + 4)}" for x in v) + "\n" + " " * indent + "]"
    if not isinstance(v, dict):
        return _scalar(v)
    if not v:
        return "[\n" + " " * indent + "]"
    pad = " " * (indent + 4)
    items = [f"{pad}{_scalar(k)} => {_dump(val, indent + 4)}" for k, val in v.items()]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def dumps(data: dict[Any, Any]) -> str:
    """Render like Magento's PhpFormatter: `<?php\\nreturn [...];`."""
    return "<?php\nreturn " + _dump(data, 0) + ";\n"


def dump(data: dict[Any, Any], path: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(dumps(data))
    import os

    os.replace(tmp, path)
