"""Filter consistency: the covariance a track publishes agrees with the errors it makes.

For each kind of sensor (and for the IMM on a manoeuvring drone) a simulated drone is
tracked with sensors whose noise is exactly what the tracker is told, and the normalised
estimation error squared, NEES = e' P^-1 e of the position, is averaged over the run after
the track has settled, over several seeds. A consistent filter averages the dimension (3 in
position, 2 horizontally); an overconfident one (the failure that makes a vague track look
sharp) averages much more. The bounds are wide enough for the correlation of successive
errors and the IMM's deliberate caution, and far below what overconfidence gives.
The normalised innovation squared (NIS) of the radar's updates is checked the same way.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from support.sites import all_round_site

from cuas.config import TrackerConfig
from cuas.geodesy import LocalFrame
from cuas.tracking.coverage import SensorGeometry
from cuas.tracking.measurements import (
    BearingModel,
    CameraModel,
    MeasurementModel,
    PositionModel,
    RadarModel,
)
from cuas.tracking.scan import Labels, Scan
from cuas.tracking.tracker import Tracker
from cuas.tracking.tracks import TENTATIVE, TrackTable

FRAME = LocalFrame(8.65, 24.50, 600.0)
T0 = 1_764_000_000.0
SEEDS = range(6)


def place(e: float, n: float, up: float = 12.0) -> SensorGeometry:
    return all_round_site(FRAME, e, n, up)


RADAR = RadarModel(place(0.0, 0.0, 15.0), with_range_rate=True)
CAM_A = CameraModel(place(-300.0, 300.0))
CAM_B = CameraModel(place(300.0, -300.0))
DF_A = BearingModel(place(-250.0, 0.0))
DF_B = BearingModel(place(250.0, 0.0))
RID = PositionModel(place(0.0, 0.0, 3.0), with_velocity=True)
SIGMA = {
    RADAR: np.array([5.0, np.radians(1.0), np.radians(1.5), 0.5]),
    CAM_A: np.radians([0.2, 0.2]),
    CAM_B: np.radians([0.2, 0.2]),
    DF_A: np.radians([3.0]),
    DF_B: np.radians([3.0]),
    RID: np.array([10.0, 10.0, 15.0, 1.0, 1.0, 1.0]),
}
INDEX = {model: i for i, model in enumerate(SIGMA)}


def straight(t: float, x0: np.ndarray) -> np.ndarray:
    return np.concatenate([x0[:3] + x0[3:] * t, x0[3:]])


def turning(t: float, x0: np.ndarray) -> np.ndarray:
    """Straight for 40 s, a 180-degree turn at 36 deg/s for 5 s, then straight back."""
    speed = np.linalg.norm(x0[3:5])
    heading = np.arctan2(x0[3], x0[4])
    if t <= 40.0:
        return straight(t, x0)
    start = straight(40.0, x0)
    omega = np.radians(36.0)
    radius = speed / omega
    centre = start[:2] + radius * np.array([np.cos(heading), -np.sin(heading)])
    tt = min(t - 40.0, 5.0)
    angle = heading + omega * tt
    pos = centre + radius * np.array([-np.cos(angle), np.sin(angle)])
    vel = speed * np.array([np.sin(angle), np.cos(angle)])
    if t > 45.0:
        pos = pos + vel * (t - 45.0)
    return np.array([pos[0], pos[1], x0[2], vel[0], vel[1], 0.0])


def observe(model: MeasurementModel, t: float, state: np.ndarray, rng, uas: str | None) -> Scan:
    z, _ = model.predict(state[None, :])
    z = z + rng.normal(size=z.shape) * SIGMA[model]
    labels = None
    if uas is not None:
        none = Labels.none(1)
        labels = Labels(none.class_probs, none.rcs_dbsm, [uas], [None])
    return Scan(INDEX[model], T0 + t, z, (SIGMA[model] ** 2)[None].copy(), model, labels)


def run(
    sensors: list[tuple[MeasurementModel, float]],
    x0: np.ndarray,
    truth=straight,
    seconds: float = 90.0,
    settle_s: float = 20.0,
    seed: int = 0,
    motion: str = "imm",
    dims: slice = slice(0, 3),
) -> tuple[list[float], list[float]]:
    """Position NEES of the one firm track after `settle_s`, and the radar's NIS."""
    rng = np.random.default_rng(seed)
    tracker = Tracker.from_config(TrackerConfig(motion=motion), n_sensors=len(SIGMA))
    events = sorted(
        (k * period + 0.01 * i, i, model)
        for i, (model, period) in enumerate(sensors)
        for k in range(int(seconds / period))
    )
    nees, nis = [], []
    for t, _, model in events:
        state = truth(t, x0)
        scan = observe(model, t, state, rng, "UAS-1" if model is RID else None)
        if model is RADAR and tracker.tracks.n:
            tracker.predict_to(scan.t)
            row = 0
            zhat, H = model.predict(tracker.tracks.x[row : row + 1])
            y = model.residual(scan.z, zhat)[0]
            S = H[0] @ tracker.tracks.P[row] @ H[0].T + np.diag(scan.var[0])
            if t > settle_s:
                nis.append(float(y @ np.linalg.solve(S, y)))
        tracker.process(scan)
        table = tracker.tracks
        firm = np.flatnonzero(table.status[: table.n] != TENTATIVE)
        if t > settle_s and firm.size == 1:
            row = int(firm[0])
            e = (state - table.x[row])[dims]
            P = table.P[row][dims, dims]
            nees.append(float(e @ np.linalg.solve(P, e)))
    return nees, nis


