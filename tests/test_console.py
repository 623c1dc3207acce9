"""`cuas console`: the operations centre's page, driven in a real headless Chromium against a
real Mosquitto, a real fusion core and the console itself.

The browser is Debian's `chromium` with `chromium-driver` (scripts/setup.sh installs them); a
developer without them skips these tests, CI without them fails. Screenshots of the page are
saved under each test's temporary folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import msgspec
import numpy as np
import pytest
from support.broker import free_port, port_open
from support.browser import find_chromium, start_chromium, wait_for
from support.live import Intruder, camp, core_running, eventually, live_camp
from support.wire_tracks import confirmed_drone

from cuas import wire
from cuas.config import CampConfig, dump_config
from cuas.operator.console.command import console_running, mission_console_running
from cuas.operator.console.mission import load_mission
from cuas.service.replay import replay
from cuas.topics import Topics
from simulators.benchmark_scenarios import SAMPLE_CONFIG, SAMPLE_DIR


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module; a developer without it skips, CI fails."""
    found = find_chromium()
    if found is None:
        message = (
            "chromium and chromedriver are not installed: run scripts/setup.sh "
            "(apt-get install chromium chromium-driver)"
        )
        if _on_ci():
            pytest.fail(message + " -- CI must run the browser tests", pytrace=False)
        pytest.skip(message)
    chrome = start_chromium(*found)
    try:
        yield chrome
    finally:
        chrome.quit()


def fresh(chrome: Any) -> None:
    """A blank page and an empty console log: what an earlier test's page said is not ours."""
    chrome.get("about:blank")
    chrome.get_log("browser")


async def on_page(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a (blocking) Selenium call off the event loop, so the console and core keep going."""
    return await asyncio.to_thread(fn, *args)


def css(chrome: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return chrome.find_elements(By.CSS_SELECTOR, selector)


async def page_has(chrome: Any, selector: str, timeout: float, what: str) -> Any:
    """Wait until the page has an element matching `selector`; return the first."""
    found: list[Any] = []

    def check() -> bool:
        found[:] = css(chrome, selector)
        return bool(found)

    deadline = asyncio.get_running_loop().time() + timeout
    while not await on_page(check):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} ({selector})")
        await asyncio.sleep(0.1)
    return found[0]


async def page_shows(chrome: Any, script: str, timeout: float, what: str) -> Any:
    """Wait until `script` (JavaScript returning a value) returns something true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (value := await on_page(chrome.execute_script, script)):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.1)
    return value


def screenshot(chrome: Any, path: Path) -> Path:
    chrome.save_screenshot(str(path))
    assert path.stat().st_size > 10_000, "the screenshot is (nearly) empty"
    return path


def severe_logs(chrome: Any) -> list[str]:
    return [e["message"] for e in chrome.get_log("browser") if e["level"] == "SEVERE"]


