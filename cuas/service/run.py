"""`cuas run`: the fusion pipeline live, fed by ZeroMQ and publishing on MQTT and ZeroMQ.

One asyncio loop runs four tasks that never wait on each other:
- ingest: drains the SUB socket after each wakeup, holds all it read in the reorder window,
  then fuses it report by report (the clock leaves the release to it meanwhile), handing on
  what each report produced at once (an alert raised by a scan goes to the journal and MQTT,
  and the tracks its scans updated to the track socket and MQTT `tracks/updates`, before the
  rest of the batch is fused), and gives the loop a turn after each report so they go out;
- clock: ticks the pipeline with the wall clock, releasing what the reorder window holds
  and emitting track cycles on time even when no sensor reports; it wakes when the next
  release or cycle is due (`FusionPipeline.next_due`), at most `tick_s` apart;
- MQTT: the publisher's own connection loop (reconnects with backoff, queues meanwhile);
- statistics: a periodic structured log line with the counters.
Tracking never blocks on the broker: outputs are handed to the publisher and to the ZeroMQ
track socket, neither of which waits; a track cycle or update is built once and encoded once
for each (MessagePack for ZeroMQ at once, JSON for MQTT by the publisher's own task when it
sends it, so a cycle coalesced away is never encoded; updates waiting for a slow broker are
merged into one).
The reorder window's wall clock is a watermark, not the time of day: the time of the last
drain that emptied the socket, or now when the ingest loop waits and nothing has arrived.
A core that falls behind (messages queued in its socket) therefore never releases past
reports it has not read, which would make them late and fuse them by the costlier
retrodiction, falling further behind; nor, for a sensor's bound at most, past a backlog of
that sensor (reports older than its bound) whose first reports it has read while the rest may
still be in flight, not yet readable (cuas/fusion/ordering.py).
Alert transitions are first written to the SQLite
journal (`journal.sqlite` in the camp's state directory, `alerts.journal`, or `--journal`;
one camp's journal is refused to another), which is the publisher's outbox: durably, by a
thread of its own in group commits (cuas/io/journal_writer.py), so that waiting for the disk
never stalls the loop, and the publisher hears of a transition only once it is on disk. At
start-up the alerts a previous run left active are restored from it (see
cuas/fusion/alerts.py), unless the core was down longer than a track survives unseen
(`tracker.delete_after_s`): then they are cleared, saying so, rather than re-attached to
whatever flies there now. The core's heartbeat goes into the journal every few seconds, so
the next start knows how long it was down; cleared alerts past `alerts.retention_days` are
pruned at start and hourly. Each sensor's intake is limited (cuas/fusion/intake.py): a
flooding sensor is shed and counted while the others go on. Operator acknowledgements from
MQTT feed the alert lifecycle.
A stop (SIGTERM, SIGINT) loses no report that reached the core: the tasks are cancelled, the
socket is drained until it stays quiet (bounded), everything held in the reorder window is
fused, and the final cycle, alerts and health go to the journal, MQTT and the track socket
before `offline` is announced.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio

from cuas import wire
from cuas.config import CampConfig, load_config
from cuas.fusion.alerts import Transition
from cuas.fusion.intake import IntakeLimiter
from cuas.fusion.pipeline import FusionPipeline, PipelineOutput
from cuas.io.curve_auth import CurveServer
from cuas.io.ingest_socket import IngestSocket
from cuas.io.journal import Journal, Row
from cuas.io.journal_writer import JournalWriter
from cuas.io.mqtt_publisher import MqttPublisher
from cuas.io.recording import RecordingWriter
from cuas.io.track_socket import TrackSocket
from cuas.service.lifetime import run_until_signal

log = logging.getLogger("cuas.service.run")

HEARTBEAT_S = 2.0  # how often the core notes in its journal that it is alive
# Building and encoding track updates may take at most this share of the core's CPU on
# average, with bursts of UPDATE_BURST_S of CPU (a token bucket): a camp whose scans come
# slower than that sees every scan at once (an update of 200 tracks takes ~1.5 ms: 10,000
# radar plots/s in 200-plot scans use ~8 %); under a flood, scans waiting for the budget are
# merged into one update instead of starving fusion.
UPDATE_BUDGET = 0.15
UPDATE_BURST_S = 0.02
# A core whose drain leaves reports due for fusion over more than this span of measurement
# time has fallen behind its sensors: it hands out no updates of its own (each cycle still
# carries the scans before it) until it has caught up, so that what CPU it has goes to fusion.
BEHIND_S = 0.5
PRUNE_PERIOD_S = 3600.0  # how often cleared alerts past their retention are pruned
# On SIGTERM/SIGINT the core reads what sensors sent before it was told to stop: it drains the
# ingest socket until the socket has stayed empty STOP_QUIET_S (a message already sent may still
# be in flight on loopback or in ZeroMQ's I/O thread), for at most STOP_DRAIN_S, then fuses all
# it holds and publishes the final cycle and alerts.
STOP_QUIET_S = 0.25
STOP_DRAIN_S = 5.0
TRACK_LINGER_MS = 1000  # how long the final track cycle may take to leave the ZeroMQ socket


class FusionService:
    """One camp's live fusion core."""

    def __init__(
        self,
        config: CampConfig,
        record: str | Path | None = None,
        journal: str | Path | None = None,
        clock: Callable[[], float] = time.time,
        tick_s: float = 0.02,
        stats_period_s: float = 10.0,
        shutdown_timeout_s: float = 10.0,
        stop_drain_s: float = STOP_DRAIN_S,
    ) -> None:
        self.config = config
        self.clock = clock
        self.tick_s = tick_s
        self.stats_period_s = stats_period_s
        self.shutdown_timeout_s = shutdown_timeout_s
        self.stop_drain_s = stop_drain_s
        self.drained_at_stop = 0  # messages read from the socket after the stop was asked
        self.fused_at_stop = 0  # reports held (reorder window or drained) fused at the stop
        self.pipeline = FusionPipeline(
            config, track_updates=config.mqtt.track_updates or config.zmq.track_updates
        )
        self.intake = IntakeLimiter(config)
        self.journal = Journal(
            journal if journal is not None else config.journal_path, camp_id=config.camp_id
        )
        self._prune()
        restored = self._restore()
        self.publisher = MqttPublisher(
            config,
            self.journal,
            on_ack=self._on_ack,
            refresh=restored,
            mark_published=self._mark_published,
        )
        self._writer: JournalWriter | None = None  # the journal's writes while running
        self.record_path = Path(record) if record else None
        self.ready = asyncio.Event()
        self.acks: list[tuple[str, wire.Ack]] = []
        self._tracks_every = max(
            1, round(config.mqtt.tracks_period_s / config.tracker.cycle_period_s)
        )
        self._cycles = 0
        self._watermark_t = -math.inf  # everything that reached the core before it is fused
        self._fusing = False  # the ingest loop is fusing a drain, scan by scan
        self._update_tokens = UPDATE_BURST_S  # CPU seconds updates may spend now
        self._behind = False  # the reports due for fusion span more than BEHIND_S
        self._tokens_at = time.perf_counter()
        self._recorder: RecordingWriter | None = None
        self._tracks: TrackSocket | None = None
        self.ingest: IngestSocket | None = None

    def _restore(self) -> list[Row]:
        """Take back the alerts the previous run left active; clear the track alerts whose
        track cannot have survived the downtime. Returns the rows still active."""
        restored = self.journal.active()
        last_alive = self.journal.last_alive()
        self.pipeline.restore_alerts(
            [Transition(r.alert, r.subject) for r in restored], self.journal.next_alert_number()
        )
        now = self.clock()
        down_s = None if last_alive is None else max(0.0, now - last_alive)
        limit = self.config.tracker.delete_after_s
        if restored and down_s is not None and down_s > limit:
            cleared = self.pipeline.alerts.clear_restored(
                now,
                f"Track lost: the core was down {down_s:.0f} s, longer than a track survives "
                f"unseen ({limit:.0f} s); not re-attached after the restart.",
            )
            if cleared:
                self.journal.append(cleared)
                self.pipeline.alert_transitions += len(cleared)
                log.warning(
                    "cleared %d restored alerts: down %.0f s (> delete_after_s %.0f s)",
                    len(cleared),
                    down_s,
                    limit,
                )
            restored = [r for r in restored if r.alert_id in self.pipeline.alerts.episodes]
        if restored:
            log.info(
                "restored %d active alerts from %s: %s",
                len(restored),
                self.journal.path,
                ", ".join(r.alert_id for r in restored),
            )
        self.journal.alive(now)
        return restored

    def _prune(self) -> None:
        """Drop cleared alerts older than `alerts.retention_days` from the journal."""
        days = self.config.alerts.retention_days
        pruned = self.journal.prune(self.clock() - days * 86400.0)
        if pruned:
            log.info("pruned %d alerts cleared more than %g days ago", pruned, days)

    def _mark_published(self, seqs: list[int]) -> None:
        """The broker acknowledged these alert rows: marked by the journal's writer thread."""
        assert self._writer is not None
        self._writer.mark_published(seqs)

    def _on_ack(self, alert_id: str, ack: wire.Ack) -> None:
        """An operator's acknowledgement: the lifecycle records it as a transition."""
        self.acks.append((alert_id, ack))
        outputs = self.pipeline.acknowledge(alert_id, ack)
        if outputs:
            log.info("alert %s acknowledged by %s", alert_id, ack.by)
            self._dispatch(outputs)
        else:
            log.info("acknowledgement by %s for %s ignored: not active", ack.by, alert_id)

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set, then publish `offline` and release the sockets."""
        context = zmq.asyncio.Context()
        curve: CurveServer | None = None
        ingest: IngestSocket | None = None
        try:
            curve = CurveServer.for_camp(self.config, context)
            ingest = IngestSocket(
                self.config.zmq.ingest, context, curve=curve, reject=self.pipeline.ingest.reject
            )
            self._tracks = TrackSocket(self.config.zmq.tracks, context, curve=curve)
        except BaseException:
            # A socket that cannot bind (its port taken) must not leave the context and the
            # sockets made so far to the garbage collector: a context ended while a socket is
            # open blocks, and a later collection that found this one hung a test run.
            if ingest is not None:
                ingest.close()
            elif curve is not None:
                curve.close()
            context.destroy(linger=0)
            raise
        self.ingest = ingest
        if self.record_path is not None:
            self._recorder = RecordingWriter(self.record_path)
        log.info(
            "cuas core for camp %s: ingest %s, tracks %s, MQTT %s:%d prefix %s",
            self.config.camp_id,
            self.ingest.bound,
            self._tracks.bound,
            self.config.mqtt.host,
            self.config.mqtt.port,
            self.config.mqtt_prefix,
        )
        loop = asyncio.get_running_loop()
        writer = self._writer = JournalWriter(
            self.journal.path,
            on_durable=lambda: loop.call_soon_threadsafe(self.publisher.alerts_journaled),
        )
        mqtt = asyncio.create_task(self.publisher.run(), name="mqtt")
        workers = [
            asyncio.create_task(self._ingest_loop(), name="ingest"),
            asyncio.create_task(self._clock_loop(), name="clock"),
            asyncio.create_task(self._stats_loop(), name="stats"),
            asyncio.create_task(self._journal_loop(), name="journal"),
        ]
        self.ready.set()
        try:
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait([stopper, *workers], return_when=asyncio.FIRST_COMPLETED)
            for task in done:  # a worker that died is a bug: surface it after shutting down
                if task is not stopper and task.exception() is not None:
                    log.error("%s task failed", task.get_name(), exc_info=task.exception())
            stopper.cancel()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            try:
                await self._finish()
            except Exception:  # a fault here must not keep the core from going offline
                log.exception("the final drain and fusion failed")
            await asyncio.to_thread(writer.flush)  # the final alerts, durable
            self.publisher.alerts_journaled()
            self.publisher.close()
            try:
                await asyncio.wait_for(mqtt, timeout=self.shutdown_timeout_s)
            except TimeoutError:
                log.warning(
                    "MQTT did not finish within %.0f s; %d messages unsent",
                    self.shutdown_timeout_s,
                    self.publisher.pending,
                )
            self.ingest.close()
            self._tracks.close(linger_ms=TRACK_LINGER_MS)
            context.term()
            if self._recorder is not None:
                self._recorder.close()
            await asyncio.to_thread(writer.close)  # the last marks of published alerts
            self._log_totals()
            self.journal.close()

    def _log_totals(self) -> None:
        """The run's counters, once, at shutdown (benchmarks and after-action reviews read it)."""
        assert self.ingest is not None and self._tracks is not None
        p = self.pipeline
        totals = {
            "received": self.ingest.received,
            "drained_at_stop": self.drained_at_stop,
            "fused_at_stop": self.fused_at_stop,
            "reports_fused": p.tracker.stats.scans,
            "bad_frames": self.ingest.bad_frames,
            **self._auth_totals(),
            "detections": sum(s.detections for s in p.ingest.sensors.values()),
            "rejects": dict(p.ingest.rejects.by_reason()),
            "shed": dict(self.intake.shed),
            "late": p.late,
            "late_fused": p.late_fused,
            "faults": dict(p.faults),
            "cycles": p.cycles,
            "alert_transitions": p.alert_transitions,
            "tracks_confirmed": p.tracker.stats.confirmed,
            "track_updates": p.updates,
            "latency_bounds_ms": self._latency_bounds_ms(),
            "zmq_tracks_sent": self._tracks.sent,
            "zmq_tracks_dropped": self._tracks.dropped,
            "zmq_updates_sent": self._tracks.updates_sent,
            "zmq_updates_dropped": self._tracks.updates_dropped,
            "mqtt_published": self.publisher.stats.published,
            "mqtt_coalesced": self.publisher.stats.coalesced,
            "mqtt_updates_merged": self.publisher.stats.updates_merged,
            "mqtt_unsent": self.publisher.pending,
            "alerts_unpublished": self.journal.pending_count(),
        }
        log.info("cuas core stopped: %s", totals, extra={"totals": totals})

    def _latency_bounds_ms(self) -> dict[str, float]:
        """How long the reorder window waits for each sensor now (adapted to its delays)."""
        reorder = self.pipeline.reorder
        return {s.id: round(reorder.latency_bound(s.id) * 1e3, 1) for s in self.config.sensors}

    def _auth_totals(self) -> dict[str, int]:
        """Refused CURVE handshakes (by the socket monitor); empty when CURVE is off."""
        assert self.ingest is not None
        curve = self.ingest.curve
        if curve is None:
            return {}
        return {
            "auth_failed": curve.auth_failed,
            "handshake_failed": curve.handshake_failed,
            "track_subscribers_refused": curve.subscribers_refused,
        }

    async def _ingest_loop(self) -> None:
        assert self.ingest is not None
        while True:
            await self.ingest.wait()
            now = self.clock()  # before the drain: all that arrived by now will be in hand
            # The whole drain is held in the reorder window before the watermark moves, so
            # that the clock cannot emit a cycle past a report read but not yet held.
            self._hold(self.ingest.drain(), now)
            if self.ingest.emptied:
                self._watermark_t = max(self._watermark_t, now)
            self._behind = self._backlog_s() > BEHIND_S
            self._fusing = True  # the clock leaves the release to this loop meanwhile
            try:
                while (outputs := self.pipeline.fuse_next(self._watermark_t)) is not None:
                    if outputs:
                        self._dispatch(outputs)
                    self._publish_update()
                    # A turn of the loop after every report: the publisher sends what this one
                    # produced (the update, an alert) while the next is fused, and a message
                    # it is sending (each takes a few turns) goes on even while the core,
                    # behind, hands out no updates and a drain takes seconds to fuse.
                    await asyncio.sleep(0)
            finally:
                self._fusing = False
                self._behind = False  # all that was due is fused
            await asyncio.sleep(0)  # a socket that is never empty must not starve the others

    def _hold(self, batch: list[tuple[str, bytes]], now: float) -> None:
        """Record, admit (or shed) and hold in the reorder window every message of a drain
        received at wall time `now`."""
        for topic, payload in batch:
            if self._recorder is not None:
                self._recorder.write(now, topic or "?", payload)
            if not self.intake.admit(topic, now):
                self._shed(topic)
                continue
            self.pipeline.hold(topic, payload, received=now)

    async def _finish(self) -> None:
        """The graceful stop, once the workers are cancelled: read what sensors sent before
        the stop (until the socket has stayed empty STOP_QUIET_S, at most `stop_drain_s`),
        fuse everything held, and hand out the final cycle, alerts and health, so that a
        stop loses no report that reached the core. The final cycle goes to MQTT whatever
        `tracks_period_s` would skip, as it is the picture consumers keep."""
        assert self.ingest is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.stop_drain_s
        quiet = False  # the socket stayed empty STOP_QUIET_S: all sent before the stop is read
        while not quiet:
            before = self.ingest.received
            self._hold(self.ingest.drain(), self.clock())
            self.drained_at_stop += self.ingest.received - before
            wait = min(STOP_QUIET_S, deadline - loop.time())
            if wait <= 0.0:
                break
            if not self.ingest.emptied:  # MAX_BATCH cut the drain short: more is queued
                continue
            try:
                await asyncio.wait_for(self.ingest.wait(), wait)
            except TimeoutError:
                quiet = wait >= STOP_QUIET_S
        if not quiet:
            log.warning(
                "stopping after %.1f s of draining with messages perhaps still unread",
                self.stop_drain_s,
            )
        self.fused_at_stop = len(self.pipeline.reorder)
        outputs = self.pipeline.flush()  # (each cycle is preceded by the update before it)
        self._dispatch(outputs)
        last = next((o for o in reversed(outputs) if isinstance(o, wire.TrackCycle)), None)
        if last is not None and (self._cycles - 1) % self._tracks_every != 0:
            self.publisher.tracks(last)  # the final picture, which the period skipped
        if self._recorder is not None:
            self._recorder.flush()

    def _backlog_s(self) -> float:
        """The span of measurement time held and due for fusion now: from the oldest report
        held to the reorder window's horizon (reports waiting for other sensors, within their
        latency bounds, are not due and count for nothing)."""
        oldest = self.pipeline.reorder.oldest
        if oldest is None:
            return 0.0
        return max(0.0, self.pipeline.reorder.horizon(self._watermark_t) - oldest)

    def _watermark(self) -> float:
        """The wall time before which every message that reached the core has been fused:
        now if the ingest loop is idle in its wait and nothing has arrived, else the time of
        its last drain that emptied the socket. (The clock is read before the socket is looked
        at: a message arriving in between is then after the watermark, never before it.)"""
        now = self.clock()
        if self.ingest is not None and not self.ingest.waiting():
            self._watermark_t = max(self._watermark_t, now)
        return self._watermark_t

    def _publish_update(self) -> bool:
        """Hand out the tracks scans updated since the last time, if any, if the core is not
        behind (BEHIND_S) and if the update budget allows it now; True if it did."""
        if not self.pipeline.update_pending:
            return False
        if self._behind:
            return False
        now = time.perf_counter()
        self._update_tokens = min(
            UPDATE_BURST_S, self._update_tokens + (now - self._tokens_at) * UPDATE_BUDGET
        )
        self._tokens_at = now
        if self._update_tokens <= 0.0:
            return False
        cpu = time.thread_time()
        update = self.pipeline.take_update()
        if update is not None:
            self._dispatch([update])
        # CPU, not wall time: being descheduled costs no budget.
        self._update_tokens -= time.thread_time() - cpu
        return update is not None

    def _shed(self, topic: str) -> None:
        """A message over its sensor's intake limit: dropped unread, counted as `flood`."""
        sensor_id = self.intake.sensor_of(topic)
        self.pipeline.ingest.reject(
            sensor_id,
            "flood",
            f"over its intake limit ({self.intake.rate_of(sensor_id):.1f} msg/s): shed",
        )

    async def _journal_loop(self) -> None:
        """The heartbeat (the next start measures its downtime from it) and hourly pruning."""
        last_prune = self.clock()
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            now = self.clock()
            assert self._writer is not None
            self._writer.alive(now)
            if now - last_prune >= PRUNE_PERIOD_S:
                last_prune = now
                self._writer.prune(now - self.config.alerts.retention_days * 86400.0)

    async def _clock_loop(self) -> None:
        while True:
            if not self._fusing:
                self._dispatch(self.pipeline.advance(self._watermark()))
            self._publish_update()
            due = self.pipeline.next_due()
            wait = self.tick_s if due is None else min(self.tick_s, due - self.clock())
            if self.pipeline.update_pending and self._update_tokens <= 0.0:
                wait = min(wait, -self._update_tokens / UPDATE_BUDGET)  # when the budget allows
            await asyncio.sleep(max(wait, 0.001))

    async def _stats_loop(self) -> None:
        assert self.ingest is not None
        last, last_received = self.clock(), 0
        while True:
            await asyncio.sleep(self.stats_period_s)
            now = self.clock()
            received = self.ingest.received
            rate = (received - last_received) / max(now - last, 1e-9)
            last, last_received = now, received
            counters = self.pipeline.counters()
            rejects = counters.rejects
            log.info(
                "ingest %.0f msg/s (%d total), rejects %s, tracks %d, mqtt %s with %d queued",
                rate,
                received,
                rejects,
                counters.tracks_live,
                "connected" if self.publisher.connected else "DISCONNECTED",
                self.publisher.pending,
                extra={
                    "ingest_rate": round(rate, 1),
                    "rejects": rejects,
                    "tracks": counters.tracks_live,
                    "mqtt_connected": self.publisher.connected,
                    "mqtt_pending": self.publisher.pending,
                    "fusion_faults": counters.faults,
                    **self._auth_totals(),
                },
            )

    def _dispatch(self, outputs: list[PipelineOutput]) -> None:
        assert self._tracks is not None
        transitions = [o for o in outputs if isinstance(o, Transition)]
        if transitions:  # the publisher hears of them once they are durable
            assert self._writer is not None
            self._writer.append(transitions)
        for o in outputs:
            if isinstance(o, wire.TrackCycle):
                self._tracks.send(o)
                if self._cycles % self._tracks_every == 0:
                    self.publisher.tracks(o)
                self._cycles += 1
            elif isinstance(o, wire.TrackUpdate):
                if self.config.zmq.track_updates:
                    self._tracks.send_update(o)
                if self.config.mqtt.track_updates:
                    self.publisher.track_update(o)
            elif isinstance(o, wire.SensorHealth):
                self.publisher.sensor(o)


