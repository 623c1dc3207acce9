"""What each site's lines of sight say a track is: sites that disagree see two objects.

Two cameras' lines of sight, or a camera's and a finder's, cross wherever two objects stand
near them, and where their crossing moves like a target it may pass every test of geometry.
What each site sees can still tell: on random camp 14 without its radar, one camera's lines
to the loiterer (labelled drone) crossed another camera's lines to a bird flock 1.9 km out
(labelled bird) 400 m from anything, and the crossing was confirmed as a drone and warned
of. The issue's rule for a track made of angles alone: confirmed only where the sites'
labels agree.

Per track and site, `TrackTable.site_drone_odds` keeps the log odds of drone against bird
that the site's detections given to the track said (a camera's label, a finder's link
protocol), each sighting's at most `STEP` nats, with a memory of `MEMORY` per sighting.
A track of angles alone is not confirmed while one site's odds say drone by `MARGIN` nats
or more and another's say bird by as much (`disagree`). A label of "unknown" says
neither, and a drone that a far camera now and then calls a bird stays a drone on the
odds.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cuas.tracking.tracks import TrackTable
from cuas.wire import CLASSES

Array = NDArray[np.float64]
Index = NDArray[np.intp]

DRONE, BIRD = CLASSES.index("drone"), CLASSES.index("bird")
MEMORY = 0.9  # per sighting
STEP = 4.0  # nats one sighting may move the odds, either way
MARGIN = 4.0  # nats each way that make two sites disagree
FLOOR = 1e-3  # a class probability of 0 counts as this


def record(table: TrackTable, rows: Index, sensor: int, class_probs: Array) -> None:
    """Fold the class probabilities (k, len(CLASSES)) of one site's detections given to
    tracks `rows` (one detection per track) into those tracks' odds for that site; a
    detection that says nothing (NaN) leaves them."""
    known = ~np.isnan(class_probs).any(axis=1)
    if not known.any():
        return
    rows, probs = rows[known], np.maximum(class_probs[known], FLOOR)
    step = np.clip(np.log(probs[:, DRONE] / probs[:, BIRD]), -STEP, STEP)
    odds = table.site_drone_odds[rows, sensor].astype(np.float64)
    table.site_drone_odds[rows, sensor] = MEMORY * odds + step


def disagree(odds: Array, recent: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Per track (rows of `odds`, (n, sensors)), whether one of the sites that saw it
    recently (`recent`, (n, sensors)) says drone by `MARGIN` and another bird by as much."""
    drone = (recent & (odds >= MARGIN)).any(axis=1)
    bird = (recent & (odds <= -MARGIN)).any(axis=1)
    return drone & bird
