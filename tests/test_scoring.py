"""Scoring against truth: GOSPA and its decomposition, pairing with truth in time, id switches."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cuas.io.recording import RecordingWriter
from cuas.wire import Track, TrackCycle
from simulators.scoring import (
    Snapshot,
    TruthFrame,
    TruthTarget,
    _dense_assignment,
    gospa,
    read_track_snapshots,
    read_truth,
    score,
    score_replay,
    snapshots_from_rows,
)

ORIGIN = [0.0, 0.0, 0.0]


def snap(t: float, ids: list, points: list, vel: list | None = None) -> Snapshot:
    enu = np.array(points, dtype=float).reshape(-1, 3)
    v = None if vel is None else np.array(vel, dtype=float).reshape(-1, 3)
    return Snapshot(t, tuple(ids), enu, v)


# --- GOSPA by hand --------------------------------------------------------------------


def test_one_truth_one_track_10_m_apart_scores_10() -> None:
    g = gospa([[0, 0, 0]], [[6, 8, 0]])
    assert g.value == pytest.approx(10.0)
    assert (g.localisation, g.missed, g.false) == (pytest.approx(10.0), 0.0, 0.0)
    assert g.pairs == [(0, 0)]


def test_a_missed_target_costs_c_over_alpha() -> None:
    g = gospa([[0, 0, 0]], np.empty((0, 3)), c=100.0, p=1, alpha=2)
    assert g.value == pytest.approx(50.0)
    assert (g.missed, g.false, g.n_missed, g.n_false) == (50.0, 0.0, 1, 0)


def test_a_false_track_costs_c_over_alpha() -> None:
    g = gospa(np.empty((0, 3)), [[100, 200, 50]])
    assert g.value == pytest.approx(50.0)
    assert (g.missed, g.false, g.n_missed, g.n_false) == (0.0, 50.0, 0, 1)


def test_a_track_beyond_the_cutoff_is_one_miss_plus_one_false() -> None:
    g = gospa([[0, 0, 0]], [[150, 0, 0]])
    assert g.value == pytest.approx(100.0)
    assert (g.localisation, g.missed, g.false) == (0.0, 50.0, 50.0)
    assert g.pairs == []


def test_pairs_are_assigned_optimally_not_greedily() -> None:
    # Greedy would take the closest pair first (truth 0 - track 0, 4 m) and be left with
    # truth 1 - track 1 at 16 m: 20 in all. The optimum crosses over: 6 + 6 = 12.
    truth = [[0, 0, 0], [10, 0, 0]]
    tracks = [[4, 0, 0], [-6, 0, 0]]
    g = gospa(truth, tracks)
    assert g.value == pytest.approx(12.0)
    assert sorted(g.pairs) == [(0, 1), (1, 0)]


def test_order_p_two_adds_squared_errors() -> None:
    g = gospa([[0, 0, 0], [500, 0, 0]], [[3, 4, 0]], c=100.0, p=2)
    assert g.localisation == pytest.approx(25.0)
    assert g.missed == pytest.approx(100.0**2 / 2)
    assert g.value == pytest.approx(np.sqrt(25.0 + 5000.0))


def test_empty_sets_are_at_distance_zero() -> None:
    assert gospa(np.empty((0, 3)), np.empty((0, 3))).value == 0.0


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        gospa([[0, 0, 0]], [[0, 0, 0]], c=0.0)
    with pytest.raises(ValueError):
        gospa([[0, 0, 0]], [[0, 0, 0]], alpha=3)


# --- GOSPA properties -------------------------------------------------------------------

# Quarter-metre grid: exact arithmetic, and ties (equal distances) are common.
coords = st.integers(-1200, 1200).map(lambda k: k / 4)
point_sets = st.integers(0, 7).flatmap(lambda n: arrays(np.float64, (n, 3), elements=coords))


@settings(max_examples=200, deadline=None)
@given(point_sets, point_sets)
def test_gospa_is_symmetric(a: np.ndarray, b: np.ndarray) -> None:
    ab, ba = gospa(a, b), gospa(b, a)
    assert ab.value == pytest.approx(ba.value, abs=1e-9)
    assert ab.missed == pytest.approx(ba.false) and ab.false == pytest.approx(ba.missed)


@settings(max_examples=200, deadline=None)
@given(point_sets, point_sets)
def test_gospa_is_zero_only_for_identical_sets(a: np.ndarray, b: np.ndarray) -> None:
    assert gospa(a, a[::-1]).value == 0.0
    identical = sorted(map(tuple, a)) == sorted(map(tuple, b))
    assert (gospa(a, b).value == 0.0) == identical


@settings(max_examples=200, deadline=None)
@given(point_sets, point_sets, st.sampled_from([1, 2]))
def test_gospa_is_bounded_by_c_over_alpha_per_element(a: np.ndarray, b: np.ndarray, p: int) -> None:
    c = 100.0
    g = gospa(a, b, c=c, p=p)
    assert g.value**p <= c**p / 2 * (len(a) + len(b)) + 1e-6
    assert g.value**p == pytest.approx(g.localisation + g.missed + g.false)
    assert len(g.pairs) + g.n_missed == len(a) and len(g.pairs) + g.n_false == len(b)


@settings(max_examples=200, deadline=None)
@given(point_sets, point_sets, point_sets)
def test_gospa_obeys_the_triangle_inequality(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
    assert gospa(a, c).value <= gospa(a, b).value + gospa(b, c).value + 1e-6


@settings(max_examples=200, deadline=None)
@given(point_sets, point_sets)
def test_clustered_assignment_matches_one_dense_assignment(a: np.ndarray, b: np.ndarray) -> None:
    """The per-cluster solver used for large frames finds the same optimum as one dense solve."""
    c = 100.0
    g = gospa(a, b, c=c)
    if len(a) and len(b):
        rows, cols = _dense_assignment(a, b, c, 1)
        d = np.minimum(np.linalg.norm(a[rows] - b[cols], axis=1), c)
        dense = d.sum() + c / 2 * (len(a) + len(b) - 2 * len(rows))
        assert g.value == pytest.approx(dense, abs=1e-6)


def test_alpha_below_two_is_the_general_formula() -> None:
    # One pair 10 m apart plus one unmatched truth: 10 + c/alpha.
    g = gospa([[0, 0, 0], [1000, 0, 0]], [[10, 0, 0]], c=100.0, alpha=1.0)
    assert g.value == pytest.approx(10 + 100.0)


# --- scoring over time --------------------------------------------------------------------


def test_a_perfect_tracker_scores_zero() -> None:
    truth = [snap(t, ["a", "b"], [[t, 0, 0], [0, 500 + t, 0]]) for t in range(5)]
    tracks = [snap(t, [1, 2], [[t, 0, 0], [0, 500 + t, 0]]) for t in range(5)]
    s = score(truth, tracks)
    assert (s.cycles, s.mean_gospa, s.id_switches, s.mean_position_error_m) == (5, 0.0, 0, 0.0)
    assert s.truth_targets == 2 and s.mean_truths == 2.0 and s.mean_tracks == 2.0


def test_mean_gospa_and_mean_position_error_over_cycles() -> None:
    truth = [snap(0, ["a"], [ORIGIN]), snap(1, ["a"], [ORIGIN])]
    tracks = [snap(0, [1], [[10, 0, 0]]), snap(1, [], [])]  # 10 m off, then missed
    s = score(truth, tracks)
    assert s.mean_gospa == pytest.approx((10 + 50) / 2)
    assert s.mean_missed == pytest.approx(25.0)
    assert s.mean_position_error_m == pytest.approx(10.0)
    assert s.assigned_pairs == 1


def test_an_id_switch_is_counted_once() -> None:
    truth = [snap(t, ["a"], [ORIGIN]) for t in range(6)]
    ids = [7, 7, 7, 9, 9, 9]
    tracks = [snap(t, [i], [[1, 0, 0]]) for t, i in enumerate(ids)]
    assert score(truth, tracks).id_switches == 1


def test_a_gap_is_not_a_switch_but_reacquiring_with_a_new_id_is() -> None:
    truth = [snap(t, ["a"], [ORIGIN]) for t in range(5)]
    same = [snap(0, [7], [ORIGIN]), snap(1, [], []), snap(2, [7], [ORIGIN])]
    assert score(truth, same).id_switches == 0
    new = [snap(0, [7], [ORIGIN]), snap(1, [], []), snap(2, [8], [ORIGIN])]
    assert score(truth, new).id_switches == 1


def test_two_tracks_swapping_targets_is_two_switches() -> None:
    truth = [snap(t, ["a", "b"], [ORIGIN, [1000, 0, 0]]) for t in range(2)]
    tracks = [snap(0, [1, 2], [ORIGIN, [1000, 0, 0]]), snap(1, [2, 1], [ORIGIN, [1000, 0, 0]])]
    assert score(truth, tracks).id_switches == 2


def test_truth_is_moved_to_the_cycle_time_along_its_velocity() -> None:
    truth = [snap(0.0, ["a"], [ORIGIN], vel=[[10, 0, 0]])]
    tracks = [snap(0.3, [1], [[3, 0, 0]])]
    s = score(truth, tracks, max_dt=0.5)
    assert s.cycles == 1 and s.mean_gospa == pytest.approx(0.0, abs=1e-9)


def test_cycles_far_from_any_truth_or_outside_the_window_are_not_scored() -> None:
    truth = [snap(float(t), ["a"], [ORIGIN]) for t in range(3)]
    tracks = [snap(t, [1], [ORIGIN]) for t in (0.0, 1.0, 2.0, 7.0)]
    s = score(truth, tracks)
    assert (s.cycles, s.skipped_cycles) == (3, 1)
    assert score(truth, tracks, t_min=0.5, t_max=1.5).cycles == 1


def test_rows_of_another_tracker_group_into_snapshots() -> None:
    rows = [(1.0, "x", [0, 0, 0]), (0.0, "x", [1, 1, 1]), (1.0, "y", [5, 5, 5])]
    snaps = snapshots_from_rows(rows)
    assert [s.t for s in snaps] == [0.0, 1.0]
    assert snaps[1].ids == ("x", "y") and snaps[1].enu.shape == (2, 3)


# --- files ------------------------------------------------------------------------------


def _track(track_id: int, t: float, enu: list[float], status: str) -> Track:
    return Track(
        track_id=track_id,
        t=t,
        status=status,  # type: ignore[arg-type]
        lat=8.65,
        lon=24.5,
        alt_m=600.0,
        enu=enu,
        vel_enu=[0.0, 0.0, 0.0],
        pos_sigma_m=5.0,
        class_="drone",
        class_probs={"drone": 1.0},
        threat="none",
        sensors=["radar-1"],
        friendly=False,
        uas_id=None,
        t_update=t,
    )


def test_a_replay_output_is_scored_on_confirmed_and_coasting_tracks_only(tmp_path) -> None:
    truth_path, replay_path = tmp_path / "truth.msgpack", tmp_path / "out.msgpack"
    with RecordingWriter(truth_path) as w:
        for t in (100.0, 101.0):
            target = TruthTarget("t0001", [0.0, 0.0, 50.0], [0.0, 0.0, 0.0])
            w.write(t, "truth", TruthFrame(v=1, t=t, targets=[target]))
    with RecordingWriter(replay_path) as w:
        w.write(100.0, "alert", {"v": 1})
        for t, status in ((100.0, "confirmed"), (101.0, "coasting")):
            tracks = [_track(1, t, [3.0, 4.0, 50.0], status), _track(2, t, [0, 0, 50], "tentative")]
            w.write(t, "tracks", TrackCycle(v=1, t=t, tracks=tracks))
    assert [len(s) for s in read_track_snapshots(replay_path)] == [1, 1]
    assert read_truth(truth_path)[0].ids == ("t0001",)
    s = score_replay(truth_path, replay_path)
    assert (s.cycles, s.mean_gospa, s.id_switches) == (2, pytest.approx(5.0), 0)


def test_a_simulated_scenario_scores_zero_against_its_own_truth(tmp_path) -> None:
    from simulators.benchmark_scenarios import write_ncv_radar_scenario

    files = write_ncv_radar_scenario(tmp_path, n_targets=3, duration_s=5.0, seed=1)
    truth = read_truth(files.truth)
    assert [len(s) for s in truth] == [3] * 5
    assert truth[1].t - truth[0].t == pytest.approx(1.0)
    perfect = [Snapshot(s.t, s.ids, s.enu) for s in truth]
    s = score(truth, perfect)
    assert (s.cycles, s.mean_gospa, s.id_switches, s.truth_targets) == (5, 0.0, 0, 3)
