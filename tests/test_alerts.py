"""The alert lifecycle (cuas/fusion/alerts.py): one alert per track episode, as transitions."""

from __future__ import annotations

import numpy as np
from support.sky import CONFIG, T0, Sky, camp, states

from cuas import wire
from cuas.fusion.alerts import Transition
from cuas.fusion.pipeline import FusionPipeline

INBOUND = ((1100.0, 0.0, 100.0), (-20.0, 0.0, 0.0))  # 30 s from the perimeter, 20 m/s


def test_a_drone_is_raised_escalated_acknowledged_and_cleared_once_each() -> None:
    sky = Sky()
    sky.add("d", *INBOUND)
    sky.fly(40)  # crosses the perimeter (east edge 350 m) after ~38 s
    raised = sky.alerts[0]
    assert raised.state == "raised" and raised.level == "warning"
    assert raised.track_id == sky.names["d"] and raised.eta_s is not None
    assert raised.reason.startswith("Drone (track 1) 1.1 km E of camp centre, inbound at 20 m/s")
    assert states(sky.alerts) == ["raised", "escalated"]
    assert sky.alerts[-1].level == "critical" and sky.alerts[-1].zone == "perimeter"
    (ack,) = sky.acknowledge(raised.alert_id, "ops-2")
    assert ack.state == "acknowledged" and ack.acknowledged_by == "ops-2"
    assert ack.t == sky.t and ack.level == "critical"
    assert sky.acknowledge(raised.alert_id, "ops-2") == []  # once is enough
    sky.set("d", enu=(-300.0, 0.0, 100.0), vel=(-30.0, 0.0, 0.0))  # out to the west
    sky.fly(60)
    assert states(sky.alerts) == ["raised", "escalated", "acknowledged", "cleared"]
    assert {a.alert_id for a in sky.alerts} == {raised.alert_id}
    cleared = sky.alerts[-1]
    assert cleared.reason == "Track 1 left the zones and is not closing."
    assert cleared.acknowledged_by == "ops-2"  # the record keeps who acknowledged
    assert sky.acknowledge(raised.alert_id, "ops-3") == []  # no longer active


def test_a_track_only_two_lines_place_is_alerted_on_as_the_line_it_is_on() -> None:
    """A finder's bearing crossing a camera's line places a track whether or not the two
    are of one object: its alert names the camera's line (bearing from the camera), gives no
    place, no zone and no time to the perimeter, and never becomes critical; once a radar
    vouches for the track's place, the alert's next transitions give its place again."""
    sky = Sky()
    camera = [s.id for s in CONFIG.sensors].index("cam-nw")
    sky.add("x", *INBOUND, vouched=False)
    row = sky._row("x")
    sky.table.last_hit[row] = -np.inf
    sky.table.last_hit[row, [camera, 1]] = sky.t  # the camera and a finder, no more
    sky.fly(40)  # crosses the perimeter
    assert states(sky.alerts) == ["raised"]
    raised = sky.alerts[0]
    assert raised.level == "warning" and raised.track_id == sky.names["x"]
    assert raised.lat is raised.lon is raised.alt_m is raised.eta_s is raised.zone is None
    assert raised.seen_from == "cam-nw"
    cam = sky.pipeline.alerts._site_enu[camera]
    d = np.array(INBOUND[0][:2]) + 1.0 * np.array(INBOUND[1][:2]) - cam[:2]  # at the raise
    assert raised.bearing_deg is not None
    assert abs(raised.bearing_deg - np.degrees(np.arctan2(d[0], d[1])) % 360.0) < 5.0
    assert "range unconfirmed" in raised.reason
    assert wire.from_json(wire.to_json(raised), wire.Alert) == raised
    sky.table.t_vouched[row] = sky.t  # a radar plot lands on it
    sky.fly(2)
    assert states(sky.alerts) == ["raised", "escalated"]
    assert sky.alerts[-1].level == "critical" and sky.alerts[-1].zone == "perimeter"
    assert sky.alerts[-1].lat is not None and sky.alerts[-1].seen_from is None


