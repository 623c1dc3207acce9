"""Alert benchmark: are hostile drones alerted before they cross the perimeter, and only they?

Records the `mixed` multi-sensor scenario at camp alpha (a hostile ingress, an RF-silent low
weaver, a swarm of six, a loiterer, the friendly patrol, a flock of birds) and a swarm of 50
drones (the library's swarm formation, 50 strong, radar only), replays each through the
whole pipeline, and scores the alert transitions against truth:

- warning time: for every hostile drone whose truth crosses into the perimeter, the time from
  the first cycle in which the firm track nearest to it (within 150 m) was under an active
  alert to its crossing (median, minimum); a drone that crosses without one is missed;
- false alerts: `raised` alerts whose track was, when raised (or last in the 10 s before),
  nearest to anything but a hostile drone (bird, the friendly patrol) or to no target at all
  (clutter, or a track that drifted off its target), by cause;
- latency: from the cycle in which the alerted track was first published firm at the
  alerting threat (`medium` or worse), in the unbroken run that led to the alert, to its
  `raised` message, in measurement time (the debounce); the wall-clock cost of journaling a
  transition durably (SQLite, fsync); and, live (`--live-runs`), how long after its cycle
  time a `raised` or `escalated` message reaches an MQTT subscriber when the core runs
  against a real Mosquitto with a real-time intruder (the tests' harness: 0.2 s cycles and
  reorder window), which adds the reorder window, journaling and publishing.

Tracks are matched to truth by distance each cycle, so a swarm track that wanders from one
drone to its neighbour is judged by where it is, not by where it started.

    .venv/bin/python -m benchmarks.alerts [--seeds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from cuas import wire
from cuas.config import CampConfig, load_config
from cuas.fusion.alerts import Transition
from cuas.fusion.threat import RANK
from cuas.fusion.zones import ZoneSet
from cuas.io.journal import Journal
from cuas.io.recording import read_records
from cuas.service.replay import replay
from cuas.topics import RECORDED_TRACKS, Topics
from simulators.flight.recording import record, truth_path
from simulators.scenario_library import Scenario, Site, _swarm, build_scenario, camp_radar
from simulators.scoring import TruthFrame
from simulators.targets.target_set import TargetSet

CONFIG = Path(__file__).resolve().parent.parent / "config" / "camp.example.toml"
ATTRIBUTION_M = 150.0
LOOKBACK_S = 10.0


def swarm_of(n: int, config: CampConfig, seed: int, duration_s: float = 140.0) -> Scenario:
    """The library's swarm formation, `n` strong, long enough for the swarm to arrive."""
    base = build_scenario("swarm", config, seed=seed, duration_s=duration_s)
    rng = np.random.default_rng([0, seed])
    site = Site(config, camp_radar(config), rng, duration_s)
    return replace(
        base,
        name=f"swarm-{n}",
        description=f"{n} drones in a loose formation fly in from the east-north-east.",
        targets=TargetSet(_swarm(site, n=n)),
    )


@dataclass
class Score:
    scenario: str
    seed: int
    hostile_crossing: int = 0
    warning_s: dict[str, float] = field(default_factory=dict)  # drone -> seconds before crossing
    missed: list[str] = field(default_factory=list)
    false_alerts: Counter[str] = field(default_factory=Counter)
    alerts_raised: int = 0
    transitions: int = 0
    latency_s: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        w = list(self.warning_s.values())
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "hostile_drones_crossing": self.hostile_crossing,
            "alerted_before_crossing": len(w),
            "missed": self.missed,
            "warning_median_s": round(statistics.median(w), 1) if w else None,
            "warning_min_s": round(min(w), 1) if w else None,
            "false_alerts": dict(self.false_alerts),
            "alerts_raised": self.alerts_raised,
            "transitions": self.transitions,
            "latency_median_s": round(statistics.median(self.latency_s), 2)
            if self.latency_s
            else None,
            "latency_max_s": round(max(self.latency_s), 2) if self.latency_s else None,
        }


def hostile_ids(scenario: Scenario, config: CampConfig) -> set[str]:
    """Drones that are not the camp's own (neither Remote ID nor RF link on the list)."""
    friendly = set(config.friendly.uas_ids) | set(config.friendly.emitter_ids)
    return {
        x.target_id
        for x in scenario.targets
        if x.class_ == "drone"
        and getattr(x, "remote_id", None) not in friendly
        and getattr(x, "rf_emitter", None) not in friendly
    }