def run_service(
    config: CampConfig, record: str | Path | None = None, journal: str | Path | None = None
) -> None:
    """Run until SIGINT or SIGTERM (the `cuas run` command)."""
    service = FusionService(config, record=record, journal=journal)
    # Start-up's long-lived objects (modules, compiled kernels: ~150k) out of the cyclic
    # collector: a full collection otherwise walks them all, stalling everything (alerts,
    # updates) for 60-90 ms whenever enough objects have survived.
    gc.collect()
    gc.freeze()
    run_until_signal(service.run)


def _command(args: argparse.Namespace) -> int:
    run_service(load_config(args.config), record=args.record, journal=args.journal)
    return 0


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `cuas run` on the `cuas` command line's subparsers."""
    p = subparsers.add_parser(
        "run",
        help="run the live fusion service",
        description="Bind the ZeroMQ ingest socket, fuse sensor reports as they arrive, and "
        "publish tracks, alerts and sensor health on MQTT and the ZeroMQ track stream. "
        "Stops cleanly on SIGINT/SIGTERM, announcing `offline`.",
    )
    p.add_argument("--config", required=True, help="camp configuration (TOML)")
    p.add_argument("--record", help="also record every received message to this file")
    p.add_argument(
        "--journal", help="alert journal (SQLite) instead of the camp's (state_dir, alerts.journal)"
    )
    p.set_defaults(func=_command)
    return p


__all__ = ["FusionService", "run_service"]