@contextlib.asynccontextmanager
async def acks_heard(port: int, prefix: str) -> AsyncIterator[list[tuple[str, wire.Ack]]]:
    """Every `alerts/<id>/ack` published on the broker, as (topic, ack)."""
    heard: list[tuple[str, wire.Ack]] = []
    ready = asyncio.Event()

    async def listen() -> None:
        with contextlib.suppress(aiomqtt.MqttError):  # the test may stop the broker
            async with aiomqtt.Client("127.0.0.1", port) as client:
                await client.subscribe(f"{prefix}/alerts/+/ack", qos=1)
                ready.set()
                async for m in client.messages:
                    ack = wire.decode_ack(bytes(m.payload))  # type: ignore[arg-type]
                    heard.append((m.topic.value, ack))

    task = asyncio.create_task(listen())
    await asyncio.wait_for(ready.wait(), 5)
    try:
        yield heard
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_an_operator_sees_the_intruder_acknowledges_its_alert_and_sees_the_core_go_offline(
    browser, mosquitto, tmp_path
):
    config = camp(live_camp(tmp_path, mosquitto.port))

    async def scenario() -> None:
        stop = asyncio.Event()
        async with (
            console_running(config, listen="127.0.0.1:0") as console,
            acks_heard(mosquitto.port, config.mqtt_prefix) as acks,
        ):
            async with core_running(config) as service:
                await asyncio.wait_for(service.ready.wait(), 5)
                flight = asyncio.create_task(Intruder(config).fly(stop))
                await on_page(fresh, browser)
                await on_page(browser.get, console.server.url)
                # The intruder is drawn as a track, and its alert has a row with its reason.
                await page_has(browser, "[data-track-id]", 20, "the intruder's track")
                # Read in one script: the list is rebuilt as alerts change, so an element found
                # by one call may be stale by the next.
                row = await page_shows(
                    browser,
                    """const r = document.querySelector("[data-alert-id]");
                       return r && {id: r.dataset.alertId, level: r.dataset.level,
                                    text: r.innerText};""",
                    25,
                    "the intruder's alert row",
                )
                alert_id = row["id"]
                assert row["level"] in ("warning", "critical")
                assert "approach" in row["text"] or "perimeter" in row["text"]
                # Every sensor of the camp has its element; the radar reports, so it is ok.
                radar_ok = '[data-sensor-id="radar-1"][data-state="ok"]'
                await page_has(browser, radar_ok, 10, "the radar's health")
                ids = await on_page(
                    browser.execute_script,
                    "return [...document.querySelectorAll('[data-sensor-id]')]"
                    ".map(e => e.dataset.sensorId)",
                )
                assert set(ids) == {s.id for s in config.sensors}
                await on_page(screenshot, browser, tmp_path / "live.png")

                # Acknowledge: the operator's name, then the row's button.
                name = await on_page(css, browser, 'input[name="operator"]')
                await on_page(name[0].clear)
                await on_page(name[0].send_keys, "Sgt Okafor")
                button = await page_has(
                    browser, f'[data-alert-id="{alert_id}"] button[data-action="ack"]', 5, "ack"
                )
                await on_page(button.click)
                await eventually(lambda: acks, 10, "the ack on MQTT")
                topic, ack = acks[0]
                assert topic == f"{config.mqtt_prefix}/alerts/{alert_id}/ack"
                assert ack.by == "Sgt Okafor"
                # The core takes it; the row shows who acknowledged.
                await page_shows(
                    browser,
                    f"""const r = document.querySelector('[data-alert-id="{alert_id}"]');
                        return r && r.dataset.acknowledged === "true" &&
                               r.textContent.includes("acknowledged by Sgt Okafor");""",
                    15,
                    "the row acknowledged by the operator",
                )
                # The name is remembered for the next time.
                assert (
                    await on_page(browser.execute_script, "return localStorage['cuas.operator']")
                    == "Sgt Okafor"
                )
                await on_page(screenshot, browser, tmp_path / "acknowledged.png")
                stop.set()
                await flight
            # The core stopped: the page says so.
            await page_has(browser, '[data-banner][data-reason="core"]', 10, "the offline banner")
            banner = await on_page(
                browser.execute_script,
                "const b = document.querySelector('[data-banner]'); return b && b.innerText",
            )
            assert "OFFLINE" in banner
            await on_page(screenshot, browser, tmp_path / "core-offline.png")
            # The broker goes too: the page says that instead.
            await asyncio.to_thread(mosquitto.stop)
            await page_has(browser, '[data-banner][data-reason="broker"]', 10, "broker banner")
            assert console.bridge is not None and console.bridge.stats.acks_sent == 1
            assert not console.bridge.stats.bad
        assert not await on_page(severe_logs, browser)

    asyncio.run(asyncio.wait_for(scenario(), 120))


def drone(track_id: int, t: float, east: float, north: float) -> wire.Track:
    """A confirmed drone track at east/north metres of the camp's origin, flying west."""
    return confirmed_drone(track_id, t, [east, north, 80.0])


