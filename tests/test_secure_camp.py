"""A secured camp (DESIGN.md, "Security"), from `cuas secure init` output to refused attacks.

Everything is real: the files `cuas secure init` writes, Mosquitto started from the
`mosquitto.conf` it wrote (TLS with client certificates, password file, ACL; started as root
it drops to the `mosquitto` user, as in the field), the core in-process, CURVE sensors, and
`cuas tail` as the viewer.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import json
import os
import pwd
import shutil
import stat
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import msgspec
import pytest
from aiomqtt.exceptions import MqttConnectError
from support.broker import MosquittoBroker, free_port
from support.live import Intruder, core_running, eventually, live_camp

from cuas import cli, wire
from cuas.config import CampConfig, MqttConfig, load_config
from cuas.errors import ConfigError
from cuas.io.mqtt_client import mqtt_client
from cuas.operator import tail
from cuas.security.broker_files import password_entry
from cuas.security.curve_keys import create_key_pair, public_path, secret_path
from cuas.security.files import broker_gid
from cuas.service.secure import SecureInitError, secure_init
from cuas.topics import Topics
from sensors.publisher import SensorPublisher
from simulators.flight.realtime import run_realtime
from simulators.scenario_library import build_scenario


@dataclass(frozen=True)
class Secured:
    """A camp secured by `cuas secure init`: its folder and its MQTT port."""

    out: Path
    port: int

    def camp(self, user: str = "core") -> CampConfig:
        return load_config(self.out / ("camp.toml" if user == "core" else f"{user}.toml"))

    def sensor(self, sensor_id: str, kind: str, key: str | None) -> SensorPublisher:
        """A publisher for `sensor_id` holding sensor `key`'s key pair (None: no CURVE)."""
        keys = self.out / "keys"
        return SensorPublisher(
            sensor_id,
            kind,  # type: ignore[arg-type]
            self.camp().zmq.ingest,
            curve_key=None if key is None else secret_path(keys / "sensors", key),
            curve_server_key=None if key is None else public_path(keys, "core"),
        )


@pytest.fixture
def reachable_dir() -> Iterator[Path]:
    """A folder the broker's user can enter (pytest's own tmp_path is 0700 under root's)."""
    folder = Path(tempfile.mkdtemp(prefix="cuas-secure-", dir="/tmp"))
    os.chmod(folder, 0o711)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def secured(reachable_dir: Path) -> Secured:
    (reachable_dir / "plain").mkdir()
    port = free_port()
    plain = live_camp(reachable_dir / "plain", port)
    fast_health = "[tracker]\nsensor_health_period_s = 1.0\n"  # health seen within the test
    plain.write_text(plain.read_text().replace("[tracker]\n", fast_health))
    out = reachable_dir / "secured"
    assert cli.main(["secure", "init", "--config", str(plain), "--out", str(out)]) == 0
    return Secured(out, port)


@pytest.fixture
def broker(secured: Secured, mosquitto_binary: str, reachable_dir: Path) -> Iterator[None]:
    conf = secured.out / "mosquitto" / "mosquitto.conf"
    b = MosquittoBroker(
        reachable_dir / "broker-run", port=secured.port, config_file=conf, binary=mosquitto_binary
    )
    b.start()
    if os.geteuid() == 0:  # as in the field: started as root, it reads its files as mosquitto
        assert b.pid is not None
        uid = Path(f"/proc/{b.pid}/status").read_text().split("Uid:")[1].split()[0]
        assert int(uid) == pwd.getpwnam("mosquitto").pw_uid
    yield
    b.kill()


def client(mqtt: MqttConfig, timeout: float = 5.0, **changes: object) -> aiomqtt.Client:
    """A client of the secured broker as `mqtt` says, with `changes` to its settings."""
    mqtt = msgspec.structs.replace(mqtt, **changes)  # type: ignore[arg-type]
    return mqtt_client(mqtt, identifier=f"test-{uuid.uuid4().hex[:8]}", timeout=timeout)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- cuas secure init ---------------------------------------------------------------------


