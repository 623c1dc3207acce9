"""The memory of a bearings-only track's lines of sight (passive_refit.py): what a camera's
sightings count for, and what they stop counting for once another track explains them."""

from __future__ import annotations

import numpy as np
from support.sites import all_round_site

from cuas.geodesy import LocalFrame
from cuas.tracking.lines_of_sight import HeightPrior
from cuas.tracking.measurements import BearingModel, CameraModel
from cuas.tracking.passive_refit import PassiveRefit
from cuas.tracking.scan import Scan

FRAME = LocalFrame(8.65, 24.50, 600.0)
CAMERA = CameraModel(all_round_site(FRAME, -300.0, 300.0, 12.0))
FINDER = BearingModel(all_round_site(FRAME, -250.0, 0.0, 10.0))
FINDER_B = BearingModel(all_round_site(FRAME, 250.0, 0.0, 10.0))
CAM, DF, DF_B = 0, 1, 2  # sensor indices
VAR = np.radians([0.2, 0.2]) ** 2
TID = 7


def look(t: float, az_deg: float, el_deg: float = 3.0) -> Scan:
    z = np.radians([[az_deg, el_deg]])
    return Scan(CAM, t, z, VAR[None].copy(), CAMERA)


def bearing(t: float, az_deg: float) -> Scan:
    return Scan(DF, t, np.radians([[az_deg]]), np.radians([[3.0]]) ** 2, FINDER)


def remembered() -> PassiveRefit:
    """A track heard by the finder, and seen by the camera three times along one line (its
    run makes the sightings count) and once, earlier, 20 degrees away."""
    refit = PassiveRefit(HeightPrior(80.0, 40.0))
    slow = np.array([0.01])
    refit.sighted(np.array([TID]), look(0.0, 290.0), np.array([0]), slow)
    for t in (4.0, 4.5, 5.0):
        refit.record(np.array([TID]), bearing(t, 330.0), np.array([0]))
        refit.sighted(np.array([TID]), look(t, 315.0 + 0.05 * (t - 4.0)), np.array([0]), slow)
    return refit


def kinds(refit: PassiveRefit) -> list[tuple[int, bool]]:
    return [(sensor, glimpse) for sensor, glimpse, _ in refit._seen[TID]]


def test_a_camera_run_along_one_line_counts_after_its_first_sightings() -> None:
    refit = remembered()
    cam = [glimpse for sensor, glimpse in kinds(refit) if sensor == CAM]
    assert cam == [True, False, False, False]  # the lone look stays a glimpse; the run counts
    assert TID in refit.due(5.0)  # the run asked for a refit at once


def test_a_vague_track_s_camera_counts_a_steady_path_not_clutter_jumping_about() -> None:
    """A vague track may turn fast about the camera (60 m/s at the 450 m its uncertainty
    allows: 7.6 degrees a second), so `together` admits sightings 7 degrees apart a second
    later. Random camp 149: clutter made a run of such sightings, and their lines placed the
    hidden drone's track 1 km off it with 48 m of sigma. What counts is a path a target can
    fly: a steady turn, however fast, with what two g of acceleration may bend it."""
    fast = np.array([60.0 / 450.0])
    clutter = PassiveRefit(HeightPrior(80.0, 40.0))
    for t, az, el in ((0.0, 213.7, 10.3), (1.0, 214.1, 11.9), (1.5, 207.6, 5.3), (1.8, 210.0, 8.0)):
        clutter.sighted(np.array([TID]), look(t, az, el), np.array([0]), fast)
    assert [glimpse for _, glimpse, _ in clutter._seen[TID]] == [True] * 4
    assert clutter.due(1.9) == []  # no run joined: no refit asked for
    turning = PassiveRefit(HeightPrior(80.0, 40.0))
    for t in (0.0, 0.5, 1.0, 1.5):  # 5 degrees a second, and speeding up
        az = 200.0 + 5.0 * t + 0.5 * t**2
        turning.sighted(np.array([TID]), look(t, az, 6.0 + 0.5 * t), np.array([0]), fast)
    assert [glimpse for _, glimpse, _ in turning._seen[TID]] == [False] * 4
    assert TID in turning.due(1.5)


def test_sightings_along_a_line_another_track_explains_are_disowned() -> None:
    refit = remembered()
    refit.done(TID, 5.0)
    assert refit.due(5.5) == []
    # The radar now holds the object at the end of that line: the camera's next look along
    # it is that track's, and so were the three before it.
    last = refit.disown(TID, look(5.5, 315.1), 0, rate=0.01)
    assert last == -np.inf  # none of the camera's sightings of this track are its own
    cam = [glimpse for sensor, glimpse in kinds(refit) if sensor == CAM]
    assert cam == [True, True, True, True]
    df = [glimpse for sensor, glimpse in kinds(refit) if sensor == DF]
    assert df == [False, False, False]  # the finder's bearings are still the track's
    assert TID in refit.due(5.5)  # placed again at once, by what remains


