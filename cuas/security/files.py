"""Writing secrets to disk: create-only, atomic, with explicit modes, whatever the umask.

A key file is never overwritten (`write_new` refuses), so re-running a generator cannot
silently replace a key that sensors already hold; files that may be regenerated from the
keys (a configuration) go through `write_replace`. Readers never see a half-written file.
"""

from __future__ import annotations

import contextlib
import grp
import os
from pathlib import Path

BROKER_GROUP = "mosquitto"  # Mosquitto started as root drops to this user and group


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(path: Path, data: bytes, mode: int) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # explicit: independent of the umask
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_new(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Create `path` with `data` and `mode`; `FileExistsError` if it exists (never overwrites)."""
    tmp = _write_temp(path, data, mode)
    try:
        os.link(tmp, path)  # atomic, and fails if `path` exists
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def write_replace(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write `path` atomically, replacing what was there (for files derived from the keys)."""
    tmp = _write_temp(path, data, mode)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def broker_gid() -> int | None:
    """The broker's group id, or None where there is no `mosquitto` group."""
    try:
        return grp.getgrnam(BROKER_GROUP).gr_gid
    except KeyError:
        return None


def share_with_broker(path: Path) -> bool:
    """Make `path` readable by the broker's group (mode 0640 for files, 0750 for folders).

    Returns False (and leaves the file 0600/0700) where there is no such group or this user
    may not give files to it: a broker running as this same user reads them anyway.
    """
    gid = broker_gid()
    if gid is None:
        return False
    try:
        os.chown(path, -1, gid)
    except PermissionError:
        return False
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, 0o750 if path.is_dir() else 0o640)
    return True
