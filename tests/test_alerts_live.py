"""Alerts over a real Mosquitto: what an operations centre receives, in order, even when the
core is killed mid-alert (the journal's promise of DESIGN.md)."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time

import aiomqtt
import msgspec
from support.live import (
    camp,
    core_running,
    corner_clip,
    eventually,
    listening,
    small_camp,
    start_core_process,
    without_startup_hold,
)
from support.sky import states

from cuas import wire
from cuas.io.journal import Journal
from cuas.topics import Topics

TOPICS = Topics("cuas/alpha")


async def acknowledge(port: int, alert_id: str, payload: bytes) -> None:
    async with aiomqtt.Client("127.0.0.1", port) as operator:
        await operator.publish(TOPICS.ack(alert_id), payload, qos=1)


def test_an_operator_receives_raised_escalated_acknowledged_cleared_in_order(mosquitto, tmp_path):
    path = without_startup_hold(small_camp(tmp_path, mosquitto.port))
    config = camp(path)

    async def scenario() -> None:
        stop = asyncio.Event()
        async with core_running(config) as service, listening(mosquitto.port) as ops:
            await asyncio.wait_for(service.ready.wait(), 5)
            # It enters the approach zone (warning), the perimeter (critical), and leaves.
            flight = asyncio.create_task(corner_clip(config, start_n=430.0).fly(stop))
            await eventually(
                lambda: any(a.state == "escalated" for a in ops.events), 25, "the escalation"
            )
            alert_id = ops.events[0].alert_id
            await acknowledge(mosquitto.port, alert_id, b"{not json")  # counted, harmless
            ack = {"by": "ops-1", "t": time.time()}
            await acknowledge(mosquitto.port, alert_id, json.dumps(ack).encode())
            await eventually(
                lambda: any(a.state == "cleared" for a in ops.events), 30, "the clearance"
            )
            stop.set()
            await flight
            await asyncio.sleep(0.5)

        with Journal(config.journal_path) as journal:
            journaled = [r.alert for r in journal.query()]
            assert journal.pending_count() == 0
        # Exactly what was journaled arrived, in order, once: one alert, the intruder's.
        assert ops.events == journaled
        assert {a.alert_id for a in ops.events} == {alert_id}
        assert states(ops.events) == ["raised", "escalated", "acknowledged", "cleared"]
        raised, escalated, acked, cleared = (a for a in ops.events if a.state != "updated")
        assert raised.level == "warning" and raised.zone == "approach"
        assert raised.eta_s is not None and raised.eta_s > 2.0
        assert escalated.level == "critical" and escalated.zone == "perimeter"
        assert acked.acknowledged_by == "ops-1" and acked.t >= ack["t"]
        assert cleared.acknowledged_by == "ops-1"
        assert service.publisher.stats.bad_acks == 1 and service.publisher.stats.acks == 1
        # A console that connects now finds no active alert retained.
        async with listening(mosquitto.port, identifier="late") as late:
            await asyncio.sleep(0.5)
            assert all(payload == b"" for payload, _ in late.retained_alerts.values())

    asyncio.run(asyncio.wait_for(scenario(), 90))


def track_alerts(events: list[wire.Alert]) -> list[wire.Alert]:
    """The alerts about tracks (a sensor's own alert has no track)."""
    return [a for a in events if a.track_id is not None]


def test_a_core_killed_mid_alert_restores_it_from_the_journal_without_a_second_raised(
    mosquitto, tmp_path
):
    """The core is killed as soon as the operator hears `raised`: often before the broker's
    PUBACK reached it (or before the retained state went out), so the journal still holds the
    transition as pending and the next core publishes it again. MQTT QoS 1 is at-least-once;
    the `seq` makes it exactly-once for a consumer that drops a number it has seen."""
    path = small_camp(tmp_path, mosquitto.port)
    # A loaded machine takes seconds to start a Python process, and the drone flies on at
    # 40 m/s meanwhile: the restart must count neither as a downtime no track survives (that
    # case has a test of its own below) nor take the drone out of the radius within which
    # the restored alert finds it again (500 m is 12 s of flight).
    text = path.read_text().replace("delete_after_s = 8.0", "delete_after_s = 60.0")
    path.write_text(text.replace("restore_radius_m = 500.0", "restore_radius_m = 3000.0"))
    config = camp(path)

    async def scenario() -> None:
        stop = asyncio.Event()
        async with listening(mosquitto.port, identifier="ops", clean_session=False) as ops:
            core = start_core_process(path, capture=True)
            try:
                await eventually(
                    lambda: any(s.state == "online" for s, _ in ops.statuses), 20, "online"
                )
                flight = asyncio.create_task(corner_clip(config).fly(stop))
                await eventually(lambda: bool(ops.events), 15, "the raised alert")
                core.kill()  # SIGKILL, mid-alert: nothing is said, nothing is flushed
                await asyncio.to_thread(core.wait, 10)
                await eventually(
                    lambda: ops.statuses[-1][0].state == "offline", 10, "the last will"
                )
                killed_after = len(track_alerts(ops.events))
                core = start_core_process(path, capture=True)
                await eventually(
                    lambda: any(a.state == "cleared" for a in ops.events), 45, "the clearance"
                )
                stop.set()
                await flight
            finally:
                core.send_signal(signal.SIGTERM)
                await asyncio.to_thread(core.wait, 15)

        # Every copy delivered twice is the same transition (same seq, same content) ...
        by_seq: dict[int | None, wire.Alert] = {}
        for copy in ops.copies:
            assert by_seq.setdefault(copy.seq, copy) == copy
        # ... so once deduplicated: one alert throughout, raised once, seq strictly increasing.
        seqs = [a.seq for a in ops.events]
        assert None not in seqs and seqs == sorted(set(seqs))  # type: ignore[type-var]
        # A machine overloaded enough can starve the radar past its heartbeat timeout: that
        # sensor's own warning is not the drone's alert, which is what this test follows.
        events = track_alerts(ops.events)
        story = [(a.alert_id, a.state, a.reason) for a in ops.events]
        assert len({a.alert_id for a in events}) == 1, story
        assert [a.state for a in events].count("raised") == 1, story
        after = events[killed_after:]
        assert after[0].state == "updated" and after[0].reason.endswith("after a restart.")
        assert after[0].t > events[killed_after - 1].t
        assert states(after) == ["escalated", "cleared"]  # it went on to the perimeter
        with Journal(config.journal_path) as journal:
            assert [r.alert for r in journal.query()] == ops.events
            assert [r.alert_id for r in journal.active()] == []

    asyncio.run(asyncio.wait_for(scenario(), 120))


def test_an_alert_left_active_by_a_dead_core_is_retained_again_by_the_next(mosquitto, tmp_path):
    """A broker without persistence forgets retained alerts when it restarts; the next core
    publishes the active ones again from its journal (no new transition: no event)."""
    path = small_camp(tmp_path, mosquitto.port)
    config = camp(path)
    sky_alert = wire.Alert(
        v=1, alert_id="alpha-1764000000-1", track_id=3, level="warning", state="raised",
        zone="approach", reason="Drone (track 3) 400 m N of camp centre, hovering.",
        t_raised=time.time() - 5, t=time.time() - 5, lat=8.6536, lon=24.5, alt_m=700.0,
        eta_s=None, acknowledged_by=None,
    )  # fmt: skip
    from cuas.fusion.alerts import Transition

    with Journal(config.journal_path) as journal:
        (seq,) = journal.append([Transition(sky_alert, "track")])
        journal.mark_published(seq)

    async def scenario() -> None:
        async with (
            core_running(config),
            listening(mosquitto.port, identifier="late") as late,
        ):
            await eventually(
                lambda: sky_alert.alert_id in late.retained_alerts, 10, "the retained alert"
            )
            payload, _ = late.retained_alerts[sky_alert.alert_id]
            assert wire.from_json(payload, wire.Alert) == msgspec.structs.replace(
                sky_alert, seq=seq
            )
            assert late.events == []

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_an_alert_whose_track_cannot_have_survived_the_downtime_is_cleared_not_reattached(
    mosquitto, tmp_path
):
    """A core down for 17 minutes: the drone it alerted on is long gone, so its alert is
    cleared at start-up, saying why, and a new drone in the same place raises its own."""
    path = small_camp(tmp_path, mosquitto.port)
    config = camp(path)
    down_since = time.time() - 17 * 60
    old = wire.Alert(
        v=1, alert_id="alpha-1764000000-1", track_id=3, level="critical", state="raised",
        zone="perimeter", reason="Drone (track 3) 100 m N of camp centre, hovering.",
        t_raised=down_since - 5, t=down_since - 5, lat=8.6509, lon=24.5, alt_m=680.0,
        eta_s=None, acknowledged_by=None,
    )  # fmt: skip
    from cuas.fusion.alerts import Transition

    with Journal(config.journal_path, camp_id="alpha") as journal:
        for seq in journal.append([Transition(old, "track")], at=down_since):
            journal.mark_published(seq, at=down_since)
        journal.alive(down_since)

    async def scenario() -> None:
        stop = asyncio.Event()
        async with listening(mosquitto.port) as ops, core_running(config):
            await eventually(lambda: bool(ops.events), 10, "the stale alert's clearance")
            (cleared,) = ops.events
            assert cleared.alert_id == old.alert_id and cleared.state == "cleared"
            down = re.search(r"down (\d+) s", cleared.reason)
            assert down is not None and 1020 <= int(down[1]) < 1100, cleared.reason
            assert cleared.seq is not None and cleared.seq > 1
            flight = asyncio.create_task(corner_clip(config).fly(stop))
            await eventually(lambda: len(ops.events) > 1, 20, "the new drone's own alert")
            stop.set()
            await flight
        assert ops.events[1].state == "raised" and ops.events[1].alert_id != old.alert_id

    asyncio.run(asyncio.wait_for(scenario(), 60))
