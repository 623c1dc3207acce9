"""Authenticated sensors (DESIGN.md, "Security"): CurveZMQ on the core's ingest socket.

Real sockets on loopback: the core's `IngestSocket` as a CURVE server with the camp's keys,
and real `SensorPublisher`s, each in a context of its own (as a remote sensor would be).
"""

from __future__ import annotations

import asyncio
import contextlib
import stat
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import zmq
import zmq.asyncio
import zmq.auth
from support.broker import free_port

from cuas.config import CampConfig, load_config
from cuas.errors import ConfigError
from cuas.fusion.ingest import Ingest
from cuas.io.curve_auth import CurveServer
from cuas.io.ingest_socket import IngestSocket
from cuas.io.recording import read_records
from cuas.io.track_socket import TrackSocket
from cuas.security.curve_keys import create_key_pair, public_path, secret_path
from cuas.service.record import capture_async
from cuas.wire import RadarDetection, RfDetection, TrackCycle
from sensors.publisher import SensorPublisher, curve_options

T0 = 1764000000.0


def free_endpoint() -> str:
    return f"tcp://127.0.0.1:{free_port()}"


def secured_camp(folder: Path, endpoint: str) -> Path:
    """A camp with a radar and an RF sensor, each with a key pair; the core's key beside."""
    keys = folder / "keys"
    create_key_pair(keys, "core")
    radar = create_key_pair(keys / "sensors", "radar1")
    rf = create_key_pair(keys / "sensors", "rf2")
    create_key_pair(keys / "sensors", "rogue")  # a key pair no sensor of the camp has
    integrator = create_key_pair(keys, "integrator")  # may subscribe to the track stream
    camp = folder / "camp.toml"
    camp.write_text(
        f"""camp_id = "alpha"
origin = {{ lat = 8.65, lon = 24.5 }}
[zmq]
ingest = "{endpoint}"
tracks = "{free_endpoint()}"
curve_secret_key = "keys/core.key_secret"
track_subscriber_keys = ["{integrator}"]
[[sensors]]
id = "radar1"
kind = "radar"
lat = 8.65
lon = 24.5
curve_public_key = "{radar}"
[[sensors]]
id = "rf2"
kind = "rf"
lat = 8.651
lon = 24.501
curve_public_key = "{rf}"
"""
    )
    return camp


class SecuredIngest:
    """The core's side: the CURVE ingest socket, always receiving, feeding fusion's Ingest."""

    def __init__(self, config: CampConfig) -> None:
        self.context = zmq.asyncio.Context()
        self.ingest = Ingest(config)
        curve = CurveServer.for_camp(config, self.context)
        assert curve is not None
        self.curve = curve
        self.socket = IngestSocket(
            config.zmq.ingest, self.context, curve=curve, reject=self.ingest.reject
        )
        self.accepted: list[tuple[str, object]] = []

    async def receive(self) -> None:
        while True:
            for topic, payload in await self.socket.batch():
                message = self.ingest.accept(topic, payload)
                if message is not None:
                    self.accepted.append((topic, message))

    def close(self) -> None:
        self.socket.close()
        self.context.term()


@contextlib.asynccontextmanager
async def core_for(camp: Path) -> AsyncIterator[SecuredIngest]:
    core = SecuredIngest(load_config(camp))
    task = asyncio.create_task(core.receive())
    try:
        yield core
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        core.close()


def sensor(camp: Path, sensor_id: str, kind: str, key: str | None) -> SensorPublisher:
    """A publisher for `sensor_id` holding the key pair named `key` (None: no CURVE)."""
    keys = camp.parent / "keys"
    return SensorPublisher(
        sensor_id,
        kind,  # type: ignore[arg-type]
        load_config(camp).zmq.ingest,
        context=zmq.asyncio.Context(),
        curve_key=None if key is None else secret_path(keys / "sensors", key),
        curve_server_key=None if key is None else public_path(keys, "core"),
    )


