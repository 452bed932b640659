"""Read Magento's ``app/etc/env.php`` and ``app/etc/config.php`` (C1.2, C1.3) with a real parser.

The files are PHP: ``<?php return [ ... ];``. This module parses PHP array literals (short ``[...]`` and
``array(...)`` syntax, nested, ``'k' => v`` and positional items, single/double-quoted strings with
their escapes, ints in every base, floats, ``true``/``false``/``null``, comments). It never evaluates
PHP and never matches values with regular expressions.

Public API (stable):
    class PhpParseError(ValueError)
    class PhpExpressionError(PhpParseError)    valid PHP but no literal (getenv('X'), a constant)
    parse_php_return(text: str) -> Any          the value of the file's ``return`` statement
    parse_php_value(text: str) -> Any           one PHP literal
    @dataclass EnvConfig                         db_host, db_port, db_name, db_username, db_password,
                                                 table_prefix, backend_frontname, crypt_key, db_socket,
                                                 mage_mode (``MAGE_MODE``: developer, production, ...)
        EnvConfig.from_array(data) -> EnvConfig
        EnvConfig.facts() -> dict                everything but password and crypt key
    parse_env_php(text: str) -> EnvConfig
    PHP_ENV_JSON                                 the PHP code that prints env.php as JSON (run in the root)
    env_config_from_php_json(text: str) -> EnvConfig   what that printed (PhpOutputError when no JSON)
    parse_config_php_modules(text: str) -> dict[str, bool]   ``modules`` of config.php
Site.env() reads env.php with this parser first (the plain literal Magento writes needs no PHP process);
what it cannot follow (PhpExpressionError: getenv(), a constant) is read by PHP itself where PHP runs
beside the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

DEFAULT_DB_PORT = 3306
# json_encode of what env.php returns, exactly as Magento's own `require` reads it (run in the Magento root).
PHP_ENV_JSON = 'echo json_encode(require "app/etc/env.php");'


class PhpParseError(ValueError):
    """The text is not a PHP array literal this parser understands."""


class PhpExpressionError(PhpParseError):
    """Valid PHP that is no literal (a call such as getenv('X'), a constant): it needs PHP to run."""


class PhpOutputError(ValueError):
    """PHP ran but printed no JSON object (json_encode failed, or the file printed text of its own)."""


_SIMPLE_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "v": "\v",
    "e": "\x1b",
    "f": "\f",
    "\\": "\\",
    "$": "$",
    '"': '"',
}


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    # -- lexing helpers -------------------------------------------------------------------------------
    def error(self, what: str) -> PhpParseError:
        line = self.s.count("\n", 0, self.i) + 1
        return PhpParseError(f"{what} at line {line}")

    def skip(self) -> None:
        s, n = self.s, len(self.s)
        while self.i < n:
            c = s[self.i]
            if c in " \t\r\n":
                self.i += 1
            elif c == "#" or s.startswith("//", self.i):
                end = s.find("\n", self.i)
                self.i = n if end < 0 else end + 1
            elif s.startswith("/*", self.i):
                end = s.find("*/", self.i + 2)
                if end < 0:
                    raise self.error("unterminated comment")
                self.i = end + 2
            else:
                return

    def peek(self, token: str) -> bool:
        self.skip()
        return self.s.startswith(token, self.i)

    def expect(self, token: str) -> None:
        if not self.peek(token):
            raise self.error(f"expected {token!r}")
        self.i += len(token)

    def word(self) -> str:
        self.skip()
        j = self.i
        while j < len(self.s) and (self.s[j].isalnum() or self.s[j] == "_"):
            j += 1
        return self.s[self.i : j]

    # -- values ---------------------------------------------------------------------------------------
    def value(self) -> Any:
        self.skip()
        if self.i >= len(self.s):
            raise self.error("unexpected end of input")
        c = self.s[self.i]
        if c == "[":
            self.i += 1
            return self.array("]")
        if c == "'":
            return self.single_quoted()
        if c == '"':
            return self.double_quoted()
        if c in "+-" or c.isdigit() or (c == "." and self.s[self.i + 1 : self.i + 2].isdigit()):
            return self.number()
        w = self.word()
        lw = w.lower()
        if lw == "array":
            self.i += len(w)
            self.expect("(")
            return self.array(")")
        if lw in ("true", "false", "null"):
            self.i += len(w)
            return {"true": True, "false": False, "null": None}[lw]
        if w:
            line = self.s.count("\n", 0, self.i) + 1
            call = self.s[self.i + len(w) :].lstrip().startswith("(")
            what = f"a call of {w}()" if call else f"constant {w}"
            raise PhpExpressionError(f"{what} at line {line}, not a literal value")
        raise self.error(f"unsupported PHP expression {w or c!r}")

    def array(self, close: str) -> Any:
        items: list[tuple[Any, Any]] = []
        next_index = 0
        while True:
            if self.peek(close):
                self.i += 1
                break
            first = self.value()
            if self.peek("=>"):
                self.i += 2
                key = self._normalise_key(first)
                val = self.value()
            else:
                key, val = next_index, first
            if isinstance(key, int) and key >= next_index:
                next_index = key + 1
            items.append((key, val))
            if self.peek(","):
                self.i += 1
            elif not self.peek(close):
                raise self.error(f"expected ',' or {close!r}")
        result: dict[Any, Any] = {}
        for key, val in items:
            result[key] = val  # later keys win, as in PHP
        if list(result) == list(range(len(result))):
            return list(result.values())
        return result

    def _normalise_key(self, key: Any) -> Any:
        # PHP casts bools, null, floats and decimal-integer strings used as keys.
        if key is None:
            return ""
        if isinstance(key, bool):
            return int(key)
        if isinstance(key, float):
            return int(key)
        if isinstance(key, str) and key.lstrip("-").isdigit() and str(int(key)) == key:
            return int(key)
        if isinstance(key, (list, dict)):
            raise self.error("an array cannot be an array key")
        return key

    def single_quoted(self) -> str:
        s, i, out = self.s, self.i + 1, []
        while i < len(s):
            c = s[i]
            if c == "\\" and i + 1 < len(s) and s[i + 1] in "\\'":
                out.append(s[i + 1])
                i += 2
            elif c == "'":
                self.i = i + 1
                return "".join(out)
            else:
                out.append(c)
                i += 1
        raise self.error("unterminated string")

    def double_quoted(self) -> str:
        s, i, out = self.s, self.i + 1, []
        while i < len(s):
            c = s[i]
            if c == '"':
                self.i = i + 1
                return "".join(out)
            if c == "$" and i + 1 < len(s) and (s[i + 1].isalpha() or s[i + 1] in "_{"):
                raise self.error("variable interpolation in a double-quoted string is not supported")
            if c != "\\" or i + 1 >= len(s):
                out.append(c)
                i += 1
                continue
            e = s[i + 1]
            if e in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[e])
                i += 2
            elif e in "01234567":
                j = i + 1
                while j < len(s) and j < i + 4 and s[j] in "01234567":
                    j += 1
                out.append(chr(int(s[i + 1 : j], 8) & 0xFF))
                i = j
            elif e == "x" and i + 2 < len(s) and s[i + 2] in "0123456789abcdefABCDEF":
                j = i + 2
                while j < len(s) and j < i + 4 and s[j] in "0123456789abcdefABCDEF":
                    j += 1
                out.append(chr(int(s[i + 2 : j], 16)))
                i = j
            elif e == "u" and s.startswith("{", i + 2):
                end = s.find("}", i + 3)
                if end < 0:
                    raise self.error("unterminated \\u{} escape")
                out.append(chr(int(s[i + 3 : end], 16)))
                i = end + 1
            else:
                out.append("\\" + e)  # unknown escapes stay literal in PHP
                i += 2
        raise self.error("unterminated string")

    def number(self) -> int | float:
        s, j = self.s, self.i
        sign = 1
        while j < len(s) and s[j] in "+-":
            if s[j] == "-":
                sign = -sign
            j += 1
        while j < len(s) and s[j] in " \t":
            j += 1
        start = j
        while j < len(s) and (s[j].isalnum() or s[j] in "._" or (s[j] in "+-" and s[j - 1] in "eE")):
            j += 1
        raw = s[start:j].replace("_", "")
        self.i = j
        low = raw.lower()
        try:
            if low.startswith("0x"):
                return sign * int(low[2:], 16)
            if low.startswith("0b"):
                return sign * int(low[2:], 2)
            if low.startswith("0o"):
                return sign * int(low[2:], 8)
            if any(ch in low for ch in ".e"):
                return sign * float(low)
            if len(low) > 1 and low.startswith("0"):
                return sign * int(low, 8)
            return sign * int(low, 10)
        except ValueError:
            raise self.error(f"bad number {raw!r}") from None


def parse_php_value(text: str) -> Any:
    """Parse one PHP literal (array, string, number, bool, null)."""
    p = _Parser(text)
    val = p.value()
    p.skip()
    if p.peek(";"):
        p.i += 1
        p.skip()
    if p.i != len(p.s):
        raise p.error("unexpected text after the value")
    return val


def parse_php_return(text: str) -> Any:
    """The value of ``return <literal>;`` in a PHP file such as env.php or config.php."""
    p = _Parser(text)
    p.skip()
    if p.s.startswith("<?php", p.i):
        p.i += 5
    # Skip statements before ``return`` (e.g. ``declare(strict_types=1);``) without evaluating them.
    while True:
        p.skip()
        if p.i >= len(p.s):
            raise PhpParseError("no 'return' statement found")
        w = p.word()
        if w.lower() == "return":
            p.i += len(w)
            break
        end = p.s.find(";", p.i)
        if end < 0:
            raise p.error("no 'return' statement found")
        p.i = end + 1
    val = p.value()
    p.expect(";")
    return val


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


@dataclass(frozen=True)
class EnvConfig:
    """The parts of env.php this project uses (C1.2). ``facts()`` leaves out the secrets."""

    db_host: str
    db_port: int
    db_name: str
    db_username: str
    db_password: str = field(repr=False)
    table_prefix: str = ""
    backend_frontname: str | None = None
    crypt_key: str | None = field(default=None, repr=False)
    db_socket: str | None = None
    mage_mode: str | None = None

    @classmethod
    def from_array(cls, data: Any) -> EnvConfig:
        if not isinstance(data, dict):
            raise PhpParseError("env.php does not return an array")
        conn = _get(data, "db", "connection", "default")
        if not isinstance(conn, dict):
            raise PhpParseError("env.php has no ['db']['connection']['default'] array")
        host_raw = str(conn.get("host") or "localhost")
        host, port, socket = split_host_port(host_raw)
        if conn.get("port") not in (None, ""):
            port = int(conn["port"])
        prefix = _get(data, "db", "table_prefix")
        frontname = _get(data, "backend", "frontName")
        key = _get(data, "crypt", "key")
        mode = data.get("MAGE_MODE")
        return cls(
            db_host=host,
            db_port=port,
            db_name=str(conn.get("dbname") or ""),
            db_username=str(conn.get("username") or ""),
            db_password=str(conn.get("password") or ""),
            table_prefix=str(prefix or ""),
            backend_frontname=None if frontname is None else str(frontname),
            crypt_key=None if key is None else str(key),
            db_socket=socket,
            mage_mode=None if mode is None else str(mode),
        )

    def facts(self) -> dict[str, Any]:
        """Safe to print: no password, no encryption key."""
        return {
            "db_host": self.db_host,
            "db_port": self.db_port,
            "db_name": self.db_name,
            "db_username": self.db_username,
            "db_socket": self.db_socket,
            "table_prefix": self.table_prefix,
            "backend_frontname": self.backend_frontname,
            "crypt_key_present": bool(self.crypt_key),
        }


def split_host_port(host: str) -> tuple[str, int, str | None]:
    """``db:3307`` → (db, 3307, None); ``localhost:/run/mysqld.sock`` → (localhost, 3306, socket);
    ``[::1]:3307`` → (::1, 3307, None)."""
    if host.startswith("["):
        end = host.find("]")
        name, rest = host[1:end], host[end + 1 :]
        return name, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else DEFAULT_DB_PORT, None
    if host.count(":") == 1:
        name, _, rest = host.partition(":")
        if rest.isdigit():
            return name, int(rest), None
        if rest.startswith("/"):
            return name, DEFAULT_DB_PORT, rest
    return host, DEFAULT_DB_PORT, None


def parse_env_php(text: str) -> EnvConfig:
    return EnvConfig.from_array(parse_php_return(text))


def env_config_from_php_json(text: str) -> EnvConfig:
    """EnvConfig from what PHP_ENV_JSON printed. PHP's JSON gives string keys and lists for 0..n-1 keys,
    which EnvConfig reads as it reads the parser's value."""
    try:
        data = json.loads(text)
    except ValueError:
        raise PhpOutputError(
            f"PHP printed no JSON ({text[:60]!r}...)" if text else "PHP printed nothing"
        ) from None
    if not isinstance(data, dict):
        raise PhpOutputError("PHP's json_encode of env.php is no object: env.php does not return an array")
    return EnvConfig.from_array(data)


def parse_config_php_modules(text: str) -> dict[str, bool]:
    """``['modules' => ['V_M' => 1|0]]`` of config.php as name → enabled (C1.3)."""
    data = parse_php_return(text)
    modules = _get(data, "modules")
    if modules is None:
        return {}
    if not isinstance(modules, dict):
        raise PhpParseError("config.php 'modules' is not a name => flag array")
    return {str(k): bool(v) for k, v in modules.items()}
