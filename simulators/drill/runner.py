"""The drill runners: fly a drill through the fusion core and score it against the truth.

As fast as possible (`run_drill`): the scenario is simulated into a recording (every sensor,
its events, a truth sidecar), `cuas replay` runs the fusion pipeline over it exactly as it runs
any recording, and `simulators.drill.score` scores the replay output against the truth. Live
(`run_drill_live`): the simulated sensors fly over ZeroMQ into the real service (`cuas run`,
in-process, publishing on MQTT as for the operations centre), and the drill is scored from
what the service published on MQTT. The command line is `simulators.drill.command`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import msgspec

from cuas import wire
from cuas.config import CampConfig
from cuas.errors import WireError
from cuas.fusion.pipeline import TOPIC_ALERT, TOPIC_TRACKS
from cuas.io.mqtt_output import AlertDeduplicator, decode_output
from cuas.io.recording import read_records
from cuas.service.replay import replay
from cuas.topics import Topics, is_report
from simulators.drill.result import DrillResult, target_infos
from simulators.drill.score import score_drill
from simulators.scoring import Snapshot, read_truth, truth_snapshot

if TYPE_CHECKING:
    from simulators.scenario_library import Scenario

LIVE_GRACE_S = 3.0  # after a live drill, so the last cycles and alerts are seen

__all__ = ["read_outputs", "run_drill", "run_drill_live"]


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
    from simulators.flight.recording import simulate

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
    from simulators.flight.realtime import ScanEvent, run_realtime

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
