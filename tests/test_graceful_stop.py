"""A graceful stop loses nothing: `cuas run` told to stop (SIGTERM, SIGINT) reads what sensors
sent before, fuses every report it holds, and publishes and journals the final cycle and
alerts before it exits. Real process, real ZeroMQ sockets, real Mosquitto."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import zmq.asyncio
from support.live import (
    camp,
    eventually,
    listening,
    live_camp,
    start_core_process,
    without_startup_hold,
)

from cuas.io.journal import Journal
from cuas.io.recording import read_records
from sensors.publisher import SensorPublisher
from simulators.radar import SimulatedRadar

REPORTS = 100  # 10 s of an intruder's flight at 10 Hz, sent in one burst
WINDOW_S = 3.0  # the reorder window: the silent sensors hold the last 3 s of reports in it


def stop_camp(directory: Path, mqtt_port: int) -> Path:
    """The live test camp with a 3 s reorder window (so the stop finds reports held in it),
    its radar declared at 10 Hz (so the burst is within its intake limit), and no start-up
    hold of alerts (the burst ends about when the core is up)."""
    path = without_startup_hold(live_camp(directory, mqtt_port))
    text = re.sub(r"reorder_window_s = [0-9.]+", f"reorder_window_s = {WINDOW_S}", path.read_text())
    text = text.replace("update_period_s = 1.0", "update_period_s = 0.1", 1)
    path.write_text(text)
    return path


async def send_burst(config, t_last: float) -> list[float]:
    """REPORTS radar reports of a drone flying west across the approach zone, measured 0.1 s
    apart up to `t_last`, sent at once and flushed to the network; their times."""
    frame = config.local_frame()
    radar = SimulatedRadar.from_camp(
        config.sensor("radar-1"), frame, np.random.default_rng(3), p_detection=1.0
    )
    times = [t_last - 0.1 * (REPORTS - 1 - i) for i in range(REPORTS)]
    context = zmq.asyncio.Context()
    pub = SensorPublisher("radar-1", "radar", config.zmq.ingest, context=context, linger_ms=5000)
    await pub.start()
    try:
        assert await pub.wait_connected(timeout=10.0)
        for i, t in enumerate(times):
            p = np.array([650.0 - 30.0 * 0.1 * i, 20.0, 80.0])
            report = radar.scan(t, p, np.array([-30.0, 0.0, 0.0]))
            assert await pub.send_report(t, report.detections)
    finally:
        await pub.close()
        context.term()  # returns once every message has been handed to the network
    return times


def totals(log: str) -> dict:
    return next(json.loads(line)["totals"] for line in log.splitlines() if '"totals"' in line)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_right_after_a_burst_fuses_publishes_and_journals_every_report(
    mosquitto, tmp_path, sig
):
    path = stop_camp(tmp_path, mosquitto.port)
    config = camp(path)
    recording = tmp_path / "received.msgpack"

    async def scenario() -> None:
        async with listening(mosquitto.port) as heard:
            core = start_core_process(
                path, "--record", str(recording), options=("--log-json",), capture=True
            )
            try:
                await eventually(
                    lambda: any(s.state == "online" for s, _ in heard.statuses), 20, "online"
                )
                times = await send_burst(config, t_last=time.time())
                core.send_signal(sig)  # at once: most reports are unread or held
                out, _ = await asyncio.to_thread(core.communicate, timeout=30)
                await eventually(lambda: heard.statuses[-1][0].state == "offline", 10, "offline")
            finally:
                if core.poll() is None:
                    core.kill()
                    core.wait()
        assert core.returncode == 0, out[-3000:]
        done = totals(out)
        # Every report that reached the core was fused, in order (none late), much of it only
        # because the stop drained the socket and the reorder window.
        reports = [r for r in read_records(recording) if r.topic == "report.radar-1"]
        assert len(reports) == REPORTS
        assert done["reports_fused"] == REPORTS, done
        assert done["late"] == 0 and done["late_fused"] == 0
        assert done["fused_at_stop"] > 0, done  # the last WINDOW_S of reports were still held
        assert "perhaps still unread" not in out  # the socket went quiet well within the bound
        # The final cycle covers the last report and was published; so was the intruder's alert,
        # after it was journaled.
        assert max(c.t for c in heard.cycles) >= times[-1]
        assert any(t.status == "confirmed" for t in heard.cycles[-1].tracks)
        with Journal(config.journal_path, create=False) as journal:
            rows = journal.query()
        assert any(r.state == "raised" for r in rows)
        assert all(r.published_at is not None for r in rows), rows
        assert {r.seq for r in rows} <= {a.seq for a in heard.events}
        assert done["alerts_unpublished"] == 0 and done["mqtt_unsent"] == 0

    asyncio.run(asyncio.wait_for(scenario(), 90))
