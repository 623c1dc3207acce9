"""Scoring a tracker against truth: GOSPA, localisation error and track-id switches.

Truth is a recording with topic `truth`, one record per instant:
`{"v": 1, "t": t, "targets": [{"target_id", "enu", "vel_enu", "class"}, ...]}` (the
simulators write it; in a drill it comes from GPS loggers on the drones). A tracker's output is
a cuas replay recording (topic `tracks`, `TrackCycle` payloads) or any list of
`(t, track_id, enu)` rows, so that every tracker is scored by the same code.

GOSPA (Rahmathullah, García-Fernández, Svensson 2017) with cut-off `c`, order `p` and
`alpha = 2` decomposes into localisation error of assigned pairs plus `c**p / 2` per missed
truth and per false track, which is what makes it readable: with `c = 100, p = 1`, a missed
drone costs 50, a false track 50, and an assigned pair its distance in metres.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from cuas.io.recording import RecordingWriter, read_records
from cuas.topics import RECORDED_TRACKS, report_topic, status_topic
from cuas.wire import TrackCycle, from_msgpack

Array = NDArray[np.float64]

TRUTH_TOPIC = "truth"
TRACKS_TOPIC = RECORDED_TRACKS
SCORED_STATUSES = ("confirmed", "coasting")

# --- the truth record ---------------------------------------------------------------


class TruthTarget(msgspec.Struct, omit_defaults=False):
    """One true object at one instant, in camp ENU metres."""

    target_id: str
    enu: list[float]
    vel_enu: list[float]
    class_: str = msgspec.field(name="class", default="drone")


class TruthFrame(msgspec.Struct, omit_defaults=False):
    """Payload of a `truth` record: every true object alive at time `t`."""

    v: int
    t: float
    targets: list[TruthTarget]


@dataclass(frozen=True)
class Snapshot:
    """A set of labelled points at one instant: truth objects or a tracker's output."""

    t: float
    ids: tuple[Hashable, ...]
    enu: Array  # (n, 3)
    vel: Array | None = None  # (n, 3), truth only: lets truth be moved to a nearby time

    def __len__(self) -> int:
        return len(self.ids)


def _points(rows: Sequence[Sequence[float]]) -> Array:
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), 3)


def truth_snapshot(frame: TruthFrame) -> Snapshot:
    """A truth payload as arrays."""
    return Snapshot(
        t=frame.t,
        ids=tuple(x.target_id for x in frame.targets),
        enu=_points([x.enu for x in frame.targets]),
        vel=_points([x.vel_enu for x in frame.targets]),
    )


def read_truth_frames(path: str | Path) -> dict[float, TruthFrame]:
    """The `truth` records of a recording keyed by time rounded to the millisecond, so a
    track cycle's truth is `frames.get(round(cycle.t, 3))`."""
    decoder = msgspec.msgpack.Decoder(TruthFrame)
    return {
        round(f.t, 3): f
        for f in (decoder.decode(r.payload) for r in read_records(path) if r.topic == TRUTH_TOPIC)
    }


def one_sensor(recording: str | Path, out: str | Path, sensor_id: str) -> None:
    """Copy of a sensor recording with one sensor's reports and heartbeats only: the
    baseline (radar alone) that fusing every sensor is scored against."""
    keep = {report_topic(sensor_id), status_topic(sensor_id)}
    with RecordingWriter(out) as w:
        for r in read_records(recording):
            if r.topic in keep:
                w.write(r.t_received, r.topic, r.payload)


def all_sensors_but(recording: str | Path, out: str | Path, sensor_id: str) -> None:
    """Copy of a sensor recording without one sensor's reports and heartbeats: the camp
    without that sensor (a radar it could not buy, or one that is down)."""
    drop = {report_topic(sensor_id), status_topic(sensor_id)}
    with RecordingWriter(out) as w:
        for r in read_records(recording):
            if r.topic not in drop:
                w.write(r.t_received, r.topic, r.payload)


def read_truth(path: str | Path) -> list[Snapshot]:
    """The `truth` records of a recording, as arrays, in time order."""
    decoder = msgspec.msgpack.Decoder(TruthFrame)
    frames = [
        truth_snapshot(decoder.decode(r.payload))
        for r in read_records(path)
        if r.topic == TRUTH_TOPIC
    ]
    return sorted(frames, key=lambda s: s.t)


def read_track_snapshots(
    path: str | Path, statuses: Sequence[str] = SCORED_STATUSES
) -> list[Snapshot]:
    """The track cycles of a cuas replay output, keeping tracks whose status is in `statuses`."""
    out: list[Snapshot] = []
    for r in read_records(path):
        if r.topic != TRACKS_TOPIC:
            continue
        cycle: TrackCycle = from_msgpack(r.payload, TrackCycle)
        kept = [k for k in cycle.tracks if k.status in statuses]
        out.append(
            Snapshot(
                t=cycle.t, ids=tuple(k.track_id for k in kept), enu=_points([k.enu for k in kept])
            )
        )
    return sorted(out, key=lambda s: s.t)