# The page's tracks of camp alpha: id -> [east, north] of its marker (the map's frame, less the
# camp's offset), each only if its element stands where the map puts that position.
TRACKS_ON_PAGE = """
const camp = S.camps.get("alpha"), shown = {};
for (const e of document.querySelectorAll('[data-camp-id="alpha"][data-track-id]')) {
  const rec = S.tracks.get("alpha/" + e.dataset.trackId), ll = rec.marker.getLatLng();
  const at = L.DomUtil.getPosition(e), want = map.latLngToLayerPoint(ll);
  if (Math.abs(at.x - want.x) > 1 || Math.abs(at.y - want.y) > 1) return null;
  shown[e.dataset.trackId] = [Math.round(ll.lng - camp.offset_m[0]),
                              Math.round(ll.lat - camp.offset_m[1])];
}
return JSON.stringify(shown);
"""


async def tracks_shown(chrome: Any, want: dict[str, list[int]], timeout: float, what: str) -> None:
    """Wait until the page shows exactly `want` (track id -> east/north) for camp alpha."""
    target = json.dumps(want, sort_keys=True)
    last: list[Any] = [None]

    def check() -> bool:
        text = chrome.execute_script(TRACKS_ON_PAGE)
        last[0] = text and json.loads(text)
        return last[0] is not None and json.dumps(last[0], sort_keys=True) == target

    deadline = asyncio.get_running_loop().time() + timeout
    while not await on_page(check):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}: {last[0]}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def page_beside_a_core(
    browser: Any, config: Any, port: int
) -> AsyncIterator[tuple[Any, aiomqtt.Client]]:
    """A console on `config`'s camp with its page open in `browser`, and a stand-in core: an
    MQTT client on the same broker that publishes what a core would."""
    async with (
        console_running(config, "127.0.0.1:0") as console,
        aiomqtt.Client("127.0.0.1", port) as core,
    ):
        assert console.bridge is not None
        await asyncio.wait_for(console.bridge.connected.wait(), 5)
        await on_page(fresh, browser)
        await on_page(browser.get, console.server.url)
        await page_has(browser, "body[data-ws=open] .leaflet-container", 10, "the page")
        yield console, core


def test_a_scan_s_track_update_moves_the_track_on_the_page_before_the_next_cycle(
    browser, mosquitto, tmp_path
):
    """A stand-in core on a real broker: a cycle, then an update that moves one track and adds
    another; the page shows both at once, with no cycle in between; the next cycle removes the
    tracks it no longer has, and an update older than that cycle changes nothing."""
    config = camp(live_camp(tmp_path, mosquitto.port))
    topics = Topics(config.mqtt_prefix)

    async def scenario() -> None:
        t0 = time.time()
        async with page_beside_a_core(browser, config, mosquitto.port) as (console, core):

            async def publish(topic: str, message: Any) -> None:
                await core.publish(topic, wire.to_json(message), qos=0)

            first = [drone(1, t0, 600, 20), drone(2, t0, -400, 300)]
            await publish(topics.tracks, wire.TrackCycle(v=1, t=t0, tracks=first))
            await tracks_shown(browser, {"1": [600, 20], "2": [-400, 300]}, 10, "the cycle")
            # The scan moves track 1 300 m west and starts track 3: no cycle is published.
            scan = [drone(1, t0 + 0.4, 300, 20), drone(3, t0 + 0.4, 100, -700)]
            await publish(topics.track_updates, wire.TrackUpdate(v=1, t=t0 + 0.4, tracks=scan))
            moved = {"1": [300, 20], "2": [-400, 300], "3": [100, -700]}
            await tracks_shown(browser, moved, 10, "the update, before any new cycle")
            assert console.picture.camp("alpha").tracks.t == t0  # still the first cycle
            await on_page(screenshot, browser, tmp_path / "update.png")
            # The next cycle has track 2 alone: 1 and 3 leave the page.
            second = [drone(2, t0 + 1, -430, 300)]
            await publish(topics.tracks, wire.TrackCycle(v=1, t=t0 + 1, tracks=second))
            await tracks_shown(browser, {"2": [-430, 300]}, 10, "the next cycle")
            # An update older than that cycle is ignored; a newer one after it still moves.
            late = wire.TrackUpdate(v=1, t=t0 + 0.8, tracks=[drone(2, t0 + 0.8, -424, 300)])
            await publish(topics.track_updates, late)
            fresh_update = [drone(4, t0 + 1.2, 50, 50)]
            await publish(
                topics.track_updates, wire.TrackUpdate(v=1, t=t0 + 1.2, tracks=fresh_update)
            )
            await tracks_shown(browser, {"2": [-430, 300], "4": [50, 50]}, 10, "a new update")
            assert console.bridge.stats.stale_updates == 1 and not console.bridge.stats.bad
        assert not await on_page(severe_logs, browser)

    asyncio.run(asyncio.wait_for(scenario(), 60))


