"""The tracker: runs predict -> gate -> associate -> update -> initiate -> lifecycle per scan."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cuas.config import TrackerConfig
from cuas.tracking.association import global_nearest_neighbour
from cuas.tracking.gating import Hypotheses, gate_threshold, hypothesise
from cuas.tracking.initiation import SinglePointInitiator
from cuas.tracking.lifecycle import LifecycleRules
from cuas.tracking.motion import POS, NearlyConstantVelocity
from cuas.tracking.scan import Scan
from cuas.tracking.tracks import TENTATIVE, TrackTable
from cuas.tracking.update import kalman_update

Array = NDArray[np.float64]


@dataclass(frozen=True)
class TrackSnapshot:
    """All live tracks predicted to time `t`, plus the tracks deleted since the last one.

    Arrays are copies: a snapshot never changes after it is taken. `deleted_*` hold the last
    state of each deleted track (at its last update, not predicted).
    """

    t: float
    track_id: NDArray[np.int64]
    status: NDArray[np.int8]
    x: Array
    P: Array
    t_update: Array
    last_hit: Array
    deleted_id: NDArray[np.int64]
    deleted_x: Array
    deleted_P: Array
    deleted_t_update: Array
    deleted_last_hit: Array

    def __len__(self) -> int:
        return self.track_id.shape[0]


@dataclass
class TrackerStats:
    scans: int = 0
    detections: int = 0
    updates: int = 0
    initiated: int = 0
    confirmed: int = 0
    deleted: int = 0


class _Graveyard:
    """Last states (id, x, P, t_update, last_hit) of tracks deleted since the last snapshot."""

    def __init__(self, n_sensors: int) -> None:
        self._batches: list[tuple[NDArray[np.int64], Array, Array, Array, Array]] = []
        self._empty = (
            np.zeros(0, dtype=np.int64),
            np.zeros((0, 6)),
            np.zeros((0, 6, 6)),
            np.zeros(0),
            np.zeros((0, n_sensors)),
        )

    def bury(self, batch: tuple[NDArray[np.int64], Array, Array, Array, Array]) -> None:
        self._batches.append(batch)

    def drain(self) -> tuple[NDArray[np.int64], Array, Array, Array, Array]:
        if not self._batches:
            return self._empty
        columns = zip(*self._batches, strict=True)
        self._batches = []
        ids, x, P, t_update, last_hit = (np.concatenate(c) for c in columns)
        return ids, x, P, t_update, last_hit


class Tracker:
    """Multi-sensor, multi-target tracker over scans delivered in measurement-time order."""

    def __init__(self, cfg: TrackerConfig, n_sensors: int) -> None:
        self.motion = NearlyConstantVelocity(
            q_h=cfg.accel_noise_mps2**2, q_v=cfg.accel_noise_up_mps2**2
        )
        self.rules = LifecycleRules(
            confirm_m=cfg.confirm_m,
            confirm_n=cfg.confirm_n,
            coast_after_s=cfg.coast_after_s,
            delete_after_s=cfg.delete_after_s,
            max_pos_sigma_m=cfg.max_pos_sigma_m,
        )
        self.initiator = SinglePointInitiator(cfg.init_speed_sigma_mps, cfg.init_vspeed_sigma_mps)
        self.gate_probability = cfg.gate_probability
        self.n_sensors = n_sensors
        self.tracks = TrackTable(n_sensors)
        self.t: float | None = None
        self.stats = TrackerStats()
        self._graveyard = _Graveyard(n_sensors)
        self._thresholds: dict[int, float] = {}

    def _threshold(self, dim: int) -> float:
        if dim not in self._thresholds:
            self._thresholds[dim] = gate_threshold(self.gate_probability, dim)
        return self._thresholds[dim]

    def predict_to(self, t: float) -> None:
        """Advance every track to time `t` (which must not be earlier than the last scan)."""
        if self.t is None:
            self.t = t
            return
        dt = t - self.t
        if dt < 0.0:
            raise ValueError(f"scan at {t} is older than the tracker time {self.t}")
        n = self.tracks.n
        if dt > 0.0 and n:
            x, P = self.motion.predict(self.tracks.x[:n], self.tracks.P[:n], dt)
            self.tracks.x[:n] = x
            self.tracks.P[:n] = P
        self.t = t

    def process(self, scan: Scan) -> None:
        """Fuse one scan into the track picture."""
        self.predict_to(scan.t)
        table = self.tracks
        n, k = table.n, len(scan)
        self.stats.scans += 1
        self.stats.detections += k
        threshold = self._threshold(scan.model.dim)
        x, P = table.x[:n], table.P[:n]
        hyps = hypothesise(x, P, scan, threshold)

        # Firm (confirmed, coasting) tracks choose first, so that a tentative track born of
        # clutter never takes a detection away from a real target.
        firm = table.status[:n] != TENTATIVE
        first = hyps.subset(firm[hyps.track])
        first = first.subset(global_nearest_neighbour(first.track, first.det, first.d2, threshold))
        taken = np.zeros(k, dtype=bool)
        taken[first.det] = True
        second = hyps.subset(~firm[hyps.track] & ~taken[hyps.det])
        second = second.subset(
            global_nearest_neighbour(second.track, second.det, second.d2, threshold)
        )
        assigned = _concat(first, second)

        rows = assigned.track
        if rows.size:
            x_new, P_new = kalman_update(
                x[rows], P[rows], assigned.y, assigned.S, assigned.H, scan.var[assigned.det]
            )
            table.x[rows] = x_new
            table.P[rows] = P_new
            table.t_update[rows] = scan.t
            table.last_hit[rows, scan.sensor] = scan.t
            self.stats.updates += rows.size
        hit = np.zeros(n, dtype=bool)
        hit[rows] = True
        if scan.model.charges_misses:
            covered = scan.model.geometry.covers(table.x[:n, POS]) | hit
        else:  # a sensor that only hears some targets learns nothing from not hearing one
            covered = hit
        self.rules.record(table, covered, hit)

        # Detections inside the gate of a firm track belong to it even when another detection
        # won: they are not allowed to start a duplicate track.
        claimed = np.zeros(k, dtype=bool)
        claimed[hyps.det[firm[hyps.track]]] = True
        claimed[assigned.det] = True
        free = np.flatnonzero(~claimed)
        if free.size and scan.model.can_initiate:
            x0, P0 = self.initiator.initiate(scan, free)
            table.add(x0, P0, scan.t, scan.sensor)
            self.stats.initiated += free.size

        confirmed, doomed = self.rules.apply(table, scan.t)
        self.stats.confirmed += int(confirmed.sum())
        self._bury(doomed)

    def housekeep(self, t: float) -> None:
        """Advance to `t` and apply the lifecycle without a scan, so that tracks coast and
        die on time even while no sensor reports."""
        self.predict_to(t)
        confirmed, doomed = self.rules.apply(self.tracks, t)
        self.stats.confirmed += int(confirmed.sum())
        self._bury(doomed)

    def _bury(self, doomed: NDArray[np.bool_]) -> None:
        if not doomed.any():
            return
        table = self.tracks
        n = table.n
        last = (
            table.x[:n][doomed].copy(),
            table.P[:n][doomed].copy(),
            table.t_update[:n][doomed].copy(),
            table.last_hit[:n][doomed].copy(),
        )
        self._graveyard.bury((table.remove(doomed), *last))
        self.stats.deleted += int(doomed.sum())

    def snapshot(self, t: float) -> TrackSnapshot:
        """Every live track predicted to `t` (not earlier than the tracker time), as copies."""
        table = self.tracks
        n = table.n
        x, P = table.x[:n].copy(), table.P[:n].copy()
        if self.t is not None and t > self.t and n:
            x, P = self.motion.predict(x, P, t - self.t)
        dead = self._graveyard.drain()
        return TrackSnapshot(
            t=t,
            track_id=table.track_id[:n].copy(),
            status=table.status[:n].copy(),
            x=x,
            P=P,
            t_update=table.t_update[:n].copy(),
            last_hit=table.last_hit[:n].copy(),
            deleted_id=dead[0],
            deleted_x=dead[1],
            deleted_P=dead[2],
            deleted_t_update=dead[3],
            deleted_last_hit=dead[4],
        )


def _concat(a: Hypotheses, b: Hypotheses) -> Hypotheses:
    return Hypotheses(
        np.concatenate([a.track, b.track]),
        np.concatenate([a.det, b.det]),
        np.concatenate([a.d2, b.d2]),
        np.concatenate([a.y, b.y]),
        np.concatenate([a.S, b.S]),
        np.concatenate([a.H, b.H]),
    )
