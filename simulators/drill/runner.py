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
import contextlib
import dataclasses
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import msgspec
import numpy as np

from cuas import wire
from cuas.config import CampConfig, load_config
from cuas.errors import WireError
from cuas.fusion.pipeline import TOPIC_ALERT, TOPIC_TRACKS
from cuas.fusion.zones import ZoneSet
from cuas.io.mqtt_output import AlertDeduplicator, decode_output
from cuas.io.recording import read_records
from cuas.service.replay import ReplaySummary, replay
from cuas.topics import Topics, is_report
from simulators.drill.score import DrillScore, TargetInfo, score_drill
from simulators.scoring import Snapshot, read_truth, truth_snapshot

if TYPE_CHECKING:
    from simulators.scenario_library import Scenario
    from simulators.targets import Target

CROSSING_STEP_S = 0.1  # perimeter crossings: sampled on this grid, then bisected
CROSSING_TOLERANCE_S = 1e-6
LIVE_GRACE_S = 3.0  # after a live drill, so the last cycles and alerts are seen

__all__ = ["DrillResult", "add_command", "perimeter_crossing", "run_drill", "run_drill_live"]


@dataclass
class DrillResult:
    """A scored drill and what it produced."""

    scenario: Scenario
    camp: CampConfig
    seed: int
    score: DrillScore
    truth: list[Snapshot]
    cycles: list[wire.TrackCycle]
    alerts: list[wire.Alert]
    t0: float
    time_scale: float = 1.0
    replay: ReplaySummary | None = None
    files: dict[str, Path] = field(default_factory=dict)
    wall_s: float = 0.0
    reports: list[wire.Report] = field(default_factory=list)  # what the sensors sent (fast runs)


# --- ground truth -------------------------------------------------------------------------


def perimeter_crossing(target: Target, zones: ZoneSet, until_s: float) -> float | None:
    """The first scenario time at which `target` is inside the perimeter (None if never
    before `until_s`): sampled every `CROSSING_STEP_S`, then bisected on the target's exact,
    pure `state(t)` to `CROSSING_TOLERANCE_S`."""
    if zones.perimeter is None:
        return None
    k = zones.perimeter
    t_start, t_end = target.t_start, min(target.t_end, until_s)
    if not t_end >= t_start:
        return None
    grid = np.arange(t_start, t_end + CROSSING_STEP_S / 2, CROSSING_STEP_S)
    grid[-1] = min(grid[-1], t_end)

    def inside(t: Any) -> np.ndarray:
        pos, _ = target.state(np.atleast_1d(np.asarray(t, dtype=np.float64)))
        return zones.contains(np.asarray(pos).reshape(-1, 3))[:, k]

    hits = np.flatnonzero(inside(grid))
    if not len(hits):
        return None
    j = int(hits[0])
    if j == 0:
        return float(grid[0])
    lo, hi = float(grid[j - 1]), float(grid[j])
    while hi - lo > CROSSING_TOLERANCE_S:
        mid = 0.5 * (lo + hi)
        if inside(mid)[0]:
            hi = mid
        else:
            lo = mid
    return hi


def target_side(target: Target, camp: CampConfig) -> str:
    """Whose a target is: as the scenario says, else birds are neutral, drones broadcasting a
    friendly Remote ID serial or RF emitter id are friendly, and every other drone hostile."""
    side = getattr(target, "side", None)
    if side is not None:
        return str(side)
    if target.class_ != "drone":
        return "neutral"
    friendly = set(camp.friendly.uas_ids) | set(camp.friendly.emitter_ids)
    ids = {getattr(target, "remote_id", None), getattr(target, "rf_emitter", None)}
    return "friendly" if ids & friendly else "hostile"


def target_infos(
    scenario: Scenario, camp: CampConfig, first_seen: dict[str, float]
) -> list[TargetInfo]:
    """The truth of each target the scorer needs."""
    frame = camp.local_frame()
    zones = ZoneSet(camp.zones, frame)
    return [
        TargetInfo(
            target_id=x.target_id,
            side=target_side(x, camp),
            class_=x.class_,
            first_seen_s=first_seen.get(x.target_id),
            perimeter_s=perimeter_crossing(x, zones, scenario.duration_s),
        )
        for x in scenario.targets
    ]


