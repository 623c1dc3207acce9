"""Simulated passive sensors: RF direction finders, EO/IR cameras and Remote ID receivers.

Each sensor is placed by its `SensorConfig` in the camp frame and turns the truth of one scan
(`simulators.targets.target_set.TargetStates` at measurement time `t`) into the matching wire
report, as the real device's adapter would publish it:

- `SimulatedRfSensor` hears only targets whose RF link is on (`rf_emitter`), within
  `max_range_m`, each with probability `p_detection`; it reports a noisy true-north bearing,
  the link's frequency, an RSSI falling with range, the protocol, the emitter id and class
  probabilities from its protocol library, plus occasional spurious bearings.
- `SimulatedCamera` sees targets inside its field of view and range with a Pd falling with
  range; it reports noisy azimuth/elevation and a label drawn from a confusion matrix.
- `SimulatedRemoteId` hears cooperative targets (`remote_id`) within range through a bursty
  link (a two-state Gilbert channel, so messages go missing in runs) and reports their
  broadcast position, velocity, `uas_id` and operator position.

Every sensor also has a `Latency`: the measurement is stamped `t` but arrives at the core at
`arrival_time(t)` = t + latency (camera 0.15 s, RF 0.25 s, Remote ID 0.2-1.0 s jittered), so
recordings and real-time runs deliver realistically out-of-order reports across sensors while
each sensor's own stay in order. A latency never exceeds the worst case the camp declares for
the sensor (its `latency_s`, else `latency_bound_s`, which runs set to the camp's
`tracker.reorder_window_s`, the bound the core then assumes): a simulated sensor keeps the
promise its configuration makes, so the core's reorder window never has to call it late.

Random numbers: one generator per sensor, `sensor_rng(seed, sensor_id)`; latency draws come
from a child stream of it, so changing a latency model leaves the measurements unchanged.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cuas.config import SensorConfig
from cuas.geodesy import LocalFrame, wrap_deg
from cuas.wire import (
    VERSION,
    CameraDetection,
    CameraReport,
    Kind,
    RemoteIdDetection,
    RemoteIdReport,
    Report,
    RfDetection,
    RfReport,
)
from simulators.targets.target_set import TargetStates

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
PassiveDetection = RfDetection | CameraDetection | RemoteIdDetection

PASSIVE_STREAM = 2  # random stream of a seed for per-sensor generators (0: targets, 1: radar)

__all__ = [
    "DEFAULT_CONFUSION",
    "DEFAULT_LATENCY",
    "PROTOCOLS",
    "ConfusionMatrix",
    "GilbertLink",
    "Latency",
    "LinkProtocol",
    "PassiveScan",
    "PassiveSensor",
    "RangePd",
    "SimulatedCamera",
    "SimulatedRemoteId",
    "SimulatedRfSensor",
    "passive_sensor",
    "sensor_rng",
    "wrap_bearing",
]


def wrap_bearing(az_deg: ArrayLike) -> Array:
    """Angles into [0, 360) degrees (a tiny negative must not round up to 360.0)."""
    a = np.mod(np.asarray(az_deg, dtype=np.float64), 360.0)
    return np.where(a >= 360.0, 0.0, a)


def sensor_rng(seed: int, sensor_id: str) -> np.random.Generator:
    """The generator of one sensor in a scenario run: derived from the seed and the sensor id,
    so adding or reordering sensors in a camp changes no other sensor's draws."""
    return np.random.default_rng([PASSIVE_STREAM, seed, zlib.crc32(sensor_id.encode())])


def _column(values: tuple[Any, ...], n: int) -> tuple[Any, ...]:
    """A per-target column of `TargetStates`, where an empty one means "all None"."""
    return values if values else (None,) * n