DRONE = np.array([1500.0, 1200.0, 120.0, -9.0, -7.0, 0.0])


def mean_over_seeds(**kw) -> tuple[float, float]:
    nees, nis = [], []
    for seed in SEEDS:
        a, b = run(seed=seed, **kw)
        assert len(a) > 20, "the drone must be tracked"
        nees += a
        nis += b
    return float(np.mean(nees)), float(np.mean(nis)) if nis else float("nan")


@pytest.mark.parametrize(
    ("name", "sensors", "dims", "dof", "upper"),
    [
        ("radar", [(RADAR, 1.0)], slice(0, 3), 3, 5.0),
        ("two cameras", [(CAM_A, 0.2), (CAM_B, 0.2)], slice(0, 3), 3, 5.0),
        ("Remote ID", [(RID, 1.0)], slice(0, 3), 3, 5.0),
        # Bearings alone: only the horizontal position is observable from two sites.
        ("two direction finders", [(DF_A, 0.5), (DF_B, 0.5)], slice(0, 2), 2, 4.0),
        (
            "all together",
            [(RADAR, 1.0), (CAM_A, 0.2), (DF_A, 0.5), (RID, 1.0)],
            slice(0, 3),
            3,
            6.0,
        ),
    ],
)
def test_position_errors_agree_with_the_published_covariance(
    name: str, sensors, dims: slice, dof: int, upper: float
) -> None:
    nees, _ = mean_over_seeds(sensors=sensors, x0=DRONE, dims=dims)
    assert dof / 4 < nees < upper, (name, nees)


def test_the_radar_innovations_agree_with_their_covariance() -> None:
    _, nis = mean_over_seeds(sensors=[(RADAR, 1.0)], x0=DRONE)
    assert 2.0 < nis < 7.0, nis  # four components: range, azimuth, elevation, range rate


@pytest.mark.parametrize("motion", ["imm", "ncv"])
def test_the_imm_stays_consistent_through_a_hard_turn_where_one_model_does_not(motion) -> None:
    drone = np.array([1200.0, 800.0, 100.0, -20.0, -12.0, 0.0])
    nees, _ = mean_over_seeds(sensors=[(RADAR, 1.0)], x0=drone, truth=turning, motion=motion)
    if motion == "imm":
        assert 0.75 < nees < 4.5, nees
    else:  # the single quiet model is overconfident in the turn: what the IMM is for
        assert nees > 4.5, nees


def loitering(t: float, x0: np.ndarray) -> np.ndarray:
    """An orbit 250 m in radius at 13 m/s, 120 m up (0.68 m/s^2 of turn, never ending);
    `x0` is unused."""
    omega = 13.0 / 250.0
    angle = omega * t
    centre = np.array([900.0, 700.0])
    pos = centre + 250.0 * np.array([np.cos(angle), np.sin(angle)])
    vel = 13.0 * np.array([-np.sin(angle), np.cos(angle)])
    return np.array([pos[0], pos[1], 120.0, vel[0], vel[1], 0.0])


def test_the_imm_stays_within_the_hard_turn_s_bound_on_a_loiterer_s_orbit() -> None:
    """A gentle turn that never ends is what the steady mode follows late: the errors run
    larger than the covariance says (measured: mean NEES 4.0; 2.4 with the cruise and
    manoeuvre modes alone, before session 40; 4.7 with the steady mode left within a minute
    instead of 20 s), but within the bound of the hard turn above."""
    nees, _ = mean_over_seeds(sensors=[(RADAR, 1.0)], x0=np.zeros(6), truth=loitering)
    assert 0.75 < nees < 4.5, nees


