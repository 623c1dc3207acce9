"""A simulated surveillance radar: truth positions in, `RadarReport` wire messages out.

Each scan detects every target inside the coverage (range band and field of view) with a
probability given by a pluggable `PdModel`, adds Gaussian noise to range, azimuth, elevation and
range-rate using the sensor's configured sigmas, adds Poisson clutter, and shuffles the lot so
the order carries no information. Angles are measured in the sensor's own local frame (true
north and the local horizontal at the radar), exactly as a real radar reports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cuas.config import SensorConfig
from cuas.geodesy import LocalFrame, SensorFrame, local_to_aer, wrap_deg
from cuas.wire import VERSION, RadarDetection, RadarReport

Array = NDArray[np.float64]


class PdModel(Protocol):
    """Probability of detection of each target given its slant range and RCS (dBsm, or None)."""

    def __call__(self, range_m: Array, rcs_dbsm: Array | None) -> Array: ...


@dataclass(frozen=True)
class ConstantPd:
    """The same probability of detection everywhere in coverage (the benchmark's model)."""

    p: float

    def __call__(self, range_m: Array, rcs_dbsm: Array | None) -> Array:
        return np.full(np.shape(range_m), self.p)


@dataclass(frozen=True)
class RadarScan:
    """One scan's detections as arrays, before they become wire messages.

    `truth_index` is the index of the target behind each detection, or -1 for clutter.
    """

    t: float
    range_m: Array
    az_deg: Array
    el_deg: Array
    range_rate_mps: Array
    truth_index: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.range_m)


class SimulatedRadar:
    """A radar at a configured position that scans a set of truth targets."""

    def __init__(
        self,
        sensor: SensorConfig,
        frame: SensorFrame,
        rng: np.random.Generator,
        p_detection: PdModel | float | None = None,
        clutter_per_scan: float = 4.0,
        clutter_el_max_deg: float = 20.0,
        clutter_range_rate_max_mps: float = 30.0,
    ) -> None:
        if sensor.kind != "radar":
            raise ValueError(f"sensor {sensor.id!r} is a {sensor.kind}, not a radar")
        self.sensor = sensor
        self.frame = frame
        self.rng = rng
        if p_detection is None:
            p_detection = sensor.p_detection
        self.pd: PdModel = (
            ConstantPd(float(p_detection)) if isinstance(p_detection, (int, float)) else p_detection
        )
        self.clutter_per_scan = clutter_per_scan
        self.clutter_el_max_deg = clutter_el_max_deg
        self.clutter_range_rate_max_mps = clutter_range_rate_max_mps
        self.seq = 0

    @classmethod
    def from_camp(
        cls,
        sensor: SensorConfig,
        camp: LocalFrame,
        rng: np.random.Generator,
        p_detection: PdModel | float | None = None,
        clutter_per_scan: float = 4.0,
    ) -> SimulatedRadar:
        """A radar placed by its config in the camp frame."""
        frame = camp.sensor_frame(sensor.lat, sensor.lon, sensor.alt_m)
        return cls(sensor, frame, rng, p_detection, clutter_per_scan)

    def _in_fov(self, az: Array, el: Array) -> NDArray[np.bool_]:
        s = self.sensor
        ok = (el >= s.fov_el_min_deg) & (el <= s.fov_el_max_deg)
        if s.fov_az_deg < 360.0:
            ok &= np.abs(wrap_deg(az - s.boresight_az_deg)) <= s.fov_az_deg / 2.0
        return ok

    def _clutter(self) -> tuple[Array, Array, Array, Array]:
        s, rng = self.sensor, self.rng
        k = int(rng.poisson(self.clutter_per_scan))
        rng_m = rng.uniform(s.min_range_m, s.max_range_m, k)
        if s.fov_az_deg >= 360.0:
            az = rng.uniform(0.0, 360.0, k)
        else:
            half = s.fov_az_deg / 2.0
            az = (s.boresight_az_deg + rng.uniform(-half, half, k)) % 360.0
        el_lo = max(0.0, s.fov_el_min_deg)
        el_hi = max(el_lo, min(self.clutter_el_max_deg, s.fov_el_max_deg))
        el = rng.uniform(el_lo, el_hi, k)
        rr = rng.uniform(-self.clutter_range_rate_max_mps, self.clutter_range_rate_max_mps, k)
        return rng_m, az, el, rr

    def measure(
        self,
        t: float,
        enu: ArrayLike,
        vel_enu: ArrayLike,
        rcs_dbsm: ArrayLike | None = None,
    ) -> RadarScan:
        """Detections of one scan at time `t` of targets at camp-ENU `enu` moving at `vel_enu`."""
        s, rng = self.sensor, self.rng
        local = self.frame.to_local(np.asarray(enu, dtype=np.float64).reshape(-1, 3))
        vel_local = np.asarray(vel_enu, dtype=np.float64).reshape(-1, 3) @ self.frame.rotation.T
        az, el, rng_m = local_to_aer(local)
        covered = (rng_m > s.min_range_m) & (rng_m <= s.max_range_m) & self._in_fov(az, el)
        rcs = None if rcs_dbsm is None else np.asarray(rcs_dbsm, dtype=np.float64)
        pd = self.pd(rng_m, rcs)
        hit = np.flatnonzero(covered & (rng.uniform(0.0, 1.0, len(rng_m)) < pd))
        k = len(hit)
        rr_true = np.einsum("ij,ij->i", local[hit], vel_local[hit]) / np.maximum(rng_m[hit], 1e-9)
        m_rng = rng_m[hit] + rng.normal(0.0, s.sigma_range_m, k)
        m_az = az[hit] + rng.normal(0.0, s.sigma_az_deg, k)
        m_el = el[hit] + rng.normal(0.0, s.sigma_el_deg, k)
        m_rr = rr_true + rng.normal(0.0, s.sigma_range_rate_mps, k)
        c_rng, c_az, c_el, c_rr = self._clutter()
        order = rng.permutation(k + len(c_rng))
        az_all = np.concatenate((m_az, c_az)) % 360.0
        return RadarScan(
            t=t,
            range_m=np.maximum(np.concatenate((m_rng, c_rng)), 0.1)[order],
            az_deg=np.where(az_all >= 360.0, 0.0, az_all)[order],  # -1e-17 % 360 == 360.0
            el_deg=np.clip(np.concatenate((m_el, c_el)), -90.0, 90.0)[order],
            range_rate_mps=np.clip(np.concatenate((m_rr, c_rr)), -3000.0, 3000.0)[order],
            truth_index=np.concatenate((hit, np.full(len(c_rng), -1)))[order],
        )

    def report(self, scan: RadarScan) -> RadarReport:
        """A scan as a wire report; numbers the reports of this radar 0, 1, 2, ..."""
        detections = [
            RadarDetection(range_m=r, az_deg=a, el_deg=e, range_rate_mps=rr)
            for r, a, e, rr in zip(
                scan.range_m.tolist(),
                scan.az_deg.tolist(),
                scan.el_deg.tolist(),
                scan.range_rate_mps.tolist(),
                strict=True,
            )
        ]
        report = RadarReport(
            v=VERSION, sensor_id=self.sensor.id, seq=self.seq, t=scan.t, detections=detections
        )
        self.seq += 1
        return report

    def scan(
        self,
        t: float,
        enu: ArrayLike,
        vel_enu: ArrayLike,
        rcs_dbsm: ArrayLike | None = None,
    ) -> RadarReport:
        """Scan targets at time `t` and return the wire report."""
        return self.report(self.measure(t, enu, vel_enu, rcs_dbsm))