# --- latency ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    """Delay from measurement to arrival at the core: `base_s` plus uniform `0..jitter_s`."""

    base_s: float
    jitter_s: float = 0.0

    @property
    def max_s(self) -> float:
        """The worst delay."""
        return self.base_s + self.jitter_s

    def bounded(self, bound_s: float | None) -> Latency:
        """This model, capped so that it never exceeds a declared worst case `bound_s`."""
        if bound_s is None or self.max_s <= bound_s:
            return self
        base = min(self.base_s, bound_s)
        return Latency(base, bound_s - base)

    def draw(self, rng: np.random.Generator) -> float:
        """One delay; draws a random number only when there is jitter."""
        return self.base_s + (float(rng.uniform(0.0, self.jitter_s)) if self.jitter_s else 0.0)


# Radars: `simulators.benchmark_scenarios.RECEIVE_DELAY_S`.
DEFAULT_LATENCY: dict[str, Latency] = {
    "camera": Latency(0.15),  # frame grab, detector, adapter
    "rf": Latency(0.25),  # dwell and direction finding over the band
    "remote_id": Latency(0.2, 0.8),  # broadcast interval and receiver batching
}


# --- the common sensor --------------------------------------------------------------------


@dataclass(frozen=True)
class PassiveScan:
    """One scan's detections, with the index (in the scanned `TargetStates`) of the target
    behind each, -1 for a false alarm."""

    t: float
    detections: list[PassiveDetection]
    truth_index: IntArray

    def __len__(self) -> int:
        return len(self.detections)


class PassiveSensor:
    """A simulated sensor of kind `kind` placed by its config in the camp frame.

    Subclasses implement `observe`; the base does placement, geometry, report numbering and
    arrival times. `latency` defaults to the kind's `DEFAULT_LATENCY`, capped by the sensor's
    `latency_s` or, when it declares none, by `latency_bound_s` (see the module docstring).
    """

    kind: ClassVar[Kind]
    report_type: ClassVar[type[RfReport | CameraReport | RemoteIdReport]]

    def __init__(
        self,
        sensor: SensorConfig,
        camp: LocalFrame,
        rng: np.random.Generator,
        latency: Latency | None = None,
        latency_bound_s: float | None = None,
    ) -> None:
        if sensor.kind != self.kind:
            raise ValueError(f"sensor {sensor.id!r} is a {sensor.kind}, not a {self.kind}")
        self.sensor = sensor
        self.camp = camp
        self.frame = camp.sensor_frame(sensor.lat, sensor.lon, sensor.alt_m)
        self.rng = rng
        bound = latency_bound_s if sensor.latency_s is None else sensor.latency_s
        self.latency = (latency or DEFAULT_LATENCY[self.kind]).bounded(bound)
        self._latency_rng = rng.spawn(1)[0]
        self._last_arrival = -math.inf
        self.seq = 0

    def observe(self, t: float, states: TargetStates) -> PassiveScan:
        """The detections of one scan at measurement time `t` of the targets `states`."""
        raise NotImplementedError

    def report(self, scan: PassiveScan) -> Report:
        """A scan as a wire report; numbers this sensor's reports 0, 1, 2, ..."""
        report = self.report_type(
            v=VERSION,
            sensor_id=self.sensor.id,
            seq=self.seq,
            t=scan.t,
            detections=list(scan.detections),  # type: ignore[arg-type]
        )
        self.seq += 1
        return report

    def scan(self, t: float, states: TargetStates) -> Report:
        """Observe at time `t` and return the wire report."""
        return self.report(self.observe(t, states))

    def arrival_time(self, t: float) -> float:
        """When the report measured at `t` reaches the core: t + a latency draw, and never
        before the previous report of this sensor (a sensor delivers in order)."""
        arrival = max(t + self.latency.draw(self._latency_rng), self._last_arrival)
        self._last_arrival = arrival
        return arrival

    def _aer(self, enu: Array) -> tuple[Array, Array, Array]:
        """Azimuth, elevation (degrees) and slant range of camp-ENU points from the sensor."""
        return self.frame.enu_to_aer(np.asarray(enu, dtype=np.float64).reshape(-1, 3))

    def _in_range(self, range_m: Array) -> NDArray[np.bool_]:
        return (range_m > self.sensor.min_range_m) & (range_m <= self.sensor.max_range_m)


