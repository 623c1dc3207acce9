"""Drones of a formation share their velocity: each track is told its neighbours'.

Drones of a formation fly one velocity. Tracked one by one, each track's velocity follows
its own plots, and where the formation is closer than the radar's cross-range noise (35 m
apart at 1.5 km, where 1.5 degrees of azimuth is 40 m) a plot is a neighbour's as often as
its own: the tracks' velocities wander apart, the tracks with them, and they cross and swap
drones. Less process noise would hold them, but would lose every drone that turns (tried on
six random camps of the worst swaps: half the swaps, and GOSPA half again as large).

So after each radar scan, every firm track that a radar placed and that is not a bird is
given, as a measurement of its velocity, the mean velocity of such tracks within
`radius_m` of it whose velocities agree with its own: their difference within the 99 % gate
of the two tracks' velocity covariances, the test that they fly one velocity. (Counting the
members' spread in the gate too let drones crossing in the 50-drone radar benchmark share a
velocity they did not have, and lose to a plain EKF there.) The measurement's covariance is
the neighbours' mean velocity covariance plus twice the variance of a member's spread
about the formation's velocity (`spread_mps`): one neighbour's worth of evidence, however
many there are, since the neighbours' estimates share plots and earlier exchanges, and
counting each as independent would make a formation's tracks far surer of their velocity
than they are (with a spread of 1 m/s, a formation's tracks held a velocity 4-8 m/s wrong
for a minute and lost their drones).

Only a track's quiet motion mode is told (the tracker's `_share_velocity`): the formation's
velocity is what a drone flies while it cruises with it. A drone that breaks away is taken
by the manoeuvre mode, and soon leaves the gate; a formation that turns together keeps its
agreement. A bird is never told nor heard: a flock flies no common velocity, and sharing it
raised the flocks' duplicate tracks by 60-80 %.

The whole velocity is shared, climb included: the radar's elevation noise (1-2.5 degrees,
50-100 m at 3 km) makes a lone track's climb its vaguest component. Shared in three
dimensions rather than two, mean GOSPA on 120 random camps fell 332.9 -> 324.5 and the
fifty-drone swarm drill's 1014 / 1006 / 941 -> 907 / 886 / 833 (seeds 0-2).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from cuas.tracking.classification import likely

Array = NDArray[np.float64]
Index = NDArray[np.intp]
VEL = slice(3, 6)  # the velocity in the state [e, n, u, ve, vn, vu]
GATE_99 = 11.34  # chi-square, three degrees of freedom, 99 %


def not_birds(rows: Index, class_logp: Array) -> Index:
    """The rows whose class log-probabilities (n, C) give a bird less than even odds."""
    return rows[~likely(class_logp[rows], "bird")]


def shared_velocity(
    x: Array, P: Array, rows: Index, radius_m: float, spread_mps: float
) -> tuple[Index, Array, Array]:
    """(the rows told, their velocity measurements z (p, 3), covariances R (p, 3, 3)) among
    tracks `rows` of states x (n, 6) and covariances P (n, 6, 6): see the module docstring.
    Every measurement is made from the states as given, before any is applied."""
    none = (np.empty(0, dtype=np.intp), np.empty((0, 3)), np.empty((0, 3, 3)))
    if rows.size < 2:
        return none
    pairs = cKDTree(x[rows, :2]).query_pairs(radius_m, output_type="ndarray")
    if pairs.size == 0:
        return none
    a, b = rows[pairs[:, 0]], rows[pairs[:, 1]]
    v, Pv = x[:, VEL], P[:, VEL, VEL]
    spread = 2.0 * spread_mps**2 * np.eye(3)
    dv = v[a] - v[b]
    d2 = np.einsum("pi,pij,pj->p", dv, np.linalg.inv(Pv[a] + Pv[b]), dv)
    agree = d2 < GATE_99
    told = np.concatenate([a[agree], b[agree]])  # both ways: a hears b and b hears a
    heard = np.concatenate([b[agree], a[agree]])
    if told.size == 0:
        return none
    order = np.argsort(told, kind="stable")
    told, heard = told[order], heard[order]
    who, first, count = np.unique(told, return_index=True, return_counts=True)
    z = np.add.reduceat(v[heard], first, axis=0) / count[:, None]
    R = np.add.reduceat(Pv[heard], first, axis=0) / count[:, None, None] + spread
    return who, z, R


def velocity_update(x: Array, P: Array, z: Array, R: Array) -> tuple[Array, Array]:
    """Kalman update of states x (p, 6) and covariances P (p, 6, 6) with measurements z
    (p, 3) of their velocity, of covariances R (p, 3, 3); Joseph form, so the
    covariance stays symmetric and positive."""
    PHt = P[:, :, VEL]  # P H^T, (p, 6, 3)
    S = P[:, VEL, VEL] + R
    K = np.linalg.solve(S, PHt.transpose(0, 2, 1)).transpose(0, 2, 1)  # P H^T S^-1
    x_new = x + np.einsum("pij,pj->pi", K, z - x[:, VEL])
    A = np.broadcast_to(np.eye(x.shape[1]), P.shape).copy()
    A[:, :, VEL] -= K  # I - K H
    P_new = A @ P @ A.transpose(0, 2, 1) + K @ R @ K.transpose(0, 2, 1)
    return x_new, 0.5 * (P_new + P_new.transpose(0, 2, 1))
