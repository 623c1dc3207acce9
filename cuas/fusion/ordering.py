"""Measurement-time ordering: a reorder window with per-sensor watermarks.

Sensors deliver with different latencies, but each sensor's own reports arrive in time
order. A report measured at `t` can therefore be released as soon as every other sensor has
either delivered something measured at or after `t`, or can no longer deliver anything that
old: its *watermark* is `max(last t it delivered, now - its latency bound)`, where the bound
is the sensor's own worst latency (default: the window). Releasing up to
the lowest watermark gives measurement-time order with the least delay: a lone sensor is
fused at once, several sensors wait only for each other, and a dead one delays nobody by
more than the window.

The bound adapts (`observe`): once a sensor has shown `min_samples` delays (arrival minus
measurement time), its bound is a quantile of its recent delays plus a small margin, never
more than the configured bound. A camp of well-behaved sensors on a LAN then waits
milliseconds, not the worst case; a report later than the adapted bound is late, and the
caller fuses it by retrodiction. Until then, and for a sensor never heard, the configured
bound holds.

A sensor whose newest report reached the core later than its configured bound (told by
`push`'s `received`) is delivering a *backlog*: a reconnect flushing its send queue, a burst of
old reports. The rest of it may be on its way already, sent but not yet readable (in ZeroMQ's
I/O threads or on loopback, tens of milliseconds on a starved machine), so while its backlog
arrives its watermark is the last t it delivered, whatever the wall clock says: nothing is
released, and no cycle emitted, past what it has delivered, for at most its configured bound
from the backlog's first report (a dead sensor delays nobody longer than a silent one). A
report of it on time again ends the backlog. Without this, a clock tick between two pieces of
one backlog moved the picture past the second piece, which was then late (and refused beyond
the retrodiction limit) although it had been sent with the first.

`now` is the wall clock in the live service and the newest measurement time seen in a
replay (`None`), so a replay depends on nothing but its input (backlogs are a live matter:
a replay waits for nothing). A report older than what has already been released is *late*:
it is refused (the tracker cannot go back in time) and the caller counts it. Ties keep their
arrival order.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(order=True)
class _Entry(Generic[T]):
    t: float
    arrival: int
    item: T = field(compare=False)


@dataclass
class AdaptiveBound:
    """A source's latency bound from the delays it shows: the `quantile` of its last `keep`
    delays plus `margin_s`, capped by the configured `ceiling_s`."""

    ceiling_s: float
    quantile: float = 0.99
    margin_s: float = 0.005
    min_samples: int = 32
    keep: int = 512
    every: int = 16  # recompute after this many new delays
    delays: deque[float] = field(default_factory=deque)
    fresh: int = 0

    def add(self, delay: float) -> float | None:
        """Record one delay; the new bound when it was recomputed, else None."""
        self.delays.append(max(delay, 0.0))
        if len(self.delays) > self.keep:
            self.delays.popleft()
        self.fresh += 1
        if len(self.delays) < self.min_samples or self.fresh < self.every:
            return None
        self.fresh = 0
        ordered = sorted(self.delays)
        q = ordered[min(len(ordered) - 1, int(self.quantile * len(ordered)))]
        return min(q + self.margin_s, self.ceiling_s)


class ReorderBuffer(Generic[T]):
    """Holds items until no source can still deliver an earlier one, then releases them."""

    def __init__(
        self,
        window_s: float,
        sources: Iterable[str] | Mapping[str, float | None] = (),
        adaptive: bool = False,
        quantile: float = 0.99,
        margin_s: float = 0.005,
    ) -> None:
        """`sources`: the sensor ids, or a mapping of id to its latency bound (None: window).
        With `adaptive`, each bound follows the `quantile` of the delays `observe` is told,
        plus `margin_s`, within the configured bound."""
        self.window_s = window_s
        self._heap: list[_Entry[T]] = []
        self._arrivals = 0
        bounds = sources if isinstance(sources, Mapping) else dict.fromkeys(sources)
        self._latency = {k: window_s if v is None else v for k, v in bounds.items()}
        self._configured = dict(self._latency)
        self.adaptive = adaptive
        self._quantile = quantile
        self._margin_s = margin_s
        self._adapt: dict[str, AdaptiveBound] = {}
        self._last: dict[str, float] = dict.fromkeys(self._latency, float("-inf"))
        # Sources delivering a backlog: (wall time its first report arrived, its latest's).
        self._backlog: dict[str, tuple[float, float]] = {}
        self.newest = float("-inf")
        self.released_until = float("-inf")

    def push(
        self, t: float, item: T, source: str | None = None, received: float | None = None
    ) -> bool:
        """Queue an item measured at `t`; False (and nothing queued) if it is already late.
        `received`: the wall time it reached the core (live), which tells a backlog."""
        if t < self.released_until:
            return False
        heapq.heappush(self._heap, _Entry(t, self._arrivals, item))
        self._arrivals += 1
        self.newest = max(self.newest, t)
        if source is not None:
            self._last[source] = max(self._last.get(source, float("-inf")), t)
            self._latency.setdefault(source, self.window_s)
            if received is not None:
                self._arrived(source, t, received)
        return True

    def _arrived(self, source: str, t: float, received: float) -> None:
        """Note whether `source`'s report measured at `t`, received at `received`, came
        later than its configured bound: then it is delivering a backlog (module doc)."""
        bound = self._configured.get(source, self.window_s)
        if received - t <= bound:
            self._backlog.pop(source, None)  # on time: whatever it had queued is in
            return
        began, latest = self._backlog.get(source, (received, received))
        if received - latest > bound:  # silent longer than its bound since: a new backlog
            began = received
        self._backlog[source] = (began, received)

    def _backlog_until(self, source: str) -> float:
        """The wall time until which `source`'s backlog holds its watermark (-inf: none)."""
        backlog = self._backlog.get(source)
        if backlog is None:
            return -math.inf
        return backlog[0] + self._configured.get(source, self.window_s)

    def observe(self, source: str, delay_s: float) -> None:
        """A report from `source` arrived `delay_s` after it was measured (adaptive only)."""
        if not self.adaptive:
            return
        adapt = self._adapt.get(source)
        if adapt is None:
            ceiling = self._configured.get(source, self.window_s)
            adapt = self._adapt[source] = AdaptiveBound(ceiling, self._quantile, self._margin_s)
        bound = adapt.add(delay_s)
        if bound is not None:
            self._latency[source] = bound

    def latency_bound(self, source: str) -> float:
        """How long the buffer waits for `source` now (adapted, or as configured)."""
        return self._latency.get(source, self.window_s)

    def horizon(self, now: float | None = None) -> float:
        """Everything measured at or before this time can be released safely at wall time
        `now` (None: the newest time seen, as in a replay)."""
        held = now is not None and bool(self._backlog)  # a replay waits for no backlog
        now = self.newest if now is None else now
        if not self._last:
            return now - self.window_s
        return min(
            last if held and now < self._backlog_until(k) else max(last, now - self._latency[k])
            for k, last in self._last.items()
        )

    def due(self, t: float) -> float:
        """The earliest `now` at which the horizon reaches `t` if nothing more arrives: the
        wait for the sources that have not yet delivered anything measured at `t` (and for
        the end of their backlogs)."""
        if not self._last:
            return t + self.window_s
        return max(
            (
                max(t + self._latency[k], self._backlog_until(k))
                for k, last in self._last.items()
                if last < t
            ),
            default=-math.inf,
        )

    @property
    def oldest(self) -> float | None:
        """The measurement time of the oldest item held, if any."""
        return self._heap[0].t if self._heap else None

    def release(self, now: float | None = None) -> Iterator[tuple[float, T]]:
        """Pop items up to the horizon at `now` (default: the newest time seen), oldest first."""
        yield from self.release_until(self.horizon(now))

    def release_until(self, horizon: float) -> Iterator[tuple[float, T]]:
        """Pop items measured at or before `horizon`, oldest first."""
        while self._heap and self._heap[0].t <= horizon:
            entry = heapq.heappop(self._heap)
            self.released_until = max(self.released_until, entry.t)
            yield entry.t, entry.item

    def flush(self) -> Iterator[tuple[float, T]]:
        """Release everything still held."""
        return self.release_until(float("inf"))

    def __len__(self) -> int:
        return len(self._heap)