def test_secure_init_writes_private_keys_and_a_camp_file_that_uses_them(secured: Secured) -> None:
    out = secured.out
    for private in [
        out / "ca" / "ca.key",
        out / "keys" / "core.key_secret",
        out / "keys" / "sensors" / "radar-1.key_secret",
        *(
            out / "credentials" / f"{u}.{x}"
            for u in ("core", "operator", "viewer")
            for x in ("key", "password")
        ),
    ]:
        assert mode(private) == 0o600, private
    for broker_file in ("server.key", "passwd", "acl"):
        assert mode(out / "mosquitto" / broker_file) in (0o600, 0o640)
    camp = secured.camp()
    assert camp.zmq.curve_secret_key == str(out / "keys" / "core.key_secret")
    assert all(s.curve_public_key for s in camp.sensors)
    assert camp.mqtt.username == "core" and camp.mqtt.port == secured.port
    assert camp.mqtt.tls_ca == str(out / "ca" / "ca.crt")
    viewer = secured.camp("viewer")
    assert viewer.mqtt.username == "viewer" and viewer.zmq.curve_secret_key is None
    assert camp.zmq.curve_server_key is not None  # what sensors dial the core with
    assert viewer.zmq.curve_server_key == camp.zmq.curve_server_key
    assert len(camp.zmq.track_subscriber_keys) == 1  # keys/track-subscribers/integrator


def test_re_running_secure_init_keeps_every_key_and_adds_only_the_new_sensors(
    secured: Secured, reachable_dir: Path
) -> None:
    secrets = sorted(
        p for p in secured.out.rglob("*") if p.suffix in (".key_secret", ".key", ".password")
    )
    before = {p: p.read_bytes() for p in secrets}
    plain = reachable_dir / "plain" / "camp.toml"
    extra = plain.read_text() + (
        '\n[[sensors]]\nid = "radar-2"\nkind = "radar"\nlat = 8.651\nlon = 24.501\n'
    )
    plain.write_text(extra)
    report = secure_init(plain, secured.out)
    assert [p.name for p in report.created] == ["radar-2.key_secret"]
    assert {p: p.read_bytes() for p in secrets} == before
    assert secured.camp().sensor("radar-2").curve_public_key  # type: ignore[union-attr]


def test_secure_init_refuses_a_public_key_whose_secret_is_gone(secured: Secured) -> None:
    (secured.out / "keys" / "sensors" / "radar-1.key_secret").unlink()
    plain = secured.out.parent / "plain" / "camp.toml"
    with pytest.raises(SecureInitError, match=r"radar-1\.key exists without its secret"):
        secure_init(plain, secured.out)


def test_password_entries_are_what_mosquitto_passwd_writes() -> None:
    # A line mosquitto_passwd 2.0.11 wrote for `core` / `core-secret`, salt and all.
    written = (
        "core:$7$101$FEuMGCj8Cbu90yMi$uKRMLXkZWnRRqQ60BqI/MMBaFgtswpfkuXq7LsW39BEvGfgQEj9Zq7kS"
        "RpNPflS9ctjaLzbG4HS+YNCMJbmb3A=="
    )
    salt = base64.b64decode(written.split("$")[3])
    assert password_entry("core", "core-secret", salt) == written


# --- the broker: TLS, passwords, ACL --------------------------------------------------------


