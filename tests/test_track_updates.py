"""Per-scan track updates: the tracks each scan updated, handed out as soon as it is fused
(MQTT `tracks/updates`, ZeroMQ `track_updates`), beside the full cycles.

The pipeline and replay are tested here without I/O; the publisher's merging under
backpressure over a real Mosquitto; delivery end to end in tests/test_service_updates.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import numpy as np
import pytest
from support.reports import CONFIG, FRAME, T0
from support.wire_alerts import transition

from cuas import wire
from cuas.config import load_config
from cuas.fusion.alerts import Transition
from cuas.fusion.pipeline import FusionPipeline, PipelineOutput
from cuas.io.journal import Journal
from cuas.io.mqtt_output import decode_output
from cuas.io.mqtt_publisher import MqttPublisher, merge_updates
from cuas.io.recording import read_records
from cuas.service.replay import replay
from cuas.topics import Topics
from simulators.benchmark_scenarios import SAMPLE_CONFIG, SAMPLE_DIR

A = np.array([0.0, 1500.0, 120.0])  # two drones a kilometre apart, both seen by radar-1
B = np.array([1200.0, -900.0, 90.0])
VEL_A = np.array([0.0, -10.0, 0.0])


def plots(t: float, seq: int, points: list[np.ndarray]) -> bytes:
    """One radar-1 report with a plot of each point (camp ENU), measured at `t`."""
    radar = CONFIG.sensor("radar-1")
    assert radar is not None
    frame = FRAME.sensor_frame(radar.lat, radar.lon, radar.alt_m)
    dets = []
    for p in points:
        az, el, rng = frame.enu_to_aer(p)
        dets.append(wire.RadarDetection(range_m=float(rng), az_deg=float(az), el_deg=float(el)))
    report = wire.RadarReport(v=1, sensor_id="radar-1", seq=seq, t=t, detections=dets)
    return wire.to_msgpack(report)


def a_at(t: float) -> np.ndarray:
    return A + VEL_A * (t - T0)


def fuse(pipeline: FusionPipeline, t: float, seq: int, points: list[np.ndarray]) -> list:
    """Submit radar-1's scan of `points` at `t` and let the reorder window (0.5 s) release it;
    the track updates handed out since, whether before a cycle or taken after."""
    out = pipeline.submit("report.radar-1", plots(t, seq, points), t + 0.01)
    out += pipeline.advance(t + 0.6)
    taken = pipeline.take_update()
    return [o for o in out if isinstance(o, wire.TrackUpdate)] + ([taken] if taken else [])


def alert(alert_id: str, t: float) -> Transition:
    """A `raised` transition of some alert, as the lifecycle would journal it."""
    return transition(alert_id, "raised", t)


def test_each_scan_hands_out_the_tracks_it_updated_and_only_those() -> None:
    pipeline = FusionPipeline(CONFIG, track_updates=True)
    assert pipeline.take_update() is None  # nothing fused yet
    seen_both: set[int] = set()
    for k in range(4):  # both drones, 0.25 s apart
        t = T0 + 0.3 + 0.25 * k
        (update,) = fuse(pipeline, t, k, [a_at(t), B])
        assert update.v == wire.VERSION
        assert update.t == t
        assert {tr.t_update for tr in update.tracks} == {t}
        seen_both |= {tr.track_id for tr in update.tracks}
        assert pipeline.take_update() is None  # handed out once
    assert len(seen_both) == 2

    t = T0 + 1.3
    (update,) = fuse(pipeline, t, 9, [a_at(t)])  # drone B unseen
    (only,) = update.tracks
    table = pipeline.tracker.tracks
    live = set(table.track_id[: table.n].tolist())
    assert seen_both <= live  # B's track lives on in the picture, but was not updated
    assert only.track_id in seen_both and only.t_update == t
    row = int(np.flatnonzero(table.track_id[: table.n] == only.track_id)[0])
    assert pipeline.tracker.t == t
    assert only.enu == pytest.approx(table.x[row, :3], abs=0.01)  # its state now


def test_updates_merge_a_burst_of_scans_and_precede_the_cycle_after_them() -> None:
    pipeline = FusionPipeline(CONFIG, track_updates=True)
    out: list[PipelineOutput] = []
    times = [T0 + 0.15 + 0.2 * k for k in range(9)]  # over the cycles at T0 + 1, T0 + 2
    for k, t in enumerate(times):
        out += pipeline.submit("report.radar-1", plots(t, k, [a_at(t), B]), t + 0.01)
    out += pipeline.flush()
    kinds = [type(o).__name__ for o in out if not isinstance(o, wire.SensorHealth)]
    # Nobody took the updates: each cycle is preceded by one update of the scans before it.
    assert kinds == ["TrackUpdate", "TrackCycle", "TrackUpdate", "TrackCycle"]
    for i, o in enumerate(out):
        if isinstance(o, wire.TrackUpdate):
            cycle = next(c for c in out[i:] if isinstance(c, wire.TrackCycle))
            before = [t for t in times if t < cycle.t]
            assert o.t == max(before) < cycle.t
            assert len(o.tracks) == len({tr.track_id for tr in o.tracks}) == 2  # once each


def test_updates_cost_replay_nothing_unless_asked_and_change_nothing_else(
    tmp_path: Path,
) -> None:
    recording = SAMPLE_DIR / "camp-ingress.msgpack"
    config = load_config(SAMPLE_CONFIG)
    plain, with_updates = tmp_path / "plain.msgpack", tmp_path / "updates.msgpack"
    replay(recording, config, plain, progress=False)
    summary = replay(recording, config, with_updates, progress=False, updates=True)
    records = list(read_records(with_updates))
    updates = [r for r in records if r.topic == "track_updates"]
    assert summary.track_updates == len(updates) > 0
    others = [r for r in records if r.topic != "track_updates"]
    plain_records = list(read_records(plain))
    assert [(r.t_received, r.topic, r.payload) for r in others] == [
        (r.t_received, r.topic, r.payload) for r in plain_records
    ]
    for r in updates:
        update = wire.from_msgpack(r.payload, wire.TrackUpdate)
        assert update.tracks and all(tr.t_update <= update.t for tr in update.tracks)


def test_a_waiting_update_takes_the_newer_states_and_keeps_every_track() -> None:
    pipeline = FusionPipeline(CONFIG, track_updates=True)
    t1, t2 = T0 + 0.1, T0 + 0.2
    (first,) = fuse(pipeline, t1, 1, [a_at(t1), B])
    (second,) = fuse(pipeline, t2, 2, [a_at(t2)])
    assert len(first.tracks) == 2 and len(second.tracks) == 1
    merged = merge_updates(first, second)
    assert merged.t == second.t
    by_id = {tr.track_id: tr for tr in merged.tracks}
    assert set(by_id) == {tr.track_id for tr in first.tracks}
    assert by_id[second.tracks[0].track_id] == second.tracks[0]  # the newer state won


@pytest.mark.broker
def test_a_flood_of_updates_is_merged_while_every_alert_goes_out(mosquitto, tmp_path) -> None:
    """Backpressure: a core handing over updates far faster than the pump can send them
    (all at once, without yielding, as the ingest loop does within a report) has them merged
    into one waiting message, while every alert transition in the journal is published."""
    config = msgspec.structs.replace(
        CONFIG,
        mqtt=msgspec.structs.replace(CONFIG.mqtt, port=mosquitto.port),
        alerts=msgspec.structs.replace(CONFIG.alerts, journal=str(tmp_path / "j.sqlite")),
    )
    topics = Topics(config.mqtt_prefix)
    pipeline = FusionPipeline(config, track_updates=True)
    scans = []
    for k in range(40):
        t = T0 + 0.3 + 0.1 * k
        scans += fuse(pipeline, t, k, [a_at(t), B])
    assert len(scans) == 40
    ids = {tr.track_id for u in scans for tr in u.tracks}

    async def scenario() -> tuple[list, list, MqttPublisher]:
        import aiomqtt

        events: list[wire.Alert] = []
        heard: list[wire.TrackUpdate] = []
        journal = Journal(config.journal_path, camp_id=config.camp_id)
        publisher = MqttPublisher(config, journal)
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as client:
            await client.subscribe(topics.track_updates, qos=0)
            await client.subscribe(topics.alert_events, qos=1)

            async def listen() -> None:
                async for m in client.messages:
                    out = decode_output(topics, m.topic.value, bytes(m.payload))  # type: ignore[arg-type]
                    (heard if out.kind == "track_update" else events).append(out.message)

            listener = asyncio.create_task(listen())
            pump = asyncio.create_task(publisher.run())
            while not publisher.connected:
                await asyncio.sleep(0.01)
            # One burst, no turn of the loop in between: alerts journaled among the updates.
            for k, update in enumerate(scans):
                publisher.track_update(update)
                if k % 10 == 0:
                    journal.append([alert(f"a-{k}", update.t)])
                    publisher.alerts_journaled()
            assert publisher.stats.updates_merged == len(scans) - 1
            assert publisher.pending == 1 + journal.pending_count()  # one update waits
            publisher.close()
            await asyncio.wait_for(pump, 10)
            while len(events) < 4 or not heard:
                await asyncio.sleep(0.01)
            listener.cancel()
        journal.close()
        return events, heard, publisher

    events, heard, publisher = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert [a.alert_id for a in events] == ["a-0", "a-10", "a-20", "a-30"]
    assert publisher.stats.transitions == 4
    (update,) = heard  # the burst went out as one message, with every track, newest states
    assert update.t == scans[-1].t
    assert {tr.track_id for tr in update.tracks} == ids
    newest = {tr.track_id: tr for tr in scans[-1].tracks}
    assert all(newest[tr.track_id] == tr for tr in update.tracks if tr.track_id in newest)
