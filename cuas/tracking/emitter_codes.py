"""A scan's emitter ids as integer codes, so that (track, bearing) pairs compare them as numbers.

A direction finder's bearing may name the emitter it heard (`Scan.labels.emitter_id`), and a
track may hold one (`TrackTable.emitter_id`). Routing, screening and the emitter-id rules ask
of thousands of pairs a scan whether the two name the same emitter: as codes of the scan's own
lookup (0: none; -1 for a held id the scan never names) that is an integer comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count, repeat

import numpy as np
from numpy.typing import NDArray

Index = NDArray[np.intp]


@dataclass(frozen=True)
class EmitterCodes:
    """A scan's emitter ids as integer codes (0: none), so pairs compare them as numbers."""

    codes: NDArray[np.int64]  # per detection
    lookup: dict[str | None, int]  # emitter id -> code, None -> 0

    @classmethod
    def of(cls, names: list[str | None]) -> EmitterCodes:
        lookup = dict(zip(dict.fromkeys([None, *names]), count(), strict=False))
        return cls(np.fromiter(map(lookup.__getitem__, names), np.int64, len(names)), lookup)

    @property
    def count(self) -> int:
        return len(self.lookup)

    @property
    def any(self) -> bool:
        return len(self.lookup) > 1

    def held(self, ids: NDArray[np.object_]) -> NDArray[np.int64]:
        """Codes of emitter ids the tracks hold (None: 0, one this scan does not name: -1)."""
        return np.fromiter(map(self.lookup.get, ids.tolist(), repeat(-1)), np.int64, ids.shape[0])

    def holders(self, held: NDArray[np.int64]) -> Index:
        """Per code, the last track row holding it (-1: none); `held` from `held`."""
        out = np.full(len(self.lookup) + 1, -1, dtype=np.intp)  # the last: held codes of -1
        rows = (held > 0).nonzero()[0]
        out[held[rows]] = rows  # duplicates: numpy writes the last
        out[0] = -1
        return out[:-1]