def test_a_remote_id_identity_survives_a_hard_turn_while_its_reports_keep_coming() -> None:
    """A friendly patrol turning 180 degrees in 5 s, seen by the radar and heard by Remote ID
    every second: one track holds its serial, and is friendly, every scan of the turn."""
    from cuas.config import FriendlyConfig
    from cuas.tracking.identity import IdentityKeeper

    drone = np.array([900.0, 500.0, 100.0, -20.0, -12.0, 0.0])
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        keeper = IdentityKeeper(FriendlyConfig(uas_ids=["UAS-1"]))
        tracker = Tracker.from_config(TrackerConfig(), len(SIGMA), annotators=[keeper])
        for k in range(70):
            for model, dt in ((RADAR, 0.0), (RID, 0.5)):
                t = k + dt
                tracker.process(
                    observe(model, t, turning(t, drone), rng, "UAS-1" if model is RID else None)
                )
            table = tracker.tracks
            holders = np.flatnonzero(table.uas_id[: table.n] == "UAS-1")
            if k >= 10:
                assert holders.size == 1, (seed, k)
                assert table.friendly[holders[0]], (seed, k)
                assert table.status[holders[0]] != TENTATIVE, (seed, k)


def firm_near(tracker: Tracker, state: np.ndarray, within_m: float = 60.0) -> np.ndarray:
    """Rows of the firm tracks within `within_m` of `state` horizontally."""
    table = tracker.tracks
    firm = np.flatnonzero(table.status[: table.n] != TENTATIVE)
    return firm[np.hypot(*(table.x[firm, :2] - state[:2]).T) < within_m]


def test_a_friendly_drone_tracked_twice_loses_its_unidentified_twin_at_its_next_report() -> None:
    """Split radar plots start two tracks of one friendly patrol before its Remote ID is
    heard; the serial goes to one of them, and the other, unidentified (so hostile-looking),
    would live on the plots it wins from its twin. At the next Remote ID report that fits it
    too it is deleted; a second drone 200 m away is not."""
    from cuas.config import FriendlyConfig
    from cuas.tracking.identity import IdentityKeeper

    friend = np.array([900.0, 500.0, 100.0, -8.0, 6.0, 0.0])
    other = friend + np.array([0.0, 200.0, 0.0, 0.0, 0.0, 0.0])
    split = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    for seed in SEEDS[:3]:
        rng = np.random.default_rng(seed)
        keeper = IdentityKeeper(FriendlyConfig(uas_ids=["UAS-1"]))
        tracker = Tracker.from_config(TrackerConfig(), len(SIGMA), annotators=[keeper])
        for k in range(30):
            states = [straight(k, friend), straight(k, other)]
            if k < 5:  # the radar splits the friend's echo in two, 25 m apart
                split[:3] = [25.0, 0.0, 0.0]
                states.append(states[0] + split)
            scans = [observe(RADAR, k, s, rng, None) for s in states]
            tracker.process(
                Scan(
                    INDEX[RADAR],
                    T0 + k,
                    np.vstack([s.z for s in scans]),
                    np.vstack([s.var for s in scans]),
                    RADAR,
                )
            )
            if k >= 6:  # Remote ID heard from 6 s on
                tracker.process(observe(RID, k + 0.5, straight(k + 0.5, friend), rng, "UAS-1"))
            table = tracker.tracks
            if k == 4:
                assert firm_near(tracker, states[0]).size == 2, (seed, "no twin to test")
            if k >= 8:
                on_friend = firm_near(tracker, straight(k, friend))
                assert on_friend.size == 1 and table.friendly[on_friend[0]], (seed, k)
                assert firm_near(tracker, straight(k, other)).size == 1, (seed, k)


def test_bearings_alone_keep_the_height_at_its_prior_and_the_covariance_bounded() -> None:
    """Direction finders measure no elevation: the track's height stays at the prior with the
    prior's uncertainty, instead of drifting underground behind a vertical speed that nothing
    measures while its published sigma grows without bound."""
    for seed in SEEDS[:3]:
        rng = np.random.default_rng(seed)
        tracker = Tracker.from_config(TrackerConfig(), n_sensors=len(SIGMA))
        prior = tracker.passive
        for k in range(240):
            t = 0.5 * k
            model = (DF_A, DF_B)[k % 2]
            tracker.process(observe(model, t, straight(t, DRONE), rng, None))
        table = tracker.tracks
        assert table.n >= 1
        for row in range(table.n):
            assert abs(table.x[row, 2] - prior.altitude_m) < 1.0
            assert np.sqrt(table.P[row, 2, 2]) <= prior.altitude_sigma_m + 1.0
            assert abs(table.x[row, 5]) < 1.0


