"""`cuas secure init`: everything a secured camp needs, written once into one folder.

    DIR/camp.toml            the camp file, for the core: CURVE on, MQTT user `core` over TLS
    DIR/operator.toml        the same camp for operators' tools (user `operator`: may ack)
    DIR/viewer.toml          ... and for read-only displays (user `viewer`)
    DIR/ca/                  the camp's CA (ca.key signs certificates: keep it offline)
    DIR/mosquitto/           the broker's config, certificate, key, password file and ACL
    DIR/credentials/         each MQTT user's password, client certificate and key
    DIR/keys/core.key[_secret]           the core's CURVE key pair
    DIR/keys/sensors/<id>.key[_secret]   each sensor's CURVE key pair
    DIR/keys/track-subscribers/integrator.key[_secret]   a key for the ZeroMQ track stream

Private files are 0600, the broker's 0640 and group `mosquitto` where that group exists
(Mosquitto started as root reads them as that user). Keys, certificates and passwords that
already exist are kept and reused, and said so: re-running after adding a sensor creates that
sensor's key pair only. The camp files and the broker's configuration are derived, and
rewritten every time.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from cuas.config import dump_config, load_config
from cuas.errors import CuasError
from cuas.security import curve_keys, pki
from cuas.security.broker_files import (
    CORE_USER,
    OPERATOR_USER,
    USERS,
    VIEWER_USER,
    BrokerFiles,
    acl,
    mosquitto_conf,
    password_file,
)
from cuas.security.files import (
    BROKER_GROUP,
    broker_gid,
    share_with_broker,
    write_new,
    write_replace,
)
from cuas.topics import Topics

PLAIN_MQTT_PORT = 1883
TLS_MQTT_PORT = 8883


class SecureInitError(CuasError):
    """`cuas secure init` cannot go on without losing or mixing up existing keys."""

    what = "secure init"


@dataclass
class Report:
    """What `secure init` did to each file: created, kept (reused) or rewritten."""

    created: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    rewritten: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def render(self, root: Path) -> str:
        def names(paths: list[Path]) -> str:
            return ", ".join(str(p.relative_to(root)) for p in paths) or "none"

        kept = f"kept      {names(self.kept)}"
        if self.kept:
            kept += " (existing keys, certificates and passwords: reused, never replaced)"
        lines = [f"created   {names(self.created)}", kept, f"rewritten {names(self.rewritten)}"]
        return "\n".join(lines + [f"WARNING: {w}" for w in self.warnings])


@dataclass(frozen=True)
class Layout:
    """The paths of DIR."""

    root: Path

    @property
    def ca(self) -> Path:
        return self.root / "ca"

    @property
    def broker(self) -> BrokerFiles:
        return BrokerFiles(self.root / "mosquitto")

    @property
    def credentials(self) -> Path:
        return self.root / "credentials"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def sensor_keys(self) -> Path:
        return self.keys / "sensors"

    @property
    def subscriber_keys(self) -> Path:
        return self.keys / "track-subscribers"

    def password(self, user: str) -> Path:
        return self.credentials / f"{user}.password"

    def client_cert(self, user: str) -> Path:
        return self.credentials / f"{user}.crt"

    def client_key(self, user: str) -> Path:
        return self.credentials / f"{user}.key"

    def camp_file(self, user: str) -> Path:
        return self.root / ("camp.toml" if user == CORE_USER else f"{user}.toml")


def _folder(path: Path, mode: int) -> None:
    if not path.exists():
        path.mkdir(parents=True, mode=mode)
        os.chmod(path, mode)  # explicit: mkdir's mode is filtered by the umask


def _key_pair(folder: Path, name: str, report: Report) -> str:
    """The public key (Z85) of `folder/name`: the existing pair's, or a new pair's."""
    public, secret = curve_keys.public_path(folder, name), curve_keys.secret_path(folder, name)
    if secret.exists():
        key, _ = curve_keys.load_secret_key(secret, str(secret))
        if not public.exists():  # the public half can always be derived again
            write_new(public, curve_keys.public_certificate(key), 0o644)
        report.kept.append(secret)
        return key.decode()
    if public.exists():
        raise SecureInitError(
            f"{public} exists without its secret {secret.name}: restore the secret key, or "
            "remove the public one to make a new pair (and give the sensor the new key)"
        )
    z85 = curve_keys.create_key_pair(folder, name)
    report.created.append(secret)
    return z85


def _issued(
    key: Path, cert: Path, make: Callable[[], pki.Issued], report: Report, key_mode: int = 0o600
) -> pki.Issued:
    """The existing key and certificate, or new ones from `make()`; never one without the
    other."""
    if key.exists() and cert.exists():
        report.kept.append(cert)
        return pki.Issued.read(key, cert)
    if key.exists() or cert.exists():
        present, missing = (key, cert) if key.exists() else (cert, key)
        raise SecureInitError(f"{present} exists without {missing}: restore it or remove both")
    issued = make()
    issued.write(key, cert, key_mode)
    report.created.append(cert)
    return issued


def _password(path: Path, report: Report) -> str:
    if path.exists():
        report.kept.append(path)
        return path.read_text(encoding="utf-8").splitlines()[0]
    password = secrets.token_urlsafe(24)
    write_new(path, (password + "\n").encode(), 0o600)
    report.created.append(path)
    return password


def _server_names(host: str) -> list[str]:
    names = ["localhost", "127.0.0.1"]
    if host not in names and host not in ("0.0.0.0", "::"):
        names.append(host)
    return names


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _broker_can_reach(folder: Path) -> str | None:
    """Why the broker's user could not open files in `folder` (None: it can, or no such
    user here): every parent must be searchable by it."""
    gid = broker_gid()
    if gid is None:
        return None
    for parent in [folder.resolve(), *folder.resolve().parents]:
        st = parent.stat()
        if st.st_mode & stat.S_IXOTH or (st.st_gid == gid and st.st_mode & stat.S_IXGRP):
            continue
        return (
            f"the broker (user {BROKER_GROUP}) cannot enter {parent} (mode "
            f"{stat.S_IMODE(st.st_mode):04o}): put DIR elsewhere or `chmod o+x {parent}`"
        )
    return None


def secure_init(config_path: str | Path, out: str | Path) -> Report:
    """Write (or complete) the secured camp for `config_path` in `out`; see the module doc."""
    config = load_config(config_path)
    layout = Layout(Path(out).resolve())
    report = Report()
    _folder(layout.root, 0o711)  # others may pass through to mosquitto/, list nothing
    _folder(layout.ca, 0o755)
    _folder(layout.credentials, 0o700)
    _folder(layout.keys, 0o700)
    _folder(layout.sensor_keys, 0o700)
    _folder(layout.subscriber_keys, 0o700)
    broker = layout.broker
    _folder(broker.folder, 0o700)
    share_with_broker(broker.folder)

    # CURVE: the core, then every sensor of the camp.
    core_key = _key_pair(layout.keys, "core", report)
    sensor_keys = {s.id: _key_pair(layout.sensor_keys, s.id, report) for s in config.sensors}
    integrator = _key_pair(layout.subscriber_keys, "integrator", report)
    subscribers = [*config.zmq.track_subscriber_keys]
    subscribers += [integrator] if integrator not in subscribers else []

    # TLS: the CA; the broker's certificate; a client certificate per MQTT user.
    ca_key = layout.ca / "ca.key"
    leaves = [broker.key, *(layout.client_key(u) for u in USERS)]
    if not ca_key.exists() and any(p.exists() for p in leaves):
        raise SecureInitError(
            f"{ca_key} is missing but certificates it signed exist: restore it, or remove "
            f"{layout.ca}, {broker.key}, {broker.cert} and the credentials/*.crt|key to start over"
        )
    ca = _issued(
        ca_key, layout.ca / "ca.crt", lambda: pki.make_ca(f"cuas {config.camp_id} CA"), report
    )
    names = _server_names(config.mqtt.host)
    _issued(
        broker.key,
        broker.cert,
        lambda: pki.make_leaf(ca, f"cuas {config.camp_id} broker", server_names=names),
        report,
        key_mode=0o600,
    )
    for user in USERS:
        _issued(
            layout.client_key(user),
            layout.client_cert(user),
            lambda user=user: pki.make_leaf(ca, user),
            report,
        )
    passwords = {user: _password(layout.password(user), report) for user in USERS}

    # The broker's files (derived: rewritten every time).
    port = TLS_MQTT_PORT if config.mqtt.port == PLAIN_MQTT_PORT else config.mqtt.port
    bind = config.mqtt.host if _is_loopback(config.mqtt.host) else None
    topics = Topics(config.mqtt_prefix)
    derived = [
        (broker.ca_cert, (layout.ca / "ca.crt").read_bytes(), 0o644),
        (broker.passwords, password_file(passwords).encode(), 0o600),
        (broker.acl, acl(topics).encode(), 0o600),
        (broker.config, mosquitto_conf(broker, port, bind).encode(), 0o644),
    ]
    for path, data, mode in derived:
        write_replace(path, data, mode)
        report.rewritten.append(path)
    for path in (broker.key, broker.passwords, broker.acl):
        share_with_broker(path)
    if (reason := _broker_can_reach(broker.folder)) is not None:
        report.warnings.append(reason)

    # The camp files: the core's, the operators' and the viewers'.
    sensors = [
        msgspec.structs.replace(s, curve_public_key=sensor_keys[s.id]) for s in config.sensors
    ]
    for user in (CORE_USER, OPERATOR_USER, VIEWER_USER):
        mqtt = msgspec.structs.replace(
            config.mqtt,
            port=port,
            prefix=config.mqtt_prefix,
            username=user,
            password=None,
            password_file=f"credentials/{user}.password",
            tls_ca="ca/ca.crt",
            tls_cert=f"credentials/{user}.crt",
            tls_key=f"credentials/{user}.key",
        )
        zmq = msgspec.structs.replace(
            config.zmq,
            curve_secret_key="keys/core.key_secret" if user == CORE_USER else None,
            curve_server_key=core_key,
            track_subscriber_keys=subscribers,
        )
        camp = msgspec.structs.replace(config, mqtt=mqtt, zmq=zmq, sensors=sensors)
        path = layout.camp_file(user)
        header = f"# Camp {config.camp_id}, secured by `cuas secure init`, for MQTT user {user}.\n"
        write_replace(path, (header + dump_config(camp)).encode(), 0o644)
        report.rewritten.append(path)
    return report


def _command(args: argparse.Namespace) -> int:
    report = secure_init(args.config, args.out)
    print(report.render(Path(args.out).resolve()))
    print(
        f"next: run the broker with `mosquitto -c {Path(args.out).resolve()}/mosquitto/"
        "mosquitto.conf`, the core with `cuas run --config "
        f"{Path(args.out).resolve()}/camp.toml`, and give each sensor its keys/sensors/<id>"
        ".key_secret and keys/core.key (README: Securing a camp)"
    )
    return 0


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `cuas secure init` on the `cuas` command line's subparsers."""
    p = subparsers.add_parser(
        "secure",
        help="secure a camp: keys, certificates, broker passwords and ACL",
        description="Tools to secure a camp's sensor links (CurveZMQ) and broker (TLS, "
        "passwords, ACL).",
    )
    sub = p.add_subparsers(dest="secure_command", required=True)
    init = sub.add_parser(
        "init",
        help="write everything a secured camp needs into one folder",
        description="Write a CA and certificates, CURVE key pairs for the core and every "
        "sensor, Mosquitto's configuration with TLS, passwords and ACL, the operator's and "
        "viewer's credentials, and camp files with all of it filled in. Existing keys, "
        "certificates and passwords are kept and reused, never overwritten.",
    )
    init.add_argument("--config", required=True, help="the camp configuration (TOML)")
    init.add_argument("--out", required=True, help="folder to write into (created if missing)")
    init.set_defaults(func=_command)
    return p