def score(scenario: Scenario, config: CampConfig, seed: int, work: Path) -> Score:
    rec = work / f"{scenario.name}-{seed}.msgpack"
    out = work / f"{scenario.name}-{seed}.out.msgpack"
    record(scenario, config, rec, seed=seed)
    replay(rec, config, out, progress=False)
    frame = config.local_frame()
    zones = ZoneSet(config.zones, frame)
    assert zones.perimeter is not None
    hostile = hostile_ids(scenario, config)
    classes = {x.target_id: x.class_ for x in scenario.targets}
    truth = {
        round(f.t, 3): f
        for f in (wire.from_msgpack(r.payload, TruthFrame) for r in read_records(truth_path(rec)))
    }
    # When each hostile drone first enters the perimeter.
    crossing: dict[str, float] = {}
    for t, f in sorted(truth.items()):
        if not f.targets:
            continue
        inside = zones.contains(np.array([x.enu for x in f.targets]))[:, zones.perimeter]
        for x, ins in zip(f.targets, inside, strict=True):
            if ins and x.target_id in hostile and x.target_id not in crossing:
                crossing[x.target_id] = t

    cycles, alerts = [], []
    for r in read_records(out):
        if r.topic == RECORDED_TRACKS:
            cycles.append(wire.from_msgpack(r.payload, wire.TrackCycle))
        elif r.topic == "alert":
            alerts.append(wire.from_msgpack(r.payload, wire.Alert))
    # Each cycle: which truth target is nearest each firm track (within 150 m), which tracks
    # are under an active alert, and which are at the alerting threat.
    raise_rank = RANK[config.alerts.raise_threat]
    alerted: set[int] = set()
    by_cycle: dict[float, list[wire.Alert]] = defaultdict(list)
    for a in alerts:
        by_cycle[a.t].append(a)
    at_threat: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    first_covered: dict[str, float] = {}
    last_on: dict[int, tuple[float, str]] = {}  # track -> when and on which target it last was
    s = Score(scenario.name, seed, hostile_crossing=len(crossing), transitions=len(alerts))
    for c in cycles:
        firm = [t for t in c.tracks if t.status in ("confirmed", "coasting")]
        for t in c.tracks:
            at_threat[t.track_id].append((c.t, t in firm and RANK[t.threat] >= raise_rank))
        f = truth.get(round(c.t, 3))
        nearest: dict[int, str] = {}  # track -> truth target, this cycle
        if f is not None and f.targets and firm:
            X = np.array([x.enu for x in f.targets])
            Y = np.array([t.enu for t in firm])
            D = np.linalg.norm(X[:, None] - Y[None], axis=2)
            for j, t in enumerate(firm):
                i = int(D[:, j].argmin())
                if D[i, j] < ATTRIBUTION_M:
                    nearest[t.track_id] = f.targets[i].target_id
                    last_on[t.track_id] = (c.t, f.targets[i].target_id)
            # A drone is covered once the firm track nearest to it is under an active alert.
            for i, x in enumerate(f.targets):
                j = int(D[i].argmin())
                if D[i, j] < ATTRIBUTION_M and firm[j].track_id in alerted:
                    first_covered.setdefault(x.target_id, c.t)
        for a in by_cycle.get(c.t, []):
            if a.track_id is None:
                continue
            if a.state == "cleared":
                alerted.discard(a.track_id)
                continue
            alerted.add(a.track_id)
            if a.state != "raised":
                continue
            s.alerts_raised += 1
            # What it was when the operator was told, or in the last LOOKBACK_S (a simulated
            # drone ends at the camp centre while its track coasts on).
            target = nearest.get(a.track_id)
            if target is None and a.track_id in last_on:
                t_on, on = last_on[a.track_id]
                target = on if a.t - t_on <= LOOKBACK_S else None
            if target is None:
                s.false_alerts["no target (clutter, or a track off its target)"] += 1
            elif target not in hostile:
                cause = "friendly drone" if classes[target] == "drone" else classes[target]
                s.false_alerts[cause] += 1
            streak = streak_start(at_threat[a.track_id], a.t)
            if streak is not None:
                s.latency_s.append(a.t - streak)
    for drone, t_cross in sorted(crossing.items()):
        t_alert = first_covered.get(drone)
        if t_alert is None or t_alert >= t_cross:
            s.missed.append(drone)
        else:
            s.warning_s[drone] = t_cross - t_alert
    return s


def streak_start(history: list[tuple[float, bool]], t: float) -> float | None:
    """When the unbroken run of cycles at alerting threat that ends at `t` began."""
    start = None
    for tc, at_threat in history:
        if tc > t:
            break
        start = (start if start is not None else tc) if at_threat else None
    return start


