"""Ingest: decode and validate incoming sensor traffic against the camp configuration.

Every rejection is counted per sensor and reason (`cuas.fusion.reject_log`) and never stops the
core. Accepted traffic updates per-sensor statistics used for health.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from cuas import topics, wire
from cuas.config import CampConfig
from cuas.fusion.reject_log import RejectLog

log = logging.getLogger("cuas.fusion.ingest")

UNKNOWN_SENSOR = "?"


@dataclass
class SensorStats:
    """What the core has heard from one configured sensor."""

    sensor_id: str
    kind: str
    reports: int = 0
    detections: int = 0
    t_last_report: float | None = None
    t_last_status: float | None = None
    state: str | None = None  # as last reported by the sensor's heartbeat
    detail: str = ""
    rejects: Counter[str] = field(default_factory=Counter)


class Ingest:
    """Validates `report.<id>` and `status.<id>` messages from configured sensors."""

    def __init__(self, config: CampConfig, rejects: RejectLog | None = None) -> None:
        self.sensors = {s.id: SensorStats(s.id, s.kind) for s in config.sensors}
        self.rejects = rejects or RejectLog()

    def reject(self, sensor_id: str, reason: str, detail: str) -> None:
        """Count a reject; ids not in the camp count under `?`, so hostile topics cannot
        grow the counters without bound (the detail names the topic)."""
        stats = self.sensors.get(sensor_id)
        self.rejects.add(sensor_id if stats is not None else UNKNOWN_SENSOR, reason, detail)
        if stats is not None:
            stats.rejects[reason] += 1

    def accept(self, topic: str, payload: bytes) -> wire.Report | wire.Status | None:
        """The validated message, or None after counting why it was rejected."""
        family, topic_id = topics.sensor_topic_parts(topic)
        sensor_id = topic_id or UNKNOWN_SENSOR
        if family not in (topics.REPORT, topics.STATUS) or not topic_id:
            self.reject(sensor_id, "unknown_topic", f"topic {topic!r}")
            return None
        refused: list[wire.WireError] = []
        try:
            if family == topics.REPORT:
                message: wire.Report | wire.Status
                message, refused = wire.decode_report_detections(payload)
            else:
                message = wire.decode_status(payload)
        except wire.WireError as exc:
            self.reject(sensor_id, exc.reason, exc.detail)
            return None
        if message.sensor_id != topic_id:
            self.reject(
                sensor_id,
                "topic_mismatch",
                f"payload sensor_id {message.sensor_id!r} on topic {topic!r}",
            )
            return None
        stats = self.sensors.get(topic_id)
        if stats is None:
            self.reject(sensor_id, "unknown_sensor", f"{topic_id!r} is not in the camp config")
            return None
        if isinstance(message, wire.Status):
            stats.t_last_status = message.t
            stats.state = message.state
            stats.detail = message.detail
            return message
        kind = wire.report_kind(message)
        if kind != stats.kind:
            self.reject(sensor_id, "kind_mismatch", f"{kind} report from a {stats.kind} sensor")
            return None
        for exc in refused:  # counted now that the sensor is known to be the camp's
            self.reject(sensor_id, exc.reason, exc.detail)
        if refused and not message.detections:
            return None  # every detection was bad: not a scan that "saw nothing"
        stats.reports += 1
        stats.detections += len(message.detections)
        if stats.t_last_report is None or message.t > stats.t_last_report:
            stats.t_last_report = message.t
        return message