def run_with_real_noise(df_sigma_deg: float, calibrate: bool, seed: int) -> tuple[float, Tracker]:
    """Radar and one direction finder on a drone; the finder's bearings have `df_sigma_deg`
    of noise while the tracker is told 3 degrees. Returns the learnt variance scale."""
    rng = np.random.default_rng(seed)
    tracker = Tracker.from_config(TrackerConfig(calibrate_noise=calibrate), len(SIGMA))
    for k in range(240):
        t = 0.5 * k
        state = straight(t, DRONE)
        if k % 2 == 0:
            tracker.process(observe(RADAR, t, state, rng, None))
        z, _ = DF_A.predict(state[None, :])
        z = z + rng.normal(size=z.shape) * np.radians(df_sigma_deg)
        tracker.process(Scan(INDEX[DF_A], T0 + t + 0.01, z, (SIGMA[DF_A] ** 2)[None].copy(), DF_A))
    scale = 1.0 if tracker.calibration is None else float(tracker.calibration.scale[INDEX[DF_A], 0])
    return scale, tracker


@pytest.mark.parametrize("real_deg", [1.5, 3.0, 5.0])
def test_a_direction_finder_whose_datasheet_is_wrong_is_calibrated_from_radar_tracks(
    real_deg: float,
) -> None:
    """The learnt variance scale is (real / configured sigma)^2, within the median's spread."""
    expected = (real_deg / 3.0) ** 2
    for seed in SEEDS[:3]:
        scale, _ = run_with_real_noise(real_deg, calibrate=True, seed=seed)
        assert 0.7 * expected < scale < 1.4 * expected, (real_deg, seed, scale)
        off, _ = run_with_real_noise(real_deg, calibrate=False, seed=seed)
        assert off == 1.0


def heard(model: MeasurementModel, t: float, state: np.ndarray, rng, emitter: str) -> Scan:
    """A bearing of `model` that names its emitter."""
    scan = observe(model, t, state, rng, None)
    none = Labels.none(1)
    return Scan(
        scan.sensor,
        scan.t,
        scan.z,
        scan.var,
        model,
        Labels(none.class_probs, none.rcs_dbsm, [None], [emitter]),
    )


def fly_heard_drone(seed: int, radar_sees: bool) -> tuple[list[int], list[float]]:
    """A slow drone 2 km out heard by two direction finders 500 m apart (each naming its
    emitter), inside the radar's cover; the radar sees it or not (too small). Per second
    after 20 s: firm tracks, and the horizontal error of the nearest firm track."""
    from cuas.config import FriendlyConfig
    from cuas.tracking.identity import IdentityKeeper

    rng = np.random.default_rng(seed)
    drone = np.array([1400.0, 1500.0, 60.0, -6.0, 5.0, 0.0])
    tracker = Tracker.from_config(
        TrackerConfig(), len(SIGMA), annotators=[IdentityKeeper(FriendlyConfig())]
    )
    firm_counts, errors = [], []
    for k in range(240):
        t = 0.5 * k
        state = straight(t, drone)
        if k % 2 == 0:
            radar = observe(RADAR, t, state, rng, None)
            if not radar_sees:
                radar = Scan(radar.sensor, radar.t, radar.z[:0], radar.var[:0], RADAR)
            tracker.process(radar)
        for i, model in enumerate((DF_A, DF_B)):
            tracker.process(heard(model, t + 0.01 * (i + 1), state, rng, "OCU-1"))
        table = tracker.tracks
        firm = np.flatnonzero(table.status[: table.n] != TENTATIVE)
        if t >= 20.0 and k % 2 == 0:
            firm_counts.append(int(firm.size))
            d = np.hypot(*(table.x[firm, :2] - state[:2]).T) if firm.size else np.array([np.inf])
            errors.append(float(d.min()))
    return firm_counts, errors


def test_a_drone_too_small_for_the_radar_is_tracked_by_two_finders_within_300_m() -> None:
    """The radar looks and sees nothing, but two finders hear one emitter there: a
    transmitter, confirmed by what hears it, and placed within 300 m most of the time."""
    within = []
    for seed in SEEDS:
        firm, errors = fly_heard_drone(seed, radar_sees=False)
        within += [e < 300.0 for e in errors]
        assert max(firm) <= 1, seed
    assert np.mean(within) >= 0.8, np.mean(within)


# A third camera, north of the camp, whose field of regard reaches the drone but whose real
# detection range (a datasheet half too long) does not.
CAM_BLIND = CameraModel(place(0.0, 500.0))