def test_updates_go_out_at_a_bounded_rate_while_an_alert_is_active() -> None:
    sky = Sky(config=camp(update_period_s=5.0))
    sky.add("h", (0.0, 800.0, 100.0))  # hovering in the approach zone: raised at 2 s
    sky.fly(63)
    assert states(sky.alerts, skip_updates=False) == ["raised"] + ["updated"] * 12
    times = [a.t for a in sky.alerts]
    assert np.diff(times).min() == 5.0


def test_a_single_update_in_a_zone_is_debounced() -> None:
    sky = Sky(config=camp(debounce_updates=3))
    sky.add("d", (0.0, 1010.0, 100.0), (0.0, -10.0, 0.0))  # one update inside, then out again
    sky.cycle()
    sky.cycle()
    sky.set("d", vel=(0.0, 0.0, 0.0), enu=(0.0, 1300.0, 100.0))
    sky.fly(10)
    assert sky.alerts == []
    sky.set("d", enu=(0.0, 800.0, 100.0))
    assert sky.fly(2) == [] and states(sky.fly(1)) == ["raised"]  # three updates: raised


def test_a_medium_threat_waits_for_its_class_to_settle_a_high_one_does_not() -> None:
    """`medium` (loitering in a warning zone) raises after `medium_debounce_s` (2 s) at it; a
    bird's new track that rated medium for one cycle, until its class settled, raises
    nothing. `high` (30 s from the perimeter) raises after `debounce_s` (0.5 s)."""
    sky = Sky()
    sky.add("bird", (0.0, 800.0, 60.0), cls="unknown")  # in the approach zone, class unsure
    sky.fly(1)
    sky.table.class_logp[0] = np.log([0.05, 0.8, 0.05, 0.05, 0.05])  # then surely a bird
    sky.fly(10)
    assert sky.alerts == []
    sky.add("hover", (0.0, -800.0, 100.0))  # a drone loitering in the approach zone
    assert sky.fly(1) == [] and sky.fly(1) == [] and states(sky.fly(1)) == ["raised"]
    sky.add("d", (900.0, 0.0, 100.0), (-20.0, 0.0, 0.0))  # 27.5 s from the perimeter
    assert sky.fly(1) == [] and states(sky.fly(1)) == ["raised"]


def test_a_new_track_not_surely_a_drone_in_a_warning_zone_waits_until_it_is_15_s_old() -> None:
    """A track born loitering in the approach zone that is not yet surely a drone (its class
    unpublished, `unknown`: a large bird's radar cross-section is a small drone's; or called a
    drone at 0.64 by a flock's first velocities) raises its `medium` threat once it is
    `unsettled_age_s` (15 s) old, not after 2 s; one surely a drone (0.9) after 2 s. One that
    flew 20 s outside first raises 2 s after it enters, and one 27.5 s from the perimeter
    (`high`) after `debounce_s` (0.5 s), however new."""
    sky = Sky()
    sky.add("new", (0.0, 800.0, 100.0), cls="unknown")
    sky.add("maybe", (800.0, 0.0, 100.0), cls="unknown")
    sky.table.class_logp[1] = np.log([0.64, 0.33, 0.01, 0.01, 0.01])
    sky.add("old", (0.0, -1300.0, 100.0), cls="unknown")  # outside the approach zone
    born = sky.t
    quiet = [sky.fly(1) for _ in range(15)]
    assert quiet == [[]] * 15
    raised = sky.fly(1)
    assert states(raised) == ["raised", "raised"]
    assert {a.track_id for a in raised} == {sky.names["new"], sky.names["maybe"]}
    assert all(a.t == born + 15.0 for a in raised)
    sky.fly(4)
    sky.set("old", enu=(0.0, -800.0, 100.0))  # 20 s old, into the approach zone
    assert [states(sky.fly(1)) for _ in range(3)] == [[], [], ["raised"]]
    sky.add("sure", (-800.0, 0.0, 100.0))  # a drone at 0.9, new
    assert [states(sky.fly(1)) for _ in range(3)] == [[], [], ["raised"]]
    sky.add("d", (900.0, 0.0, 100.0), (-20.0, 0.0, 0.0), cls="unknown")
    assert [states(sky.fly(1)) for _ in range(2)] == [[], ["raised"]]


