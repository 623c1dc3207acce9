"""CurveZMQ key pairs in pyzmq's certificate format (`zmq.auth.load_certificate` reads them).

`<name>.key` holds the public key (share it), `<name>.key_secret` both keys (mode 0600, never
leaves its machine). pyzmq's own `create_certificates` writes the secret under the umask
(world-readable under 022) and overwrites silently; `create_key_pair` does neither.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import zmq
import zmq.auth

from cuas.errors import ConfigError
from cuas.security.files import write_new

log = logging.getLogger("cuas.security")

Z85_KEY = re.compile(r"^[0-9a-zA-Z.\-:+=^!/*?&<>()\[\]{}@%$#]{40}$")

_BANNER = (
    "#   ****  Generated on {now} by cuas secure init  ****\n"
    "#   ZeroMQ CURVE {what} Certificate\n"
    "#   {advice}\n\n"
)


def _certificate(public: bytes, secret: bytes | None) -> bytes:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if secret is None:
        head = _BANNER.format(now=now, what="Public", advice="Give this file to the core.")
    else:
        head = _BANNER.format(
            now=now, what="**Secret**", advice="DO NOT PROVIDE THIS FILE TO OTHER USERS."
        )
    body = f'metadata\ncurve\n    public-key = "{public.decode()}"\n'
    if secret is not None:
        body += f'    secret-key = "{secret.decode()}"\n'
    return (head + body).encode()


def public_certificate(public: bytes) -> bytes:
    """The `.key` file's content for a public key (Z85)."""
    return _certificate(public, None)


def public_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.key"


def secret_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.key_secret"


def create_key_pair(folder: Path, name: str) -> str:
    """Write `folder/<name>.key` (0644) and `.key_secret` (0600); the public key (Z85).

    `FileExistsError` if either exists: a key pair is never replaced silently.
    """
    public, secret = zmq.curve_keypair()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    pub, sec = public_path(folder, name), secret_path(folder, name)
    if pub.exists() or sec.exists():
        raise FileExistsError(sec if sec.exists() else pub)
    write_new(sec, _certificate(public, secret), 0o600)
    write_new(pub, _certificate(public, None), 0o644)
    return public.decode()


def load_secret_key(path: str | os.PathLike[str], key: str) -> tuple[bytes, bytes]:
    """(public, secret) Z85 keys from a `.key_secret` file, or `ConfigError` naming `key`.

    A secret others may read is used, with a warning: whoever read it can be this sensor.
    """
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError as exc:
        raise ConfigError(str(path), key, f"cannot read: {exc.strerror or exc}") from None
    if mode & 0o077:
        log.warning("%s: secret key readable by others (mode %04o): chmod 600 it", path, mode)
    try:
        public, secret = zmq.auth.load_certificate(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(str(path), key, f"not a CURVE secret key file: {exc}") from None
    if secret is None or not Z85_KEY.match(secret.decode()):
        raise ConfigError(str(path), key, "holds no secret key (give the .key_secret file)")
    return public, secret


def load_public_key(value: str, key: str) -> bytes:
    """A public key (Z85) given as the key itself or as a `.key`/`.key_secret` file."""
    if Z85_KEY.match(value):
        return value.encode()
    try:
        public, _ = zmq.auth.load_certificate(value)
    except (OSError, ValueError) as exc:
        raise ConfigError(value, key, f"neither a Z85 key nor a CURVE key file: {exc}") from None
    return public
