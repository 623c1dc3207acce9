"""The scaling curve: how the fusion core's cost grows with the number of simultaneous targets.

For each N (default 10, 100, 1,000 and 5,000) it flies N drones at camp alpha, watched by
every sensor of the example camp (radar, two RF direction finders, two cameras, Remote ID),
records the run with the simulators' scenario machinery (no wall clock: identical bytes for
identical arguments), and replays it through the whole pipeline (`FusionPipeline`: ingest,
reorder window, scans, IMM tracker, classification, identity, threat, alerts, air picture)
as fast as one core allows. The drones start spread over a disc 400 m to 2.8 km from the
camp centre at 40-160 m altitude and fly straight, weaving a little, at 8-25 m/s on random
headings, each on its own RF link, so every sensor sees its share of them all the time.

It prints, per N: detections, reports (one scan each, before the scan builder splits
mixed-time reports), wall time per scan, detections per second, the real-time factor
(measurement span / wall time), and the memory per live track: the track table's bytes per
row; the tracker's whole state (table with its spare capacity, classifier and identity
keeper) beyond an empty tracker's; and the pipeline's whole retained state beyond an empty
pipeline's (alerts, air picture and its bounded caches included), each divided by the live
tracks at the end of the run.

    .venv/bin/python -m benchmarks.scaling [--targets 10 100 1000 5000] [--duration 20]
        [--repeat 3] [--json benchmarks/results/scaling.json]

`--repeat` replays each recording several times and reports the median wall time; det/cpu-s
is per second of this process's CPU time, steadier than wall time on a shared machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from cuas import topics
from cuas.config import CampConfig, load_config
from cuas.fusion.pipeline import FusionPipeline
from cuas.io.recording import read_records
from simulators.flight.recording import record
from simulators.scenario_library import Scenario, build_scenario
from simulators.targets.behaviours import Weave
from simulators.targets.target_set import TargetSet

CONFIG = Path(__file__).resolve().parent.parent / "config" / "camp.example.toml"


def scenario(config: CampConfig, n: int, duration_s: float, seed: int = 0) -> Scenario:
    """`n` drones spread over the camp's surroundings, each on its own RF link."""
    base = build_scenario("mixed", config, seed=seed, duration_s=duration_s)
    rng = np.random.default_rng(seed)
    r = np.sqrt(rng.uniform(400.0**2, 2800.0**2, n))
    bearing = rng.uniform(0.0, 2 * np.pi, n)
    heading = rng.uniform(0.0, 2 * np.pi, n)
    speed = rng.uniform(8.0, 25.0, n)
    alt = rng.uniform(40.0, 160.0, n)
    targets = []
    for i in range(n):
        start = np.array([r[i] * np.sin(bearing[i]), r[i] * np.cos(bearing[i]), alt[i]])
        course = speed[i] * (duration_s + 5.0) * np.array([np.sin(heading[i]), np.cos(heading[i])])
        end = start + np.array([course[0], course[1], 0.0])
        name = f"d{i:05d}"
        targets.append(
            Weave(
                target_id=name,
                start=tuple(float(v) for v in start),  # type: ignore[arg-type]
                end=tuple(float(v) for v in end),  # type: ignore[arg-type]
                speed_mps=float(speed[i]),
                amplitude_m=float(rng.uniform(2.0, 10.0)),
                period_s=float(rng.uniform(20.0, 40.0)),
                phase_deg=float(rng.uniform(0.0, 360.0)),
                rcs_dbsm=float(rng.uniform(-20.0, -10.0)),
                rf_emitter=f"ELRS-{name.upper()}",
                protocol="elrs",
            )
        )
    return replace(base, name=f"scaling-{n}", targets=TargetSet(targets), clutter_per_scan=3.0)


def deep_size(root: object) -> int:
    """Bytes reachable from `root`, each object counted once by `sys.getsizeof` (which, for a
    numpy array owning its data, includes the buffer; a view counts its header and its base)."""
    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, np.ndarray):
            if obj.base is not None:
                stack.append(obj.base)
            if obj.dtype == object:
                stack.extend(obj.ravel().tolist())
        elif isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
        elif hasattr(obj, "__dict__") and not callable(obj):
            stack.append(vars(obj))
        elif hasattr(obj, "__slots__"):
            stack.extend(getattr(obj, s) for s in obj.__slots__ if hasattr(obj, s))
    return total


