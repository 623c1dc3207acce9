"""`cuas drill SCENARIO`: fly a drill through the fusion core and score it against the truth.

As fast as possible by default: the scenario is simulated into a recording (every sensor, its
events, a truth sidecar), `cuas replay` runs the fusion pipeline over it exactly as it runs
any recording, and `simulators.drill.score` scores the replay output against the truth. With
`--realtime` the simulated sensors fly live over ZeroMQ into the real service (`cuas run`,
in-process, publishing on MQTT as for the operations centre), and the drill is scored from
what the service published on MQTT. `--report DIR` writes the after-action report
(`DIR/report.html`, `DIR/score.json`, and for fast runs the recording, truth and replay
output beside them).

SCENARIO is a library drill (`simulators/scenarios/*.toml`, see `--list`), a scenario file,
or a scenario of the Python library (`cuas simulate --list`), flown with every camp sensor.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cuas.config import CampConfig, load_config
from simulators.drill.runner import run_drill, run_drill_live
from simulators.drill.score import DrillScore

if TYPE_CHECKING:
    from simulators.scenario_library import Scenario

__all__ = ["add_command", "render_library_table", "render_table"]


def _fmt(x: float | None, unit: str = "") -> str:
    return "-" if x is None else f"{x:.1f}{unit}"


def render_table(score: DrillScore) -> str:
    """The drill's score as a terminal table: one line per hostile, then the totals."""
    head = (
        f"{'target':<12} {'detected':>9} {'confirmed':>10} {'alert':>8} {'level':>8} "
        f"{'perimeter':>10} {'warning':>8} {'switches':>8}  outcome"
    )
    lines = [f"drill {score.scenario} (seed {score.seed}, {score.duration_s:.0f} s)", head]
    lines.append("-" * len(head))
    for h in score.hostiles:
        lines.append(
            f"{h.target_id:<12} {_fmt(h.first_detection_s):>9} {_fmt(h.first_confirmed_s):>10} "
            f"{_fmt(h.first_alert_s):>8} {h.first_alert_level or '-':>8} "
            f"{_fmt(h.perimeter_s):>10} {_fmt(h.warning_s):>8} {h.id_switches:>8}  {h.outcome}"
        )
    s = score.summary()
    causes = ", ".join(f"{k} {v}" for k, v in sorted(s["false_alert_causes"].items())) or "none"
    lines += [
        "",
        f"hostiles {s['hostiles']}: {s['crossing_perimeter']} reached the perimeter, "
        f"{s['warned_before_perimeter']} alerted before it, {s['missed']} missed or late; "
        f"warning time median {_fmt(s['median_warning_s'], ' s')}, "
        f"min {_fmt(s['min_warning_s'], ' s')}",
        f"false alerts {s['false_alerts']} ({causes}); friendly mistakes {s['friendly_mistakes']}",
        f"mean GOSPA {s['mean_gospa_m']:.1f} m (c = 100 m; "
        f"{s['mean_gospa_per_target_m']:.1f} m per target), "
        f"position error {s['mean_position_error_m']:.1f} m, "
        f"track-id switches {s['id_switches']} ({s['hostile_id_switches']} on hostiles)",
    ]
    for a in score.false_alerts[:10]:
        lines.append(
            f"  false alert +{a.t_s:.0f} s: track {a.track_id} ({a.cause}"
            + (f" {a.target_id}" if a.target_id else "")
            + f"), {a.level} in {a.zone}"
        )
    if len(score.false_alerts) > 10:
        lines.append(f"  ... and {len(score.false_alerts) - 10} more false alerts")
    for m in score.friendly_mistakes[:10]:
        lines.append(
            f"  friendly mistake +{m.t_s:.0f} s: {m.target_id} {m.kind} (track {m.track_id})"
        )
    return "\n".join(lines)


# --- command line -------------------------------------------------------------------------


def _load(args: argparse.Namespace) -> tuple[Scenario, CampConfig, int]:
    from simulators.scenario_builder import library, load_scenario, resolve
    from simulators.scenario_library import SCENARIOS, build_scenario

    camp = load_config(args.config) if args.config else None
    name = args.scenario
    if name in library() or Path(name).is_file() or name not in SCENARIOS:
        loaded = load_scenario(resolve(name), camp=camp, seed=args.seed)
        return loaded.scenario, loaded.camp, loaded.scenario.seed
    if camp is None:
        from simulators.demo import DEFAULT_CONFIG

        camp = load_config(DEFAULT_CONFIG)
    seed = 0 if args.seed is None else args.seed
    return build_scenario(name, camp, seed=seed, all_sensors=True), camp, seed


def _list() -> str:
    from simulators.scenario_builder import library
    from simulators.scenario_file import read_scenario_file

    drills = library()
    width = max(len(n) for n in drills)
    lines = []
    for name, path in drills.items():
        spec = read_scenario_file(path)
        lines.append(f"{name:<{width}}  {spec.duration_s:5.0f} s  {spec.description}")
    return "\n".join(lines)


