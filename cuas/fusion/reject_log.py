"""Counting rejected input without flooding the log.

Every rejection is counted by (source, reason); each reason is logged at most once per
interval, with the number suppressed since, so a source spewing garbage costs a counter
increment, not a log line per message. Used by the core's ingest and by sensor adapters.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

_log = logging.getLogger("cuas.fusion.ingest")


class RejectLog:
    """Counts rejects by (source, reason); logs each reason at most once per interval."""

    def __init__(
        self,
        interval_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger = _log,
        what: str = "rejected",
    ) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self.logger = logger
        self.what = what
        self.counts: Counter[tuple[str, str]] = Counter()
        self.last_reason: str | None = None
        self._last_logged: dict[str, float] = {}
        self._suppressed: Counter[str] = Counter()

    def add(self, source: str, reason: str, detail: str, n: int = 1) -> None:
        """Count `n` rejects of `source` for `reason`; log unless logged within the interval."""
        self.counts[(source, reason)] += n
        self.last_reason = reason
        now = self.clock()
        last = self._last_logged.get(reason)
        if last is not None and now - last < self.interval_s:
            self._suppressed[reason] += n
            return
        more = self._suppressed.pop(reason, 0)
        suffix = f" (+{more} more since last logged)" if more else ""
        self.logger.warning("%s from %s: %s: %s%s", self.what, source, reason, detail, suffix)
        self._last_logged[reason] = now

    def by_reason(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for (_, reason), n in self.counts.items():
            out[reason] += n
        return out

    @property
    def total(self) -> int:
        return sum(self.counts.values())