# --- as fast as possible ------------------------------------------------------------------


def read_outputs(path: Path) -> tuple[list[wire.TrackCycle], list[wire.Alert]]:
    """The track cycles and alert transitions of a replay output."""
    cycles_dec = msgspec.msgpack.Decoder(wire.TrackCycle)
    alert_dec = msgspec.msgpack.Decoder(wire.Alert)
    cycles: list[wire.TrackCycle] = []
    alerts: list[wire.Alert] = []
    for r in read_records(path):
        if r.topic == TOPIC_TRACKS:
            cycles.append(cycles_dec.decode(r.payload))
        elif r.topic == TOPIC_ALERT:
            alerts.append(alert_dec.decode(r.payload))
    return cycles, alerts


def run_drill(
    scenario: Scenario,
    camp: CampConfig,
    seed: int,
    workdir: str | Path | None = None,
    *,
    progress: bool = False,
    stream: TextIO = sys.stderr,
) -> DrillResult:
    """Simulate, replay and score a drill as fast as possible.

    The recording (`recording.msgpack`, `recording.truth.msgpack`) and the replay output
    (`replay.msgpack`) go to `workdir` (a temporary directory when None). With `progress`,
    each stage shows on `stream`.
    """
    from simulators.run import simulate

    started = time.perf_counter()
    keep = workdir is not None
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="cuas-drill-"))
        work = Path(workdir)
        work.mkdir(parents=True, exist_ok=True)
        say = _say(stream, progress)
        say(f"drill {scenario.name}: simulating {scenario.duration_s:.0f} s")
        sim = simulate(scenario, camp, seed, progress=_sensor_progress(stream, progress))
        recording = work / "recording.msgpack"
        truth_file = sim.write(recording)
        say(
            f"drill {scenario.name}: fusing {sim.stats.reports_sent} reports "
            f"({sim.stats.detections} detections)"
        )
        out = work / "replay.msgpack"
        summary = replay(recording, camp, out, progress=progress, stream=stream)
        say(f"drill {scenario.name}: scoring")
        cycles, alerts = read_outputs(out)
        truth = read_truth(truth_file)
        score = score_drill(
            scenario.name,
            target_infos(scenario, camp, sim.first_seen),
            truth,
            cycles,
            alerts,
            sim.t0,
            seed=seed,
            duration_s=scenario.duration_s,
        )
        files = {"recording": recording, "truth": truth_file, "replay": out}
        return DrillResult(
            scenario,
            camp,
            seed,
            score,
            truth,
            cycles,
            alerts,
            sim.t0,
            replay=summary,
            files=files if keep else {},
            wall_s=time.perf_counter() - started,
            reports=[p for _, topic, p in sim.records if is_report(topic)],
        )


def _say(stream: TextIO, enabled: bool) -> Callable[[str], None]:
    def say(text: str) -> None:
        if enabled:
            print(text, file=stream, flush=True)

    return say


def _sensor_progress(stream: TextIO, enabled: bool) -> Callable[[int, int], None] | None:
    if not enabled:
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        stream.write(f"\r  sensors simulated {done}/{total}{end}")
        stream.flush()

    return show


# --- live -----------------------------------------------------------------------------------


