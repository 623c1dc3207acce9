"""The JSON-lines radar adapter: lines from UDP/TCP (`sensors.transport`) → one report per scan.

Each line is parsed into a plot (`plots`), plots are grouped per stream into scans (`scans`),
and each scan is queued for the `SensorPublisher`; bad lines are counted per reason
(`RejectLog`), and the heartbeat's state follows the data (see the package docstring).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from cuas.config import SensorConfig
from cuas.fusion.reject_log import RejectLog
from cuas.service.lifetime import release_signals, stop_on_signals
from cuas.wire import RadarDetection, SensorState
from sensors.publisher import SensorPublisher
from sensors.radar_jsonl.plots import FieldMap, Plot, PlotError, PlotParser, detections_of
from sensors.radar_jsonl.scans import ScanGrouper
from sensors.transport import (
    LineBuffer,
    Reconnect,
    Source,
    Transports,
    datagram_lines,
    start_source,
)

log = logging.getLogger("sensors.radar_jsonl")  # the package's name: one logger for the adapter


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

        self.transports: Transports[_Stream] = Transports(
            self,
            sensor.id,
            log,
            Reconnect(
                self.options.backoff_min_s,
                self.options.backoff_max_s,
                self.options.connect_timeout_s,
            ),
            peer="the radar",
        )

        self._queue: asyncio.Queue[tuple[float, list[RadarDetection]] | None] = asyncio.Queue()
        self._streams: set[_Stream] = set()
        self._sender: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._last_line: float | None = None
        self._last_plot: float | None = None

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start publishing and health reporting; then add sources with listen/connect."""
        self.publisher.set_state(*self.health())
        tick_s = min(self.options.scan_timeout_s / 4.0, 0.25)
        self._sender = asyncio.create_task(self._send_loop(), name=f"{self.sensor.id}-send")
        self._ticker = asyncio.create_task(self._tick_loop(tick_s), name=f"{self.sensor.id}-tick")

    async def close(self) -> None:
        """Stop every source, publish the scans still pending, stop."""
        if self._ticker is not None:
            self._ticker.cancel()
        await self.transports.close()  # a connection's end flushes its stream's pending scan
        if self._ticker is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        for stream in list(self._streams):
            self.close_stream(stream)
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
        return await self.transports.listen_udp(host, port)

    async def listen_tcp(self, host: str, port: int) -> tuple[str, int]:
        """Accept any number of TCP connections on host:port; returns the bound address."""
        return await self.transports.listen_tcp(host, port)

    async def connect_tcp(self, host: str, port: int) -> None:
        """Connect to the radar as a TCP client, reconnecting with backoff, in the background."""
        await self.transports.connect_tcp(host, port)

    # --- streams (the `Receiver` of `self.transports`) ----------------------------------

    def open_stream(self, name: str, *, datagrams: bool) -> _Stream:
        """A TCP connection (its lines framed by a `LineBuffer`) or the UDP socket opened."""
        stream = _Stream(
            name,
            ScanGrouper(self.options.scan_timeout_s, self.options.max_plots_per_report),
            None if datagrams else LineBuffer(self.options.max_line_bytes),
        )
        self._streams.add(stream)
        return stream

    def close_stream(self, stream: _Stream) -> None:
        """The stream ended: its last line and its pending scan are published."""
        if stream.buffer is not None:
            self._lines(stream, stream.buffer.end())
        if (plots := stream.grouper.flush()) is not None:
            self._publish(plots)
        self._streams.discard(stream)

    def delivered(self, stream: _Stream) -> bool:
        """A client connection that delivered plots: the radar works, reconnect promptly."""
        return stream.plots > 0

    # --- lines to scans -----------------------------------------------------------------

    def stream_data(self, stream: _Stream, data: bytes) -> None:
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

    def datagram(self, stream: _Stream, data: bytes) -> None:
        """A UDP datagram: one or more whole lines, the last one needs no newline."""
        lines, long = datagram_lines(data, self.options.max_line_bytes)
        if long:
            self._last_line = self.clock()
            self.rejects.add(
                self.sensor.id,
                "too_long",
                f"line over {self.options.max_line_bytes} bytes",
                long,
            )
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
        target = self.transports.client_target
        if target is not None and not self.transports.client_connected:
            return "degraded", f"not connected to the radar at {target} (retrying)"
        if self._last_plot is not None and now - self._last_plot < stale:
            return "ok", ""
        if self._last_line is not None and now - self._last_line < stale:
            reason = self.rejects.last_reason or "?"
            return "degraded", f"no valid plot for over {stale:g} s (lines rejected: {reason})"
        if self._last_plot is None and self._last_line is None:
            return "degraded", "no data from the radar yet"
        return "degraded", f"no data from the radar for over {stale:g} s"


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
