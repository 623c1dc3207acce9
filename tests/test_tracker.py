"""Tracker behaviour: gating, association, confirmation, coasting, deletion, stable ids."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuas.config import TrackerConfig
from cuas.geodesy import LocalFrame
from cuas.tracking import kernels
from cuas.tracking.angle_screening import cannot_tell_apart, route_by_emitter, unplaced_holders
from cuas.tracking.association import _distinct, _ranks, _solve_jointly, global_nearest_neighbour
from cuas.tracking.coverage import SensorGeometry
from cuas.tracking.emitter_codes import EmitterCodes
from cuas.tracking.gating import Hypotheses, gate_threshold, hypothesise
from cuas.tracking.measurements import BearingModel, RadarModel
from cuas.tracking.scan import Labels, Scan
from cuas.tracking.tracker import ECHO_PROBABILITY, Tracker, _plots_elsewhere
from cuas.tracking.tracks import COASTING, CONFIRMED, TENTATIVE, TrackTable

Index = np.ndarray

FRAME = LocalFrame(8.65, 24.50, 600.0)
T0 = 1_764_000_000.0
SIGMA = np.array([5.0, np.radians(1.0), np.radians(1.5)])
MODEL = RadarModel(
    SensorGeometry(FRAME.sensor_frame(8.65, 24.50, 615.0), 50.0, 3000.0, 0.0, 360.0, -10.0, 90.0),
    with_range_rate=False,
)
FINDER = BearingModel(
    SensorGeometry(FRAME.sensor_frame(8.651, 24.503, 610.0), 0.0, 6000.0, 0.0, 360.0, -10.0, 90.0)
)


def scan(t: float, positions: np.ndarray, rng: np.random.Generator, clutter: int = 0) -> Scan:
    """A radar scan of `positions` (k, 3) with noise, plus uniform clutter."""
    positions = np.asarray(positions, dtype=float).reshape(-1, 3)
    z, _ = MODEL.predict(np.c_[positions, np.zeros_like(positions)])
    z = z + rng.normal(size=z.shape) * SIGMA
    if clutter:
        fake = np.c_[
            rng.uniform(100, 3000, clutter),
            rng.uniform(-np.pi, np.pi, clutter),
            rng.uniform(0, 0.3, clutter),
        ]
        z = np.vstack([z, fake])
    var = np.broadcast_to(SIGMA**2, z.shape).copy()
    return Scan(0, t, z, var, MODEL)


def tracker(n_sensors: int = 1, **overrides: float) -> Tracker:
    return Tracker.from_config(TrackerConfig(**overrides), n_sensors=n_sensors)


# --- association ------------------------------------------------------------------


def test_gnn_prefers_the_global_optimum_over_greedy_choice() -> None:
    # Track 0 is closest to det 0, but giving det 0 to track 1 (its only option) is better.
    track = np.array([0, 0, 1])
    det = np.array([0, 1, 0])
    cost = np.array([1.0, 3.0, 2.0])
    chosen = global_nearest_neighbour(track, det, cost, miss_cost=10.0)
    assert sorted(zip(track[chosen], det[chosen], strict=True)) == [(0, 1), (1, 0)]


def test_gnn_leaves_a_track_unassigned_when_that_is_cheaper() -> None:
    # Two tracks want det 0; the loser has a detection only at a high cost: missing wins.
    track = np.array([0, 1, 1])
    det = np.array([0, 0, 1])
    cost = np.array([1.0, 1.5, 9.9])
    chosen = global_nearest_neighbour(track, det, cost, miss_cost=10.0)
    assert sorted(zip(track[chosen], det[chosen], strict=True)) == [(0, 0), (1, 1)]
    # ... but with a cheaper miss, track 1 stays unassigned rather than take det 1.
    chosen = global_nearest_neighbour(track, det, cost, miss_cost=5.0)
    assert sorted(zip(track[chosen], det[chosen], strict=True)) == [(0, 0)]


def test_gnn_star_clusters_take_the_cheapest_pair() -> None:
    track = np.array([0, 0, 0, 1, 2])
    det = np.array([0, 1, 2, 3, 3])
    cost = np.array([4.0, 2.0, 3.0, 5.0, 1.0])
    chosen = global_nearest_neighbour(track, det, cost, miss_cost=10.0)
    assert sorted(zip(track[chosen], det[chosen], strict=True)) == [(0, 1), (2, 3)]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 300), st.integers(1, 400), st.integers(1, 14))
def test_gnn_sparse_solver_matches_the_dense_one(seed: int, n: int, k: int, per: int) -> None:
    """The sparse assignment (large tangled clusters) picks the dense solver's pairs."""
    rng = np.random.default_rng(seed)
    pairs = np.unique(np.c_[np.repeat(np.arange(n), per), rng.integers(0, k, n * per)], axis=0)
    track, det = pairs[:, 0], pairs[:, 1]
    cost = rng.uniform(0.0, 11.0, track.size)
    every = np.arange(track.size)
    sparse = _solve_jointly(every, track, det, cost, 11.0, sparse_from=0)
    dense = _solve_jointly(every, track, det, cost, 11.0, sparse_from=10**9)
    assert sorted(sparse.tolist()) == sorted(dense.tolist())


