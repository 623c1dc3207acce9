"""The benchmarks' truth: a random swarm that always stays in range, and scripted paths.

Both hand out `simulators.scoring.Snapshot`s (`to_truth_frame` makes a `truth` record of one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from simulators.scoring import Snapshot, TruthFrame, TruthTarget

Array = NDArray[np.float64]

__all__ = [
    "NcvSwarm",
    "SwarmParams",
    "WaypointPath",
    "scripted_snapshot",
    "target_id",
    "to_truth_frame",
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
