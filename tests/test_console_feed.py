"""The console's picture and feeds, its acks, tiles and recordings, without a browser: what each
browser is sent, and what reaches the broker."""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp
import aiomqtt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.broker import free_port
from support.live import camp, eventually, live_camp
from support.wire_tracks import confirmed_drone

from cuas import wire
from cuas.config import load_config
from cuas.errors import ConfigError
from cuas.io.recording import RecordingWriter
from cuas.operator.console.bridge import AckRefusedError, MqttBridge
from cuas.operator.console.camp_view import camp_view
from cuas.operator.console.command import console_running, parse_listen
from cuas.operator.console.mission import load_mission
from cuas.operator.console.picture import BrowserFeed, Picture, TrackBatch
from cuas.operator.console.review import EmptyRecordingError, ReviewPlayer, load_outputs
from cuas.operator.console.server import STATIC
from cuas.operator.console.tiles import TileSource
from cuas.topics import Topics

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "camp.example.toml"


def alert(alert_id: str = "a-1", state: str = "raised", t: float = 100.0, **kw) -> wire.Alert:
    fields = dict(
        v=1,
        alert_id=alert_id,
        track_id=1,
        level="warning",
        state=state,
        zone="approach",
        reason="Drone inbound",
        t_raised=100.0,
        t=t,
        lat=None,
        lon=None,
        alt_m=None,
        eta_s=12.0,
        acknowledged_by=None,
    )
    return wire.Alert(**{**fields, **kw})


def cycle(t: float, n: int = 1) -> bytes:
    return json.dumps({"v": 1, "t": t, "tracks": [{"track_id": i} for i in range(n)]}).encode()


def track(track_id: int, t: float, east: float = 0.0, north: float = 0.0) -> wire.Track:
    return confirmed_drone(track_id, t, [east, north, 80.0])


def full_cycle(t: float, *tracks: wire.Track) -> bytes:
    return wire.to_json(wire.TrackCycle(v=1, t=t, tracks=list(tracks)))


def update(t: float, *tracks: wire.Track) -> wire.TrackUpdate:
    return wire.TrackUpdate(v=1, t=t, tracks=list(tracks))


def shown(picture: Picture, camp: str = "alpha") -> dict[int, list[float]]:
    """What a browser connecting now is shown of the camp's tracks: id -> east/north."""
    snapshot = picture.camp(camp).snapshot()["tracks"]
    return {t["track_id"]: t["enu"][:2] for t in snapshot["tracks"]}


async def drain(feed: BrowserFeed) -> list[dict]:
    out = []
    while True:
        try:
            text = await asyncio.wait_for(feed.next(), 0.01)
        except TimeoutError:
            return out
        if text is None:
            return out
        out.append(json.loads(text))


def test_a_slow_browser_gets_the_newest_track_cycle_and_every_alert() -> None:
    async def scenario() -> None:
        picture = Picture({}, ["alpha", "bravo"])
        feed = picture.attach()
        for t in range(10):
            picture.on_tracks("alpha", cycle(float(t)))
            if t == 4:
                picture.on_alert("alpha", alert(), event=True)
                picture.on_tracks("bravo", cycle(50.0))
        got = await drain(feed)
        kinds = [(m["kind"], m.get("camp")) for m in got]
        assert kinds == [
            ("hello", None),
            ("snapshot", None),
            ("alert", "alpha"),
            ("tracks", "alpha"),
            ("tracks", "bravo"),
        ]
        assert got[3]["cycle"]["t"] == 9.0  # latest wins, camp by camp
        assert got[4]["cycle"]["t"] == 50.0
        assert feed.tracks_skipped == 9

    asyncio.run(scenario())


def test_a_new_browser_gets_the_current_picture_at_once() -> None:
    async def scenario() -> None:
        picture = Picture({"mode": "live"}, ["alpha"])
        picture.on_tracks("alpha", cycle(5.0, n=3))
        picture.on_alert("alpha", alert("a-1"), event=True)
        picture.on_alert("alpha", alert("a-2"), event=True)
        picture.on_alert("alpha", alert("a-2", state="cleared", t=101.0), event=True)
        picture.on_broker("alpha", True)
        hello, snapshot = await drain(picture.attach())
        assert hello["mode"] == "live"
        alpha = snapshot["camps"]["alpha"]
        assert len(alpha["tracks"]["tracks"]) == 3
        assert [a["alert_id"] for a in alpha["alerts"]] == ["a-1"]
        assert [a["state"] for a in snapshot["history"]] == ["cleared", "raised", "raised"]
        assert alpha["link"] == {"broker": True, "core": None}

    asyncio.run(scenario())


