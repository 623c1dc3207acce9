"""The radar's veto on tracks that lines of sight alone keep alive, and who lifts it; when
lines of sight alone confirm a track; how long a track the picture calls a bird coasts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cuas.tracking import kernels
from cuas.tracking.lifecycle import LifecycleRules, vouch
from cuas.tracking.tracks import COASTING, CONFIRMED, TENTATIVE, TrackTable

RADAR, FINDER_A, FINDER_B, CAMERA_A, CAMERA_B = range(5)
LOCALISING = np.array([True, False, False, False, False])
HEARING = np.array([False, True, True, False, False])
T = 100.0
RULES = LifecycleRules(
    confirm_m=3, confirm_n=5, coast_after_s=3.0, delete_after_s=8.0, max_pos_sigma_m=2000.0
)


def veto_spares(
    hit_by: list[int],
    emitter: str | None = "E7",
    earlier: dict[int, float] | None = None,
    status: int = CONFIRMED,
    shadowed: bool = False,
) -> bool:
    """Whether a track (`status`) that `hit_by` updated a second ago and the sensors of
    `earlier` that many seconds ago, holding `emitter`, survives a radar that has looked at
    it three times and seen nothing (`shadowed`: a plot in its gate went to a radar track)."""
    table = TrackTable(n_sensors=5)
    table.add(
        np.array([[1500.0, 800.0, 60.0, 5.0, 0.0, 0.0]]), np.eye(6)[None] * 400.0, T - 30, CAMERA_A
    )
    table.t_update[0] = T - 1.0
    table.last_hit[0, hit_by] = T - 1.0
    for sensor, ago in (earlier or {}).items():
        table.last_hit[0, sensor] = T - ago
    table.status[0] = status
    table.shadowed[0] = shadowed
    table.unseen[0] = RULES.radar_veto_scans
    table.emitter_id[0] = emitter
    _, doomed = RULES.apply(table, T, None, LOCALISING, HEARING, None)
    return not doomed[0]


@pytest.fixture(params=["kernels", "numpy"])
def path(request, monkeypatch):
    monkeypatch.setattr(kernels, "ENABLED", request.param == "kernels" and kernels.ENABLED)
    return request.param


def test_two_finders_hearing_its_emitter_lift_the_veto(path) -> None:
    assert veto_spares([FINDER_A, FINDER_B])


def test_one_finder_and_two_cameras_lift_it_three_sites_meet_there(path) -> None:
    assert veto_spares([FINDER_A, CAMERA_A, CAMERA_B])


def test_one_finder_and_one_camera_do_not(path) -> None:
    assert not veto_spares([FINDER_A, CAMERA_A])


def test_two_cameras_without_a_transmitter_do_not(path) -> None:
    assert not veto_spares([CAMERA_A, CAMERA_B], emitter=None)
    assert not veto_spares([CAMERA_A, CAMERA_B])  # an emitter id no finder hears now


def test_a_firm_transmitters_finders_count_within_heard_s(path) -> None:
    """A finder misses a drone for seconds at a time: on a firm bearings-only track, a
    finder's bearing counts within `heard_s` (random camp 282: the hidden drone's track, 120 m
    from it, died of one finder's 5 s silence; camps 8 and 288: two cameras held it to 10-20 m
    and the one finder had last heard it 5.1 s before)."""
    assert veto_spares([FINDER_A], earlier={FINDER_B: 8.0})
    assert veto_spares([CAMERA_A, CAMERA_B], earlier={FINDER_A: 8.0})
    assert not veto_spares([FINDER_A], earlier={FINDER_B: RULES.heard_s + 1.0})
    assert not veto_spares([CAMERA_A], earlier={FINDER_A: 8.0})


def test_and_so_do_its_cameras(path) -> None:
    """A camera misses a far drone now and then too (random camp 8, one finder: the hidden
    drone's track died 37 m from it, its second camera's last sighting 5.0 s old)."""
    assert veto_spares([FINDER_A, CAMERA_A], earlier={CAMERA_B: 8.0})
    assert not veto_spares([FINDER_A, CAMERA_A], earlier={CAMERA_B: RULES.heard_s + 1.0})
    assert not veto_spares([FINDER_A, CAMERA_A], earlier={CAMERA_B: 8.0}, status=TENTATIVE)
    assert not veto_spares([FINDER_A, CAMERA_A], earlier={CAMERA_B: 8.0}, shadowed=True)


def test_but_not_a_tentative_track_one_a_radar_placed_or_another_tracks_echo(path) -> None:
    assert not veto_spares([FINDER_A], earlier={FINDER_B: 8.0}, status=TENTATIVE)
    assert not veto_spares([FINDER_A], earlier={FINDER_B: 8.0, RADAR: 40.0})
    assert not veto_spares([FINDER_A], earlier={FINDER_B: 8.0}, shadowed=True)
    assert not veto_spares([CAMERA_A, CAMERA_B], earlier={FINDER_A: 8.0}, status=TENTATIVE)


def passive_confirmations(
    camera_since_s: float,
    finder_from_s: float,
    bearings: int = 10,
    second: int = FINDER_A,
    named: bool = True,
    holds: str | None = None,
) -> list[float]:
    """When (seconds from now) a tentative track that `CAMERA_A` updates every 0.25 s from
    `camera_since_s` ago, and `second` (a finder) every second from `finder_from_s` on
    (`bearings` times, `named`: naming an emitter), is confirmed: a list holding that moment,
    or empty if not within 10 s. No radar covers it. With `holds`, the track holds that
    emitter id and the rules are told that tracks hold the ids their bearings name."""
    table = TrackTable(n_sensors=5)
    born = T - camera_since_s
    table.add(np.array([[1500.0, 800.0, 60.0, 3.0, 0.0, 0.0]]), np.eye(6)[None] * 400.0, born, 0)
    table.last_hit[0] = table.last_named[0] = -np.inf
    table.emitter_id[0] = holds
    confirmed = []
    for step in range(1, 41):
        t = T + 0.25 * step
        table.t_update[0] = table.last_hit[0, CAMERA_A] = table.last_named[0, CAMERA_A] = t
        if T + finder_from_s <= t < T + finder_from_s + bearings and step % 4 == 0:
            table.last_hit[0, second] = t
            if named:
                table.last_named[0, second] = t
        table.history[0] = (table.history[0] << 1 | 1) & 0xFFFF
        confirm, doomed = RULES.apply(
            table, t, None, LOCALISING, HEARING, None, identified=holds is not None
        )
        assert not doomed[0]
        if confirm[0]:
            confirmed.append(round(t - T, 2))
    return confirmed


def test_lines_of_sight_confirm_a_track_once_they_have_crossed_on_it_for_a_while(path) -> None:
    """Two sites' lines crossing for `passive_confirm_s`, each seen again since the crossing
    began, confirm a track; a track one camera kept tentative for 40 s is not confirmed by the
    first bearing that crosses its line, nor by that bearing alone 3 s on (random camp 9
    without its radar: confirmed by one bearing 530 m from any hostile drone, and alerted
    on)."""
    assert passive_confirmations(camera_since_s=0.0, finder_from_s=1.0) == [4.0]
    assert passive_confirmations(camera_since_s=40.0, finder_from_s=1.0) == [4.0]
    assert passive_confirmations(camera_since_s=40.0, finder_from_s=20.0) == []
    # One bearing counts as recent for the whole sensor memory, longer than the 3 s.
    assert passive_confirmations(camera_since_s=40.0, finder_from_s=1.0, bearings=1) == []
    assert passive_confirmations(camera_since_s=40.0, finder_from_s=1.0, bearings=2) == [4.0]


def test_bearings_that_name_no_emitter_are_no_site(path) -> None:
    """A finder's bearing that names no emitter (a spurious one, of no known protocol) is no
    transmitter's: the finder is no second site, however long such bearings cross a camera's
    line (random camps 105, 108 and 110 without their radar: a camera's line to a loiterer or
    an inbound drone, which fly no link, crossed by spurious bearings 670-1,020 m from it,
    confirmed and alerted on)."""
    assert passive_confirmations(camera_since_s=40.0, finder_from_s=1.0, named=False) == []
    assert passive_confirmations(camera_since_s=0.0, finder_from_s=1.0, named=False) == []


def test_where_tracks_hold_their_emitter_ids_a_finder_is_a_site_only_on_a_holder(path) -> None:
    """Where tracks hold the emitter ids their bearings name (`IdentityKeeper`), a bearing
    whose emitter another track holds only crossed this one."""
    assert passive_confirmations(camera_since_s=0.0, finder_from_s=1.0, holds="E7") == [4.0]
    table = TrackTable(n_sensors=5)
    table.add(np.array([[1500.0, 800.0, 60.0, 3.0, 0.0, 0.0]]), np.eye(6)[None] * 400.0, T, 0)
    table.history[0] = 0xFF
    table.last_hit[0] = table.last_named[0] = -np.inf  # no radar ever placed it
    for t in (T, T + 1.0, T + 2.0, T + 3.0):
        table.last_hit[0, [CAMERA_A, FINDER_A]] = table.last_named[0, [CAMERA_A, FINDER_A]] = t
        confirm, _ = RULES.apply(table, t, None, LOCALISING, HEARING, None, identified=True)
        assert not confirm[0]  # no emitter id held: the finder is no site
    # A tracker that keeps no identities counts the named bearings: as the first assertion
    # of `test_lines_of_sight_confirm_a_track_once_they_have_crossed_on_it_for_a_while`.


def test_a_break_in_the_crossing_starts_its_clock_again(path) -> None:
    """The finder's bearing is counted for the sensor memory (5 s); a crossing that lapses
    longer than that is a new one."""
    table = TrackTable(n_sensors=5)
    table.add(np.array([[1500.0, 800.0, 60.0, 3.0, 0.0, 0.0]]), np.eye(6)[None] * 400.0, T, 0)
    table.history[0] = 0xFF
    table.last_hit[0, [CAMERA_A, FINDER_A]] = table.last_named[0, [CAMERA_A, FINDER_A]] = T
    RULES.apply(table, T, None, LOCALISING, HEARING, None)
    assert table.t_crossed[0] == T
    table.last_hit[0, CAMERA_A] = T + 6.0
    confirm, _ = RULES.apply(table, T + 6.0, None, LOCALISING, HEARING, None)
    assert not confirm[0] and np.isnan(table.t_crossed[0])
    table.last_hit[0, FINDER_A] = table.last_hit[0, CAMERA_A] = T + 7.0
    table.last_named[0, FINDER_A] = T + 7.0
    confirm, _ = RULES.apply(table, T + 7.0, None, LOCALISING, HEARING, None)
    assert not confirm[0] and table.t_crossed[0] == T + 7.0


BIRD_RULES = replace(RULES, coast_after_s=2.5, bird_delete_after_s=4.5)  # the camp defaults


def fate(unseen_for_s: float, bird: bool, status: int = CONFIRMED) -> str:
    """What becomes of a radar track (`status`) last updated `unseen_for_s` ago: "kept",
    "coasting" or "deleted"; `bird`: the picture calls it a bird."""
    table = TrackTable(n_sensors=5)
    table.add(np.array([[900.0, -400.0, 50.0, 8.0, 0.0, 0.0]]), np.eye(6)[None] * 25.0, T - 60, 0)
    table.t_update[0] = table.last_hit[0, RADAR] = T - unseen_for_s
    table.status[0] = status
    table.class_logp[0] = np.log([0.02, 0.97, 0.005, 0.0025, 0.0025] if bird else [0.2] * 5)
    _, doomed = BIRD_RULES.apply(table, T, None, LOCALISING, HEARING, None)
    if doomed[0]:
        return "deleted"
    return "coasting" if table.status[0] == COASTING else "kept"


def test_a_bird_s_track_dies_sooner_than_a_drone_s(path) -> None:
    """A bird turns erratically at 5-15 m/s: a few seconds on, its predicted position is no
    better than none, and in a flock its coasting track stands where no bird is (random camps
    0-89: mean GOSPA 320.06 -> 304.03 at 4.5 s)."""
    assert fate(2.0, bird=True) == "kept"
    assert fate(4.0, bird=True) == "coasting"
    assert fate(5.0, bird=True) == "deleted"
    assert fate(5.0, bird=False) == "coasting"
    assert fate(7.9, bird=False) == "coasting"
    assert fate(8.1, bird=False) == "deleted"


def test_a_tentative_bird_lives_by_m_of_n_alone(path) -> None:
    assert fate(5.0, bird=True, status=TENTATIVE) != "deleted"


CROSS = np.ones(1, dtype=bool)  # two finders' lines cross at the track


def vouched(
    hit_by: list[int], emitter: str | None = "E7", ago: float = 1.0, cross: bool = True
) -> bool:
    """Whether a track that `hit_by` updated `ago` seconds ago, holding `emitter`, has its
    place vouched for (`lifecycle.vouch`); `cross`: whether two finders' lines cross at it."""
    table = TrackTable(n_sensors=5)
    table.add(np.array([[1500.0, 800.0, 60.0, 5.0, 0.0, 0.0]]), np.eye(6)[None] * 400.0, T - 30, 1)
    table.last_hit[0] = -np.inf
    table.last_hit[0, hit_by] = T - ago
    table.emitter_id[0] = emitter
    vouch(table, T, HEARING, LOCALISING, RULES.memory_s, RULES.heard_s, np.array([cross]))
    return not np.isnan(table.t_vouched[0])