def test_the_broker_lets_each_user_do_only_what_the_acl_grants(
    secured: Secured, broker: None
) -> None:
    core, operator, viewer = (secured.camp(u) for u in ("core", "operator", "viewer"))
    topics = Topics(core.mqtt_prefix)

    async def scenario() -> None:
        async with (
            client(viewer.mqtt) as watcher,
            client(core.mqtt) as c,
            client(operator.mqtt) as op,
            client(viewer.mqtt) as view,
        ):
            await watcher.subscribe(topics.everything, qos=1)
            # Denied, silently: an operator writing anything but an ack, a viewer anything.
            await op.publish(topics.tracks, b"forged by operator", qos=1)
            await op.publish(topics.alert("A-1"), b"forged by operator", qos=1)
            await view.publish(topics.ack("A-1"), b"ack by viewer", qos=1)
            await view.publish(topics.status, b"forged by viewer", qos=1)
            # Granted: the operator's ack, then the core's output (the last one: a marker).
            await op.publish(topics.ack("A-1"), b"ack by operator", qos=1)
            await c.publish(topics.tracks, b"core", qos=1)
            heard: list[tuple[str, bytes]] = []
            async with asyncio.timeout(5):
                async for m in watcher.messages:
                    heard.append((m.topic.value, bytes(m.payload)))  # type: ignore[arg-type]
                    if m.payload == b"core":
                        break
            assert heard == [(topics.ack("A-1"), b"ack by operator"), (topics.tracks, b"core")]

        for refused in (
            {"username": None, "password_file": None},  # anonymous
            {"password": "not-the-password", "password_file": None},
            {"username": "intruder", "password": "guess", "password_file": None},
        ):
            with pytest.raises(MqttConnectError) as exc:
                async with client(viewer.mqtt, **refused):
                    pass
            assert exc.value.rc is not None and exc.value.rc.value == 135  # Not authorized
        with pytest.raises(aiomqtt.MqttError):  # no TLS: no connection at all
            async with client(viewer.mqtt, tls_ca=None, tls_cert=None, tls_key=None, timeout=2):
                pass

    asyncio.run(asyncio.wait_for(scenario(), 30))


# --- end to end ---------------------------------------------------------------------------


def tail_settings(secured: Secured) -> tail.TailSettings:
    """`cuas tail --config viewer.toml --json`, as a viewer would run it."""
    parser = argparse.ArgumentParser()
    tail.add_command(parser.add_subparsers())
    args = parser.parse_args(["tail", "--config", str(secured.out / "viewer.toml"), "--json"])
    return tail.settings_from_args(args)


