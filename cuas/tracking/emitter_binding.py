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

The evidence of a whole scan is weighed at once, in flat arrays of (emitter, track) entries: a
camp with a few hundred emitters in formation costs a few array passes per direction-finder
scan, not a loop over bearings.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import kernels, pair_kernels

Array = NDArray[np.float64]
Index = NDArray[np.intp]
_SHIFT = np.int64(1) << np.int64(40)  # an entry's key: emitter slot * _SHIFT + track id


class EmitterEvidence:
    """Decaying log-likelihoods of (emitter, track) from ambiguous bearings; see the module
    docstring. A candidate missing from a later bearing's gate scores that bearing at the
    gate's edge, so leaving the gate counts against a track, never for it."""

    def __init__(
        self,
        margin: float = 4.0,
        half_life_s: float = 20.0,
        min_bearings: float = 6.0,
        min_sensors: int = 2,
        max_emitters: int = 4096,
        hopeless: float = 12.0,
    ) -> None:
        self.margin = margin
        self.hopeless = hopeless
        self.half_life_s = half_life_s
        self.min_bearings = min_bearings
        self.min_sensors = min_sensors
        self.max_emitters = max_emitters
        self._index: dict[str, int] = {}  # emitter -> its slot in the per-emitter arrays
        self._t = np.zeros(0)  # last bearing of each emitter
        self._weight = np.zeros(0)  # decayed number of bearings
        self._sites = np.zeros(0, dtype=np.uint64)  # bit (sensor index mod 64) per site heard
        # Entries, one per (emitter slot, candidate track id), kept sorted by their key.
        self._key = np.zeros(0, dtype=np.int64)
        self._score = np.zeros(0)

    def __len__(self) -> int:
        return len(self._index)

    def _slots(self, names: list[str], t: float) -> Index:
        """Slots of `names`, opening one for each emitter not seen before (the one heard
        longest ago gives up its slot once `max_emitters` are kept)."""
        index = self._index
        new = [name for name in names if name not in index]
        if len(index) + len(new) > self.max_emitters:
            return self._slots_evicting(names, t)
        if new:  # the arrays grow once per scan, not once per new emitter
            index.update(zip(new, self._grow(len(new), t), strict=True))
        return np.fromiter(map(index.__getitem__, names), dtype=np.intp, count=len(names))

    def _grow(self, count: int, t: float) -> range:
        """`count` new slots at the end of the per-emitter arrays, heard first at `t`."""
        first = self._sites.size
        self._t = np.concatenate([self._t, np.full(count, t)])
        self._weight = np.concatenate([self._weight, np.zeros(count)])
        self._sites = np.concatenate([self._sites, np.zeros(count, dtype=np.uint64)])
        return range(first, first + count)

    def _slots_evicting(self, names: list[str], t: float) -> Index:
        """`_slots` for a scan that must evict: the emitters heard longest ago, of those
        this scan does not name, give up their slots, all at once. (One at a time, each
        eviction searched every emitter and every entry: at 5,000 drones on their own
        links, 4,096 kept, that was 85 % of the replay.)"""
        index = self._index
        new = list(dict.fromkeys(name for name in names if name not in index))
        evict = min(len(index) + len(new) - self.max_emitters, len(new))
        reused: list[int] = []
        if evict > 0:
            named = {index[name] for name in names if name in index}
            others = [e for e, slot in index.items() if slot not in named]
            ages = self._t[np.fromiter(map(index.__getitem__, others), np.intp, len(others))]
            gone = [others[i] for i in np.argsort(ages, kind="stable")[:evict].tolist()]
            self.forget(gone)
            reused = [index.pop(e) for e in gone]
        grow = len(new) - len(reused)  # a scan naming more than the cap keeps them all
        if grow > 0:
            reused += self._grow(grow, t)
        for name, slot in zip(new, reused, strict=True):
            index[name] = slot
            self._t[slot] = t
        return np.fromiter(map(index.__getitem__, names), dtype=np.intp, count=len(names))

    def observe(
        self,
        t: float,
        sensor: int,
        names: list[str],
        bearing: Index,
        track_ids: NDArray[np.int64],
        d2: Array,
        log_det_s: Array,
        threshold: float,
    ) -> dict[str, int]:
        """Weigh one scan's ambiguous bearings: bearing i names emitter `names[i]` (each
        emitter once) and gated with candidate `track_ids[p]` at squared distance `d2[p]`
        where `bearing[p] == i` (innovation covariances of log-determinant `log_det_s`; the
        gate's `threshold`). Returns the emitters now bound, with their track ids."""
        slots = self._slots(names, t)
        decay = 0.5 ** (np.maximum(t - self._t[slots], 0.0) / self.half_life_s)
        self._t[slots] = t
        self._weight[slots] = self._weight[slots] * decay + 1.0
        self._sites[slots] |= np.uint64(1) << np.uint64(sensor % 64)
        loglik = -0.5 * (d2 + log_det_s)
        if kernels.ENABLED:
            edge = pair_kernels.least_per(bearing, -0.5 * (threshold + log_det_s), len(names))
        else:
            edge = np.full(len(names), np.inf)
            np.minimum.at(edge, bearing, -0.5 * (threshold + log_det_s))
        at = np.full(self._sites.size, -1, dtype=np.intp)
        at[slots] = np.arange(len(names))
        slot = slots[bearing]
        pair_key = slot.astype(np.int64) * _SHIFT + track_ids.astype(np.int64)
        order = _key_order(pair_key, slot, self._sites.size)
        if kernels.ENABLED:  # the same passes compiled; the code below is the reference
            self._key, self._score, won = kernels.evidence_observe(
                self._key,
                self._score,
                at,
                decay,
                edge,
                pair_key[order],
                loglik[order],
                bearing[order],
                self._ready(slots),
                int(_SHIFT),
                self.hopeless,
                self.margin,
            )
            slot, tid = divmod(won, _SHIFT)
            return dict(zip([names[i] for i in at[slot].tolist()], tid.tolist(), strict=True))
        # Entries of this scan's emitters: decayed, then the edge for every candidate of
        # theirs this bearing did not gate; this bearing's own pairs are added (or opened).
        emitter_of = self._key // _SHIFT
        mine = at[emitter_of] >= 0
        i = at[emitter_of[mine]]
        self._score[mine] = self._score[mine] * decay[i] + edge[i]
        needles = pair_key[order]
        at_key = np.searchsorted(self._key, needles)
        found = at_key < self._key.size
        found[found] &= self._key[at_key[found]] == needles[found]
        hit = order[found]
        self._score[at_key[found]] += loglik[hit] - edge[bearing[hit]]
        if not found.all():  # new candidates, merged in key order (the needles are sorted)
            new = ~found
            self._key = np.insert(self._key, at_key[new], needles[new])
            self._score = np.insert(self._score, at_key[new], loglik[order[new]])
        self._drop_hopeless(slots)
        return self._decide(slots, names)

    def _drop_hopeless(self, slots: Index) -> None:
        """Forget the candidates of `slots` that trail their emitter's best by more than
        `hopeless` nats (the runner-up excepted): they would need dozens of bearings to lead,
        and kept they made the evidence grow with every track a crowded bearing touched."""
        runs = self._runs(slots)
        if runs is None:
            return
        pick, score, first, run, best = runs
        # The runner-up: the best score below the best (ties with the best are all kept).
        second = np.maximum.reduceat(np.where(score == best[run], -np.inf, score), first)
        drop = pick[(score < best[run] - self.hopeless) & (score < second[run])]
        if drop.size:
            keep = np.ones(self._key.size, dtype=bool)
            keep[drop] = False
            self._key, self._score = self._key[keep], self._score[keep]

    def _decide(self, slots: Index, names: list[str]) -> dict[str, int]:
        """The emitters among `slots` whose best candidate leads the next by the margin."""
        runs = self._runs(slots[self._ready(slots)])
        if runs is None:
            return {}
        pick, score, first, run, best = runs
        top = (score == best[run]).nonzero()[0]
        top = top[np.r_[True, run[top][1:] != run[top][:-1]]]  # the first best of each run
        rest = score.copy()
        rest[top] = -np.inf  # the next: a tie with the best leads by nothing
        count = np.diff(np.r_[first, pick.size])
        lead = np.where(count >= 2, best - np.maximum.reduceat(rest, first), -np.inf)
        key = self._key[pick[top[lead >= self.margin]]]
        name_of = {s: names[i] for i, s in enumerate(slots.tolist())}
        return {
            name_of[int(e)]: int(tid)
            for e, tid in zip((key // _SHIFT).tolist(), (key % _SHIFT).tolist(), strict=True)
        }

    def _ready(self, slots: Index) -> NDArray[np.bool_]:
        """Which of `slots` have heard enough bearings, from enough sites, to be decided."""
        return (self._weight[slots] >= self.min_bearings) & (
            np.bitwise_count(self._sites[slots]) >= self.min_sensors
        )

    def _runs(self, slots: Index) -> tuple[Index, Array, Index, Index, Array] | None:
        """The entries of `slots`, grouped by emitter: entries are sorted by key, so each
        emitter's candidates are one run, reduced without a sort. Returns (entry indices,
        their scores, each run's first position, each entry's run, each run's best score), or
        None when the slots hold no entry."""
        if not slots.size or not self._key.size:
            return None
        wanted = np.zeros(self._sites.size, dtype=bool)
        wanted[slots] = True
        pick = wanted[self._key // _SHIFT].nonzero()[0]
        if not pick.size:
            return None
        e, score = self._key[pick] // _SHIFT, self._score[pick]
        first = np.r_[True, e[1:] != e[:-1]].nonzero()[0]
        run = np.repeat(np.arange(first.size), np.diff(np.r_[first, e.size]))
        return pick, score, first, run, np.maximum.reduceat(score, first)

    def forget(self, emitters: list[str]) -> None:
        """The emitters are bound: their evidence starts afresh if it is ever needed again."""
        slots = [self._index[e] for e in emitters if e in self._index]
        if not slots:
            return
        keep = ~np.isin(self._key // _SHIFT, slots)
        self._key, self._score = self._key[keep], self._score[keep]
        for slot in slots:
            self._weight[slot] = 0.0
            self._sites[slot] = 0

    def prune(self, live_track_ids: NDArray[np.int64]) -> None:
        """Drop the entries of tracks that no longer exist."""
        if self._key.size:
            keep = np.isin(self._key % _SHIFT, live_track_ids)
            self._key, self._score = self._key[keep], self._score[keep]


def _key_order(pair_key: NDArray[np.int64], slot: Index, slots: int) -> Index:
    """np.argsort(pair_key): sorted needles search a sorted array far faster. A scan's pairs
    come track by track, so within one emitter their track ids usually ascend already: a
    counting sort by emitter slot gives the same order in linear time (checked; where it does
    not, the comparison sort). Keys are unique: each emitter's bearing gates a track once."""
    if kernels.ENABLED:
        order, ordered = kernels.order_by_high(pair_key, slot, slots)
        if ordered:
            return order
    return np.argsort(pair_key)


def log_det(S: Array) -> Array:
    """log |S| of a stack of small covariance matrices."""
    if S.shape[-1] == 1:
        return np.log(S[:, 0, 0])
    return np.linalg.slogdet(S)[1]
