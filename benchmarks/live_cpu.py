"""Where the live core's CPU goes: the live benchmark's stream through the pipeline, offline.

The live benchmark (`live.py`) shares the machine's cores with its load generator, broker and
subscriber, so its latencies say as much about the machine as about the core. This runs the
same stream (four radars, 200 drones, the rate given) through `FusionPipeline` as the service
drives it (hold each report, fuse what is due, a track update every `--update-every` reports,
cycles and updates encoded for both transports), with no I/O, and reports the main thread's
CPU per report by stage and per 1,000 detections a second: the figures that transfer from one
machine to another. Stage times are the thread's CPU, so time the process spends descheduled
does not count; run it alternately against the code before for a comparison
(`PYTHONPATH=OLD_TREE python benchmarks/live_cpu.py`, from OLD_TREE).

    .venv/bin/python -m benchmarks.live_cpu                  # 50,000/s, 3,000 reports, ~30 s
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.live import RADARS, TARGETS, write_camp
from cuas import wire
from cuas.config import load_config
from cuas.fusion.pipeline import FusionPipeline
from cuas.fusion.scans import ScanBuilder
from cuas.topics import report_topic
from cuas.tracking.tracker import Tracker
from simulators.radar import SimulatedRadar
from simulators.targets.benchmark import NcvSwarm

WARMUP = 500  # reports fused before the clock starts (track table full, kernels warm)

# (class, method, stage): what each stage's time is taken from.
STAGES: list[tuple[type, str, str]] = [
    (FusionPipeline, "hold", "decode, validate, hold"),
    (ScanBuilder, "build", "scan building"),
    (Tracker, "process", "tracker"),
    (FusionPipeline, "_alerts_after", "per-scan threat and alerts"),
    (FusionPipeline, "_cycle", "cycles"),
    (FusionPipeline, "take_update", "track updates"),
]


def stream(rate: float, reports: int) -> tuple[Path, list[tuple[str, bytes, float]]]:
    """The live benchmark's camp and `reports` of its generator's messages (topic, payload,
    measurement time), measured in a row at `rate` detections/s (offered)."""
    camp = write_camp(Path(tempfile.mkdtemp()), 1883, rate)
    config = load_config(camp)
    frame = config.local_frame()
    rng = np.random.default_rng(1)
    radars = [
        SimulatedRadar.from_camp(s, frame, rng, p_detection=0.9, clutter_per_scan=2.0)
        for s in config.sensors
    ]
    swarm = NcvSwarm(TARGETS, rng, center=radars[0].frame.position)
    step = TARGETS * RADARS / rate / RADARS
    out = []
    t0 = 1.8e9
    for k in range(reports):
        t = t0 + k * step
        swarm.step(step)
        snap = swarm.snapshot(t)
        radar = radars[k % RADARS]
        report = radar.scan(t, snap.enu, snap.vel)
        out.append((report_topic(radar.sensor.id), wire.to_msgpack(report), t))
    return camp, out


def timed(spent: Counter[str], stage: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """`method`, adding the thread CPU time of each call to `spent[stage]`."""

    def call(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return method(*args, **kwargs)
        finally:
            spent[stage] += time.thread_time() - start

    return call


def run(rate: float, reports: int, update_every: int) -> tuple[float, Counter[str], int]:
    """CPU ms per report (whole), by stage, and the detections per report, over the run."""
    camp, messages = stream(rate, reports)
    pipeline = FusionPipeline(load_config(camp), track_updates=True)
    spent: Counter[str] = Counter()
    for cls, name, stage in STAGES:
        setattr(cls, name, timed(spent, stage, getattr(cls, name)))
    gc.collect()
    gc.freeze()
    start = 0.0
    for i, (topic, payload, t) in enumerate(messages):
        if i == WARMUP:
            spent.clear()
            start = time.thread_time()
        pipeline.hold(topic, payload, received=t + 0.001)
        while (outputs := pipeline.fuse_next(t + 0.05)) is not None:
            encode(outputs, spent)
        if i % update_every == 0 and (update := pipeline.take_update()) is not None:
            encode([update], spent)
    n = len(messages) - WARMUP
    total = (time.thread_time() - start) / n * 1e3
    detections = pipeline.counters().detections / len(messages)
    return total, Counter({k: v / n * 1e3 for k, v in spent.items()}), round(detections)


def encode(outputs: list[Any], spent: Counter[str]) -> None:
    """Cycles and updates as the service sends them: MessagePack (ZeroMQ) and JSON (MQTT)."""
    start = time.thread_time()
    for o in outputs:
        if isinstance(o, wire.TrackCycle | wire.TrackUpdate):
            wire.to_msgpack(o)
            wire.to_json(o)
    spent["encoding (MessagePack and JSON)"] += time.thread_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=50_000.0, help="offered detections/s")
    parser.add_argument("--reports", type=int, default=3000)
    parser.add_argument("--update-every", type=int, default=5)
    args = parser.parse_args(argv)
    total, stages, per_report = run(args.rate, args.reports, args.update_every)
    reports_per_s = args.rate / TARGETS
    intake_k = per_report * reports_per_s / 1000.0
    share = total * reports_per_s / 1000.0
    print(f"{total:.3f} ms of CPU a report of {per_report} detections ({reports_per_s:.0f}/s)")
    for stage, ms in stages.most_common():
        print(f"  {stage:32s} {ms:.3f} ms ({ms / total:.0%})")
    print(
        f"at {args.rate:.0f}/s offered ({intake_k:.1f}k det/s taken in): {share:.0%} of a core, "
        f"{share / intake_k:.2%} of a core per 1k det/s (pipeline only: no sockets, no MQTT)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