@given(st.lists(st.integers(0, 2_000), min_size=1, max_size=300))
def test_distinct_values_and_ranks_are_those_of_np_unique(values: list[int]) -> None:
    """Association counts track rows and detection indices instead of sorting them: the same
    distinct values, in order, and each value's rank among them."""
    v = np.array(values, dtype=np.intp)
    distinct, inverse = np.unique(v, return_inverse=True)
    assert _distinct(v, 2_001).tolist() == distinct.tolist()
    assert _ranks(v).tolist() == inverse.tolist()


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.sampled_from([0, 48]), st.data())
def test_gnn_matches_brute_force_optimum(
    n_tracks: int, n_dets: int, dense_up_to: int, data: st.DataObject
) -> None:
    """On small random gate graphs, GNN attains the exhaustive optimum and is a matching,
    whether solved densely or by decomposition into components."""
    mask = np.array(
        data.draw(st.lists(st.booleans(), min_size=n_tracks * n_dets, max_size=n_tracks * n_dets))
    ).reshape(n_tracks, n_dets)
    track, det = np.nonzero(mask)
    cost = np.array(
        data.draw(st.lists(st.floats(0.0, 9.0), min_size=track.size, max_size=track.size))
    )
    chosen = global_nearest_neighbour(track, det, cost, 10.0, dense_up_to=dense_up_to)
    assert len(set(track[chosen])) == chosen.size and len(set(det[chosen])) == chosen.size

    def total(pairs: list[int]) -> float:
        assigned = {int(track[p]) for p in pairs}
        return sum(cost[p] for p in pairs) + 10.0 * len(set(track.tolist()) - assigned)

    best = min_total(track, det, cost, total)
    assert total(chosen.tolist()) <= best + 1e-9


def min_total(track, det, cost, total) -> float:
    best = np.inf

    def search(i: int, used_t: set[int], used_d: set[int], chosen: list[int]) -> None:
        nonlocal best
        if i == track.size:
            best = min(best, total(chosen))
            return
        search(i + 1, used_t, used_d, chosen)
        if track[i] not in used_t and det[i] not in used_d:
            search(i + 1, used_t | {track[i]}, used_d | {det[i]}, [*chosen, i])

    search(0, set(), set(), [])
    return best


# --- gating -----------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_bulk_gating_finds_exactly_the_pairs_a_brute_force_mahalanobis_test_finds(
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    n, k = 12, 15
    x = np.c_[rng.uniform(-2500, 2500, (n, 2)), rng.uniform(20, 300, n), rng.normal(0, 10, (n, 3))]
    A = rng.normal(size=(n, 6, 6)) * 8
    P = A @ A.transpose(0, 2, 1) + np.eye(6) * 10
    s = scan(T0, x[rng.integers(0, n, k), :3] + rng.normal(0, 30, (k, 3)), rng, clutter=3)
    threshold = gate_threshold(0.999, 3)
    hyps = hypothesise(x, P, s, threshold)
    zhat, H = MODEL.predict(x)
    expected = set()
    for i in range(n):
        S = H[i] @ P[i] @ H[i].T
        for j in range(len(s)):
            y = MODEL.residual(s.z[j], zhat[i])
            if y @ np.linalg.solve(S + np.diag(s.var[j]), y) < threshold:
                expected.add((i, j))
    assert set(zip(hyps.track.tolist(), hyps.det.tolist(), strict=True)) == expected