def test_an_older_retained_state_does_not_undo_a_newer_transition() -> None:
    picture = Picture({}, ["alpha"])
    late = alert(state="acknowledged", t=110.0, acknowledged_by="ops")
    picture.on_alert("alpha", late, event=True)
    picture.on_alert("alpha", alert(state="raised", t=100.0), event=False)
    assert picture.camp("alpha").alerts["a-1"]["acknowledged_by"] == "ops"


def test_a_browser_too_far_behind_on_alerts_is_dropped_not_shortchanged() -> None:
    async def scenario() -> None:
        feed = BrowserFeed(limit=5)
        for i in range(6):
            feed.push(f'{{"i": {i}}}')
        assert feed.overflowed
        assert await feed.next() is None  # the server closes it; the page reconnects

    asyncio.run(scenario())


@given(st.text(max_size=200), st.one_of(st.none(), st.integers(), st.text(max_size=200)))
def test_acks_from_a_page_are_refused_unless_one_topic_level_and_a_name(alert_id, by) -> None:
    picture = Picture({}, ["alpha"])
    bridge = MqttBridge(load_config(EXAMPLE).mqtt, Topics("cuas/alpha"), picture, "alpha")
    good_id = 0 < len(alert_id) <= 128 and not any(c in alert_id for c in "/+#\0")
    good_by = isinstance(by, str) and 0 < len(by.strip()) <= 128
    if good_id and good_by:
        bridge.acknowledge(alert_id, by)
    else:
        with pytest.raises(AckRefusedError):
            bridge.acknowledge(alert_id, by)
        assert sum(bridge.stats.acks_refused.values()) == 1


def test_bad_payloads_from_the_broker_are_counted_not_fatal() -> None:
    picture = Picture({}, ["alpha"])
    bridge = MqttBridge(load_config(EXAMPLE).mqtt, Topics("cuas/alpha"), picture, "alpha")
    bridge.handle("cuas/alpha/tracks", b"{not json")
    bridge.handle("cuas/alpha/alerts/a-1", b'{"v": 1}')
    bridge.handle("cuas/alpha/sensors/radar-1", b'{"v": 2}')
    bridge.handle("cuas/alpha/tracks", cycle(1.0, n=0))
    assert sum(bridge.stats.bad.values()) == 3
    assert picture.camp("alpha").tracks.cycle is not None and not picture.camp("alpha").alerts


def test_the_console_relays_the_camp_and_an_ack_over_its_websocket(mosquitto, tmp_path) -> None:
    """A console on a real broker: a late browser gets the retained alert; its ack is published."""
    config = camp(live_camp(tmp_path, mosquitto.port))
    topics = Topics(config.mqtt_prefix)

    async def scenario() -> None:
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as core:
            await core.publish(topics.alert("a-7"), wire.to_json(alert("a-7")), qos=1, retain=True)
            await core.subscribe(topics.acks, qos=1)
            async with (
                console_running(config, "127.0.0.1:0") as console,
                aiohttp.ClientSession() as http,
            ):
                assert console.bridge is not None
                await asyncio.wait_for(console.bridge.connected.wait(), 5)
                alerts = console.picture.camp("alpha").alerts
                await eventually(lambda: "a-7" in alerts, 5, "the retained alert")
                async with http.ws_connect(console.server.url + "ws") as ws:
                    hello = await ws.receive_json(timeout=5)
                    snapshot = await ws.receive_json(timeout=5)
                    assert hello["kind"] == "hello" and hello["camps"][0]["camp_id"] == "alpha"
                    retained = snapshot["camps"]["alpha"]["alerts"]
                    assert [a["alert_id"] for a in retained] == ["a-7"]
                    await ws.send_str("not json")
                    assert (await ws.receive_json(timeout=5))["kind"] == "error"
                    await ws.send_json({"kind": "ack", "alert_id": "a/7", "by": "ops-2"})
                    assert (await ws.receive_json(timeout=5))["kind"] == "error"
                    refused = console.server.handlers.refused
                    assert refused == {"JSONDecodeError": 1, "bad_alert_id": 1}
                    await ws.send_json({"kind": "ack", "alert_id": "a-7", "by": "ops-2"})
                    message = await asyncio.wait_for(anext(aiter(core.messages)), 5)
                assert message.topic.value == topics.ack("a-7")
                ack = wire.decode_ack(bytes(message.payload))  # type: ignore[arg-type]
                assert ack.by == "ops-2" and abs(ack.t - time.time()) < 5
                async with http.get(console.server.url) as page:
                    assert page.status == 200 and "console.js" in await page.text()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_the_map_libraries_ship_with_their_licences() -> None:
    sums = (STATIC / "vendor" / "SHA256SUMS").read_text().split("\n")

    for line in filter(None, sums):
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256((STATIC / "vendor" / name).read_bytes()).hexdigest() == digest
    assert (STATIC / "vendor/leaflet-1.9.4/LICENSE").read_text().startswith("BSD 2-Clause")
    assert (STATIC / "vendor/milsymbol-3.0.4/LICENSE").read_text().startswith("The MIT License")