def test_a_secured_camp_runs_end_to_end_and_refuses_and_counts_every_attack(
    secured: Secured, broker: None, reachable_dir: Path
) -> None:
    config, operator, viewer = (secured.camp(u) for u in ("core", "operator", "viewer"))
    topics = Topics(config.mqtt_prefix)
    create_key_pair(reachable_dir / "rogue", "rogue")

    async def scenario() -> None:
        out = io.StringIO()
        subscribed = asyncio.Event()
        follower = asyncio.create_task(tail.tail(tail_settings(secured), out, ready=subscribed))
        stop = asyncio.Event()
        async with (
            core_running(config) as service,
            secured.sensor("radar-1", "radar", "radar-1") as radar,
        ):
            await asyncio.wait_for(subscribed.wait(), 5)
            flight = asyncio.create_task(Intruder(config).fly(stop, publisher=radar))

            def lines() -> list[dict[str, object]]:
                return [json.loads(line) for line in out.getvalue().splitlines()]

            def alert_ids() -> list[str]:
                return [
                    str(m["payload"]["alert_id"])  # type: ignore[index]
                    for m in lines()
                    if m["topic"] == topics.alert_events
                ]

            await eventually(lambda: alert_ids(), 20, "an alert reaching `cuas tail`")
            assert any(m["topic"] == topics.tracks for m in lines())

            # A sensor key speaking for another sensor: admitted, every message refused.
            async with secured.sensor("radar-1", "radar", "rf-ne") as spoof:
                assert await spoof.wait_connected(5)
                await spoof.send_report(time.time(), [])
                rejects = service.pipeline.ingest.sensors["radar-1"].rejects
                await eventually(lambda: rejects["key_mismatch"] >= 1, 5, "key_mismatch")

            def health_rejects() -> list[int]:  # as the viewer sees radar-1's health
                return [
                    int(m["payload"]["rejects"].get("key_mismatch", 0))  # type: ignore[index]
                    for m in lines()
                    if m["topic"] == topics.sensor("radar-1")
                ]

            await eventually(
                lambda: any(n >= 1 for n in health_rejects()), 5, "key_mismatch in sensor health"
            )
            # A key no sensor has, and a client without CURVE: refused at the handshake.
            rogue = SensorPublisher(
                "radar-1",
                "radar",
                config.zmq.ingest,
                curve_key=secret_path(reachable_dir / "rogue", "rogue"),
                curve_server_key=public_path(secured.out / "keys", "core"),
            )
            async with rogue, secured.sensor("radar-1", "radar", None) as plain:
                assert not await rogue.wait_connected(1.0)
                assert not await plain.wait_connected(0.1)
                curve = service.ingest.curve  # type: ignore[union-attr]
                assert curve is not None
                await eventually(lambda: curve.auth_failed >= 1, 5, "auth_failed")
                await eventually(lambda: curve.handshake_failed >= 1, 5, "handshake_failed")

            # A viewer's ack never reaches the core; an operator's does.
            alert_id = alert_ids()[0]
            ack = wire.to_json(wire.Ack(by="ops-1", t=time.time()))
            async with client(viewer.mqtt) as v:
                await v.publish(topics.ack(alert_id), ack, qos=1)
            async with client(operator.mqtt) as op:
                await op.publish(topics.ack(alert_id), ack, qos=1)
            await eventually(lambda: service.acks, 5, "the operator's ack")
            assert [a for a, _ in service.acks] == [alert_id]

            # Anonymous MQTT is refused.
            with pytest.raises(MqttConnectError):
                async with client(viewer.mqtt, username=None, password_file=None):
                    pass
            stop.set()
            assert await flight > 0
            # The radar's own reports were fused all along: only the forgeries were refused.
            assert service.pipeline.ingest.sensors["radar-1"].reports > 0
            assert service.ingest is not None
            assert service.ingest.key_mismatch == rejects["key_mismatch"] >= 1
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_the_simulators_fly_a_secured_camp_with_the_sensors_key_files(
    secured: Secured, broker: None
) -> None:
    config = secured.camp()
    keys = secured.out / "keys" / "sensors"
    scenario = build_scenario("attack", config, seed=0, duration_s=3.0, all_sensors=True)

    async def scenario_run() -> None:
        stop = asyncio.Event()
        with pytest.raises(ConfigError, match="CURVE sensors only"):  # no keys: refused at once
            await run_realtime(scenario, config, stop, speed=4.0)
        async with core_running(config) as service:
            stats = await run_realtime(
                scenario, config, stop, speed=4.0, curve_keys=keys, connect_timeout_s=10
            )
            assert stats.completed and stats.reports_sent > 0
            fused = service.pipeline.ingest.sensors
            await eventually(  # every report every sensor sent, accepted as from itself
                lambda: all(fused[s].reports == n for s, n in stats.by_sensor.items()),
                5,
                "every report of every flown sensor",
            )
            assert service.pipeline.ingest.rejects.by_reason()["key_mismatch"] == 0
            assert service.ingest is not None and service.ingest.curve is not None
            assert service.ingest.curve.auth_failed == 0

    asyncio.run(asyncio.wait_for(scenario_run(), 60))


def test_secure_init_warns_when_the_broker_could_not_reach_its_files(tmp_path: Path) -> None:
    if broker_gid() is None:
        pytest.skip("no mosquitto group on this machine")
    hidden = tmp_path / "private"
    hidden.mkdir(mode=0o700)
    os.chmod(hidden, 0o700)
    (tmp_path / "plain").mkdir()
    plain = live_camp(tmp_path / "plain", free_port())
    report = secure_init(plain, hidden / "secured")
    assert any(f"cannot enter {hidden}" in w for w in report.warnings)