# --- lifecycle --------------------------------------------------------------------


def test_a_target_is_confirmed_at_its_third_hit_and_keeps_its_id() -> None:
    trk = tracker(confirm_m=3, confirm_n=4)
    rng = np.random.default_rng(1)
    p = np.array([1200.0, 900.0, 100.0])
    v = np.array([-10.0, 5.0, 0.0])
    statuses = []
    for k in range(10):
        trk.process(scan(T0 + k, p + v * k, rng))
        statuses.append(int(trk.tracks.status[0]))
        assert trk.tracks.track_id[: trk.tracks.n].tolist() == [1]
    assert statuses[:3] == [TENTATIVE, TENTATIVE, CONFIRMED]
    assert all(s == CONFIRMED for s in statuses[2:])


class _Renamer:
    """An annotator that changes the emitter id of every track it sees start."""

    def __init__(self) -> None:
        self.told: list[list[int]] = []

    def initiated(self, tracks: TrackTable, rows: Index, scan: Scan, dets: Index) -> Index:
        tracks.emitter_id[rows] = "ELRS-1"
        return rows

    def updated(self, tracks: TrackTable, rows: Index, scan: Scan, dets: Index) -> None:
        return None

    def reidentified(self, tracks: TrackTable, rows: Index) -> None:
        self.told.append(rows.tolist())


class _Listener(_Renamer):
    """An annotator that changes nothing and hears of every change."""

    def initiated(self, tracks: TrackTable, rows: Index, scan: Scan, dets: Index) -> None:
        return None


def test_an_annotators_change_of_emitter_id_reaches_the_other_annotators() -> None:
    """What a track is may hang on whose emitter it holds (`classification.py`): when one
    annotator (the identity keeper) moves an emitter id, every other one hears of it, as it
    hears of the tracker's own releases; the one that made the change is not told."""
    renamer, listener = _Renamer(), _Listener()
    trk = Tracker.from_config(TrackerConfig(), 1, annotators=[listener, renamer])
    rng = np.random.default_rng(3)
    trk.process(scan(T0, [[1200.0, 900.0, 100.0], [-800.0, 400.0, 60.0]], rng))
    assert trk.tracks.n == 2 and listener.told == [[0, 1]] and renamer.told == []
    trk.process(scan(T0 + 1, [[1200.0, 900.0, 100.0], [-800.0, 400.0, 60.0]], rng))
    assert listener.told == [[0, 1]]  # updates that change nothing are not news


def test_clutter_alone_never_confirms_a_track() -> None:
    trk = tracker()
    rng = np.random.default_rng(2)
    for k in range(200):
        trk.process(scan(T0 + k, np.zeros((0, 3)), rng, clutter=int(rng.poisson(4))))
    assert trk.stats.confirmed == 0
    assert trk.stats.initiated > 700
    # Dead tentative tracks are removed, so the table stays small.
    assert len(trk.tracks) < 30


def test_a_tentative_track_in_the_radars_blind_zone_is_charged_its_looks() -> None:
    """A tentative track that flies inside the radar's minimum range cannot be confirmed by
    it: each look is a miss, and M-of-N ends it (random camp 1089: a clutter plot's track
    waited 10 s in the blind zone, uncharged, for two more plots at its edge, and was
    confirmed and alerted on as a critical drone). Uncharged, it lived to `delete_after_s`."""
    model = RadarModel(MODEL.geometry, with_range_rate=True)
    sigma = np.r_[SIGMA, 0.5]
    trk = tracker(confirm_m=3, confirm_n=4, delete_after_s=8.0)
    rng = np.random.default_rng(4)
    inbound = np.array([[60.0, 20.0, 20.0, -15.0, -5.0, 0.0]])  # 61 m out, into the zone
    z, _ = model.predict(inbound)
    var = np.broadcast_to(sigma**2, z.shape).copy()
    trk.process(Scan(0, T0, z + rng.normal(size=z.shape) * sigma, var, model))
    assert trk.tracks.n == 1 and trk.tracks.status[0] == TENTATIVE
    for k in range(1, 4):  # inside the 50 m minimum range from the first look on
        trk.process(Scan(0, T0 + 0.5 * k, np.zeros((0, 4)), np.zeros((0, 4)), model))
    assert len(trk.tracks) == 0 and trk.stats.confirmed == 0


