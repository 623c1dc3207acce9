"""Adapter for radars that export plots as line-delimited JSON (JSONL) over UDP or TCP.

Many small drone-detection radars stream one JSON object per detected plot, one per line:

    {"time": 1764000000.25, "range": 1523.4, "azimuth": -12.5, "elevation": 3.1,
     "radial_velocity": -7.2, "rcs": -18.0, "track_id": 17, "scan": 1842}

This adapter reads such a stream (listening on a UDP port, listening on a TCP port for one
or more connections, or connecting to the radar as a TCP client and reconnecting with
backoff), turns each plot into a `RadarDetection`, groups a scan's plots into one wire
report and publishes it through `SensorPublisher`.

Accepted fields (the first name present in a line wins; `null` counts as absent):

| field           | default names                                    | unit, convention            |
|-----------------|--------------------------------------------------|-----------------------------|
| time            | `time`, `t`, `timestamp`                         | UNIX epoch s, UTC; required |
| range           | `range`, `range_m`, `rng`                        | m, > 0; required            |
| azimuth         | `azimuth`, `az`, `bearing`                       | deg, see below; required    |
| elevation       | `elevation`, `el`, `elev`                        | deg up; required            |
| radial_velocity | `radial_velocity`, `vr`, `doppler`, `range_rate` | m/s, + receding             |
| rcs             | `rcs`, `rcs_dbsm`                                | dBsm                        |
| snr             | `snr`, `snr_db`                                  | dB                          |
| scan            | `scan`, `scan_id`, `frame`                       | integer or string           |

`azimuth` is relative to the radar's boresight, positive clockwise, in -360..360; elevation
is in -90..90. A radar that reports approaching targets with a positive velocity needs
`--invert-radial-velocity` (the wire's `range_rate_mps` is positive when range grows). The
wire has no SNR field: `snr` only serves the optional `--min-snr` filter.

Another vendor's names are configured per field, replacing the defaults for that field:
`--field azimuth=brg,bearing_rel --field radial_velocity=vel`. Other fields (`track_id`, a
vendor's own extras) are ignored: the core tracks plots itself.

The azimuth is converted to the true-north azimuth of the wire as
`(boresight_az_deg + azimuth) mod 360`, in [0, 360), with the sensor's `boresight_az_deg`
from the camp configuration. The elevation is passed through (the configuration has no
boresight tilt).

Plots are grouped into one report per scan: by the `scan` field when present, otherwise by
identical `time`. A scan is published when a plot of another scan arrives, when no plot has
arrived for `scan_timeout_s` (0.2 s), when it reaches `max_plots_per_report`, or when its TCP
connection closes. The report's `t` is the earliest plot time; a plot measured later keeps
its own `t`. A bad line (not JSON, missing field, wrong type, NaN or infinity, out of range,
too long) is counted per reason and logged at most once per reason per interval; it never
stops the adapter. The heartbeat says `degraded` while no valid plot has arrived for
`stale_after_s` (a radar that is silent when the sky is empty will show this too) and, in
client mode, while the radar is not connected.

    python -m sensors.radar_jsonl --config CAMP.toml --sensor radar-1 --udp 0.0.0.0:4001
    cuas adapter-radar-jsonl --config CAMP.toml --sensor radar-1 --tcp-connect 10.0.0.7:4001
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import socket
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Literal, Self

from cuas.config import ConfigError, SensorConfig, load_config
from cuas.fusion.reject_log import RejectLog
from cuas.service.lifetime import release_signals, stop_on_signals
from cuas.wire import RadarDetection, SensorState
from sensors.publisher import SensorPublisher, add_curve_argument, curve_options

log = logging.getLogger("sensors.radar_jsonl")

COMMAND = "adapter-radar-jsonl"

DEFAULT_ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "time": ("time", "t", "timestamp"),
        "range": ("range", "range_m", "rng"),
        "azimuth": ("azimuth", "az", "bearing"),
        "elevation": ("elevation", "el", "elev"),
        "radial_velocity": ("radial_velocity", "vr", "doppler", "range_rate"),
        "rcs": ("rcs", "rcs_dbsm"),
        "snr": ("snr", "snr_db"),
        "scan": ("scan", "scan_id", "frame"),
    }
)

# Inclusive bounds, the wire schema's where the field maps onto one (so a plot that passes
# here is never rejected by the core). The lowest range is the smallest positive float.
_BOUNDS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "time": (0.0, 1.0e11),
        "range": (math.nextafter(0.0, 1.0), 1.0e6),
        "azimuth": (-360.0, 360.0),
        "elevation": (-90.0, 90.0),
        "radial_velocity": (-3000.0, 3000.0),
        "rcs": (-300.0, 300.0),
        "snr": (-300.0, 300.0),
    }
)
MAX_SCAN_ID_CHARS = 128
EXCERPT_CHARS = 80


# --- plots ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldMap:
    """For each plot field, the names a vendor may use for it, in order of preference."""

    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: DEFAULT_ALIASES)

    def with_overrides(self, overrides: Mapping[str, Sequence[str]]) -> FieldMap:
        """A copy where each overridden field accepts exactly the given names."""
        unknown = set(overrides) - set(DEFAULT_ALIASES)
        if unknown:
            raise ValueError(
                f"unknown plot field(s) {sorted(unknown)}; known: {', '.join(DEFAULT_ALIASES)}"
            )
        merged = dict(self.aliases)
        for name, aliases in overrides.items():
            if not aliases or not all(aliases):
                raise ValueError(f"field {name!r} needs at least one non-empty name")
            merged[name] = tuple(aliases)
        return FieldMap(MappingProxyType(merged))

    def lookup(self, obj: Mapping[str, Any], name: str) -> tuple[str, Any] | None:
        """The first (vendor name, value) present and not null for field `name`."""
        for alias in self.aliases[name]:
            value = obj.get(alias)
            if value is not None:
                return alias, value
        return None


def parse_field_override(text: str) -> tuple[str, tuple[str, ...]]:
    """`"azimuth=brg,bearing"` → `("azimuth", ("brg", "bearing"))` (the `--field` syntax)."""
    name, sep, names = text.partition("=")
    aliases = tuple(a.strip() for a in names.split(","))
    if not sep or not name.strip() or not all(aliases):
        raise ValueError(f"expected FIELD=NAME[,NAME...], not {text!r}")
    if name.strip() not in DEFAULT_ALIASES:
        raise ValueError(
            f"unknown plot field {name.strip()!r}; known: {', '.join(DEFAULT_ALIASES)}"
        )
    return name.strip(), aliases


def true_azimuth(boresight_az_deg: float, relative_az_deg: float) -> float:
    """A boresight-relative azimuth (clockwise) as a true-north azimuth in [0, 360)."""
    az = (boresight_az_deg + relative_az_deg) % 360.0
    return 0.0 if az >= 360.0 else az  # -1e-17 % 360 rounds to 360.0


class PlotError(ValueError):
    """A line that is not a usable plot; `reason` is a short key for the reject counter."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Plot:
    """One validated plot, angles already in the wire's frame (true north)."""

    t: float
    range_m: float
    az_deg: float
    el_deg: float
    range_rate_mps: float | None = None
    rcs_dbsm: float | None = None
    snr_db: float | None = None
    scan: int | str | None = None


