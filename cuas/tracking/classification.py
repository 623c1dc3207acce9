"""Classification: what each track is, by recursive Bayesian fusion of every look at it.

Each track keeps log-probabilities over `CLASSES` (drone, bird, aircraft, clutter, unknown;
"unknown" is the class of anything else: a balloon, a kite, a plastic bag). A new track starts
at `PRIOR`; every detection that initiates or updates it multiplies in a likelihood, all
tracks of a scan at once:

- **What the sensor says.** A detection's class probabilities `p` (a camera's classifier, an
  RF protocol library, Remote ID, a classifying radar; see `cuas.fusion.scans`) are read as the
  likelihood of each true class. A sensor's "unknown" is its "don't know", compatible with
  every class: l(c) = p(c) + p(unknown) for the four named classes and, for a true "unknown",
  the mean of the named p(c) plus p(unknown) (something else is labelled anything). The
  likelihood is divided by its best class, floored at `class_likelihood_floor` (no class is
  ruled out by one look) and raised to `class_likelihood_exponent` (successive looks at one
  target share their errors, so they are not independent evidence).
- **Radar cross-section** (`RCS_CUE`), per detection, tempered like the labels.
- **Kinematics** of the updated track state (`SPEED_CUE` on the horizontal speed,
  `ALTITUDE_CUE` on the height above the camp origin), weighted by `class_kinematic_weight`
  and by how well the filter knows them: w = s0^2 / (s0^2 + variance), so the guessed
  velocity of a young track or the guessed height of a triangulated one says little (and
  nothing at initiation). Successive states of one track are strongly correlated, hence a
  weight below 1.

Every cue is a set of "soft boxes", one per class: exactly 1 where the feature is plausible
for the class, falling linearly over a few units outside to `CUE_FLOOR`; "unknown" is flat at
`CUE_OTHER` (it explains everything, and nothing well). The cues *veto* implausible
classes; where two classes are both plausible (a 12 m/s target at 60 m may be a bird or a
drone) they stay neutral, and the sensors' labels and the RCS decide. Numbers:

| cue | drone | bird | aircraft | clutter | unknown |
| --- | --- | --- | --- | --- | --- |
| speed (m/s) | 0..35 (45) | 4..20 (-2..26) | > 45 (30) | < 1 (4) | flat |
| height above camp (m) | < 1000 (1500) | < 300 (600) | > 150 (30) | < 100 (300) | flat |
| RCS (dBsm) | -20..+5 (-25..+10) | < -17 (-12) | > 0 (-10) | flat | flat |

(in brackets: where the likelihood has fallen to the floor). The RCS boxes suit small X-band
radars (small drones -20..-5 dBsm, single birds -30..-20, large ones more); tune them to the
camp's radar. Where both a small drone and a large bird are plausible (-20..-17 dBsm) a look
says nothing: every look at a track multiplies in, so a drone box that began at -18 dBsm
called drones of -20..-18 dBsm birds for sure within a minute (session 31: loiterers of
-18.2 to -19.7 dBsm, seen by the radar alone, circled in warning zones for 150 s unalerted on
eight of 90 random camps, and an inbound drone of -18.4 dBsm was warned of 4 s before it
crossed the perimeter). A drone just above -20 dBsm is still called a bird in the end, by
the looks its noise puts below -20; the threat rules rate a bird by the perimeter.

Not modelled: erratic motion (birds turn at random). The IMM's manoeuvre-mode probability
(`TrackTable.mode_p`) would measure it: over 0.1 on 18 % of a simulated bird's radar looks,
never over 0.003 on a simulated drone's (session 31); but the simulator's birds never soar,
so a cue from it could not be measured against birds that fly as steadily as drones. Hovering
drones and helicopters look like clutter and drones in
speed, and only other sensors tell them apart; clutter is simply what does not move.

**An emitter's word.** A bearing naming an emitter says "drone" (its link's protocol) of the
track it updates, but that is what the emitter is, and the emitter is on the track only while
its bearings keep fitting it (`emitter_ids.py`): the finders' lines pass through everything
along them. So a track that such a bearing reached also keeps `TrackTable.class_bare`, its
class on every other look since, and takes it back if it loses the emitter (random camp 188:
a flock's new radar track, given the hidden drone's id by two finders nearly in line with
both, was a drone at 0.97 within 3 s, lost the id 5 s after taking it, and stayed a drone at
0.9 and warned of for 22 s). The alerts read a drone probability that such bearings did not
make (`cuas.fusion.threat`).

After each update the posterior is normalised and no class may fall more than
`class_max_log_odds` nats below the best (it is raised to that), so that a track confidently
called a bird for minutes still turns into a drone after a few seconds of consistent drone
evidence, while a single contrary frame (at most ~2.8 nats) never flips a confident track.
The published class (`cuas.fusion.air_picture`) is the most probable one once it reaches
`tracker.class_confidence`, "unknown" until then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cuas.config import TrackerConfig
from cuas.tracking import class_kernels, kernels
from cuas.tracking.gating import gate_threshold
from cuas.tracking.motion import STATE_DIM
from cuas.tracking.scan import CLASSES, Scan
from cuas.tracking.tracks import TENTATIVE, TrackTable

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
# P[2, 2], P[3, 3], P[4, 4] (height, east and north velocity) of a flattened covariance.
_DIAG_UVW = slice(2 * (STATE_DIM + 1), 5 * (STATE_DIM + 1), STATE_DIM + 1)
SPEED_SCALE_MPS = 5.0  # s0 of the speed cue's weight: a 5 m/s velocity sigma halves it
HEIGHT_SCALE_M = 30.0  # s0 of the altitude cue's weight


@dataclass(frozen=True)
class SoftBox:
    """Plausible values of a feature for one class: exactly 1 inside [lo, hi] (a plausible
    value is no evidence at all), falling linearly to 0 over `width` outside (either bound
    may be infinite)."""

    lo: float
    hi: float
    width: float

    def __call__(self, x: Array) -> Array:
        inside = np.minimum(x - self.lo, self.hi - x) / self.width + 1.0
        return np.clip(inside, 0.0, 1.0)


class Cue:
    """Per-class log-likelihood of one scalar feature, tabulated on a grid (one lookup per
    call, however many tracks). Each class has a `SoftBox` or a flat likelihood.

    Arrays are class-major, (5, n): reductions over the five classes then run along the
    first axis, several times faster than along a short last axis.
    """

    def __init__(
        self,
        shapes: Sequence[SoftBox | float],
        lo: float,
        hi: float,
        step: float,
        floor: float = CUE_FLOOR,
    ) -> None:
        grid = np.arange(lo, hi + step / 2.0, step)
        rows = [
            np.full_like(grid, s) if isinstance(s, float) else floor + (1.0 - floor) * s(grid)
            for s in shapes
        ]
        self.table = np.log(np.vstack(rows))  # (5, grid)
        self.scale = 1.0 / step
        self.offset = 0.5 - lo / step  # rounds to the nearest grid point

    def __call__(self, x: Array) -> Array:
        """(5, n) log-likelihoods of finite feature values `x` (n,); values off the grid read
        as its nearest end."""
        index = (x * self.scale + self.offset).astype(np.intp)
        return np.take(self.table, index, axis=1, mode="clip")


# One shape per class, in CLASSES order: drone, bird, aircraft, clutter, unknown.
SPEED_CUE = Cue(
    [SoftBox(-INF, 35.0, 10.0), SoftBox(4.0, 20.0, 6.0), SoftBox(45.0, INF, 15.0),
     SoftBox(-INF, 1.0, 3.0), CUE_OTHER],
    lo=0.0, hi=150.0, step=0.5,
)  # fmt: skip
ALTITUDE_CUE = Cue(
    [SoftBox(-INF, 1000.0, 500.0), SoftBox(-INF, 300.0, 300.0), SoftBox(150.0, INF, 120.0),
     SoftBox(-INF, 100.0, 200.0), CUE_OTHER],
    lo=-500.0, hi=5000.0, step=10.0,
)  # fmt: skip
RCS_CUE = Cue(
    [SoftBox(-20.0, 5.0, 5.0), SoftBox(-INF, -17.0, 5.0), SoftBox(0.0, INF, 10.0),
     CUE_OTHER, CUE_OTHER],
    lo=-60.0, hi=60.0, step=0.5,
)  # fmt: skip


def label_loglik(probs: Array, floor: float) -> Array:
    """(k, 5) log-likelihoods of detections' class probabilities (k, 5), relative to each
    detection's best class and floored; rows with anything non-finite (NaN: the detection
    says nothing) or nothing positive give 0. See the module docstring for how "unknown" is
    read."""
    if kernels.ENABLED:  # one compiled pass, then numpy's log; the numpy below is the reference
        return np.log(kernels.label_likelihoods(np.ascontiguousarray(probs), floor))
    out = np.zeros(probs.shape)
    ok = np.isfinite(probs).all(axis=1) & (probs.max(axis=1) > 0.0)
    if not ok.any():
        return out
    p = np.maximum(probs[ok], 0.0)
    named, unsure = p[:, :-1], p[:, -1:]
    like = np.concatenate((named + unsure, named.mean(axis=1, keepdims=True) + unsure), axis=1)
    like /= like.max(axis=1, keepdims=True)
    out[ok] = np.log(np.maximum(like, floor))
    return out


def fuse(logp: Array, evidence: Array, max_log_odds: float) -> Array:
    """Posterior log-probabilities (5, n): prior `logp` plus log-likelihoods `evidence` (both
    class-major), normalised, with no class more than `max_log_odds` below the best."""
    post = logp + evidence
    post -= post.max(axis=0)
    np.maximum(post, -max_log_odds, out=post)
    post -= np.log(np.exp(post).sum(axis=0))
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
        """New tracks: the prior (or a flock's, `_join_flock`), then what their first detection
        says (a one-point track's velocity is a guess and its height barely known, so no
        kinematic cue yet)."""
        tracks.class_logp[rows] = self.prior
        if scan.model.can_initiate:
            _join_flock(tracks, rows)
        if scan.labels is not None:
            self._step(tracks, rows, self._detection_evidence(scan, dets))

    def updated(self, tracks: TrackTable, rows: Index, scan: Scan, dets: Index) -> None:
        """One Bayesian step for the tracks in `rows`, updated with detections `dets`."""
        evidence = self.kinematics(tracks, rows)
        lent = None
        if scan.labels is not None:
            named = _emitters_named(scan, dets)
            detection = self._detection_evidence(scan, dets)
            detection[:, _named_elsewhere(tracks, rows, named)] = 0.0
            lent = _lent(named, detection)
            evidence = detection if evidence is None else evidence + detection
        if evidence is not None:
            self._keep_bare(tracks, rows, evidence, lent)
            self._step(tracks, rows, evidence)

    def observed(self, tracks: TrackTable, rows: Index, scan: Scan, dets: Index) -> None:
        """What detections `dets` say of tracks `rows` they were not used to update (a
        camera looking into a flock): their labels, without kinematics (already counted by
        the update that placed the track). A bearing naming an emitter the track does not
        hold says nothing of it: a transmitter is somewhere on that line, and the track is
        only in its gate (random camp 308: a swarm's four links, heard across a flock 20 s
        into the raid, called a bird's track a drone at 0.96 in 1.5 s, and it was warned of
        the approach zone)."""
        if scan.labels is not None:
            named = _emitters_named(scan, dets)
            evidence = self._detection_evidence(scan, dets)
            evidence[:, _not_its_emitter(tracks, rows, named)] = 0.0
            self._keep_bare(tracks, rows, evidence, _lent(named, evidence))
            self._step(tracks, rows, evidence)

    def reidentified(self, tracks: TrackTable, rows: Index) -> None:
        """The emitter ids of `rows` changed (the tracker released one whose bearings did not
        fit, or the identity keeper gave one to another track): a track among them that
        holds no emitter id now but took the labels of an emitter's bearings returns to its
        class without them (`TrackTable.class_bare`)."""
        bare = tracks.class_bare[rows, 0]
        if np.isnan(bare).all():  # most scans: no track of theirs ever took an emitter's word
            return
        lost = rows[~np.isnan(bare) & (tracks.emitter_id[rows] == None)]  # noqa: E711
        tracks.class_logp[lost] = tracks.class_bare[lost]
        tracks.class_bare[lost] = np.nan

    def _keep_bare(
        self, tracks: TrackTable, rows: Index, evidence: Array, lent: Array | None
    ) -> None:
        """Before `evidence` (5, k) is fused into tracks `rows`: their class without what
        bearings naming an emitter said (`lent`, that part of `evidence`; None: none) takes
        the rest, from the class they had before the first such bearing."""
        keep = ~np.isnan(tracks.class_bare[rows, 0])
        if lent is not None:
            start = ~keep & (lent != 0.0).any(axis=0)
            tracks.class_bare[rows[start]] = tracks.class_logp[rows[start]]
            keep |= start
        if keep.any():
            own = evidence[:, keep] if lent is None else (evidence - lent)[:, keep]
            bare = np.ascontiguousarray(tracks.class_bare[rows[keep]].T)
            tracks.class_bare[rows[keep]] = fuse(bare, own, self.max_log_odds).T

    def _step(self, tracks: TrackTable, rows: Index, evidence: Array) -> None:
        if kernels.ENABLED:  # `fuse` in two compiled passes round numpy's exp and log
            post = kernels.class_step(
                tracks.class_logp, rows, np.ascontiguousarray(evidence), self.max_log_odds
            )
            kernels.class_store(tracks.class_logp, rows, post, np.log(np.exp(post).sum(axis=0)))
            return
        logp = np.ascontiguousarray(tracks.class_logp[rows].T)
        post = fuse(logp, evidence, self.max_log_odds)
        tracks.class_logp[rows] = post.T

    def _detection_evidence(self, scan: Scan, dets: Index) -> Array:
        """(5, k) log-likelihoods of what detections `dets` say: class probabilities, RCS."""
        labels = scan.labels
        assert labels is not None
        loglik = label_loglik(labels.class_probs[dets], self.floor)
        evidence = np.ascontiguousarray(loglik.T) * self.exponent
        rcs = labels.rcs_dbsm[dets]
        seen = ~np.isnan(rcs)
        if seen.any():
            evidence[:, seen] += self.exponent * RCS_CUE(rcs[seen])
        return evidence

    def kinematics(self, tracks: TrackTable, rows: Index) -> Array | None:
        """(5, n) kinematic log-likelihoods of the tracks in `rows` from their height and
        horizontal speed, each cue weighted by how well the filter knows it (None: off)."""
        if self.kinematic_weight == 0.0:
            return None
        if kernels.ENABLED:  # one compiled pass; the numpy below is the reference
            return kernels.kinematic_evidence(
                tracks.x,
                tracks.P,
                rows,
                self.kinematic_weight,
                (SPEED_SCALE_MPS**2, HEIGHT_SCALE_M**2),
                (SPEED_CUE.table, ALTITUDE_CUE.table),
                (SPEED_CUE.scale, SPEED_CUE.offset, ALTITUDE_CUE.scale, ALTITUDE_CUE.offset),
            )
        x = tracks.x[rows]
        var = tracks.P.reshape(-1, STATE_DIM * STATE_DIM)[rows][:, _DIAG_UVW]
        k = self.kinematic_weight
        w_speed = (k * SPEED_SCALE_MPS**2) / (SPEED_SCALE_MPS**2 + var[:, 1] + var[:, 2])
        w_height = (k * HEIGHT_SCALE_M**2) / (HEIGHT_SCALE_M**2 + var[:, 0])
        speed = np.hypot(x[:, 3], x[:, 4])
        return w_speed * SPEED_CUE(speed) + w_height * ALTITUDE_CUE(x[:, 2])


@dataclass(frozen=True)
class PublishedClasses:
    """What each track of a set of rows is said to be: one decision for every consumer.

    `names[i]` is row i's most probable class once its probability reaches the camp's
    `class_confidence`, `unknown` until then; `probs` are the normalised class probabilities.
    Threat evaluation and the air picture both take these, so an alert never calls a track
    something the published track stream does not.
    """

    names: list[str]
    probs: NDArray[np.float64]  # (n, len(CLASSES))


def class_probabilities(class_logp: NDArray[np.float64]) -> NDArray[np.float64]:
    """Normalised class probabilities (n, len(CLASSES)) of rows of log-probabilities."""
    if kernels.ENABLED:  # two compiled passes round numpy's exp; the numpy below is the reference
        return class_kernels.probabilities(class_logp)
    logp = class_logp - class_logp.max(axis=1, keepdims=True) if len(class_logp) else class_logp
    probs = np.exp(logp)
    probs /= np.maximum(probs.sum(axis=1, keepdims=True), class_kernels.FLOOR)
    return probs


def published_classes(class_logp: NDArray[np.float64], confidence: float) -> PublishedClasses:
    """`PublishedClasses` of rows with these class log-probabilities."""
    n = len(class_logp)
    probs = class_probabilities(class_logp)
    best = probs.argmax(axis=1) if n else np.zeros(0, dtype=np.int64)
    sure = probs[np.arange(n), best] >= confidence
    names = [
        CLASSES[b] if s else "unknown" for b, s in zip(best.tolist(), sure.tolist(), strict=True)
    ]
    return PublishedClasses(names=names, probs=probs)


def called(class_logp: NDArray[np.float64], name: str, confidence: float) -> NDArray[np.bool_]:
    """Which rows the published picture calls `name` (`published_classes`, as a mask)."""
    if not len(class_logp):
        return np.zeros(0, dtype=bool)
    probs = class_probabilities(class_logp)
    k = CLASSES.index(name)
    return (probs.argmax(axis=1) == k) & (probs[:, k] >= confidence)


def likely(class_logp: NDArray[np.float64], name: str) -> NDArray[np.bool_]:
    """Which rows give class `name` even odds or better (a looser test than `called`: the
    formation rules and `_join_flock` ask it of birds)."""
    p = np.exp(class_logp - class_logp.max(axis=1, keepdims=True))
    return p[:, CLASSES.index(name)] >= 0.5 * p.sum(axis=1)


def _join_flock(tracks: TrackTable, rows: Index) -> None:
    """New tracks `rows` that a radar plot started where a firm track likely a bird's (even
    odds or better) could have taken that plot, inside the 99 % gate of their positions,
    start from that bird's class probabilities.

    In a flock a bird's track misses a plot now and then (another bird's track takes it, or it
    falls outside the gate), and the plot starts a track beside it; that track's first
    velocities, made of several birds' plots, say "drone" (random camp 551: 16-28 m/s, called
    a drone at 0.95 two seconds after its birth, and warned of the approach zone). Its own
    evidence still decides within seconds (`class_max_log_odds`)."""
    n = tracks.n
    firm = tracks.status[:n] != TENTATIVE
    firm[rows] = False
    mates = firm.nonzero()[0]
    if not mates.size:
        return
    mates = mates[likely(tracks.class_logp[mates], "bird")]
    if not mates.size:
        return
    threshold = gate_threshold(0.99, 3)
    for row in rows.tolist():
        d = tracks.x[mates, :3] - tracks.x[row, :3]
        S = tracks.P[mates, :3, :3] + tracks.P[row, :3, :3]
        d2 = np.einsum("pi,pi->p", d, np.linalg.solve(S, d[:, :, None])[:, :, 0])
        nearest = int(np.argmin(d2))
        if d2[nearest] <= threshold:
            tracks.class_logp[row] = tracks.class_logp[mates[nearest]]


def _emitters_named(scan: Scan, dets: Index) -> list[str | None] | None:
    """The emitter id each detection `dets` names (None: none), or None when the scan names
    no emitter at all (most scans: skipped quickly)."""
    assert scan.labels is not None
    names = scan.labels.emitter_id
    if names.count(None) == len(names):
        return None
    return [names[d] for d in dets.tolist()]


def _lent(named: list[str | None] | None, evidence: Array) -> Array | None:
    """The part (5, k) of detections' `evidence` that bearings naming an emitter gave (`named`:
    each detection's emitter id, `_emitters_named`), zero for the rest; None when none names
    one."""
    if named is None:
        return None
    lent = np.zeros_like(evidence)
    naming = np.array([name is not None for name in named], dtype=bool)
    lent[:, naming] = evidence[:, naming]
    return lent


def _not_its_emitter(
    tracks: TrackTable, rows: Index, named: list[str | None] | None
) -> NDArray[np.bool_]:
    """Which detections (of tracks `rows`; `named`: the emitter id each names,
    `_emitters_named`) name an RF emitter that is not the track's own emitter id."""
    if named is None:
        return np.zeros(len(rows), dtype=bool)
    own = tracks.emitter_id[rows].tolist()
    return np.array(
        [name is not None and name != mine for name, mine in zip(named, own, strict=True)],
        dtype=bool,
    )


def _named_elsewhere(
    tracks: TrackTable, rows: Index, named: list[str | None] | None
) -> NDArray[np.bool_]:
    """Which detections (updating tracks `rows`; `named`: the emitter id each names,
    `_emitters_named`) name an RF emitter that another live track holds: such a bearing
    belongs to that track's object and only crossed this one.

    A direction finder's bearing fits anything on its line: the hidden drone's bearings,
    given to a bird's radar track that the line crossed, said "drone" (its link's protocol)
    at every look, and the bird alerted as a drone 1.2 s after it was first seen (random camp
    52). Which emitter a bearing names is the track's identity (identity.py), not its
    class; where the emitter is already someone else's, its label is evidence about that
    other track only."""
    if named is None:
        return np.zeros(len(rows), dtype=bool)
    holder = tracks.holders("emitter_id")
    return np.array(
        [
            name is not None and holder.get(name, row) != row
            for row, name in zip(rows.tolist(), named, strict=True)
        ],
        dtype=bool,
    )