SIGMA_CIRCLES = """
const out = {};
for (const [key, rec] of S.tracks)
  out[key.split("/")[1]] = rec.sigma ? Math.round(rec.sigma.getRadius()) : 0;
return JSON.stringify(out);
"""


def test_the_uncertainty_circle_is_the_horizontal_sigma_not_a_bearings_only_height_guess(
    browser, mosquitto, tmp_path
):
    """A bearings-only track known to 40 m across but guessed in height (150 m) gets a circle
    of two horizontal sigmas, 80 m, not 310; one known to 24 m across, under the 25 m the page
    draws from, gets none however vague its height; a track from a core older than the split
    keeps its 3-D sigma's circle."""
    config = camp(live_camp(tmp_path, mosquitto.port))
    topics = Topics(config.mqtt_prefix)
    t0 = time.time()
    passive = msgspec.structs.replace(
        drone(1, t0, 600, 20), pos_sigma_m=155.2, horiz_sigma_m=40.0, alt_sigma_m=150.0
    )
    older = msgspec.structs.replace(drone(2, t0, -400, 300), pos_sigma_m=60.0)
    across = msgspec.structs.replace(
        drone(3, t0, 100, -700), pos_sigma_m=151.9, horiz_sigma_m=24.0, alt_sigma_m=150.0
    )

    async def scenario() -> None:
        async with page_beside_a_core(browser, config, mosquitto.port) as (_, core):
            cycle = wire.TrackCycle(v=1, t=t0, tracks=[passive, older, across])
            await core.publish(topics.tracks, wire.to_json(cycle), qos=0)
            await tracks_shown(
                browser, {"1": [600, 20], "2": [-400, 300], "3": [100, -700]}, 10, "the cycle"
            )
            circles = json.loads(await on_page(browser.execute_script, SIGMA_CIRCLES))
            assert circles == {"1": 80, "2": 120, "3": 0}, circles
        assert not await on_page(severe_logs, browser)

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_a_track_only_two_crossing_lines_place_is_drawn_faint_with_its_reason(
    browser, mosquitto, tmp_path
):
    """A track whose place nothing vouches for (`placed` false) is drawn at half opacity with
    a tooltip saying its range is unconfirmed; a placed one, and one from a core older than
    the field, are drawn as ever."""
    config = camp(live_camp(tmp_path, mosquitto.port))
    topics = Topics(config.mqtt_prefix)
    t0 = time.time()
    crossing = msgspec.structs.replace(drone(1, t0, 600, 20), placed=False)
    radar = drone(2, t0, -400, 300)

    async def scenario() -> None:
        async with page_beside_a_core(browser, config, mosquitto.port) as (_, core):
            cycle = wire.TrackCycle(v=1, t=t0, tracks=[crossing, radar])
            await core.publish(topics.tracks, wire.to_json(cycle), qos=0)
            await tracks_shown(browser, {"1": [600, 20], "2": [-400, 300]}, 10, "the cycle")
            looks = json.loads(
                await on_page(
                    browser.execute_script,
                    """const out = {};
                       for (const e of document.querySelectorAll('[data-track-id]'))
                         out[e.dataset.trackId] = [e.dataset.placed,
                           getComputedStyle(e).opacity, e.title];
                       return JSON.stringify(out);""",
                )
            )
            assert looks["1"][:2] == ["false", "0.5"] and "unconfirmed" in looks["1"][2]
            assert looks["2"] == ["true", "1", ""]
        assert not await on_page(severe_logs, browser)

    asyncio.run(asyncio.wait_for(scenario(), 60))


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample camp's recorded ingress, replayed: an output to review."""
    from cuas.config import load_config

    out = tmp_path_factory.mktemp("review") / "out.msgpack"
    replay(SAMPLE_DIR / "camp-ingress.msgpack", load_config(SAMPLE_CONFIG), out, progress=False)
    return out