class PlotParser:
    """Parses and validates one JSON line into a `Plot` for a radar with a given boresight."""

    def __init__(
        self,
        boresight_az_deg: float = 0.0,
        fields: FieldMap | None = None,
        *,
        invert_radial_velocity: bool = False,
    ) -> None:
        self.boresight_az_deg = boresight_az_deg
        self.fields = fields or FieldMap()
        self.velocity_sign = -1.0 if invert_radial_velocity else 1.0

    def parse(self, line: bytes | str) -> Plot:
        """The plot on `line`, or `PlotError` saying why not."""
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, nesting
            raise PlotError("not_json", f"{exc} in {_excerpt(line)}") from None
        if not isinstance(obj, dict):
            raise PlotError("not_object", f"a JSON {type(obj).__name__}, not an object")
        t = self._required(obj, "time")
        range_m = self._required(obj, "range")
        azimuth = self._required(obj, "azimuth")
        elevation = self._required(obj, "elevation")
        radial_velocity = self._optional(obj, "radial_velocity")
        return Plot(
            t=t,
            range_m=range_m,
            az_deg=true_azimuth(self.boresight_az_deg, azimuth),
            el_deg=elevation,
            range_rate_mps=None
            if radial_velocity is None
            else self.velocity_sign * radial_velocity,
            rcs_dbsm=self._optional(obj, "rcs"),
            snr_db=self._optional(obj, "snr"),
            scan=self._scan(obj),
        )

    def _required(self, obj: Mapping[str, Any], name: str) -> float:
        found = self.fields.lookup(obj, name)
        if found is None:
            raise PlotError("missing_field", f"no {name} ({'/'.join(self.fields.aliases[name])})")
        return self._number(name, *found)

    def _optional(self, obj: Mapping[str, Any], name: str) -> float | None:
        found = self.fields.lookup(obj, name)
        return None if found is None else self._number(name, *found)

    @staticmethod
    def _number(name: str, alias: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PlotError("wrong_type", f"{alias} is a {type(value).__name__}, not a number")
        try:
            number = float(value)
        except OverflowError:
            raise PlotError("out_of_range", f"{alias} = {value} is out of range") from None
        if not math.isfinite(number):
            raise PlotError("not_finite", f"{alias} = {number}")
        lo, hi = _BOUNDS[name]
        if not lo <= number <= hi:
            hint = " (milliseconds? expected seconds)" if name == "time" and number > hi else ""
            raise PlotError("out_of_range", f"{alias} = {number:g} not in [{lo:g}, {hi:g}]{hint}")
        return number

    def _scan(self, obj: Mapping[str, Any]) -> int | str | None:
        found = self.fields.lookup(obj, "scan")
        if found is None:
            return None
        alias, value = found
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise PlotError("wrong_type", f"{alias} is a {type(value).__name__}, not an integer")
        if isinstance(value, str) and not 0 < len(value) <= MAX_SCAN_ID_CHARS:
            raise PlotError("out_of_range", f"{alias} must have 1..{MAX_SCAN_ID_CHARS} characters")
        return value


def _excerpt(line: bytes | str) -> str:
    text = repr(line[:EXCERPT_CHARS])
    return text + ("..." if len(line) > EXCERPT_CHARS else "")


def detections_of(plots: Sequence[Plot], t: float) -> list[RadarDetection]:
    """Wire detections of a scan reported at `t`; a plot measured at another time keeps it."""
    return [
        RadarDetection(
            range_m=p.range_m,
            az_deg=p.az_deg,
            el_deg=p.el_deg,
            range_rate_mps=p.range_rate_mps,
            rcs_dbsm=p.rcs_dbsm,
            t=None if p.t == t else p.t,
        )
        for p in plots
    ]


# --- grouping plots into scans --------------------------------------------------------


class ScanGrouper:
    """Collects consecutive plots of one scan; hands each scan back once it is complete.

    A plot's scan is its `scan` field, or its time when it has none. `now` is a monotonic
    clock reading, used only for the idle timeout.
    """

    def __init__(self, timeout_s: float = 0.2, max_plots: int = 5000) -> None:
        self.timeout_s = timeout_s
        self.max_plots = max_plots
        self._plots: list[Plot] = []
        self._key: object = None
        self._last_added = 0.0

    def add(self, plot: Plot, now: float) -> list[list[Plot]]:
        """Add a plot; return the scans it completed (the previous one, or a full one)."""
        done: list[list[Plot]] = []
        key = ("scan", plot.scan) if plot.scan is not None else ("time", plot.t)
        if self._plots and key != self._key:
            done.append(self._take())
        self._key = key
        self._plots.append(plot)
        self._last_added = now
        if len(self._plots) >= self.max_plots:
            done.append(self._take())
        return done

    def due(self, now: float) -> list[Plot] | None:
        """The pending scan if no plot has arrived for `timeout_s`."""
        if self._plots and now - self._last_added >= self.timeout_s:
            return self._take()
        return None

    def flush(self) -> list[Plot] | None:
        """The pending scan, whatever its age (end of stream)."""
        return self._take() if self._plots else None

    def _take(self) -> list[Plot]:
        plots, self._plots = self._plots, []
        return plots


class LineBuffer:
    """Splits a byte stream into lines; a line longer than `max_bytes` is skipped whole."""

    def __init__(self, max_bytes: int = 65536) -> None:
        self.max_bytes = max_bytes
        self.too_long = 0  # lines skipped since the last call to `feed`/`end`
        self._buffer = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> list[bytes]:
        """The complete lines in `data` plus what came before; keeps the partial rest."""
        self.too_long = 0
        lines: list[bytes] = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                break
            if self._skipping:
                self._skipping = False
            elif len(self._buffer) + end - start > self.max_bytes:
                self.too_long += 1
                self._buffer.clear()
            else:
                lines.append(
                    bytes(self._buffer + data[start:end]) if self._buffer else data[start:end]
                )
                self._buffer.clear()
            start = end + 1
        if not self._skipping:
            self._buffer += data[start:]
            if len(self._buffer) > self.max_bytes:
                self.too_long += 1
                self._buffer.clear()
                self._skipping = True
        return lines

    def end(self) -> list[bytes]:
        """At end of stream: the last line if it had no newline."""
        self.too_long = 0
        rest, self._skipping = bytes(self._buffer), False
        self._buffer.clear()
        return [rest] if rest.strip() else []


# --- the adapter ----------------------------------------------------------------------


@dataclass(frozen=True)
class RadarJsonlOptions:
    """How to read one radar's stream; every setting has a default that suits most."""

    fields: FieldMap = field(default_factory=FieldMap)
    invert_radial_velocity: bool = False
    min_snr_db: float | None = None  # plots with a lower `snr` are left out (counted)
    scan_timeout_s: float = 0.2
    max_plots_per_report: int = 5000
    max_line_bytes: int = 65536
    stale_after_s: float = 10.0
    reject_log_interval_s: float = 10.0
    backoff_min_s: float = 0.1  # client mode: first reconnect delay, doubling up to the max
    backoff_max_s: float = 5.0
    connect_timeout_s: float = 5.0
    max_queued_reports: int = 1000


@dataclass(eq=False)
class _Stream:
    """One source of lines: a TCP connection, or a UDP socket (datagrams carry whole lines)."""

    name: str
    grouper: ScanGrouper
    buffer: LineBuffer | None = None
    plots: int = 0


class RadarJsonlAdapter:
    """Reads JSONL plots from UDP/TCP sources and publishes one report per scan."""

    def __init__(
        self,
        sensor: SensorConfig,
        publisher: SensorPublisher,
        options: RadarJsonlOptions | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if sensor.kind != "radar":
            raise ValueError(f"sensor {sensor.id!r} is a {sensor.kind}, not a radar")
        if publisher.kind != "radar" or publisher.sensor_id != sensor.id:
            raise ValueError("the publisher must be this radar's (same id, kind radar)")
        self.sensor = sensor
        self.publisher = publisher
        self.options = options or RadarJsonlOptions()
        self.parser = PlotParser(
            sensor.boresight_az_deg,
            self.options.fields,
            invert_radial_velocity=self.options.invert_radial_velocity,
        )
        self.clock = clock
        self.rejects = RejectLog(
            self.options.reject_log_interval_s, clock, logger=log, what="bad line"
        )
        self.lines = 0
        self.plots = 0
        self.filtered = 0  # valid plots left out by `min_snr_db`
        self.scans = 0  # scans handed to the publisher
        self.scans_dropped = 0  # scans lost because the publisher queue was full

        self._queue: asyncio.Queue[tuple[float, list[RadarDetection]] | None] = asyncio.Queue()
        self._streams: set[_Stream] = set()
        self._servers: list[asyncio.AbstractServer] = []
        self._transports: set[asyncio.BaseTransport] = set()
        self._sender: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []  # the ticker and TCP clients
        self._client_target: str | None = None
        self._client_connected = False
        self._last_line: float | None = None
        self._last_plot: float | None = None

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start publishing and health reporting; then add sources with listen/connect."""
        self.publisher.set_state(*self.health())
        tick_s = min(self.options.scan_timeout_s / 4.0, 0.25)
        self._sender = asyncio.create_task(self._send_loop(), name=f"{self.sensor.id}-send")
        self._tasks = [asyncio.create_task(self._tick_loop(tick_s), name=f"{self.sensor.id}-tick")]

    async def close(self) -> None:
        """Stop every source, publish the scans still pending, stop."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for server in self._servers:
            server.close()
        for transport in list(self._transports):
            transport.abort()  # its connection_lost flushes the stream's pending scan
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        await asyncio.sleep(0)  # let the connection_lost callbacks run
        for stream in list(self._streams):
            self._close_stream(stream)
        if self._sender is not None:
            self._queue.put_nowait(None)
            try:
                await asyncio.wait_for(self._sender, timeout=1.0)
            except TimeoutError:
                log.warning("%s: could not publish the last scans in time", self.sensor.id)
            self._sender = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- sources ------------------------------------------------------------------------

    async def listen_udp(self, host: str, port: int) -> tuple[str, int]:
        """Receive datagrams of one or more lines on host:port; returns the bound address."""
        loop = asyncio.get_running_loop()
        stream = self._open_stream(f"udp {host}:{port}", buffered=False)
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _DatagramProtocol(self, stream), local_addr=(host, port)
            )
        except BaseException:
            self._streams.discard(stream)
            raise
        self._transports.add(transport)
        return _address(transport)

    async def listen_tcp(self, host: str, port: int) -> tuple[str, int]:
        """Accept any number of TCP connections on host:port; returns the bound address."""
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _StreamProtocol(self), host, port, reuse_address=True
        )
        self._servers.append(server)
        return server.sockets[0].getsockname()[:2]

    async def connect_tcp(self, host: str, port: int) -> None:
        """Connect to the radar as a TCP client, reconnecting with backoff, in the background."""
        self._client_target = f"{host}:{port}"
        task = asyncio.create_task(self._client_loop(host, port), name=f"{self.sensor.id}-tcp")
        self._tasks.append(task)

    async def _client_loop(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        opts = self.options
        backoff = opts.backoff_min_s
        failures = 0
        while True:
            protocol = _StreamProtocol(self)
            try:
                async with asyncio.timeout(opts.connect_timeout_s):
                    await loop.create_connection(lambda p=protocol: p, host, port)
            except (OSError, TimeoutError) as exc:
                failures += 1
                level = logging.WARNING if failures == 1 else logging.DEBUG
                log.log(
                    level,
                    "%s: cannot reach the radar at %s:%s: %s; retrying",
                    self.sensor.id,
                    host,
                    port,
                    exc or "timeout",
                )
            else:
                failures = 0
                self._client_connected = True
                log.info("%s: connected to the radar at %s:%s", self.sensor.id, host, port)
                await protocol.closed
                self._client_connected = False
                log.warning(
                    "%s: the radar at %s:%s closed the connection; reconnecting",
                    self.sensor.id,
                    host,
                    port,
                )
                if protocol.stream is not None and protocol.stream.plots:
                    backoff = opts.backoff_min_s  # it delivered plots: retry promptly
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2.0, opts.backoff_max_s)

    def _open_stream(self, name: str, *, buffered: bool) -> _Stream:
        stream = _Stream(
            name,
            ScanGrouper(self.options.scan_timeout_s, self.options.max_plots_per_report),
            LineBuffer(self.options.max_line_bytes) if buffered else None,
        )
        self._streams.add(stream)
        return stream

    def _close_stream(self, stream: _Stream) -> None:
        if stream.buffer is not None:
            self._lines(stream, stream.buffer.end())
        if (plots := stream.grouper.flush()) is not None:
            self._publish(plots)
        self._streams.discard(stream)

    # --- lines to scans -----------------------------------------------------------------

    def _data(self, stream: _Stream, data: bytes) -> None:
        """Bytes from a TCP connection: complete lines are processed, the rest kept."""
        assert stream.buffer is not None
        lines = stream.buffer.feed(data)
        if stream.buffer.too_long:
            self._last_line = self.clock()
            limit = self.options.max_line_bytes
            self.rejects.add(
                self.sensor.id, "too_long", f"line over {limit} bytes", stream.buffer.too_long
            )
        self._lines(stream, lines)

    def _datagram(self, stream: _Stream, data: bytes) -> None:
        """A UDP datagram: one or more whole lines, the last one needs no newline."""
        lines = data.split(b"\n")
        long = [line for line in lines if len(line) > self.options.max_line_bytes]
        if long:
            self._last_line = self.clock()
            self.rejects.add(
                self.sensor.id,
                "too_long",
                f"line over {self.options.max_line_bytes} bytes",
                len(long),
            )
            lines = [line for line in lines if len(line) <= self.options.max_line_bytes]
        self._lines(stream, lines)

    def _lines(self, stream: _Stream, lines: Sequence[bytes]) -> None:
        now = self.clock()
        min_snr = self.options.min_snr_db
        for line in lines:
            if not line.strip():
                continue
            self.lines += 1
            self._last_line = now
            try:
                plot = self.parser.parse(line)
            except PlotError as exc:
                self.rejects.add(self.sensor.id, exc.reason, exc.detail)
                continue
            if min_snr is not None and plot.snr_db is not None and plot.snr_db < min_snr:
                self.filtered += 1
                continue
            self.plots += 1
            stream.plots += 1
            self._last_plot = now
            for plots in stream.grouper.add(plot, now):
                self._publish(plots)

    def _publish(self, plots: list[Plot]) -> None:
        if self._queue.qsize() >= self.options.max_queued_reports:
            self.scans_dropped += 1
            return
        t = min(p.t for p in plots)
        self._queue.put_nowait((t, detections_of(plots, t)))

    async def _send_loop(self) -> None:
        while (item := await self._queue.get()) is not None:
            t, detections = item
            try:
                await self.publisher.send_report(t, detections)
            except Exception:  # a bug must not silence the radar for good
                log.exception("%s: could not publish a scan", self.sensor.id)
            else:
                self.scans += 1

    async def _tick_loop(self, tick_s: float) -> None:
        """Flush scans that went quiet and keep the heartbeat's state current."""
        while True:
            await asyncio.sleep(tick_s)
            now = self.clock()
            for stream in list(self._streams):
                if (plots := stream.grouper.due(now)) is not None:
                    self._publish(plots)
            self.publisher.set_state(*self.health(now))

    def health(self, now: float | None = None) -> tuple[SensorState, str]:
        """The state and detail the heartbeat should carry now."""
        now = self.clock() if now is None else now
        stale = self.options.stale_after_s
        if self._client_target is not None and not self._client_connected:
            return "degraded", f"not connected to the radar at {self._client_target} (retrying)"
        if self._last_plot is not None and now - self._last_plot < stale:
            return "ok", ""
        if self._last_line is not None and now - self._last_line < stale:
            reason = self.rejects.last_reason or "?"
            return "degraded", f"no valid plot for over {stale:g} s (lines rejected: {reason})"
        if self._last_plot is None and self._last_line is None:
            return "degraded", "no data from the radar yet"
        return "degraded", f"no data from the radar for over {stale:g} s"