def test_a_new_track_a_drone_only_by_an_emitters_bearings_waits_as_an_unsure_one() -> None:
    """What bearings naming an emitter say of a track holds only while the emitter is on it,
    and the finders' lines pass through whatever lies along them (random camps 188 and 628:
    a flock's radar track, a drone at 0.97 by the hidden drone's bearings within 4 s of its
    birth, warned of, and the emitter proved to be elsewhere 1-2.5 s later). A new track in
    a warning zone that is surely a drone only by them raises its `medium` threat once it is
    `unsettled_age_s` (15 s) old; one that its own looks make a drone too, after 2 s."""
    sky = Sky()
    sky.add("heard", (0.0, 800.0, 100.0))
    sky.add("seen", (800.0, 0.0, 100.0))
    sure = np.log([0.97, 0.01, 0.01, 0.005, 0.005])
    sky.table.class_logp[:2] = sure
    sky.table.class_bare[0] = np.log([0.3, 0.5, 0.1, 0.05, 0.05])  # its own looks: a bird
    sky.table.class_bare[1] = np.log([0.92, 0.05, 0.01, 0.01, 0.01])
    born = sky.t
    assert [states(sky.fly(1)) for _ in range(3)] == [[], [], ["raised"]]
    assert sky.alerts[0].track_id == sky.names["seen"]
    assert states(sky.fly(12)) == []
    (raised,) = [a for a in sky.fly(1) if a.state == "raised"]
    assert raised.track_id == sky.names["heard"] and raised.t == born + 15.0


def test_acknowledgement_does_not_silence_an_escalation() -> None:
    sky = Sky()
    sky.add("d", *INBOUND)
    sky.fly(5)
    alert_id = sky.alerts[0].alert_id
    assert states(sky.acknowledge(alert_id, "ops-1")) == ["acknowledged"]
    sky.fly(40)
    escalated = next(a for a in sky.alerts if a.state == "escalated")
    assert escalated.level == "critical"
    assert escalated.acknowledged_by is None  # the new level awaits its own acknowledgement
    assert states(sky.acknowledge(alert_id, "ops-1")) == ["acknowledged"]


def test_an_acknowledgement_of_an_unknown_alert_changes_nothing() -> None:
    sky = Sky()
    assert sky.acknowledge("alpha-1-1", "ops-1") == []


def test_a_deleted_track_clears_at_once_one_turned_friendly_after_the_hysteresis() -> None:
    sky = Sky(config=camp(clear_cycles=3))
    sky.add("a", (0.0, 800.0, 100.0))
    sky.add("b", (0.0, -800.0, 100.0))
    sky.fly(3)
    assert states(sky.alerts) == ["raised", "raised"]
    sky.delete("a")
    sky.set("b", friendly=True)
    assert [(a.state, a.reason) for a in sky.cycle()] == [("cleared", "Track 1 lost.")]
    assert sky.fly(1) == []  # friendly for two cycles: not yet
    assert [(a.state, a.reason) for a in sky.cycle()] == [
        ("cleared", "Track 2 identified as friendly.")
    ]


def test_a_friendly_flicker_of_one_cycle_keeps_the_alert() -> None:
    sky = Sky()
    sky.add("d", (0.0, -800.0, 100.0))
    sky.fly(3)
    sky.set("d", friendly=True)
    sky.fly(1)
    sky.set("d", friendly=False)
    sky.fly(10)
    assert states(sky.alerts) == ["raised"]


def test_a_track_classified_as_a_bird_is_cleared() -> None:
    sky = Sky(config=camp(clear_cycles=3))
    sky.add("x", (0.0, 800.0, 100.0), cls="unknown")
    sky.fly(16)  # raised once the track is `unsettled_age_s` old
    assert states(sky.alerts) == ["raised"]
    sky.table.class_logp[0] = np.log([0.05, 0.8, 0.05, 0.05, 0.05])  # now surely a bird
    out = sky.fly(3)
    assert [(a.state, a.reason) for a in out] == [("cleared", "Track 1 is a bird, not a threat.")]


