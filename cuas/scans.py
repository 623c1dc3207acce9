"""Scan building: validated wire reports -> tracker scans in the camp frame.

This is where the wire's units become the tracker's (degrees -> radians) and where a
detection without its own sigmas takes the sensor's configured defaults. A report whose
detections carry their own, differing `t` becomes one scan per measurement time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cuas import wire
from cuas.config import SensorConfig
from cuas.geodesy import LocalFrame
from cuas.tracking.coverage import SensorGeometry
from cuas.tracking.measurements import MeasurementModel, RadarModel
from cuas.tracking.scan import Scan

Array = NDArray[np.float64]


@dataclass(frozen=True)
class SensorModels:
    """The measurement models of one configured sensor."""

    index: int
    config: SensorConfig
    geometry: SensorGeometry
    models: dict[str, MeasurementModel]


class ScanBuilder:
    """Turns reports of configured sensors into scans for the tracker."""

    def __init__(self, sensors: list[SensorConfig], frame: LocalFrame) -> None:
        self._sensors: dict[str, SensorModels] = {}
        for index, cfg in enumerate(sensors):
            geometry = SensorGeometry.from_config(cfg, frame)
            models: dict[str, MeasurementModel] = {}
            if cfg.kind == "radar":
                models["radar"] = RadarModel(geometry, with_range_rate=False)
                models["radar+rr"] = RadarModel(geometry, with_range_rate=True)
            self._sensors[cfg.id] = SensorModels(index, cfg, geometry, models)

    def supports(self, kind: str) -> bool:
        """Whether reports of this kind are fused yet (radar only so far)."""
        return kind == "radar"

    def build(self, report: wire.Report) -> list[Scan]:
        """Scans for one report, ordered by measurement time; empty reports give one scan."""
        sensor = self._sensors[report.sensor_id]
        if isinstance(report, wire.RadarReport):
            return [self._radar_scan(sensor, t, dets) for t, dets in _by_time(report).items()]
        return []

    def _radar_scan(self, sensor: SensorModels, t: float, dets: list[wire.RadarDetection]) -> Scan:
        cfg = sensor.config
        with_rr = bool(dets) and all(d.range_rate_mps is not None for d in dets)
        model = sensor.models["radar+rr" if with_rr else "radar"]
        k = len(dets)
        z = np.empty((k, model.dim))
        sigma = np.empty((k, model.dim))
        for i, d in enumerate(dets):
            z[i, 0] = d.range_m
            z[i, 1] = d.az_deg
            z[i, 2] = d.el_deg
            sigma[i, 0] = d.sigma_range_m or cfg.sigma_range_m
            sigma[i, 1] = d.sigma_az_deg or cfg.sigma_az_deg
            sigma[i, 2] = d.sigma_el_deg or cfg.sigma_el_deg
            if with_rr:
                z[i, 3] = d.range_rate_mps  # type: ignore[assignment]
                sigma[i, 3] = cfg.sigma_range_rate_mps
        z[:, 1:3] = np.radians(z[:, 1:3])
        sigma[:, 1:3] = np.radians(sigma[:, 1:3])
        return Scan(sensor=sensor.index, t=t, z=z, var=sigma * sigma, model=model)


def _by_time(report: wire.RadarReport) -> dict[float, list[wire.RadarDetection]]:
    """Detections grouped by their own measurement time (default: the report's), in order."""
    if all(d.t is None for d in report.detections):
        return {report.t: list(report.detections)}
    groups: dict[float, list[wire.RadarDetection]] = defaultdict(list)
    for d in report.detections:
        groups[report.t if d.t is None else d.t].append(d)
    return dict(sorted(groups.items()))
