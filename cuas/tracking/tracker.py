"""The tracker: runs predict -> gate -> associate -> update -> initiate -> lifecycle per scan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from cuas.config import TrackerConfig
from cuas.tracking.association import global_nearest_neighbour
from cuas.tracking.gating import Hypotheses, gate_threshold, hypothesise
from cuas.tracking.initiation import SinglePointInitiator
from cuas.tracking.lifecycle import LifecycleRules
from cuas.tracking.motion import POS, NearlyConstantVelocity
from cuas.tracking.retrodiction import late_update, retrodict
from cuas.tracking.scan import Scan
from cuas.tracking.tracks import TENTATIVE, TrackRows, TrackTable
from cuas.tracking.triangulation import PassiveInitiator
from cuas.tracking.update import kalman_update

Array = NDArray[np.float64]
Index = NDArray[np.intp]


@dataclass(frozen=True)
class TrackSnapshot:
    """All live tracks predicted to time `t`, plus the tracks deleted since the last one.

    Both are copies: a snapshot never changes after it is taken. Deleted tracks keep the
    state of their last update (not predicted).
    """

    t: float
    live: TrackRows
    deleted: TrackRows

    def __len__(self) -> int:
        return len(self.live)


class Annotator(Protocol):
    """A stage that keeps what and who a track is, beside the kinematic filter.

    Called with the table rows of tracks just initiated from, or just updated with,
    detections `dets` of `scan` (row i goes with detection dets[i]).
    """

    def initiated(self, tracks: TrackTable, rows: Index, scan: Scan, dets: Index) -> None: ...

    def updated(self, tracks: TrackTable, rows: Index, scan: Scan, dets: Index) -> None: ...


@dataclass
class TrackerStats:
    scans: int = 0
    detections: int = 0
    updates: int = 0
    initiated: int = 0
    confirmed: int = 0
    deleted: int = 0
    late_updates: int = 0


class _Graveyard:
    """Rows of tracks deleted since the last snapshot."""

    def __init__(self, empty: TrackRows) -> None:
        self._empty = empty
        self._batches: list[TrackRows] = []

    def bury(self, rows: TrackRows) -> None:
        self._batches.append(rows)

    def drain(self) -> TrackRows:
        batches, self._batches = self._batches, []
        return TrackRows.concat(batches) if batches else self._empty


class Tracker:
    """Multi-sensor, multi-target tracker over scans delivered in measurement-time order."""

    def __init__(
        self, cfg: TrackerConfig, n_sensors: int, annotators: Sequence[Annotator] = ()
    ) -> None:
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
        self.passive = PassiveInitiator(
            speed_sigma=cfg.init_speed_sigma_mps, vspeed_sigma=cfg.init_vspeed_sigma_mps
        )
        self.gate_probability = cfg.gate_probability
        self.n_sensors = n_sensors
        self.silent = np.zeros(n_sensors, dtype=bool)  # sensors in fault (set by the pipeline)
        self.tracks = TrackTable(n_sensors)
        self.t: float | None = None
        self.stats = TrackerStats()
        self.annotators = list(annotators)
        self._graveyard = _Graveyard(self.tracks.rows(slice(0, 0)))
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
            for annotator in self.annotators:
                annotator.updated(table, rows, scan, assigned.det)
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
        if free.size:
            self._initiate(scan, free)

        confirmed, doomed = self.rules.apply(table, scan.t, self.silent)
        self.stats.confirmed += int(confirmed.sum())
        self._bury(doomed)

    def process_late(self, scan: Scan) -> int:
        """Fuse a scan measured before the tracker time (out of sequence, by retrodiction);
        returns how many of its detections updated a track. Late detections start no track
        and charge no misses: the picture has moved on since."""
        if self.t is None or scan.t > self.t:
            raise ValueError(f"scan at {scan.t} is not late (tracker time {self.t})")
        table = self.tracks
        n = table.n
        if n == 0 or len(scan) == 0:
            return 0
        lag = self.t - scan.t
        x, P = table.x[:n], table.P[:n]
        x_then, P_then = retrodict(self.motion, x, P, lag)
        threshold = self._threshold(scan.model.dim)
        hyps = hypothesise(x_then, P_then, scan, threshold)
        existed = table.t_birth[:n] <= scan.t  # a track born later was not there to be seen
        hyps = hyps.subset(existed[hyps.track])
        hyps = hyps.subset(global_nearest_neighbour(hyps.track, hyps.det, hyps.d2, threshold))
        rows = hyps.track
        if rows.size:
            x_new, P_new = late_update(self.motion, x[rows], P[rows], lag, hyps.y, hyps.S, hyps.H)
            table.x[rows] = x_new
            table.P[rows] = P_new
            table.last_hit[rows, scan.sensor] = np.maximum(
                table.last_hit[rows, scan.sensor], scan.t
            )
            self.stats.late_updates += rows.size
            for annotator in self.annotators:
                annotator.updated(table, rows, scan, hyps.det)
        return int(rows.size)

    def _initiate(self, scan: Scan, free: Index) -> None:
        """New tentative tracks: from each free detection of a sensor that localises a target
        alone, or from crossing bearings of passive sensors."""
        if scan.model.can_initiate:
            x0, P0 = self.initiator.initiate(scan, free)
            dets = free
        else:
            x0, P0, dets = self.passive.offer(scan, free)
        if dets.size == 0:
            return
        table = self.tracks
        first = table.n
        table.add(x0, P0, scan.t, scan.sensor)
        self.stats.initiated += dets.size
        rows = np.arange(first, table.n)
        for annotator in self.annotators:
            annotator.initiated(table, rows, scan, dets)

    def housekeep(self, t: float) -> None:
        """Advance to `t` and apply the lifecycle without a scan, so that tracks coast and
        die on time even while no sensor reports."""
        self.predict_to(t)
        confirmed, doomed = self.rules.apply(self.tracks, t, self.silent)
        self.stats.confirmed += int(confirmed.sum())
        self._bury(doomed)

    def _bury(self, doomed: NDArray[np.bool_]) -> None:
        if not doomed.any():
            return
        rows = self.tracks.rows(doomed)
        self.tracks.remove(doomed)
        self._graveyard.bury(rows)
        self.stats.deleted += int(doomed.sum())

    def snapshot(self, t: float) -> TrackSnapshot:
        """Every live track predicted to `t` (not earlier than the tracker time), as copies."""
        live = self.tracks.rows()
        if self.t is not None and t > self.t and len(live):
            x, P = self.motion.predict(live.x, live.P, t - self.t)
            live = replace(live, x=x, P=P)
        return TrackSnapshot(t=t, live=live, deleted=self._graveyard.drain())


def _concat(a: Hypotheses, b: Hypotheses) -> Hypotheses:
    return Hypotheses(
        np.concatenate([a.track, b.track]),
        np.concatenate([a.det, b.det]),
        np.concatenate([a.d2, b.d2]),
        np.concatenate([a.y, b.y]),
        np.concatenate([a.S, b.S]),
        np.concatenate([a.H, b.H]),
    )