def fly_seen_hidden_drone(seed: int, seen_from_s: float = 0.0) -> list[float]:
    """A drone the radar cannot see, 2 km out, heard by two finders naming its emitter and
    seen by two cameras at four scans a second with a Pd of 0.6 from `seen_from_s` on; a
    third camera covers it and never sees it. Per second after `seen_from_s` + 10 s, the
    distance from the drone of the nearest firm track holding its emitter id (inf: none)."""
    from cuas.config import FriendlyConfig
    from cuas.tracking.identity import IdentityKeeper

    rng = np.random.default_rng(seed)
    drone = np.array([1400.0, 1500.0, 60.0, -6.0, 5.0, 0.0])
    blind = len(SIGMA)
    tracker = Tracker.from_config(
        TrackerConfig(), blind + 1, annotators=[IdentityKeeper(FriendlyConfig())]
    )
    errors = []
    for k in range(int(4 * (seen_from_s + 60.0))):
        t = 0.25 * k
        state = straight(t, drone)
        if k % 4 == 0:
            radar = observe(RADAR, t, state, rng, None)
            tracker.process(Scan(radar.sensor, radar.t, radar.z[:0], radar.var[:0], RADAR))
        for model in (CAM_A, CAM_B):
            scan = observe(model, t + 0.01, state, rng, None)
            if rng.random() >= 0.6 or t < seen_from_s:
                scan = Scan(scan.sensor, scan.t, scan.z[:0], scan.var[:0], model)
            tracker.process(scan)
        none = np.zeros((0, 2))
        tracker.process(Scan(blind, T0 + t + 0.02, none, none.copy(), CAM_BLIND))
        if k % 2 == 0:
            for i, model in enumerate((DF_A, DF_B)):
                tracker.process(heard(model, t + 0.03 + 0.01 * i, state, rng, "OCU-1"))
        table = tracker.tracks
        if t >= seen_from_s + 10.0 and k % 4 == 0:
            firm = table.status[: table.n] != TENTATIVE
            mine = np.flatnonzero(firm & (table.emitter_id[: table.n] == "OCU-1"))
            d = np.hypot(*(table.x[mine, :2] - state[:2]).T)
            errors.append(float(d.min()) if mine.size else np.inf)
    return errors


def test_a_hidden_drone_that_cameras_see_is_tracked_where_they_see_it() -> None:
    """Cameras place a drone the radar cannot see to metres; the finders only to hundreds.
    Before, the cameras' tracks never lived: each look of the blind camera, and each look of
    the others that missed (Pd 0.6), counted against them under 3-of-4 during the 3 s a track
    of cameras alone must live. Now a camera that never saw a tentative track charges it no
    misses, and the others only once it has gone unseen for a second: the cameras' track
    takes the emitter id and holds the drone within 50 m, whether they see it from the start
    or only after the finders' track of it has stood for 20 s."""
    for seen_from_s in (0.0, 20.0):
        within = []
        for seed in SEEDS[:3]:
            within += [e < 50.0 for e in fly_seen_hidden_drone(seed, seen_from_s)]
        assert np.mean(within) >= 0.8, (seen_from_s, np.mean(within))


# Two finders 750 m apart on the perimeter, and a drone 2.4 km out nearly in line with them:
# their bearings meet at about 6 degrees, under two of their sigmas (3.5 degrees each).
DF_WEST = BearingModel(place(-400.0, 0.0))
DF_EAST = BearingModel(place(350.0, 0.0))
IN_LINE_SIGMA = np.radians([3.5])


def in_line_nees(seed: int) -> list[float]:
    """Horizontal NEES of the drone's firm track, from its confirmation on, for 60 s."""
    rng = np.random.default_rng(seed)
    drone = np.array([2100.0, 800.0, 80.0, -3.0, 3.0, 0.0])
    tracker = Tracker.from_config(TrackerConfig(), n_sensors=2)
    nees = []
    for k in range(120):
        t = 0.5 * k
        state = straight(t, drone)
        for i, model in enumerate((DF_WEST, DF_EAST)):
            z, _ = model.predict(state[None, :])
            z = z + rng.normal(size=z.shape) * IN_LINE_SIGMA
            none = Labels.none(1)
            labels = Labels(none.class_probs, none.rcs_dbsm, [None], ["OCU-7"])
            var = (IN_LINE_SIGMA**2)[None].copy()
            tracker.process(Scan(i, T0 + t + 0.01 * i, z, var, model, labels))
        table = tracker.tracks
        firm = np.flatnonzero(table.status[: table.n] != TENTATIVE)
        if firm.size:
            row = int(firm[np.argmin(np.hypot(*(table.x[firm, :2] - state[:2]).T))])
            e = (state - table.x[row])[:2]
            nees.append(float(e @ np.linalg.solve(table.P[row][:2, :2], e)))
    return nees


