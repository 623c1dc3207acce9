"""The JSON-lines radar adapter: vendor plots in, wire reports out (sensors/radar_jsonl/).

Parsing, grouping and line framing are specified first on their own; then the adapter runs
over real loopback sockets (UDP datagrams, TCP in both directions) into a real bound SUB
socket standing in for the core, and finally the command line runs as a separate process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from support.ingest_stub import BoundSub

from cuas import wire
from cuas.config import SensorConfig
from cuas.wire import decode_report, decode_status
from sensors.publisher import SensorPublisher
from sensors.radar_jsonl.adapter import RadarJsonlAdapter, RadarJsonlOptions
from sensors.radar_jsonl.command import COMMAND, add_command, main
from sensors.radar_jsonl.plots import (
    FieldMap,
    Plot,
    PlotError,
    PlotParser,
    detections_of,
    parse_field_override,
    true_azimuth,
)
from sensors.radar_jsonl.scans import ScanGrouper
from sensors.transport import LineBuffer, parse_hostport

T0 = 1764000000.25
ROOT = Path(__file__).resolve().parent.parent
RADAR = SensorConfig(id="radar-1", kind="radar", lat=8.65, lon=24.5, boresight_az_deg=90.0)
FAST = RadarJsonlOptions(scan_timeout_s=0.1, backoff_min_s=0.05, backoff_max_s=0.2)


def line(**fields: Any) -> bytes:
    """One vendor plot line; the example of the module docstring, with overrides."""
    plot = {
        "time": T0,
        "range": 1523.4,
        "azimuth": -12.5,
        "elevation": 3.1,
        "radial_velocity": -7.2,
        "rcs": -18.0,
        "track_id": 17,
        "scan": 1842,
    }
    plot.update(fields)
    return json.dumps({k: v for k, v in plot.items() if v is not ...}).encode() + b"\n"


# --- plots --------------------------------------------------------------------------


def test_a_vendor_plot_becomes_a_detection_with_a_true_north_azimuth() -> None:
    plot = PlotParser(boresight_az_deg=90.0).parse(line(azimuth=-100.0))
    assert plot == Plot(
        t=T0,
        range_m=1523.4,
        az_deg=350.0,
        el_deg=3.1,
        range_rate_mps=-7.2,
        rcs_dbsm=-18.0,
        scan=1842,
    )


@given(
    boresight=st.floats(0.0, 360.0),
    relative=st.floats(-360.0, 360.0),
)
@example(boresight=0.0, relative=-1e-17)  # naive `% 360` gives 360.0 here
@example(boresight=360.0, relative=0.0)
def test_true_azimuth_is_in_0_360_and_points_the_same_way(
    boresight: float, relative: float
) -> None:
    az = true_azimuth(boresight, relative)
    assert 0.0 <= az < 360.0
    off = (az - boresight - relative) % 360.0
    assert min(off, 360.0 - off) < 1e-9
    parsed = PlotParser(boresight).parse(line(azimuth=relative))
    assert parsed.az_deg == az
    report = wire.RadarReport(v=1, sensor_id="radar-1", seq=0, t=T0, detections=[])
    report.detections = detections_of([parsed], T0)
    assert decode_report(wire.to_msgpack(report)).detections[0].az_deg == az  # the core agrees


def test_common_vendor_names_are_understood_without_configuration() -> None:
    text = b'{"t": 1764000000.5, "rng": 800, "bearing": 10, "el": 2, "doppler": 3, "frame": "a7"}'
    plot = PlotParser(boresight_az_deg=0.0).parse(text)
    assert (plot.t, plot.range_m, plot.az_deg, plot.el_deg) == (1764000000.5, 800.0, 10.0, 2.0)
    assert (plot.range_rate_mps, plot.rcs_dbsm, plot.scan) == (3.0, None, "a7")


def test_a_vendors_own_names_are_configured_per_field() -> None:
    fields = FieldMap().with_overrides(dict([parse_field_override("azimuth=brg, az_rel")]))
    parser = PlotParser(0.0, fields)
    assert parser.parse(line(azimuth=..., brg=45.0)).az_deg == 45.0
    assert parser.parse(line(azimuth=..., az_rel=46.0)).az_deg == 46.0
    with pytest.raises(PlotError) as err:
        parser.parse(line())  # `azimuth` itself is no longer one of the names
    assert err.value.reason == "missing_field"
    for bad in ("azimuth", "azimuth=", "=brg", "heading=brg"):
        with pytest.raises(ValueError):
            parse_field_override(bad)


def test_an_inverted_radial_velocity_is_turned_into_a_range_rate() -> None:
    parser = PlotParser(0.0, invert_radial_velocity=True)
    assert parser.parse(line(radial_velocity=5.0)).range_rate_mps == -5.0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b"not json at all", "not_json"),
        (b'{"time": 1764000000.0, "range": ', "not_json"),
        (b"\xff\xfe\x00garbage", "not_json"),
        (b"[1, 2, 3]", "not_object"),
        (line(range=...), "missing_field"),
        (line(elevation=None), "missing_field"),
        (line(azimuth="12.5"), "wrong_type"),
        (line(range=True), "wrong_type"),
        (line(scan=1.5), "wrong_type"),
        (line(range=float("nan")), "not_finite"),
        (line(radial_velocity=float("-inf")), "not_finite"),
        (line(range=0.0), "out_of_range"),
        (line(range=-5.0), "out_of_range"),
        (line(elevation=95.0), "out_of_range"),
        (line(azimuth=400.0), "out_of_range"),
        (line(time=1764000000250), "out_of_range"),  # milliseconds
        (line(rcs=10**400), "out_of_range"),
    ],
)
def test_a_bad_line_is_refused_with_a_reason(text: bytes, reason: str) -> None:
    with pytest.raises(PlotError) as err:
        PlotParser(0.0).parse(text)
    assert err.value.reason == reason


def test_a_plot_measured_later_than_its_report_keeps_its_own_time() -> None:
    plots = [Plot(T0, 100.0, 1.0, 1.0), Plot(T0 + 0.5, 200.0, 2.0, 1.0, range_rate_mps=-3.0)]
    first, second = detections_of(plots, T0)
    assert (first.t, second.t, second.range_rate_mps) == (None, T0 + 0.5, -3.0)


# --- grouping and framing -------------------------------------------------------------


def p(t: float = T0, scan: int | None = None) -> Plot:
    return Plot(t, 100.0, 1.0, 1.0, scan=scan)


def test_plots_are_grouped_by_scan_then_by_time_and_flushed_when_quiet() -> None:
    grouper = ScanGrouper(timeout_s=0.2, max_plots=3)
    assert grouper.add(p(T0, 1), 0.0) == []
    assert grouper.add(p(T0 + 0.1, 1), 0.0) == []  # same scan, later plot
    assert grouper.add(p(T0 + 1, 2), 0.0) == [[p(T0, 1), p(T0 + 0.1, 1)]]
    assert grouper.due(0.1) is None
    assert grouper.due(0.2) == [p(T0 + 1, 2)]  # quiet for the timeout
    assert grouper.add(p(T0 + 2), 1.0) == [] and grouper.add(p(T0 + 2), 1.0) == []
    assert grouper.add(p(T0 + 3), 1.0) == [[p(T0 + 2), p(T0 + 2)]]  # no scan: same time
    assert grouper.add(p(T0 + 3), 1.0) == [] and grouper.add(p(T0 + 3), 1.0) == [[p(T0 + 3)] * 3]
    assert grouper.flush() is None


def test_a_byte_stream_is_split_into_lines_and_overlong_lines_are_skipped() -> None:
    buffer = LineBuffer(max_bytes=10)
    assert buffer.feed(b"one\ntw") == [b"one"]
    assert buffer.feed(b"o\nthree\r\n") == [b"two", b"three\r"]
    assert buffer.feed(b"x" * 11) == [] and buffer.too_long == 1
    assert buffer.feed(b"yyy\nfour\n") == [b"four"] and buffer.too_long == 0
    assert buffer.feed(b"z" * 12 + b"\nfive") == [] and buffer.too_long == 1
    assert buffer.end() == [b"five"]


# --- over real sockets ----------------------------------------------------------------


def run(scenario: Coroutine[Any, Any, None], timeout: float = 5.0) -> None:
    """Run one async scenario, never longer than `timeout`."""
    asyncio.run(asyncio.wait_for(scenario, timeout))


class Core(BoundSub):
    """Decodes radar-1's reports and heartbeats into queues the tests wait on."""

    def __init__(self) -> None:
        super().__init__()
        self.reports: asyncio.Queue[wire.Report] = asyncio.Queue()
        self.statuses: asyncio.Queue[wire.Status] = asyncio.Queue()

    def received(self, topic: bytes, payload: bytes) -> None:
        if topic == b"report.radar-1":
            self.reports.put_nowait(decode_report(payload))
        elif topic == b"status.radar-1":
            self.statuses.put_nowait(decode_status(payload))

    async def report(self, timeout: float = 2.0) -> wire.RadarReport:
        report = await asyncio.wait_for(self.reports.get(), timeout)
        assert isinstance(report, wire.RadarReport)
        return report

    async def status_where(
        self, condition: Callable[[wire.Status], bool], timeout: float = 2.0
    ) -> wire.Status:
        async with asyncio.timeout(timeout):
            while not condition(status := await self.statuses.get()):
                pass
        return status


