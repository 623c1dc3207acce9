"""Scan building: validated wire reports -> tracker scans in the camp frame.

This is where the wire's units become the tracker's (degrees -> radians, Remote ID
latitude/longitude -> camp ENU, speed and heading -> an ENU velocity) and where a detection
without its own sigmas takes the sensor's configured defaults. A report whose
detections carry their own, differing `t` becomes one scan per measurement time.

It is also where what each detection says about *what* and *who* the target is becomes the
scan's `Labels`: class probabilities (the wire's own `class_probs`, normalised, or derived
from a camera label, an RF protocol or the cooperative nature of Remote ID), radar RCS, the
Remote ID serial and the RF emitter id. A scan whose detections say nothing of the kind
carries no labels at all (`labels=None`), which costs the annotators nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np
from numpy.typing import NDArray

from cuas import wire
from cuas.config import SensorConfig
from cuas.geodesy import LocalFrame
from cuas.tracking.coverage import SensorGeometry
from cuas.tracking.measurements import (
    BearingModel,
    CameraModel,
    MeasurementModel,
    PositionModel,
    RadarModel,
)
from cuas.tracking.scan import CLASSES, Labels, Scan

Array = NDArray[np.float64]
Row = list[float]  # one detection's class probabilities in CLASSES order

_N = len(CLASSES)
_NOTHING: Row = [float("nan")] * _N  # a detection that says nothing about the class
_ZEROS = (0.0,) * _N
_UNKNOWN = CLASSES.index("unknown")
# Camera detector labels -> class index (anything else is "unknown").
_LABEL_CLASS = {
    "drone": CLASSES.index("drone"),
    "uav": CLASSES.index("drone"),
    "quadcopter": CLASSES.index("drone"),
    "bird": CLASSES.index("bird"),
    "airplane": CLASSES.index("aircraft"),
    "aircraft": CLASSES.index("aircraft"),
    "helicopter": CLASSES.index("aircraft"),
    "clutter": CLASSES.index("clutter"),
}
LABEL_CONFIDENCE = 0.7  # a camera label without a confidence
RF_PROTOCOL_DRONE = 0.9  # a recognised drone control/video link: strong drone evidence
REMOTE_ID_DRONE = 0.98  # a Remote ID broadcast comes from a cooperative drone
_NO_PROTOCOL = frozenset(("", "unknown", "none"))  # what a direction finder says when unsure


def _peaked(index: int, p: float) -> Row:
    """Probability `p` on one class, the rest shared equally by the other four."""
    row = [(1.0 - p) / (_N - 1)] * _N
    row[index] = p
    return row


_RF_DRONE = _peaked(CLASSES.index("drone"), RF_PROTOCOL_DRONE)
_REMOTE_ID = _peaked(CLASSES.index("drone"), REMOTE_ID_DRONE)


def _wire_probs(class_probs: dict[str, float]) -> Row:
    """A wire `class_probs` map as a row (classes it leaves out get 0; normalised later).
    (`map` over the dict's own `get`: most detections carry one, and this runs for each.)"""
    return list(map(class_probs.get, CLASSES, _ZEROS))


def _camera_probs(label: str, confidence: float | None) -> Row:
    """A detector's label and confidence as a distribution: `confidence` on its class."""
    index = _LABEL_CLASS.get(label.strip().lower(), _UNKNOWN)
    return _peaked(index, LABEL_CONFIDENCE if confidence is None else confidence)


def _floats(values: Iterable[float | None]) -> Array:
    """A float array of an iterable (None -> NaN): np.fromiter, about twice as fast as
    np.array of a list of small lists for the few hundred detections of a report."""
    return np.fromiter(values, dtype=float)


def _normalised(rows: Iterable[Iterable[float]]) -> Array:
    """(k, 5) class probabilities summing to 1; NaN rows where a detection says nothing
    (or gives no probability to any class)."""
    raw = _floats(chain.from_iterable(rows)).reshape(-1, _N)
    total = raw.sum(axis=1, keepdims=True)
    return raw / np.where(total > 0.0, total, np.nan)


def _all_wire_probs(cps: tuple[dict[str, float] | None, ...]) -> Array | None:
    """`_normalised` wire `class_probs` of detections that all carry them (the usual case
    of a classifying sensor: no row lists built, a column per class); None if some do not,
    or there are none."""
    if not cps or cps.count(None):
        return None
    k = len(cps)
    raw = np.empty((k, _N))
    for j, name in enumerate(CLASSES):
        raw[:, j] = np.fromiter(map(dict.get, cps, repeat(name, k), repeat(0.0, k)), float, k)
    total = raw.sum(axis=1, keepdims=True)
    return raw / np.where(total > 0.0, total, np.nan)


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
        self.frame = frame
        self._sensors: dict[str, SensorModels] = {}
        for index, cfg in enumerate(sensors):
            geometry = SensorGeometry.from_config(cfg, frame)
            models: dict[str, MeasurementModel] = {}
            if cfg.kind == "radar":
                models["plain"] = RadarModel(geometry, with_range_rate=False)
                models["velocity"] = RadarModel(geometry, with_range_rate=True)
            elif cfg.kind == "rf":
                models["plain"] = BearingModel(geometry)
            elif cfg.kind == "camera":
                models["plain"] = CameraModel(geometry)
            else:
                models["plain"] = PositionModel(geometry, with_velocity=False)
                models["velocity"] = PositionModel(geometry, with_velocity=True)
            self._sensors[cfg.id] = SensorModels(index, cfg, geometry, models)

    def supports(self, kind: str) -> bool:
        """Whether reports of this kind are fused (all four kinds of DESIGN.md are)."""
        return kind in ("radar", "rf", "camera", "remote_id")

    def build(self, report: wire.Report) -> list[Scan]:
        """Scans for one report, ordered by measurement time; empty reports give one scan."""
        sensor = self._sensors[report.sensor_id]
        build = {
            wire.RadarReport: self._radar,
            wire.RfReport: self._rf,
            wire.CameraReport: self._camera,
            wire.RemoteIdReport: self._remote_id,
        }[type(report)]
        return [build(sensor, t, dets) for t, dets in _by_time(report).items()]

    def _radar(self, sensor: SensorModels, t: float, dets: list) -> Scan:
        cfg = sensor.config
        k = len(dets)
        # One pass over the plots, then a column each: a few hundred plots a report at 250
        # reports a second, where a pass per array (and np.fromiter's per-item conversion,
        # slow on None) was a tenth of the radar's fusion.
        rng, az, el, rr, s_range, s_az, s_el, rcs, cps = (
            zip(
                *[
                    (
                        d.range_m,
                        d.az_deg,
                        d.el_deg,
                        d.range_rate_mps,
                        d.sigma_range_m,
                        d.sigma_az_deg,
                        d.sigma_el_deg,
                        d.rcs_dbsm,
                        d.class_probs,
                    )
                    for d in dets
                ],
                strict=True,
            )
            if k
            else ((),) * 9
        )
        with_rr = k > 0 and rr.count(None) == 0
        model = sensor.models["velocity" if with_rr else "plain"]
        z = np.empty((k, model.dim))
        z[:, 0], z[:, 1], z[:, 2] = rng, az, el
        sigma = np.empty((k, model.dim))
        sigma[:, 0] = _or_default(s_range, cfg.sigma_range_m)  # no value: the sensor's own
        sigma[:, 1] = _or_default(s_az, cfg.sigma_az_deg)
        sigma[:, 2] = _or_default(s_el, cfg.sigma_el_deg)
        if with_rr:
            z[:, 3] = rr
            z[:, 3] += 0.0  # a range-rate of -0.0 as +0.0, as it always was
            sigma[:, 3] = cfg.sigma_range_rate_mps
        z[:, 1:3] = np.radians(z[:, 1:3])
        sigma[:, 1:3] = np.radians(sigma[:, 1:3])
        return Scan(sensor.index, t, z, sigma * sigma, model, _radar_labels(cps, rcs))

    def _rf(self, sensor: SensorModels, t: float, dets: list) -> Scan:
        # One pass over the bearings, then a column each, as for the radar's plots (a
        # generator per array through np.fromiter cost twice as much).
        az, s_az, cps, protocols, emitters = (
            zip(
                *[
                    (d.az_deg, d.sigma_az_deg, d.class_probs, d.protocol, d.emitter_id)
                    for d in dets
                ],
                strict=True,
            )
            if dets
            else ((),) * 5
        )
        z = np.radians(np.array(az, dtype=float)).reshape(-1, 1)
        sigma = np.radians(_or_default_falsy(s_az, sensor.config.sigma_az_deg)).reshape(-1, 1)
        labels = _rf_labels(cps, protocols, emitters)
        return Scan(sensor.index, t, z, sigma * sigma, sensor.models["plain"], labels)

    def _camera(self, sensor: SensorModels, t: float, dets: list) -> Scan:
        cfg = sensor.config
        k = len(dets)
        az, el, s_az, s_el, cps, names, confidences = (
            zip(
                *[
                    (
                        d.az_deg,
                        d.el_deg,
                        d.sigma_az_deg,
                        d.sigma_el_deg,
                        d.class_probs,
                        d.label,
                        d.confidence,
                    )
                    for d in dets
                ],
                strict=True,
            )
            if k
            else ((),) * 7
        )
        z = np.empty((k, 2))
        z[:, 0], z[:, 1] = az, el
        sigma = np.empty((k, 2))
        sigma[:, 0] = _or_default_falsy(s_az, cfg.sigma_az_deg)
        sigma[:, 1] = _or_default_falsy(s_el, cfg.sigma_el_deg)
        z, sigma = np.radians(z), np.radians(sigma)
        labels = _camera_labels(cps, names, confidences)
        return Scan(sensor.index, t, z, sigma * sigma, sensor.models["plain"], labels)

    def _remote_id(self, sensor: SensorModels, t: float, dets: list) -> Scan:
        """Remote ID positions in the camp frame; its velocity too when every detection has it."""
        cfg = sensor.config
        with_vel = bool(dets) and all(
            d.speed_mps is not None and d.heading_deg is not None for d in dets
        )
        model = sensor.models["velocity" if with_vel else "plain"]
        k = len(dets)
        z = np.empty((k, model.dim))
        var = np.empty_like(z)
        if k:
            geo = np.array([[d.lat, d.lon, d.alt_m] for d in dets])
            z[:, :3] = self.frame.to_enu(geo[:, 0], geo[:, 1], geo[:, 2])
        var[:, 0:2] = cfg.sigma_pos_m**2
        var[:, 2] = cfg.sigma_alt_m**2
        if with_vel:
            speed = np.array([d.speed_mps for d in dets])
            heading = np.radians([d.heading_deg for d in dets])
            z[:, 3] = speed * np.sin(heading)
            z[:, 4] = speed * np.cos(heading)
            z[:, 5] = [d.vspeed_mps or 0.0 for d in dets]
            var[:, 3:5] = cfg.sigma_vel_mps**2
            # A missing vertical speed is not a measured zero: give it a loose variance.
            var[:, 5] = [cfg.sigma_vel_mps**2 if d.vspeed_mps is not None else 25.0 for d in dets]
        return Scan(sensor.index, t, z, var, model, _remote_id_labels(dets))


def _or_default(values: tuple[float | None, ...], default: float) -> float | list[float]:
    """A column of optional values with `default` for the missing: the default alone when
    all are missing (the usual case), to fill a whole column."""
    missing = values.count(None)
    if missing == len(values):
        return default
    if missing == 0:
        return values  # type: ignore[return-value]
    return [default if v is None else v for v in values]


def _or_default_falsy(values: tuple[float | None, ...], default: float) -> Array:
    """A column of optional values with `default` for the missing and for zeros (a sigma
    of 0 says nothing either), as a float array."""
    if values.count(None) == len(values):
        return np.full(len(values), default)
    return np.array([v or default for v in values], dtype=float)


def _radar_labels(
    cps: tuple[dict[str, float] | None, ...], rcs: tuple[float | None, ...]
) -> Labels | None:
    """RCS and any class probabilities of radar plots (columns); None for plain plots (the
    usual case, which must cost next to nothing)."""
    k = len(cps)
    if cps.count(None) == k and rcs.count(None) == k:
        return None
    probs = _normalised([_NOTHING if cp is None else _wire_probs(cp) for cp in cps])
    return Labels(probs, np.array(rcs, dtype=float), [None] * k, [None] * k)


def _rf_labels(
    cps: tuple[dict[str, float] | None, ...],
    protocols: tuple[str | None, ...],
    emitters: tuple[str | None, ...],
) -> Labels | None:
    """Class probabilities (the wire's, else a recognised protocol's) and emitter ids of a
    scan's bearings (columns)."""
    k = len(cps)
    probs = _all_wire_probs(cps)
    if probs is not None:
        return Labels(probs, np.full(k, np.nan), [None] * k, list(emitters))
    rows = [
        _wire_probs(cp)
        if cp is not None
        else _RF_DRONE
        if protocol is not None and protocol.strip().lower() not in _NO_PROTOCOL
        else _NOTHING
        for cp, protocol in zip(cps, protocols, strict=True)
    ]
    if all(r is _NOTHING for r in rows) and emitters.count(None) == k:
        return None
    return Labels(_normalised(rows), np.full(k, np.nan), [None] * k, list(emitters))


def _remote_id_labels(dets: list[wire.RemoteIdDetection]) -> Labels | None:
    """Every Remote ID broadcast is a cooperative drone naming itself."""
    k = len(dets)
    if k == 0:
        return None
    probs = np.tile(_REMOTE_ID, (k, 1))
    return Labels(probs, np.full(k, np.nan), [d.uas_id for d in dets], [None] * k)


def _camera_labels(
    cps: tuple[dict[str, float] | None, ...],
    names: tuple[str | None, ...],
    confidences: tuple[float | None, ...],
) -> Labels | None:
    """Class probabilities of a scan's sightings (columns): the wire's, else the detector's
    label and confidence."""
    k = len(cps)
    probs = _all_wire_probs(cps)
    if probs is not None:
        return Labels(probs, np.full(k, np.nan), [None] * k, [None] * k)
    rows = [
        _wire_probs(cp)
        if cp is not None
        else _camera_probs(label, confidence)
        if label is not None
        else _NOTHING
        for cp, label, confidence in zip(cps, names, confidences, strict=True)
    ]
    if all(r is _NOTHING for r in rows):
        return None
    return Labels(_normalised(rows), np.full(k, np.nan), [None] * k, [None] * k)


def _by_time(report: wire.Report) -> dict[float, list]:
    """Detections grouped by their own measurement time (default: the report's), in order."""
    if all(d.t is None for d in report.detections):
        return {report.t: list(report.detections)}
    groups: dict[float, list] = defaultdict(list)
    for d in report.detections:
        groups[report.t if d.t is None else d.t].append(d)
    return dict(sorted(groups.items()))
