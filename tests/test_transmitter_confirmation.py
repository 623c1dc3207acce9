"""Without a radar at work, a track two finders hear one emitter on is confirmed by what hears
it, even where a camera looks: in a loose swarm a camera's lines are contested, and its looks
were never an opportunity to confirm (random camp 10 without its radar)."""

from __future__ import annotations

import numpy as np
from support.sites import all_round_site

from cuas.config import FriendlyConfig, TrackerConfig
from cuas.geodesy import LocalFrame
from cuas.tracking.identity import IdentityKeeper
from cuas.tracking.measurements import BearingModel, CameraModel
from cuas.tracking.scan import Labels, Scan
from cuas.tracking.tracker import Tracker
from cuas.tracking.tracks import TENTATIVE
from cuas.wire import CLASSES

FRAME = LocalFrame(8.65, 24.50, 600.0)
T0 = 1_764_000_000.0
FINDERS = (
    BearingModel(all_round_site(FRAME, -400.0, 0.0, 10.0)),
    BearingModel(all_round_site(FRAME, 400.0, 0.0, 10.0)),
)
CAMERA = CameraModel(all_round_site(FRAME, 0.0, -300.0, 12.0))
BEARING_SIGMA = np.radians([1.5])
CAMERA_SIGMA = np.radians([0.2, 0.2])
START = np.array([-300.0, 1200.0, 60.0])
VELOCITY = np.array([3.0, -6.0, 0.0])  # inbound, slowly
LINK = "ELRS-5A1F0"


def drone_label(n: int) -> Labels:
    probs = np.zeros((n, len(CLASSES)))
    probs[:, CLASSES.index("drone")] = 0.9
    probs[:, CLASSES.index("bird")] = 0.05
    probs[:, CLASSES.index("unknown")] = 0.05
    return Labels(probs, Labels.none(n).rcs_dbsm, [None] * n, [None] * n)


def fly(seconds: float) -> tuple[Tracker, np.ndarray]:
    """No radar. The finders hear the drone's link once a second each; four times a second
    the camera sees it with a swarm neighbour half a degree aside, two lines neither of which
    it can give the track alone. Returns the tracker and the drone's last position."""
    rng = np.random.default_rng(11)
    keeper = IdentityKeeper(FriendlyConfig())  # tracks hold the emitter ids they hear
    tracker = Tracker.from_config(TrackerConfig(), 3, annotators=[keeper])
    here = START
    for k in range(int(seconds * 4)):
        t = 0.25 * k
        here = START + VELOCITY * t
        state = np.r_[here, VELOCITY][None]
        if k % 2 == 0:
            finder = FINDERS[(k // 2) % 2]
            z, _ = finder.predict(state)
            z = z + rng.normal(size=z.shape) * BEARING_SIGMA
            labels = Labels(
                np.full((1, len(CLASSES)), np.nan), Labels.none(1).rcs_dbsm, [None], [LINK]
            )
            var = (BEARING_SIGMA**2)[None].copy()
            tracker.process(Scan((k // 2) % 2, T0 + t, z, var, finder, labels))
        z, _ = CAMERA.predict(state)
        lines = np.vstack([z, z + np.radians([0.5, 0.0])])
        lines = lines + rng.normal(size=lines.shape) * CAMERA_SIGMA
        var = np.repeat((CAMERA_SIGMA**2)[None], 2, axis=0)
        tracker.process(Scan(2, T0 + t + 0.1, lines, var, CAMERA, drone_label(2)))
    return tracker, here


def test_a_transmitter_two_finders_hear_is_confirmed_where_a_camera_cannot_tell() -> None:
    tracker, drone = fly(40.0)
    tracks = tracker.tracks
    n = tracks.n
    firm = tracks.status[:n] != TENTATIVE
    near = np.hypot(*(tracks.x[:n, :2] - drone[:2]).T) < 150.0
    assert (firm & near).any()
    assert (tracks.emitter_id[:n][firm & near] == LINK).all()
