"""Ingest: rejects are counted per sensor and reason, and logged once per reason per interval."""

from __future__ import annotations

import logging

import msgpack
import pytest

from cuas import wire
from cuas.config import load_config
from cuas.fusion.ingest import Ingest
from cuas.fusion.reject_log import RejectLog
from simulators.benchmark_scenarios import SAMPLE_CONFIG


class FakeClock:
    """A clock the test moves by hand: log rate limiting is about wall time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def report(sensor: str = "radar-1", **fields: object) -> bytes:
    body = {
        "v": 1,
        "sensor_id": sensor,
        "seq": 1,
        "t": 1764000000.0,
        "kind": "radar",
        "detections": [{"range_m": 900.0, "az_deg": 10.0, "el_deg": 2.0}],
    } | fields
    return msgpack.packb(body)


def test_a_flood_of_garbage_logs_once_per_reason_per_interval(caplog) -> None:
    clock = FakeClock()
    ingest = Ingest(load_config(SAMPLE_CONFIG), RejectLog(interval_s=10.0, clock=clock))
    with caplog.at_level(logging.WARNING, logger="cuas.fusion.ingest"):
        for _ in range(1000):
            assert ingest.accept("report.radar-1", b"\xc1") is None
            assert ingest.accept("report.radar-1", report(v=7)) is None
        clock.now = 11.0
        ingest.accept("report.radar-1", b"\xc1")
    assert ingest.rejects.counts[("radar-1", "malformed")] == 1001
    assert ingest.rejects.counts[("radar-1", "bad_version")] == 1000
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3
    assert "+999 more since last logged" in messages[2]


def test_valid_reports_update_sensor_statistics() -> None:
    ingest = Ingest(load_config(SAMPLE_CONFIG))
    message = ingest.accept("report.radar-1", report())
    assert isinstance(message, wire.RadarReport)
    stats = ingest.sensors["radar-1"]
    assert (stats.reports, stats.detections, stats.t_last_report) == (1, 1, 1764000000.0)
    status = wire.to_msgpack(
        wire.Status(v=1, sensor_id="radar-1", t=1764000001.0, state="degraded", detail="rain")
    )
    assert isinstance(ingest.accept("status.radar-1", status), wire.Status)
    assert (stats.state, stats.detail) == ("degraded", "rain")


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("report.nobody", report("nobody"), "unknown_sensor"),
        ("report.radar-1", report("rf-ne"), "topic_mismatch"),
        ("report.rf-ne", report("rf-ne"), "kind_mismatch"),
        ("heartbeat.radar-1", report(), "unknown_topic"),
        ("report", report(), "unknown_topic"),
    ],
)
def test_traffic_the_camp_does_not_expect_is_rejected(topic, payload, reason) -> None:
    ingest = Ingest(load_config(SAMPLE_CONFIG))
    assert ingest.accept(topic, payload) is None
    assert ingest.rejects.by_reason() == {reason: 1}


GOOD = {"range_m": 900.0, "az_deg": 10.0, "el_deg": 2.0}
BAD_DETECTIONS = [
    ({"range_m": 900.0, "az_deg": 10.0, "el_deg": 90.3}, "detection_out_of_range"),  # overhead
    ({"range_m": 900.0, "az_deg": 361.0, "el_deg": 2.0}, "detection_out_of_range"),
    ({"range_m": 900.0, "az_deg": float("nan"), "el_deg": 2.0}, "detection_out_of_range"),
    ({"range_m": "far", "az_deg": 10.0, "el_deg": 2.0}, "detection_wrong_type"),
    ({"az_deg": 10.0, "el_deg": 2.0}, "detection_missing_field"),
    ("not a map", "detection_wrong_type"),
]


@pytest.mark.parametrize(("bad", "reason"), BAD_DETECTIONS)
def test_a_bad_detection_is_rejected_alone_and_the_others_are_fused(bad, reason) -> None:
    ingest = Ingest(load_config(SAMPLE_CONFIG))
    message = ingest.accept("report.radar-1", report(detections=[GOOD, bad, GOOD]))
    assert isinstance(message, wire.RadarReport)
    assert [d.range_m for d in message.detections] == [900.0, 900.0]
    assert ingest.rejects.by_reason() == {reason: 1}
    assert ingest.sensors["radar-1"].detections == 2
    assert ingest.sensors["radar-1"].rejects[reason] == 1


def test_a_report_whose_every_detection_is_bad_is_not_a_scan_that_saw_nothing() -> None:
    ingest = Ingest(load_config(SAMPLE_CONFIG))
    bad = dict(GOOD, el_deg=91.0)
    assert ingest.accept("report.radar-1", report(detections=[bad, bad])) is None
    assert ingest.rejects.by_reason() == {"detection_out_of_range": 2}
    assert ingest.sensors["radar-1"].reports == 0


def test_a_bad_envelope_still_rejects_the_whole_report() -> None:
    ingest = Ingest(load_config(SAMPLE_CONFIG))
    assert ingest.accept("report.radar-1", report(t=-5.0, detections=[GOOD, {"x": 1}])) is None
    assert ingest.rejects.by_reason() == {"out_of_range": 1}
