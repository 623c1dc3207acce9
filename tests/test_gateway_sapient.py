"""`cuas gateway-sapient`: the camp as a SAPIENT FUSION_NODE. A decision node written here from
the v2.0 protos accepts it over real TCP; the camp's output comes from a real Mosquitto; every
message it receives is checked by sapient-pydantic (an independent validator, its own venv)."""

from __future__ import annotations

import asyncio

import aiomqtt
import msgspec
import pytest
from support.live import camp, eventually, live_camp
from support.sapient_peers import DecisionNode, validate

from cuas import wire
from cuas.gateways.sapient import SapientGateway, SapientPicture
from cuas.gateways.sapient_protocol import (
    Alert,
    Registration,
    StatusReport,
    icd_errors,
    uuid4_of,
)
from cuas.topics import Topics
from cuas.wire import Track, TrackCycle

T0 = 1_764_590_400.0
PARENT = uuid4_of("decision node")


def track(track_id: int, t: float, **changes: object) -> Track:
    base = Track(
        track_id=track_id,
        t=t,
        status="confirmed",
        lat=8.6512,
        lon=24.5023,
        alt_m=680.0,
        enu=[0.0, 0.0, 80.0],
        vel_enu=[-12.0, 3.0, 0.5],
        pos_sigma_m=33.88,  # the root sum of squares of the two below
        class_="drone",
        class_probs={"drone": 0.85, "bird": 0.1, "unknown": 0.05},
        threat="high",
        sensors=["radar-1"],
        friendly=False,
        uas_id=None,
        t_update=t,
        horiz_sigma_m=15.743,  # 11.132 m on each horizontal axis
        alt_sigma_m=30.0,
    )
    return msgspec.structs.replace(base, **changes)


def alert(state: str, t: float) -> wire.Alert:
    return wire.Alert(
        v=1,
        alert_id="alpha-7",
        track_id=3,
        level="critical",
        state=state,
        zone="perimeter",
        reason="drone inside the perimeter",
        t_raised=T0,
        t=t,
        lat=8.6512,
        lon=24.5023,
        alt_m=680.0,
        eta_s=0.0,
        acknowledged_by="ops-1" if state != "raised" else None,
    )


async def publish(port: int, topics: Topics, *messages: tuple[str, object]) -> None:
    async with aiomqtt.Client("127.0.0.1", port) as core:
        for topic, message in messages:
            await core.publish(topic, wire.to_json(message), qos=1)


def gateway_camp(tmp_path, mosquitto):
    path = live_camp(tmp_path, mosquitto.port)
    text = path.read_text().replace("status_interval_s = 5.0", "status_interval_s = 0.5")
    path.write_text(text.replace("reconnect_max_s = 10.0", "reconnect_max_s = 0.5"))
    return camp(path)