def test_a_drone_nearly_in_line_with_two_finders_is_tracked_with_an_honest_covariance() -> None:
    """Bearings that meet at a narrow angle place a drone poorly in range, and a track must
    say so from its first seconds and keep saying so. Started at the crossing of two noisy
    bearings with the crossing's linearised covariance, a track sat a kilometre short of the
    drone claiming 250 m (NEES about 30 on the worst seeds) and alerted on a zone the drone
    was not in. Started from the pair's whole likelihood, its extended Kalman updates still
    shrank its covariance around a wrong range now and then (2 % of instants outside the
    99 % region, one seed's mean 5.7); refitted every 2 s from its recent lines of sight as
    a whole, it errs as it says (0.6 %, worst seed 3.3)."""
    per_seed = [np.array(in_line_nees(seed)) for seed in range(8)]
    assert all(len(n) > 20 for n in per_seed), "the drone must be tracked"
    every = np.concatenate(per_seed)
    assert np.mean(every) < 2.5
    assert max(np.mean(n) for n in per_seed) < 4.5
    assert np.mean(every > 9.21) < 0.015  # chi-square 99 % with two degrees of freedom


def test_a_drone_the_radar_sees_and_the_finders_hear_is_one_track() -> None:
    for seed in SEEDS:
        firm, errors = fly_heard_drone(seed, radar_sees=True)
        assert max(firm) == 1 and min(firm) == 1, (seed, firm)
        assert np.median(errors) < 30.0, seed


# A finder 300 m short of a pair of drones that the radar, 2 km away, sees 40 m apart across
# its beam: one resolution cell, so at times it reports one plot for the two.
NEAR_DF = BearingModel(place(20.0, 1700.0))
NEAR_DF_SIGMA = np.radians([1.0])


def fly_pair_in_one_cell(seed: int, merged_from_s: float, merged_s: float) -> list[int]:
    """Two drones hovering 40 m apart 2 km north of the radar, each on its own control link
    that the near finder hears (its bearings 7.6 degrees apart); from `merged_from_s` for
    `merged_s` the radar reports one plot for the two, nearer the first (its echo the
    stronger). Per second: firm tracks within 60 m of the pair's midpoint."""
    from cuas.config import FriendlyConfig
    from cuas.tracking.identity import IdentityKeeper

    rng = np.random.default_rng(seed)
    drones = [np.array([-20.0, 2000.0, 80.0, 0, 0, 0]), np.array([20.0, 2000.0, 80.0, 0, 0, 0])]
    df = len(SIGMA)
    tracker = Tracker.from_config(
        TrackerConfig(), df + 1, annotators=[IdentityKeeper(FriendlyConfig())]
    )
    none = Labels.none(1)
    kept = []
    for k in range(int(2 * (merged_from_s + merged_s + 2.0))):
        t = 0.5 * k
        if k % 2 == 0:
            merged = merged_from_s <= t < merged_from_s + merged_s
            seen = [0.75 * drones[0] + 0.25 * drones[1]] if merged else drones
            z = np.concatenate([observe(RADAR, t, d, rng, None).z for d in seen])
            var = np.tile(SIGMA[RADAR] ** 2, (len(seen), 1))
            tracker.process(Scan(INDEX[RADAR], T0 + t, z, var, RADAR))
        for i, drone in enumerate(drones):
            z, _ = NEAR_DF.predict(drone[None, :])
            z = z + rng.normal(size=z.shape) * NEAR_DF_SIGMA
            labels = Labels(none.class_probs, none.rcs_dbsm, [None], [f"OCU-{i}"])
            var = (NEAR_DF_SIGMA**2)[None].copy()
            tracker.process(Scan(df, T0 + t + 0.01 * (i + 1), z, var, NEAR_DF, labels))
        if k % 2 == 0:
            table = tracker.tracks
            firm = np.flatnonzero(table.status[: table.n] != TENTATIVE)
            mid = 0.5 * (drones[0][:2] + drones[1][:2])
            kept.append(int((np.hypot(*(table.x[firm, :2] - mid).T) < 60.0).sum()))
    return kept