def test_an_unseen_target_coasts_then_is_deleted_and_reported_once() -> None:
    trk = tracker(coast_after_s=2.5, delete_after_s=8.0)
    rng = np.random.default_rng(3)
    p = np.array([-900.0, 1500.0, 80.0])
    for k in range(6):
        trk.process(scan(T0 + k, p, rng))
    assert trk.tracks.status[0] == CONFIRMED
    statuses = []
    for k in range(6, 20):  # the target vanishes: empty scans
        trk.process(scan(T0 + k, np.zeros((0, 3)), rng))
        statuses.append(int(trk.tracks.status[0]) if len(trk.tracks) else None)
    assert statuses[:2] == [CONFIRMED, CONFIRMED]
    assert COASTING in statuses
    assert statuses[-1] is None
    snap = trk.snapshot(T0 + 20)
    assert snap.deleted.track_id.tolist() == [1]
    assert len(trk.snapshot(T0 + 21).deleted) == 0


def test_crossing_targets_keep_their_own_ids() -> None:
    trk = tracker()
    rng = np.random.default_rng(4)
    a0, av = np.array([-600.0, 1000.0, 100.0]), np.array([15.0, 0.0, 0.0])
    b0, bv = np.array([600.0, 1000.0, 100.0]), np.array([-15.0, 0.0, 0.0])
    owner: dict[str, set[int]] = {"a": set(), "b": set()}
    for k in range(80):
        a, b = a0 + av * k, b0 + bv * k
        trk.process(scan(T0 + k, np.vstack([a, b]), rng))
        n = trk.tracks.n
        firm = trk.tracks.status[:n] != TENTATIVE
        for name, truth in (("a", a), ("b", b)):
            d = np.linalg.norm(trk.tracks.x[:n, :3] - truth, axis=1)
            d[~firm] = np.inf
            separable = np.linalg.norm(a - b) > 150.0  # before and after the crossing
            if k > 5 and separable and d.min() < 60:
                owner[name].add(int(trk.tracks.track_id[np.argmin(d)]))
    assert len(owner["a"]) == 1 and len(owner["b"]) == 1
    assert owner["a"] != owner["b"]