def test_a_track_oscillating_on_a_zone_edge_keeps_one_alert() -> None:
    """Hovering about the approach zone's northern edge (n = 995 m), 30 m either side, for
    five minutes: one alert, raised once and never cleared; cleared once it really leaves."""
    sky = Sky()
    sky.add("edge", (0.0, 995.0, 100.0))
    edge = sky.pipeline.zones.distance_outside(np.array([[0.0, 995.0, 100.0]]))
    assert edge.min() < 5.0
    for k in range(300):
        n = 995.0 + 30.0 * np.sin(2 * np.pi * k / 20.0)
        sky.set("edge", enu=(0.0, n, 100.0), vel=(0.0, 30.0 * np.pi / 10 * np.cos(k / 20), 0.0))
        sky.cycle()
    assert states(sky.alerts) == ["raised"]
    sky.set("edge", enu=(0.0, 1500.0, 100.0), vel=(0.0, 0.0, 0.0))
    sky.fly(10)
    assert states(sky.alerts) == ["raised", "cleared"]


def test_a_flapping_track_from_real_radar_plots_raises_one_alert_not_dozens() -> None:
    """The same through the whole pipeline: radar plots of a drone weaving 40 m either side
    of the approach zone's northern edge for two and a half minutes."""
    frame = CONFIG.local_frame()
    radar = CONFIG.sensor("radar-1")
    assert radar is not None
    look = frame.sensor_frame(radar.lat, radar.lon, radar.alt_m)
    rng = np.random.default_rng(3)
    pipeline = FusionPipeline(CONFIG)
    alerts: list[wire.Alert] = []
    for k in range(150):
        enu = np.array([200.0, 995.0 + 40.0 * np.sin(2 * np.pi * k / 30.0), 100.0])
        az, el, r = look.enu_to_aer(enu)
        det = wire.RadarDetection(
            range_m=float(r) + rng.normal(0, 5.0),
            az_deg=float(az) + rng.normal(0, 0.5),
            el_deg=float(el) + rng.normal(0, 0.5),
        )
        report = wire.RadarReport(v=1, sensor_id="radar-1", seq=k, t=T0 + k, detections=[det])
        out = pipeline.submit("report.radar-1", wire.to_msgpack(report))
        alerts += [o.alert for o in out if isinstance(o, Transition)]
    assert states(alerts) == ["raised"]
    assert len(alerts) <= 150 / CONFIG.alerts.update_period_s + 1


def test_a_silent_or_faulty_sensor_raises_a_warning_of_its_own_until_it_recovers() -> None:
    sky = Sky()
    sky.healthy = {"radar-1", "cam-nw"}
    assert sky.fly(3) == []
    sky.healthy = {"cam-nw"}
    sky.faults = {"radar-1": "silent for 7 s"}
    (raised,) = sky.fly(3)
    assert (raised.state, raised.level, raised.reason) == (
        "raised",
        "warning",
        "Sensor radar-1 silent for 7 s.",
    )
    assert raised.track_id is None and raised.zone is None
    assert (raised.lat, raised.lon) == (8.65, 24.5)  # where the sensor stands
    sky.faults, sky.healthy = {}, {"radar-1", "cam-nw"}
    (cleared,) = sky.fly(2)
    assert (cleared.alert_id, cleared.state) == (raised.alert_id, "cleared")
    assert cleared.reason == "Sensor radar-1 recovered."


def test_after_a_restart_an_active_alert_carries_on_with_the_new_track_nearby() -> None:
    before = Sky()
    before.add("d", *INBOUND)
    before.fly(5)
    active = [(a, "track") for a in before.pipeline.alerts.active]
    (alert,) = [a for a, _ in active]

    # A new core (track ids start again), holding new alerts for its first 5 s.
    after = Sky(config=camp(startup_hold_s=5.0), t=before.t + 3.0)
    after.pipeline.alerts.restore(active)
    after.pipeline.alerts.next_number = 2
    after.add("other", (0.0, -800.0, 100.0))  # a different drone, far from the old one
    after.fly(1)
    after.add("d", (before.position("d")[0] - 60.0, 0.0, 100.0), (-20.0, 0.0, 0.0))
    after.fly(40)
    mine = [a for a in after.alerts if a.alert_id == alert.alert_id]
    assert states(mine, skip_updates=False)[:1] == ["updated"]  # not a second `raised`
    assert mine[0].t == before.t + 4.0  # carried on at once: the hold is for new alerts
    assert mine[0].track_id == after.names["d"]
    assert mine[0].reason.endswith("Re-associated with track 2 after a restart.")
    assert "escalated" in states(mine)
    other = [a for a in after.alerts if a.alert_id != alert.alert_id]
    assert states(other)[:1] == ["raised"] and other[0].alert_id.endswith("-2")
    assert other[0].t == before.t + 8.0  # when the hold ended