def snapshots_from_rows(rows: Iterable[tuple[float, Hashable, Sequence[float]]]) -> list[Snapshot]:
    """Group `(t, track_id, enu)` rows (e.g. from another tracker) into one snapshot per time.

    A time with no rows produces no snapshot: a tracker that reports nothing must still emit an
    empty cycle to be scored, which `Snapshot(t, (), np.empty((0, 3)))` provides.
    """
    by_t: dict[float, tuple[list[Hashable], list[Sequence[float]]]] = {}
    for t, track_id, enu in rows:
        ids, pts = by_t.setdefault(float(t), ([], []))
        ids.append(track_id)
        pts.append(enu)
    return [Snapshot(t, tuple(ids), _points(pts)) for t, (ids, pts) in sorted(by_t.items())]


# --- GOSPA --------------------------------------------------------------------------


@dataclass(frozen=True)
class Gospa:
    """GOSPA between two point sets and its decomposition.

    `value == (localisation + missed + false) ** (1 / p)`; the components are in the p-th
    power of metres (for p = 1: metres). `pairs` are the (truth index, track index) couples
    assigned closer than `c`; `distances` are their Euclidean distances.
    """

    value: float
    localisation: float
    missed: float
    false: float
    n_missed: int = 0  # truths without a track closer than c
    n_false: int = 0  # tracks without a truth closer than c
    pairs: list[tuple[int, int]] = field(default_factory=list)
    distances: Array = field(default_factory=lambda: np.empty(0))


def _dense_assignment(X: Array, Y: Array, c: float, p: float) -> tuple[Array, Array]:
    """Optimal min(|X|,|Y|) assignment on cost min(d, c)^p; returns index arrays."""
    d = np.linalg.norm(X[:, None, :] - Y[None, :, :], axis=-1)
    rows, cols = linear_sum_assignment(np.minimum(d, c) ** p)
    return rows, cols


def _sparse_assignment(X: Array, Y: Array, c: float, p: float) -> tuple[Array, Array]:
    """Same optimum as `_dense_assignment` for alpha = 2, solved per connected cluster.

    With alpha = 2, a pair at distance >= c costs exactly as much as leaving both unassigned,
    so only pairs closer than `c` matter and the problem splits into the connected components
    of the "closer than c" bipartite graph. This keeps 1000 x 1000 frames cheap.
    """
    m = len(X)
    near = cKDTree(X).sparse_distance_matrix(cKDTree(Y), c, output_type="coo_matrix")
    keep = near.data < c
    i, j = near.row[keep], near.col[keep]
    if len(i) == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    graph = coo_matrix((np.ones(len(i)), (i, m + j)), shape=(m + len(Y), m + len(Y)))
    _, label = connected_components(graph, directed=False)
    rows_out: list[Array] = []
    cols_out: list[Array] = []
    for comp in np.unique(label[i]):
        ri = np.flatnonzero(label[:m] == comp)
        ci = np.flatnonzero(label[m:] == comp)
        r, k = _dense_assignment(X[ri], Y[ci], c, p)
        rows_out.append(ri[r])
        cols_out.append(ci[k])
    return np.concatenate(rows_out), np.concatenate(cols_out)


def gospa(
    truth_xyz: ArrayLike,
    track_xyz: ArrayLike,
    c: float = 100.0,
    p: float = 1,
    alpha: float = 2,
) -> Gospa:
    """GOSPA distance between truth and track positions (arrays of shape (m, 3) and (n, 3)).

    Pairs closer than `c` count their distance^p as localisation; every unassigned truth costs
    `c**p / alpha` (missed) and every unassigned track the same (false). For alpha != 2 a pair
    assigned at the cut-off costs `c**p`, which is split equally between missed and false.
    """
    if not c > 0 or not p >= 1 or not 0 < alpha <= 2:
        raise ValueError("GOSPA needs c > 0, p >= 1 and 0 < alpha <= 2")
    X = np.asarray(truth_xyz, dtype=np.float64).reshape(-1, 3)
    Y = np.asarray(track_xyz, dtype=np.float64).reshape(-1, 3)
    m, n = len(X), len(Y)
    dummy = c**p / alpha
    if m == 0 or n == 0:
        missed, false = m * dummy, n * dummy
        return Gospa((missed + false) ** (1 / p), 0.0, missed, false, m, n)
    if alpha == 2:
        rows, cols = _sparse_assignment(X, Y, c, p)
    else:
        rows, cols = _dense_assignment(X, Y, c, p)
    d = np.linalg.norm(X[rows] - Y[cols], axis=-1)
    close = d < c
    n_cut = int(np.count_nonzero(~close))
    localisation = float(np.sum(d[close] ** p))
    unassigned_truth = m - len(rows)
    unassigned_tracks = n - len(cols)
    if alpha == 2:
        missed = (unassigned_truth + n_cut) * dummy
        false = (unassigned_tracks + n_cut) * dummy
    else:
        missed = unassigned_truth * dummy + n_cut * c**p / 2
        false = unassigned_tracks * dummy + n_cut * c**p / 2
    pairs = list(zip(rows[close].tolist(), cols[close].tolist(), strict=True))
    total = localisation + missed + false
    return Gospa(
        total ** (1 / p),
        localisation,
        missed,
        false,
        n_missed=m - len(pairs),
        n_false=n - len(pairs),
        pairs=pairs,
        distances=d[close],
    )


