"""A track of angles alone is confirmed only where its sites agree on what it is
(cuas/tracking/site_classes.py): one camera's lines to a drone crossing another's to a bird
are two objects, however well the lines meet."""

from __future__ import annotations

import numpy as np

from cuas.config import TrackerConfig
from cuas.geodesy import LocalFrame
from cuas.tracking import site_classes
from cuas.tracking.coverage import SensorGeometry
from cuas.tracking.measurements import CameraModel
from cuas.tracking.scan import Labels, Scan
from cuas.tracking.tracker import Tracker
from cuas.tracking.tracks import TENTATIVE, TrackTable
from cuas.wire import CLASSES

FRAME = LocalFrame(8.65, 24.50, 600.0)
T0 = 1_764_000_000.0
SIGMA = np.radians([0.2, 0.2])


def place(lat: float, lon: float, alt: float = 612.0) -> SensorGeometry:
    return SensorGeometry(FRAME.sensor_frame(lat, lon, alt), 0.0, 5000.0, 0.0, 360.0, -10.0, 90.0)


CAM_NW = CameraModel(place(8.65226, 24.49682))
CAM_SE = CameraModel(place(8.64774, 24.50318))


def label(name: str, confidence: float = 0.85) -> np.ndarray:
    """A detector's label as class probabilities: `confidence` on it, the rest on the two
    other labels a camera gives (drone, bird, unknown)."""
    probs = np.zeros(len(CLASSES))
    others = [c for c in ("drone", "bird", "unknown") if c != name]
    probs[CLASSES.index(name)] = confidence
    probs[[CLASSES.index(c) for c in others]] = (1.0 - confidence) / 2
    return probs


# --- the odds themselves ------------------------------------------------------------------


def table(sites: int = 3) -> TrackTable:
    t = TrackTable(n_sensors=sites)
    t.add(np.zeros((1, 6)), np.eye(6)[None], 0.0, 0)
    return t


def test_each_sighting_moves_its_sites_odds_by_its_drone_to_bird_ratio_with_a_memory() -> None:
    tracks, row = table(), np.array([0])
    site_classes.record(tracks, row, 1, label("drone")[None])
    first = np.log(0.85 / 0.075)
    assert tracks.site_drone_odds[0, 1] == np.float32(first)
    site_classes.record(tracks, row, 1, label("unknown", 0.6)[None])  # says neither
    assert tracks.site_drone_odds[0, 1] == np.float32(site_classes.MEMORY * first)
    site_classes.record(tracks, row, 1, np.full((1, len(CLASSES)), np.nan))  # says nothing
    assert tracks.site_drone_odds[0, 1] == np.float32(site_classes.MEMORY * first)
    site_classes.record(tracks, row, 2, label("bird", 1.0)[None])  # capped
    assert tracks.site_drone_odds[0, 2] == -site_classes.STEP
    assert tracks.site_drone_odds[0, 0] == 0.0


def test_sites_disagree_only_when_each_is_sure_and_both_saw_the_track_lately() -> None:
    m = site_classes.MARGIN
    odds = np.array([[0.0, m, -m], [0.0, m, -m + 0.1], [0.0, m, -m], [m, 2 * m, 0.0]])
    recent = np.array([[0, 1, 1], [0, 1, 1], [0, 1, 0], [1, 1, 1]], dtype=bool)
    assert site_classes.disagree(odds, recent).tolist() == [True, False, False, False]


# --- in the tracker -----------------------------------------------------------------------


def ghost_run(nw_says: str, se_says: str, seconds: float = 30.0) -> tuple[Tracker, np.ndarray]:
    """Two cameras, five looks a second each: CAM_NW sees an object beyond the point G on
    its line, CAM_SE another beyond G on its own, so that their lines meet at G as at one
    target, labelled `nw_says` and `se_says`. Returns the tracker and G at the end."""
    rng = np.random.default_rng(2)
    tracker = Tracker.from_config(TrackerConfig(), n_sensors=2)
    g0, v = np.array([300.0, 500.0, 120.0]), np.array([-4.0, -3.0, 0.0])
    g = g0
    for k in range(int(seconds * 5)):
        for sensor, (camera, says) in enumerate(((CAM_NW, nw_says), (CAM_SE, se_says))):
            t = 0.2 * k + 0.1 * sensor
            g = g0 + v * t
            site = camera.geometry.frame.position
            seen = site + 1.6 * (g - site)  # farther along the same line of sight
            z, _ = camera.predict(np.r_[seen, np.zeros(3)][None])
            z = z + rng.normal(size=z.shape) * SIGMA
            none = Labels.none(1)
            labels = Labels(label(says)[None], none.rcs_dbsm, [None], [None])
            tracker.process(Scan(sensor, T0 + t, z, (SIGMA**2)[None].copy(), camera, labels))
    return tracker, g


def firm_near(tracker: Tracker, point: np.ndarray, within_m: float) -> int:
    tracks = tracker.tracks
    firm = tracks.status[: tracks.n] != TENTATIVE
    near = np.linalg.norm(tracks.x[: tracks.n, :3] - point, axis=1) < within_m
    return int((firm & near).sum())


def test_two_cameras_that_both_see_a_drone_where_their_lines_meet_confirm_it() -> None:
    tracker, g = ghost_run("drone", "drone")
    assert firm_near(tracker, g, 30.0) == 1


def test_a_camera_that_sees_a_drone_and_one_that_sees_a_bird_confirm_nothing() -> None:
    tracker, _ = ghost_run("drone", "bird")
    assert not (tracker.tracks.status[: tracker.tracks.n] != TENTATIVE).any()