def table_row_bytes(pipeline: FusionPipeline) -> int:
    """Bytes of one row of the track table, over all its columns."""
    table = pipeline.tracker.tracks
    return sum(
        getattr(table, name).itemsize * int(np.prod(getattr(table, name).shape[1:]))
        for name in table._fields
    )


def replay_once(
    config: CampConfig, records: list[Any]
) -> tuple[FusionPipeline, float, float, float]:
    """Feed the records to a fresh pipeline; (pipeline, wall s, CPU s, measurement span s)."""
    pipeline = FusionPipeline(config)
    t_first = t_last = None
    gc.collect()
    gc.freeze()  # as `cuas run` and `cuas replay` do: start-up's objects out of the collector
    started, cpu_started = time.perf_counter(), time.process_time()
    for t_received, topic, payload in records:
        pipeline.submit(topic, payload, t_received)
        t = pipeline.newest_measurement
        if t_first is None and t > float("-inf"):
            t_first = t
    pipeline.flush()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    gc.unfreeze()
    t_last = pipeline.newest_measurement
    return pipeline, wall, cpu, (t_last - t_first) if t_first is not None else 0.0


def measure(n: int, duration_s: float, repeat: int, work: Path) -> dict[str, float]:
    config = load_config(CONFIG)
    rec = work / f"scaling-{n}.msgpack"
    record(scenario(config, n, duration_s), config, rec)
    records = [
        (r.t_received, r.topic, r.payload)
        for r in read_records(rec)
        if topics.is_report(r.topic) or topics.is_status(r.topic)
    ]
    reports = sum(1 for _, topic, _ in records if topics.is_report(topic))
    walls, cpus = [], []
    pipeline = None
    span = 0.0
    for _ in range(repeat):
        pipeline, wall, cpu, span = replay_once(config, records)
        walls.append(wall)
        cpus.append(cpu)
    assert pipeline is not None
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    counters = pipeline.counters()
    live = max(counters.tracks_live, 1)
    fresh = FusionPipeline(config)
    retained = deep_size(pipeline) - deep_size(fresh)
    tracker = deep_size(pipeline.tracker) - deep_size(fresh.tracker)
    return {
        "targets": n,
        "detections": counters.detections_fused,
        "reports": reports,
        "tracks_live": counters.tracks_live,
        "wall_s": round(wall, 3),
        "walls_s": [round(w, 3) for w in walls],
        "cpu_s": round(cpu, 3),
        "cpus_s": [round(c, 3) for c in cpus],
        "detections_per_cpu_s": round(counters.detections_fused / cpu),
        "ms_per_scan": round(1000.0 * wall / max(reports, 1), 4),
        "detections_per_s": round(counters.detections_fused / wall),
        "realtime_factor": round(span / wall, 2),
        "table_bytes_per_track": table_row_bytes(pipeline),
        "tracker_bytes_per_track": round(tracker / live),
        "retained_bytes_per_track": round(retained / live),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, nargs="+", default=[10, 100, 1000, 5000])
    parser.add_argument("--duration", type=float, default=20.0, help="scenario seconds")
    parser.add_argument("--repeat", type=int, default=3, help="replays per N (median)")
    parser.add_argument("--json", default="benchmarks/results/scaling.json")
    args = parser.parse_args(argv)
    rows = []
    print(
        f"{'targets':>8} {'detections':>11} {'reports':>8} {'live':>6} {'ms/scan':>8} "
        f"{'det/s':>9} {'det/cpu-s':>9} {'x real time':>11} {'B/track: row':>12} {'tracker':>8} "
        f"{'all':>6}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.targets:
            r = measure(n, args.duration, args.repeat, Path(tmp))
            rows.append(r)
            print(
                f"{r['targets']:>8,} {r['detections']:>11,} {r['reports']:>8,} "
                f"{r['tracks_live']:>6,} {r['ms_per_scan']:>8.3f} {r['detections_per_s']:>9,} "
                f"{r['detections_per_cpu_s']:>9,} "
                f"{r['realtime_factor']:>11.1f} {r['table_bytes_per_track']:>12,} "
                f"{r['tracker_bytes_per_track']:>8,} {r['retained_bytes_per_track']:>6,}",
                flush=True,
            )
    print(f"median of {args.repeat} replays each; {args.duration:.0f} s of camp per N")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
