"""Grouping a radar's plots into scans: one wire report per scan."""

from __future__ import annotations

from sensors.radar_jsonl.plots import Plot


class ScanGrouper:
    """Collects consecutive plots of one scan; hands each scan back once it is complete.

    A plot's scan is its `scan` field, or its time when it has none. `now` is a monotonic
    clock reading, used only for the idle timeout.
    """

    def __init__(self, timeout_s: float = 0.2, max_plots: int = 5000) -> None:
        self.timeout_s = timeout_s
        self.max_plots = max_plots
        self._plots: list[Plot] = []
        self._key: object = None
        self._last_added = 0.0

    def add(self, plot: Plot, now: float) -> list[list[Plot]]:
        """Add a plot; return the scans it completed (the previous one, or a full one)."""
        done: list[list[Plot]] = []
        key = ("scan", plot.scan) if plot.scan is not None else ("time", plot.t)
        if self._plots and key != self._key:
            done.append(self._take())
        self._key = key
        self._plots.append(plot)
        self._last_added = now
        if len(self._plots) >= self.max_plots:
            done.append(self._take())
        return done

    def due(self, now: float) -> list[Plot] | None:
        """The pending scan if no plot has arrived for `timeout_s`."""
        if self._plots and now - self._last_added >= self.timeout_s:
            return self._take()
        return None

    def flush(self) -> list[Plot] | None:
        """The pending scan, whatever its age (end of stream)."""
        return self._take() if self._plots else None

    def _take(self) -> list[Plot]:
        plots, self._plots = self._plots, []
        return plots