@pytest.mark.parametrize(("seed", "steps"), [(1, 2), (2, 5), (3, 12)])
def test_a_radar_track_does_not_depend_on_other_sensors_that_do_not_see_its_target(
    seed: int, steps: int
) -> None:
    # A drone that cruises, turns hard and cruises again, seen by a radar at 1 Hz. The second
    # tracker also fuses a direction finder that hears another emitter far away, `steps` - 1
    # times between radar scans, and advances on the pipeline's housekeeping between them.
    # The IMM closes a track's cycle at its own updates and on a fixed grid of time only, so
    # both trackers give the same track: another sensor's scan rate changes nothing of it.
    rng = np.random.default_rng(seed)
    plain, busy = tracker(), tracker(n_sensors=2)
    elsewhere = np.array([[np.radians(250.0)]])  # a bearing 250 deg, away from the drone
    position, velocity = np.array([-1500.0, 800.0, 120.0]), np.array([20.0, 0.0, 0.0])
    turning = 0.0  # the highest manoeuvre-mode probability seen
    for k in range(40):
        if 15 <= k < 20:  # a 90-degree turn in five seconds
            angle = np.radians(18.0)
            c, s_ = np.cos(angle), np.sin(angle)
            velocity = np.array(
                [c * velocity[0] - s_ * velocity[1], s_ * velocity[0] + c * velocity[1], 0.0]
            )
        position = position + velocity
        radar = scan(T0 + k, position, rng, clutter=2)
        if k:
            for j in range(1, steps):
                t = T0 + k - 1 + j / steps
                var = np.array([[np.radians(3.0) ** 2]])
                busy.process(Scan(1, t, elsewhere, var, FINDER))
                busy.housekeep(t + 0.5 / steps)
        plain.process(radar)
        busy.process(radar)
        a, b = plain.tracks, busy.tracks
        assert a.n == b.n
        np.testing.assert_array_equal(a.track_id[: a.n], b.track_id[: b.n])
        np.testing.assert_allclose(a.x[: a.n], b.x[: b.n], rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(a.P[: a.n], b.P[: b.n], rtol=1e-9, atol=1e-6)
        turning = max(turning, float(a.mode_p[: a.n, 1].max(initial=0.0)))
    assert turning > 0.3  # the turn engaged the manoeuvre mode: the modes mattered


def test_scans_must_arrive_in_time_order() -> None:
    trk = tracker()
    rng = np.random.default_rng(5)
    trk.process(scan(T0 + 1, np.zeros((0, 3)), rng))
    try:
        trk.process(scan(T0, np.zeros((0, 3)), rng))
    except ValueError as exc:
        assert "older" in str(exc)
    else:
        raise AssertionError("a scan older than the tracker time was accepted")


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(-30.0, 30.0), min_size=1, max_size=6),
    st.lists(st.floats(0.0, 360.0, exclude_max=True), min_size=1, max_size=6),
)
def test_gating_across_north_equals_the_full_mahalanobis_test(
    track_az: list[float], det_az: list[float]
) -> None:
    """Tracks just either side of north, detections anywhere in [0, 360): the cheap pre-gate
    never drops a pair the exact wrapped Mahalanobis test keeps, nor keeps one it drops."""
    az = np.radians(track_az)
    x = np.zeros((len(az), 6))
    x[:, 0], x[:, 1], x[:, 2] = 1500 * np.sin(az), 1500 * np.cos(az), 100.0
    P = np.broadcast_to(np.diag([400.0, 400.0, 100.0, 25.0, 25.0, 4.0]), (len(az), 6, 6)).copy()
    z = np.column_stack(
        [np.full(len(det_az), 1500.0), np.radians(det_az), np.full(len(det_az), 0.066)]
    )
    s = Scan(0, 0.0, z, np.broadcast_to(SIGMA**2, z.shape).copy(), MODEL)
    threshold = gate_threshold(0.999, 3)
    hyps = hypothesise(x, P, s, threshold)
    zhat, H = MODEL.predict(x)
    expected = set()
    for i in range(len(az)):
        for j in range(len(det_az)):
            y = MODEL.residual(z[j], zhat[i])
            S = H[i] @ P[i] @ H[i].T + np.diag(SIGMA**2)
            if y @ np.linalg.solve(S, y) < threshold:
                expected.add((i, j))
    assert set(zip(hyps.track.tolist(), hyps.det.tolist(), strict=True)) == expected


def route(names: list[str | None], held: list[str | None], pairs: list[tuple[int, int]]) -> set:
    """The (track, bearing) pairs `route_by_emitter` keeps of a finder's scan naming `names`,
    for firm tracks holding `held`."""
    track, det = (np.array(x, dtype=np.intp) for x in zip(*pairs, strict=True))
    p = len(pairs)
    hyps = Hypotheses(
        track, det, np.ones(p), np.zeros((p, 1)), np.ones((p, 1, 1)), np.zeros((p, 1, 6))
    )
    emitters = EmitterCodes.of(names)
    kept = route_by_emitter(
        emitters,
        emitters.held(np.array(held, dtype=object)),
        hyps,
        np.ones(len(held), bool),
        len(names),
    )
    return set(zip(kept.track.tolist(), kept.det.tolist(), strict=True))


def test_a_young_bearings_only_track_owns_its_link_unless_a_placed_track_gates_it() -> None:
    """`unplaced_holders`, which the tracker asks while no radar is at work. Tracks: 0 and 1
    young and bearings-only, holding links A and B; 2 young but once placed by a radar,
    holding C; 3 firm and radar-placed, holding nothing, with B's bearing in its gate. Only
    track 0 owns its link's bearings: B's may be track 3's, and C's holder was placed."""
    names = ["A", "B", "C"]
    pairs = [(0, 0), (1, 1), (3, 1), (2, 2)]
    track, det = (np.array(x, dtype=np.intp) for x in zip(*pairs, strict=True))
    p = len(pairs)
    raw = Hypotheses(
        track, det, np.ones(p), np.zeros((p, 1)), np.ones((p, 1, 1)), np.zeros((p, 1, 6))
    )
    emitters = EmitterCodes.of(names)
    holds = emitters.held(np.array(["A", "B", "C", None], dtype=object))
    firm = np.array([False, False, False, True])
    placed = np.array([False, False, True, True])
    owners = unplaced_holders(firm, placed, holds, emitters, raw)
    assert owners.tolist() == [True, False, False, False]
    assert not unplaced_holders(firm, placed, np.zeros(4, np.int64), emitters, raw).any()


