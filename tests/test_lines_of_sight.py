"""Where lines of sight place a target as a whole (cuas/tracking/lines_of_sight.py), and the
refit of bearings-only tracks built on it (cuas/tracking/passive_refit.py)."""

from __future__ import annotations

import numpy as np
from support.sites import all_round_site

from cuas.geodesy import LocalFrame
from cuas.tracking.coverage import SensorGeometry
from cuas.tracking.lines_of_sight import HeightPrior, Sighting, posterior
from cuas.tracking.measurements import BearingModel, CameraModel
from cuas.tracking.passive_refit import PassiveRefit
from cuas.tracking.scan import Scan

FRAME = LocalFrame(8.65, 24.50, 600.0)
WEST = BearingModel(all_round_site(FRAME, -400.0, 0.0))
EAST = BearingModel(all_round_site(FRAME, 350.0, 0.0))
SIGMA = np.radians(3.5)
HEIGHT = HeightPrior(100.0, 150.0)
VELOCITY = np.array([-3.0, 3.0])


def position(t: float) -> np.ndarray:
    """A drone 2.2 km out, nearly in line with the two finders, drifting north-west."""
    return np.array([2100.0 + VELOCITY[0] * t, 800.0 + VELOCITY[1] * t, 80.0])


def sightings(rng: np.random.Generator, seconds: float) -> list[tuple[int, Sighting]]:
    """Both finders' bearings of the drone, twice a second each, for `seconds`."""
    out = []
    for k in range(int(2 * seconds)):
        t = 0.5 * k
        for sensor, model in enumerate((WEST, EAST)):
            z, _ = model.predict(np.r_[position(t), 0.0, 0.0, 0.0][None])
            z = z[0] + rng.normal(0.0, SIGMA, 1)
            out.append((sensor, Sighting(t + 0.01 * sensor, z, np.array([SIGMA**2]), model)))
    return out


