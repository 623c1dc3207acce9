"""`cuas gateway-tak`: the camp's tracks and alerts as Cursor-on-Target events, checked by a
real TAK server (taky) relaying them to a second client, and the event rules on their own."""

from __future__ import annotations

import asyncio
import itertools
import re
import socket
import xml.etree.ElementTree as ET
from datetime import datetime

import msgspec
import pytest
from support.live import EXAMPLE, Intruder, camp, core_running, eventually, listening, live_camp
from support.taky import CotListener, TakyServer

from cuas.config import TakConfig, load_config
from cuas.gateways import cot
from cuas.gateways.tak import CotPicture, CotSender, TakGateway, TakUrl
from cuas.wire import Alert, Track, TrackCycle


def when(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def track(track_id: int = 7, t: float = 1_764_000_000.0, **changes: object) -> Track:
    base = Track(
        track_id=track_id,
        t=t,
        status="confirmed",
        lat=8.651,
        lon=24.502,
        alt_m=680.0,
        enu=[200.0, 110.0, 80.0],
        vel_enu=[-10.0, 0.0, 0.0],
        pos_sigma_m=12.5,
        class_="drone",
        class_probs={"drone": 0.8},
        threat="medium",
        sensors=["radar-1"],
        friendly=False,
        uas_id=None,
        t_update=t,
    )
    return msgspec.structs.replace(base, **changes)


def alert(track_id: int = 7, state: str = "raised") -> Alert:
    return Alert(
        v=1,
        alert_id="A1",
        track_id=track_id,
        level="warning",
        state=state,
        zone="approach",
        reason="drone in the approach zone, closing",
        t_raised=1.0,
        t=1.0,
        lat=8.651,
        lon=24.502,
        alt_m=680.0,
        eta_s=42.4,
        acknowledged_by=None,
    )


def cycle(t: float, *tracks: Track) -> TrackCycle:
    return TrackCycle(v=1, t=t, tracks=list(tracks))


def test_a_track_event_carries_the_contracted_uid_type_how_ce_and_stale():
    event = ET.fromstring(cot.track_event("alpha", track(), None, 3.0, now=100.0))
    assert event.get("uid") == "cuas.alpha.7"
    assert event.get("type") == "a-u-A-M-H-Q"
    assert event.get("how") == "m-f"
    assert when(event.get("stale")) - when(event.get("time")) == pytest.approx(3.0)
    point = event.find("point")
    assert float(point.get("ce")) == 12.5  # a core older than the sigmas' split: the 3-D one
    assert float(point.get("le")) == 12.5
    assert float(point.get("lat")) == pytest.approx(8.651, abs=1e-7)
    assert float(event.find("detail/track").get("course")) == pytest.approx(270.0)


def test_ce_is_the_horizontal_sigma_and_le_the_vertical():
    """A bearings-only track knows where it is across the lines far better than its height
    (a prior): TAK draws `ce` round the point, so the height's doubt must not widen it."""
    bearings_only = track(pos_sigma_m=152.0, horiz_sigma_m=24.0, alt_sigma_m=150.1)
    point = ET.fromstring(cot.track_event("alpha", bearings_only, None, 3.0, now=1.0)).find("point")
    assert (float(point.get("ce")), float(point.get("le"))) == (24.0, 150.1)


def test_a_track_only_two_crossing_lines_place_says_its_range_is_unconfirmed():
    """Its point is where a finder's bearing and a camera's line cross, whether or not they
    are of one object: the remarks say so (`placed` false), and a placed track's do not."""
    crossing = ET.fromstring(cot.track_event("alpha", track(placed=False), None, 3.0, now=1.0))
    placed = ET.fromstring(cot.track_event("alpha", track(), None, 3.0, now=1.0))
    assert "range unconfirmed" in crossing.find("detail/remarks").text
    assert "range unconfirmed" not in placed.find("detail/remarks").text


def test_the_affiliation_says_friendly_hostile_under_alert_or_unknown():
    assert cot.cot_type(track(friendly=True), alerted=True) == "a-f-A-M-H-Q"
    assert cot.cot_type(track(), alerted=True) == "a-h-A-M-H-Q"
    assert cot.cot_type(track(class_="aircraft"), alerted=False) == "a-u-A"


def test_each_track_is_rate_limited_but_a_new_alert_goes_out_at_once():
    picture = CotPicture("alpha", TakConfig(min_interval_s=1.0), track_period_s=0.2)
    assert len(picture.on_cycle(cycle(0.0, track(t=0.0)), now=0.0)) == 1
    assert picture.on_cycle(cycle(0.2, track(t=0.2)), now=0.2) == []  # too soon
    [(uid, raw)] = picture.on_alert("A1", alert(), now=0.3)  # type changes: at once
    event = ET.fromstring(raw)
    assert (uid, event.get("type")) == ("cuas.alpha.7", "a-h-A-M-H-Q")
    assert "drone in the approach zone" in event.find("detail/remarks").text
    assert "perimeter in 42 s" in event.find("detail/remarks").text
    assert picture.on_cycle(cycle(0.4, track(t=0.4)), now=0.4) == []  # too soon again
    assert len(picture.on_cycle(cycle(1.2, track(t=1.2)), now=1.25)) == 1
    [(_, raw)] = picture.on_alert("A1", None, now=1.5)  # cleared: unknown again, at once
    assert ET.fromstring(raw).get("type") == "a-u-A-M-H-Q"


def test_cycles_exactly_the_interval_apart_all_go_out_despite_arrival_jitter():
    picture = CotPicture("alpha", TakConfig(min_interval_s=1.0), track_period_s=1.0)
    arrivals = [0.0, 1.03, 1.98, 3.05, 3.97]
    sent = [picture.on_cycle(cycle(t, track(t=float(t))), now=a) for t, a in enumerate(arrivals)]
    assert all(len(s) == 1 for s in sent)


def test_a_deleted_or_vanished_track_gets_a_stale_now_event_once():
    picture = CotPicture("alpha", TakConfig(), track_period_s=1.0)
    picture.on_cycle(cycle(0.0, track(7), track(8)), now=0.0)
    ended = picture.on_cycle(cycle(1.0, track(7, status="deleted")), now=1.0)
    assert sorted(uid for uid, _ in ended) == ["cuas.alpha.7", "cuas.alpha.8"]
    for _, raw in ended:
        event = ET.fromstring(raw)
        assert event.get("stale") == event.get("time")
    assert picture.on_cycle(cycle(2.0), now=2.0) == []


def test_a_tentative_track_is_not_sent():
    picture = CotPicture("alpha", TakConfig(), track_period_s=1.0)
    assert picture.on_cycle(cycle(0.0, track(status="tentative")), now=0.0) == []


@pytest.mark.parametrize("text", ["http://x:1", "tcp://host", "udp://:6969", "nonsense"])
def test_a_bad_url_is_refused(text):
    with pytest.raises(ValueError, match="tcp://"):
        TakUrl.parse(text)


def fast_ending_camp(tmp_path, mqtt_port: int) -> str:
    path = live_camp(tmp_path, mqtt_port)
    text = path.read_text()
    text = re.sub(r"coast_after_s = [0-9.]+", "coast_after_s = 0.8", text)
    text = re.sub(r"delete_after_s = [0-9.]+", "delete_after_s = 1.6", text)
    path.write_text(text.replace("min_interval_s = 1.0", "min_interval_s = 0.5"))
    return path


def test_taky_relays_the_intruder_as_unknown_then_hostile_then_ended(mosquitto, tmp_path):
    config = camp(fast_ending_camp(tmp_path, mosquitto.port))

    async def scenario(taky: TakyServer) -> None:
        stop_flight, stop_gateway = asyncio.Event(), asyncio.Event()
        gateway = TakGateway(config, TakUrl("tcp", "127.0.0.1", taky.port))
        async with (
            core_running(config) as service,
            listening(mosquitto.port) as ops,
            CotListener(taky.port) as tak_user,
        ):
            await asyncio.wait_for(service.ready.wait(), 5)
            running = asyncio.create_task(gateway.run(stop_gateway))
            await asyncio.wait_for(gateway.sender.connected.wait(), 5)
            await asyncio.wait_for(gateway.following.wait(), 5)
            flight = asyncio.create_task(Intruder(config).fly(stop_flight))
            await eventually(
                lambda: any(e.get("type") == "a-h-A-M-H-Q" for e in tak_user.events),
                20,
                "a hostile event at the TAK user",
            )
            stop_flight.set()
            await flight
            uid = next(e.get("uid") for e in tak_user.events if e.get("type") == "a-h-A-M-H-Q")
            await eventually(
                lambda: any(e.get("stale") == e.get("time") for e in tak_user.of(uid)),
                15,
                "the stale-now event that ends the track",
            )
            stop_gateway.set()
            await running

        track_id = int(uid.rsplit(".", 1)[1])
        assert uid == f"cuas.alpha.{track_id}"
        events = tak_user.of(uid)
        types = [e.get("type") for e in events]
        # Unknown when confirmed, hostile once alerted, ended last; nothing after the end.
        assert types[0] == "a-u-A-M-H-Q"
        assert "a-h-A-M-H-Q" in types
        assert events[-1].get("stale") == events[-1].get("time")
        assert all(e.get("how") == "m-f" for e in events)
        hostile = next(e for e in events if e.get("type") == "a-h-A-M-H-Q")
        raised = next(a for a in ops.events if a.track_id == track_id)
        assert raised.reason in hostile.find("detail/remarks").text
        # ce is the track's pos_sigma_m as published on MQTT for that cycle.
        sigmas = {tuple(round(s, 1) for s in t.sigmas()) for c in ops.cycles for t in c.tracks}
        points = [e.find("point") for e in events[:-1]]
        assert all((float(p.get("ce")), float(p.get("le"))) in sigmas for p in points)
        live = events[:-1]
        for e in live:
            ahead = when(e.get("stale")) - when(e.get("time"))
            assert 1.0 <= ahead <= 5.0  # a few periods: 3 x max(0.2 s cycle, 0.5 s interval)
        # Rate limit: same-type events of the track at least 0.9 min_interval_s apart in the
        # core's cycle times, which the events carry as their time.
        for a, b in itertools.pairwise(live):
            if a.get("type") == b.get("type"):
                assert when(b.get("time")) - when(a.get("time")) >= 0.45 - 1e-3
        assert gateway.feed.rejects == {}

    with TakyServer(tmp_path / "taky") as taky:
        asyncio.run(scenario(taky))


def test_over_udp_each_event_is_one_datagram():
    picture = CotPicture("alpha", TakConfig(), track_period_s=1.0)

    async def scenario() -> list[bytes]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
            receiver.bind(("127.0.0.1", 0))
            receiver.setblocking(False)
            sender = CotSender(TakUrl("udp", *receiver.getsockname()), TakConfig())
            stop = asyncio.Event()
            running = asyncio.create_task(sender.run(stop))
            for uid, event in picture.on_cycle(cycle(0.0, track(7), track(8)), now=0.0):
                sender.send(uid, event)
            loop = asyncio.get_running_loop()
            got = [await asyncio.wait_for(loop.sock_recv(receiver, 65536), 5) for _ in range(2)]
            stop.set()
            await running
            return got

    got = asyncio.run(scenario())
    assert sorted(ET.fromstring(d).get("uid") for d in got) == ["cuas.alpha.7", "cuas.alpha.8"]


def test_tls_files_of_the_tak_section_are_relative_to_the_camp_file(tmp_path):
    text = EXAMPLE.read_text().replace('# tls_ca = "tak-ca.pem"', 'tls_ca = "tak-ca.pem"')
    (tmp_path / "camp.toml").write_text(text)
    assert load_config(tmp_path / "camp.toml").tak.tls_ca == str(tmp_path / "tak-ca.pem")
