"""What a run did: scans, reports and detections, per sensor; fast and real-time runs alike."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from simulators.flight.sensors import Scan

__all__ = ["RunStats"]


@dataclass
class RunStats:
    """What a run did; `scans`, `reports_sent` and `detections` add up all sensors."""

    scenario: str
    scans: int = 0
    reports_sent: int = 0
    detections: int = 0
    target_detections: int = 0  # detections of true targets (the rest is clutter)
    dropped: int = 0
    scenario_s: float = 0.0  # scenario time covered
    wall_s: float = 0.0
    completed: bool = False  # ran to the scenario's end (not stopped early)
    by_sensor: Counter[str] = field(default_factory=Counter)  # reports sent per sensor

    def count(self, sensor_id: str, scan: Scan, sent: bool = True) -> None:
        """Account for one scan of a sensor (and its report, if it was sent)."""
        self.scans += 1
        self.reports_sent += sent
        self.by_sensor[sensor_id] += sent
        self.detections += len(scan)
        self.target_detections += int(np.count_nonzero(scan.truth_index >= 0))

    def render(self) -> str:
        end = "completed" if self.completed else "stopped"
        text = (
            f"{self.scenario}: {end} after {self.scenario_s:.1f} s of scenario time "
            f"({self.wall_s:.1f} s wall): {self.scans} scans, {self.reports_sent} reports sent, "
            f"{self.dropped} dropped, {self.detections} detections "
            f"({self.target_detections} of targets)"
        )
        if len(self.by_sensor) > 1:
            text += "\n  reports: " + ", ".join(f"{k} {v}" for k, v in self.by_sensor.items())
        return text
