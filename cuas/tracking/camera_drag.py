"""Radar tracks that a camera's lines drag onto another target, found by the radar's plots.

A camera's line of sight is fine across and says nothing along it. Where a camera misses a
swarm drone, its line to a neighbour further along almost the same direction can fall in
that drone's radar track's gate, and nothing rivals it there if the neighbour's own track
stands off its drone. Taken, the line moves the track onto the neighbour's direction at
the first drone's range, with a sigma of metres across the line, and the camera's next
lines to the neighbour fit it best. The radar's plots, tens of metres wide, cannot pull
back a track the camera holds to a few metres: on random camp 1120 one camera's lines held
a swarm member's track 36-127 m off its drone for 20 s, the radar updating it all along,
and the drone had no track of its own (8 % of the swarm's drone-cycles near the camp,
against under 1 % with the radar alone).

The radar then sees the track to one side, plot after plot, as `EmitterIds.check_radar`
finds a track that an emitter's bearings drag: while cameras feed a track, the running mean
of the radar's normalised azimuth residuals (`TrackTable.camera_lean`, `LEAN_MEMORY` a plot)
stays within about its own sigma `s0` of zero on a track the camera sees where the radar
does. Once it leans `LEAN_SIGMAS` of `s0`, no camera may update the track for the sensor
memory (`TrackTable.cameras_barred_until`): the radar's plots alone place it again, and
then the camera's lines are judged afresh, where the drone's own fits it best.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import running_lean
from cuas.tracking.gating import Hypotheses
from cuas.tracking.tracks import TrackTable

Index = NDArray[np.intp]

LEAN_MEMORY = 0.9  # the memory of `TrackTable.camera_lean` per radar plot
LEAN_SIGMAS = 3.5  # ... and how far from zero, in its own sigmas, says the track is dragged
AZIMUTH = 1  # a radar plot's azimuth, in its measurement vector


def check(
    table: TrackTable, assigned: Hypotheses, fed: NDArray[np.bool_], t: float, bar_s: float
) -> Index:
    """A radar scan's plots `assigned` to tracks, those whose tracks cameras `fed` (one flag
    per pair): their tracks' leans move by the plots' normalised azimuth residuals; a track
    whose lean reaches `LEAN_SIGMAS` is barred from cameras until `t + bar_s`, and its lean
    starts over. Returns the rows found dragged."""
    pairs = np.flatnonzero(fed)
    if not pairs.size:
        return pairs
    rows = assigned.track[pairs]
    z = assigned.y[pairs, AZIMUTH] / np.sqrt(assigned.S[pairs, AZIMUTH, AZIMUTH])
    lean = running_lean.step(table.camera_lean[rows], z, LEAN_MEMORY)
    dragged = np.abs(lean) >= LEAN_SIGMAS * running_lean.sigma(LEAN_MEMORY)
    table.camera_lean[rows] = np.where(dragged, 0.0, lean)
    out = rows[dragged]
    table.cameras_barred_until[out] = t + bar_s
    return out


def barred(table: TrackTable, t: float) -> NDArray[np.bool_]:
    """Rows no camera may update at `t` (`check` found them dragged)."""
    return table.cameras_barred_until[: table.n] > t