# --- RF direction finder ------------------------------------------------------------------


@dataclass(frozen=True)
class LinkProtocol:
    """A drone link protocol as a direction finder's library knows it.

    `bands_mhz`: where it transmits; a hopping link (`channels_mhz` empty) shows a frequency
    anywhere in one of its bands, a fixed one sits on one of `channels_mhz` chosen by the
    emitter. `eirp_dbm` sets the RSSI; `class_probs` is what recognising it says.
    """

    bands_mhz: tuple[tuple[float, float], ...]
    eirp_dbm: float = 20.0
    channels_mhz: tuple[float, ...] = ()
    class_probs: Mapping[str, float] = field(default_factory=lambda: {"drone": 0.9, "unknown": 0.1})


ISM_24 = (2400.0, 2483.5)
ISM_58 = (5725.0, 5850.0)
PROTOCOLS: dict[str, LinkProtocol] = {
    "dji-ocusync": LinkProtocol((ISM_24, ISM_58), eirp_dbm=23.0),
    "elrs": LinkProtocol((ISM_24,), eirp_dbm=20.0),
    "wifi-fpv": LinkProtocol(
        (ISM_58,), eirp_dbm=25.0, channels_mhz=(5745.0, 5765.0, 5785.0, 5805.0, 5825.0)
    ),
}
UNKNOWN_PROTOCOL = LinkProtocol((ISM_24, ISM_58), class_probs={"drone": 0.5, "unknown": 0.5})
SPURIOUS_CLASS_PROBS = {"unknown": 1.0}


def free_space_loss_db(range_m: ArrayLike, freq_mhz: ArrayLike) -> Array:
    """Free-space path loss in dB: 20 log10(d / m) + 20 log10(f / MHz) - 27.55."""
    d = np.maximum(np.asarray(range_m, dtype=np.float64), 1.0)
    return 20.0 * np.log10(d) + 20.0 * np.log10(np.asarray(freq_mhz, dtype=np.float64)) - 27.55


