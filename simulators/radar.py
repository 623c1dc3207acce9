"""A simulated surveillance radar: truth positions in, `RadarReport` wire messages out.

Each scan detects every target inside the coverage (range band and field of view) with a
probability given by a pluggable `PdModel`, adds Gaussian noise to range, azimuth, elevation and
range-rate using the sensor's configured sigmas, adds Poisson clutter, and shuffles the lot so
the order carries no information. Angles are measured in the sensor's own local frame (true
north and the local horizontal at the radar), exactly as a real radar reports them. When the
targets' RCS is given, every detection (clutter too) also reports a noisy `rcs_dbsm`.

Two detection models: `ConstantPd` (the tracking benchmark's) and `RadarEquationPd`, where
the probability of detection falls with range and RCS through the radar equation and a
Swerling-1 target (see its docstring for the reference numbers).
"""

from __future__ import annotations

import math
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


def swerling1_pd(snr_db: ArrayLike, pfa: float = 1e-6) -> Array:
    """Single-look Pd of a Swerling-1 target with square-law detection: Pfa ** (1 / (1 + SNR)).

    Exact for a fluctuating (Rayleigh) target with independent fluctuation from look to look,
    as a surveillance radar sees a small drone or bird from scan to scan.
    """
    snr = 10.0 ** (np.asarray(snr_db, dtype=np.float64) / 10.0)
    return np.power(pfa, 1.0 / (1.0 + snr))


def swerling1_snr_db(pd: float, pfa: float = 1e-6) -> float:
    """The mean SNR (dB) at which a Swerling-1 target is detected with probability `pd`."""
    if not (0.0 < pfa < pd < 1.0):
        raise ValueError("need 0 < pfa < pd < 1")
    return 10.0 * math.log10(math.log(pfa) / math.log(pd) - 1.0)


@dataclass(frozen=True)
class RadarEquationPd:
    """Pd from the radar equation and a Swerling-1 target.

    SNR (dB) = SNR_ref + (rcs - ref_rcs_dbsm) - 40 log10(range / ref_range_m), where SNR_ref is
    the SNR giving `ref_pd` at the reference point, and Pd = `swerling1_pd(SNR, pfa)`.
    The defaults describe a small counter-UAS surveillance radar: a -10 dBsm drone is seen
    with Pd 0.9 at 3 km (SNR_ref = 21.1 dB at Pfa 1e-6). Then, per scan:

    | target                 | 1 km  | 2 km  | 3 km  |
    | ---------------------- | ----- | ----- | ----- |
    | drone, -10 dBsm        | 0.999 | 0.98  | 0.90  |
    | drone, -15 dBsm        | 0.996 | 0.94  | 0.72  |
    | bird, -20 dBsm         | 0.99  | 0.81  | 0.37  |
    | bird, -25 dBsm         | 0.96  | 0.53  | 0.07  |

    A target of unknown RCS (`rcs_dbsm` None) is taken to be the reference target.
    `for_sensor` anchors the curve to a camp config: the reference target is seen with the
    sensor's `p_detection` at its `max_range_m`.
    """

    ref_range_m: float = 3000.0
    ref_rcs_dbsm: float = -10.0
    ref_pd: float = 0.9
    pfa: float = 1e-6

    @classmethod
    def for_sensor(
        cls, sensor: SensorConfig, ref_rcs_dbsm: float = -10.0, pfa: float = 1e-6
    ) -> RadarEquationPd:
        """The curve on which a `ref_rcs_dbsm` target has the sensor's Pd at its max range."""
        return cls(sensor.max_range_m, ref_rcs_dbsm, sensor.p_detection, pfa)

    @property
    def ref_snr_db(self) -> float:
        """The SNR (dB) of the reference target at the reference range."""
        return swerling1_snr_db(self.ref_pd, self.pfa)

    def snr_db(self, range_m: ArrayLike, rcs_dbsm: ArrayLike | None) -> Array:
        """Mean SNR (dB) of targets at slant range `range_m` with RCS `rcs_dbsm`."""
        r = np.maximum(np.asarray(range_m, dtype=np.float64), 1.0)
        rcs = self.ref_rcs_dbsm if rcs_dbsm is None else np.asarray(rcs_dbsm, dtype=np.float64)
        return self.ref_snr_db + (rcs - self.ref_rcs_dbsm) - 40.0 * np.log10(r / self.ref_range_m)

    def __call__(self, range_m: Array, rcs_dbsm: Array | None) -> Array:
        return swerling1_pd(self.snr_db(range_m, rcs_dbsm), self.pfa)


