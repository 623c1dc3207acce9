"""Emitter ids against the radar: a track the radar keeps seeing to one side of it loses the
emitter id whose bearings drag it there (`EmitterIds.check_radar`), takes no more bearings
of any emitter it lost (`EmitterIds.check`), and takes the bearings a neighbour's track
gates too only once their record says the emitter is its own (`EmitterIds.vouched`)."""

from __future__ import annotations

import numpy as np
import pytest
from support.sites import all_round_site

from cuas.geodesy import LocalFrame
from cuas.tracking.emitter_codes import EmitterCodes
from cuas.tracking.emitter_ids import (
    ODDS_HALF_LIFE_S,
    ODDS_MARGIN,
    ODDS_STEP,
    RADAR_LEAN_SIGMAS,
    RADAR_MEMORY,
    EmitterIds,
)
from cuas.tracking.gating import Hypotheses
from cuas.tracking.measurements import BearingModel
from cuas.tracking.scan import Labels, Scan
from cuas.tracking.tracks import BARRED_SLOTS, TrackTable

SIGMA = np.sqrt((1.0 - RADAR_MEMORY) / (1.0 + RADAR_MEMORY))  # the running mean's own sigma


def holder(name: str | None = "ELRS-0002") -> TrackTable:
    """One track, holding emitter id `name`."""
    table = TrackTable(n_sensors=2)
    table.add(np.zeros((1, 6)), np.eye(6)[None], 0.0, 0)
    table.emitter_id[0] = name
    return table


def plot(azimuth_sigmas: float) -> Hypotheses:
    """A radar plot given to track 0, `azimuth_sigmas` of its innovation's sigma off in
    azimuth (and on it in range and elevation)."""
    S = np.diag([25.0, 4e-4, 4e-4])[None]
    y = np.array([[0.0, azimuth_sigmas * 0.02, 0.0]])
    return Hypotheses(
        np.zeros(1, np.intp), np.zeros(1, np.intp), np.ones(1), y, S, np.zeros((1, 3, 6))
    )


def ids() -> EmitterIds:
    return EmitterIds(misfit_share=0.5, memory=0.7, evidence=None, claims=None)


def test_a_track_the_radar_sees_to_one_side_loses_the_emitter_dragging_it() -> None:
    """Bearings of a neighbour's emitter hold a swarm member's track 1.5 sigmas off it in
    azimuth, plot after plot: the id goes, and the track may take no more of its bearings."""
    table, stage = holder(), ids()
    n = int(np.ceil(np.log(1.0 - RADAR_LEAN_SIGMAS * SIGMA / 1.5) / np.log(RADAR_MEMORY)))
    for _ in range(n - 1):
        assert stage.check_radar(table, plot(1.5)) == []
    assert table.emitter_id[0] == "ELRS-0002"
    assert stage.check_radar(table, plot(1.5)) == [0]
    assert table.emitter_id[0] is None and table.barred_emitter[0, 0] == "ELRS-0002"
    assert table.radar_lean[0] == 0.0


@pytest.mark.parametrize("seed", range(3))
def test_a_track_on_its_target_keeps_its_emitter(seed: int) -> None:
    """Plots scattered about the track, for an hour of 2 s scans, never release it."""
    rng = np.random.default_rng(seed)
    table, stage = holder(), ids()
    for z in rng.normal(0.0, 1.0, 1800):
        assert stage.check_radar(table, plot(float(z))) == []
    assert table.emitter_id[0] == "ELRS-0002"


def test_a_track_holding_no_emitter_is_not_watched() -> None:
    table, stage = holder(None), ids()
    for _ in range(100):
        assert stage.check_radar(table, plot(3.0)) == []
    assert table.radar_lean[0] == 0.0


def test_a_track_its_drone_s_remote_id_places_keeps_its_emitter() -> None:
    """A track holding a Remote ID serial sits where the drone reports itself: a radar lean
    there is the radar against those reports, not bearings dragging it (random camp 264: the
    friendly patrol's track lost its link 20 s in)."""
    table, stage = holder(), ids()
    table.uas_id[0] = "UN-PKO-0001"
    for _ in range(100):
        assert stage.check_radar(table, plot(3.0)) == []
    assert table.emitter_id[0] == "ELRS-0002"


def dragged_off(table: TrackTable, stage: EmitterIds) -> None:
    """Radar plots 1.5 sigmas to one side of track 0 until it loses its emitter id."""
    for _ in range(1000):
        if stage.check_radar(table, plot(1.5)):
            return
    raise AssertionError("never released")


def bearings(names: list[str]) -> tuple[Scan, Hypotheses]:
    """A finder's scan of one bearing per emitter of `names`, each in track 0's gate."""
    finder = BearingModel(all_round_site(LocalFrame(8.65, 24.50, 600.0), 0.0, 0.0, 10.0))
    k = len(names)
    none = Labels.none(k)
    labels = Labels(none.class_probs, none.rcs_dbsm, [None] * k, list(names))
    scan = Scan(1, 10.0, np.zeros((k, 1)), np.full((k, 1), 1e-3), finder, labels)
    pairs = Hypotheses(
        np.zeros(k, np.intp),
        np.arange(k, dtype=np.intp),
        np.ones(k),
        np.zeros((k, 1)),
        np.full((k, 1, 1), 2e-3),
        np.zeros((k, 1, 6)),
    )
    return scan, pairs