def test_review_mode_plays_a_recording_with_a_time_slider_and_speed(browser, reviewed, tmp_path):
    from cuas.config import load_config

    config = load_config(SAMPLE_CONFIG)

    async def scenario() -> None:
        async with console_running(config, "127.0.0.1:0", recording=reviewed) as console:
            assert console.player is not None
            player = console.player
            await on_page(fresh, browser)
            await on_page(browser.get, console.server.url)
            await page_has(browser, "footer#review:not([hidden])", 10, "the review controls")
            # It plays: the clock moves and the recorded tracks appear.
            await on_page(
                browser.execute_script,
                """const s = document.querySelector('[data-control="speed"]');
                   s.value = "8"; s.dispatchEvent(new Event("change"));""",
            )
            await eventually(lambda: player.speed == 8.0, 5, "the speed change")
            await page_has(browser, "[data-track-id]", 20, "a recorded track")
            # Jump with the slider to three quarters in: the picture is rebuilt there.
            target = player.t0 + 0.75 * (player.t1 - player.t0)
            await on_page(
                browser.execute_script,
                f"""const s = document.querySelector('[data-control="seek"]');
                    s.value = "{target}"; s.dispatchEvent(new Event("change"));""",
            )
            t = await page_shows(
                browser,
                f"const t = Number(document.body.dataset.reviewT); return t >= {target - 1} && t;",
                10,
                "the clock at the new time",
            )
            assert target - 1 <= t <= player.t1
            # Pause holds the clock.
            await on_page(
                browser.execute_script, "document.querySelector('[data-control=\"play\"]').click()"
            )
            await eventually(lambda: player.paused, 5, "the pause")
            held = player.t
            await asyncio.sleep(0.5)
            assert player.t == held
            await page_has(browser, "[data-track-id]", 10, "tracks at the new time")
            await on_page(screenshot, browser, tmp_path / "review.png")
            # Review mode has no acknowledgement, and no offline banner.
            assert not await on_page(css, browser, 'button[data-action="ack"]')
            assert await on_page(css, browser, "[data-banner][hidden]")
        assert not await on_page(severe_logs, browser)

    asyncio.run(asyncio.wait_for(scenario(), 90))