def test_cuas_console_prints_its_url_serves_and_stops_on_sigterm(mosquitto, tmp_path) -> None:
    path = live_camp(tmp_path, mosquitto.port)
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cuas",
            "console",
            "--config",
            str(path),
            "--listen",
            f"127.0.0.1:{port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(f"cuas console: http://127.0.0.1:{port}/"), first
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/console.js", timeout=5) as r:
            assert r.status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def test_tiles_come_from_a_folder_or_an_mbtiles_file(tmp_path) -> None:
    (tmp_path / "xyz/15/100").mkdir(parents=True)
    (tmp_path / "xyz/15/100/200.png").write_bytes(b"\x89PNG folder")
    folder = TileSource(tmp_path / "xyz")
    assert folder.tile(15, 100, 200) == (b"\x89PNG folder", "image/png")
    assert folder.tile(15, 100, 201) is None
    db = sqlite3.connect(tmp_path / "camp.mbtiles")
    db.execute("CREATE TABLE metadata (name text, value text)")
    db.execute("CREATE TABLE tiles (zoom_level int, tile_column int, tile_row int, tile_data blob)")
    db.execute("INSERT INTO metadata VALUES ('format', 'jpg')")
    db.execute("INSERT INTO tiles VALUES (2, 1, 0, ?)", (b"jpeg",))  # TMS row 0 = XYZ row 3
    db.commit()
    db.close()
    mbtiles = TileSource(tmp_path / "camp.mbtiles")
    assert mbtiles.tile(2, 1, 3) == (b"jpeg", "image/jpeg")
    assert mbtiles.tile(2, 1, 0) is None
    mbtiles.close()
    with pytest.raises(ConfigError):
        TileSource(tmp_path / "missing")
    (tmp_path / "junk.mbtiles").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(ConfigError):
        TileSource(tmp_path / "junk.mbtiles")


def test_the_console_table_is_optional_and_its_tiles_path_is_beside_the_camp_file(tmp_path):
    assert load_config(EXAMPLE).console.tiles is None
    text = EXAMPLE.read_text().replace('# tiles = "tiles/"', 'tiles = "tiles/"')
    (tmp_path / "camp.toml").write_text(text)
    config = load_config(tmp_path / "camp.toml")
    assert config.console.tiles == str(tmp_path / "tiles")
    assert parse_listen(config.console.listen) == ("127.0.0.1", 8080)
    with pytest.raises(ConfigError):
        parse_listen("8080")
    view = camp_view(config)
    assert {s["id"] for s in view["sensors"]} == {s.id for s in config.sensors}
    assert view["zones"][0]["name"] == "perimeter" and view["extent_m"] >= 5000


def test_a_recording_without_outputs_is_refused_with_a_reason(tmp_path) -> None:
    path = tmp_path / "ingress.msgpack"
    with RecordingWriter(path) as writer:
        writer.write(1.0, "report.radar-1", {"v": 1})
    with pytest.raises(EmptyRecordingError, match="no track cycles"):
        load_outputs(path)
    with RecordingWriter(path) as writer:
        writer.write(1.0, "alert", {"v": 1})  # not an alert
        writer.write(2.0, "alert", alert())
    entries, skipped = load_outputs(path)
    assert [e.kind for e in entries] == ["alert"] and sum(skipped.values()) == 1