def test_a_line_elsewhere_disowns_nothing() -> None:
    refit = remembered()
    before = kinds(refit)
    assert refit.disown(TID, look(5.5, 250.0), 0, rate=0.01) is None
    assert kinds(refit) == before


def test_sightings_off_the_explained_line_remain_the_tracks_own() -> None:
    refit = PassiveRefit(HeightPrior(80.0, 40.0))
    slow = np.array([0.01])
    for t in (0.0, 0.5, 1.0):  # a run along 250 degrees: kept
        refit.sighted(np.array([TID]), look(t, 250.0), np.array([0]), slow)
    for t in (4.0, 4.5, 5.0):  # a run along 315: disowned
        refit.sighted(np.array([TID]), look(t, 315.0), np.array([0]), slow)
    assert refit.disown(TID, look(5.5, 315.0), 0, rate=0.01) == 1.0


def test_a_track_whose_camera_sightings_are_all_disowned_takes_the_height_prior() -> None:
    """The camera placed the track at the height of the object it really saw (a loiterer
    at 370 m, random camp 354); disowned, those sightings leave the height to the prior."""
    refit = PassiveRefit(HeightPrior(80.0, 40.0))
    drone = np.array([[300.0, 1500.0, 60.0, 0.0, 0.0, 0.0]])
    for t in np.arange(0.0, 4.0, 0.5):
        for sensor, model in ((DF, FINDER), (DF_B, FINDER_B)):
            az, _ = model.predict(drone)
            scan = Scan(sensor, t, az, np.radians([[3.0]]) ** 2, model)
            refit.record(np.array([TID]), scan, np.array([0]))
    slow = np.array([0.01])
    for t in (4.0, 4.5, 5.0):  # a camera's run along the line to a loiterer, high up
        refit.sighted(np.array([TID]), look(t, 40.0, 20.0), np.array([0]), slow)
    x = np.array([300.0, 1500.0, 370.0, 0.0, 0.0, 0.0])
    P = np.diag([50.0**2, 50.0**2, 10.0**2, 4.0, 4.0, 1.0])
    assert refit.disown(TID, look(5.5, 40.0, 20.0), 0, rate=0.01) == -np.inf
    out = refit.refit(TID, 5.5, 0.0, x, P)
    assert out is not None
    mean, cov = out
    assert abs(mean[2] - 80.0) < 20.0 and np.sqrt(cov[2, 2]) > 30.0  # the prior's, not 370 m


def heard_by_both_finders(drone: np.ndarray, until: float) -> PassiveRefit:
    """A track the two finders hear on `drone` (1, 6) every half second until `until`."""
    refit = PassiveRefit(HeightPrior(80.0, 40.0))
    for t in np.arange(0.0, until, 0.5):
        for sensor, model in ((DF, FINDER), (DF_B, FINDER_B)):
            az, _ = model.predict(drone)
            scan = Scan(sensor, t, az, np.radians([[3.0]]) ** 2, model)
            refit.record(np.array([TID]), scan, np.array([0]))
    return refit


def test_a_camera_run_joins_a_heard_track_only_where_its_line_meets_the_bearings() -> None:
    """Random camp 39 without its radar: a camera's run on a loiterer joined a track the
    finders heard on a swarm far off its line, and the refit of the two put the track where
    neither was, 7 m sure of itself. A run whose line passes nowhere near where the finders'
    bearings do is another object's: its sightings are glimpses again, and no refit is due.
    A run on the drone they hear joins it."""
    drone = np.array([[300.0, 1500.0, 60.0, 0.0, 0.0, 0.0]])
    x = np.array([500.0, 1300.0, 80.0, 0.0, 0.0, 0.0])  # the filter, 280 m off and sure of it
    P = np.diag([30.0**2, 30.0**2, 40.0**2, 25.0, 25.0, 4.0])
    slow = np.array([0.01])
    for az, el, joins in ((270.0, 5.0, False), (26.57, 2.05, True)):  # a loiterer; the drone
        refit = heard_by_both_finders(drone, 5.0)
        for t in (4.0, 4.5, 5.0):
            refit.sighted(np.array([TID]), look(t, az, el), np.array([0]), slow)
        assert TID in refit.due(5.0)  # the run began
        assert refit.admit(TID, 5.0, x, P) == joins, az
        cam = [glimpse for sensor, glimpse in kinds(refit) if sensor == CAM]
        assert cam == [not joins] * 3, az
        assert (TID in refit.due(5.0)) == joins, az
        if joins:
            out = refit.refit(TID, 5.0, 0.0, x, P)
            assert out is not None and np.hypot(*(out[0][:2] - drone[0, :2])) < 60.0
    assert remembered().admit(TID, 5.0, x, P)  # a run on the line the finder's bearings cross
    assert heard_by_both_finders(drone, 5.0).admit(TID, 5.0, x, P) is None  # no run joined
