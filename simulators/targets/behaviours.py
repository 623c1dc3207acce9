"""Ground-truth trajectories for scenarios: a random swarm for benchmarks, behaviours for drills.

Truth is handed around as `simulators.scoring.Snapshot` (ids plus (n, 3) position and velocity
arrays in camp ENU metres) and written to recordings as `simulators.scoring.TruthFrame`; the
schema lives with the scorer because drills score real tracks against GPS truth with the same code.

Drill behaviours (`Straight` ingress or pass, `Weave`, `Orbit`, `Racetrack`, `SampledPath`
birds from `bird_flock`) share one interface, `Target`: an id, a class (`drone`/`bird`), a radar
cross section, an active window `t_start..t_end` in scenario seconds, and `state(t)`, a pure
function of time vectorised over `t`. `TargetSet` evaluates a scenario's targets together.

What a target transmits, for the passive sensors (`simulators.passive`), is optional and read
with defaults, so any `Target` works without it: `rf_emitter` (the id of its control/video
link, None when RF-silent) with its `protocol`, `remote_id` (the `uas_id` it broadcasts, None
when non-cooperative) and `operator_en` (where its pilot stands; default: below its start).
Birds carry none of these.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cuas.geodesy import wrap_rad
from simulators.scoring import Snapshot, TruthFrame, TruthTarget

Array = NDArray[np.float64]

__all__ = [
    "BIRD_RCS_DBSM",
    "DRONE_RCS_DBSM",
    "Behaviour",
    "BirdParams",
    "NcvSwarm",
    "Orbit",
    "Racetrack",
    "SampledPath",
    "Straight",
    "SwarmParams",
    "Target",
    "TargetSet",
    "TargetStates",
    "TruthFrame",
    "TruthTarget",
    "WaypointPath",
    "Waypoints",
    "Weave",
    "bird_flock",
    "from_bearing",
    "ingress",
    "scripted_snapshot",
    "to_truth_frame",
    "weave",
]


def target_id(k: int) -> str:
    """The id of the k-th target ever created: "t0001", "t0002", ..."""
    return f"t{k:04d}"


def to_truth_frame(snap: Snapshot, class_: str = "drone") -> TruthFrame:
    """A truth snapshot as the payload of a `truth` record."""
    vel = snap.vel if snap.vel is not None else np.zeros_like(snap.enu)
    return TruthFrame(
        v=1,
        t=snap.t,
        targets=[
            TruthTarget(str(i), p, v, class_)
            for i, p, v in zip(snap.ids, snap.enu.tolist(), vel.tolist(), strict=True)
        ],
    )


@dataclass(frozen=True)
class SwarmParams:
    """Kinematics of the benchmark swarm; heights are above the centre (the radar)."""

    radius_m: float = 3000.0  # slant distance from the centre beyond which a target dies
    speed_min_mps: float = 5.0
    speed_max_mps: float = 30.0
    alt_min_m: float = 30.0
    alt_max_m: float = 300.0
    accel_sigma_mps2: float = 0.3  # horizontal white-noise acceleration, per axis
    accel_up_sigma_mps2: float = 0.05
    vspeed_sigma_mps: float = 0.5  # initial vertical speed
    vspeed_max_mps: float = 2.0
    inbound_spread_deg: float = 60.0  # newborn heading: inward +- this


class NcvSwarm:
    """N nearly-constant-velocity drones that always stay within `radius_m` of a centre.

    A target that leaves the sphere dies and is replaced by a new one (a new id) born on its
    edge, heading inward within +-`inbound_spread_deg`, so exactly N are always in the air.
    Positions evolve with piecewise-constant random accelerations, vectorised over targets.
    """

    def __init__(
        self,
        n_targets: int,
        rng: np.random.Generator,
        center: ArrayLike = (0.0, 0.0, 0.0),
        params: SwarmParams | None = None,
    ) -> None:
        self.params = params or SwarmParams()
        self.rng = rng
        self.center = np.asarray(center, dtype=np.float64).reshape(3)
        self.pos = np.empty((n_targets, 3))
        self.vel = np.empty((n_targets, 3))
        self.ids: list[str] = []
        self.born = 0
        self._spawn_inside(np.arange(n_targets))

    def __len__(self) -> int:
        return len(self.ids)

    def _new_ids(self, count: int) -> list[str]:
        ids = [target_id(self.born + k + 1) for k in range(count)]
        self.born += count
        return ids

    def _speeds_and_climb(self, k: int) -> tuple[Array, Array, Array]:
        p, rng = self.params, self.rng
        speed = rng.uniform(p.speed_min_mps, p.speed_max_mps, k)
        alt = rng.uniform(p.alt_min_m, p.alt_max_m, k)
        vz = np.clip(rng.normal(0.0, p.vspeed_sigma_mps, k), -p.vspeed_max_mps, p.vspeed_max_mps)
        return speed, alt, vz

    def _place(self, idx: Array, horiz: Array, bearing: Array, heading: Array) -> None:
        """Put targets `idx` at (horizontal distance, angle) with a heading; radians from east."""
        speed, alt, vz = self._speeds_and_climb(len(idx))
        self.pos[idx] = self.center + np.column_stack(
            (horiz * np.cos(bearing), horiz * np.sin(bearing), alt)
        )
        self.vel[idx] = np.column_stack((speed * np.cos(heading), speed * np.sin(heading), vz))

    def _spawn_inside(self, idx: Array) -> None:
        """Initial targets: uniform over the disc, any heading."""
        k, p, rng = len(idx), self.params, self.rng
        self.ids.extend(self._new_ids(k))
        horiz = 0.95 * p.radius_m * np.sqrt(rng.uniform(0.0, 1.0, k))
        self._place(idx, horiz, rng.uniform(0, 2 * np.pi, k), rng.uniform(0, 2 * np.pi, k))

    def _respawn_at_edge(self, idx: Array) -> None:
        """Replace targets `idx` by newborns on the edge, heading inward."""
        k, p, rng = len(idx), self.params, self.rng
        for i, new in zip(idx.tolist(), self._new_ids(k), strict=True):
            self.ids[i] = new
        bearing = rng.uniform(0, 2 * np.pi, k)
        spread = np.radians(p.inbound_spread_deg)
        heading = bearing + np.pi + rng.uniform(-spread, spread, k)
        self._place(idx, np.zeros(k), bearing, heading)  # altitude first, then the edge distance
        up = self.pos[idx, 2] - self.center[2]
        horiz = np.sqrt(np.maximum((0.999 * p.radius_m) ** 2 - up**2, 0.0))
        self.pos[idx, 0] = self.center[0] + horiz * np.cos(bearing)
        self.pos[idx, 1] = self.center[1] + horiz * np.sin(bearing)

    def step(self, dt: float) -> int:
        """Advance by `dt` seconds; returns how many targets died and were replaced."""
        p, rng, n = self.params, self.rng, len(self.ids)
        acc = rng.normal(0.0, 1.0, (n, 3)) * (p.accel_sigma_mps2, p.accel_sigma_mps2, 0.0)
        acc[:, 2] = rng.normal(0.0, p.accel_up_sigma_mps2, n)
        self.pos += self.vel * dt + 0.5 * acc * dt**2
        self.vel += acc * dt
        # Keep the horizontal speed within its band and the vertical speed small.
        h = np.hypot(self.vel[:, 0], self.vel[:, 1])
        scale = np.clip(h, p.speed_min_mps, p.speed_max_mps) / np.maximum(h, 1e-9)
        self.vel[:, :2] *= scale[:, None]
        self.vel[:, 2] = np.clip(self.vel[:, 2], -p.vspeed_max_mps, p.vspeed_max_mps)
        # Reflect off the altitude band.
        up = self.pos[:, 2] - self.center[2]
        low, high = up < p.alt_min_m, up > p.alt_max_m
        up = np.where(low, 2 * p.alt_min_m - up, np.where(high, 2 * p.alt_max_m - up, up))
        self.pos[:, 2] = self.center[2] + up
        self.vel[low | high, 2] *= -1.0
        gone = np.flatnonzero(np.linalg.norm(self.pos - self.center, axis=1) > p.radius_m)
        if len(gone):
            self._respawn_at_edge(gone)
        return len(gone)

    def snapshot(self, t: float) -> Snapshot:
        """The truth now, stamped with time `t`."""
        return Snapshot(t, tuple(self.ids), self.pos.copy(), self.vel.copy())


@dataclass(frozen=True)
class WaypointPath:
    """A scripted target flying from waypoint to waypoint at constant speed (ENU metres).

    It exists from `t_start` until it reaches its last waypoint.
    """

    target_id: str
    t_start: float
    waypoints: Sequence[tuple[float, float, float]]
    speed_mps: float

    def state(self, t: float) -> tuple[Array, Array] | None:
        """(position, velocity) at time `t`, or None when the target is not in the air."""
        pts = np.asarray(self.waypoints, dtype=np.float64)
        legs = np.diff(pts, axis=0)
        lengths = np.linalg.norm(legs, axis=1)
        s = (t - self.t_start) * self.speed_mps
        if s < 0 or s > lengths.sum():
            return None
        ends = np.cumsum(lengths)
        k = min(int(np.searchsorted(ends, s)), len(legs) - 1)
        direction = legs[k] / lengths[k]
        along = s - (ends[k] - lengths[k])
        return pts[k] + direction * along, direction * self.speed_mps


def scripted_snapshot(paths: Sequence[WaypointPath], t: float) -> Snapshot:
    """The truth of scripted targets at time `t` (only those in the air)."""
    ids: list[str] = []
    pos: list[Array] = []
    vel: list[Array] = []
    for path in paths:
        s = path.state(t)
        if s is not None:
            ids.append(path.target_id)
            pos.append(s[0])
            vel.append(s[1])
    shape = (len(ids), 3)
    return Snapshot(t, tuple(ids), np.reshape(pos, shape), np.reshape(vel, shape))


# --- behaviours for drills: a common, time-vectorised interface --------------------------

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


@dataclass(frozen=True)
class BirdParams:
    """How birds of a flock move: slow, erratic, low, and sticking together near home."""

    speed_min_mps: float = 5.0
    speed_max_mps: float = 15.0
    cruise_min_mps: float = 7.0  # each bird's preferred speed is drawn from this band
    cruise_max_mps: float = 11.0
    speed_sigma_mps: float = 1.5  # scatter about the preferred speed
    turn_rate_sigma_dps: float = 25.0  # erratic turning, Ornstein-Uhlenbeck in turn rate
    turn_tau_s: float = 1.5
    jump_rate_hz: float = 0.08  # sudden heading changes of 30..120 degrees
    spread_m: float = 25.0  # birds steer back to the flock's centre beyond this
    roam_radius_m: float = 250.0  # the flock steers back home beyond this
    bob_m: float = 8.0  # vertical wander
    step_s: float = 0.2


def bird_flock(
    rng: np.random.Generator,
    n_birds: int,
    home: ArrayLike,
    alt_m: float,
    duration_s: float,
    id_prefix: str = "bird",
    t_start: float = 0.0,
    params: BirdParams | None = None,
) -> list[SampledPath]:
    """A small flock of birds loitering about `home` (e, n) at about `alt_m` above the origin.

    Each bird turns erratically (random turn rate plus occasional sudden heading changes),
    flies at 5-15 m/s, steers back toward the flock's centre when it strays and the flock
    steers back home when it wanders off. Integrated once here on a `step_s` grid,
    vectorised over birds; RCS drawn from `BIRD_RCS_DBSM`.
    """
    p = params or BirdParams()
    k = math.ceil(duration_s / p.step_s) + 1
    dt = p.step_s
    home_en = np.asarray(home, dtype=np.float64)[:2]
    start = home_en + rng.normal(0.0, p.spread_m / 2.0, (n_birds, 2))
    heading = np.full(n_birds, rng.uniform(0.0, 2.0 * np.pi)) + rng.normal(0.0, 0.3, n_birds)
    cruise = rng.uniform(p.cruise_min_mps, p.cruise_max_mps, n_birds)
    speed = cruise.copy()
    turn = np.zeros(n_birds)
    sigma_turn = math.radians(p.turn_rate_sigma_dps)
    decay = math.exp(-dt / p.turn_tau_s)
    keep = math.exp(-dt / 2.0)  # speed wanders about the preferred one with a ~2 s memory
    speed_kick = p.speed_sigma_mps * math.sqrt(1.0 - keep**2)
    alt = alt_m + rng.uniform(-10.0, 10.0, n_birds)
    bob_w = 2.0 * np.pi / rng.uniform(20.0, 40.0, n_birds)
    bob_phase = rng.uniform(0.0, 2.0 * np.pi, n_birds)
    pos_en = np.empty((k, n_birds, 2))
    vel_en = np.empty((k, n_birds, 2))
    here = start
    for i in range(k):
        centre = here.mean(axis=0)
        to_centre = centre - here
        d_centre = np.hypot(to_centre[:, 0], to_centre[:, 1])
        to_home = home_en - centre
        d_home = float(np.hypot(*to_home))
        steer = _steer(heading, np.arctan2(to_centre[:, 1], to_centre[:, 0]))
        steer *= np.clip(d_centre / p.spread_m - 1.0, 0.0, 1.0)
        home_steer = _steer(heading, math.atan2(to_home[1], to_home[0]))
        steer += home_steer * min(max(d_home / p.roam_radius_m - 1.0, 0.0), 1.0)
        turn = turn * decay + sigma_turn * math.sqrt(1.0 - decay**2) * rng.normal(size=n_birds)
        jump = rng.uniform(size=n_birds) < p.jump_rate_hz * dt
        jump_by = rng.choice((-1.0, 1.0), n_birds) * rng.uniform(np.pi / 6, 2 * np.pi / 3, n_birds)
        heading = heading + (turn + steer) * dt + np.where(jump, jump_by, 0.0)
        speed = cruise + (speed - cruise) * keep + rng.normal(0.0, speed_kick, n_birds)
        speed = np.clip(speed, p.speed_min_mps, p.speed_max_mps)
        v = np.column_stack((speed * np.cos(heading), speed * np.sin(heading)))
        pos_en[i], vel_en[i] = here, v
        here = here + v * dt
    times = np.arange(k) * dt
    up = alt + p.bob_m * np.sin(np.multiply.outer(times, bob_w) + bob_phase)  # (k, n)
    vup = np.diff(up, axis=0, append=up[-1:] + (up[-1:] - up[-2:-1])) / dt
    rcs = rng.uniform(*BIRD_RCS_DBSM, n_birds)
    return [
        SampledPath(
            target_id=f"{id_prefix}{j + 1:02d}",
            class_="bird",
            rcs_dbsm=float(rcs[j]),
            t_start=t_start,
            times=times,
            pos=np.column_stack((pos_en[:, j], up[:, j])),
            vel=np.column_stack((vel_en[:, j], vup[:, j])),
        )
        for j in range(n_birds)
    ]


def _steer(heading: Array, goal: ArrayLike, gain_per_s: float = 1.2) -> Array:
    """Turn rate (rad/s) that turns `heading` toward `goal` (radians from east)."""
    return gain_per_s * wrap_rad(np.asarray(goal) - heading)


@dataclass(frozen=True)
class TargetStates:
    """Every target in the air at one instant: ids, classes, RCS and ENU kinematics.

    The emission columns (one entry per target, see the module docstring) may be empty,
    meaning that no target emits or broadcasts anything; `operators` is (n, 2) ENU (e, n).
    """

    t: float
    ids: tuple[str, ...]
    classes: tuple[str, ...]
    rcs_dbsm: Array  # (n,)
    enu: Array  # (n, 3)
    vel: Array  # (n, 3)
    rf_emitters: tuple[str | None, ...] = ()
    protocols: tuple[str | None, ...] = ()
    remote_ids: tuple[str | None, ...] = ()
    operators: Array | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def stamped(self, t: float) -> TargetStates:
        """The same states labelled with another time (wall clock in real-time runs)."""
        return replace(self, t=t)

    def in_wall_time(self, t: float, speed: float) -> TargetStates:
        """As seen by a run `speed` times faster than life: stamped `t`, velocities scaled."""
        return replace(self, t=t, vel=self.vel * speed)

    def snapshot(self) -> Snapshot:
        """As the scorer's `Snapshot`."""
        return Snapshot(self.t, self.ids, self.enu, self.vel)

    def truth_frame(self) -> TruthFrame:
        """As the payload of a `truth` record, each target with its class."""
        return TruthFrame(
            v=1,
            t=self.t,
            targets=[
                TruthTarget(i, p, v, c)
                for i, p, v, c in zip(
                    self.ids, self.enu.tolist(), self.vel.tolist(), self.classes, strict=True
                )
            ],
        )