async def until(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


def run(scenario: Callable[[], object], timeout: float = 10.0) -> None:
    asyncio.run(asyncio.wait_for(scenario(), timeout))  # type: ignore[arg-type]


@pytest.fixture
def camp(tmp_path: Path) -> Path:
    return secured_camp(tmp_path, free_endpoint())


def test_a_sensor_holding_its_own_key_is_fused_as_itself(camp: Path) -> None:
    async def scenario() -> None:
        async with core_for(camp) as core, sensor(camp, "radar1", "radar", "radar1") as radar:
            assert await radar.wait_connected(3.0)
            for i in range(5):
                await radar.send_report(
                    T0 + i, [RadarDetection(range_m=900.0, az_deg=1.0, el_deg=2.0)]
                )
            await until(lambda: sum(t == "report.radar1" for t, _ in core.accepted) == 5)
            assert core.socket.key_mismatch == 0 and core.curve.auth_failed == 0

    run(scenario)


def test_a_known_key_speaking_for_another_sensor_is_refused_and_counted_for_that_sensor(
    camp: Path,
) -> None:
    async def scenario() -> None:
        async with core_for(camp) as core, sensor(camp, "rf2", "rf", "radar1") as spoof:
            assert await spoof.wait_connected(3.0)  # radar1's key is admitted ...
            for i in range(4):  # ... but it may speak only for radar1
                await spoof.send_report(T0 + i, [RfDetection(az_deg=10.0)])
            await until(lambda: core.socket.key_mismatch >= 4)
            assert not [t for t, _ in core.accepted if t.startswith("report.")]
            assert core.ingest.sensors["rf2"].rejects["key_mismatch"] >= 4
            assert core.ingest.rejects.by_reason()["key_mismatch"] >= 4

    run(scenario)


def test_an_unknown_key_is_refused_at_the_handshake_and_counted(camp: Path) -> None:
    async def scenario() -> None:
        async with core_for(camp) as core, sensor(camp, "radar1", "radar", "rogue") as rogue:
            assert not await rogue.wait_connected(1.0)
            await rogue.send_raw("report.radar1", b"\x80")
            await until(lambda: core.curve.auth_failed >= 1)
            assert core.curve.refused.by_reason()["unknown_key"] >= 1
            await until(lambda: rogue.handshake_failures.by_reason()["key_refused"] >= 1)
            assert core.socket.received == 0 and not core.accepted

    run(scenario)


def test_a_client_without_curve_is_refused(camp: Path) -> None:
    async def scenario() -> None:
        async with core_for(camp) as core, sensor(camp, "radar1", "radar", None) as plain:
            assert not await plain.wait_connected(1.0)
            await until(lambda: core.curve.handshake_failed >= 1)
            assert core.socket.received == 0 and not core.accepted

    run(scenario)


def test_a_client_with_the_wrong_server_key_gets_nothing_in(camp: Path) -> None:
    keys = camp.parent / "keys"
    create_key_pair(keys, "impostor-core")

    async def scenario() -> None:
        async with core_for(camp) as core:
            pub = SensorPublisher(
                "radar1",
                "radar",
                load_config(camp).zmq.ingest,
                context=zmq.asyncio.Context(),
                curve_key=secret_path(keys / "sensors", "radar1"),
                curve_server_key=public_path(keys, "impostor-core"),
            )
            async with pub:
                assert not await pub.wait_connected(1.0)
                await until(lambda: core.curve.handshake_failed >= 1)
                assert pub.handshake_failures.total >= 1  # counted on the sensor's side too
            assert core.socket.received == 0

    run(scenario)


def test_key_pairs_are_private_loadable_and_never_overwritten(tmp_path: Path) -> None:
    public = create_key_pair(tmp_path, "radar1")
    secret = secret_path(tmp_path, "radar1")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(public_path(tmp_path, "radar1").stat().st_mode) == 0o644
    pub, sec = zmq.auth.load_certificate(secret)
    assert pub.decode() == public and sec is not None
    before = secret.read_bytes()
    with pytest.raises(FileExistsError):
        create_key_pair(tmp_path, "radar1")
    assert secret.read_bytes() == before


def test_a_secured_camp_needs_a_key_for_every_sensor_and_one_key_per_sensor(
    camp: Path,
) -> None:
    text = camp.read_text()
    first_key = text.split('curve_public_key = "')[1].split('"')[0]
    no_key = camp.with_name("no_key.toml")
    no_key.write_text(text.replace(f'curve_public_key = "{first_key}"\n', ""))
    with pytest.raises(ConfigError, match="curve_public_key"):
        load_config(no_key)
    shared = camp.with_name("shared.toml")
    second_key = text.split('curve_public_key = "')[2].split('"')[0]
    shared.write_text(text.replace(second_key, first_key))
    with pytest.raises(ConfigError, match="one key per sensor"):
        load_config(shared)
    assert load_config(camp).zmq.curve_secret_key == str(camp.parent / "keys/core.key_secret")


def test_a_core_announcing_a_key_that_is_not_its_own_refuses_to_start(camp: Path) -> None:
    other = create_key_pair(camp.parent / "keys", "other")
    text = camp.read_text().replace(
        'curve_secret_key = "keys/core.key_secret"\n',
        f'curve_secret_key = "keys/core.key_secret"\ncurve_server_key = "{other}"\n',
    )
    camp.write_text(text)
    context = zmq.asyncio.Context()
    try:
        with pytest.raises(ConfigError, match="not the public half"):
            CurveServer.for_camp(load_config(camp), context)
    finally:
        context.term()


def test_a_sensor_of_a_secured_camp_needs_its_key_and_gets_the_core_s_from_the_camp_file(
    camp: Path,
) -> None:
    keys = camp.parent / "keys"
    core_public, _ = zmq.auth.load_certificate(public_path(keys, "core"))
    text = camp.read_text().replace(
        'curve_secret_key = "keys/core.key_secret"\n',
        f'curve_secret_key = "keys/core.key_secret"\ncurve_server_key = "{core_public.decode()}"\n',
    )
    camp.write_text(text)
    config = load_config(camp)
    with pytest.raises(ConfigError, match="CURVE sensors only"):
        curve_options(config, None)
    key = secret_path(keys / "sensors", "radar1")
    options = curve_options(config, key)
    assert options == {"curve_key": key, "curve_server_key": core_public.decode()}

    async def scenario() -> None:
        async with core_for(camp) as core:
            pub = SensorPublisher(
                "radar1", "radar", config.zmq.ingest, context=zmq.asyncio.Context(), **options
            )
            async with pub:
                assert await pub.wait_connected(3.0)
                await pub.send_report(T0, [])
                await until(lambda: [t for t, _ in core.accepted if t == "report.radar1"] != [])

    run(scenario)


def test_cuas_record_on_a_secured_camp_records_only_what_the_core_would_accept(
    camp: Path, tmp_path: Path
) -> None:
    config = load_config(camp)
    out = tmp_path / "capture.msgpack"

    async def scenario() -> None:
        stop = asyncio.Event()
        capture = asyncio.create_task(capture_async(config.zmq.ingest, out, stop, config=config))
        async with (
            sensor(camp, "radar1", "radar", "radar1") as radar,
            sensor(camp, "rf2", "rf", "radar1") as spoof,
        ):
            assert await radar.wait_connected(3.0) and await spoof.wait_connected(3.0)
            for i in range(3):
                await spoof.send_report(T0 + i, [RfDetection(az_deg=10.0)])
                await radar.send_report(T0 + i, [])
            await asyncio.sleep(0.3)  # let the capture drain what is on its way
        stop.set()
        assert await capture >= 3

    run(scenario)
    topics = {r.topic for r in read_records(out)}
    assert "report.radar1" in topics and "report.rf2" not in topics


def test_the_track_stream_goes_only_to_the_listed_subscribers(camp: Path) -> None:
    config = load_config(camp)
    keys = camp.parent / "keys"
    core_public, _ = zmq.auth.load_certificate(public_path(keys, "core"))

    def subscriber(key_file: Path | None) -> zmq.asyncio.Socket:
        """An integrator's SUB, holding the key pair in `key_file` (None: no CURVE)."""
        sub = zmq.asyncio.Context().socket(zmq.SUB)
        if key_file is not None:
            public, secret = zmq.auth.load_certificate(key_file)
            sub.curve_serverkey = core_public
            sub.curve_publickey, sub.curve_secretkey = public, secret
        sub.setsockopt(zmq.LINGER, 0)
        sub.subscribe(b"tracks")
        sub.connect(config.zmq.tracks)
        return sub

    async def scenario() -> None:
        context = zmq.asyncio.Context()
        curve = CurveServer.for_camp(config, context)
        assert curve is not None
        stream = TrackSocket(config.zmq.tracks, context, curve=curve)
        subs = {
            "integrator": subscriber(secret_path(keys, "integrator")),
            "rogue": subscriber(secret_path(keys / "sensors", "rogue")),
            "plain": subscriber(None),
        }
        got: dict[str, list[bytes]] = {name: [] for name in subs}

        async def drain(name: str) -> None:
            while True:
                got[name].append((await subs[name].recv_multipart())[1])

        readers = [asyncio.create_task(drain(name)) for name in subs]
        try:
            cycle = TrackCycle(v=1, t=T0, tracks=[])
            deadline = time.monotonic() + 5.0
            while not got["integrator"] and time.monotonic() < deadline:
                stream.send(cycle)
                await asyncio.sleep(0.05)
            for _ in range(6):  # the others had as long, and then some
                stream.send(cycle)
                await asyncio.sleep(0.05)
            assert got["integrator"] and not got["rogue"] and not got["plain"]
            assert curve.subscribers_refused >= 1
        finally:
            for reader in readers:
                reader.cancel()
            for sub in subs.values():
                sub.close()
            curve.close()
            stream.close()
            context.term()

    run(scenario)


def test_without_its_authenticator_the_ingest_socket_admits_nobody(camp: Path) -> None:
    """Fail closed: a CURVE server with no ZAP handler would admit every key (FIELD-NOTES);
    the socket enforces its ZAP domain, so with the handler gone even a known key is refused."""

    async def scenario() -> None:
        async with core_for(camp) as core:
            core.curve._authenticator.stop()  # the fault: no ZAP handler answers any more
            async with sensor(camp, "radar1", "radar", "radar1") as radar:
                assert not await radar.wait_connected(1.0)
                await radar.send_raw("report.radar1", b"\x80")
                await asyncio.sleep(0.2)
            assert core.socket.received == 0 and not core.accepted

    run(scenario)


def test_a_missing_or_exposed_core_key_is_reported(
    camp: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = camp.parent / "keys" / "core.key_secret"
    context = zmq.asyncio.Context()
    try:
        secret.chmod(0o644)
        with caplog.at_level("WARNING", logger="cuas.security"):
            assert CurveServer.for_camp(load_config(camp), context) is not None
        assert "readable by others" in caplog.text
        secret.unlink()
        with pytest.raises(ConfigError, match="cannot read"):
            CurveServer.for_camp(load_config(camp), context)
    finally:
        context.term()
