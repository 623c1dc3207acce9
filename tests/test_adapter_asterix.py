"""`cuas adapter-asterix`: ASTERIX CAT-048 plots over real UDP become the camp's radar reports;
bad datagrams are counted, never fatal. Input is built with libasterix and, independently, taken
from a real capture shipped by asterix-decoder."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.asterix_decoder import sample_capture
from support.ingest_stub import BoundSub
from support.live import EXAMPLE, eventually

from cuas import wire
from cuas.config import load_config
from sensors.asterix import adapter as asterix_adapter
from sensors.asterix.adapter import epoch_of_tod
from sensors.asterix.cat048 import (
    UAP,
    Cat048Error,
    Plot,
    _decode,
    _decode_libasterix,
    cat048,
    decode,
    encode,
)

RADAR = load_config(EXAMPLE).sensor("radar-1")


class Reports(BoundSub):
    def __init__(self) -> None:
        super().__init__()
        self.reports: list[wire.RadarReport] = []

    def received(self, topic: bytes, payload: bytes) -> None:
        if topic.startswith(b"report."):
            self.reports.append(wire.decode_report(payload))


def tod(t: float) -> float:
    return t % 86400.0


def test_plots_survive_a_round_trip_through_cat048_to_its_resolution():
    plots = [
        Plot(25, 10, 45296.5, 1234.5, 45.25, height_m=700.0, mode3a="7000", typ=3),
        Plot(25, 10, 45296.5, 2999.0, 359.99),
    ]
    back = decode(encode(plots)).plots
    assert back[0].range_m == pytest.approx(1234.5, abs=1852 / 512)
    assert back[0].az_deg == pytest.approx(45.25, abs=0.003)
    assert back[0].height_m == pytest.approx(700.0, abs=25 * 0.3048 / 2)
    assert (back[0].mode3a, back[0].typ, back[1].mode3a) == ("7000", 3, None)


def test_a_time_of_day_lands_on_the_date_nearest_the_clock():
    midnight = 1_764_547_200.0  # 2025-12-01T00:00:00Z
    assert epoch_of_tod(10.0, midnight + 20.0) == midnight + 10.0
    assert epoch_of_tod(86399.0, midnight + 1.0) == midnight - 1.0  # yesterday's last second
    assert epoch_of_tod(1.0, midnight - 1.0) == midnight + 1.0  # a clock a little behind


plots = st.builds(
    Plot,
    sac=st.integers(0, 255),
    sic=st.integers(0, 255),
    tod_s=st.floats(0.0, 86399.99),
    range_m=st.floats(10.0, 400_000.0),
    az_deg=st.floats(0.0, 359.99),
    height_m=st.none() | st.floats(-1000.0, 20_000.0),
    mode3a=st.none() | st.integers(0, 0o7777).map(lambda c: f"{c:04o}"),
    typ=st.none() | st.integers(1, 7),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(plots, min_size=1, max_size=20))
def test_the_fast_path_reads_the_same_plots_as_libasterix(batch):
    data = encode(batch)
    assert _decode(data) == _decode_libasterix(data)


def test_the_fast_paths_item_lengths_are_the_editions():
    record = cat048().cv_record
    for (name, rule), item in zip(UAP, record.cv_items_list, strict=True):
        spec = item.cv_non_spare
        assert spec.cv_name == name
        size = getattr(spec.cv_rule.cv_variation, "cv_bit_size", None)
        if isinstance(rule, int):
            assert size == 8 * rule, name


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_decode_or_fail_with_a_reason(data):
    try:
        decode(data)
    except Cat048Error as exc:
        assert exc.reason in ("empty", "malformed")


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=64))
def test_a_corrupted_cat048_record_never_escapes_as_another_error(tail):
    good = encode([Plot(1, 2, 100.0, 900.0, 10.0)])
    data = good[:3] + tail
    data = data[:1] + len(data).to_bytes(2, "big") + data[3:]
    with contextlib.suppress(Cat048Error):
        decode(data)


def test_the_adapter_turns_udp_datagrams_into_scans_and_counts_bad_ones():
    async def scenario() -> None:
        async with Reports() as core:
            stop = asyncio.Event()
            ready: asyncio.Future[tuple[object, tuple[str, int]]] = (
                asyncio.get_running_loop().create_future()
            )
            running = asyncio.create_task(
                asterix_adapter.run(
                    RADAR,
                    core.endpoint,
                    "127.0.0.1",
                    0,
                    sac=25,
                    stop=stop,
                    ready=lambda a, addr: ready.set_result((a, addr)),
                )
            )
            adapter, address = await asyncio.wait_for(ready, 5)
            await asyncio.wait_for(adapter.publisher.wait_connected(), 5)
            now = time.time()
            one = [Plot(25, 10, tod(now), 900.0, 10.0, height_m=700.0)]
            two = [Plot(25, 10, tod(now), 1500.0, 200.0), Plot(25, 10, tod(now), 2000.0, 300.0)]
            later = [Plot(25, 10, tod(now + 1.0), 910.0, 10.5)]
            other_radar = [Plot(26, 10, tod(now + 1.0), 900.0, 10.0)]
            cat062ish = b"\x3e\x00\x05\x00\x00"
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as radar:
                for datagram in (
                    encode(one),
                    b"\x30\xff\xff garbage",
                    b"",
                    encode(two)[:-2],  # truncated
                    encode(two),
                    cat062ish,
                    encode(other_radar),
                    encode(later),
                ):
                    radar.sendto(datagram, address)
            await eventually(lambda: len(core.reports) >= 2, 5, "two scans at the core")
            stop.set()
            await running

        first, second = core.reports[:2]
        # The three plots stamped with one time of day are one scan, in one report.
        assert len(first.detections) == 3
        assert first.t == pytest.approx(now, abs=1 / 128)
        assert sorted(d.range_m for d in first.detections) == pytest.approx(
            [900.0, 1500.0, 2000.0], abs=4.0
        )
        near = min(first.detections, key=lambda d: d.range_m)
        # Elevation from the 3D height: 700 m high seen from the 615 m mast, 900 m away.
        assert near.el_deg == pytest.approx(5.42, abs=0.3)
        assert [d.range_m for d in second.detections] == pytest.approx([910.0], abs=4.0)
        # 2D plots say nothing about elevation: a wide sigma, not a false certainty.
        assert all(d.sigma_el_deg == 30.0 for d in first.detections if d is not near)
        assert adapter.rejects["malformed"] == 2
        assert adapter.rejects["empty"] == 1
        assert adapter.rejects["other_radar"] == 1
        assert adapter.rejects["other_category"] == 1

    asyncio.run(scenario())


def test_a_real_capture_from_asterix_decoder_becomes_a_radar_report():
    capture = sample_capture("cat048.raw")  # SAC 25 SIC 201, 197.68 NM, FL330, Mode-3/A 1000
    # It holds items we skip (220, 240, 250, 161, 200, 170, 230): both decoders agree.
    assert _decode(capture) == _decode_libasterix(capture)
    assert _decode(capture).plots[0].mode3a == "1000"
    far_radar = msgspec.structs.replace(RADAR, max_range_m=400_000.0)

    async def scenario() -> list[wire.RadarReport]:
        async with Reports() as core:
            stop = asyncio.Event()
            ready: asyncio.Future[tuple[object, tuple[str, int]]] = (
                asyncio.get_running_loop().create_future()
            )
            running = asyncio.create_task(
                asterix_adapter.run(
                    far_radar,
                    core.endpoint,
                    "127.0.0.1",
                    0,
                    stop=stop,
                    ready=lambda a, addr: ready.set_result((a, addr)),
                    scan_timeout_s=0.1,
                )
            )
            adapter, address = await asyncio.wait_for(ready, 5)
            await asyncio.wait_for(adapter.publisher.wait_connected(), 5)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as radar:
                radar.sendto(capture, address)
            await eventually(lambda: len(core.reports) >= 1, 5, "the capture's scan")
            stop.set()
            await running
            return core.reports

    [report] = asyncio.run(scenario())
    [plot] = report.detections
    assert plot.range_m == pytest.approx(197.68359375 * 1852.0)
    assert plot.az_deg == pytest.approx(340.13671875)
    assert plot.el_deg == pytest.approx(1.47, abs=0.05)  # FL330 at 366 km, flat earth
    assert report.t % 86400.0 == pytest.approx(27354.6015625)
