"""A scenario flown as fast as possible into memory, and into a recording with its truth.

Recording (`record`): the sensors of the run (`simulators.flight.sensors`) at scan times
`t0 + phase + k * update_period_s`, written as the live core would have captured them: each
report received at t + its sensor's latency (radar 50 ms), a heartbeat per sensor every
second, all records in `t_received` order; plus a truth sidecar `<out>.truth.msgpack`
(`truth` records with each target's class, at the radar's scan times). No wall clock is
read: one scenario, camp, seed and t0 give byte-identical files.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from cuas.config import CampConfig, SensorConfig
from cuas.io.recording import RecordingWriter
from cuas.topics import report_topic, status_topic
from cuas.wire import VERSION, Report, Status
from simulators.benchmark_scenarios import HEARTBEAT_PERIOD_S, T0
from simulators.events import EventPlan
from simulators.flight.sensors import make_sensors, scan_phase
from simulators.flight.stats import RunStats
from simulators.scenario_library import Scenario, resolve_scenario
from simulators.scoring import TRUTH_TOPIC, TruthFrame

__all__ = ["Simulation", "record", "simulate", "truth_path"]


def truth_path(out: str | Path) -> Path:
    """The truth sidecar of a recording: `x.msgpack` -> `x.truth.msgpack`."""
    out = Path(out)
    if out.suffix == ".msgpack":
        return out.with_suffix(".truth.msgpack")
    return out.with_name(out.name + ".truth.msgpack")


def _scan_times(duration_s: float, period_s: float, phase_s: float) -> np.ndarray:
    """Scenario times `phase + k * period` within `0..duration` (the radar's of old at 0)."""
    n = math.floor((duration_s - phase_s) / period_s + 1e-9) + 1
    return phase_s + np.arange(max(n, 0)) * period_s


@dataclass
class Simulation:
    """A scenario flown as fast as possible, in memory: what a recording would hold.

    `records` are `(t_received, topic, payload)` in arrival order (reports and heartbeats of
    every sensor), `truth` the `truth` frames at the scenario radar's scan times, and
    `first_seen` the scenario time of each target's first delivered detection (any sensor).
    """

    scenario: Scenario
    t0: float
    records: list[tuple[float, str, Any]]
    truth: list[TruthFrame]
    stats: RunStats
    first_seen: dict[str, float] = field(default_factory=dict)

    def write(self, out: str | Path) -> Path:
        """Write the recording to `out` and its truth to `truth_path(out)`; returns the latter."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with RecordingWriter(out) as writer, RecordingWriter(truth_path(out)) as truth_writer:
            for t_received, topic, payload in self.records:
                writer.write(t_received, topic, payload)
            for frame in self.truth:
                truth_writer.write(frame.t, TRUTH_TOPIC, frame)
        return truth_path(out)


def simulate(
    scenario: Scenario | str,
    config: CampConfig,
    seed: int = 0,
    t0: float = T0,
    duration_s: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Simulation:
    """Fly the scenario as fast as possible, without any wall clock, into memory.

    Every sensor scans at `t0 + phase + k * update_period_s` and heartbeats every second;
    the scenario's events (`simulators.events`) silence sensors, skew their clocks and add
    clutter bursts. Records are in `t_received` order; ties go to heartbeats first, then to
    sensors in the run's order. `progress(done, total)` is called after each sensor.
    """
    sc = resolve_scenario(scenario, config, seed, duration_s)
    sensors = make_sensors(sc, config, seed)
    plan = EventPlan(sc.events, seed)
    period = sc.radar.update_period_s
    times = _scan_times(sc.duration_s, period, 0.0)
    n_beats = math.ceil((times[-1] + period) / HEARTBEAT_PERIOD_S)
    beats = [t0 + k * HEARTBEAT_PERIOD_S for k in range(n_beats)]
    stats = RunStats(sc.name)
    first_seen: dict[str, float] = {}
    started = time.perf_counter()
    # (t_received, sensor order, heartbeat 0 / report 1, seq) -> topic, payload
    records: list[tuple[tuple[float, int, int, int], str, Any]] = []
    for order, sim in enumerate(sensors):
        sid = sim.sensor.id
        records += [
            (
                (tb, order, 0, k),
                status_topic(sid),
                Status(v=VERSION, sensor_id=sid, t=tb + plan.skew(sid, tb - t0), state="ok"),
            )
            for k, tb in enumerate(beats)
            if not plan.silent(sid, tb - t0)
        ]
        taus = _scan_times(sc.duration_s, sim.sensor.update_period_s, scan_phase(sim, order))
        enu, vel, active = sc.targets.sample(taus)
        for k, tau in enumerate(taus.tolist()):
            t = t0 + tau
            states = sc.targets.select(t, enu[k], vel[k], active[k])
            scan = sim.observe(t, states)  # drawn even when silent: the rest stays the same
            if plan and plan.silent(sid, tau):
                continue
            report = sim.report(scan)
            if plan:
                report, extra = _with_events(report, plan, sim.sensor, tau)
                stats.detections += extra
            records.append(((sim.arrival_time(t), order, 1, k), report_topic(sid), report))
            stats.count(sid, scan)
            for i in scan.truth_index[scan.truth_index >= 0].tolist():
                target = states.ids[i]
                first_seen[target] = min(first_seen.get(target, math.inf), tau)
        if progress is not None:
            progress(order + 1, len(sensors))
    records.sort(key=lambda r: r[0])
    enu, vel, active = sc.targets.sample(times)
    truth = [
        sc.targets.select(t0 + tau, enu[k], vel[k], active[k]).truth_frame()
        for k, tau in enumerate(times.tolist())
    ]
    stats.scenario_s = float(times[-1])
    stats.wall_s = time.perf_counter() - started
    stats.completed = True
    return Simulation(
        sc,
        t0,
        [(key[0], topic, payload) for key, topic, payload in records],
        truth,
        stats,
        first_seen,
    )


def _with_events(
    report: Report, plan: EventPlan, sensor: SensorConfig, tau: float
) -> tuple[Report, int]:
    """A report as the events make it: clock skew and clutter bursts; and the extra count."""
    extra = plan.clutter(sensor, tau)
    skew = plan.skew(sensor.id, tau)
    if not extra and not skew:
        return report, 0
    detections = [*report.detections, *extra]
    return msgspec.structs.replace(report, t=report.t + skew, detections=detections), len(extra)


def record(
    scenario: Scenario | str,
    config: CampConfig,
    out: str | Path,
    seed: int = 0,
    t0: float = T0,
    duration_s: float | None = None,
) -> RunStats:
    """Write the scenario's recording to `out` and its truth to `truth_path(out)`.

    As fast as possible and without any wall clock: identical arguments, identical bytes
    (see `simulate`). `duration_s` applies when `scenario` is a name (a built `Scenario` has
    its own).
    """
    run = simulate(scenario, config, seed, t0, duration_s)
    run.write(out)
    return run.stats