def test_review_plays_recorded_track_updates_between_the_cycles(tmp_path) -> None:
    """A replay written with `--updates` carries each scan's tracks between the cycles;
    review plays them as the live console shows them: merged into the last cycle's picture."""
    from cuas.service.replay import replay
    from simulators.benchmark_scenarios import SAMPLE_CONFIG, SAMPLE_DIR

    out = tmp_path / "out.msgpack"
    config = load_config(SAMPLE_CONFIG)
    replay(SAMPLE_DIR / "camp-ingress.msgpack", config, out, progress=False, updates=True)
    entries, skipped = load_outputs(out)
    kinds = [e.kind for e in entries]
    assert "track_update" in kinds and "tracks" in kinds and not skipped.get("other_topic")
    # The first update after some cycle: played up to it, the picture holds its tracks.
    first = next(
        i for i, e in enumerate(entries) if e.kind == "track_update" and "tracks" in kinds[:i]
    )
    update = entries[first].message
    picture = Picture({"mode": "review"}, [config.camp_id])
    player = ReviewPlayer(entries, picture, config.camp_id)
    player.seek(entries[first].t)
    shown = {t["track_id"]: t for t in picture.camps[config.camp_id].tracks.snapshot()["tracks"]}
    for track in update.tracks:
        assert shown[track.track_id]["t_update"] == track.t_update
        assert shown[track.track_id]["enu"] == list(track.enu)


def test_a_mission_file_names_each_camp_and_where_it_is_seen(tmp_path) -> None:
    (tmp_path / "alpha.toml").write_text(EXAMPLE.read_text())
    (tmp_path / "mission.toml").write_text(
        'mission_id = "north"\n[mqtt]\nport = 1999\n'
        '[[camps]]\nconfig = "alpha.toml"\n'
        '[[camps]]\nconfig = "alpha.toml"\nport = 2001\n'
    )
    with pytest.raises(ConfigError, match="twice"):
        load_mission(tmp_path / "mission.toml")
    (tmp_path / "mission.toml").write_text(
        'mission_id = "north"\n[mqtt]\nport = 1999\n[[camps]]\nconfig = "alpha.toml"\nport = 2001\n'
    )
    mission = load_mission(tmp_path / "mission.toml")
    (config, seen_at), *_ = mission.camps
    assert config.camp_id == "alpha" and (seen_at.host, seen_at.port) == ("127.0.0.1", 2001)
    for bad, reason in (
        ('mission_id = "n"\ncamps = []\n', "camps"),
        ('mission_id = "n"\n[[camps]]\nconfig = "missing.toml"\n', "no such file"),
        ('mission_id = "n"\n[[camps]]\nconfig = "alpha.toml"\ncolour = "red"\n', "colour"),
    ):
        (tmp_path / "bad.toml").write_text(bad)
        with pytest.raises(ConfigError, match=reason):
            load_mission(tmp_path / "bad.toml")


def test_an_alert_gone_while_the_console_was_cut_off_leaves_the_picture(
    mosquitto, tmp_path
) -> None:
    """The broker restarts without persistence: its retained alert is lost with it, so after
    the reconnect the console no longer shows it; one still retained stays."""
    config = camp(live_camp(tmp_path, mosquitto.port))
    topics = Topics(config.mqtt_prefix)

    async def publish_retained(alert_id: str) -> None:
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as core:
            await core.publish(
                topics.alert(alert_id), wire.to_json(alert(alert_id)), qos=1, retain=True
            )

    async def scenario() -> None:
        await publish_retained("a-1")
        async with console_running(config, "127.0.0.1:0") as console:
            alerts = console.picture.camp("alpha").alerts
            await eventually(lambda: "a-1" in alerts, 5, "the retained alert")
            await asyncio.to_thread(mosquitto.stop)
            await eventually(lambda: console.picture.camp("alpha").broker is False, 5, "the loss")
            await asyncio.to_thread(mosquitto.start)
            await publish_retained("a-2")  # raised while the console was away
            await eventually(lambda: "a-2" in alerts, 15, "the reconnect")
            await eventually(lambda: "a-1" not in alerts, 5, "the lost alert removed")
            assert set(alerts) == {"a-2"}

    asyncio.run(asyncio.wait_for(scenario(), 40))