class Radar:
    """A running adapter for radar-1 (boresight 90°) publishing to `core`."""

    def __init__(self, core: Core, options: RadarJsonlOptions = FAST) -> None:
        self.publisher = SensorPublisher("radar-1", "radar", core.endpoint, 0.2)
        self.adapter = RadarJsonlAdapter(RADAR, self.publisher, options)

    async def __aenter__(self) -> RadarJsonlAdapter:
        await self.publisher.start()
        await self.adapter.start()  # as `run` does: the first heartbeat carries its state
        assert await self.publisher.wait_connected(2.0)
        return self.adapter

    async def __aexit__(self, *exc: object) -> None:
        await self.adapter.close()
        await self.publisher.close()


class UdpRadar:
    """A radar sending datagrams of plot lines to `address`."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def __enter__(self) -> Callable[[bytes], None]:
        return lambda data: self.sock.sendto(data, self.address) and None

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def test_udp_datagrams_become_one_report_per_scan_in_true_north() -> None:
    async def scenario() -> None:
        async with Core() as core, Radar(core) as adapter:
            with UdpRadar(await adapter.listen_udp("127.0.0.1", 0)) as send:
                send(line(azimuth=-100.0, scan=7) + line(azimuth=10.0, time=T0 + 0.2, scan=7))
                send(line(azimuth=0.0, time=T0 + 1.0, scan=8))  # starts scan 8: scan 7 is done
                first = await core.report(timeout=0.5)
                assert (first.seq, first.t) == (0, T0)
                assert [(d.az_deg, d.t) for d in first.detections] == [
                    (350.0, None),
                    (100.0, T0 + 0.2),
                ]
                assert first.detections[0].range_m == 1523.4
                assert first.detections[0].range_rate_mps == -7.2
                second = await core.report(timeout=0.5)  # scan 8 after the quiet timeout
                assert (second.seq, second.t) == (1, T0 + 1)
                assert [d.az_deg for d in second.detections] == [90.0]
                assert (adapter.lines, adapter.plots, adapter.scans) == (3, 3, 2)

    run(scenario())


def test_malformed_lines_are_counted_by_reason_while_good_lines_flow(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        async with Core() as core, Radar(core) as adapter:
            with UdpRadar(await adapter.listen_udp("127.0.0.1", 0)) as send:
                for scan in range(3):
                    send(
                        b"garbage\n"
                        + line(range=float("nan"), scan=scan)
                        + line(azimuth=0.0, scan=scan)
                        + line(range=...)
                        + b"\n   \n"  # blank lines are not plots, nor errors
                        + line(azimuth=5.0, scan=scan)
                    )
                reports = [await core.report() for _ in range(3)]
                assert [[d.az_deg for d in r.detections] for r in reports] == [[90.0, 95.0]] * 3
                assert adapter.rejects.by_reason() == {
                    "not_json": 3,
                    "not_finite": 3,
                    "missing_field": 3,
                }
                assert adapter.rejects.total == 3 * 3 and adapter.plots == 6

    with caplog.at_level(logging.WARNING, logger="sensors.radar_jsonl"):
        run(scenario())
    warned = [r.getMessage() for r in caplog.records if r.name == "sensors.radar_jsonl"]
    assert len(warned) == 3  # once per reason, not once per line
    assert all("bad line from radar-1" in m for m in warned)


def test_tcp_listen_takes_several_radars_connections_and_split_lines() -> None:
    async def scenario() -> None:
        slow = RadarJsonlOptions(scan_timeout_s=5.0)  # only the end of a connection flushes
        async with Core() as core, Radar(core, slow) as adapter:
            host, port = await adapter.listen_tcp("127.0.0.1", 0)
            _, one = await asyncio.open_connection(host, port)
            _, two = await asyncio.open_connection(host, port)
            text = line(azimuth=-90.0, scan=1)
            one.write(text[:20])
            await one.drain()
            two.write(line(azimuth=30.0, time=T0 + 5, scan=2))
            await two.drain()
            await asyncio.sleep(0.05)
            one.write(text[20:] + line(azimuth=-80.0, scan=1))
            for writer in (one, two):
                writer.close()
                await writer.wait_closed()
            reports = sorted([await core.report(), await core.report()], key=lambda r: r.t)
            assert [[d.az_deg for d in r.detections] for r in reports] == [[0.0, 10.0], [120.0]]
            assert adapter.rejects.total == 0

    run(scenario())


def test_tcp_client_reconnects_after_the_radar_closes_the_connection() -> None:
    async def scenario() -> None:
        connections = 0

        async def radar(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            writer.write(line(azimuth=float(connections), time=T0 + connections, scan=connections))
            await writer.drain()
            writer.close()  # the radar drops every connection after one plot

        server = await asyncio.start_server(radar, "127.0.0.1", 0)
        host, port = server.sockets[0].getsockname()[:2]
        async with server, Core() as core, Radar(core) as adapter:
            await adapter.connect_tcp(host, port)
            first, second = await core.report(), await core.report()
            assert [first.detections[0].az_deg, second.detections[0].az_deg] == [91.0, 92.0]
            assert (first.seq, second.seq) == (0, 1)

    run(scenario())


def test_tcp_client_reports_degraded_while_the_radar_is_unreachable() -> None:
    async def scenario() -> None:
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]  # nothing listens here
            async with Core() as core, Radar(core) as adapter:
                await adapter.connect_tcp("127.0.0.1", port)
                status = await core.status_where(lambda s: "not connected" in s.detail)
                assert status.state == "degraded"
                assert f"127.0.0.1:{port}" in status.detail

    run(scenario())


def test_the_heartbeat_is_ok_while_plots_flow_and_degraded_when_they_stop() -> None:
    async def scenario() -> None:
        options = RadarJsonlOptions(scan_timeout_s=0.1, stale_after_s=0.4)
        async with Core() as core, Radar(core, options) as adapter:
            waiting = await core.status_where(lambda s: True)
            assert (waiting.state, waiting.detail) == ("degraded", "no data from the radar yet")
            with UdpRadar(await adapter.listen_udp("127.0.0.1", 0)) as send:
                send(line())
                await core.status_where(lambda s: s.state == "ok")

                async def only_bad_lines() -> None:  # lines still come, but none is a plot
                    while True:
                        send(b"{}\n")
                        await asyncio.sleep(0.05)

                bad = asyncio.create_task(only_bad_lines())
                status = await core.status_where(lambda s: s.state == "degraded")
                assert (
                    status.detail == "no valid plot for over 0.4 s (lines rejected: missing_field)"
                )
                bad.cancel()
                status = await core.status_where(lambda s: s.detail != status.detail)
                assert (status.state, status.detail) == (
                    "degraded",
                    "no data from the radar for over 0.4 s",
                )

    run(scenario())


# --- command line ---------------------------------------------------------------------


def camp(tmp_path: Path, ingest: str) -> Path:
    path = tmp_path / "camp.toml"
    path.write_text(
        f"""camp_id = "test"
