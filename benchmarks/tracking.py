"""Side-by-side tracking benchmark: cuas against Stone Soup on the same recordings.

For each N, a scenario of N drones seen by one 1 Hz radar (Pd 0.9, ~4 clutter per scan) is
generated; `cuas replay` runs over it as a subprocess, exactly as a user would run it; Stone
Soup's standard EKF/GNN tracker runs over the same recording; both outputs are scored by
`simulators.scoring` (GOSPA c=100 m, p=1, alpha=2 on confirmed and coasting tracks; id switches;
position error). Stone Soup is capped by a time budget per N (it needs ~0.3-3 s per scan at
N=200 and far more at N=1000), and when it is cut short both trackers are also scored on the
scans it did run, so the accuracy columns always compare like with like.

    python -m benchmarks.tracking                         # N = 10 50 200 1000, ~13 min
    python -m benchmarks.tracking --targets 10 50 --scans 100 --stonesoup-budget-s 60

Results go to benchmarks/results/tracking.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cuas.config import load_config
from simulators.benchmark_scenarios import ScenarioFiles, write_ncv_radar_scenario
from simulators.scoring import Score, Snapshot, read_track_snapshots, read_truth, score

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_TARGETS = (10, 50, 200, 1000)
SCORING = {"c": 100.0, "p": 1, "alpha": 2}
CROSSCHECK_MAX_POINTS = 150  # Stone Soup's GOSPAMetric is a Python double loop


@dataclass
class CuasRun:
    """One `cuas replay` subprocess: its wall time, its own summary, its track cycles."""

    out: Path
    process_wall_s: float
    summary: dict[str, Any] = field(default_factory=dict)
    snapshots: list[Snapshot] = field(default_factory=list)

    def detections_per_s(self, detections: int) -> float:
        """The replay's own figure if it reported one, else from the process wall time."""
        own = self.summary.get("detections_per_s")
        return float(own) if own else detections / self.process_wall_s


def _parse_summary_text(text: str) -> dict[str, Any]:
    """Fallback for a replay without --summary-json: read its printed summary."""
    out: dict[str, Any] = {}
    if m := re.search(r"wall time\s+([\d.]+) s", text):
        out["wall_s"] = float(m[1])
    if m := re.search(r"throughput\s+([\d,.]+) detections/s", text):
        out["detections_per_s"] = float(m[1].replace(",", ""))
    return out


