"""The live service end to end: sensors -> ZeroMQ -> core -> a real Mosquitto -> subscribers."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import msgpack
import pytest
import zmq
import zmq.asyncio
from support.live import (
    Intruder,
    camp,
    core_running,
    corner_clip,
    eventually,
    listening,
    live_camp,
    small_camp,
    start_core_process,
)
from support.sky import states

from cuas import wire
from cuas.io.journal import Journal
from cuas.service.run import FusionService
from sensors.publisher import SensorPublisher


def firm(heard) -> list[wire.Track]:
    return [t for c in heard.cycles[-1:] for t in c.tracks if t.status in ("confirmed", "coasting")]


def test_an_intruder_raises_an_alert_that_a_late_subscriber_still_finds(mosquitto, tmp_path):
    config = camp(live_camp(tmp_path, mosquitto.port))

    async def scenario() -> None:
        stop = asyncio.Event()
        async with core_running(config) as service:
            async with listening(mosquitto.port) as heard:
                await asyncio.wait_for(service.ready.wait(), 5)
                flight = asyncio.create_task(Intruder(config).fly(stop))
                await eventually(
                    lambda: any(a.state == "raised" for a in heard.events), 10, "a raised alert"
                )
                raised = next(a for a in heard.events if a.state == "raised")
                assert raised.level == "warning" and raised.zone == "approach"
                assert raised.eta_s is not None and 0 < raised.eta_s < 30
                await eventually(lambda: bool(firm(heard)), 5, "a confirmed track on MQTT")
                assert any(t.track_id == raised.track_id for t in firm(heard))
                assert heard.statuses[0][0].state == "online"
                # The integrators' ZeroMQ stream carries the same cycles.
                ctx = zmq.asyncio.Context()
                sub = ctx.socket(zmq.SUB)
                sub.setsockopt(zmq.SUBSCRIBE, b"tracks")
                sub.connect(config.zmq.tracks)
                topic, payload = await asyncio.wait_for(sub.recv_multipart(), 5)
                assert topic == b"tracks"
                assert wire.from_msgpack(payload, wire.TrackCycle).tracks
                sub.close(0)
                ctx.term()
            # A subscriber that connects later is handed the active alert, retained.
            async with listening(mosquitto.port, identifier="late-console") as late:
                await eventually(
                    lambda: raised.alert_id in late.retained_alerts, 5, "the retained alert"
                )
                payload, retained = late.retained_alerts[raised.alert_id]
                assert retained
                assert wire.from_json(payload, wire.Alert).track_id == raised.track_id
            stop.set()
            await flight

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_the_core_rides_out_a_30_s_broker_outage_and_loses_no_alert_transition(
    make_mosquitto, tmp_path
):
    """Tracking goes on while the broker is down, and the alert changes meanwhile (escalated
    at the perimeter, cleared on leaving) wait in the journal: a console with a persistent
    session receives every transition after the outage, in order, none twice."""
    broker = make_mosquitto(persistence=True)
    config = camp(small_camp(tmp_path, broker.port))

    async def scenario() -> None:
        stop = asyncio.Event()
        # An operations console with a persistent session: the broker keeps its QoS 1
        # messages while it is away, and across the broker's restart.
        async with (
            core_running(config) as service,
            listening(broker.port, identifier="ops-console", clean_session=False) as ops,
        ):
            await asyncio.wait_for(service.ready.wait(), 5)
            flight = asyncio.create_task(corner_clip(config).fly(stop))
            await eventually(lambda: bool(ops.events), 15, "the raised alert")
            (raised,) = ops.events
            before = service.pipeline.cycles

            broker.stop()
            await asyncio.sleep(30.0)
            assert not service.publisher.connected
            # Tracking never stopped, and the alert went through the rest of its life.
            assert service.pipeline.cycles > before + 100
            with Journal(config.journal_path) as journal:
                changed = [r.state for r in journal.query() if r.published_at is None]
            assert [s for s in changed if s != "updated"] == ["escalated", "cleared"]
            assert service.publisher.pending >= len(changed) > 0
            broker.start()

            await eventually(lambda: service.publisher.connected, 15, "the core to reconnect")
            await eventually(
                lambda: any(a.state == "cleared" for a in ops.events),
                15,
                "the transitions queued during the outage",
            )
            cycles_after = len(ops.cycles)
            await eventually(lambda: len(ops.cycles) > cycles_after + 3, 5, "tracks to resume")
            assert raised.track_id in {t.track_id for t in firm(ops)}, "the same track carried on"
            stop.set()
            await flight
        with Journal(config.journal_path) as journal:
            assert ops.events == [r.alert for r in journal.query()]
            assert journal.pending_count() == 0
        assert states(ops.events) == ["raised", "escalated", "cleared"]

    asyncio.run(asyncio.wait_for(scenario(), 120))


def test_bad_traffic_is_rejected_and_counted_while_valid_traffic_flows(mosquitto, tmp_path):
    path = live_camp(tmp_path, mosquitto.port)
    # The burst below is over radar-1's intake limit; here the decoders must see all of it.
    path.write_text(path.read_text().replace("intake_rate_factor = 20.0", "intake_rate_factor = 0"))
    config = camp(path)
    good = {
        "v": 1,
        "sensor_id": "radar-1",
        "seq": 0,
        "t": 0.0,
        "kind": "radar",
        "detections": [{"range_m": 500.0, "az_deg": 10.0, "el_deg": 5.0}],
    }

    async def scenario() -> None:
        stop = asyncio.Event()
        async with core_running(config) as service, listening(mosquitto.port) as heard:
            await asyncio.wait_for(service.ready.wait(), 5)
            radar = SensorPublisher("radar-1", "radar", config.zmq.ingest)
            ghost = SensorPublisher("ghost-7", "radar", config.zmq.ingest)
            async with radar, ghost:
                flight = asyncio.create_task(Intruder(config).fly(stop, publisher=radar))
                await ghost.wait_connected(5)
                await eventually(lambda: bool(firm(heard)), 10, "a confirmed track")
                for i in range(50):
                    await radar.send_raw("report.radar-1", b"\xc1 not msgpack")
                    await radar.send_raw(
                        "report.radar-1",
                        msgpack.packb(
                            good
                            | {
                                "seq": i,
                                "t": time.time(),
                                "detections": [
                                    {"range_m": float("nan"), "az_deg": 10.0, "el_deg": 5.0}
                                ],
                            }
                        ),
                    )
                    await radar.send_raw(
                        "report.radar-1",
                        msgpack.packb(
                            good
                            | {
                                "seq": i,
                                "t": time.time(),
                                "detections": [{"range_m": 500.0, "az_deg": 400.0, "el_deg": 5.0}],
                            }
                        ),
                    )
                    await ghost.send_report(time.time(), [])
                counts = service.pipeline.ingest.rejects.counts
                await eventually(
                    lambda: counts[("?", "unknown_sensor")] >= 50,  # unknown ids: one counter
                    5,
                    "the unknown sensor's reports to be rejected",
                )
                assert counts[("radar-1", "malformed")] == 50
                assert counts[("radar-1", "detection_out_of_range")] == 100
                # Valid traffic kept flowing: the intruder is still tracked, updates recent.
                cycles = len(heard.cycles)
                await eventually(lambda: len(heard.cycles) > cycles + 3, 5, "more cycles")
                latest = heard.cycles[-1]
                assert any(latest.t - t.t_update < 1.0 for t in firm(heard))
                # The rejects are visible to the operations centre in the sensor's health.
                await eventually(
                    lambda: any(
                        h.sensor_id == "radar-1" and h.rejects.get("malformed") == 50
                        for h in heard.health
                    ),
                    10,
                    "rejects in the sensor health",
                )
                stop.set()
                await flight

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_cuas_run_announces_offline_on_sigterm_and_the_broker_on_sigkill(mosquitto, tmp_path):
    path = live_camp(tmp_path, mosquitto.port)

    async def scenario() -> None:
        for sig, clean in ((signal.SIGTERM, True), (signal.SIGKILL, False)):
            async with listening(mosquitto.port) as heard:
                proc = start_core_process(path, capture=True)
                try:
                    await eventually(
                        lambda: any(s.state == "online" for s, _ in heard.statuses), 15, "online"
                    )
                    proc.send_signal(sig)
                    code = await asyncio.to_thread(proc.wait, 15)
                    await eventually(
                        lambda: heard.statuses[-1][0].state == "offline", 10, "offline"
                    )
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
            offline = heard.statuses[-1][0]
            if clean:
                assert code == 0, proc.stdout.read() if proc.stdout else ""
                assert offline.t is not None  # published by the core itself
            else:
                assert offline.t is None  # the last will, published by the broker

    asyncio.run(asyncio.wait_for(scenario(), 90))


def test_cuas_record_captures_what_replay_reads(tmp_path: Path):
    path = live_camp(tmp_path, 1)  # no broker needed
    config = camp(path)
    out = tmp_path / "capture.msgpack"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cuas",
            "record",
            "--config",
            str(path),
            "--out",
            str(out),
            "--count",
            "20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    async def feed() -> int:
        stop = asyncio.Event()
        flight = asyncio.create_task(Intruder(config).fly(stop))
        await asyncio.to_thread(proc.wait, 30)
        stop.set()
        return await flight

    sent = asyncio.run(feed())
    assert proc.returncode == 0, proc.stdout.read() if proc.stdout else ""
    assert sent >= 15
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cuas",
            "replay",
            str(out),
            "--config",
            str(path),
            "--out",
            str(tmp_path / "replayed.msgpack"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "rejected       0" in result.stdout


def test_a_core_whose_track_port_is_taken_fails_clearly_and_frees_its_ingest_port(
    mosquitto, tmp_path
):
    """The track stream's port is held by another program: the core stops with ZeroMQ's
    `Address already in use`, and the ingest socket it had already bound is closed with its
    context (left to the garbage collector, ending that context later blocked a whole test
    run)."""
    config = camp(live_camp(tmp_path, mosquitto.port))
    host, port = config.zmq.tracks.removeprefix("tcp://").rsplit(":", 1)
    service = FusionService(config)
    with socket.socket() as holder:
        holder.bind((host, int(port)))
        holder.listen()
        with pytest.raises(zmq.ZMQError, match="Address already in use"):
            asyncio.run(asyncio.wait_for(service.run(asyncio.Event()), 30))
    host, port = config.zmq.ingest.removeprefix("tcp://").rsplit(":", 1)
    with socket.socket() as again:
        again.bind((host, int(port)))  # free again