def test_a_track_whose_own_emitter_a_finder_hears_takes_no_other_emitters_bearing() -> None:
    """A finder hears the friendly patrol's link and, on nearly the same bearing, a hidden
    drone's: the patrol's track, its own link's bearing in its gate, does not take the other
    (which stays free to start the hidden drone's track). Without its own link in the scan,
    the other bearing stays paired (identity's rule 3 may rename a wrongly bound track)."""
    both = route(["PATROL", "HIDDEN"], ["PATROL"], [(0, 0), (0, 1)])
    assert both == {(0, 0)}
    alone = route(["HIDDEN"], ["PATROL"], [(0, 0)])
    assert alone == {(0, 0)}
    unnamed = route(["PATROL", None], ["PATROL"], [(0, 0), (0, 1)])
    assert unnamed == {(0, 0), (0, 1)}  # a bearing naming no emitter is anyone's


def test_a_bearing_two_placed_tracks_gate_moves_neither() -> None:
    """`cannot_tell_apart`: bearing 0 falls in the gates of placed tracks 0 and 1 and was
    routed to track 0, which holds its emitter; bearing 1 in the gates of placed track 2 and
    of track 3, which no radar placed; bearing 2 in track 1's alone. Only the first pair is
    held back: one placed track is no rival, and a track no radar placed keeps its bearings."""
    pairs = [(0, 0), (1, 0), (2, 1), (3, 1), (1, 2)]
    track, det = (np.array(x, dtype=np.intp) for x in zip(*pairs, strict=True))
    p = len(pairs)
    raw = Hypotheses(
        track, det, np.ones(p), np.zeros((p, 1)), np.ones((p, 1, 1)), np.zeros((p, 1, 6))
    )
    kept = raw.subset(np.array([True, False, True, True, True]))  # routed by emitter id
    placed = np.array([True, True, True, False])
    assert cannot_tell_apart(raw, kept, placed, 3).tolist() == [True, False, False, False]
    assert cannot_tell_apart(raw, raw.subset(np.zeros(p, bool)), placed, 3).size == 0


def finder_bearing(t: float, target: np.ndarray, emitter: str) -> Scan:
    """One noiseless bearing of `target` from `FINDER`, naming `emitter`."""
    z, _ = FINDER.predict(np.r_[target, np.zeros(3)][None])
    none = Labels.none(1)
    labels = Labels(none.class_probs, none.rcs_dbsm, [None], [emitter])
    return Scan(1, t, z, np.array([[np.radians(3.0) ** 2]]), FINDER, labels)