@dataclass(frozen=True)
class RadarScan:
    """One scan's detections as arrays, before they become wire messages.

    `truth_index` is the index of the target behind each detection, or -1 for clutter;
    `rcs_dbsm` is the measured RCS, present when the targets' RCS was given.
    """

    t: float
    range_m: Array
    az_deg: Array
    el_deg: Array
    range_rate_mps: Array
    truth_index: NDArray[np.int64]
    rcs_dbsm: Array | None = None

    def __len__(self) -> int:
        return len(self.range_m)


class SimulatedRadar:
    """A radar at a configured position that scans a set of truth targets.

    `rcs_sigma_db` is the noise on a reported target RCS; clutter reports an RCS drawn
    uniformly from `clutter_rcs_dbsm`. Neither draws any random number unless `measure` is
    given the targets' RCS, so scans without RCS are exactly those of earlier versions.
    """

    def __init__(
        self,
        sensor: SensorConfig,
        frame: SensorFrame,
        rng: np.random.Generator,
        p_detection: PdModel | float | None = None,
        clutter_per_scan: float = 4.0,
        clutter_el_max_deg: float = 20.0,
        clutter_range_rate_max_mps: float = 30.0,
        rcs_sigma_db: float = 2.0,
        clutter_rcs_dbsm: tuple[float, float] = (-30.0, -10.0),
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
        self.rcs_sigma_db = rcs_sigma_db
        self.clutter_rcs_dbsm = clutter_rcs_dbsm
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
        m_rcs = None if rcs is None else np.broadcast_to(rcs, rng_m.shape)[hit]
        if m_rcs is not None:
            m_rcs = m_rcs + rng.normal(0.0, self.rcs_sigma_db, k)
        c_rng, c_az, c_el, c_rr = self._clutter()
        order = rng.permutation(k + len(c_rng))
        az_all = np.concatenate((m_az, c_az)) % 360.0
        rcs_all = None
        if m_rcs is not None:
            c_rcs = rng.uniform(*self.clutter_rcs_dbsm, len(c_rng))
            rcs_all = np.clip(np.concatenate((m_rcs, c_rcs)), -100.0, 100.0)[order]
        return RadarScan(
            t=t,
            range_m=np.maximum(np.concatenate((m_rng, c_rng)), 0.1)[order],
            az_deg=np.where(az_all >= 360.0, 0.0, az_all)[order],  # -1e-17 % 360 == 360.0
            el_deg=np.clip(np.concatenate((m_el, c_el)), -90.0, 90.0)[order],
            range_rate_mps=np.clip(np.concatenate((m_rr, c_rr)), -3000.0, 3000.0)[order],
            truth_index=np.concatenate((hit, np.full(len(c_rng), -1)))[order],
            rcs_dbsm=rcs_all,
        )

    @staticmethod
    def detections(scan: RadarScan) -> list[RadarDetection]:
        """A scan's detections as wire detections (with `rcs_dbsm` when the scan has it)."""
        columns = (
            scan.range_m.tolist(),
            scan.az_deg.tolist(),
            scan.el_deg.tolist(),
            scan.range_rate_mps.tolist(),
        )
        if scan.rcs_dbsm is None:
            return [
                RadarDetection(range_m=r, az_deg=a, el_deg=e, range_rate_mps=rr)
                for r, a, e, rr in zip(*columns, strict=True)
            ]
        return [
            RadarDetection(range_m=r, az_deg=a, el_deg=e, range_rate_mps=rr, rcs_dbsm=x)
            for r, a, e, rr, x in zip(*columns, scan.rcs_dbsm.tolist(), strict=True)
        ]

    def report(self, scan: RadarScan) -> RadarReport:
        """A scan as a wire report; numbers the reports of this radar 0, 1, 2, ..."""
        detections = self.detections(scan)
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