def render_library_table(scores: dict[str, DrillScore]) -> str:
    """One Markdown row per drill: the closing table of a library run."""
    lines = [
        "| scenario | hostiles | reached perimeter | alerted before perimeter | "
        "median / min warning (s) | false alerts | friendly mistakes | mean GOSPA (m) | "
        "GOSPA per target (m) | id switches (hostiles) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, score in scores.items():
        s = score.summary()
        causes = ", ".join(f"{k} {v}" for k, v in sorted(s["false_alert_causes"].items()))
        lines.append(
            f"| {name} | {s['hostiles']} | {s['crossing_perimeter']} | "
            f"{s['warned_before_perimeter']} | {_fmt(s['median_warning_s'])} / "
            f"{_fmt(s['min_warning_s'])} | {s['false_alerts']}"
            + (f" ({causes})" if causes else "")
            + f" | {s['friendly_mistakes']} | {s['mean_gospa_m']:.1f} | "
            f"{s['mean_gospa_per_target_m']:.1f} | {s['id_switches']} "
            f"({s['hostile_id_switches']}) |"
        )
    return "\n".join(lines)


def _run_library(args: argparse.Namespace) -> int:
    """`cuas drill --all`: every library drill at its own seed, then the library table."""
    from simulators.scenario_builder import library, load_scenario

    report_dir = Path(args.report) if args.report else None
    scores: dict[str, DrillScore] = {}
    for name, path in library().items():
        loaded = load_scenario(path, seed=args.seed)
        scenario = loaded.scenario
        if args.duration is not None:
            scenario = dataclasses.replace(scenario, duration_s=args.duration)
        workdir = None if report_dir is None else report_dir / name
        if not args.quiet:
            print(f"drill {name} ...", file=sys.stderr, flush=True)
        result = run_drill(scenario, loaded.camp, scenario.seed, workdir)
        if workdir is not None:
            from simulators.drill.report import write_report

            write_report(result, workdir)
        scores[name] = result.score
    if report_dir is not None:
        summary = {name: {"seed": sc.seed, **sc.summary()} for name, sc in scores.items()}
        (report_dir / "library.json").write_text(json.dumps(summary, indent=2) + "\n")
    if not args.quiet:
        print(render_library_table(scores))
    return 0


def _command(args: argparse.Namespace) -> int:
    from cuas.errors import ScenarioError

    if args.list:
        print(_list())
        return 0
    if args.all:
        return _run_library(args)
    if args.scenario is None:
        print("cuas drill: a SCENARIO is required (or --list)", file=sys.stderr)
        return 2
    try:
        scenario, camp, seed = _load(args)
    except (ScenarioError, ValueError) as exc:
        print(f"cuas drill: {exc}", file=sys.stderr)
        return 2
    if args.duration is not None:
        scenario = dataclasses.replace(scenario, duration_s=args.duration)
    progress = not args.quiet and sys.stderr.isatty()
    report_dir = Path(args.report) if args.report else None
    if args.realtime:
        if not args.speed > 0:
            print("cuas drill: --speed must be positive", file=sys.stderr)
            return 2
        result = asyncio.run(
            run_drill_live(
                scenario,
                camp,
                seed,
                args.speed,
                progress=not args.quiet and sys.stderr.isatty(),
                external=args.external,
            )
        )
    else:
        workdir = report_dir if report_dir is not None else None
        result = run_drill(scenario, camp, seed, workdir, progress=progress)
    if report_dir is not None:
        from simulators.drill.report import write_report

        write_report(result, report_dir)
    if args.courageous:
        from simulators.drill.courageous import write_courageous

        write_courageous(args.courageous, camp, result.reports, result.cycles, result.alerts)
    if not args.quiet:
        print(render_table(result.score))
        if report_dir is not None:
            print(
                f"\nafter-action report: {report_dir / 'report.html'}; scores: "
                f"{report_dir / 'score.json'}"
            )
    if args.score_json:
        Path(args.score_json).write_text(json.dumps(result.score.to_dict(), indent=2) + "\n")
    return 0


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `cuas drill` on the `cuas` command line's subparsers."""
    p = subparsers.add_parser(
        "drill",
        help="fly a drill scenario through the fusion core and score it",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scenario", nargs="?", help="library drill (see --list) or scenario file")
    p.add_argument("--list", action="store_true", help="list the library drills and exit")
    p.add_argument(
        "--all",
        action="store_true",
        help="fly every library drill (reports in DIR/<drill>/ with --report) and print the "
        "library's score table",
    )
    p.add_argument("--seed", type=int, help="random seed (default: the scenario file's)")
    p.add_argument("--config", help="fly at this camp instead of the one the scenario names")
    p.add_argument("--report", metavar="DIR", help="write DIR/report.html and DIR/score.json")
    p.add_argument("--score-json", metavar="FILE", help="also write the scores to FILE")
    p.add_argument(
        "--courageous",
        metavar="FILE",
        help="also export detections, tracks and alarms in the COURAGEOUS trial format "
        "(CWA 18150) as JSON (live drills: tracks only)",
    )
    p.add_argument("--duration", type=float, help="seconds of scenario to fly (default: all)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress and no table")
    p.add_argument(
        "--realtime",
        action="store_true",
        help="fly live into the real service over ZeroMQ and score what it publishes on MQTT",
    )
    p.add_argument("--speed", type=float, default=1.0, help="--realtime: scenario speed-up")
    p.add_argument(
        "--external",
        action="store_true",
        help="--realtime: fly against a service already running (cuas run) and its broker "
        "instead of starting one",
    )
    p.set_defaults(func=_command)