@pytest.fixture(params=[True, False])
def kernels_on(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """The test once with the compiled kernels and once with their numpy reference."""
    monkeypatch.setattr(kernels, "ENABLED", request.param)
    return request.param


def radar_tracks(drones: np.ndarray) -> tuple[Tracker, np.random.Generator]:
    """A tracker (a radar and a finder) after 8 s of radar scans of `drones`, each now held
    by a firm track; and the noise's generator, to go on."""
    rng = np.random.default_rng(4)
    trk = tracker(n_sensors=2)
    for k in range(8):
        trk.process(scan(T0 + k, drones, rng))
    assert (trk.tracks.status[: trk.tracks.n] != TENTATIVE).sum() == len(drones)
    return trk, rng


def firm_track_nearest(trk: Tracker, position: np.ndarray) -> int:
    """The row of the firm track nearest `position`."""
    table = trk.tracks
    firm = np.flatnonzero(table.status[: table.n] != TENTATIVE)
    return int(firm[np.linalg.norm(table.x[firm, :3] - position, axis=1).argmin()])


def test_a_radar_track_holding_a_neighbours_link_is_not_pulled_onto_it(kernels_on: bool) -> None:
    """Two drones of a swarm 40 m apart, 1.8 km out, each held by the radar; the track of B
    holds A's link (bound while the radar saw them as one). A's bearing, 3 degrees wide, falls
    in both tracks' gates: it names the emitter but cannot say which track is A, so it moves
    neither, and B's track keeps the id. With A unseen by the radar (a drone too small for
    it), the same bearing in B's gate alone updates B's track. Either way the finder heard
    the track's emitter there, and the lifecycle counts its look (`TrackTable.last_hit`)."""
    a, b = np.array([0.0, 1800.0, 100.0]), np.array([40.0, 1800.0, 100.0])
    for radar_sees_a, moved in ((True, False), (False, True)):
        trk, _ = radar_tracks(np.array([a, b]) if radar_sees_a else b[None])
        table = trk.tracks
        row = firm_track_nearest(trk, b)
        table.emitter_id[row] = "ELRS-A"
        trk.process(finder_bearing(T0 + 7.5, a, "ELRS-A"))
        assert (table.t_update[row] == T0 + 7.5) == moved, radar_sees_a
        assert table.last_hit[row, 1] == T0 + 7.5, radar_sees_a
        assert table.emitter_id[row] == "ELRS-A"


def test_a_radar_track_its_links_bearings_single_out_takes_them_despite_a_neighbour(
    kernels_on: bool,
) -> None:
    """Two drones of a swarm 150 m apart, 1.8 km out, each held by the radar. A's bearings
    fall in both tracks' gates. Where A's own track holds A's link, they fit it better than
    B's each time: the first few move neither track, and once their record vouches for the
    holder (`EmitterIds.vouched`) they update it. Where B's track holds A's link, the same
    bearings fit the neighbour better, and never move it."""
    a, b = np.array([0.0, 1800.0, 100.0]), np.array([150.0, 1800.0, 100.0])
    for holder, moves in ((a, True), (b, False)):
        trk, rng = radar_tracks(np.array([a, b]))
        table = trk.tracks
        row = firm_track_nearest(trk, holder)
        table.emitter_id[row] = "ELRS-A"
        moved = []
        for k in range(8):
            t = T0 + 7.5 + k
            trk.process(finder_bearing(t, a, "ELRS-A"))
            moved.append(bool(table.t_update[row] == t))
            trk.process(scan(T0 + 8 + k, np.array([a, b]), rng))
        assert not moved[0], holder
        assert moved[-1] == moves, (holder, moved)
        assert any(moved) == moves, (holder, moved)
        if moves:  # (the wrong holder, which they pass on one side, loses it: `check`)
            assert table.emitter_id[row] == "ELRS-A"


# --- a radar track's echo -----------------------------------------------------------


def test_only_a_plot_well_inside_its_gate_makes_a_firm_bearings_only_track_an_echo(
    kernels_on: bool,
) -> None:
    """Track 0 a radar placed takes plot 0, which also falls in the gate of track 1, made of
    bearings alone. Near the middle of a firm track 1's gate (its echo gate, as the tracker
    narrows it) the plot says track 1 is track 0's echo (shadowed); at its edge (a passing
    swarm's plot at the rim of a hidden drone's wide gate) it says nothing of the kind. A
    tentative track 1 (no echo gate: the whole gate) is shadowed anywhere in its gate. Track
    0 is crowded by neither."""
    gate = gate_threshold(ECHO_PROBABILITY, 3)
    placed = np.array([True, False])
    cases = [
        (gate, 2.0, True),
        (gate, gate - 0.5, True),
        (gate, gate + 0.5, False),
        (gate, 16.0, False),
        (np.inf, 16.0, True),
    ]
    for echo, d2, shadow in cases:
        raw = Hypotheses(
            np.array([0, 1]),
            np.array([0, 0]),
            np.array([1.0, d2]),
            np.zeros((2, 3)),
            np.zeros((2, 3, 3)),
            np.zeros((2, 3, 6)),
        )
        assigned = raw.subset(np.array([True, False]))
        shadowed, crowded = _plots_elsewhere(raw, assigned, placed, np.array([np.inf, echo]))
        assert shadowed.tolist() == [False, shadow], (echo, d2)
        assert not crowded.any()
