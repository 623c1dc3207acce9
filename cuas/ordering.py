"""Measurement-time ordering: a reorder window that releases reports oldest first.

Sensors deliver with different latencies. Reports are held until the newest measurement
time seen is `window_s` past them, then released in measurement-time order (ties keep their
arrival order). A report older than what has already been released is *late*: it is not
fused (the tracker cannot go back in time) and is counted by the caller.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(order=True)
class _Entry(Generic[T]):
    t: float
    arrival: int
    item: T = field(compare=False)


class ReorderBuffer(Generic[T]):
    """Holds items for `window_s` of measurement time and releases them in time order."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._heap: list[_Entry[T]] = []
        self._arrivals = 0
        self.newest = float("-inf")
        self.released_until = float("-inf")

    def push(self, t: float, item: T) -> bool:
        """Queue an item measured at `t`; False (and nothing queued) if it is already late."""
        if t < self.released_until:
            return False
        heapq.heappush(self._heap, _Entry(t, self._arrivals, item))
        self._arrivals += 1
        self.newest = max(self.newest, t)
        return True

    def release(self, until: float | None = None) -> Iterator[tuple[float, T]]:
        """Pop items with t <= `until` (default: newest - window), oldest first."""
        horizon = self.newest - self.window_s if until is None else until
        while self._heap and self._heap[0].t <= horizon:
            entry = heapq.heappop(self._heap)
            self.released_until = max(self.released_until, entry.t)
            yield entry.t, entry.item

    def flush(self) -> Iterator[tuple[float, T]]:
        """Release everything still held."""
        return self.release(float("inf"))

    def __len__(self) -> int:
        return len(self._heap)