def test_a_finder_and_a_camera_cross_anywhere_and_vouch_for_nothing() -> None:
    """Two lines of sight place a point whether or not they are of one object (random camps
    without their radar: 9 of 15 alerts on no drone were such crossings)."""
    assert not vouched([FINDER_A, CAMERA_A])
    assert not vouched([FINDER_A, FINDER_B], emitter=None)  # bearings naming no one emitter
    assert not vouched([CAMERA_A])


def test_a_radar_more_lines_or_one_emitter_heard_twice_vouch_for_a_place() -> None:
    assert vouched([RADAR])
    assert vouched([RADAR], ago=600.0)  # once placed by a radar, for good
    assert vouched([CAMERA_A, CAMERA_B], emitter=None)  # four angles, three coordinates
    assert vouched([FINDER_A, FINDER_B])  # two finders hear the one emitter it holds
    assert not vouched([CAMERA_A, CAMERA_B], ago=RULES.memory_s + 1.0)


def test_finders_in_line_with_a_track_draw_one_line_twice_and_vouch_for_nothing() -> None:
    """Random camp 125 without its radar: two finders 180 m apart heard the hidden drone
    0.4 degrees apart, and with a camera's line to another drone vouched for their crossing,
    700 m from any drone. Finders vouch only where two of them cross at the track."""
    assert not vouched([FINDER_A, FINDER_B], cross=False)
    assert not vouched([FINDER_A, CAMERA_A, FINDER_B], cross=False)
    assert vouched([FINDER_A, CAMERA_A, FINDER_B])
    assert vouched([RADAR], cross=False) and vouched([CAMERA_A, CAMERA_B], cross=False)


def test_a_finder_a_camera_and_the_other_finder_heard_lately_vouch_for_it() -> None:
    table = TrackTable(n_sensors=5)
    table.add(np.array([[1500.0, 800.0, 60.0, 5.0, 0.0, 0.0]]), np.eye(6)[None] * 400.0, T - 30, 1)
    table.last_hit[0, [FINDER_A, CAMERA_A]] = T - 1.0
    table.last_hit[0, FINDER_B] = T - RULES.heard_s - 1.0
    table.emitter_id[0] = "E7"
    vouch(table, T, HEARING, LOCALISING, RULES.memory_s, RULES.heard_s, CROSS)
    assert np.isnan(table.t_vouched[0])
    table.last_hit[0, FINDER_B] = T - 8.0
    vouch(table, T, HEARING, LOCALISING, RULES.memory_s, RULES.heard_s, CROSS)
    assert table.t_vouched[0] == T
    table.last_hit[0] = -np.inf  # vouched for once, for good: it is sticky
    vouch(table, T + 60.0, HEARING, LOCALISING, RULES.memory_s, RULES.heard_s, CROSS)
    assert table.t_vouched[0] == T
