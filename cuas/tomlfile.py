"""TOML files into typed, validated structs: one loader for camp configurations and drill files.

Parsing is `tomllib` (stdlib); structure, types and ranges are checked by `msgspec.convert`
against `msgspec.Struct` types whose fields carry their bounds. Every failure becomes a
`FileError` subclass naming the file, the key as a dotted path, and the reason, in words a
person can act on ("unknown key (misspelt?)", "required key is missing").
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from cuas.errors import FileError

T = TypeVar("T")
E = TypeVar("E", bound=FileError)

_AT = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_KEY_RULES = (
    (re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`$"), "unknown key (misspelt?)"),
    (re.compile(r"^Object missing required field `(?P<name>[^`]+)`$"), "required key is missing"),
)


def read_toml(path: str | Path, error: type[E]) -> dict[str, Any]:
    """The TOML document at `path` as plain data, or `error` naming the file and what is wrong."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise error(file, "(file)", f"cannot read: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise error(file, "(file)", f"not UTF-8 text: {exc.reason}") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(file, "(syntax)", str(exc)) from None


def validation_error(file: str, exc: msgspec.ValidationError, error: type[E]) -> E:
    """msgspec's message turned into `error(file, dotted.key, reason)`."""
    m = _AT.match(str(exc))
    assert m is not None
    reason, path = m["reason"], (m["path"] or "").lstrip(".")
    for pattern, what in _KEY_RULES:
        hit = pattern.match(reason)
        if hit:  # name the offending key itself, not its table
            path = f"{path}.{hit['name']}" if path else hit["name"]
            reason = what
    return error(file, path or "(top level)", reason)


def convert(data: dict[str, Any], kind: type[T], file: str, error: type[E]) -> T:
    """`data` as a `kind` struct (types and ranges checked), or `error` naming the key."""
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise validation_error(file, exc, error) from None
