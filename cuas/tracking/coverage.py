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

    def may_cover(
        self, positions: Array, covariances: Array, sigmas: float = 3.0
    ) -> NDArray[np.bool_]:
        """Which estimates (positions (n, 3), their covariances (n, 3, 3)) may lie inside the
        field of regard: beyond its range, each is tested at the nearest point along the
        sensor's line to it within `sigmas` of its uncertainty on that line.

        An angle-only sensor measures no range: a vague track's estimate a little beyond the
        sensor's nominal range says little about the target, which the sensor may be
        looking at (random camp 29: a camera saw a hidden drone at 2.2 km for a minute,
        its bearings-only track sat 150 m beyond the camera's 2.3 km, and the camera never
        updated it)."""
        positions = np.asarray(positions, dtype=np.float64)
        line = positions - self.frame.position
        reach = np.linalg.norm(line, axis=1)
        far = (reach > self.max_range_m).nonzero()[0]
        if far.size:
            u = line[far] / reach[far, None]
            spread = np.sqrt(np.einsum("ni,nij,nj->n", u, covariances[far], u))
            excess, margin = reach[far] - self.max_range_m, sigmas * spread
            # Those that may be in range are tested a millimetre inside it (not on its edge,
            # where rounding would decide).
            shift = np.where(excess <= margin, excess + 1e-3, margin)
            positions = positions.copy()
            positions[far] -= u * shift[:, None]
        return self.covers(positions)