def test_the_page_and_its_map_scripts_come_from_the_console_alone(browser, mosquitto, tmp_path):
    """Offline by design: every resource the page loads is the console's own."""
    config = camp(live_camp(tmp_path, mosquitto.port))

    async def scenario() -> None:
        async with console_running(config, "127.0.0.1:0", recording=None) as console:
            await on_page(fresh, browser)
            await on_page(browser.get, console.server.url)
            await page_has(browser, ".leaflet-container", 10, "the map")
            urls = await on_page(
                browser.execute_script,
                "return performance.getEntriesByType('resource').map(e => e.name)",
            )
            assert urls, "the page loaded nothing"
            assert all(u.startswith(console.server.url) or u.startswith("ws://") for u in urls)
            assert json.loads(
                await on_page(
                    browser.execute_script,
                    "return JSON.stringify(new ms.Symbol('SHAPMHQ-------').isValid())",
                )
            )

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_an_alert_that_gives_a_line_of_sight_is_drawn_from_its_sensor(browser, mosquitto, tmp_path):
    """A track that only two lines of sight place is alerted on as the line it is on (no
    place): its row names the sensor and bearing, and the map draws the line from that
    sensor, on that bearing, out to the sensor's range."""
    config = camp(live_camp(tmp_path, mosquitto.port))
    sensor = next(s for s in config.sensors if s.kind == "camera")
    line = wire.Alert(
        v=wire.VERSION,
        alert_id="a-9",
        track_id=17,
        level="warning",
        state="raised",
        zone=None,
        reason="Drone (track 17) on bearing 203 degrees from cam, range unconfirmed.",
        t_raised=time.time(),
        t=time.time(),
        lat=None,
        lon=None,
        alt_m=None,
        eta_s=None,
        acknowledged_by=None,
        bearing_deg=203.0,
        seen_from=sensor.id,
    )

    drawn: list[list[list[float]]] = []

    async def scenario() -> None:
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as core:
            topic = Topics(config.mqtt_prefix).alert("a-9")
            await core.publish(topic, wire.to_json(line), qos=1, retain=True)
            async with console_running(config, "127.0.0.1:0", recording=None) as console:
                await on_page(fresh, browser)
                await on_page(browser.get, console.server.url)
                row = await page_shows(
                    browser,
                    """const r = document.querySelector('[data-alert-id="a-9"]');
                       return r && {from: r.dataset.seenFrom, bearing: r.dataset.bearing};""",
                    10,
                    "the line alert's row",
                )
                assert row == {"from": sensor.id, "bearing": "203"}
                drawn[:] = await on_page(
                    browser.execute_script,
                    """const ls = layers.sights.getLayers();
                       return ls.map(l => l.getLatLngs().map(p => [p.lat, p.lng]));""",
                )
            await core.publish(topic, b"", qos=1, retain=True)

    asyncio.run(asyncio.wait_for(scenario(), 30))
    ((start, end),) = drawn  # one line, two ends; the map is the camp's metric frame
    frame = config.local_frame()
    at = frame.to_enu(sensor.lat, sensor.lon, sensor.alt_m).reshape(3)
    assert start == pytest.approx([at[1], at[0]], abs=0.5)
    reach = np.array(end) - np.array(start)  # (north, east)
    assert math.hypot(*reach) == pytest.approx(sensor.max_range_m, rel=1e-6)
    assert math.degrees(math.atan2(reach[1], reach[0])) % 360 == pytest.approx(203.0, abs=1e-6)


def test_the_demo_serves_the_console_with_the_raid_and_every_sensor_reporting(
    browser, mosquitto, tmp_path
):
    """`scripts/demo.sh`'s command: the raid on the page, every kind of sensor of the camp live."""
    config_path = live_camp(tmp_path, mosquitto.port, cycle_s=1.0)
    config = camp(config_path)
    port = free_port()
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cuas",
            "demo",
            "--config",
            str(config_path),
            "--duration",
            "40",
            "--console",
            f"127.0.0.1:{port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(lambda: port_open("127.0.0.1", port), 30, "the demo's console")
        fresh(browser)
        browser.get(url)
        wait_for(lambda: css(browser, "[data-track-id]"), 30, "the raid's tracks")
        wait_for(
            lambda: len(css(browser, '[data-sensor-id][data-state="ok"]')) == len(config.sensors),
            30,
            "every sensor of the camp reporting",
        )
        wait_for(lambda: css(browser, "[data-alert-id]"), 30, "an alert of the raid")
        screenshot(browser, tmp_path / "demo.png")
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            out, _ = demo.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            demo.kill()
            out, _ = demo.communicate()
    assert f"operations console: {url}" in out
    assert demo.returncode == 0, out


