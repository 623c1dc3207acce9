"""Ingest: decode and validate incoming sensor traffic against the camp configuration.

Every rejection is counted per sensor and reason and logged at most once per reason per
interval, so a sensor spewing garbage costs a counter increment, never a flood of logs, and
never stops the core. Accepted traffic updates per-sensor statistics used for health.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from cuas import wire
from cuas.config import CampConfig

log = logging.getLogger("cuas.ingest")

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


class RejectLog:
    """Counts rejects by (sensor, reason); logs each reason at most once per interval."""

    def __init__(self, interval_s: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.interval_s = interval_s
        self.clock = clock
        self.counts: Counter[tuple[str, str]] = Counter()
        self._last_logged: dict[str, float] = {}
        self._suppressed: Counter[str] = Counter()

    def add(self, sensor_id: str, reason: str, detail: str) -> None:
        self.counts[(sensor_id, reason)] += 1
        now = self.clock()
        last = self._last_logged.get(reason)
        if last is None or now - last >= self.interval_s:
            more = self._suppressed.pop(reason, 0)
            suffix = f" (+{more} more since last logged)" if more else ""
            log.warning("rejected from %s: %s: %s%s", sensor_id, reason, detail, suffix)
            self._last_logged[reason] = now
        else:
            self._suppressed[reason] += 1

    def by_reason(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for (_, reason), n in self.counts.items():
            out[reason] += n
        return out

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class Ingest:
    """Validates `report.<id>` and `status.<id>` messages from configured sensors."""

    def __init__(self, config: CampConfig, rejects: RejectLog | None = None) -> None:
        self.sensors = {s.id: SensorStats(s.id, s.kind) for s in config.sensors}
        self.rejects = rejects or RejectLog()

    def reject(self, sensor_id: str, reason: str, detail: str) -> None:
        self.rejects.add(sensor_id, reason, detail)
        stats = self.sensors.get(sensor_id)
        if stats is not None:
            stats.rejects[reason] += 1

    def accept(self, topic: str, payload: bytes) -> wire.Report | wire.Status | None:
        """The validated message, or None after counting why it was rejected."""
        family, _, topic_id = topic.partition(".")
        sensor_id = topic_id or UNKNOWN_SENSOR
        if family not in ("report", "status") or not topic_id:
            self.reject(sensor_id, "unknown_topic", f"topic {topic!r}")
            return None
        try:
            message: wire.Report | wire.Status = (
                wire.decode_report(payload) if family == "report" else wire.decode_status(payload)
            )
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
        stats.reports += 1
        stats.detections += len(message.detections)
        if stats.t_last_report is None or message.t > stats.t_last_report:
            stats.t_last_report = message.t
        return message