OVERHEAD = ((100.0, 50.0, 80.0), (3.0, 0.0, 0.0))  # inside the perimeter: critical at once


def test_a_friendly_patrol_over_the_camp_at_start_up_is_named_before_any_alert() -> None:
    """The service starts with its own patrol overhead: a new track inside the perimeter,
    which a finder names friendly only once that track exists, a second or two later (random
    camps 30, 102, 104 and 116). The start-up hold waits for the name."""
    for hold, expected in ((5.0, []), (0.0, ["raised", "cleared"])):
        sky = Sky(config=camp(startup_hold_s=hold))
        sky.add("patrol", *OVERHEAD)
        sky.fly(3)
        sky.set("patrol", friendly=True)  # a finder hears its link
        sky.fly(30)
        assert states(sky.alerts) == expected, hold
        assert all(a.level == "critical" for a in sky.alerts)


def test_a_hostile_over_the_camp_at_start_up_is_raised_when_the_hold_ends() -> None:
    sky = Sky(config=camp(startup_hold_s=5.0))
    sky.add("d", *OVERHEAD)
    assert sky.fly(5) == []  # evaluated at T0 .. T0 + 4 s: held, its debounce complete
    (raised,) = sky.fly(1)
    assert (raised.state, raised.level, raised.t) == ("raised", "critical", T0 + 5.0)


def test_after_the_start_up_hold_a_new_drone_is_raised_without_delay() -> None:
    """The hold is for a run's first seconds only: a pop-up later alerts on its debounce."""
    raised_at = []
    for hold in (5.0, 0.0):
        sky = Sky(config=camp(startup_hold_s=hold))
        sky.fly(10)
        sky.add("d", *OVERHEAD)
        raised_at.append([a.t for a in sky.fly(5) if a.state == "raised"])
    assert raised_at[0] == raised_at[1] == [T0 + 11.0]


def test_after_a_restart_an_alert_whose_track_never_returns_is_cleared_after_the_grace() -> None:
    before = Sky()
    before.add("d", *INBOUND)
    before.fly(5)
    after = Sky(config=camp(restore_grace_s=10.0), t=before.t + 3.0)
    after.pipeline.alerts.restore([(a, "track") for a in before.pipeline.alerts.active])
    assert after.fly(10) == []  # cycles at +0 .. +9 s of the grace
    (cleared,) = after.fly(1)
    assert cleared.state == "cleared" and cleared.reason == "Track lost after restart."
    assert after.pipeline.alerts.active == []


def test_a_restored_sensor_alert_stays_until_its_sensor_is_heard_healthy() -> None:
    before = Sky()
    before.faults = {"cam-nw": "silent for 8 s"}
    (raised,) = before.fly(1)
    after = Sky(t=before.t + 5.0)
    after.pipeline.alerts.restore([(raised, "sensor:cam-nw")])
    assert after.fly(30) == []  # nothing heard from it since the restart: still a fault
    after.healthy = {"cam-nw"}
    (cleared,) = after.fly(1)
    assert (cleared.alert_id, cleared.state) == (raised.alert_id, "cleared")


def test_a_coasting_track_gathers_no_evidence_and_is_not_raised() -> None:
    """Debounce counts updates, not cycles: a track no sensor updates stays unraised however
    long it sits in a zone, and is raised once a second update at that threat comes in."""
    sky = Sky()
    sky.add("ghost", (0.0, 800.0, 100.0))  # born of one update
    sky.unseen.add("ghost")
    assert sky.fly(10) == []
    sky.unseen.clear()
    assert states(sky.fly(1)) == ["raised"]