def bridged_to(mission_port: int, camp_id: str) -> list[str]:
    """Mosquitto bridge settings: the camp's topics out to the mission broker, acks back."""
    return [
        f"connection mission-{camp_id}",
        f"address 127.0.0.1:{mission_port}",
        f"topic cuas/{camp_id}/# both 1",
        "cleansession true",
        "restart_timeout 1",
    ]


def camp_bravo(alpha: CampConfig, directory: Path, mqtt_port: int) -> Path:
    """Camp alpha's layout 5.5 km further north, as camp bravo, on its own broker and ports."""
    north = 0.05

    def moved(points: list) -> list:
        return [(lat + north, lon) for lat, lon in points]

    bravo = msgspec.structs.replace(
        alpha,
        camp_id="bravo",
        origin=msgspec.structs.replace(alpha.origin, lat=alpha.origin.lat + north),
        mqtt=msgspec.structs.replace(alpha.mqtt, port=mqtt_port),
        zmq=msgspec.structs.replace(
            alpha.zmq,
            ingest=f"tcp://127.0.0.1:{free_port()}",
            tracks=f"tcp://127.0.0.1:{free_port()}",
        ),
        zones=[msgspec.structs.replace(z, polygon=moved(z.polygon)) for z in alpha.zones],
        sensors=[msgspec.structs.replace(s, lat=s.lat + north) for s in alpha.sensors],
        alerts=msgspec.structs.replace(alpha.alerts, journal=str(directory / "bravo.sqlite")),
    )
    path = directory / "bravo.toml"
    path.write_text(dump_config(bravo))
    return path


def test_the_mission_view_shows_two_bridged_camps_and_acks_reach_the_right_core(
    browser, make_mosquitto, tmp_path
):
    mission_broker = make_mosquitto()
    alpha_broker = make_mosquitto(extra_config=bridged_to(mission_broker.port, "alpha"))
    bravo_broker = make_mosquitto(extra_config=bridged_to(mission_broker.port, "bravo"))
    (tmp_path / "alpha").mkdir()
    alpha_path = live_camp(tmp_path / "alpha", alpha_broker.port)
    alpha = camp(alpha_path)
    bravo = camp(camp_bravo(alpha, tmp_path, bravo_broker.port))
    mission_file = tmp_path / "mission.toml"
    mission_file.write_text(
        f'mission_id = "north"\n[mqtt]\nport = {mission_broker.port}\n'
        f'[[camps]]\nconfig = "{alpha_path}"\n[[camps]]\nconfig = "bravo.toml"\n'
    )
    mission = load_mission(mission_file)

    async def scenario() -> None:
        stop = asyncio.Event()
        async with (
            core_running(alpha) as alpha_core,
            core_running(bravo) as bravo_core,
            mission_console_running(mission, "127.0.0.1:0") as console,
        ):
            await asyncio.wait_for(alpha_core.ready.wait(), 5)
            await asyncio.wait_for(bravo_core.ready.wait(), 5)
            # An intruder at each camp (a core without any sensor traffic publishes no cycles).
            flights = [asyncio.create_task(Intruder(c).fly(stop)) for c in (alpha, bravo)]
            await on_page(fresh, browser)
            await on_page(browser.get, console.server.url)
            # Both camps seen through the mission broker: their cores online, their cycles.
            for camp_id in ("alpha", "bravo"):
                part = console.picture.camp(camp_id)
                await eventually(
                    lambda part=part: part.core == "online" and part.tracks.cycle, 15, camp_id
                )
                radar = f'[data-camp-id="{camp_id}"][data-sensor-id="radar-1"]'
                await page_has(browser, radar, 5, f"{camp_id}'s radar")
            await page_has(browser, '[data-camp-id="alpha"][data-state="ok"]', 15, "alpha radar")
            await page_has(browser, '[data-camp-id="alpha"][data-track-id]', 20, "alpha's track")
            alert_id = await page_shows(
                browser,
                """const r = document.querySelector('[data-camp-id="alpha"][data-alert-id]');
                   return r && r.dataset.alertId;""",
                25,
                "alert",
            )
            options = await on_page(
                browser.execute_script,
                "return [...document.querySelectorAll('[data-control=\"camp\"] option')]"
                ".map(o => o.value)",
            )
            assert options == ["", "alpha", "bravo"]
            # Acknowledged on the mission's page, the ack goes back over the bridge to alpha.
            name = (await on_page(css, browser, 'input[name="operator"]'))[0]
            await on_page(name.clear)
            await on_page(name.send_keys, "Maj Lindqvist")
            await on_page(
                (await on_page(css, browser, f'[data-alert-id="{alert_id}"] [data-action="ack"]'))[
                    0
                ].click
            )
            await page_shows(
                browser,
                f"""const r = document.querySelector('[data-alert-id="{alert_id}"]');
                    return r && r.textContent.includes("acknowledged by Maj Lindqvist");""",
                15,
                "the mission's ack confirmed by alpha's core",
            )
            assert alpha_core.publisher.stats.acks == 1 and bravo_core.publisher.stats.acks == 0
            await on_page(screenshot, browser, tmp_path / "mission.png")
            # The selector narrows the panels to one camp.
            await on_page(
                browser.execute_script,
                """const s = document.querySelector('[data-control="camp"]');
                   s.value = "bravo"; s.dispatchEvent(new Event("change"));""",
            )
            assert not await on_page(css, browser, '[data-camp-id="alpha"][data-alert-id]')
            assert not await on_page(css, browser, '[data-camp-id="alpha"][data-sensor-id]')
            assert await on_page(css, browser, '[data-camp-id="bravo"][data-sensor-id]')
            await page_has(browser, '[data-camp-id="bravo"][data-alert-id]', 15, "bravo's alert")
            stop.set()
            await asyncio.gather(*flights)

    asyncio.run(asyncio.wait_for(scenario(), 120))