def test_a_transition_delivered_twice_is_shown_once() -> None:
    """MQTT delivers at least once: a second copy of a `seq` is dropped, and counted."""
    picture = Picture({}, ["alpha"])
    bridge = MqttBridge(load_config(EXAMPLE).mqtt, Topics("cuas/alpha"), picture, "alpha")
    raised = wire.to_json(alert(seq=41))
    for _ in range(2):
        bridge.handle("cuas/alpha/events/alerts", raised)
    bridge.handle("cuas/alpha/events/alerts", wire.to_json(alert(state="escalated", seq=42)))
    assert [a["state"] for a in picture.history] == ["escalated", "raised"]  # newest first
    assert bridge.stats.duplicates == 1


def test_an_update_moves_and_adds_tracks_and_never_removes_one() -> None:
    picture = Picture({}, ["alpha"])
    picture.on_tracks("alpha", full_cycle(10.0, track(1, 10.0, 600, 20), track(2, 10.0, 0, 300)))
    assert picture.on_track_update("alpha", update(10.3, track(1, 10.3, 591, 20)))
    assert shown(picture) == {1: [591, 20], 2: [0, 300]}  # 1 moved, 2 as the cycle left it
    assert picture.on_track_update("alpha", update(10.6, track(3, 10.6, -50, -50)))
    assert shown(picture) == {1: [591, 20], 2: [0, 300], 3: [-50, -50]}  # 3 added
    assert picture.on_track_update("alpha", update(10.9, track(1, 10.9, 582, 20)))
    assert shown(picture) == {1: [582, 20], 2: [0, 300], 3: [-50, -50]}  # newest state wins
    assert picture.camp("alpha").snapshot()["tracks"]["t"] == 10.0  # still the cycle's


def test_an_update_older_than_the_last_cycle_is_ignored() -> None:
    picture = Picture({}, ["alpha"])
    picture.on_tracks("alpha", full_cycle(10.0, track(1, 10.0, 600, 20)))
    assert not picture.on_track_update("alpha", update(9.9, track(1, 9.9, 603, 20), track(4, 9.9)))
    assert shown(picture) == {1: [600, 20]}
    assert picture.on_track_update("alpha", update(10.0, track(1, 10.0, 600, 21)))  # same time
    assert shown(picture) == {1: [600, 21]}


def test_a_cycle_replaces_the_tracks_and_every_update_before_it() -> None:
    picture = Picture({}, ["alpha"])
    picture.on_tracks("alpha", full_cycle(10.0, track(1, 10.0, 600, 20), track(2, 10.0, 0, 300)))
    picture.on_track_update("alpha", update(10.5, track(1, 10.5, 585, 20), track(3, 10.5)))
    picture.on_tracks("alpha", full_cycle(11.0, track(2, 11.0, 0, 290)))
    assert shown(picture) == {2: [0, 290]}  # 1 and 3 deleted by the cycle; no update left


def test_updates_before_the_first_cycle_are_shown_alone() -> None:
    picture = Picture({}, ["alpha"])
    assert picture.camp("alpha").snapshot()["tracks"] is None
    picture.on_track_update("alpha", update(5.0, track(7, 5.0, 100, 100)))
    assert shown(picture) == {7: [100, 100]}
    assert picture.camp("alpha").snapshot()["tracks"]["t"] == 5.0


def test_updates_held_while_cycles_stop_are_bounded_oldest_first(monkeypatch) -> None:
    """Cycles lost while updates keep coming (new tracks each time): the console holds at
    most `MAX_UPDATED` updated tracks, dropping the least recently updated first."""
    from cuas.operator.console import tracks as held

    monkeypatch.setattr(held, "MAX_UPDATED", 3)
    picture = Picture({}, ["alpha"])
    picture.on_tracks("alpha", full_cycle(10.0, track(1, 10.0, 600, 20)))
    for i, t in enumerate((10.1, 10.2, 10.3)):
        picture.on_track_update("alpha", update(t, track(10 + i, t, 10.0 * i)))
    picture.on_track_update("alpha", update(10.4, track(10, 10.4, 5)))  # 10 updated again
    picture.on_track_update("alpha", update(10.5, track(13, 10.5, 30)))  # 11 goes, not 10
    assert shown(picture) == {1: [600, 20], 10: [5, 0], 12: [20, 0], 13: [30, 0]}


