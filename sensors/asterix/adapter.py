"""`cuas adapter-asterix`: a radar's ASTERIX CAT-048 plots over UDP, as the camp's radar reports.

    cuas adapter-asterix --config camp.toml --sensor radar-1 --udp 127.0.0.1:8600 --sac 25

Each datagram is decoded (sensors/asterix/cat048.py has the field mapping); plots of other
radars (`--sac`/`--sic`) and other categories are left out. Plots are gathered into scans
by their time of day: all plots stamped with the same I048/140 form one wire report, sent
once a later time of day arrives or `--scan-timeout` after its first plot, so the tracker
never sees a scan cut in pieces (it would charge misses to the targets of the other piece).

Bad input never stops the adapter: an unreadable datagram, a record without position or
time, a plot out of the sensor's range, each is counted by reason (`rejects`) and logged at
most once per reason every 10 s. The heartbeat says `degraded` after `--stale-after` seconds
without a plot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import math
import socket
import struct
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from cuas.config import SensorConfig, load_config
from cuas.service.lifetime import release_signals, stop_on_signals
from cuas.wire import RadarDetection
from sensors.asterix.cat048 import Cat048Error, Plot, cat048, decode
from sensors.publisher import SensorPublisher

log = logging.getLogger("sensors.asterix")

COMMAND = "adapter-asterix"
NO_HEIGHT_SIGMA_EL_DEG = 30.0  # a 2D radar says nothing about elevation
MAX_QUEUED_SCANS = 1000
LOG_INTERVAL_S = 10.0
TOD_KEY = 128  # I048/140 has a resolution of 1/128 s: plots in one tick share a scan


def epoch_of_tod(tod_s: float, now: float) -> float:
    """UNIX time of a UTC time of day, on the date that puts it nearest `now` (so a plot
    stamped 23:59:59 and received at 00:00:01 belongs to yesterday)."""
    t = math.floor(now / 86400.0) * 86400.0 + tod_s
    if t - now > 43200.0:
        t -= 86400.0
    elif now - t > 43200.0:
        t += 86400.0
    return t


def detection_of(plot: Plot, sensor: SensorConfig) -> RadarDetection:
    """The wire detection of a plot: its elevation from the plot's height where it has one."""
    if plot.height_m is None:
        return RadarDetection(
            range_m=plot.range_m,
            az_deg=plot.az_deg,
            el_deg=0.0,
            sigma_el_deg=NO_HEIGHT_SIGMA_EL_DEG,
        )
    sine = (plot.height_m - sensor.alt_m) / plot.range_m
    el = math.degrees(math.asin(max(-1.0, min(1.0, sine))))
    return RadarDetection(range_m=plot.range_m, az_deg=plot.az_deg, el_deg=el)


class AsterixAdapter:
    """Datagrams in, scans out to the publisher; see the module docstring."""

    def __init__(
        self,
        sensor: SensorConfig,
        publisher: SensorPublisher,
        *,
        sac: int | None = None,
        sic: int | None = None,
        scan_timeout_s: float = 0.2,
        stale_after_s: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sensor = sensor
        self.publisher = publisher
        self.sac, self.sic = sac, sic
        self.scan_timeout_s = scan_timeout_s
        self.stale_after_s = stale_after_s
        self.clock = clock
        self.datagrams = 0
        self.plots = 0
        self.scans = 0
        self.rejects: Counter[str] = Counter()
        self._pending: dict[int, tuple[float, list[Plot]]] = {}  # tod key -> (first seen, plots)
        self._queue: asyncio.Queue[tuple[float, list[RadarDetection]]] = asyncio.Queue(
            MAX_QUEUED_SCANS
        )
        self._last_plot = time.monotonic()
        self._logged: dict[str, float] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # --- input --------------------------------------------------------------------------

    def datagram(self, data: bytes) -> None:
        """One UDP datagram: decoded, filtered, and its plots added to their scans."""
        self.datagrams += 1
        try:
            decoded = decode(data)
        except Cat048Error as exc:
            self._reject(exc.reason, exc.detail)
            return
        for reason in decoded.rejects:
            self._reject(reason, "in a CAT-048 record")
        if decoded.other_categories:
            self.rejects["other_category"] += decoded.other_categories
        for plot in decoded.plots:
            if (self.sac is not None and plot.sac != self.sac) or (
                self.sic is not None and plot.sic != self.sic
            ):
                self.rejects["other_radar"] += 1
                continue
            if not self.sensor.min_range_m <= plot.range_m <= self.sensor.max_range_m * 1.5:
                self._reject("out_of_range", f"plot at {plot.range_m:.0f} m")
                continue
            self._add(plot)

    def _add(self, plot: Plot) -> None:
        self.plots += 1
        self._last_plot = time.monotonic()
        key = round(plot.tod_s * TOD_KEY)
        now = time.monotonic()
        # A later time of day closes the scans before it (plots arrive in time order).
        for older in [k for k in self._pending if k < key]:
            self._flush(older)
        self._pending.setdefault(key, (now, []))[1].append(plot)

    def flush_due(self, now: float | None = None) -> None:
        """Send the scans whose first plot is older than the scan timeout."""
        now = time.monotonic() if now is None else now
        for key, (first, _) in list(self._pending.items()):
            if now - first >= self.scan_timeout_s:
                self._flush(key)

    def _flush(self, key: int) -> None:
        _, plots = self._pending.pop(key)
        t = epoch_of_tod(plots[0].tod_s, self.clock())
        detections = [detection_of(p, self.sensor) for p in plots]
        try:
            self._queue.put_nowait((t, detections))
        except asyncio.QueueFull:
            self._reject("queue_full", "the core is not keeping up")
            return
        self.scans += 1
        modes = sorted({p.mode3a for p in plots if p.mode3a})
        if modes:
            log.debug("%s: scan at %.3f with Mode-3/A %s", self.sensor.id, t, ", ".join(modes))

    def _reject(self, reason: str, detail: str) -> None:
        self.rejects[reason] += 1
        now = time.monotonic()
        if now - self._logged.get(reason, -math.inf) >= LOG_INTERVAL_S:
            self._logged[reason] = now
            log.warning(
                "%s: refused ASTERIX input (%s): %s (%d so far)",
                self.sensor.id,
                reason,
                detail,
                self.rejects[reason],
            )

    # --- running ------------------------------------------------------------------------

    async def listen_udp(self, host: str, port: int) -> tuple[str, int]:
        """Receive datagrams on host:port (a multicast group is joined); the bound address."""
        cat048()  # libasterix's import (over a second) at start-up, not on the first datagram
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind((host, port))
        if ipaddress.ip_address(host).is_multicast:
            group = struct.pack("4s4s", socket.inet_aton(host), socket.inet_aton("0.0.0.0"))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, group)
        transport, _ = await loop.create_datagram_endpoint(lambda: _Datagrams(self), sock=sock)
        self._transport = transport
        self._tasks = [
            asyncio.create_task(self._send_loop()),
            asyncio.create_task(self._tick_loop()),
        ]
        name = transport.get_extra_info("sockname")
        return name[0], name[1]

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        for key in sorted(self._pending):
            self._flush(key)
        # Let the send loop hand the last scans to the publisher (bounded wait).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                while not self._queue.empty():
                    await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _send_loop(self) -> None:
        while True:
            t, detections = await self._queue.get()
            await self.publisher.send_report(t, detections)

    async def _tick_loop(self) -> None:
        tick = min(0.05, self.scan_timeout_s / 2)
        while True:
            await asyncio.sleep(tick)
            self.flush_due()
            quiet = time.monotonic() - self._last_plot
            if quiet > self.stale_after_s:
                self.publisher.set_state("degraded", f"no ASTERIX plots for {quiet:.0f} s")
            else:
                self.publisher.set_state("ok")


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, adapter: AsterixAdapter) -> None:
        self.adapter = adapter

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.adapter.datagram(data)

    def error_received(self, exc: Exception) -> None:
        log.debug("%s: UDP error: %s", self.adapter.sensor.id, exc)