class SimulatedRfSensor(PassiveSensor):
    """An RF direction finder: bearings of emitting drones, never of birds or silent drones.

    Each emitting target within range is heard with probability `p_detection` per scan (the
    config's by default). Bearings carry Gaussian noise `sigma_az_deg` and are wrapped to
    [0, 360); RSSI is EIRP minus free-space loss with `rssi_sigma_db` of fading. Spurious
    bearings arrive as a Poisson process (`false_alarms_per_scan`) from anywhere around,
    near the noise floor and of no known protocol. `hears`, when given, limits the finder to
    links whose protocol or emitter id it names (a finder's protocol library is never complete).
    """

    kind: ClassVar[Kind] = "rf"
    report_type = RfReport

    def __init__(
        self,
        sensor: SensorConfig,
        camp: LocalFrame,
        rng: np.random.Generator,
        latency: Latency | None = None,
        latency_bound_s: float | None = None,
        *,
        p_detection: float | None = None,
        false_alarms_per_scan: float = 0.01,
        rssi_sigma_db: float = 3.0,
        protocols: Mapping[str, LinkProtocol] | None = None,
        hears: Collection[str] | None = None,
    ) -> None:
        super().__init__(sensor, camp, rng, latency, latency_bound_s)
        self.p_detection = sensor.p_detection if p_detection is None else p_detection
        self.hears = None if hears is None else frozenset(hears)
        self.false_alarms_per_scan = false_alarms_per_scan
        self.rssi_sigma_db = rssi_sigma_db
        self.protocols = PROTOCOLS if protocols is None else protocols

    def _frequency(self, protocol: LinkProtocol, emitter: str | None) -> float:
        rng = self.rng
        if protocol.channels_mhz and emitter is not None:
            return protocol.channels_mhz[zlib.crc32(emitter.encode()) % len(protocol.channels_mhz)]
        lo, hi = protocol.bands_mhz[int(rng.integers(len(protocol.bands_mhz)))]
        return round(float(rng.uniform(lo, hi)), 1)

    def _hears(self, emitter: str, protocol: str | None) -> bool:
        """Whether this finder can hear a link with this emitter id and protocol."""
        return self.hears is None or emitter in self.hears or (protocol or "unknown") in self.hears

    def observe(self, t: float, states: TargetStates) -> PassiveScan:
        s, rng, n = self.sensor, self.rng, len(states)
        emitters = _column(states.rf_emitters, n)
        names = _column(states.protocols, n)
        az, _, range_m = self._aer(states.enu)
        emitting = np.array(
            [e is not None and self._hears(e, p) for e, p in zip(emitters, names, strict=True)],
            dtype=bool,
        )
        heard = emitting & self._in_range(range_m) & (rng.uniform(0.0, 1.0, n) < self.p_detection)
        hit = np.flatnonzero(heard)
        k = len(hit)
        m_az = wrap_bearing(az[hit] + rng.normal(0.0, s.sigma_az_deg, k))
        fading = rng.normal(0.0, self.rssi_sigma_db, k)
        detections: list[PassiveDetection] = []
        for j, i in enumerate(hit.tolist()):
            name = names[i] or "unknown"
            protocol = self.protocols.get(name, UNKNOWN_PROTOCOL)
            freq = self._frequency(protocol, emitters[i])
            loss = float(free_space_loss_db(range_m[i], freq))
            detections.append(
                RfDetection(
                    az_deg=float(m_az[j]),
                    freq_mhz=freq,
                    rssi_dbm=round(protocol.eirp_dbm - loss + float(fading[j]), 1),
                    protocol=name,
                    emitter_id=emitters[i],
                    class_probs=dict(protocol.class_probs),  # type: ignore[arg-type]
                )
            )
        n_false = int(rng.poisson(self.false_alarms_per_scan))
        false_az = wrap_bearing(rng.uniform(0.0, 360.0, n_false))
        false_rssi = rng.uniform(-100.0, -88.0, n_false)
        for a, rssi in zip(false_az.tolist(), false_rssi.tolist(), strict=True):
            detections.append(
                RfDetection(
                    az_deg=a,
                    freq_mhz=self._frequency(UNKNOWN_PROTOCOL, None),
                    rssi_dbm=round(rssi, 1),
                    protocol="unknown",
                    class_probs=dict(SPURIOUS_CLASS_PROBS),  # type: ignore[arg-type]
                )
            )
        return _shuffled(rng, t, detections, np.concatenate((hit, np.full(n_false, -1))))


def _shuffled(
    rng: np.random.Generator, t: float, detections: list[PassiveDetection], index: ArrayLike
) -> PassiveScan:
    """A scan with its detections in random order, so that the order tells nothing."""
    order = rng.permutation(len(detections))
    truth = np.asarray(index, dtype=np.int64)[order]
    return PassiveScan(t, [detections[i] for i in order.tolist()], truth)


