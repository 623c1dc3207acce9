"""Scripted drill events: what happens to the sensors during a scenario.

- `SensorOutage`: a sensor fails or goes silent from `t_start_s` (scenario seconds) until
  `t_end_s` (for ever by default): it sends neither reports nor heartbeats, as when its power
  or its link is cut, so the core must notice the silence by itself.
- `ClockSkew`: from `t_start_s` on, a sensor stamps its reports and heartbeats `skew_s` seconds
  off the true time (a GPS-less box whose clock drifted); the reports still arrive on time.
- `ClutterBurst`: for `duration_s` from `t_start_s`, a radar, camera or RF finder sees
  `per_scan` extra false detections (Poisson) in a sector (rain, a flock of chaff, a jammer).

`EventPlan` answers, per sensor and scenario time, whether it is silent, how far its clock is
off and which extra false detections it reports; burst draws come from their own generator
(seed, sensor), so an event changes nothing else in a run.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cuas.config import SensorConfig
from cuas.wire import CameraDetection, Detection, RadarDetection, RfDetection

EVENT_STREAM = 3  # random stream of a seed for event draws (0 targets, 1 radar, 2 passive)

__all__ = ["ClockSkew", "ClutterBurst", "Event", "EventPlan", "SensorOutage"]


@dataclass(frozen=True)
class SensorOutage:
    """The sensor sends nothing (reports or heartbeats) in `t_start_s <= t < t_end_s`."""

    sensor_id: str
    t_start_s: float
    t_end_s: float = math.inf


@dataclass(frozen=True)
class ClockSkew:
    """The sensor stamps measurement and heartbeat times `skew_s` late (early if negative)."""

    sensor_id: str
    skew_s: float
    t_start_s: float = 0.0


@dataclass(frozen=True)
class ClutterBurst:
    """`per_scan` extra false detections per scan in an azimuth sector and range band.

    The sector runs clockwise from `az_min_deg` to `az_max_deg` (true north, as seen from the
    sensor); ranges apply to radars (None: the sensor's own range band).
    """

    sensor_id: str
    t_start_s: float
    duration_s: float
    per_scan: float
    az_min_deg: float = 0.0
    az_max_deg: float = 360.0
    range_min_m: float | None = None
    range_max_m: float | None = None

    def active(self, tau: float) -> bool:
        return self.t_start_s <= tau < self.t_start_s + self.duration_s


Event = SensorOutage | ClockSkew | ClutterBurst


class EventPlan:
    """The events of a scenario, queried per sensor and scenario time."""

    def __init__(self, events: Sequence[Event], seed: int = 0) -> None:
        self.events = tuple(events)
        self.seed = seed
        self._rngs: dict[str, np.random.Generator] = {}

    def __bool__(self) -> bool:
        return bool(self.events)

    def _of(self, sensor_id: str, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind) and e.sensor_id == sensor_id]

    def silent(self, sensor_id: str, tau: float) -> bool:
        """Whether the sensor is out at scenario time `tau`."""
        return any(e.t_start_s <= tau < e.t_end_s for e in self._of(sensor_id, SensorOutage))

    def skew(self, sensor_id: str, tau: float) -> float:
        """How far the sensor's clock is off at scenario time `tau` (the latest skew applies)."""
        skews = [e for e in self._of(sensor_id, ClockSkew) if e.t_start_s <= tau]
        return max(skews, key=lambda e: e.t_start_s).skew_s if skews else 0.0

    def rng(self, sensor_id: str) -> np.random.Generator:
        """The generator of this sensor's event draws."""
        if sensor_id not in self._rngs:
            key = [EVENT_STREAM, self.seed, zlib.crc32(sensor_id.encode())]
            self._rngs[sensor_id] = np.random.default_rng(key)
        return self._rngs[sensor_id]

    def clutter(self, sensor: SensorConfig, tau: float) -> list[Detection]:
        """Extra false detections of `sensor`'s scan at scenario time `tau` (often none)."""
        out: list[Detection] = []
        for burst in self._of(sensor.id, ClutterBurst):
            if burst.active(tau):
                out += _false_detections(sensor, burst, self.rng(sensor.id))
        return out


def _false_detections(
    sensor: SensorConfig, burst: ClutterBurst, rng: np.random.Generator
) -> list[Detection]:
    k = int(rng.poisson(burst.per_scan))
    width = (burst.az_max_deg - burst.az_min_deg) % 360.0 or 360.0
    az = np.mod(burst.az_min_deg + rng.uniform(0.0, width, k), 360.0)
    az = np.where(az >= 360.0, 0.0, az).tolist()
    if sensor.kind == "radar":
        lo = sensor.min_range_m if burst.range_min_m is None else burst.range_min_m
        hi = sensor.max_range_m if burst.range_max_m is None else burst.range_max_m
        rng_m = rng.uniform(max(lo, 1.0), hi, k).tolist()
        el = rng.uniform(0.0, 10.0, k).tolist()
        rr = rng.uniform(-15.0, 15.0, k).tolist()
        rcs = rng.uniform(-30.0, -15.0, k).tolist()
        return [
            RadarDetection(range_m=r, az_deg=a, el_deg=e, range_rate_mps=v, rcs_dbsm=x)
            for r, a, e, v, x in zip(rng_m, az, el, rr, rcs, strict=True)
        ]
    if sensor.kind == "camera":
        el = rng.uniform(0.0, 10.0, k).tolist()
        conf = rng.uniform(0.3, 0.6, k).tolist()
        return [
            CameraDetection(
                az_deg=a,
                el_deg=e,
                label="unknown",
                confidence=round(c, 4),
                class_probs={"unknown": c, "clutter": 1.0 - c},
            )
            for a, e, c in zip(az, el, conf, strict=True)
        ]
    if sensor.kind == "rf":
        freq = rng.uniform(2400.0, 2483.5, k).tolist()
        rssi = rng.uniform(-100.0, -85.0, k).tolist()
        return [
            RfDetection(
                az_deg=a,
                freq_mhz=round(f, 1),
                rssi_dbm=round(s, 1),
                protocol="unknown",
                class_probs={"unknown": 1.0},
            )
            for a, f, s in zip(az, freq, rssi, strict=True)
        ]
    raise ValueError(f"sensor {sensor.id!r}: no clutter bursts for a {sensor.kind} sensor")
