"""User-facing errors: one root, so the `cuas` command catches them once and says what is wrong.

`CuasError` is what a person can act on (a bad file, a bad message, a journal of another
camp); anything else escaping a command is a bug and keeps its traceback.
"""

from __future__ import annotations


class CuasError(Exception):
    """The root of every error that the `cuas` command reports as one line, not a traceback."""


class FileError(CuasError, ValueError):
    """A file that cannot be used: names the file, the key (a dotted path) and the reason."""

    what = "file"

    def __init__(self, file: str, key: str, reason: str) -> None:
        super().__init__(f"{file}: {key}: {reason}")
        self.file = file
        self.key = key
        self.reason = reason


class ConfigError(FileError):
    """A camp configuration that cannot be used."""

    what = "bad configuration"


class ScenarioError(FileError):
    """A scenario (drill) file that cannot be flown."""

    what = "bad scenario"


class RejectError(CuasError, ValueError):
    """Input refused: `reason` is a stable key for the reject counters, `detail` the full
    human explanation. Every decoder of outside input (the wire, a device's own format)
    raises one of these, so every refusal is counted and explained the same way."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class WireError(RejectError):
    """A message that does not meet the schema.

    `reason` is one of `malformed`, `missing_field`, `wrong_type`, `out_of_range`,
    `unknown_kind`, `unknown_class`, `bad_version`, ... (`detection_<reason>` for one
    detection refused alone); `detail` names the path to the offending field.
    """