def run_cuas_replay(recording: Path, config: Path, out: Path) -> CuasRun:
    """Run `cuas replay RECORDING --config CONFIG --out OUT` and read back what it produced."""
    summary_path = out.with_suffix(".summary.json")
    cmd = [sys.executable, "-m", "cuas", "replay", str(recording), "--config", str(config)]
    cmd += ["--out", str(out), "--summary-json", str(summary_path)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"cuas replay failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
    else:
        summary = _parse_summary_text(proc.stdout)
    return CuasRun(out, wall, summary, read_track_snapshots(out))


def _crosscheck(truth: list[Snapshot], tracks: list[Snapshot]) -> float | None:
    """Max |Stone Soup GOSPAMetric - simulators.scoring.gospa| on a mid-run frame (subsampled)."""
    from benchmarks.stonesoup_tracker import stonesoup_gospa_difference

    if not tracks:
        return None
    frame = tracks[len(tracks) // 2]
    by_t = {s.t: s for s in truth}
    if frame.t not in by_t:
        return None
    k = CROSSCHECK_MAX_POINTS
    t_snap, f_snap = by_t[frame.t], frame
    t_sub = Snapshot(t_snap.t, t_snap.ids[:k], t_snap.enu[:k])
    f_sub = Snapshot(f_snap.t, f_snap.ids[:k], f_snap.enu[:k])
    return stonesoup_gospa_difference(t_sub, f_sub, SCORING["c"], SCORING["p"])


def bench_one(
    n: int,
    scans: int,
    seed: int,
    workdir: Path,
    stonesoup_budget_s: float | None,
    stonesoup_max_scans: int | None,
    with_stonesoup: bool = True,
) -> dict[str, Any]:
    """Generate, run both trackers and score them for one swarm size."""
    scenario: ScenarioFiles = write_ncv_radar_scenario(workdir / f"n{n}", n, float(scans), seed)
    camp = load_config(scenario.config)
    truth = read_truth(scenario.truth)
    result: dict[str, Any] = {
        "targets": n,
        "scans": scenario.scans,
        "detections": scenario.detections,
        "target_detections": scenario.target_detections,
        "targets_born": scenario.targets_born,
        "seed": seed,
    }
    _log(f"N={n}: {scenario.detections} detections in {scenario.scans} scans")

    ours_full: Score | None = None
    ours: CuasRun | None = None
    try:
        ours = run_cuas_replay(scenario.recording, scenario.config, workdir / f"n{n}-cuas.msgpack")
        ours_full = score(truth, ours.snapshots, **SCORING)
        result["cuas"] = {
            "process_wall_s": round(ours.process_wall_s, 3),
            "process_detections_per_s": round(scenario.detections / ours.process_wall_s, 1),
            "replay_wall_s": ours.summary.get("wall_s"),
            "detections_per_s": round(ours.detections_per_s(scenario.detections), 1),
            "score": ours_full.to_dict(),
        }
        rate = result["cuas"]["detections_per_s"]
        _log(f"  cuas: {rate:,.0f} det/s, GOSPA {ours_full.mean_gospa:.1f}")
    except (RuntimeError, OSError) as exc:
        result["cuas"] = {"error": str(exc)}
        _log(f"  cuas: FAILED: {exc}")

    if with_stonesoup:
        from benchmarks.stonesoup_tracker import run_stonesoup

        ss = run_stonesoup(scenario.recording, camp, stonesoup_max_scans, stonesoup_budget_s)
        ss_score = score(truth, ss.snapshots, **SCORING)
        result["stonesoup"] = {
            "scans_run": ss.scans_run,
            "scans_total": ss.scans_total,
            "truncated": ss.truncated,
            "wall_s": round(ss.wall_s, 3),
            "ms_per_scan": round(ss.ms_per_scan, 1),
            "detections": ss.detections,
            "detections_per_s": round(ss.detections_per_s, 1),
            "tracks_started": ss.tracks_started,
            "score": ss_score.to_dict(),
        }
        cut = f" (cut at {ss.scans_run}/{ss.scans_total} scans)" if ss.truncated else ""
        _log(f"  stonesoup: {ss.detections_per_s:,.0f} det/s, GOSPA {ss_score.mean_gospa:.1f}{cut}")
        if ours is not None and ours_full is not None:
            window = score(truth, ours.snapshots, t_max=ss.t_last, **SCORING)
            result["cuas"]["score_same_scans"] = window.to_dict()
            if "detections_per_s" in result["cuas"] and ss.detections_per_s > 0:
                result["ratio"] = round(result["cuas"]["detections_per_s"] / ss.detections_per_s, 1)
        result["gospa_crosscheck_max_abs_diff"] = _crosscheck(truth, ss.snapshots)
    return result


def _fmt(x: float | None, spec: str = ",.0f") -> str:
    return "-" if x is None else format(x, spec)


def format_table(results: list[dict[str, Any]]) -> str:
    """One row per N. Accuracy columns are on the scans both trackers ran."""
    head = (
        f"{'N':>5} {'detections':>10} {'cuas det/s':>11} {'SS det/s':>9} {'ratio':>7} "
        f"{'GOSPA cuas':>10} {'GOSPA SS':>9} {'switch cuas':>11} {'switch SS':>9} "
        f"{'err cuas m':>10} {'err SS m':>8}  scans SS"
    )
    lines = [head, "-" * len(head)]
    notes: list[str] = []
    for r in results:
        ours, ss = r.get("cuas", {}), r.get("stonesoup", {})
        o = ours.get("score_same_scans") or ours.get("score") or {}
        s = ss.get("score", {})
        scans = f"{ss['scans_run']}/{ss['scans_total']}" if ss else "-"
        lines.append(
            f"{r['targets']:>5} {r['detections']:>10,} {_fmt(ours.get('detections_per_s')):>11} "
            f"{_fmt(ss.get('detections_per_s')):>9} {_fmt(r.get('ratio'), '.1f'):>7} "
            f"{_fmt(o.get('mean_gospa'), '.1f'):>10} {_fmt(s.get('mean_gospa'), '.1f'):>9} "
            f"{_fmt(o.get('id_switches'), 'd'):>11} {_fmt(s.get('id_switches'), 'd'):>9} "
            f"{_fmt(o.get('mean_position_error_m'), '.1f'):>10} "
            f"{_fmt(s.get('mean_position_error_m'), '.1f'):>8}  {scans}"
        )
        if ss.get("truncated"):
            full = ours.get("score", {})
            notes.append(
                f"N={r['targets']}: Stone Soup truncated at {ss['scans_run']} of "
                f"{ss['scans_total']} scans (time budget); accuracy compared on those scans. "
                f"cuas over all {r['scans']} scans: GOSPA {_fmt(full.get('mean_gospa'), '.1f')}, "
                f"{_fmt(full.get('id_switches'), 'd')} switches, "
                f"error {_fmt(full.get('mean_position_error_m'), '.1f')} m."
            )
        if "error" in ours:
            notes.append(f"N={r['targets']}: cuas replay failed: {ours['error']}")
    lines.append("")
    lines.append(
        "det/s: cuas = the replay's own figure (reading, decoding, tracking, alerts, writing); "
        "Stone Soup = its tracking loop only."
    )
    lines.append("GOSPA: mean per scan, c=100 m, p=1, alpha=2; err: mean distance of GOSPA pairs.")
    lines += notes
    return "\n".join(lines)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.tracking", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--targets", type=int, nargs="+", default=list(DEFAULT_TARGETS))
    ap.add_argument("--scans", type=int, default=200, help="scans per scenario (1 Hz)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--stonesoup-budget-s",
        type=float,
        default=300.0,
        help="stop Stone Soup after this much tracking time per N (checked between scans)",
    )
    ap.add_argument("--stonesoup-max-scans", type=int, default=None)
    ap.add_argument("--no-stonesoup", action="store_true", help="run and score cuas only")
    ap.add_argument("--keep", type=Path, default=None, help="keep scenarios and outputs here")
    ap.add_argument("--json", type=Path, default=RESULTS / "tracking.json")
    args = ap.parse_args(argv)

    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="cuas-bench-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for n in args.targets:
            results.append(
                bench_one(
                    n,
                    args.scans,
                    args.seed,
                    workdir,
                    args.stonesoup_budget_s,
                    args.stonesoup_max_scans,
                    with_stonesoup=not args.no_stonesoup,
                )
            )
    table = format_table(results)
    print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": "tracking",
        "machine": {
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
        },
        "settings": {
            "scans": args.scans,
            "seed": args.seed,
            "stonesoup_budget_s": args.stonesoup_budget_s,
            "stonesoup_max_scans": args.stonesoup_max_scans,
            "scoring": SCORING,
        },
        "total_wall_s": round(time.perf_counter() - started, 1),
        "results": results,
        "table": table.splitlines(),
    }
    args.json.write_text(json.dumps(doc, indent=2) + "\n")
    _log(f"wrote {args.json} ({doc['total_wall_s']:.0f} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