def test_a_decision_node_receives_registration_status_tracks_and_alerts_all_valid(
    mosquitto, tmp_path
):
    config = gateway_camp(tmp_path, mosquitto)
    topics = Topics(config.mqtt_prefix)

    async def scenario() -> DecisionNode:
        parent = DecisionNode(PARENT)
        await parent.start()
        gateway = SapientGateway(config, "127.0.0.1", parent.port)
        stop = asyncio.Event()
        running = asyncio.create_task(gateway.run(stop))
        await asyncio.wait_for(gateway.registered.wait(), 5)
        await asyncio.wait_for(gateway.following.wait(), 5)
        await publish(
            mosquitto.port,
            topics,
            (topics.tracks, TrackCycle(v=1, t=T0, tracks=[track(3, T0), track(4, T0)])),
            (topics.alert_events, alert("raised", T0)),
            (
                topics.tracks,
                TrackCycle(v=1, t=T0 + 1, tracks=[track(3, T0 + 1, status="coasting")]),
            ),
            (topics.alert_events, alert("acknowledged", T0 + 1)),
            (topics.tracks, TrackCycle(v=1, t=T0 + 2, tracks=[])),
            (topics.alert_events, alert("cleared", T0 + 2)),
        )
        await eventually(lambda: len(parent.of("alert")) == 3, 5, "three alert messages")
        await eventually(lambda: len(parent.of("status_report")) >= 2, 5, "two status reports")
        stop.set()
        await running
        await parent.stop()
        return parent

    parent = asyncio.run(scenario())
    messages = parent.messages
    node_id = messages[0].node_id
    # Registration first: a FUSION_NODE with its mandatory config data.
    reg = messages[0].registration
    assert [d.node_type for d in reg.node_definition] == [Registration.NODE_TYPE_FUSION_NODE]
    assert reg.icd_version == "BSI Flex 335 v2.0"
    assert reg.config_data[0].manufacturer and reg.config_data[0].model
    # Tracks: one object id per track, kept across cycles; the gone track is "lost" last.
    reports = [m.detection_report for m in parent.of("detection_report")]
    assert len(reports) == 5  # 3 and 4; 3 coasting, 4 lost; 3 lost
    by_object: dict[str, list[str]] = {}
    for r in reports:
        by_object.setdefault(r.object_id, []).append(r.state)
    assert sorted(by_object.values()) == [["", "coasting", "lost"], ["", "lost"]]
    first = reports[0]
    assert (first.location.y, first.location.x, first.location.z) == (8.6512, 24.5023, 680.0)
    assert first.location.y_error == pytest.approx(11.132 / 111_320.0, rel=1e-4)
    assert first.location.z_error == pytest.approx(30.0)
    assert first.enu_velocity.east_rate == -12.0
    top = first.classification[0]
    assert (top.type, round(top.confidence, 2)) == ("UAV", 0.85)
    # Alerts: one alert id through ACTIVE, ACKNOWLEDGE, CLEAR, tied to track 3's object.
    alerts = [m.alert for m in parent.of("alert")]
    assert [a.status for a in alerts] == [
        Alert.ALERT_STATUS_ACTIVE,
        Alert.ALERT_STATUS_ACKNOWLEDGE,
        Alert.ALERT_STATUS_CLEAR,
    ]
    assert len({a.alert_id for a in alerts}) == 1
    assert alerts[0].alert_type == Alert.ALERT_TYPE_CRITICAL
    assert "drone inside the perimeter" in alerts[0].description
    track3 = reports[0].object_id
    assert alerts[0].associated_detection[0].object_id == track3
    assert alerts[0].associated_detection[0].node_id == node_id
    statuses = [m.status_report for m in parent.of("status_report")]
    assert statuses[0].info == StatusReport.INFO_NEW
    assert statuses[-1].system == StatusReport.SYSTEM_GOODBYE
    # Every message passes our reading of the ICD and an independent validator's.
    assert all(icd_errors(m) == [] for m in messages)
    verdicts = validate(parent.frames)
    assert [v for v in verdicts if not v["ok"]] == []
    assert len(verdicts) == len(messages)


def test_it_reconnects_and_registers_again_when_the_decision_node_comes_back(mosquitto, tmp_path):
    config = gateway_camp(tmp_path, mosquitto)

    async def scenario() -> None:
        parent = DecisionNode(PARENT)
        port = await parent.start()
        gateway = SapientGateway(config, "127.0.0.1", port)
        stop = asyncio.Event()
        running = asyncio.create_task(gateway.run(stop))
        await asyncio.wait_for(gateway.registered.wait(), 5)
        await parent.stop()
        await eventually(lambda: not gateway.registered.is_set(), 5, "the loss noticed")
        again = DecisionNode(PARENT)
        await again.start(port)
        await asyncio.wait_for(gateway.registered.wait(), 10)
        await eventually(lambda: again.of("status_report"), 5, "a status report")
        stop.set()
        await running
        await again.stop()
        assert gateway.counts["registrations"] == 2
        assert again.of("registration")

    asyncio.run(scenario())


def test_a_refused_registration_is_retried_and_its_reasons_kept(mosquitto, tmp_path):
    config = gateway_camp(tmp_path, mosquitto)

    async def scenario() -> None:
        parent = DecisionNode(PARENT, accept=False)
        await parent.start()
        gateway = SapientGateway(config, "127.0.0.1", parent.port)
        stop = asyncio.Event()
        running = asyncio.create_task(gateway.run(stop))
        await eventually(lambda: len(gateway.refusals) >= 2, 10, "two refused attempts")
        stop.set()
        await running
        await parent.stop()
        assert gateway.refusals[0] == "not today"
        assert not parent.of("detection_report") and not parent.of("status_report")

    asyncio.run(scenario())


def test_location_errors_split_the_horizontal_sigma_over_two_axes_and_take_the_vertical_apart(
    tmp_path,
):
    picture = SapientPicture(camp(live_camp(tmp_path, 1883)), "node")
    bearings_only = track(5, T0, pos_sigma_m=152.0, horiz_sigma_m=24.0, alt_sigma_m=150.1)
    location = picture.detection(bearings_only, "").location
    assert location.y_error * 111_320.0 == pytest.approx(24.0 / 2**0.5, rel=1e-4)
    assert location.z_error == pytest.approx(150.1)
    # A core older than the split: its 3-D sigma bounds either part.
    older = track(6, T0, pos_sigma_m=40.0, horiz_sigma_m=None, alt_sigma_m=None)
    location = picture.detection(older, "").location
    assert location.y_error * 111_320.0 == pytest.approx(40.0 / 2**0.5, rel=1e-4)
    assert location.z_error == pytest.approx(40.0)