# --- EO/IR camera -------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfusionMatrix:
    """What a classifier reports for each true class: `rows[true][label]` = probability.

    A true class without a row (a false alarm is "clutter") is always labelled `fallback`.
    Reported `confidence` is uniform in `correct_confidence` when the label is right and in
    `wrong_confidence` otherwise (a classifier is less sure when it is wrong).
    """

    rows: Mapping[str, Mapping[str, float]]
    fallback: str = "unknown"
    correct_confidence: tuple[float, float] = (0.6, 0.95)
    wrong_confidence: tuple[float, float] = (0.4, 0.7)

    def __post_init__(self) -> None:
        for true, row in self.rows.items():
            if abs(sum(row.values()) - 1.0) > 1e-9 or min(row.values()) < 0.0:
                raise ValueError(f"confusion row {true!r} is not a probability distribution")

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label the classifier can give, in a fixed order."""
        seen = dict.fromkeys(label for row in self.rows.values() for label in row)
        seen.setdefault(self.fallback)
        return tuple(seen)

    def probabilities(self, classes: Sequence[str]) -> Array:
        """(n, len(labels)) label probabilities for targets of the given true classes."""
        labels = self.labels
        table = np.zeros((len(classes), len(labels)))
        fallback = labels.index(self.fallback)
        for i, c in enumerate(classes):
            row = self.rows.get(c)
            if row is None:
                table[i, fallback] = 1.0
            else:
                table[i] = [row.get(label, 0.0) for label in labels]
        return table

    def class_probs(self, label: str, confidence: float) -> dict[str, float]:
        """Class probabilities consistent with a label and its confidence: `confidence` on the
        label, the rest shared equally by the other labels."""
        others = [x for x in self.labels if x != label]
        rest = (1.0 - confidence) / len(others) if others else 0.0
        return {label: confidence, **dict.fromkeys(others, rest)}


DEFAULT_CONFUSION = ConfusionMatrix(
    {
        "drone": {"drone": 0.85, "bird": 0.10, "unknown": 0.05},
        "bird": {"bird": 0.80, "drone": 0.15, "unknown": 0.05},
    }
)


@dataclass(frozen=True)
class RangePd:
    """Pd falling with range: `p_near` close in to `p_far` at `max_range_m`, quadratically
    (the target's image shrinks with range, and with it the detector's margin)."""

    p_near: float
    p_far: float
    max_range_m: float

    @classmethod
    def for_sensor(cls, sensor: SensorConfig, p_near: float = 0.98) -> RangePd:
        """The config's `p_detection` at its `max_range_m`, `p_near` (or more) close in."""
        return cls(max(p_near, sensor.p_detection), sensor.p_detection, sensor.max_range_m)

    def __call__(self, range_m: Array) -> Array:
        x = np.clip(np.asarray(range_m, dtype=np.float64) / self.max_range_m, 0.0, 1.0)
        return self.p_near - (self.p_near - self.p_far) * x**2