def test_a_track_takes_no_bearing_of_any_emitter_it_lost() -> None:
    """A track that lost one emitter id and then another stays barred from both: the second
    bar does not lift the first (with one bar per track, a refused claim on another emitter
    lifted the bar on the first 15 times on random camps 0-29, 4 of them the hidden drone's).
    Only the oldest bar goes, once `BARRED_SLOTS` are taken."""
    table, stage = holder(), ids()
    lost = [f"ELRS-{i:04d}" for i in range(2, 3 + BARRED_SLOTS)]
    for name in lost:
        table.emitter_id[0] = name
        dragged_off(table, stage)
    scan, pairs = bearings([*lost, "ELRS-9999"])
    emitters = EmitterCodes.of(scan.labels.emitter_id)
    kept, released = stage.check(table, scan, pairs, 9.0, emitters)
    assert released == []
    # The first lost is the oldest bar, gone; the bearing of an emitter never held is free.
    assert [lost[d] if d < len(lost) else "ELRS-9999" for d in kept.det.tolist()] == [
        lost[0],
        "ELRS-9999",
    ]


def unheard(table: TrackTable, stage: EmitterIds, scans: int) -> list[int]:
    """`scans` finder scans, each with one bearing of track 0's emitter outside its gate;
    returns the rows released."""
    table.x[0, :3] = (500.0, 500.0, 50.0)  # where the finder hears it (it is all round)
    scan, _ = bearings(["ELRS-0002"])
    emitters = EmitterCodes.of(scan.labels.emitter_id)
    released: list[int] = []
    for _ in range(scans):
        released += stage.check(table, scan, Hypotheses.empty(1), 9.0, emitters)[1]
    return released


def test_a_track_its_emitter_s_bearings_keep_missing_loses_it() -> None:
    """Two bearings of its emitter outside its gate in a row: the emitter is elsewhere."""
    table, stage = holder(), ids()
    assert unheard(table, stage, 2) == [0]
    assert table.emitter_id[0] is None and table.barred_emitter[0, 0] == "ELRS-0002"


def test_a_track_its_drone_s_remote_id_places_keeps_its_emitter_against_bearings() -> None:
    """The drone's own reports place the track to metres: bearings outside its gate there
    are the finder's noise (random camps 25, 37, 50, 56, 72, 85 and 87: the friendly
    patrol's Remote ID track lost its link to two such bearings in its first minute, from
    finders up to 1.5 times noisier than configured)."""
    table, stage = holder(), ids()
    table.uas_id[0] = "UN-PKO-0001"
    assert unheard(table, stage, 20) == []
    assert table.emitter_id[0] == "ELRS-0002"


def shared_bearing(t: float, holder_d2: float, rival_d2: float) -> tuple[Scan, Hypotheses]:
    """A finder's bearing at `t` routed to track 0 (its emitter's holder) that track 1's gate
    holds too, at squared distances `holder_d2` and `rival_d2` (the same innovation
    covariance): the scan's gated pairs."""
    scan, _ = bearings(["ELRS-0002"])
    scan = Scan(scan.sensor, t, scan.z, scan.var, scan.model, scan.labels)
    raw = Hypotheses(
        np.array([0, 1], np.intp),
        np.zeros(2, np.intp),
        np.array([holder_d2, rival_d2]),
        np.zeros((2, 1)),
        np.full((2, 1, 1), 2e-3),
        np.zeros((2, 1, 6)),
    )
    return scan, raw


def two_tracks() -> TrackTable:
    table = holder()
    table.add(np.zeros((1, 6)), np.eye(6)[None], 0.0, 0)
    return table


def test_a_holder_is_vouched_for_once_its_bearings_have_fitted_it_better_than_its_rival() -> None:
    """Each bearing moves the holder's log odds by half the difference of the two squared
    distances, at most `ODDS_STEP`; a pair is vouched for by the odds before its own scan.
    The odds halve every `ODDS_HALF_LIFE_S`, and start over when the track's id changes."""
    table, stage = two_tracks(), ids()
    both = np.array([True, True])

    def vouched(t: float, holder_d2: float, rival_d2: float) -> bool:
        scan, raw = shared_bearing(t, holder_d2, rival_d2)
        return stage.vouched(table, scan, raw, raw.subset(np.array([True, False])), both).item()

    assert not vouched(1.0, 0.0, 2.0)  # odds 0 before, 1 after
    assert table.emitter_odds[0] == pytest.approx(1.0)
    assert not vouched(1.0, 0.0, 100.0)  # a bearing far from the rival counts `ODDS_STEP`
    assert table.emitter_odds[0] == pytest.approx(1.0 + ODDS_STEP)
    assert vouched(1.0, 0.0, 0.0)  # 5 before: at least `ODDS_MARGIN`
    assert not vouched(1.0 + ODDS_HALF_LIFE_S, 9.0, 0.0)  # halved to 2.5, then less 4
    assert table.emitter_odds[0] == pytest.approx(2.5 - ODDS_STEP)
    assert ODDS_MARGIN > 2.5
    dragged = two_tracks()
    dragged.emitter_odds[0] = 10.0
    dragged_off(dragged, stage)  # the id released
    assert dragged.emitter_odds[0] == 0.0