async def run_drill_live(
    scenario: Scenario,
    camp: CampConfig,
    seed: int,
    speed: float = 1.0,
    *,
    progress: bool = False,
    stream: TextIO = sys.stderr,
    external: bool = False,
) -> DrillResult:
    """Fly the drill live into the real service and score what it published on MQTT.

    The service (`cuas.service.run.FusionService`) runs in-process on the camp's ZeroMQ ingest;
    the MQTT broker is the camp's (an embedded one on 127.0.0.1 if none answers there). With
    `external`, the service is one already running (`cuas run`, with the operations centre on
    its broker) and only the sensors and the scorer's MQTT listener start here. The drill is
    scored from the `tracks` and `events/alerts` messages the service published, against the
    truth the simulators flew; scenario time is `speed` times wall time.
    """

    from cuas.io.embedded_broker import ensure_broker
    from cuas.io.mqtt_client import mqtt_client
    from cuas.service.run import FusionService
    from simulators.run import ScanEvent, run_realtime

    say = _say(stream, progress)
    cycles: list[wire.TrackCycle] = []
    alerts: list[wire.Alert] = []
    truth: list[Snapshot] = []
    first_seen: dict[str, float] = {}
    start: list[float] = []
    primary = scenario.radar.id

    def on_scan(event: ScanEvent) -> None:
        if not start:
            start.append(event.t - event.scenario_t / speed)
        if event.sensor_id == primary:
            truth.append(truth_snapshot(event.truth.truth_frame()))
        if event.sent:
            for i in event.scan.truth_index[event.scan.truth_index >= 0].tolist():
                target = event.truth.ids[i]
                first_seen[target] = min(first_seen.get(target, math.inf), event.scenario_t)
        if progress and event.sensor_id == primary:
            stream.write(
                f"\r  live drill {scenario.name}: {event.scenario_t:6.1f} / "
                f"{scenario.duration_s:.0f} s, {len(alerts)} alert transitions"
            )
            stream.flush()

    mqtt = camp.mqtt
    started = time.perf_counter()
    async with contextlib.AsyncExitStack() as stack:
        if await ensure_broker(stack, mqtt.host, mqtt.port, allow_embedded=not external):
            say(f"drill: started an embedded MQTT broker on 127.0.0.1:{mqtt.port}")
        core_stop = asyncio.Event()
        core: asyncio.Task[Any] | None = None
        if not external:
            service = FusionService(camp)
            core = asyncio.create_task(service.run(core_stop), name="core")
        try:
            if not external:
                await asyncio.wait_for(service.ready.wait(), 10)
            prefix = camp.mqtt_prefix
            client = mqtt_client(mqtt)
            await stack.enter_async_context(client)
            await client.subscribe(Topics(prefix).tracks, qos=0)
            await client.subscribe(Topics(prefix).alert_events, qos=1)
            listener = asyncio.create_task(_listen(client, prefix, cycles, alerts))
            stop = asyncio.Event()
            stats = await run_realtime(
                scenario, camp, stop, speed=speed, seed=seed, on_scan=on_scan
            )
            await asyncio.sleep(LIVE_GRACE_S)
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        finally:
            core_stop.set()
            if core is not None:
                await core
    if progress:
        stream.write("\n")
    say(f"drill {scenario.name}: {stats.reports_sent} reports sent live; scoring")
    t0 = start[0] if start else 0.0
    score = score_drill(
        scenario.name,
        target_infos(scenario, camp, first_seen),
        truth,
        cycles,
        alerts,
        t0,
        seed=seed,
        duration_s=scenario.duration_s,
        time_scale=speed,
    )
    return DrillResult(
        scenario,
        camp,
        seed,
        score,
        truth,
        cycles,
        alerts,
        t0,
        time_scale=speed,
        wall_s=time.perf_counter() - started,
    )


async def _listen(
    client: Any, prefix: str, cycles: list[wire.TrackCycle], alerts: list[wire.Alert]
) -> None:
    topics = Topics(prefix)
    dedupe = AlertDeduplicator()  # a transition redelivered (same `seq`) is scored once
    async for message in client.messages:
        with contextlib.suppress(WireError):
            out = decode_output(topics, message.topic.value, bytes(message.payload))
            if out.kind == "tracks":
                cycles.append(out.message)
            elif out.kind == "alert_event" and dedupe.is_new(out.message):
                alerts.append(out.message)


# --- terminal -----------------------------------------------------------------------------


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
    from simulators.scenario_file import library, load_scenario, resolve
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
    from simulators.scenario_file import library, read_scenario_file

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
    from simulators.scenario_file import library, load_scenario

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
    from simulators.scenario_file import ScenarioError

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
    return p