# --- scoring a tracker over time ----------------------------------------------------


@dataclass
class Score:
    """A tracker's accuracy over a run; means are over scored cycles."""

    cycles: int = 0
    skipped_cycles: int = 0  # no truth close enough in time
    mean_gospa: float = 0.0
    mean_localisation: float = 0.0  # GOSPA components, per cycle
    mean_missed: float = 0.0
    mean_false: float = 0.0
    mean_position_error_m: float = 0.0  # over all assigned (truth, track) pairs
    assigned_pairs: int = 0
    id_switches: int = 0
    mean_truths: float = 0.0
    mean_tracks: float = 0.0
    truth_targets: int = 0  # distinct truth objects seen by the scored cycles
    c: float = 100.0
    p: float = 1.0
    alpha: float = 2.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def truth_window(times: Array) -> float:
    """How far from a truth record (its times `times`) a cycle is still scored against it by
    default: half the truth period (0.5 s with fewer than two records)."""
    return 0.5 * float(np.median(np.diff(times))) if len(times) > 1 else 0.5


def truth_at(truth: Sequence[Snapshot], times: Array, t: float, max_dt: float) -> Snapshot | None:
    """Truth at time `t`: the nearest record within `max_dt`, moved along its velocity."""
    k = int(np.searchsorted(times, t))
    best = min((j for j in (k - 1, k) if 0 <= j < len(times)), key=lambda j: abs(times[j] - t))
    dt = t - times[best]
    if abs(dt) > max_dt:
        return None
    snap = truth[best]
    if dt == 0.0 or snap.vel is None:
        return snap
    return Snapshot(t, snap.ids, snap.enu + snap.vel * dt, snap.vel)


def score(
    truth: Sequence[Snapshot],
    tracks: Sequence[Snapshot],
    c: float = 100.0,
    p: float = 1,
    alpha: float = 2,
    max_dt: float | None = None,
    t_min: float = -np.inf,
    t_max: float = np.inf,
) -> Score:
    """Score track snapshots against truth snapshots.

    Each track cycle with `t_min <= t <= t_max` is paired with the truth record nearest in
    time (within `max_dt`, default half the truth period), whose positions are moved to the
    cycle time along the true velocities. An id switch is counted when a truth object's
    GOSPA-assigned track changes to a different track id; cycles where it is unassigned are
    gaps and do not count.
    """
    out = Score(c=c, p=p, alpha=alpha)
    if not truth:
        return out
    times = np.array([s.t for s in truth])
    if max_dt is None:
        max_dt = truth_window(times)
    last_track: dict[Hashable, Hashable] = {}
    seen: set[Hashable] = set()
    sums = np.zeros(7)  # gospa, loc, missed, false, truths, tracks, sum of pair distances
    for cycle in tracks:
        if not t_min <= cycle.t <= t_max:
            continue
        now = truth_at(truth, times, cycle.t, max_dt)
        if now is None:
            out.skipped_cycles += 1
            continue
        g = gospa(now.enu, cycle.enu, c, p, alpha)
        out.cycles += 1
        out.assigned_pairs += len(g.pairs)
        sums += (
            g.value,
            g.localisation,
            g.missed,
            g.false,
            len(now),
            len(cycle),
            g.distances.sum(),
        )
        seen.update(now.ids)
        for i, j in g.pairs:
            target, track = now.ids[i], cycle.ids[j]
            previous = last_track.get(target)
            if previous is not None and previous != track:
                out.id_switches += 1
            last_track[target] = track
    if out.cycles:
        means = sums[:6] / out.cycles
        (
            out.mean_gospa,
            out.mean_localisation,
            out.mean_missed,
            out.mean_false,
            out.mean_truths,
            out.mean_tracks,
        ) = (float(x) for x in means)
    if out.assigned_pairs:
        out.mean_position_error_m = float(sums[6] / out.assigned_pairs)
    out.truth_targets = len(seen)
    return out


def score_replay(truth_path: str | Path, replay_path: str | Path, **kwargs: Any) -> Score:
    """Score a cuas replay output recording against a truth recording (see `score`)."""
    return score(read_truth(truth_path), read_track_snapshots(replay_path), **kwargs)
