"""Drill behaviours: targets that fly a pattern, as pure functions of time.

Drill behaviours (`Straight` ingress or pass, `Weave`, `Orbit`, `Racetrack`, `Waypoints`,
`SampledPath` for random paths drawn up front, such as birds) share one interface, `Target`:
an id, a class (`drone`/`bird`), a radar cross section, an active window `t_start..t_end` in
scenario seconds, and `state(t)`, a pure function of time vectorised over `t`.

What a target transmits, for the passive sensors (`simulators.passive`), is optional and read
with defaults, so any `Target` works without it: `rf_emitter` (the id of its control/video
link, None when RF-silent) with its `protocol`, `remote_id` (the `uas_id` it broadcasts, None
when non-cooperative) and `operator_en` (where its pilot stands; default: below its start).
Birds carry none of these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

__all__ = [
    "BIRD_RCS_DBSM",
    "DRONE_RCS_DBSM",
    "Behaviour",
    "Orbit",
    "Racetrack",
    "SampledPath",
    "Straight",
    "Target",
    "TargetClass",
    "Waypoints",
    "Weave",
    "from_bearing",
    "ingress",
    "weave",
]

DRONE_RCS_DBSM = (-15.0, -10.0)  # small multirotor / fixed-wing drones, X band
BIRD_RCS_DBSM = (-25.0, -20.0)  # single birds of pigeon to crow size
TargetClass = Literal["drone", "bird"]


def from_bearing(
    bearing_deg: float, distance_m: float, up_m: float = 0.0, origin: ArrayLike = (0.0, 0.0)
) -> Array:
    """The ENU point at a true-north bearing and horizontal distance from `origin` (e, n)."""
    b = math.radians(bearing_deg)
    o = np.asarray(origin, dtype=np.float64)
    return np.array([o[0] + distance_m * math.sin(b), o[1] + distance_m * math.cos(b), up_m])


@runtime_checkable
class Target(Protocol):
    """What a scenario needs of any target: identity, class, RCS, when it flies, where it is.

    `state(t)` takes scenario time (seconds from the scenario's start) as a scalar or an
    array of shape (k,) and returns camp-ENU position and velocity of shape (k, 3) (or (3,)
    for a scalar); it is a pure function of `t`, so real-time and recorded runs agree.
    """

    target_id: str
    class_: str
    rcs_dbsm: float
    t_start: float

    @property
    def t_end(self) -> float: ...

    def state(self, t: ArrayLike) -> tuple[Array, Array]: ...


@dataclass(frozen=True, kw_only=True)
class Behaviour:
    """Common fields of the analytic behaviours below; `lifetime_s` None = the natural end.

    `rf_emitter`/`protocol`/`remote_id`/`operator_en`: what the target transmits (see the
    module docstring); the defaults are an RF-silent, non-cooperative target. `side` is who
    it belongs to for scoring (`hostile`, `friendly`, `neutral`); None lets the scorer infer
    it (`target_side`).
    """

    target_id: str
    class_: str = "drone"
    rcs_dbsm: float = -12.0
    t_start: float = 0.0
    lifetime_s: float | None = None
    rf_emitter: str | None = None
    protocol: str | None = None
    remote_id: str | None = None
    operator_en: tuple[float, float] | None = None
    side: str | None = None

    @property
    def t_end(self) -> float:
        """Scenario time at which the target leaves the air (may be inf)."""
        life = self.natural_lifetime_s() if self.lifetime_s is None else self.lifetime_s
        return self.t_start + life

    def natural_lifetime_s(self) -> float:
        """How long the behaviour lasts by itself (to its last point, or forever)."""
        return math.inf

    def state(self, t: ArrayLike) -> tuple[Array, Array]:
        """(position, velocity) in camp ENU at scenario time(s) `t`; see `Target`."""
        tau = np.asarray(t, dtype=np.float64) - self.t_start
        return self._motion(tau)

    def _motion(self, tau: Array) -> tuple[Array, Array]:
        raise NotImplementedError


def _course(start: ArrayLike, end: ArrayLike) -> tuple[Array, Array, float]:
    """Start point, unit direction and length of the leg start -> end."""
    a, b = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
    leg = b - a
    length = float(np.linalg.norm(leg))
    if length <= 0.0:
        raise ValueError("a course needs distinct start and end points")
    return a, leg / length, length


def _outer(scalar: Array, vector: Array) -> Array:
    """scalar (...) times vector (3,) -> (..., 3)."""
    return np.multiply.outer(scalar, vector)


@dataclass(frozen=True, kw_only=True)
class Straight(Behaviour):
    """Constant velocity from `start` to `end` (ENU metres): an ingress, or a pass."""

    start: tuple[float, float, float]
    end: tuple[float, float, float]
    speed_mps: float

    def natural_lifetime_s(self) -> float:
        return _course(self.start, self.end)[2] / self.speed_mps

    def _motion(self, tau: Array) -> tuple[Array, Array]:
        a, u, _ = _course(self.start, self.end)
        pos = a + _outer(tau * self.speed_mps, u)
        return pos, np.broadcast_to(u * self.speed_mps, pos.shape).copy()


@dataclass(frozen=True, kw_only=True)
class Waypoints(Behaviour):
    """Constant speed along a polyline of ENU `points` (metres), from the first to the last.

    With `loop`, the target flies back to the first point and round again for ever (a patrol);
    otherwise it leaves the air at the last point.
    """

    points: tuple[tuple[float, float, float], ...]
    speed_mps: float
    loop: bool = False

    def _legs(self) -> tuple[Array, Array, Array]:
        pts = np.asarray(self.points, dtype=np.float64).reshape(-1, 3)
        if self.loop:
            pts = np.vstack((pts, pts[:1]))
        legs = np.diff(pts, axis=0)
        lengths = np.linalg.norm(legs, axis=1)
        if len(legs) == 0 or np.any(lengths <= 0.0):
            raise ValueError("waypoints need at least two points, each distinct from the last")
        return pts, legs, lengths

    def natural_lifetime_s(self) -> float:
        if self.loop:
            return math.inf
        return float(self._legs()[2].sum()) / self.speed_mps

    def _motion(self, tau: Array) -> tuple[Array, Array]:
        pts, legs, lengths = self._legs()
        ends = np.cumsum(lengths)
        s = np.asarray(tau, dtype=np.float64) * self.speed_mps
        s = np.mod(s, ends[-1]) if self.loop else np.clip(s, 0.0, ends[-1])
        k = np.minimum(np.searchsorted(ends, s), len(legs) - 1)
        unit = legs / lengths[:, None]
        along = s - (ends[k] - lengths[k])
        pos = pts[k] + unit[k] * along[..., None]
        return pos, unit[k] * self.speed_mps


@dataclass(frozen=True, kw_only=True)
class Weave(Behaviour):
    """Sinusoidal lateral motion about the course `start` -> `end`.

    The along-course speed is `speed_mps`; the horizontal offset to the left of the course is
    `amplitude_m * sin(2 pi tau / period_s + phase)`, so the drone's true speed peaks at
    sqrt(speed**2 + (2 pi amplitude / period)**2) as it crosses the course line.
    """

    start: tuple[float, float, float]
    end: tuple[float, float, float]
    speed_mps: float
    amplitude_m: float
    period_s: float
    phase_deg: float = 0.0

    def natural_lifetime_s(self) -> float:
        return _course(self.start, self.end)[2] / self.speed_mps

    def lateral(self) -> Array:
        """Unit horizontal vector to the left of the course."""
        _, u, _ = _course(self.start, self.end)
        h = np.array([-u[1], u[0], 0.0])
        norm = np.linalg.norm(h)
        if norm == 0.0:
            raise ValueError("a weave needs a course that is not vertical")
        return h / norm

    def _motion(self, tau: Array) -> tuple[Array, Array]:
        a, u, _ = _course(self.start, self.end)
        n, w = self.lateral(), 2.0 * math.pi / self.period_s
        phase = w * tau + math.radians(self.phase_deg)
        pos = a + _outer(tau * self.speed_mps, u) + _outer(self.amplitude_m * np.sin(phase), n)
        vel = u * self.speed_mps + _outer(self.amplitude_m * w * np.cos(phase), n)
        return pos, vel


@dataclass(frozen=True, kw_only=True)
class Orbit(Behaviour):
    """A level circle of `radius_m` about `center` (e, n) at `alt_m`, flown at `speed_mps`.

    `start_bearing_deg` is where on the circle (seen from its centre, clockwise from north)
    the target is at `t_start`; it loiters until `lifetime_s` (forever by default).
    """

    center: tuple[float, float]
    radius_m: float
    alt_m: float
    speed_mps: float
    start_bearing_deg: float = 0.0
    clockwise: bool = True

    def _motion(self, tau: Array) -> tuple[Array, Array]:
        sign = 1.0 if self.clockwise else -1.0
        omega = sign * self.speed_mps / self.radius_m
        b = math.radians(self.start_bearing_deg) + omega * tau
        e = self.center[0] + self.radius_m * np.sin(b)
        n = self.center[1] + self.radius_m * np.cos(b)
        up = np.full(np.shape(b), float(self.alt_m))
        ve = self.radius_m * omega * np.cos(b)
        vn = -self.radius_m * omega * np.sin(b)
        pos = np.stack((e, n, up), axis=-1)
        return pos, np.stack((ve, vn, np.zeros_like(ve)), axis=-1)


@dataclass(frozen=True, kw_only=True)
class Racetrack(Behaviour):
    """A level racetrack (two straight legs joined by half circles) flown for ever.

    The long axis runs through `center` (e, n) along the true-north bearing `axis_deg`; each
    straight is `straight_m` long, the turns have `radius_m`. At `t_start` the target is at
    the start of the leg flown along `axis_deg`, which lies `radius_m` to the left of the axis
    when `clockwise` (seen from above), to its right otherwise.
    """

    center: tuple[float, float]
    straight_m: float
    radius_m: float
    axis_deg: float
    alt_m: float
    speed_mps: float
    clockwise: bool = True

    def _motion(self, tau: Array) -> tuple[Array, Array]:
        L, r = self.straight_m, self.radius_m
        s = np.mod(tau * self.speed_mps, 2.0 * L + 2.0 * math.pi * r)
        # Anticlockwise in the track's own (x along the axis, y to its left) frame.
        on_leg1, on_turn1 = s < L, s < L + math.pi * r
        on_leg2 = s < 2.0 * L + math.pi * r
        a1 = (s - L) / r - math.pi / 2.0  # angle about the turn centres
        a2 = (s - 2.0 * L - math.pi * r) / r + math.pi / 2.0
        x = np.select(
            (on_leg1, on_turn1, on_leg2),
            (s - L / 2.0, L / 2.0 + r * np.cos(a1), L / 2.0 - (s - L - math.pi * r)),
            -L / 2.0 + r * np.cos(a2),
        )
        y = np.select((on_leg1, on_turn1, on_leg2), (-r, r * np.sin(a1), r), r * np.sin(a2))
        vx = np.select((on_leg1, on_turn1, on_leg2), (1.0, -np.sin(a1), -1.0), -np.sin(a2))
        vy = np.select((on_leg1, on_turn1, on_leg2), (0.0, np.cos(a1), 0.0), np.cos(a2))
        if self.clockwise:
            y, vy = -y, -vy
        b = math.radians(self.axis_deg)
        ux, uy = np.array([math.sin(b), math.cos(b)]), np.array([-math.cos(b), math.sin(b)])
        en = np.asarray(self.center, dtype=np.float64) + _outer(x, ux) + _outer(y, uy)
        ven = self.speed_mps * (_outer(vx, ux) + _outer(vy, uy))
        up = np.full(np.shape(s), float(self.alt_m))
        pos = np.concatenate((en, up[..., None]), axis=-1)
        return pos, np.concatenate((ven, np.zeros_like(up)[..., None]), axis=-1)


@dataclass(frozen=True, kw_only=True, eq=False)
class SampledPath(Behaviour):
    """A path given on a time grid: velocity constant over each step, position exact.

    `times` (k,) are seconds from `t_start`, `pos`/`vel` (k, 3); between grid points the
    target moves at `vel[i]`, so position and velocity are always consistent. Used for
    random behaviours (birds), which are drawn once, up front, from a seeded generator.
    """

    times: Array
    pos: Array
    vel: Array

    def natural_lifetime_s(self) -> float:
        return float(self.times[-1])

    def _motion(self, tau: Array) -> tuple[Array, Array]:
        i = np.clip(np.searchsorted(self.times, tau, side="right") - 1, 0, len(self.times) - 1)
        dt = tau - self.times[i]
        return self.pos[i] + self.vel[i] * dt[..., None], self.vel[i].copy()


def ingress(
    target_id: str,
    bearing_deg: float,
    distance_m: float,
    alt_m: float,
    speed_mps: float,
    toward: ArrayLike = (0.0, 0.0),
    *,
    overfly_m: float = 0.0,
    **common: Any,
) -> Straight:
    """A straight run from `distance_m` out on `bearing_deg` (from `toward`) to `toward` (e, n).

    The target ends over the aim point, or `overfly_m` beyond it; height `alt_m` above the
    camp origin throughout.
    """
    start = from_bearing(bearing_deg, distance_m, alt_m, toward)
    end = from_bearing(bearing_deg + 180.0, overfly_m, alt_m, toward)
    return Straight(
        target_id=target_id,
        start=_tuple3(start),
        end=_tuple3(end),
        speed_mps=speed_mps,
        **common,
    )


def weave(
    target_id: str,
    bearing_deg: float,
    distance_m: float,
    alt_m: float,
    speed_mps: float,
    amplitude_m: float,
    period_s: float,
    toward: ArrayLike = (0.0, 0.0),
    **common: Any,
) -> Weave:
    """A weaving ingress: like `ingress`, with a sinusoidal lateral offset about the course."""
    start = from_bearing(bearing_deg, distance_m, alt_m, toward)
    end = from_bearing(0.0, 0.0, alt_m, toward)
    return Weave(
        target_id=target_id,
        start=_tuple3(start),
        end=_tuple3(end),
        speed_mps=speed_mps,
        amplitude_m=amplitude_m,
        period_s=period_s,
        **common,
    )


def _tuple3(p: Array) -> tuple[float, float, float]:
    return (float(p[0]), float(p[1]), float(p[2]))
