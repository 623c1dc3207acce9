"""Flocks of birds: slow, erratic, low, sticking together near home; drawn once from a seed."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cuas.geodesy import wrap_rad
from simulators.targets.behaviours import BIRD_RCS_DBSM, SampledPath

Array = NDArray[np.float64]

__all__ = ["BirdParams", "bird_flock"]


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
