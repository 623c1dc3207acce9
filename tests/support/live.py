"""Helpers for live tests: a camp on free ports, a real-time intruder, an MQTT listener."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import numpy as np

from cuas import wire
from cuas.config import CampConfig, load_config
from cuas.io.mqtt_output import AlertDeduplicator, classify_topic, decode_output
from cuas.service.run import FusionService
from cuas.topics import Topics
from sensors.publisher import SensorPublisher
from simulators.radar import SimulatedRadar
from support.broker import free_port

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "camp.example.toml"


def live_camp(directory: Path, mqtt_port: int, cycle_s: float = 0.2) -> Path:
    """The example camp on free loopback ports, with fast cycles for quick tests, and its alert
    journal in `directory`."""
    text = EXAMPLE.read_text()
    text = text.replace("port = 1883", f"port = {mqtt_port}\ntracks_period_s = {cycle_s}")
    text = text.replace("tcp://127.0.0.1:5555", f"tcp://127.0.0.1:{free_port()}")
    text = text.replace("tcp://127.0.0.1:5556", f"tcp://127.0.0.1:{free_port()}")
    text = re.sub(r"cycle_period_s = [0-9.]+", f"cycle_period_s = {cycle_s}", text)
    text = re.sub(r"reorder_window_s = [0-9.]+", "reorder_window_s = 0.2", text)
    text = text.replace(
        '# journal = "journal.sqlite"', f'journal = "{directory / "journal.sqlite"}"'
    )
    # The test intruder's radar scans at 10 Hz in a camp that configures it at 1 Hz.
    text = text.replace("intake_rate_factor = 5.0", "intake_rate_factor = 20.0")
    path = directory / "camp.toml"
    path.write_text(text)
    return path


@dataclass
class Intruder:
    """A drone seen by the camp's radar in real time, flying west across the camp.

    It starts inside the approach zone, 650 m east of the centre at 80 m, so it is alerted
    (warning) as soon as its track is confirmed, and crosses the perimeter (critical) about
    10 s later.
    """

    config: CampConfig
    start_e: float = 650.0
    speed: float = 30.0
    scan_period_s: float = 0.1
    clutter_per_scan: float = 0.5
    t0: float = field(default_factory=time.time)
    start_n: float = 20.0
    velocity: tuple[float, float] | None = None  # east, north (m/s); default west at `speed`

    def position(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        ve, vn = self.velocity if self.velocity is not None else (-self.speed, 0.0)
        v = np.array([ve, vn, 0.0])
        return np.array([self.start_e, self.start_n, 80.0]) + v * (t - self.t0), v

    async def fly(self, stop: asyncio.Event, publisher: SensorPublisher | None = None) -> int:
        """Publish radar scans until `stop`; returns the number of reports sent."""
        cfg = self.config
        frame = cfg.local_frame()
        sensor = cfg.sensor("radar-1")
        assert sensor is not None
        radar = SimulatedRadar.from_camp(
            sensor,
            frame,
            np.random.default_rng(1),
            p_detection=0.95,
            clutter_per_scan=self.clutter_per_scan,
        )
        own = publisher is None
        pub = publisher or SensorPublisher("radar-1", "radar", cfg.zmq.ingest)
        if own:
            await pub.start()
        sent = 0
        try:
            await pub.wait_connected(timeout=5.0)
            while not stop.is_set():
                t = time.time()
                p, v = self.position(t)
                report = radar.scan(t, p, v)
                await pub.send_report(t, report.detections)
                sent += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.scan_period_s)
        finally:
            if own:
                await pub.close()
        return sent


# The approach zone shrunk to 450 m about the camp centre, so a whole episode takes seconds.
APPROACH = "[[8.6590, 24.4900], [8.6590, 24.5100], [8.6410, 24.5100], [8.6410, 24.4900]]"
SMALL_APPROACH = (
    "[[8.65407, 24.49591], [8.65407, 24.50409], [8.64593, 24.50409], [8.64593, 24.49591]]"
)


def without_startup_hold(path: Path) -> Path:
    """The camp file at `path` with no start-up hold of alerts: for a test whose intruder is
    in a zone as soon as the core is up, and whose subject is not the hold."""
    text = path.read_text()
    assert "startup_hold_s = 5.0" in text
    path.write_text(text.replace("startup_hold_s = 5.0", "startup_hold_s = 0.0", 1))
    return path


def small_camp(directory: Path, mqtt_port: int) -> Path:
    """`live_camp` with an approach zone of 450 m about the centre (the perimeter as ever)."""
    path = live_camp(directory, mqtt_port)
    text = path.read_text()
    assert APPROACH in text
    path.write_text(text.replace(APPROACH, SMALL_APPROACH))
    return path


def corner_clip(config: CampConfig, start_n: float = 550.0) -> Intruder:
    """A drone `start_n` north of the camp centre heading south-east at 40 m/s: on course for
    the perimeter (alerted at once, `high`), it clips the perimeter's north-east corner
    (escalated: ~10 s in from 550 m, ~6 s in from 430 m, inside the small approach zone) and
    is out of the zones ~16 s in (cleared)."""
    return Intruder(config, start_e=0.0, start_n=start_n, velocity=(28.3, -28.3))


@contextlib.asynccontextmanager
async def core_running(config: CampConfig, **kwargs: Any) -> AsyncIterator[FusionService]:
    """The fusion service running in-process for the block (statistics every second); on exit
    it is stopped as on SIGTERM and awaited, so its shutdown is part of the test."""
    done = asyncio.Event()
    service = FusionService(config, **{"stats_period_s": 1.0, **kwargs})
    core = asyncio.create_task(service.run(done))
    try:
        yield service
    finally:
        done.set()
        await core


@dataclass
class Heard:
    """Everything an MQTT subscriber received, by kind."""

    statuses: list[tuple[wire.ServiceStatus, bool]] = field(default_factory=list)
    events: list[wire.Alert] = field(default_factory=list)  # deduplicated by `seq`
    copies: list[wire.Alert] = field(default_factory=list)  # every copy, duplicates too
    dedupe: AlertDeduplicator = field(default_factory=AlertDeduplicator)
    retained_alerts: dict[str, tuple[bytes, bool]] = field(default_factory=dict)
    cycles: list[wire.TrackCycle] = field(default_factory=list)
    updates: list[wire.TrackUpdate] = field(default_factory=list)  # `tracks/updates`
    health: list[wire.SensorHealth] = field(default_factory=list)


@contextlib.asynccontextmanager
async def listening(
    port: int,
    prefix: str = "cuas/alpha",
    identifier: str | None = None,
    clean_session: bool = True,
) -> AsyncIterator[Heard]:
    """Subscribe to the camp's topics (QoS 1) and collect what arrives, in the background."""
    heard = Heard()
    connected = asyncio.Event()

    async def listen() -> None:
        while True:
            try:
                async with aiomqtt.Client(
                    "127.0.0.1", port, identifier=identifier, clean_session=clean_session
                ) as client:
                    await client.subscribe(f"{prefix}/#", qos=1)
                    connected.set()
                    async for m in client.messages:
                        _file(heard, prefix, m)
            except aiomqtt.MqttError:
                await asyncio.sleep(0.2)

    task = asyncio.create_task(listen())
    try:
        await asyncio.wait_for(connected.wait(), 5.0)
        yield heard
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _file(heard: Heard, prefix: str, m: aiomqtt.Message) -> None:
    payload = bytes(m.payload)  # type: ignore[arg-type]
    if classify_topic(Topics(prefix), m.topic.value)[0] in ("ack", "other"):
        return  # operators' input, not the core's output
    out = decode_output(Topics(prefix), m.topic.value, payload)
    if out.kind == "status":
        heard.statuses.append((out.message, m.retain))
    elif out.kind == "alert_event":
        heard.copies.append(out.message)
        if heard.dedupe.is_new(out.message):
            heard.events.append(out.message)
    elif out.kind in ("alert_state", "alert_cleared"):
        heard.retained_alerts[out.key] = (payload, m.retain)
    elif out.kind == "tracks":
        heard.cycles.append(out.message)
    elif out.kind == "track_update":
        heard.updates.append(out.message)
    elif out.kind == "sensor":
        heard.health.append(out.message)


async def eventually(condition, timeout: float, what: str, poll: float = 0.05) -> None:
    """Wait until `condition()` is true, or fail saying `what` did not happen."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(poll)


def camp(path: Path) -> CampConfig:
    return load_config(path)


def start_core_process(
    path: Path, *run_args: str, options: tuple[str, ...] = (), capture: bool = False
) -> subprocess.Popen[str]:
    """`cuas [options] run --config path [run_args]` as a process of its own (to signal or
    SIGKILL it for real); with `capture`, its stdout and stderr in one pipe, else discarded."""
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "cuas", *options, "run", "--config", str(path), *run_args],
        stdout=out,
        stderr=subprocess.STDOUT if capture else subprocess.DEVNULL,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
        text=True,
    )
