"""`cuas replay`: the full fusion pipeline over a recording, as fast as the CPU allows.

No network and no wall clock inside the pipeline: the output file (track cycles, alert
transitions, sensor health, in recording format) is byte-identical for identical input.
With `journal`, the alert transitions are also appended to that SQLite journal (recorded
as published: replay has no broker) for `cuas alerts`, and alert numbers continue the
journal's own, so ids stay unique in it. With `updates`, the tracks each report's scans
updated are written too (topic `track_updates`, one record per report that updated any, as
the live service publishes them when it keeps up); without it the output is as before.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import msgspec

from cuas import topics
from cuas.config import CampConfig, load_config
from cuas.fusion.alerts import Transition
from cuas.fusion.pipeline import FusionPipeline, PipelineOutput, recorded
from cuas.io.journal import Journal
from cuas.io.recording import RecordingReader, RecordingWriter

ALERT_LOG_LINES = 20


@dataclass
class ReplaySummary:
    """What a replay did; `to_dict` is the machine-readable form."""

    recording: str
    records: int = 0
    reports: int = 0
    statuses: int = 0
    detections: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    skipped_records: int = 0
    truncated: bool = False
    ignored_topics: int = 0
    not_fused: int = 0
    late_fused: int = 0  # reports later than the window, fused by retrodiction
    faults: dict[str, int] = field(default_factory=dict)  # scans, cycles lost to a defect
    tracks_initiated: int = 0
    tracks_confirmed: int = 0
    cycles: int = 0
    track_updates: int = 0
    alert_transitions: int = 0
    measurement_span_s: float = 0.0
    wall_s: float = 0.0
    # The first alert transitions other than `updated`, readable.
    alert_log: list[str] = field(default_factory=list)

    @property
    def detections_per_s(self) -> float:
        return self.detections / self.wall_s if self.wall_s > 0 else 0.0

    def to_dict(self) -> dict[str, object]:
        d = {k: v for k, v in self.__dict__.items() if k not in ("rejects", "alert_log")}
        d["rejects"] = dict(sorted(self.rejects.items()))
        d["detections_per_s"] = round(self.detections_per_s, 1)
        return d

    def render(self) -> str:
        rejects = ", ".join(f"{k} {v}" for k, v in sorted(self.rejects.items())) or "none"
        realtime = self.measurement_span_s / self.wall_s if self.wall_s > 0 else 0.0
        lines = [
            f"replay of {self.recording}",
            f"  records        {self.records}  (skipped {self.skipped_records}"
            + (", file truncated" if self.truncated else "")
            + ")",
            f"  reports        {self.reports}  (+{self.statuses} heartbeats)",
            f"  detections     {self.detections}",
            f"  rejected       {sum(self.rejects.values())}: {rejects}",
            f"  tracks         {self.tracks_initiated} initiated, "
            f"{self.tracks_confirmed} confirmed",
            f"  output         {self.cycles} track cycles, "
            + (f"{self.track_updates} track updates, " if self.track_updates else "")
            + f"{self.alert_transitions} alert transitions",
            f"  scenario time  {self.measurement_span_s:.1f} s",
            f"  wall time      {self.wall_s:.3f} s  ({realtime:.0f}x real time)",
            f"  throughput     {self.detections_per_s:,.0f} detections/s",
        ]
        if self.alert_log:
            lines.append("  alerts (scenario time, transition, level: reason; updates not shown)")
            lines += [f"    {line}" for line in self.alert_log]
            if self.alert_transitions > len(self.alert_log):
                lines.append(
                    f"    ... {self.alert_transitions - len(self.alert_log)} more, updates included"
                )
        if self.faults:
            lost = ", ".join(f"{n} {stage}s" for stage, n in sorted(self.faults.items()))
            lines.insert(5, f"  FAULTS         {lost} lost to a fault in fusion (see the log)")
        if self.late_fused:
            lines.insert(5, f"  late, fused    {self.late_fused} reports by retrodiction")
        if self.not_fused:
            lines.insert(5, f"  not fused      {self.not_fused} reports of kinds not fused yet")
        if self.ignored_topics:
            lines.insert(5, f"  ignored        {self.ignored_topics} records of other topics")
        return "\n".join(lines)


class _Progress:
    """A one-line progress bar on a terminal; silent otherwise."""

    def __init__(self, total: int, stream: TextIO, enabled: bool) -> None:
        self.total = max(total, 1)
        self.stream = stream
        self.enabled = enabled
        self._last = 0.0

    def show(self, done: int, detections: int, started: float) -> None:
        now = time.perf_counter()
        if not self.enabled or now - self._last < 0.2:
            return
        self._last = now
        fraction = min(done / self.total, 1.0)
        bar = "#" * int(fraction * 30)
        rate = detections / max(now - started, 1e-9)
        self.stream.write(f"\r[{bar:<30}] {fraction:6.1%}  {rate:,.0f} det/s")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """The objects alive now (modules, compiled kernels, the new pipeline) kept out of the
    cyclic collector while the replay runs, as `cuas run` keeps its start-up's: a full
    collection otherwise walks them all, about a tenth of a 1,000-drone replay."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def replay(
    recording: str | Path,
    config: CampConfig,
    out: str | Path,
    progress: bool | None = None,
    stream: TextIO = sys.stderr,
    journal: str | Path | None = None,
    updates: bool = False,
) -> ReplaySummary:
    """Run the pipeline over `recording`, writing its outputs to `out` (with `updates`, the
    per-scan track updates too)."""
    summary = ReplaySummary(recording=str(recording))
    reader = RecordingReader(recording)
    bar = _Progress(reader.size, stream, stream.isatty() if progress is None else progress)
    pipeline = FusionPipeline(config, track_updates=updates)
    record_to = Journal(journal, camp_id=config.camp_id) if journal is not None else None
    if record_to is not None:
        pipeline.restore_alerts([], record_to.next_alert_number())
    t_first: float | None = None
    t_last = 0.0
    started = time.perf_counter()
    with _frozen_heap(), RecordingWriter(out) as writer:

        def write(outputs: list[PipelineOutput]) -> None:
            if record_to is not None:  # journaled: the recorded alerts carry their `seq`
                seqs = iter(
                    record_to.append(
                        [o for o in outputs if isinstance(o, Transition)], published=True
                    )
                )
                outputs = [
                    Transition(msgspec.structs.replace(o.alert, seq=next(seqs)), o.subject)
                    if isinstance(o, Transition)
                    else o
                    for o in outputs
                ]
            for o in outputs:
                writer.write(*recorded(o))
                if (
                    isinstance(o, Transition)
                    and o.alert.state != "updated"
                    and len(summary.alert_log) < ALERT_LOG_LINES
                ):
                    a = o.alert
                    offset = a.t - (t_first if t_first is not None else a.t)
                    summary.alert_log.append(
                        f"+{offset:6.1f} s  {a.state:<10} {a.level:<8}: {a.reason}"
                    )

        for record in reader:
            summary.records += 1
            topic = record.topic
            if topics.is_report(topic):
                summary.reports += 1
            elif topics.is_status(topic):
                summary.statuses += 1
            else:
                summary.ignored_topics += 1
                continue
            write(pipeline.submit(topic, record.payload, record.t_received))
            if updates and (update := pipeline.take_update()) is not None:
                write([update])
            t = pipeline.newest_measurement
            if t_first is None and t > float("-inf"):
                t_first = t
            t_last = max(t_last, t)
            if summary.records % 64 == 0:
                bar.show(reader.offset, pipeline.counters().detections_fused, started)
        write(pipeline.flush())
    if record_to is not None:
        record_to.close()
    summary.wall_s = time.perf_counter() - started
    bar.close()
    counters = pipeline.counters()
    summary.detections = counters.detections
    summary.rejects = counters.rejects
    summary.skipped_records = reader.skipped
    summary.truncated = reader.truncated
    summary.not_fused = counters.not_fused
    summary.late_fused = counters.late_fused
    summary.faults = counters.faults
    summary.tracks_initiated = counters.tracks_initiated
    summary.tracks_confirmed = counters.tracks_confirmed
    summary.cycles = counters.cycles
    summary.track_updates = counters.track_updates
    summary.alert_transitions = counters.alert_transitions
    summary.measurement_span_s = (t_last - t_first) if t_first is not None else 0.0
    return summary


