"""Sensor geometry: where a sensor stands and what volume it can see."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cuas.config import SensorConfig
from cuas.geodesy import LocalFrame, SensorFrame, local_to_aer, wrap_deg
from cuas.tracking import kernels

Array = NDArray[np.float64]


@dataclass(frozen=True)
class SensorGeometry:
    """A sensor's frame in the camp and its field of regard (range, azimuth, elevation)."""

    frame: SensorFrame
    min_range_m: float
    max_range_m: float
    boresight_az_deg: float
    fov_az_deg: float
    fov_el_min_deg: float
    fov_el_max_deg: float

    @classmethod
    def from_config(cls, cfg: SensorConfig, camp: LocalFrame) -> SensorGeometry:
        return cls(
            frame=camp.sensor_frame(cfg.lat, cfg.lon, cfg.alt_m),
            min_range_m=cfg.min_range_m,
            max_range_m=cfg.max_range_m,
            boresight_az_deg=cfg.boresight_az_deg,
            fov_az_deg=cfg.fov_az_deg,
            fov_el_min_deg=cfg.fov_el_min_deg,
            fov_el_max_deg=cfg.fov_el_max_deg,
        )

    def covers(self, positions: Array) -> NDArray[np.bool_]:
        """Which camp-ENU positions (n, 3) lie inside the sensor's field of regard."""
        if kernels.ENABLED:  # one compiled pass; the numpy below is the reference
            return kernels.covers(
                np.ascontiguousarray(positions, dtype=np.float64),
                self.frame.position,
                self.frame.rotation,
                float(self.min_range_m),
                float(self.max_range_m),
                float(self.fov_el_min_deg),
                float(self.fov_el_max_deg),
                float(self.boresight_az_deg),
                float(self.fov_az_deg),
            )
        az, el, rng = local_to_aer(self.frame.to_local(positions))
        ok = (rng >= self.min_range_m) & (rng <= self.max_range_m)
        ok &= (el >= self.fov_el_min_deg) & (el <= self.fov_el_max_deg)
        if self.fov_az_deg < 360.0:
            ok &= np.abs(wrap_deg(az - self.boresight_az_deg)) <= self.fov_az_deg / 2.0
        return ok