class SimulatedCamera(PassiveSensor):
    """An EO/IR camera with a detector and a drone/bird classifier.

    Sees targets inside its field of view (`boresight_az_deg` +- `fov_az_deg` / 2, elevation
    `fov_el_min_deg..fov_el_max_deg`) and range, with probability `pd(range)`; angles carry
    Gaussian noise `sigma_az_deg`/`sigma_el_deg`. Labels, confidences and class probabilities
    come from `confusion`. False alarms (Poisson, `false_alarms_per_scan`) appear anywhere in
    the low part of the field of view, labelled as clutter is.
    """

    kind: ClassVar[Kind] = "camera"
    report_type = CameraReport

    def __init__(
        self,
        sensor: SensorConfig,
        camp: LocalFrame,
        rng: np.random.Generator,
        latency: Latency | None = None,
        latency_bound_s: float | None = None,
        *,
        pd: RangePd | None = None,
        confusion: ConfusionMatrix = DEFAULT_CONFUSION,
        false_alarms_per_scan: float = 0.005,
    ) -> None:
        super().__init__(sensor, camp, rng, latency, latency_bound_s)
        self.pd = pd or RangePd.for_sensor(sensor)
        self.confusion = confusion
        self.false_alarms_per_scan = false_alarms_per_scan

    def in_view(self, az: Array, el: Array, range_m: Array) -> NDArray[np.bool_]:
        """Whether points at (az, el, range) from the camera are inside its coverage."""
        s = self.sensor
        ok = (el >= s.fov_el_min_deg) & (el <= s.fov_el_max_deg) & self._in_range(range_m)
        if s.fov_az_deg < 360.0:
            ok &= np.abs(wrap_deg(az - s.boresight_az_deg)) <= s.fov_az_deg / 2.0
        return ok

    def _labels(self, classes: Sequence[str]) -> tuple[list[str], Array]:
        """A label and a confidence for each detected target of the given true classes."""
        rng, cm = self.rng, self.confusion
        labels = cm.labels
        cdf = np.cumsum(cm.probabilities(classes), axis=1)
        u = rng.uniform(0.0, 1.0, len(classes))
        pick = np.minimum((u[:, None] >= cdf).sum(axis=1), len(labels) - 1)
        chosen = [labels[i] for i in pick.tolist()]
        right = np.array([x == c for x, c in zip(chosen, classes, strict=True)], dtype=bool)
        lo = np.where(right, cm.correct_confidence[0], cm.wrong_confidence[0])
        hi = np.where(right, cm.correct_confidence[1], cm.wrong_confidence[1])
        return chosen, lo + (hi - lo) * rng.uniform(0.0, 1.0, len(classes))

    def observe(self, t: float, states: TargetStates) -> PassiveScan:
        s, rng, n = self.sensor, self.rng, len(states)
        az, el, range_m = self._aer(states.enu)
        seen = self.in_view(az, el, range_m) & (rng.uniform(0.0, 1.0, n) < self.pd(range_m))
        hit = np.flatnonzero(seen)
        k = len(hit)
        n_false = int(rng.poisson(self.false_alarms_per_scan))
        half = min(s.fov_az_deg, 360.0) / 2.0
        el_lo = max(s.fov_el_min_deg, 0.0)
        el_hi = max(el_lo, min(s.fov_el_max_deg, 15.0))
        m_az = wrap_bearing(
            np.concatenate(
                (
                    az[hit] + rng.normal(0.0, s.sigma_az_deg, k),
                    s.boresight_az_deg + rng.uniform(-half, half, n_false),
                )
            )
        )
        m_el = np.clip(
            np.concatenate(
                (el[hit] + rng.normal(0.0, s.sigma_el_deg, k), rng.uniform(el_lo, el_hi, n_false))
            ),
            -90.0,
            90.0,
        )
        classes = [states.classes[i] for i in hit.tolist()] + ["clutter"] * n_false
        labels, confidence = self._labels(classes)
        detections: list[PassiveDetection] = [
            CameraDetection(
                az_deg=a,
                el_deg=e,
                label=label,
                confidence=c,
                class_probs=self.confusion.class_probs(label, c),  # type: ignore[arg-type]
            )
            for a, e, label, c in zip(
                m_az.tolist(), m_el.tolist(), labels, np.round(confidence, 4).tolist(), strict=True
            )
        ]
        return _shuffled(rng, t, detections, np.concatenate((hit, np.full(n_false, -1))))


# --- Remote ID receiver -------------------------------------------------------------------


@dataclass(frozen=True)
class GilbertLink:
    """A bursty broadcast link: each message is received while the link is up, lost while it
    is down; the link state is a two-state Markov chain per transmitter.

    Over time a fraction `p_receive` of messages gets through, and losses come in runs of
    `mean_gap_msgs` messages on average (geometric), as when a drone banks or passes behind
    a building.
    """

    p_receive: float
    mean_gap_msgs: float = 3.0

    def __post_init__(self) -> None:
        if not 0.0 < self.p_receive <= 1.0 or self.mean_gap_msgs < 1.0:
            raise ValueError("need 0 < p_receive <= 1 and mean_gap_msgs >= 1")
        if self.p_fail > 1.0:
            raise ValueError("p_receive too low for gaps this short")

    @property
    def p_recover(self) -> float:
        """Probability that a down link is up for the next message."""
        return 1.0 / self.mean_gap_msgs

    @property
    def p_fail(self) -> float:
        """Probability that an up link is down for the next message (stationary p_receive)."""
        return self.p_recover * (1.0 - self.p_receive) / self.p_receive

    def step(self, up: NDArray[np.bool_] | None, u: Array) -> NDArray[np.bool_]:
        """The next link states given the current ones (None: first message, stationary) and
        uniform draws `u`."""
        if up is None:
            return u < self.p_receive
        return np.where(up, u >= self.p_fail, u < self.p_recover)


