"""`cuas tail` against a real Mosquitto: what an operator sees for each kind of camp message.

Messages are built from `cuas.wire` structs and published with aiomqtt on the topics and
with the QoS/retain flags of DESIGN.md ("Core -> consumers"), exactly as the service would.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiomqtt
import pytest
from support.broker import MosquittoBroker, free_port

from cuas import wire
from cuas.operator.tail import TailSettings, TailStats, add_command, format_cycle, run, tail
from cuas.topics import Topics
from cuas.wire import Alert, SensorHealth, ServiceStatus, Track, TrackCycle

PREFIX = "cuas/alpha"
TOPICS = Topics(PREFIX)
T0 = 1764000000.0  # 16:00:00 UTC
TIMEOUT_S = 5.0
EXAMPLE_CONFIG = Path(__file__).resolve().parents[1] / "config" / "camp.example.toml"

Publish = Callable[[aiomqtt.Client], Awaitable[None]]


# --- messages as the service publishes them ------------------------------------------------


def status(state: str = "online", t: float | None = T0) -> ServiceStatus:
    return ServiceStatus(v=1, camp_id="alpha", state=state, t=t)  # type: ignore[arg-type]


def alert(alert_id: str = "A-0007", state: str = "raised", **changes: object) -> Alert:
    fields: dict[str, object] = {
        "v": 1,
        "alert_id": alert_id,
        "track_id": 1,
        "level": "critical",
        "state": state,
        "zone": "perimeter",
        "reason": "Drone track 1 inside the perimeter.",
        "t_raised": T0,
        "t": T0 + 3.2,
        "lat": 8.651,
        "lon": 24.501,
        "alt_m": 700.0,
        "eta_s": 42.0,
        "acknowledged_by": None,
    }
    return Alert(**(fields | changes))  # type: ignore[arg-type]


def track(track_id: int, status: str, class_: str, threat: str, east: float, north: float) -> Track:
    return Track(
        track_id=track_id,
        t=T0,
        status=status,  # type: ignore[arg-type]
        lat=8.65,
        lon=24.5,
        alt_m=700.0,
        enu=[east, north, 100.0],
        vel_enu=[-5.0, -5.0, 0.0],
        pos_sigma_m=12.0,
        class_=class_,  # type: ignore[arg-type]
        class_probs={class_: 0.9},  # type: ignore[dict-item]
        threat=threat,  # type: ignore[arg-type]
        sensors=["radar-1"],
        friendly=False,
        uas_id=None,
        t_update=T0,
    )


def cycle() -> TrackCycle:
    return TrackCycle(
        v=1,
        t=T0,
        tracks=[
            track(1, "confirmed", "drone", "critical", 300.0, 400.0),  # 500 m out
            track(2, "coasting", "drone", "high", 1200.0, 0.0),
            track(3, "confirmed", "bird", "none", 100.0, 0.0),
            track(4, "tentative", "unknown", "low", 2000.0, 0.0),
            track(5, "deleted", "drone", "high", 50.0, 0.0),  # gone: not live, not a threat
        ],
    )


def health(state: str = "degraded", **changes: object) -> SensorHealth:
    fields: dict[str, object] = {
        "v": 1,
        "sensor_id": "radar-1",
        "kind": "radar",
        "t": T0 + 5.0,
        "state": state,
        "detail": "no report for 3 s",
        "t_last_report": T0 + 2.0,
        "t_last_status": T0 + 4.0,
        "reports": 120,
        "detections": 340,
        "report_rate_hz": 1.0,
        "rejects": {"malformed": 2, "late": 1},
    }
    return SensorHealth(**(fields | changes))  # type: ignore[arg-type]


STATUS_LINE = "16:00:00.0Z STATUS  camp alpha online"
ALERT_LINE = (
    "16:00:03.2Z ALERT   raised       critical A-0007  zone=perimeter  eta=42s  track=1"
    "  Drone track 1 inside the perimeter."
)
CYCLE_LINE = (
    "16:00:00.0Z TRACKS  4 live: tentative 1, confirmed 2, coasting 1, deleted 1"
    " | drone 2, bird 1, unknown 1 | threat critical 1, high 1, low 1, none 1"
    " | top: #1 drone critical 500m, #2 drone high 1.2km, #4 unknown low 2.0km"
)
SENSOR_LINE = (
    "16:00:05.0Z SENSOR  radar-1 (radar) degraded  1.0 Hz  120 reports  last 16:00:02.0Z"
    "  rejects 3 (late 1, malformed 2)  no report for 3 s"
)


async def publish_camp(client: aiomqtt.Client) -> None:
    """One of each: status, alert transition (event + retained state), cycle, health."""
    await client.publish(TOPICS.status, wire.to_json(status()), qos=1, retain=True)
    await client.publish(TOPICS.alert_events, wire.to_json(alert()), qos=1)
    await client.publish(TOPICS.alert("A-0007"), wire.to_json(alert()), qos=1, retain=True)
    await client.publish(TOPICS.tracks, wire.to_json(cycle()), qos=0)
    await client.publish(TOPICS.sensor("radar-1"), wire.to_json(health()), qos=1, retain=True)


# --- running tail -------------------------------------------------------------------------


def settings_for(broker: MosquittoBroker, **options: object) -> TailSettings:
    base: dict[str, object] = {
        "prefix": PREFIX,
        "host": broker.host,
        "port": broker.port,
        "duration_s": TIMEOUT_S,  # a safety net: every test ends on --count well before
        "retry_min_s": 0.1,
        "retry_max_s": 0.5,
    }
    return TailSettings(**(base | options))  # type: ignore[arg-type]


async def _publish(broker: MosquittoBroker, publish: Publish) -> None:
    async with aiomqtt.Client(broker.host, broker.port, timeout=TIMEOUT_S) as client:
        await publish(client)


async def _tail_while(
    settings: TailSettings, publish: Publish | None, broker: MosquittoBroker
) -> tuple[str, TailStats, str]:
    out, notes, ready = io.StringIO(), io.StringIO(), asyncio.Event()
    task = asyncio.create_task(tail(settings, out, notes=notes, ready=ready))
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({task, waiter}, timeout=TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if publish is not None:
        await _publish(broker, publish)
    stats = await asyncio.wait_for(task, TIMEOUT_S + 1.0)
    return out.getvalue(), stats, notes.getvalue()


def run_tail(
    broker: MosquittoBroker, publish: Publish | None = None, **options: object
) -> tuple[list[str], TailStats]:
    """Start tail, publish once it has subscribed, and return its lines when it stops."""
    text, stats, _ = asyncio.run(_tail_while(settings_for(broker, **options), publish, broker))
    return text.splitlines(), stats


# --- what an operator sees ----------------------------------------------------------------


def test_each_kind_of_camp_message_prints_one_readable_line(mosquitto: MosquittoBroker) -> None:
    lines, stats = run_tail(mosquitto, publish_camp, count=5)

    assert stats.messages == 5 and stats.bad == 0
    # The live update of the retained alert state repeats the transition: shown once.
    assert sorted(lines) == sorted([STATUS_LINE, ALERT_LINE, CYCLE_LINE, SENSOR_LINE])


def test_active_alerts_retained_before_start_are_shown_at_start_up(
    mosquitto: MosquittoBroker,
) -> None:
    async def before(client: aiomqtt.Client) -> None:
        await client.publish(TOPICS.status, wire.to_json(status()), qos=1, retain=True)
        warning = alert("A-0001", "escalated", level="warning", zone="approach", eta_s=None)
        await client.publish(TOPICS.alert("A-0001"), wire.to_json(warning), qos=1, retain=True)
        await client.publish(TOPICS.alert("A-0002"), wire.to_json(alert("A-0002")), retain=True)
        await client.publish(TOPICS.alert("A-0002"), b"", qos=1, retain=True)  # cleared

    asyncio.run(_publish(mosquitto, before))
    lines, stats = run_tail(mosquitto, count=2)

    assert stats.messages == 2
    assert sorted(lines) == [
        STATUS_LINE,
        "16:00:03.2Z ACTIVE  escalated    warning  A-0001  zone=approach  eta=-  track=1"
        "  Drone track 1 inside the perimeter.",
    ]


def test_repeated_status_and_unchanged_sensor_health_are_not_repeated(
    mosquitto: MosquittoBroker,
) -> None:
    async def publish(client: aiomqtt.Client) -> None:
        for message in (status(), status()):
            await client.publish(TOPICS.status, wire.to_json(message), qos=1)
        for message in (health(), health(t=T0 + 10.0, reports=130), health("ok", detail="")):
            await client.publish(TOPICS.sensor("radar-1"), wire.to_json(message), qos=1)
        await client.publish(TOPICS.status, wire.to_json(status("offline", t=None)), qos=1)

    lines, stats = run_tail(mosquitto, publish, count=6)

    assert stats.messages == 6
    assert lines[0] == STATUS_LINE
    assert lines[1] == SENSOR_LINE
    assert lines[2].startswith("16:00:05.0Z SENSOR  radar-1 (radar) ok  1.0 Hz")
    assert lines[3].endswith("STATUS  camp alpha offline")  # the last will has no time
    assert len(lines) == 4


def test_json_mode_prints_every_message_as_a_json_line_with_its_topic(
    mosquitto: MosquittoBroker,
) -> None:
    lines, stats = run_tail(mosquitto, publish_camp, count=5, raw_json=True)

    assert stats.messages == 5 and len(lines) == 5
    got = {(m["topic"], json.dumps(m["payload"], sort_keys=True)) for m in map(json.loads, lines)}
    want = {
        (topic, json.dumps(wire.to_builtins(message), sort_keys=True))
        for topic, message in [
            (TOPICS.status, status()),
            (TOPICS.alert_events, alert()),
            (TOPICS.alert("A-0007"), alert()),
            (TOPICS.tracks, cycle()),
            (TOPICS.sensor("radar-1"), health()),
        ]
    }
    assert got == want


def test_malformed_payloads_are_reported_and_counted_and_tail_goes_on(
    mosquitto: MosquittoBroker,
) -> None:
    async def publish(client: aiomqtt.Client) -> None:
        await client.publish(TOPICS.tracks, b"not json", qos=1)
        future = wire.to_builtins(status()) | {"v": 2}
        await client.publish(TOPICS.status, json.dumps(future).encode(), qos=1)
        await client.publish(TOPICS.sensor("radar-1"), b'{"v": 1, "sensor_id": "x"}', qos=1)
        await client.publish(TOPICS.alert_events, b"", qos=1)
        await client.publish(TOPICS.status, wire.to_json(status()), qos=1)

    lines, stats = run_tail(mosquitto, publish, count=5)

    assert stats.bad == 4
    assert stats.bad_reasons == {"malformed": 2, "bad_version": 1, "missing_field": 1}
    warnings = [line for line in lines if " WARNING bad payload on " in line]
    assert len(warnings) == 4
    assert f"bad payload on {TOPICS.tracks}: malformed: " in warnings[0]
    assert f"bad payload on {TOPICS.status}: bad_version: " in warnings[1]
    assert lines[-1] == STATUS_LINE


def test_json_mode_reports_a_malformed_payload_as_a_json_line(
    mosquitto: MosquittoBroker,
) -> None:
    async def publish(client: aiomqtt.Client) -> None:
        await client.publish(TOPICS.tracks, b"{oops", qos=1)

    lines, stats = run_tail(mosquitto, publish, count=1, raw_json=True)

    assert stats.bad == 1
    (line,) = map(json.loads, lines)
    assert line["topic"] == TOPICS.tracks and line["raw"] == "{oops"
    assert line["error"].startswith("malformed: ")


def test_no_tracks_leaves_the_track_stream_out(mosquitto: MosquittoBroker) -> None:
    async def publish(client: aiomqtt.Client) -> None:
        await client.publish(TOPICS.tracks, wire.to_json(cycle()), qos=1)
        await client.publish(TOPICS.status, wire.to_json(status()), qos=1)

    lines, stats = run_tail(mosquitto, publish, count=1, tracks=False)

    assert lines == [STATUS_LINE] and stats.messages == 1


def test_tail_reconnects_when_the_broker_comes_back(mosquitto: MosquittoBroker) -> None:
    async def scenario() -> tuple[str, TailStats, str]:
        async def outage(client: aiomqtt.Client) -> None:
            await client.publish(TOPICS.status, wire.to_json(status()), qos=1)

        settings = settings_for(mosquitto, count=2)
        out, notes, ready = io.StringIO(), io.StringIO(), asyncio.Event()
        stats = TailStats()
        task = asyncio.create_task(tail(settings, out, notes=notes, stats=stats, ready=ready))
        await asyncio.wait_for(ready.wait(), TIMEOUT_S)
        await _publish(mosquitto, outage)
        await asyncio.to_thread(mosquitto.stop)
        await asyncio.sleep(0.3)  # tail notices and retries against a closed port
        await asyncio.to_thread(mosquitto.start)
        async with asyncio.timeout(TIMEOUT_S):
            while stats.connects < 2:
                await asyncio.sleep(0.05)
        await _publish(mosquitto, publish_alert)
        await asyncio.wait_for(task, TIMEOUT_S)
        return out.getvalue(), stats, notes.getvalue()

    async def publish_alert(client: aiomqtt.Client) -> None:
        await client.publish(TOPICS.alert_events, wire.to_json(alert()), qos=1)

    text, stats, notes = asyncio.run(scenario())

    assert text.splitlines() == [STATUS_LINE, ALERT_LINE]
    assert stats.connects == 2 and stats.connection_failures >= 1
    assert "retrying in" in notes and "reconnected to" in notes


def test_an_unreachable_broker_is_retried_until_the_duration_ends() -> None:
    settings = TailSettings(
        prefix=PREFIX, port=free_port(), duration_s=0.8, retry_min_s=0.05, retry_max_s=0.2
    )
    out = io.StringIO()
    stats = asyncio.run(asyncio.wait_for(tail(settings, out), TIMEOUT_S))

    assert stats.connects == 0 and stats.connection_failures >= 2
    assert "retrying in" in out.getvalue()


def test_the_track_summary_lists_the_worst_threats_first_then_the_nearest() -> None:
    near = track(7, "confirmed", "drone", "high", 0.0, 200.0)
    far = track(8, "confirmed", "drone", "high", 0.0, 900.0)
    worst = track(9, "confirmed", "drone", "critical", 0.0, 2500.0)
    line = format_cycle(TrackCycle(v=1, t=T0, tracks=[far, near, worst]), top=2)
    assert line.endswith("| top: #9 drone critical 2.5km, #7 drone high 200m")
    assert format_cycle(TrackCycle(v=1, t=T0, tracks=[])) == "16:00:00.0Z TRACKS  0 live"


# --- the command line ---------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="cuas")
    add_command(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["tail", *argv])


def test_the_command_takes_broker_and_prefix_from_the_camp_config() -> None:
    from cuas.operator.tail import settings_from_args

    settings = settings_from_args(parse("--config", str(EXAMPLE_CONFIG)))
    assert (settings.host, settings.port, settings.prefix) == ("127.0.0.1", 1883, "cuas/alpha")
    assert settings.tracks and not settings.raw_json

    settings = settings_from_args(
        parse("--config", str(EXAMPLE_CONFIG), "--port", "1999", "--prefix", "x/y", "--no-tracks")
    )
    assert (settings.port, settings.prefix, settings.tracks) == (1999, "x/y", False)


def test_the_command_without_config_or_prefix_is_refused() -> None:
    with pytest.raises(SystemExit, match="--prefix"):
        run(parse("--count", "1"))


def test_the_command_prints_lines_then_a_tally(
    mosquitto: MosquittoBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    async def before(client: aiomqtt.Client) -> None:
        await client.publish(TOPICS.status, wire.to_json(status()), qos=1, retain=True)

    asyncio.run(_publish(mosquitto, before))
    args = parse("--port", str(mosquitto.port), "--prefix", PREFIX, "--count", "1")
    args.duration = TIMEOUT_S

    assert args.func(args) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [STATUS_LINE]
    assert "cuas tail: 1 messages, 0 bad" in captured.err


def test_ctrl_c_ends_the_command_cleanly_with_its_tally(mosquitto: MosquittoBroker) -> None:
    async def before(client: aiomqtt.Client) -> None:
        await client.publish(TOPICS.status, wire.to_json(status()), qos=1, retain=True)

    asyncio.run(_publish(mosquitto, before))
    program = (
        "import argparse, sys\n"
        "from cuas.operator.tail import add_command\n"
        "parser = argparse.ArgumentParser(prog='cuas')\n"
        "add_command(parser.add_subparsers(dest='command', required=True))\n"
        "args = parser.parse_args(sys.argv[1:])\n"
        "sys.exit(args.func(args))\n"
    )
    argv = ["tail", "--port", str(mosquitto.port), "--prefix", PREFIX, "--duration", "10"]
    process = subprocess.Popen(
        [sys.executable, "-c", program, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell may start background jobs with SIGINT ignored; a terminal's Ctrl-C is not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().rstrip("\n") == STATUS_LINE  # connected and following
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=TIMEOUT_S)
    finally:
        process.kill()
        process.wait(TIMEOUT_S)

    assert process.returncode == 0
    assert out == ""
    assert err.strip() == "cuas tail: 1 messages, 0 bad"


def test_a_transition_delivered_twice_is_shown_once_and_counted(
    mosquitto: MosquittoBroker,
) -> None:
    """A core killed before the broker's PUBACK publishes the transition again: same `seq`."""

    async def publish(client: aiomqtt.Client) -> None:
        for seq, state in ((7, "raised"), (7, "raised"), (8, "escalated"), (7, "raised")):
            await client.publish(TOPICS.alert_events, wire.to_json(alert(state=state, seq=seq)), 1)

    lines, stats = run_tail(mosquitto, publish, count=4)

    shown = [line for line in lines if "A-0007" in line]
    assert [("raised" in line, "escalated" in line) for line in shown] == [
        (True, False),
        (False, True),
    ]
    assert stats.duplicates == 2 and stats.messages == 4