def nees(truth: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> float:
    e = (truth - mean)[:2]
    return float(e @ np.linalg.solve(cov[:2, :2], e))


def test_ten_seconds_of_bearings_place_a_moving_drone_as_honestly_as_they_place_it() -> None:
    """Carried to now with the drone's velocity, 10 s of both finders' bearings give a
    posterior whose error agrees with its covariance, tighter than one pair's."""
    one_pair, whole = [], []
    scores = []
    for seed in range(20):
        seen = [s for _, s in sightings(np.random.default_rng(seed), 10.0)]
        t = seen[-1].t
        pair = posterior(seen[-2:], t, VELOCITY, 0.0, HEIGHT)
        out = posterior(seen, t, VELOCITY, 0.0, HEIGHT)
        assert pair is not None and out is not None
        one_pair.append(np.trace(pair[1][:2, :2]))
        whole.append(np.trace(out[1][:2, :2]))
        scores.append(nees(position(t), *out))
    assert 0.5 < np.mean(scores) < 3.0, np.mean(scores)
    assert np.median(whole) < 0.5 * np.median(one_pair)


def test_fine_lines_carried_with_a_wrong_velocity_do_not_pull_the_posterior_out() -> None:
    """A camera's forty fine lines of sight in ten seconds, and both finders' bearings, carried
    to now with a velocity 4 m/s off the drone's (within the 7.5 m/s it may stray): the stray
    is one for all the sightings, so the posterior stays honest (mean NEES 2.4 of 2; 6.5 when
    each sighting strayed alone, and the posterior crept out towards the camera's reach, where
    a stray subtends the smallest angle: random camp 158, 40 m of sigma, 180 m off)."""
    camera = CameraModel(
        SensorGeometry(
            FRAME.sensor_frame(
                *(float(v) for v in FRAME.to_geodetic(np.array([0.0, -300.0, 12.0])))
            ),
            0.0,
            2450.0,
            0.0,
            360.0,
            -10,
            90,
        )
    )
    cam_sigma = np.radians(0.15)
    wrong = VELOCITY + np.array([3.0, -2.6])
    scores = []
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        seen = [s for _, s in sightings(rng, 10.0)]
        for k in range(40):
            t = 0.25 * k
            z, _ = camera.predict(np.r_[position(t), 0.0, 0.0, 0.0][None])
            z = z[0] + rng.normal(0.0, cam_sigma, 2)
            seen.append(Sighting(t, z, np.full(2, cam_sigma**2), camera))
        t = 9.99
        out = posterior(seen, t, wrong, 7.5, HEIGHT)
        assert out is not None
        scores.append(nees(position(t), *out))
    assert np.mean(scores) < 4.0, np.mean(scores)


def test_a_refit_replaces_a_confident_track_at_the_wrong_range_and_leaves_an_honest_one() -> None:
    """A bearings-only track 1 km short of the drone claiming 250 m gets the lines' posterior;
    one placed where they place it, as uncertain as they say, is left alone."""
    refit = PassiveRefit(HEIGHT)
    rng = np.random.default_rng(3)
    for sensor, s in sightings(rng, 10.0):
        scan = Scan(sensor, s.t, s.z[None], s.var[None], s.model)
        refit.record(np.array([7]), scan, np.array([0]))
    t = 10.0
    x = np.r_[position(t) - np.array([950.0, 350.0, 0.0]), VELOCITY, 0.0]
    P = np.diag([250.0**2 / 2, 250.0**2 / 2, 150.0**2, 4.0, 4.0, 1.0])
    assert 7 in refit.due(t)
    out = refit.refit(7, t, 0.0, x, P)
    assert out is not None
    mean, cov = out
    assert nees(position(t), mean, cov) < 9.21
    honest = np.r_[mean, VELOCITY, 0.0]
    P_honest = P.copy()
    P_honest[:3, :3] = cov
    assert refit.refit(7, t, 0.0, honest, P_honest) is None
    assert 7 not in refit.due(t)  # not again before its period


def camera_scan(t: float, az_deg: float, el_deg: float) -> Scan:
    camera = CameraModel(all_round_site(FRAME, 0.0, -300.0))
    z = np.radians([[az_deg % 360.0, el_deg]])
    return Scan(3, t, z, np.radians([[0.2, 0.2]]) ** 2, camera)


def test_a_camera_run_begins_where_its_sightings_agree_even_across_north() -> None:
    """Two glimpses, then the sighting that makes the run asks for a refit at once (it does
    not update by itself), then the camera's sightings update the track; a drone crossing
    north (azimuth 359.9 -> 0.1) is one run."""
    refit = PassiveRefit(HEIGHT)
    rate = np.array([0.02])  # rad/s
    uses = []
    for k, az in enumerate([359.90, 359.97, 0.04, 0.11]):
        scan = camera_scan(0.25 * k, az, 3.0)
        uses.append(bool(refit.sighted(np.array([7]), scan, np.array([0]), rate)[0]))
        if k == 2:
            assert refit.due(scan.t) == [7]
    assert uses == [False, False, False, True]


def test_a_camera_run_that_pushes_old_lines_out_of_memory_counts_its_own_glimpses() -> None:
    """Two finders' bearings from two minutes before, then a camera's run: the sighting that
    makes it pushes those bearings out of the track's memory, and the run's glimpses (not
    whatever now stands where they stood) become sightings. Random camp 242 raised
    IndexError there, and the replay died."""
    refit = PassiveRefit(HEIGHT)
    for t, (sensor, model) in ((30.3, (0, WEST)), (30.4, (1, EAST))):
        bearing = Scan(sensor, t, np.radians([[40.0]]), np.array([[SIGMA**2]]), model)
        refit.record(np.array([7]), bearing, np.array([0]))
    uses = []
    for k, az in enumerate([40.0, 40.01, 40.02]):
        scan = camera_scan(150.0 + 0.25 * k, az, 3.0)
        uses.append(bool(refit.sighted(np.array([7]), scan, np.array([0]), np.array([0.02]))[0]))
    assert uses == [False, False, False]  # two glimpses, then the run asks for a refit
    assert refit.due(150.5) == [7]
    assert [(s.t, glimpse) for _, glimpse, s in refit._seen[7]] == [
        (150.0, False),
        (150.25, False),
        (150.5, False),
    ]


def test_scattered_camera_false_alarms_rarely_make_a_run() -> None:
    """A camera's false alarms fall in a vague track's 20-degree gate at one look in ten
    (a camera with one false alarm a scan over a 90-degree field): under 2 % of them count,
    where every one did before."""
    refit = PassiveRefit(HEIGHT)
    rng = np.random.default_rng(5)
    alarms = counted = 0
    for k in range(4000):
        if rng.random() > 0.1:
            continue
        scan = camera_scan(0.5 * k, 340.0 + rng.uniform(-10, 10), rng.uniform(1, 12))
        alarms += 1
        due = 7 in refit.due(scan.t)
        counted += bool(refit.sighted(np.array([7]), scan, np.array([0]), np.array([0.05]))[0])
        counted += not due and 7 in refit.due(scan.t)  # a run began: refit now
        if 7 in refit.due(scan.t):
            refit.refit(7, scan.t, 0.0, np.zeros(6), np.eye(6))
    assert alarms > 300
    assert counted / alarms < 0.02, (counted, alarms)


def test_a_track_keeps_only_the_lines_of_sight_its_course_can_use() -> None:
    """Bounded memory: five minutes of two finders' bearings leave the last two minutes."""
    refit = PassiveRefit(HEIGHT)
    for sensor, s in sightings(np.random.default_rng(5), 300.0):
        scan = Scan(sensor, s.t, s.z[None], s.var[None], s.model)
        refit.record(np.array([3]), scan, np.array([0]))
    kept = [s.t for _, _, s in refit._seen[3]]
    assert kept[-1] - kept[0] <= refit.course_window_s
    assert kept[0] >= kept[-1] - refit.course_window_s - 0.5  # all of the last two minutes
    assert len(kept) == 481  # two finders at 2 Hz for 120 s, both ends included
