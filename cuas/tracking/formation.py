"""Radar plots of a formation, weighed by what they may be (JPDA on the angles).

Drones of a formation closer together than the radar's cross-range noise (35 m apart at
3 km, where 1.5 degrees of azimuth noise is 80 m) give plots that the nearest-neighbour
choice hands to the wrong neighbour scan after scan. Taken as they come, the outermost plot
goes to the outermost track at every scan, so a formation's tracks spread to the extremes of
the plots' cloud, about twice the formation's width: they stray more than 100 m from their
drones, and their identities swap.

JPDA (Bar-Shalom and Fortmann) weighs every plot in a track's gate by the probability that it
is the track's. With the association probabilities of cheap JPDA (Fitzgerald, 1985),

    beta_ij = G_ij / (sum_j G_ij + sum_i G_ij - G_ij),    G the plots' Gaussian likelihoods,

a plot that another track explains better weighs little, and plots that every track of a
formation explains alike weigh alike. The nearest-neighbour choice still says which plot a
track took (for its hits, its noise calibration, its new tracks); only the update uses the
weights:
- a firm track's plot has its angles replaced by the candidates' weighted mean, and its angle
  variance widened by their spread about that mean: the tracks of an unresolved formation
  stay near its middle, within the formation's width of each drone, instead of out at the
  cloud's extremes;
- a tentative track keeps its plot's angles, widened by the candidates' spread about it: its
  gate is still wide (its speed is unknown), and the mean of everything in it pulled a new
  bird track 100 m onto a drone's bearings.
The widening is capped at the plot's own variance (a plot counts at least half) so that
tracks in a dense swarm, where every plot has many rivals, still follow their drones. Only
the angles are weighed: the radar resolves range to a few metres against a formation's
30-40 m, and slowing the range updates let a flock of birds outrun its tracks.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cuas.tracking.emitter_binding import log_det
from cuas.tracking.gating import Hypotheses

Array = NDArray[np.float64]


def formation_plots(
    assigned: Hypotheses,
    gated: Hypotheses,
    n: int,
    angles: NDArray[np.bool_],
    firm: NDArray[np.bool_],
) -> tuple[Array, Array]:
    """(what to add to each assigned plot's components, the variance to add to them), both
    aligned with `assigned` and zero where a track had no rival plot in its gate.

    `gated`: every gated pair of the scan; `n`: the track rows; `angles` flags the angle
    components among a plot's; `firm` (n,) the tracks whose plot may move to the mean.
    """
    shift = np.zeros_like(assigned.y)
    spread = np.zeros_like(assigned.y)
    if not len(assigned) or len(gated) <= len(assigned):
        return shift, spread
    at = np.full(n, -1, dtype=np.intp)
    at[assigned.track] = np.arange(len(assigned))
    i = at[gated.track]
    rival = (i >= 0) & (gated.det != assigned.det[np.maximum(i, 0)])
    if not rival.any():
        return shift, spread
    # The plots in the gates of tracks with a rival, and every track that gates those plots:
    # the clusters whose association probabilities are needed.
    rivalled = np.zeros(n, dtype=bool)
    rivalled[gated.track[rival]] = True
    plots = np.zeros(int(gated.det.max()) + 1, dtype=bool)
    plots[gated.det[rivalled[gated.track]]] = True
    cluster = np.flatnonzero(plots[gated.det])
    track, det = gated.track[cluster], gated.det[cluster]
    log_g = -0.5 * (gated.d2[cluster] + log_det(gated.subset(cluster).S))
    g = np.exp(log_g - log_g.max())  # beta is unchanged by a common factor
    by_track = np.bincount(track, g, minlength=n)
    by_plot = np.bincount(det, g, minlength=plots.size)
    beta = g / np.maximum(by_track[track] + by_plot[det] - g, np.finfo(float).tiny)
    mine = rivalled[track]  # a rivalled track's candidates, its own plot among them
    row, beta, y = at[track[mine]], beta[mine], gated.subset(cluster[mine]).y[:, angles]
    total = np.bincount(row, beta, minlength=len(assigned))
    w = (beta / np.maximum(total[row], np.finfo(float).tiny))[:, None]
    offset = y - assigned.y[row][:, angles]  # from the plot the track took
    mean = np.zeros((len(assigned), int(angles.sum())))
    np.add.at(mean, row, w * offset)
    about = np.zeros_like(mean)
    np.add.at(about, row, w * offset**2)
    moves = firm[assigned.track][:, None]
    shift[:, angles] = np.where(moves, mean, 0.0)
    spread[:, angles] = np.maximum(about - np.where(moves, mean**2, 0.0), 0.0)
    return shift, spread