def journal_cost(work: Path, n: int = 200) -> float:
    """Median wall-clock milliseconds to journal one transition durably (its own commit)."""
    path = work / "cost.sqlite"
    a = wire.Alert(
        v=1, alert_id="x", track_id=1, level="warning", state="raised", zone="approach",
        reason="Drone (track 1) 900 m E of camp centre, inbound at 20 m/s.", t_raised=0.0,
        t=0.0, lat=8.65, lon=24.5, alt_m=700.0, eta_s=30.0, acknowledged_by=None,
    )  # fmt: skip
    times = []
    with Journal(path) as j:
        for k in range(n):
            tr = Transition(replace_alert(a, f"a-{k}"), "track")
            t0 = time.perf_counter()
            j.append([tr])
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000.0


def replace_alert(a: wire.Alert, alert_id: str) -> wire.Alert:
    return wire.Alert(**{**{f: getattr(a, f) for f in a.__struct_fields__}, "alert_id": alert_id})


async def _live_run(directory: Path, port: int) -> list[float]:
    """One intruder flown at a live core; seconds from cycle time to the subscriber."""
    import aiomqtt
    from support.live import camp, corner_clip, small_camp  # the tests' live harness

    from cuas.service.run import FusionService

    config = camp(small_camp(directory, port))
    stop, done = asyncio.Event(), asyncio.Event()
    service = FusionService(config, stats_period_s=60.0)
    core = asyncio.create_task(service.run(done))
    delays: list[float] = []
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe(Topics(config.mqtt_prefix).alert_events, qos=1)
        await service.ready.wait()
        flight = asyncio.create_task(corner_clip(config).fly(stop))

        async def receive() -> None:
            async for m in client.messages:
                a = wire.from_json(bytes(m.payload), wire.Alert)  # type: ignore[arg-type]
                if a.state in ("raised", "escalated"):
                    delays.append(time.time() - a.t)
                if a.state == "escalated":
                    return

        try:
            await asyncio.wait_for(receive(), 40)
        finally:
            stop.set()
            await flight
            done.set()
            await core
    return delays


def live_latency(runs: int, work: Path) -> list[float]:
    """Seconds from cycle time to an MQTT subscriber, over `runs` live intruders."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from support.broker import MosquittoBroker  # the tests' broker harness

    delays: list[float] = []
    with MosquittoBroker(work / "mosquitto") as broker:
        for k in range(runs):
            (work / f"live-{k}").mkdir()
            delays += asyncio.run(_live_run(work / f"live-{k}", broker.port))
    return delays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--swarm", type=int, default=50)
    parser.add_argument("--live-runs", type=int, default=5, help="0: no live measurement")
    parser.add_argument("--json", default="benchmarks/results/alerts.json")
    args = parser.parse_args(argv)
    config = load_config(CONFIG)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for seed in range(args.seeds):
            for sc in (
                build_scenario("mixed", config, seed=seed),
                swarm_of(args.swarm, config, seed),
            ):
                r = score(sc, config, seed, work).summary()
                results.append(r)
                print(json.dumps(r), flush=True)
        cost_ms = journal_cost(work)
        live = live_latency(args.live_runs, work) if args.live_runs else []
    print()
    for name in ("mixed", f"swarm-{args.swarm}"):
        runs = [r for r in results if r["scenario"] == name]
        crossing = sum(int(r["hostile_drones_crossing"]) for r in runs)  # type: ignore[call-overload]
        missed = sum(len(r["missed"]) for r in runs)  # type: ignore[arg-type]
        medians = [r["warning_median_s"] for r in runs if r["warning_median_s"] is not None]
        minima = [r["warning_min_s"] for r in runs if r["warning_min_s"] is not None]
        false: Counter[str] = Counter()
        for r in runs:
            false.update(r["false_alerts"])  # type: ignore[arg-type]
        lat = [r["latency_max_s"] for r in runs if r["latency_max_s"] is not None]
        print(
            f"{name:9}  {crossing} hostile crossings, {missed} missed; warning median "
            f"{statistics.median(medians):.0f} s, min {min(minima):.0f} s; false alerts "
            f"{sum(false.values())} {dict(false) or ''}; debounce latency max "
            f"{max(lat):.1f} s"
        )
    print(f"journal: {cost_ms:.2f} ms per transition (SQLite WAL, synchronous=FULL)")
    if live:
        print(
            f"live: raised/escalated at an MQTT subscriber {1000 * statistics.median(live):.0f} ms "
            f"(max {1000 * max(live):.0f} ms) after their cycle time, 0.2 s reorder window "
            f"included ({len(live)} messages)"
        )
    print(f"over {args.seeds} seeds")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(
        json.dumps(
            {
                "runs": results,
                "journal_ms": round(cost_ms, 3),
                "live_delay_ms": [round(1000 * d, 1) for d in live],
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