origin = {{ lat = 8.65, lon = 24.5 }}
[zmq]
ingest = "{ingest}"
[[sensors]]
id = "radar-1"
kind = "radar"
lat = 8.65
lon = 24.5
boresight_az_deg = 90.0
[[sensors]]
id = "rf-1"
kind = "rf"
lat = 8.65
lon = 24.5
"""
    )
    return path


def test_the_command_publishes_to_the_configured_ingest_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            address = probe.getsockname()
        async with Core() as core:
            config = camp(tmp_path, core.endpoint)
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            udp = f"{address[0]}:{address[1]}"
            args = ["--config", str(config), "--sensor", "radar-1", "--udp", udp]
            command = [sys.executable, "-m", "sensors.radar_jsonl", *args]
            process = await asyncio.create_subprocess_exec(
                *command, env=env, stderr=asyncio.subprocess.PIPE
            )
            try:
                with UdpRadar(address) as send:
                    async with asyncio.timeout(4.0):
                        for scan in range(1000):  # until the adapter is up and subscribed
                            send(line(azimuth=-100.0, scan=scan))
                            try:
                                report = await core.report(timeout=0.1)
                                break
                            except TimeoutError:
                                pass
                    assert [d.az_deg for d in report.detections] == [350.0]
                    process.send_signal(signal.SIGTERM)
                    _, stderr = await asyncio.wait_for(process.communicate(), 3.0)
                    assert process.returncode == 0, stderr.decode()
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()

    run(scenario(), timeout=10.0)


def test_the_command_refuses_a_sensor_that_is_no_radar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(camp(tmp_path, "tcp://127.0.0.1:1"))
    assert main(["--config", config, "--sensor", "rf-1", "--udp", "127.0.0.1:0"]) == 2
    assert "not a radar" in capsys.readouterr().err
    assert main(["--config", config, "--sensor", "radar-9", "--udp", "127.0.0.1:0"]) == 2
    assert "no sensor 'radar-9'" in capsys.readouterr().err
    assert (
        main(
            [
                "--config",
                str(tmp_path / "missing.toml"),
                "--sensor",
                "radar-1",
                "--udp",
                "127.0.0.1:0",
            ]
        )
        == 2
    )
    assert "bad configuration" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--config", config, "--sensor", "radar-1", "--udp", "nowhere"])


def test_the_command_registers_as_a_cuas_subcommand() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="cuas")
    add_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(
        [
            COMMAND,
            "--config",
            "c.toml",
            "--sensor",
            "radar-1",
            "--tcp-connect",
            "[::1]:4001",
            "--field",
            "azimuth=brg",
            "--ingest",
            "tcp://127.0.0.1:6000",
        ]
    )
    assert (args.tcp_connect, args.field, args.ingest) == (
        ("::1", 4001),
        [("azimuth", ("brg",))],
        "tcp://127.0.0.1:6000",
    )
    assert callable(args.func)
    assert parse_hostport("0.0.0.0:4001") == ("0.0.0.0", 4001)
