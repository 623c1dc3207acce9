"""Which track of a tight formation carries a radio link, from the bearings that name it.

A direction finder's bearing 2 km out spans about 100 m: in a swarm flying 40 m apart it falls
in the gates of several tracks, and whichever took it would be pulled onto a neighbour's line
of sight, so the tracker uses it for none (it is *ambiguous*). It still says, weakly, which of
those tracks the emitter it names is on: the one whose direction fits that emitter's bearings
best, over many bearings and from more than one site. `EmitterEvidence` keeps, per emitter, a
decaying log-likelihood of each candidate track from such bearings, and names the track once it
leads every other candidate by `margin` nats. The tracker then gives the track that emitter id,
and from then on the emitter's bearings go to it alone: a labelled measurement, which the
unlabelled radar plots of a formation (swapped between neighbours from scan to scan) cannot
take away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


@dataclass
class _Tally:
    """One emitter's evidence: log-likelihood per candidate track id, decayed together."""

    t: float
    weight: float = 0.0  # decayed number of bearings
    scores: dict[int, float] = field(default_factory=dict)
    sensors: set[int] = field(default_factory=set)


class EmitterEvidence:
    """Decaying log-likelihoods of (emitter, track) from ambiguous bearings; see the module
    docstring. A candidate missing from a bearing's gate scores that bearing at the gate's
    edge, so leaving the gate counts against a track, never for it."""

    def __init__(
        self,
        margin: float = 4.0,
        half_life_s: float = 20.0,
        min_bearings: float = 6.0,
        min_sensors: int = 2,
        max_emitters: int = 1024,
    ) -> None:
        self.margin = margin
        self.half_life_s = half_life_s
        self.min_bearings = min_bearings
        self.min_sensors = min_sensors
        self.max_emitters = max_emitters
        self._tallies: dict[str, _Tally] = {}

    def __len__(self) -> int:
        return len(self._tallies)

    def observe(
        self,
        t: float,
        emitter: str,
        sensor: int,
        track_ids: NDArray[np.int64],
        d2: Array,
        log_det_s: Array,
        threshold: float,
    ) -> int | None:
        """Add one bearing naming `emitter`, gated with the candidate tracks `track_ids` at
        squared distances `d2` (innovation covariances of log-determinant `log_det_s`);
        returns the track id it now binds to, or None. `threshold` is the gate's."""
        tally = self._tallies.get(emitter)
        if tally is None:
            if len(self._tallies) >= self.max_emitters:
                oldest = min(self._tallies, key=lambda e: self._tallies[e].t)
                del self._tallies[oldest]
            tally = self._tallies[emitter] = _Tally(t)
        decay = 0.5 ** (max(t - tally.t, 0.0) / self.half_life_s)
        tally.t = t
        tally.weight = tally.weight * decay + 1.0
        tally.sensors.add(sensor)
        loglik = -0.5 * (d2 + log_det_s)
        edge = float(np.min(-0.5 * (threshold + log_det_s)))
        here = dict(zip(track_ids.tolist(), loglik.tolist(), strict=True))
        for tid in set(tally.scores) | set(here):
            tally.scores[tid] = tally.scores.get(tid, 0.0) * decay + here.get(tid, edge)
        if tally.weight < self.min_bearings or len(tally.sensors) < self.min_sensors:
            return None
        ranked = sorted(tally.scores.items(), key=lambda kv: kv[1], reverse=True)
        if len(ranked) < 2 or ranked[0][1] - ranked[1][1] < self.margin:
            return None
        return ranked[0][0]

    def forget(self, emitter: str) -> None:
        """The emitter is bound (or its track gone): start its evidence afresh if needed."""
        self._tallies.pop(emitter, None)

    def prune(self, live_track_ids: set[int]) -> None:
        """Drop the scores of tracks that no longer exist."""
        for tally in self._tallies.values():
            for tid in [tid for tid in tally.scores if tid not in live_track_ids]:
                del tally.scores[tid]


def log_det(S: Array) -> Array:
    """log |S| of a stack of small covariance matrices."""
    if S.shape[-1] == 1:
        return np.log(S[:, 0, 0])
    return np.linalg.slogdet(S)[1]