def _command(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if not Path(args.recording).is_file():
        print(f"cuas replay: {args.recording}: no such recording", file=sys.stderr)
        return 2
    progress = False if args.quiet else None
    summary = replay(
        args.recording,
        config,
        args.out,
        progress=progress,
        journal=args.journal,
        updates=args.updates,
    )
    if not args.quiet:
        print(summary.render())
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    return 0


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `cuas replay` on the `cuas` command line's subparsers."""
    p = subparsers.add_parser(
        "replay",
        help="run the fusion pipeline over a recording, as fast as possible",
        description="Run the full fusion pipeline over RECORDING (ordered by measurement "
        "time, no network) and write every track cycle, alert transition and sensor health "
        "message to OUT. Identical inputs give byte-identical outputs.",
    )
    p.add_argument("recording", help="recording file (MessagePack [t_received, topic, payload])")
    p.add_argument("--config", required=True, help="camp configuration (TOML)")
    p.add_argument("--out", required=True, help="output recording of tracks, alerts, health")
    p.add_argument("--summary-json", help="also write the summary as JSON to this file")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--journal", help="also append the alert transitions to this SQLite journal")
    p.add_argument(
        "--updates",
        action="store_true",
        help="also write the tracks each report's scans updated (topic track_updates)",
    )
    p.set_defaults(func=_command)
    return p
