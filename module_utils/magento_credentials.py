"""The delivered credentials file: atomic, mode 0600, in a 0700 folder (JSON or .env format).

Public API (stable):
    FIELDS: tuple[str, ...]                  the JSON keys, in file order
    FORMATS = ("json", "env")
    class Credentials(base_url, consumer_key, consumer_secret, access_token, access_token_secret,
                      obtained_at)           repr hides every secret
    class CredentialsFileError(Exception)    unreadable / malformed file (message names path, cause, fix)
    render(credentials, fmt) -> str          the file text
    parse(text, fmt) -> Credentials          inverse of render
    read_credentials(path, fmt) -> Credentials | None     None when the file does not exist
    write_credentials(path, credentials, fmt) -> None     tempfile in the same folder + os.replace
    check_writable(path) -> None             raises CredentialsFileError when that write cannot succeed
    changed_fields(old, new) -> list[str]    which fields differ (names only, never values)
    file_mode(path) -> str | None            e.g. "0600"
    format_for(path, fmt=None) -> str        "env" for *.env / .env files unless fmt says otherwise
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
from dataclasses import asdict, dataclass, field

FIELDS = ("base_url", "consumer_key", "consumer_secret", "access_token", "access_token_secret", "obtained_at")
SECRET_FIELDS = frozenset({"consumer_key", "consumer_secret", "access_token", "access_token_secret"})
FORMATS = ("json", "env")
ENV_PREFIX = "MAGENTO_"
FILE_MODE = 0o600
DIR_MODE = 0o700

# Values written bare in .env files; anything else is double-quoted with \ and " escaped.
_ENV_BARE = re.compile(r"^[A-Za-z0-9_./:@%+=,~-]*$")
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


@dataclass(frozen=True)
class Credentials:
    """One integration's OAuth credentials. Only base_url and obtained_at show in a repr."""

    base_url: str
    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)
    obtained_at: str = ""


class CredentialsFileError(Exception):
    """The credentials file cannot be read or written. The message never holds a value from it."""


def format_for(path: str, fmt: str | None = None) -> str:
    """The file format: ``fmt`` when given, else ``env`` for ``.env``/``*.env`` names, else ``json``."""
    if fmt:
        if fmt not in FORMATS:
            raise ValueError(f"credentials format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        return fmt
    name = os.path.basename(path)
    return "env" if name == ".env" or name.endswith(".env") else "json"


def _env_quote(value: str) -> str:
    if _ENV_BARE.match(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _env_unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    return value


def render(credentials: Credentials, fmt: str) -> str:
    """The file text in ``fmt`` (``json``: the FIELDS keys; ``env``: ``MAGENTO_<FIELD>=value`` lines)."""
    values = asdict(credentials)
    if fmt == "json":
        return json.dumps({name: values[name] for name in FIELDS}, indent=2) + "\n"
    if fmt == "env":
        return "".join(f"{ENV_PREFIX}{name.upper()}={_env_quote(str(values[name]))}\n" for name in FIELDS)
    raise ValueError(f"credentials format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def parse(text: str, fmt: str) -> Credentials:
    """Inverse of ``render``. Raises CredentialsFileError naming the missing fields (never a value)."""
    if fmt == "json":
        try:
            data = json.loads(text)
        except ValueError:
            raise CredentialsFileError("is not valid JSON") from None
        if not isinstance(data, dict):
            raise CredentialsFileError("is not a JSON object")
    elif fmt == "env":
        data = {}
        for line in text.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            match = _ENV_LINE.match(line)
            if match and match.group(1).startswith(ENV_PREFIX):
                data[match.group(1)[len(ENV_PREFIX) :].lower()] = _env_unquote(match.group(2))
    else:
        raise ValueError(f"credentials format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    missing = [name for name in FIELDS if name != "obtained_at" and not isinstance(data.get(name), str)]
    if missing:
        raise CredentialsFileError(f"lacks {', '.join(missing)}")
    return Credentials(**{name: str(data.get(name) or "") for name in FIELDS})


def read_credentials(path: str, fmt: str | None = None) -> Credentials | None:
    """The credentials in ``path``, or None when it does not exist."""
    fmt = format_for(path, fmt)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CredentialsFileError(
            f"cannot read credentials file {path}: {exc.strerror}: fix its permissions or choose another "
            "credentials_path"
        ) from None
    try:
        return parse(text, fmt)
    except CredentialsFileError as exc:
        raise CredentialsFileError(
            f"credentials file {path} {exc} ({fmt} format expected): fix or delete it, or set "
            "credentials_format to match it"
        ) from None


def _make_private_dirs(folder: str) -> None:
    """Create missing folders with mode 0700; folders that already exist are left as they are."""
    missing = []
    current = os.path.abspath(folder)
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for path in reversed(missing):
        try:
            os.mkdir(path, DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by someone else, or not a folder (mkstemp then reports it)
        os.chmod(path, DIR_MODE)  # mkdir's mode is filtered by the umask


def write_credentials(path: str, credentials: Credentials, fmt: str | None = None) -> None:
    """Write atomically: a 0600 temp file in the same folder, fsync, os.replace (readers never see a
    half-written file); missing folders are created 0700."""
    fmt = format_for(path, fmt)
    text = render(credentials, fmt)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        _make_private_dirs(folder)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    except OSError as exc:
        raise CredentialsFileError(
            f"cannot create the credentials file in {folder}: {exc.strerror}: choose a credentials_path in "
            "a folder this user can write"
        ) from None
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise CredentialsFileError(
            f"cannot write credentials file {path}: {exc.strerror}: fix the folder's permissions or free "
            "space"
        ) from None
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def changed_fields(old: Credentials | None, new: Credentials) -> list[str]:
    """Names of the fields that differ (all of them when there is no old file). Never values."""
    if old is None:
        return list(FIELDS)
    old_values, new_values = asdict(old), asdict(new)
    return [name for name in FIELDS if old_values[name] != new_values[name]]


def file_mode(path: str) -> str | None:
    """The permission bits of ``path`` as ``"0600"``, or None when it does not exist."""
    try:
        return f"{stat.S_IMODE(os.stat(path).st_mode):04o}"
    except (FileNotFoundError, NotADirectoryError):  # a parent that is a file: the path cannot exist
        return None


def check_writable(path: str) -> None:
    """Raise CredentialsFileError unless write_credentials(path) can succeed as far as can be told
    without writing: the nearest existing folder on the way must be a folder this user may write (a
    read-only mount or a file in place of a folder stops even root). Creates nothing."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise CredentialsFileError(
            f"credentials_path {path} is a folder: set credentials_path to a file name in it"
        )
    current = folder
    while not os.path.lexists(current) and os.path.dirname(current) != current:
        current = os.path.dirname(current)
    if not os.path.isdir(current):
        raise CredentialsFileError(
            f"cannot create the credentials folder {folder}: {current} is not a folder: choose a "
            "credentials_path in a folder this user can write"
        )
    if not os.access(current, os.W_OK | os.X_OK):
        raise CredentialsFileError(
            f"cannot write the credentials file in {folder}: {current} is not writable (permissions or a "
            "read-only file system): make it writable or choose another credentials_path"
        )
