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
- a firm track's plot has its angles moved towards the weighted mean of the plots it cannot
  be told from: its own and those taken by tracks within two plot sigmas of it (`RESOLVED`);
  a bird's all the way, a drone's half-way (`PULL`).
  The tracks of an unresolved formation then stay near its middle, within the formation's
  width of each drone, instead of out at the cloud's extremes. A plot taken by a track the
  radar resolves from this one, or taken by none (it starts a track of its own), does not
  pull: JPDA pulls resolved neighbours together too (coalescence), and in a grid of fifty
  drones 40 m apart, one radar sigma at 2.5 km, that cost more than the spreading it cured;
- every firm track's angle variance is widened by the candidates' spread about that mean,
  each weighed by its likelihood for this track alone (as before the JPDA weights: those,
  lowered by the neighbours' claims, widened too little in the fifty-drone formation);
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

from cuas.tracking.classification import likely
from cuas.tracking.emitter_binding import log_det
from cuas.tracking.gating import Hypotheses

Array = NDArray[np.float64]
# Tracks whose predicted angles differ by more than this many of a plot's sigmas
# (Mahalanobis, over the angles) are resolved: their plots do not pull each other's tracks.
RESOLVED = 2.0
# How far a firm track's plot moves towards the weighted mean of those it cannot be told from
# (1: all the way, as JPDA's combined innovation), unless the track is likely a bird's
# (`_pulls`). Moved all the way, the plots of tracks that had come within RESOLVED of each
# other drew them together and held them there (JPDA's coalescence): in a 40 m formation at
# 1.3-2.1 km six tracks sat on three of its six drones (random camp 15, `--formation`), and
# 21 % of the formations' drone-cycles within 1.5 km had no track of their own (seeds 0-29).
# Not moved at all (the widening alone), 5 %, but far formations' tracks spread to their
# plots' edges again. A flock is one cloud to an operator, not birds to tell apart: its
# tracks' plots still move all the way, and moved half-way a flock kept more tracks than
# birds (random camps 0-29: the birds' false tracks +2.5 of GOSPA a camp).
PULL = 0.5


def _pulls(rows: NDArray[np.intp], class_logp: Array) -> Array:
    """How far the plots of tracks `rows` (class log-probabilities (n, C)) move towards the
    mean of those they cannot be told from: all the way for a track whose odds of a bird are
    even or better, `PULL` for the others (`classification.likely`)."""
    return np.where(likely(class_logp[rows], "bird"), 1.0, PULL)


def formation_plots(
    assigned: Hypotheses,
    gated: Hypotheses,
    n: int,
    angles: NDArray[np.bool_],
    firm: NDArray[np.bool_],
    var: Array,
    class_logp: Array | None = None,
) -> tuple[Array, Array]:
    """(what to add to each assigned plot's components, the variance to add to them), both
    aligned with `assigned` and zero where a track had no rival plot in its gate.

    `gated`: every gated pair of the scan; `n`: the track rows; `angles` flags the angle
    components among a plot's; `firm` (n,) the tracks whose plot may move to the mean; `var`
    the assigned plots' variances; `class_logp` (n, C) the tracks' class log-probabilities,
    which say how far each plot moves towards the mean (`PULL`; None: all the way).
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
    cluster = plots[gated.det].nonzero()[0]
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
    # A candidate taken by another track: the difference of the two tracks' innovations on
    # it is the difference of their predicted angles.
    taker = np.full(max(plots.size, int(assigned.det.max()) + 1), -1, dtype=np.intp)
    taker[assigned.det] = np.arange(len(assigned))
    by = taker[det[mine]]
    apart = y - assigned.y[np.maximum(by, 0)][:, angles]
    unresolved = (by >= 0) & (np.sum(apart**2 / var[row][:, angles], axis=1) < RESOLVED**2)
    mean = np.zeros((len(assigned), int(angles.sum())))
    np.add.at(mean, row, w * offset * unresolved[:, None])
    # How unsure the plot is: the candidates weighed by their likelihood for this track
    # alone, as a track without neighbours would weigh them (cheap JPDA's weights, lowered
    # by the neighbours' claims, widened too little in a fifty-drone formation).
    alone = np.exp(-0.5 * np.maximum(gated.d2[cluster[mine]] - assigned.d2[row], -50.0))
    alone = (alone / np.bincount(row, alone, minlength=len(assigned))[row])[:, None]
    first = np.zeros_like(mean)  # the candidates' first and second moments about the plot
    np.add.at(first, row, alone * offset)
    second = np.zeros_like(mean)
    np.add.at(second, row, alone * offset**2)
    pull = 1.0 if class_logp is None else _pulls(assigned.track, class_logp)
    moves = firm[assigned.track] * pull
    mean = mean * moves[:, None]
    shift[:, angles] = mean
    # sum_k w_k (offset_k - mean)^2, the candidates' spread about where the plot is moved
    spread[:, angles] = np.maximum(second - 2.0 * mean * first + mean**2, 0.0)
    return shift, spread
