"""Refit of bearings-only tracks: where their recent lines of sight place them, as a whole.

A track that no radar or Remote ID ever placed is updated bearing by bearing by an extended
Kalman filter, which linearises each update at its estimate. Where two finders' lines meet
at a few degrees (sites a few hundred metres apart, a drone kilometres out), an estimate
that noise has pulled short sees the lines cross at too wide an angle there, and shrinks its
covariance around the wrong range: on random camp 16 a track started honestly (1.2 km out,
657 m of sigma, the drone at 2.1 km) and claimed 265 m at 1.1 km from the drone ten seconds
later, when it was confirmed and warned of a zone the drone was never in.

So every `period_s`, while such a track is younger than `max_age_s`, its lines of sight of
the last `window_s` (from two sites or more, an RF bearing among them: cameras alone cross
sharply) are integrated as a whole (lines_of_sight.py), carried to now with the track's
velocity and widened by that velocity's uncertainty. Where
the filter disagrees with that posterior (its position outside the posterior's 99 % region,
or its covariance under half the posterior's along the posterior's long axis), the track's
position and position covariance become the posterior's; its velocity is kept.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import lines_of_sight
from cuas.tracking.lines_of_sight import HeightPrior, Sighting
from cuas.tracking.scan import Scan

Array = NDArray[np.float64]
Index = NDArray[np.intp]
REGION_99 = 9.21  # chi-square, two degrees of freedom, 99 %


@dataclass
class PassiveRefit:
    """The recent lines of sight of bearings-only tracks, and their refits (see the module
    docstring)."""

    height: HeightPrior
    window_s: float = 10.0
    period_s: float = 2.0
    max_age_s: float = 60.0
    max_sightings: int = 64
    max_speed_sigma_mps: float = 20.0
    _seen: dict[int, deque[tuple[int, Sighting]]] = field(default_factory=dict)
    _next: dict[int, float] = field(default_factory=dict)

    def record(self, track_ids: NDArray[np.int64], scan: Scan, dets: Index) -> None:
        """The lines of sight of `scan` (detections `dets`) that updated tracks `track_ids`."""
        for tid, j in zip(track_ids.tolist(), dets.tolist(), strict=True):
            seen = self._seen.get(tid)
            if seen is None:
                seen = self._seen[tid] = deque(maxlen=self.max_sightings)
                self._next[tid] = scan.t + self.period_s
            # Copies: a row of the scan's arrays would keep the whole scan alive.
            z, var = scan.z[j].copy(), scan.var[j].copy()
            seen.append((scan.sensor, Sighting(scan.t, z, var, scan.model)))

    def forget(self, track_ids: list[int]) -> None:
        """Tracks deleted, or placed by a radar or Remote ID: nothing more to refit."""
        for tid in track_ids:
            self._seen.pop(tid, None)
            self._next.pop(tid, None)

    def due(self, t: float) -> list[int]:
        """Track ids whose refit is due at `t`."""
        return [tid for tid, when in self._next.items() if when <= t]

    def refit(
        self, tid: int, t: float, born: float, x: Array, P: Array
    ) -> tuple[Array, Array] | None:
        """The position (3,) and covariance (3, 3) to give track `tid` (state `x`, covariance
        `P` at `t`, born at `born`), or None to leave it."""
        self._next[tid] = t + self.period_s
        if t - born > self.max_age_s:
            self.forget([tid])
            return None
        seen = [s for s in self._seen.get(tid, ()) if t - s[1].t <= self.window_s]
        if len({sensor for sensor, _ in seen}) < 2 or all(s.z.shape[0] > 1 for _, s in seen):
            return None  # one site, or cameras alone: their fine lines cross sharply
        speed_sigma = min(float(np.sqrt(0.5 * (P[3, 3] + P[4, 4]))), self.max_speed_sigma_mps)
        out = lines_of_sight.posterior(
            [s for _, s in seen],
            t,
            x[3:5],
            speed_sigma,
            self.height,
            (float(x[2]), float(P[2, 2])),
        )
        if out is None:
            return None
        mean, cov = out
        d = x[:2] - mean[:2]
        C = cov[:2, :2]
        outside = float(d @ np.linalg.solve(C, d)) > REGION_99
        _, axes = np.linalg.eigh(C)
        long = axes[:, -1]
        overconfident = float(long @ P[:2, :2] @ long) < 0.5 * float(long @ C @ long)
        return (mean, cov) if outside or overconfident else None
