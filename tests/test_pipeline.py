"""The pipeline's handling of late reports and silent sensors, from wire messages in."""

from __future__ import annotations

import msgspec
import numpy as np
from support.reports import CONFIG, T0, camera_report, radar_report

from cuas import wire
from cuas.fusion.pipeline import FusionPipeline


def fly(pipeline: FusionPipeline, seconds: int, late_camera_s: float) -> None:
    """A hovering drone NW of the camp, radar at 1 Hz, a camera whose reports come late."""
    p = np.array([-600.0, 500.0, 80.0])
    held: list[tuple[float, bytes]] = []
    for k in range(seconds):
        t = T0 + k
        pipeline.submit("report.radar-1", radar_report(t, k, p))
        held.append((t + late_camera_s, camera_report(t + 0.5, k, "cam-nw", p)))
        while held and held[0][0] <= t:
            pipeline.submit("report.cam-nw", held.pop(0)[1])
    pipeline.flush()


def test_reports_later_than_the_window_are_fused_by_retrodiction() -> None:
    pipeline = FusionPipeline(CONFIG)
    fly(pipeline, 20, late_camera_s=2.0)
    assert pipeline.late_fused > 10 and pipeline.late == 0
    assert pipeline.ingest.rejects.total == 0


def test_or_dropped_and_counted_when_the_configuration_says_so() -> None:
    tracker = msgspec.structs.replace(CONFIG.tracker, late_policy="drop")
    pipeline = FusionPipeline(msgspec.structs.replace(CONFIG, tracker=tracker))
    fly(pipeline, 20, late_camera_s=2.0)
    assert pipeline.late_fused == 0 and pipeline.late > 10
    assert pipeline.ingest.rejects.by_reason()["late"] == pipeline.late


def test_a_sensor_whose_clock_runs_ahead_is_refused_and_does_not_make_the_others_late() -> None:
    """A camera stamping its reports 1.5 s in the future (received now, "measured" later):
    fused, it would push the picture ahead and every radar report would arrive late."""
    pipeline = FusionPipeline(CONFIG)
    p = np.array([-600.0, 500.0, 80.0])
    for k in range(20):
        t = T0 + k
        pipeline.submit("report.radar-1", radar_report(t, k, p), received=t + 0.05)
        pipeline.submit("report.cam-nw", camera_report(t + 1.5, k, "cam-nw", p), received=t + 0.1)
    pipeline.flush()
    rejects = pipeline.ingest.rejects.by_reason()
    assert rejects == {"future": 20}
    assert pipeline.late == 0 and pipeline.late_fused == 0
    assert pipeline.ingest.sensors["cam-nw"].rejects["future"] == 20
    assert pipeline.tracker.stats.confirmed == 1


def test_tracks_coast_while_their_radar_is_silent_and_sensor_health_says_fault() -> None:
    pipeline = FusionPipeline(CONFIG)
    p = np.array([900.0, -500.0, 80.0])
    for k in range(10):
        pipeline.submit("report.radar-1", radar_report(T0 + k, k, p))
    # The radar falls silent; the RF sensors keep the clock going with empty reports.
    outputs = []
    for k in range(10, 40):
        payload = wire.to_msgpack(
            wire.RfReport(v=1, sensor_id="rf-ne", seq=k, t=T0 + k, detections=[])
        )
        outputs += pipeline.submit("report.rf-ne", payload)
    cycles = [o for o in outputs if isinstance(o, wire.TrackCycle)]
    last = [t for t in cycles[-1].tracks if t.status != "tentative"]
    assert [t.status for t in last] == ["coasting"]  # not deleted after 8 s without updates
    assert last[0].sensors_silent  # ... and flagged: it coasts because its radar is silent
    before = [t for t in cycles[3].tracks if t.status != "tentative"]
    assert before and not any(t.sensors_silent for t in before)
    health = [o for o in outputs if isinstance(o, wire.SensorHealth) and o.sensor_id == "radar-1"]
    assert health[-1].state == "fault"


def test_a_live_core_publishes_empty_cycles_before_any_sensor_speaks() -> None:
    """DESIGN: `tracks` is published even when empty, so a consumer knows the picture is live."""
    pipeline = FusionPipeline(CONFIG)
    outputs = []
    for k in range(40):
        outputs += pipeline.advance(T0 + 0.1 * k)
    cycles = [o for o in outputs if isinstance(o, wire.TrackCycle)]
    assert len(cycles) >= 2 and all(c.tracks == [] for c in cycles)
    health = [o for o in outputs if isinstance(o, wire.SensorHealth)]
    assert {h.sensor_id for h in health} == {s.id for s in CONFIG.sensors}


def test_a_backlog_split_by_a_clock_tick_is_fused_in_order_none_of_it_late() -> None:
    """The live core reads the first report of a radar's ten-second backlog alone; the rest,
    sent with it, is still in flight (ZeroMQ's I/O threads, loopback: tens of milliseconds on
    a starved machine) when the clock ticks past a cycle boundary. The silent sensors would
    let that tick emit the cycles up to now - 3 s, moving the tracker past the whole backlog;
    it waits for the radar instead, so every report is fused in order."""
    tracker = msgspec.structs.replace(CONFIG.tracker, reorder_window_s=3.0, cycle_period_s=0.2)
    pipeline = FusionPipeline(msgspec.structs.replace(CONFIG, tracker=tracker))
    now = T0 + 0.1  # the last report is measured at T0, the first 9.9 s before
    reports = [
        radar_report(T0 - 9.9 + 0.1 * k, k, np.array([650.0 - 3.0 * k, 20.0, 80.0]))
        for k in range(100)
    ]
    pipeline.advance(now)  # the clock runs before the radar speaks: empty cycles
    assert pipeline.hold("report.radar-1", reports[0], received=now)
    assert pipeline.fuse_next(now) is not None
    pipeline.advance(now + 0.2)  # the tick, with the rest of the backlog on its way
    for payload in reports[1:]:
        assert pipeline.hold("report.radar-1", payload, received=now + 0.25)
    while pipeline.fuse_next(now + 0.25) is not None:
        pass
    pipeline.flush()
    assert pipeline.late == 0 and pipeline.late_fused == 0
    assert pipeline.tracker.stats.scans == 100


def test_but_a_backlog_that_goes_on_longer_than_its_sensors_bound_is_late_past_it() -> None:
    """The wait is the radar's bound at most, as for a silent sensor: what it sends after
    that, older than the picture, is late, by retrodiction within the limit (5 s)."""
    tracker = msgspec.structs.replace(CONFIG.tracker, reorder_window_s=3.0, cycle_period_s=0.2)
    pipeline = FusionPipeline(msgspec.structs.replace(CONFIG, tracker=tracker))
    now = T0 + 0.1
    pipeline.advance(now)
    pipeline.hold("report.radar-1", radar_report(T0 - 4.0, 0, np.array([650.0, 20.0, 80.0])), now)
    pipeline.advance(now + 3.0)  # 3 s on, the radar is as silent as the rest
    late = radar_report(T0 - 3.9, 1, np.array([647.0, 20.0, 80.0]))
    assert pipeline.hold("report.radar-1", late, received=now + 3.0)
    assert pipeline.fuse_next(now + 3.0) is not None
    assert pipeline.late_fused == 1 and pipeline.tracker.stats.scans == 1
