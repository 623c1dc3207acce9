"""Classification: what each track is, by recursive Bayesian fusion of every look at it.

Each track keeps log-probabilities over `CLASSES` (drone, bird, aircraft, clutter, unknown;
"unknown" is the class of anything else: a balloon, a kite, a plastic bag). A new track starts
at `PRIOR`; every detection that initiates or updates it multiplies in a likelihood, all
tracks of a scan at once:

- **What the sensor says.** A detection's class probabilities `p` (a camera's classifier, an
  RF protocol library, Remote ID, a classifying radar; see `cuas.scans`) are read as the
  likelihood of each true class. A sensor's "unknown" is its "don't know", compatible with
  every class: l(c) = p(c) + p(unknown) for the four named classes and, for a true "unknown",
  the mean of the named p(c) plus p(unknown) (something else is labelled anything). The
  likelihood is divided by its best class, floored at `class_likelihood_floor` (no class is
  ruled out by one look) and raised to `class_likelihood_exponent` (successive looks at one
  target share their errors, so they are not independent evidence).
- **Radar cross-section** (`RCS_CUE`), per detection, tempered like the labels.
- **Kinematics** of the updated track state (`SPEED_CUE` on the horizontal speed,
  `ALTITUDE_CUE` on the height above the camp origin), weighted by `class_kinematic_weight`
  and by how well the filter knows them: w = s0^2 / (s0^2 + variance), so the zero velocity
  of a newborn track or the guessed height of a triangulated one says nothing. Successive
  states of one track are strongly correlated, hence the small weight.

Every cue is a set of "soft boxes", one per class: about 1 where the feature is plausible for
the class, falling off over a few units outside, never below `CUE_FLOOR`; "unknown" is flat
at `CUE_OTHER` (it explains everything, and nothing well). The cues *veto* implausible
classes; where two classes are both plausible (a 12 m/s target at 60 m may be a bird or a
drone) they stay neutral, and the sensors' labels and the RCS decide. Numbers:

| cue | drone | bird | aircraft | clutter | unknown |
| --- | --- | --- | --- | --- | --- |
| speed (m/s) | 0..38 | 3..24 | > 40 | < 2 | flat |
| height above camp (m) | < 1200 | < 400 | > 80 | < 150 | flat |
| RCS (dBsm) | -20..+5 | < -17 | > 0 | flat | flat |

Not modelled: erratic motion (birds turn at random) needs a per-track manoeuvre statistic the
annotators are not given; hovering drones and helicopters look like clutter and drones in
speed, and only other sensors tell them apart; clutter is simply what does not move.

After each update the posterior is normalised and no class may fall more than
`class_max_log_odds` nats below the best (it is raised to that), so that a track confidently
called a bird for minutes still turns into a drone after a few seconds of consistent drone
evidence, while a single contrary frame (at most ~2.8 nats) never flips a confident track.
The published class (`cuas.air_picture`) is the most probable one once it reaches
`tracker.class_confidence`, "unknown" until then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cuas.config import TrackerConfig
from cuas.tracking.scan import CLASSES, Scan
from cuas.tracking.tracks import TrackTable

Array = NDArray[np.float64]
Index = NDArray[np.intp]

N_CLASSES = len(CLASSES)
INF = float("inf")

# Where a new track starts: what a camp's sensors mostly see before anything is known.
PRIOR: dict[str, float] = {
    "drone": 0.25,
    "bird": 0.25,
    "aircraft": 0.10,
    "clutter": 0.20,
    "unknown": 0.20,
}
CUE_FLOOR = 0.05  # least likelihood a cue gives a class (relative to a plausible value)
CUE_OTHER = 0.3  # the flat likelihood of "unknown" (and of clutter's RCS)
SPEED_SCALE_MPS = 5.0  # s0 of the speed cue's weight: a 5 m/s velocity sigma halves it
HEIGHT_SCALE_M = 30.0  # s0 of the altitude cue's weight


@dataclass(frozen=True)
class SoftBox:
    """Plausible values of a feature for one class: ~1 inside [lo, hi], logistic edges `width`
    wide (either bound may be infinite)."""

    lo: float
    hi: float
    width: float

    def __call__(self, x: Array) -> Array:
        with np.errstate(over="ignore"):
            return 1.0 / (
                (1.0 + np.exp((self.lo - x) / self.width))
                * (1.0 + np.exp((x - self.hi) / self.width))
            )


class Cue:
    """Per-class log-likelihood of one scalar feature, tabulated on a grid (one lookup per
    call, however many tracks). Each class has a `SoftBox` or a flat likelihood."""

    def __init__(
        self,
        shapes: Sequence[SoftBox | float],
        lo: float,
        hi: float,
        step: float,
        floor: float = CUE_FLOOR,
    ) -> None:
        grid = np.arange(lo, hi + step / 2.0, step)
        columns = [
            np.full_like(grid, s) if isinstance(s, float) else floor + (1.0 - floor) * s(grid)
            for s in shapes
        ]
        self.table = np.log(np.column_stack(columns))
        self._scale = 1.0 / step
        self._offset = 0.5 - lo / step  # rounds to the nearest grid point
        self._last = float(len(grid) - 1)

    def __call__(self, x: Array) -> Array:
        """(n, 5) log-likelihoods of feature values `x` (n,), clamped to the grid (NaN reads
        as the grid's first point)."""
        f = x * self._scale + self._offset
        return self.table[np.fmin(np.fmax(f, 0.0), self._last).astype(np.intp)]


# Columns in CLASSES order: drone, bird, aircraft, clutter, unknown.
SPEED_CUE = Cue(
    [SoftBox(-INF, 38.0, 3.0), SoftBox(3.0, 24.0, 2.0), SoftBox(40.0, INF, 5.0),
     SoftBox(-INF, 2.0, 1.0), CUE_OTHER],
    lo=0.0, hi=150.0, step=0.5,
)  # fmt: skip
ALTITUDE_CUE = Cue(
    [SoftBox(-INF, 1200.0, 100.0), SoftBox(-INF, 400.0, 60.0), SoftBox(80.0, INF, 40.0),
     SoftBox(-INF, 150.0, 50.0), CUE_OTHER],
    lo=-500.0, hi=5000.0, step=10.0,
)  # fmt: skip
RCS_CUE = Cue(
    [SoftBox(-20.0, 5.0, 2.0), SoftBox(-INF, -17.0, 2.0), SoftBox(0.0, INF, 3.0),
     CUE_OTHER, CUE_OTHER],
    lo=-60.0, hi=60.0, step=0.5,
)  # fmt: skip


def label_loglik(probs: Array, floor: float) -> Array:
    """(k, 5) log-likelihoods of detections' class probabilities (k, 5), relative to each
    detection's best class and floored; rows with anything non-finite (NaN: the detection
    says nothing) give 0. See the module docstring for how "unknown" is read."""
    out = np.zeros(probs.shape)
    ok = np.isfinite(probs).all(axis=1)
    if not ok.any():
        return out
    p = np.maximum(probs[ok], 0.0)
    named, unsure = p[:, :-1], p[:, -1:]
    like = np.concatenate((named + unsure, named.mean(axis=1, keepdims=True) + unsure), axis=1)
    peak = like.max(axis=1, keepdims=True)
    like /= np.where(peak > 0.0, peak, 1.0)  # an all-zero row floors to "says nothing"
    out[ok] = np.log(np.maximum(like, floor))
    return out


def fuse(logp: Array, evidence: Array, max_log_odds: float) -> Array:
    """Posterior log-probabilities (n, 5): prior `logp` plus log-likelihoods `evidence`,
    normalised, with no class more than `max_log_odds` below the best."""
    post = logp + evidence
    post -= post.max(axis=1, keepdims=True)
    np.maximum(post, -max_log_odds, out=post)
    post -= np.log(np.exp(post).sum(axis=1, keepdims=True))
    return post


class Classifier:
    """The `Annotator` that keeps each track's `class_logp` (see the module docstring)."""

    def __init__(self, config: TrackerConfig) -> None:
        self.exponent = config.class_likelihood_exponent
        self.floor = config.class_likelihood_floor
        self.kinematic_weight = config.class_kinematic_weight
        self.max_log_odds = config.class_max_log_odds
        self.prior = np.log([PRIOR[c] for c in CLASSES])

    def initiated(self, tracks: TrackTable, rows: Index, scan: Scan, dets: Index) -> None:
        """New tracks: the prior, then what their first detection says."""
        tracks.class_logp[rows] = self.prior
        self.updated(tracks, rows, scan, dets)

    def updated(self, tracks: TrackTable, rows: Index, scan: Scan, dets: Index) -> None:
        """One Bayesian step for the tracks in `rows`, updated with detections `dets`."""
        evidence = self.evidence(tracks, rows, scan, dets)
        tracks.class_logp[rows] = fuse(tracks.class_logp[rows], evidence, self.max_log_odds)

    def evidence(self, tracks: TrackTable, rows: Index, scan: Scan, dets: Index) -> Array:
        """(len(rows), 5) log-likelihoods of this look at each track."""
        if self.kinematic_weight > 0.0:
            evidence = self.kinematics(
                tracks.x[rows, 2:5], tracks.P[rows[:, None], (2, 3, 4), (2, 3, 4)]
            )
        else:
            evidence = np.zeros((rows.size, N_CLASSES))
        labels = scan.labels
        if labels is not None:
            evidence += self.exponent * label_loglik(labels.class_probs[dets], self.floor)
            rcs = labels.rcs_dbsm[dets]
            seen = ~np.isnan(rcs)
            if seen.any():
                evidence[seen] += self.exponent * RCS_CUE(rcs[seen])
        return evidence

    def kinematics(self, uvw: Array, var: Array) -> Array:
        """(n, 5) kinematic log-likelihoods from height and horizontal velocity `uvw` (n, 3)
        and their variances `var` (n, 3), each cue weighted by how well it is known."""
        speed = np.hypot(uvw[:, 1], uvw[:, 2])
        w_speed = SPEED_SCALE_MPS**2 / (SPEED_SCALE_MPS**2 + var[:, 1] + var[:, 2])
        w_height = HEIGHT_SCALE_M**2 / (HEIGHT_SCALE_M**2 + var[:, 0])
        k = self.kinematic_weight
        return (k * w_speed)[:, None] * SPEED_CUE(speed) + (k * w_height)[:, None] * ALTITUDE_CUE(
            uvw[:, 0]
        )