def solid_png(rgb: tuple[int, int, int], size: int = 256) -> bytes:
    """A one-colour PNG tile."""
    row = b"\x00" + bytes(rgb) * size
    raw = zlib.compress(row * size)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def tile_of(lat: float, lon: float, z: int) -> tuple[int, int]:
    """The XYZ (Web Mercator) tile holding a point."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def test_a_camp_with_offline_tiles_gets_a_basemap_from_the_console(browser, mosquitto, tmp_path):
    path = live_camp(tmp_path, mosquitto.port)
    path.write_text(path.read_text().replace('# tiles = "tiles/"', 'tiles = "tiles"'))
    config = camp(path)
    png = solid_png((40, 70, 50))
    for z in range(11, 18):
        cx, cy = tile_of(config.origin.lat, config.origin.lon, z)
        for x in range(cx - 3, cx + 4):
            for y in range(cy - 3, cy + 4):
                (tmp_path / "tiles" / str(z) / str(x)).mkdir(parents=True, exist_ok=True)
                (tmp_path / "tiles" / str(z) / str(x) / f"{y}.png").write_bytes(png)

    async def scenario() -> None:
        async with console_running(config, "127.0.0.1:0") as console:
            await on_page(fresh, browser)
            await on_page(browser.get, console.server.url)
            await page_has(browser, "img.leaflet-tile-loaded", 15, "a loaded tile")
            # The zones are still drawn over the tiles, and nothing came from elsewhere.
            await page_has(browser, "path.leaflet-interactive, canvas", 5, "the zones")
            urls = await on_page(
                browser.execute_script,
                "return performance.getEntriesByType('resource').map(e => e.name)",
            )
            assert any("/tiles/" in u for u in urls)
            assert all(u.startswith(console.server.url) or u.startswith("ws://") for u in urls)
            await on_page(screenshot, browser, tmp_path / "tiles.png")

    asyncio.run(asyncio.wait_for(scenario(), 30))
