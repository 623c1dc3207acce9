"""Multi-sensor fusion benchmark: the mixed camp with every sensor against radar alone.

Records the `mixed` scenario (radar, two RF direction finders, two cameras and a Remote ID
receiver at camp alpha: a hostile ingress, an RF-silent low weaver, a swarm of six, a
loiterer, a friendly patrol and a flock of birds), then replays it twice through the same
camp configuration: once as recorded, once with only the radar's records. For each it
reports mean GOSPA (c = 100 m, p = 1, alpha = 2) against truth, mean position error, id
switches, the fraction of scored cycles in which a drone's and a bird's track carries the
right published class (second half of the scenario, once classification has had time), and
the replay's detections/s.

The mixed camp is light (about six detections per scan from six sensors), so its replay speed
measures per-scan overhead. Capacity is measured apart, on a dense camp: `--dense N` drones
in eight swarms from every quarter, each on its own RF link, watched by the same six sensors
for 60 s, where every report carries many detections.

    .venv/bin/python -m benchmarks.fusion [--seeds 3] [--dense 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from cuas import wire
from cuas.config import load_config
from cuas.io.recording import read_records
from cuas.service.replay import replay
from cuas.topics import RECORDED_TRACKS
from simulators.flight.recording import record, truth_path
from simulators.scenario_library import (
    Scenario,
    Site,
    _swarm,
    build_scenario,
    camp_radar,
)
from simulators.scoring import one_sensor, read_truth_frames, score_replay
from simulators.targets.target_set import TargetSet

CONFIG = Path(__file__).resolve().parent.parent / "config" / "camp.example.toml"


def per_class(truth_file: Path, replay_out: Path) -> dict[str, dict[str, float]]:
    """Per true class: `accuracy`, the fraction of (truth, cycle) pairs in the second half of
    the run whose assigned track (< 100 m) publishes that class, and `id_switches` over the
    whole run (a bird flock swaps ids among its members: worth seeing apart from drones)."""
    truth = read_truth_frames(truth_file)
    cycles = [
        wire.from_msgpack(r.payload, wire.TrackCycle)
        for r in read_records(replay_out)
        if r.topic == RECORDED_TRACKS
    ]
    second_half = cycles[len(cycles) // 2].t if cycles else 0.0
    right: dict[str, int] = {}
    seen: dict[str, int] = {}
    switches: dict[str, int] = {}
    owner: dict[str, int] = {}
    for cycle in cycles:
        frame = truth.get(round(cycle.t, 3))
        tracks = [t for t in cycle.tracks if t.status in ("confirmed", "coasting")]
        if frame is None or not tracks or not frame.targets:
            continue
        X = np.array([t.enu for t in frame.targets])
        Y = np.array([t.enu for t in tracks])
        D = np.linalg.norm(X[:, None] - Y[None], axis=2)
        rows, cols = linear_sum_assignment(np.minimum(D, 100.0))
        for i, j in zip(rows, cols, strict=True):
            target, cls = frame.targets[i].target_id, frame.targets[i].class_
            if D[i, j] < 100.0:
                track = tracks[j].track_id
                if owner.get(target, track) != track:
                    switches[cls] = switches.get(cls, 0) + 1
                owner[target] = track
            if cycle.t < second_half:
                continue
            seen[cls] = seen.get(cls, 0) + 1
            if D[i, j] < 100.0 and tracks[j].class_ == cls:
                right[cls] = right.get(cls, 0) + 1
    return {
        cls: {"accuracy": round(right.get(cls, 0) / n, 3), "id_switches": switches.get(cls, 0)}
        for cls, n in seen.items()
    }


def run(seed: int, work: Path) -> dict[str, dict]:
    config = load_config(CONFIG)
    rec = work / f"mixed-{seed}.msgpack"
    record("mixed", config, rec, seed=seed)  # a multi-sensor scenario: flies every sensor
    truth = Path(truth_path(rec))
    radar = work / f"mixed-{seed}.radar.msgpack"
    one_sensor(rec, radar, "radar-1")
    results = {}
    for name, recording in (("all sensors", rec), ("radar only", radar)):
        out = work / f"out-{seed}-{name.replace(' ', '-')}.msgpack"
        summary = replay(recording, config, out, progress=False)
        s = score_replay(truth, out)
        results[name] = {
            "gospa": round(s.mean_gospa, 1),
            "position_error_m": round(s.mean_position_error_m, 1),
            "missed": round(s.mean_missed, 1),
            "false": round(s.mean_false, 1),
            "id_switches": s.id_switches,
            "by_class": per_class(truth, out),
            "detections": summary.detections,
            "detections_per_s": round(summary.detections_per_s),
            "rejects": dict(summary.rejects),
        }
    return results


def dense_scenario(n: int, seed: int = 0, duration_s: float = 60.0) -> Scenario:
    """`n` drones in eight swarms converging from every quarter, each on its own RF link."""
    config = load_config(CONFIG)
    base = build_scenario("mixed", config, seed=seed, duration_s=duration_s)
    site = Site(config, camp_radar(config), np.random.default_rng(seed), duration_s)
    per = -(-n // 8)
    targets = []
    for k in range(8):
        for x in _swarm(site, n=min(per, n - len(targets)), bearing_deg=45.0 * k + 10.0):
            name = f"w{k}{x.target_id}"
            targets.append(
                replace(x, target_id=name, rf_emitter=f"ELRS-{name.upper()}", protocol="elrs")
            )
    return replace(base, name=f"dense-{n}", targets=TargetSet(targets), clutter_per_scan=3.0)


def throughput(n: int, work: Path, seed: int = 0) -> dict[str, float]:
    """Replay detections/s of the dense multi-sensor camp, with its GOSPA for sanity."""
    config = load_config(CONFIG)
    rec = work / f"dense-{n}.msgpack"
    record(dense_scenario(n, seed), config, rec, seed=seed)
    out = work / f"dense-{n}.out.msgpack"
    summary = replay(rec, config, out, progress=False)
    s = score_replay(Path(truth_path(rec)), out)
    return {
        "targets": n,
        "detections": summary.detections,
        "detections_per_s": round(summary.detections_per_s),
        "gospa": round(s.mean_gospa, 1),
        "position_error_m": round(s.mean_position_error_m, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", default="benchmarks/results/fusion.json")
    parser.add_argument("--dense", type=int, default=200, help="drones in the capacity run")
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        dense = throughput(args.dense, Path(tmp))
        print(json.dumps({"dense": dense}), flush=True)
        for seed in range(args.seeds):
            r = run(seed, Path(tmp))
            runs.append(r)
            print(json.dumps({"seed": seed, **r}), flush=True)
    print()
    for name in ("all sensors", "radar only"):
        med = {
            k: statistics.median(r[name][k] for r in runs)
            for k in ("gospa", "position_error_m", "id_switches", "detections_per_s")
        }
        by = {
            cls: {
                k: statistics.median(r[name]["by_class"].get(cls, {}).get(k, 0.0) for r in runs)
                for k in ("accuracy", "id_switches")
            }
            for cls in ("drone", "bird")
        }
        print(
            f"{name:12}  GOSPA {med['gospa']:7.1f}  error {med['position_error_m']:5.1f} m  "
            f"id switches drones {by['drone']['id_switches']:3.0f} "
            f"birds {by['bird']['id_switches']:3.0f}  class right: drones "
            f"{by['drone']['accuracy']:.0%} birds {by['bird']['accuracy']:.0%}  "
            f"{med['detections_per_s']:8,.0f} det/s"
        )
    print(f"medians over {args.seeds} seeds")
    print(
        f"dense camp   {dense['targets']} drones, all sensors: {dense['detections']:,} "
        f"detections at {dense['detections_per_s']:,} det/s (GOSPA {dense['gospa']:.1f}, "
        f"error {dense['position_error_m']:.1f} m)"
    )
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"mixed": runs, "dense": dense}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