def test_the_bridge_takes_track_updates_and_counts_bad_and_stale_ones() -> None:
    picture = Picture({}, ["alpha"])
    bridge = MqttBridge(load_config(EXAMPLE).mqtt, Topics("cuas/alpha"), picture, "alpha")
    topic = "cuas/alpha/tracks/updates"
    bridge.handle("cuas/alpha/tracks", full_cycle(10.0, track(1, 10.0, 600, 20)))
    bridge.handle(topic, wire.to_json(update(10.2, track(1, 10.2, 594, 20))))
    bridge.handle(topic, b"{not json")
    bridge.handle(topic, json.dumps({"v": 2, "t": 10.3, "tracks": []}).encode())
    bridge.handle(topic, json.dumps({"v": 1, "t": 10.3, "tracks": [{"track_id": 1}]}).encode())
    bridge.handle(topic, wire.to_json(update(9.0, track(1, 9.0, 900, 900))))
    assert sum(bridge.stats.bad.values()) == 3 and bridge.stats.stale_updates == 1
    assert shown(picture) == {1: [594, 20]}


def test_a_browser_gets_an_update_at_once_then_at_most_one_per_interval_merged() -> None:
    """A burst of updates reaches a browser as few messages, each track in its newest state,
    no sooner than one per `update_interval` per camp and none lost."""

    async def scenario() -> None:
        picture = Picture({}, ["alpha"])
        feed = BrowserFeed(update_interval=0.1)
        picture.feeds.add(feed)
        loop = asyncio.get_running_loop()
        newest: dict[int, float] = {}

        async def core() -> None:  # an update every 2 ms: 5 tracks, one at a time
            for i in range(250):
                t = 100.0 + i * 0.002
                picture.on_track_update("alpha", update(t, track(i % 5, t)))
                newest[i % 5] = t
                await asyncio.sleep(0.002)

        start = loop.time()
        producer = asyncio.create_task(core())
        got: dict[int, float] = {}
        messages = 0
        while not producer.done() or got != newest:
            text = await asyncio.wait_for(feed.next(), 5)
            assert text is not None
            message = json.loads(text)
            assert message["kind"] == "track_update" and message["camp"] == "alpha"
            messages += 1
            for t in message["update"]["tracks"]:
                assert t["t"] >= got.get(t["track_id"], 0.0)  # never back in time
                got[t["track_id"]] = t["t"]
        elapsed = loop.time() - start
        await producer
        assert got == newest  # every track, in its newest state
        assert 1 <= messages <= elapsed / 0.1 + 1  # paced: 250 updates, a handful of messages
        assert feed.updates_merged >= 250 - messages

    asyncio.run(scenario())


def test_a_cycle_drops_the_updates_waiting_before_it_and_camps_are_paced_apart() -> None:
    async def scenario() -> None:
        feed = BrowserFeed(update_interval=0.2)

        def batch(camp: str, *ids: int, t: float = 10.0) -> TrackBatch:
            return TrackBatch(camp, t, {i: track(i, t) for i in ids})

        async def ids_of_next() -> tuple[str, str, list[int]]:
            m = json.loads(await asyncio.wait_for(feed.next(), 5))  # type: ignore[arg-type]
            tracks = m["update"]["tracks"] if m["kind"] == "track_update" else m["cycle"]["tracks"]
            return m["kind"], m["camp"], sorted(t["track_id"] for t in tracks)

        feed.push_update(batch("alpha", 1))
        assert await ids_of_next() == ("track_update", "alpha", [1])  # the first at once
        feed.push_update(batch("alpha", 2))  # waits for alpha's interval ...
        feed.push_update(batch("bravo", 5))  # ... which does not hold up bravo
        assert await ids_of_next() == ("track_update", "bravo", [5])
        feed.push_tracks("alpha", '{"kind":"tracks","camp":"alpha","cycle":{"tracks":[]}}')
        feed.push_update(batch("alpha", 3, t=11.0))  # after the cycle: sent after it
        assert await ids_of_next() == ("tracks", "alpha", [])
        assert await ids_of_next() == ("track_update", "alpha", [3])  # 2 went with the cycle

    asyncio.run(scenario())


def test_a_new_browser_is_shown_the_updates_merged_since_the_cycle() -> None:
    async def scenario() -> None:
        picture = Picture({}, ["alpha"])
        picture.on_tracks("alpha", full_cycle(10.0, track(1, 10.0, 600, 20)))
        picture.on_track_update("alpha", update(10.4, track(1, 10.4, 588, 20)))
        _, snapshot = await drain(picture.attach())
        (shown_track,) = snapshot["camps"]["alpha"]["tracks"]["tracks"]
        assert shown_track["enu"][:2] == [588, 20] and shown_track["class"] == "drone"

    asyncio.run(scenario())