def test_a_radar_track_whose_plot_a_neighbour_took_is_not_buried_as_a_ghost() -> None:
    """For 4 s the radar sees the pair as one plot, which one track takes. The other,
    still fed its drone's bearings, was counted as looked at and unseen, and the ghost
    rule buried it after three scans (three drones of random camp 24's swarm, which the
    radar alone kept); the radar saw something there, and it lives on."""
    for seed in SEEDS[:3]:
        kept = fly_pair_in_one_cell(seed, merged_from_s=20.0, merged_s=4.0)
        assert min(kept[15:20]) == 2, (seed, kept)  # both tracked before the merge
        assert min(kept[20:]) == 2, (seed, kept)


def radar_track_beside_a_transmitter(
    seed: int,
    seen: np.ndarray,
    hidden: np.ndarray,
    heard_from_s: float,
    seconds: float,
) -> tuple[TrackTable, float]:
    """A drone hovering at `seen` that the radar sees, and a transmitter flying from `hidden`
    that the radar cannot see, heard by both finders from `heard_from_s` on. Returns the
    final track table and the share of the last 60 s with a firm track within 300 m of the
    transmitter."""
    from cuas.config import FriendlyConfig
    from cuas.tracking.identity import IdentityKeeper

    rng = np.random.default_rng(seed)
    tracker = Tracker.from_config(
        TrackerConfig(), len(SIGMA), annotators=[IdentityKeeper(FriendlyConfig())]
    )
    near = []
    for k in range(int(2 * seconds)):
        t = 0.5 * k
        target = straight(t, hidden)
        if k % 2 == 0:
            tracker.process(observe(RADAR, t, seen, rng, None))
        if t < heard_from_s:
            continue
        for i, model in enumerate((DF_A, DF_B)):
            tracker.process(heard(model, t + 0.01 * (i + 1), target, rng, "OCU-1"))
        table = tracker.tracks
        if t >= seconds - 60.0:
            firm = np.flatnonzero(table.status[: table.n] != TENTATIVE)
            d = np.hypot(*(table.x[firm, :2] - target[:2]).T)
            near.append(bool((d < 300.0).any()))
    return tracker.tracks, float(np.mean(near))


def test_a_radar_track_at_the_edge_of_a_hidden_emitters_bearings_does_not_keep_them() -> None:
    """A hovering drone that the radar has tracked for 20 s stands 400 m short of a hidden
    transmitter that starts transmitting, where both finders' bearings of the transmitter
    pass 8 degrees (2.7 sigmas) to the same side of it: inside its gate, but never through
    it (the loiterer of random camp 4 took the hidden drone's emitter so). Bearings that fit
    a track only at the edge of its gate, always, are another emitter's: the radar track
    gives the emitter id up, and the transmitter gets a track of its own within 300 m."""
    hidden = np.array([1400.0, 1500.0, 60.0, -0.5, 0.3, 0.0])
    seen = np.array([1373.0, 1104.0, 80.0, 0.0, 0.0, 0.0])
    for seed in SEEDS[:3]:
        table, near = radar_track_beside_a_transmitter(seed, seen, hidden, 20.0, 140.0)
        firm = np.flatnonzero(table.status[: table.n] != TENTATIVE)
        on_seen = firm[np.hypot(*(table.x[firm, :2] - seen[:2]).T) < 100.0]
        assert on_seen.size == 1 and table.emitter_id[on_seen[0]] != "OCU-1", seed
        assert near >= 0.8, (seed, near)


# Random camp 11: a radar (east of the camp centre) tracks a flock 1.35 km south; a drone the
# radar cannot see hovers 370 m beyond it. One finder's bearings of the drone pass the flock
# 7 degrees east (2.8 of its sigmas, inside the gate), the other's 7 degrees (1.4 sigmas).
FLOCK_RADAR = RadarModel(place(254.0, -12.0, 15.0), with_range_rate=True)
FLOCK_DF_WEST = BearingModel(place(-52.0, -646.0))
FLOCK_DF_NORTH = BearingModel(place(239.0, 413.0))
# (configured, real) sigmas in degrees, as the camp's finders flew: quieter than their sheets.
FLOCK_DF_SIGMAS = {FLOCK_DF_WEST: (2.45, 1.84), FLOCK_DF_NORTH: (5.0, 2.8)}