async def run(
    sensor: SensorConfig,
    ingest: str,
    host: str,
    port: int,
    *,
    sac: int | None = None,
    sic: int | None = None,
    scan_timeout_s: float = 0.2,
    stop: asyncio.Event | None = None,
    ready: Callable[[AsterixAdapter, tuple[str, int]], None] | None = None,
) -> AsterixAdapter:
    """Run the adapter until `stop` (by default: SIGINT or SIGTERM); returns it, for its counts."""
    own_signals = stop is None
    stop = stop_on_signals() if stop is None else stop
    try:
        async with SensorPublisher(sensor.id, "radar", ingest) as publisher:
            adapter = AsterixAdapter(
                sensor, publisher, sac=sac, sic=sic, scan_timeout_s=scan_timeout_s
            )
            address = await adapter.listen_udp(host, port)
            log.info("%s: ASTERIX CAT-048 on udp %s:%s -> %s", sensor.id, *address, ingest)
            if ready is not None:
                ready(adapter, address)
            try:
                await stop.wait()
            finally:
                await adapter.close()
            log.info(
                "%s: stopping: %d datagrams, %d plots, %d scans, rejects %s",
                sensor.id,
                adapter.datagrams,
                adapter.plots,
                adapter.scans,
                dict(adapter.rejects),
            )
            return adapter
    finally:
        if own_signals:
            release_signals()


def _hostport(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, not {text!r}")
    return host, int(port)


def add_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(COMMAND, help="a radar's ASTERIX CAT-048 plots (UDP) in")
    parser.add_argument("--config", required=True, help="camp configuration (TOML)")
    parser.add_argument("--sensor", required=True, help="id of this radar in the camp config")
    parser.add_argument("--udp", required=True, type=_hostport, metavar="HOST:PORT")
    parser.add_argument("--sac", type=int, help="only plots with this System Area Code")
    parser.add_argument("--sic", type=int, help="only plots with this System Identification Code")
    parser.add_argument("--ingest", metavar="ENDPOINT", help="default: zmq.ingest of the config")
    parser.add_argument("--scan-timeout", type=float, default=0.2, metavar="S")
    parser.set_defaults(func=run_command)
    return parser


def run_command(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    sensor = config.sensor(args.sensor)
    if sensor is None or sensor.kind != "radar":
        radars = ", ".join(s.id for s in config.sensors if s.kind == "radar") or "none"
        print(
            f"cuas {COMMAND}: no radar {args.sensor!r} in {args.config} (radars: {radars})",
            file=sys.stderr,
        )
        return 2
    host, port = args.udp
    ingest = args.ingest or config.zmq.ingest
    asyncio.run(
        run(
            sensor, ingest, host, port, sac=args.sac, sic=args.sic, scan_timeout_s=args.scan_timeout
        )
    )
    return 0