class TargetSet:
    """The targets of a scenario, evaluated together at one time or on a grid of times."""

    def __init__(self, targets: Sequence[Target]) -> None:
        ids = [x.target_id for x in targets]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate target ids in {ids}")
        self.targets: tuple[Target, ...] = tuple(targets)
        self.ids = tuple(ids)
        self.classes = tuple(x.class_ for x in self.targets)
        self.rcs_dbsm = np.array([x.rcs_dbsm for x in self.targets], dtype=np.float64)
        self.t_start = np.array([x.t_start for x in self.targets], dtype=np.float64)
        self.t_end = np.array([x.t_end for x in self.targets], dtype=np.float64)
        self.rf_emitters = tuple(getattr(x, "rf_emitter", None) for x in self.targets)
        self.protocols = tuple(getattr(x, "protocol", None) for x in self.targets)
        self.remote_ids = tuple(getattr(x, "remote_id", None) for x in self.targets)
        self.operators = np.array([_operator(x) for x in self.targets]).reshape(-1, 2)

    def by_id(self, target_id: str) -> Target:
        """The target with this id (KeyError if none)."""
        return self.targets[self.ids.index(target_id)]

    def __len__(self) -> int:
        return len(self.targets)

    def __iter__(self) -> Iterator[Target]:
        return iter(self.targets)

    def of_class(self, class_: str) -> list[Target]:
        """The targets of one class."""
        return [x for x in self.targets if x.class_ == class_]

    def sample(self, times: ArrayLike) -> tuple[Array, Array, NDArray[np.bool_]]:
        """All targets at all `times` (k,): enu and vel (k, n, 3), and in-the-air mask (k, n)."""
        t = np.asarray(times, dtype=np.float64).reshape(-1)
        enu = np.zeros((len(t), len(self), 3))
        vel = np.zeros((len(t), len(self), 3))
        for j, target in enumerate(self.targets):
            enu[:, j], vel[:, j] = target.state(t)
        active = (t[:, None] >= self.t_start) & (t[:, None] <= self.t_end)
        return enu, vel, active

    def at(self, t: float) -> TargetStates:
        """The targets in the air at scenario time `t`."""
        enu, vel, active = self.sample([t])
        return self.select(t, enu[0], vel[0], active[0])

    def select(self, t: float, enu: Array, vel: Array, active: NDArray[np.bool_]) -> TargetStates:
        """One row of `sample` as `TargetStates` (only the targets in the air)."""
        idx = np.flatnonzero(active)
        return TargetStates(
            t=t,
            ids=tuple(self.ids[i] for i in idx),
            classes=tuple(self.classes[i] for i in idx),
            rcs_dbsm=self.rcs_dbsm[idx],
            enu=enu[idx],
            vel=vel[idx],
            rf_emitters=tuple(self.rf_emitters[i] for i in idx),
            protocols=tuple(self.protocols[i] for i in idx),
            remote_ids=tuple(self.remote_ids[i] for i in idx),
            operators=self.operators[idx],
        )


def _operator(target: Target) -> tuple[float, float]:
    """Where a target's operator stands (e, n): as given, else below the target's start."""
    given = getattr(target, "operator_en", None)
    if given is not None:
        return (float(given[0]), float(given[1]))
    start, _ = target.state(target.t_start)
    return (float(start[0]), float(start[1]))