def flock_beside_a_transmitter(seed: int) -> tuple[float, float]:
    """The share of the time the flock's radar track holds the hidden drone's emitter id once
    it is heard (after 10 s), and the radar track's mean distance from the flock then."""
    from cuas.config import FriendlyConfig
    from cuas.tracking.identity import IdentityKeeper

    rng = np.random.default_rng(seed)
    tracker = Tracker.from_config(TrackerConfig(), 3, annotators=[IdentityKeeper(FriendlyConfig())])
    flock = np.array([220.0, -1350.0, 40.0, 0.0, 0.0, 0.0])
    drone = np.array([475.0, -1622.0, 54.0, -0.5, -0.3, 0.0])
    held, off = [], []
    for k in range(120):
        t = 0.5 * k
        if k % 2 == 0:
            z, _ = FLOCK_RADAR.predict(flock[None, :])
            z = z + rng.normal(size=z.shape) * SIGMA[RADAR]
            tracker.process(Scan(0, T0 + t, z, (SIGMA[RADAR] ** 2)[None].copy(), FLOCK_RADAR))
        if t < 10.0:
            continue
        for i, model in enumerate((FLOCK_DF_WEST, FLOCK_DF_NORTH)):
            configured, real = FLOCK_DF_SIGMAS[model]
            z, _ = model.predict(straight(t, drone)[None, :])
            z = z + rng.normal(size=z.shape) * np.radians(real)
            none = Labels.none(1)
            labels = Labels(none.class_probs, none.rcs_dbsm, [None], ["OCU-HIDDEN"])
            var = np.array([[np.radians(configured) ** 2]])
            tracker.process(Scan(i + 1, T0 + t + 0.01 * (i + 1), z, var, model, labels))
        table = tracker.tracks
        placed = np.flatnonzero(table.last_hit[: table.n, 0] > -np.inf)
        held.append(bool((table.emitter_id[placed] == "OCU-HIDDEN").any()))
        off.append(float(np.hypot(*(table.x[placed, :2] - flock[:2]).T).min()))
    return float(np.mean(held)), float(np.mean(off))


def test_bearings_that_pass_a_radar_track_on_one_side_are_neither_its_own_nor_drag_it() -> None:
    """A radar track is updated by angles only inside a tighter gate (99 %), and a track loses
    an emitter id whose bearings, from one finder, lean to one side of it scan after scan,
    each well inside the gate. Before, the flock's track took the drone's emitter id for good,
    was dragged 30 m (up to 80 m) towards the drone by its bearings, and was alerted on as a
    drone; now it gives the id up within seconds and stays on the flock."""
    for seed in SEEDS[:3]:
        held, off = flock_beside_a_transmitter(seed)
        assert held < 0.15, (seed, held)
        assert off < 20.0, (seed, off)


def test_a_radar_track_on_the_line_of_a_hidden_emitter_does_not_keep_its_bearings() -> None:
    """A hovering drone the radar sees lies on one finder's line to a hidden transmitter 1 km
    beyond it: that finder's bearings fit both, the other finder's (14 degrees of parallax)
    fit only the transmitter. The radar track loses the emitter id and its bearings, and the
    transmitter gets a track of its own within 300 m."""
    hidden = np.array([1400.0, 1500.0, 60.0, -3.0, 2.0, 0.0])
    site = DF_A.geometry.frame.position
    seen = np.concatenate([site + 0.5 * (hidden[:3] - site), np.zeros(3)])
    seen[2] = 80.0
    for seed in SEEDS[:3]:
        table, near = radar_track_beside_a_transmitter(seed, seen, hidden, 0.0, 120.0)
        placed = np.flatnonzero(table.last_hit[: table.n, INDEX[RADAR]] > -np.inf)
        assert all(table.emitter_id[r] != "OCU-1" for r in placed), seed
        assert near >= 0.8, (seed, near)


def test_one_radar_plot_does_not_confirm_a_track_that_crossing_lines_of_sight_began() -> None:
    # Two cameras cross their lines of sight on a point 1.2 km out where nothing flies (two
    # far objects' lines meet there), then one radar clutter plot falls in that track's
    # gate. The plot places the track, but is one plot: its M-of-N count starts there, and
    # the radar, looking again and seeing nothing, kills it. Confirmed at once, it had
    # coasted into an alert on nothing (random camp 4).
    rng = np.random.default_rng(3)
    tracker = Tracker.from_config(TrackerConfig(), n_sensors=len(SIGMA))
    point = np.array([200.0, 1200.0, 60.0, 0.0, 0.0, 0.0])
    for k in range(3):
        for model in (CAM_A, CAM_B):
            tracker.process(observe(model, 0.25 * k + 0.01 * INDEX[model], point, rng, None))
    table = tracker.tracks
    assert table.n == 1 and table.status[0] == TENTATIVE
    tracker.process(observe(RADAR, 0.8, point, rng, None))
    assert table.n == 1 and table.status[0] == TENTATIVE  # placed by one plot, not confirmed
    for k in range(1, 4):  # the radar looks again and sees nothing there
        empty = observe(RADAR, 0.8 + k, point, rng, None)
        tracker.process(replace(empty, z=empty.z[:0], var=empty.var[:0]))
    assert tracker.tracks.n == 0
