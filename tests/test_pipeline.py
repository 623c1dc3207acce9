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