class SimulatedRemoteId(PassiveSensor):
    """A Remote ID receiver: the broadcast of each cooperative target within range.

    Position noise is Gaussian, `sigma_pos_m` per horizontal axis and `sigma_alt_m` up;
    velocity noise `sigma_vel_mps` per axis. Positions are converted from camp ENU with
    `LocalFrame.to_geodetic`; heading is true north in [0, 360). Reception goes through a
    `GilbertLink` per target (default: the config's `p_detection`, gaps of 3 messages).
    """

    kind: ClassVar[Kind] = "remote_id"
    report_type = RemoteIdReport

    def __init__(
        self,
        sensor: SensorConfig,
        camp: LocalFrame,
        rng: np.random.Generator,
        latency: Latency | None = None,
        latency_bound_s: float | None = None,
        *,
        link: GilbertLink | None = None,
    ) -> None:
        super().__init__(sensor, camp, rng, latency, latency_bound_s)
        self.link = link or GilbertLink(sensor.p_detection)
        self._up: dict[str, bool] = {}  # link state per target id

    def observe(self, t: float, states: TargetStates) -> PassiveScan:
        s, rng, n = self.sensor, self.rng, len(states)
        uas_ids = _column(states.remote_ids, n)
        _, _, range_m = self._aer(states.enu)
        talking = np.flatnonzero(
            np.array([x is not None for x in uas_ids], dtype=bool) & self._in_range(range_m)
        )
        ids = [states.ids[i] for i in talking.tolist()]
        known = np.array([x in self._up for x in ids], dtype=bool)
        before = np.array([self._up.get(x, False) for x in ids], dtype=bool)
        u = rng.uniform(0.0, 1.0, len(ids))
        up = np.where(known, self.link.step(before, u), self.link.step(None, u))
        self._up.update(zip(ids, up.tolist(), strict=True))
        hit = talking[up]
        k = len(hit)
        sigma_pos = np.array([s.sigma_pos_m, s.sigma_pos_m, s.sigma_alt_m])
        pos = states.enu[hit] + rng.normal(0.0, 1.0, (k, 3)) * sigma_pos
        vel = states.vel[hit] + rng.normal(0.0, s.sigma_vel_mps, (k, 3))
        operators = states.operators if states.operators is not None else np.zeros((n, 2))
        op = np.column_stack((operators[hit], np.zeros(k)))
        op[:, :2] += rng.normal(0.0, s.sigma_pos_m, (k, 2))
        lat, lon, alt = self.camp.to_geodetic(pos)
        op_lat, op_lon, _ = self.camp.to_geodetic(op)
        speed = np.hypot(vel[:, 0], vel[:, 1])
        heading = wrap_bearing(np.degrees(np.arctan2(vel[:, 0], vel[:, 1])))
        columns = (
            hit.tolist(),
            np.atleast_1d(lat).tolist(),
            np.atleast_1d(lon).tolist(),
            np.atleast_1d(alt).tolist(),
            speed.tolist(),
            heading.tolist(),
            vel[:, 2].tolist(),
            np.atleast_1d(op_lat).tolist(),
            np.atleast_1d(op_lon).tolist(),
        )
        detections: list[PassiveDetection] = [
            RemoteIdDetection(
                lat=la,
                lon=lo,
                alt_m=al,
                uas_id=uas_ids[i],
                speed_mps=sp,
                heading_deg=hd,
                vspeed_mps=vs,
                operator_lat=ola,
                operator_lon=olo,
            )
            for i, la, lo, al, sp, hd, vs, ola, olo in zip(*columns, strict=True)
        ]
        return PassiveScan(t, detections, hit.astype(np.int64))


SENSOR_TYPES: dict[str, type[PassiveSensor]] = {
    "rf": SimulatedRfSensor,
    "camera": SimulatedCamera,
    "remote_id": SimulatedRemoteId,
}


def passive_sensor(
    sensor: SensorConfig, camp: LocalFrame, rng: np.random.Generator, **options: Any
) -> PassiveSensor:
    """The simulated sensor of a config's kind (`rf`, `camera`, `remote_id`)."""
    cls = SENSOR_TYPES.get(sensor.kind)
    if cls is None:
        raise ValueError(f"sensor {sensor.id!r}: no passive simulator for kind {sensor.kind!r}")
    return cls(sensor, camp, rng, **options)
