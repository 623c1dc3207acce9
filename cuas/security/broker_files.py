"""The broker's side of a secured camp: Mosquitto's password file, ACL and configuration.

Password entries are Mosquitto 2's own format (`user:$7$<iterations>$<salt>$<hash>`,
PBKDF2-HMAC-SHA512, as `mosquitto_passwd` writes them), computed here so that no password
ever appears on a command line and the file is created private, whatever the umask.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cuas.topics import Topics

PBKDF2_ITERATIONS = 101  # mosquitto_passwd's default (PW_DEFAULT_ITERATIONS)
SALT_BYTES = 12

CORE_USER = "core"
OPERATOR_USER = "operator"
VIEWER_USER = "viewer"
USERS = (CORE_USER, OPERATOR_USER, VIEWER_USER)


def password_entry(user: str, password: str, salt: bytes | None = None) -> str:
    """One line of Mosquitto's password file for `user`."""
    if ":" in user or "\n" in user:
        raise ValueError(f"invalid MQTT user name {user!r}")
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS)
    b64 = base64.b64encode
    return f"{user}:$7${PBKDF2_ITERATIONS}${b64(salt).decode()}${b64(digest).decode()}"


def password_file(passwords: dict[str, str]) -> str:
    return "".join(password_entry(u, p) + "\n" for u, p in passwords.items())


def acl(topics: Topics) -> str:
    """Who may do what under the camp's prefix; everything else is denied (DESIGN.md)."""
    return (
        "# cuas camp ACL: everything not granted here is denied.\n"
        f"# The core publishes the camp's output and reads acknowledgements.\n"
        f"user {CORE_USER}\n"
        f"topic readwrite {topics.everything}\n\n"
        f"# Operators read everything and may only acknowledge alerts.\n"
        f"user {OPERATOR_USER}\n"
        f"topic read {topics.everything}\n"
        f"topic write {topics.acks}\n\n"
        f"# Viewers only read.\n"
        f"user {VIEWER_USER}\n"
        f"topic read {topics.everything}\n"
    )


@dataclass(frozen=True)
class BrokerFiles:
    """Where the broker's files are (absolute paths go into its configuration)."""

    folder: Path

    @property
    def config(self) -> Path:
        return self.folder / "mosquitto.conf"

    @property
    def passwords(self) -> Path:
        return self.folder / "passwd"

    @property
    def acl(self) -> Path:
        return self.folder / "acl"

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def cert(self) -> Path:
        return self.folder / "server.crt"

    @property
    def key(self) -> Path:
        return self.folder / "server.key"


def mosquitto_conf(files: BrokerFiles, port: int, bind: str | None) -> str:
    """Mosquitto 2 configuration: TLS with client certificates, passwords and the ACL.

    Started as root, Mosquitto drops to the `mosquitto` user before it reads the password
    file, the ACL and the server key, so those must be readable by that user.
    """
    folder = files.folder.resolve()
    listener = f"listener {port} {bind}" if bind else f"listener {port}"
    return "\n".join(
        [
            "# cuas secured camp broker, written by `cuas secure init`.",
            "# Run: mosquitto -c " + str(folder / files.config.name),
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {folder / files.passwords.name}",
            f"acl_file {folder / files.acl.name}",
            "persistence false",
            "set_tcp_nodelay true",  # no Nagle delay on large track messages (README, latency)
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "",
            listener,
            "protocol mqtt",
            f"cafile {folder / files.ca_cert.name}",
            f"certfile {folder / files.cert.name}",
            f"keyfile {folder / files.key.name}",
            "require_certificate true",
            "use_identity_as_username false",
            "tls_version tlsv1.2",
            "",
        ]
    )