class _StreamProtocol(asyncio.Protocol):
    """One TCP connection from or to the radar."""

    def __init__(self, adapter: RadarJsonlAdapter) -> None:
        self.adapter = adapter
        self.stream: _Stream | None = None
        self.transport: asyncio.BaseTransport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self.stream = self.adapter._open_stream(f"tcp {peer}", buffered=True)
        self.adapter._transports.add(transport)
        log.debug("%s: radar stream opened: %s", self.adapter.sensor.id, peer)

    def data_received(self, data: bytes) -> None:
        assert self.stream is not None
        self.adapter._data(self.stream, data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.stream is not None:
            self.adapter._close_stream(self.stream)
        if self.transport is not None:
            self.adapter._transports.discard(self.transport)
        if not self.closed.done():
            self.closed.set_result(None)


class _DatagramProtocol(asyncio.DatagramProtocol):
    def __init__(self, adapter: RadarJsonlAdapter, stream: _Stream) -> None:
        self.adapter = adapter
        self.stream = stream

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.adapter._datagram(self.stream, data)

    def error_received(self, exc: Exception) -> None:
        log.debug("%s: UDP error: %s", self.adapter.sensor.id, exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.adapter._close_stream(self.stream)


def _address(transport: asyncio.BaseTransport) -> tuple[str, int]:
    name = transport.get_extra_info("sockname")
    return name[0], name[1]


# --- running it -----------------------------------------------------------------------

SourceMode = Literal["udp", "tcp-listen", "tcp-connect"]


@dataclass(frozen=True)
class Source:
    """Where the plots come from."""

    mode: SourceMode
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.mode} {host}:{self.port}"


def parse_hostport(text: str) -> tuple[str, int]:
    """`"0.0.0.0:4001"` or `"[::1]:4001"` → `(host, port)`."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected HOST:PORT, not {text!r}")
    return host, int(port)


async def start_source(adapter: RadarJsonlAdapter, source: Source) -> tuple[str, int]:
    """Start reading from `source`; returns the bound address (the target in client mode)."""
    if source.mode == "udp":
        return await adapter.listen_udp(source.host, source.port)
    if source.mode == "tcp-listen":
        return await adapter.listen_tcp(source.host, source.port)
    await adapter.connect_tcp(source.host, source.port)
    return source.host, source.port


async def run(
    sensor: SensorConfig,
    ingest: str,
    source: Source,
    options: RadarJsonlOptions | None = None,
    *,
    heartbeat_period_s: float = 1.0,
    stop: asyncio.Event | None = None,
    curve: dict[str, str | Path] | None = None,
) -> None:
    """Run the adapter until `stop` is set (by default: until SIGINT or SIGTERM); `curve`:
    the publisher's CURVE keys on a secured camp (`sensors.publisher.curve_options`)."""
    own_signals = stop is None
    stop = stop_on_signals() if stop is None else stop
    try:
        async with (
            SensorPublisher(
                sensor.id, "radar", ingest, heartbeat_period_s, **(curve or {})
            ) as publisher,
            RadarJsonlAdapter(sensor, publisher, options) as adapter,
        ):
            host, port = await start_source(adapter, source)
            log.info(
                "%s: reading plots (%s) at %s:%s, publishing to %s",
                sensor.id,
                source.mode,
                host,
                port,
                ingest,
            )
            await stop.wait()
            log.info(
                "%s: stopping: %d lines, %d plots, %d scans, rejects %s",
                sensor.id,
                adapter.lines,
                adapter.plots,
                adapter.scans,
                dict(adapter.rejects.by_reason()),
            )
    finally:
        if own_signals:
            release_signals()


# --- command line ---------------------------------------------------------------------


def _hostport_arg(text: str) -> tuple[str, int]:
    try:
        return parse_hostport(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _field_arg(text: str) -> tuple[str, tuple[str, ...]]:
    try:
        return parse_field_override(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The adapter's options, shared by `python -m sensors.radar_jsonl` and `cuas`."""
    parser.add_argument("--config", required=True, help="camp configuration (TOML)")
    parser.add_argument("--sensor", required=True, help="id of this radar in the camp config")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--udp",
        metavar="HOST:PORT",
        type=_hostport_arg,
        help="receive plots as UDP datagrams on this address",
    )
    where.add_argument(
        "--tcp-listen",
        metavar="HOST:PORT",
        type=_hostport_arg,
        help="accept TCP connections from the radar on this address",
    )
    where.add_argument(
        "--tcp-connect",
        metavar="HOST:PORT",
        type=_hostport_arg,
        help="connect to the radar's TCP server (reconnects with backoff)",
    )
    parser.add_argument(
        "--ingest",
        metavar="ENDPOINT",
        help="the core's ZeroMQ ingest endpoint (default: zmq.ingest of the config)",
    )
    parser.add_argument(
        "--field",
        metavar="FIELD=NAME[,NAME]",
        type=_field_arg,
        action="append",
        default=[],
        help="the vendor's names for a plot field, e.g. azimuth=brg; "
        f"fields: {', '.join(DEFAULT_ALIASES)}",
    )
    parser.add_argument(
        "--invert-radial-velocity",
        action="store_true",
        help="the radar reports approaching targets with positive velocity",
    )
    parser.add_argument(
        "--min-snr", type=float, metavar="DB", help="leave out plots whose snr is below this"
    )
    parser.add_argument(
        "--scan-timeout",
        type=float,
        default=0.2,
        metavar="S",
        help="publish a scan after this long without plots (default 0.2)",
    )
    parser.add_argument(
        "--stale-after",
        type=float,
        default=10.0,
        metavar="S",
        help="heartbeat says degraded after this long without plots (default 10)",
    )
    parser.add_argument(
        "--heartbeat",
        type=float,
        default=1.0,
        metavar="S",
        help="heartbeat period, at most 2 (default 1)",
    )
    add_curve_argument(parser)


def run_command(args: argparse.Namespace) -> int:
    """Run the adapter from parsed arguments; an exit status. Raises `ConfigError`."""
    config = load_config(args.config)
    sensor = config.sensor(args.sensor)
    prog = f"cuas {COMMAND}"
    if sensor is None:
        known = ", ".join(s.id for s in config.sensors if s.kind == "radar") or "none"
        print(
            f"{prog}: no sensor {args.sensor!r} in {args.config} (radars: {known})", file=sys.stderr
        )
        return 2
    if sensor.kind != "radar":
        print(f"{prog}: sensor {sensor.id!r} is a {sensor.kind}, not a radar", file=sys.stderr)
        return 2
    if not 0.0 < args.heartbeat <= 2.0 or args.scan_timeout <= 0 or args.stale_after <= 0:
        print(f"{prog}: --heartbeat must be in (0, 2]; timeouts must be positive", file=sys.stderr)
        return 2
    mode: SourceMode = "udp" if args.udp else "tcp-listen" if args.tcp_listen else "tcp-connect"
    host, port = args.udp or args.tcp_listen or args.tcp_connect
    options = RadarJsonlOptions(
        fields=FieldMap().with_overrides(dict(args.field)),
        invert_radial_velocity=args.invert_radial_velocity,
        min_snr_db=args.min_snr,
        scan_timeout_s=args.scan_timeout,
        stale_after_s=args.stale_after,
    )
    source = Source(mode, host, port)
    curve = curve_options(config, args.curve_key)  # before anything starts: a clear error
    try:
        asyncio.run(
            run(
                sensor,
                args.ingest or config.zmq.ingest,
                source,
                options,
                heartbeat_period_s=args.heartbeat,
                curve=curve,
            )
        )
    except OSError as exc:
        print(f"{prog}: cannot use {source}: {exc}", file=sys.stderr)
        return 1
    return 0


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `cuas adapter-radar-jsonl` on the `cuas` command line's subparsers."""
    parser = subparsers.add_parser(
        COMMAND,
        help="publish a radar's JSON-lines plot stream (UDP/TCP) to the core",
        description="Read a radar's plots, one JSON object per line, from UDP or TCP, and "
        "publish one report per scan to the core's ZeroMQ ingest endpoint. Azimuths are "
        "relative to the radar's boresight (boresight_az_deg in the camp configuration).",
    )
    add_arguments(parser)
    parser.set_defaults(func=run_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m sensors.radar_jsonl ...`: the same as `cuas adapter-radar-jsonl ...`."""
    parser = argparse.ArgumentParser(
        prog="python -m sensors.radar_jsonl",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return run_command(args)
    except ConfigError as exc:
        print(f"{parser.prog}: bad configuration: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
