"""`cuas run`: the fusion pipeline live, fed by ZeroMQ and publishing on MQTT and ZeroMQ.

One asyncio loop runs four tasks that never wait on each other:
- ingest: drains the SUB socket after each wakeup and feeds the pipeline;
- clock: ticks the pipeline with the wall clock, releasing what the reorder window holds
  and emitting track cycles on time even when no sensor reports;
- MQTT: the publisher's own connection loop (reconnects with backoff, queues meanwhile);
- statistics: a periodic structured log line with the counters.
Tracking never blocks on the broker: outputs are handed to the publisher and to the ZeroMQ
track socket, neither of which waits. Alert transitions are first written to the SQLite
journal (`alerts.journal`, or `--journal`), which is the publisher's outbox; at start-up the
alerts a previous run left active are restored from it (see cuas/alerts.py), and operator
acknowledgements from MQTT feed the alert lifecycle.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

import zmq
import zmq.asyncio

from cuas import wire
from cuas.alerts import TRACK, Transition
from cuas.config import CampConfig
from cuas.ingest_socket import IngestSocket
from cuas.journal import Journal
from cuas.mqtt_publisher import MqttPublisher
from cuas.pipeline import TOPIC_ALERT, TOPIC_SENSOR, TOPIC_TRACKS, FusionPipeline, Output
from cuas.recording import RecordingWriter
from cuas.track_socket import TrackSocket

log = logging.getLogger("cuas.service")


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
    ) -> None:
        self.config = config
        self.clock = clock
        self.tick_s = tick_s
        self.stats_period_s = stats_period_s
        self.shutdown_timeout_s = shutdown_timeout_s
        self.pipeline = FusionPipeline(config)
        self.journal = Journal(journal if journal is not None else config.alerts.journal)
        restored = self.journal.active()
        self.pipeline.alerts.restore([(r.alert, r.subject) for r in restored])
        self.pipeline.alerts.next_number = self.journal.next_alert_number()
        if restored:
            log.info(
                "restored %d active alerts from %s: %s",
                len(restored),
                self.journal.path,
                ", ".join(r.alert_id for r in restored),
            )
        self.publisher = MqttPublisher(config, self.journal, on_ack=self._on_ack, refresh=restored)
        self.record_path = Path(record) if record else None
        self.ready = asyncio.Event()
        self.acks: list[tuple[str, wire.Ack]] = []
        self._tracks_every = max(
            1, round(config.mqtt.tracks_period_s / config.tracker.cycle_period_s)
        )
        self._cycles = 0
        self._recorder: RecordingWriter | None = None
        self._tracks: TrackSocket | None = None
        self.ingest: IngestSocket | None = None

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
        self.ingest = IngestSocket(self.config.zmq.ingest, context)
        self._tracks = TrackSocket(self.config.zmq.tracks, context)
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
        mqtt = asyncio.create_task(self.publisher.run(), name="mqtt")
        workers = [
            asyncio.create_task(self._ingest_loop(), name="ingest"),
            asyncio.create_task(self._clock_loop(), name="clock"),
            asyncio.create_task(self._stats_loop(), name="stats"),
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
            self._tracks.close()
            context.term()
            if self._recorder is not None:
                self._recorder.close()
            self._log_totals()
            self.journal.close()

    def _log_totals(self) -> None:
        """The run's counters, once, at shutdown (benchmarks and after-action reviews read it)."""
        assert self.ingest is not None and self._tracks is not None
        p = self.pipeline
        totals = {
            "received": self.ingest.received,
            "bad_frames": self.ingest.bad_frames,
            "detections": sum(s.detections for s in p.ingest.sensors.values()),
            "rejects": dict(p.ingest.rejects.by_reason()),
            "late": p.late,
            "late_fused": p.late_fused,
            "cycles": p.cycles,
            "alert_transitions": p.alert_transitions,
            "tracks_confirmed": p.tracker.stats.confirmed,
            "zmq_tracks_sent": self._tracks.sent,
            "zmq_tracks_dropped": self._tracks.dropped,
            "mqtt_published": self.publisher.stats.published,
            "mqtt_coalesced": self.publisher.stats.coalesced,
            "mqtt_unsent": self.publisher.pending,
            "alerts_unpublished": self.journal.pending_count(),
        }
        log.info("cuas core stopped: %s", totals, extra={"totals": totals})

    async def _ingest_loop(self) -> None:
        assert self.ingest is not None
        while True:
            batch = await self.ingest.batch()
            now = self.clock()
            self.pipeline.clock = now
            outputs: list[Output] = []
            for topic, payload in batch:
                if self._recorder is not None:
                    self._recorder.write(now, topic or "?", payload)
                outputs += self.pipeline.submit(topic, payload)
            self._dispatch(outputs)

    async def _clock_loop(self) -> None:
        while True:
            self._dispatch(self.pipeline.advance(self.clock()))
            await asyncio.sleep(self.tick_s)

    async def _stats_loop(self) -> None:
        assert self.ingest is not None
        last, last_received = self.clock(), 0
        while True:
            await asyncio.sleep(self.stats_period_s)
            now = self.clock()
            received = self.ingest.received
            rate = (received - last_received) / max(now - last, 1e-9)
            last, last_received = now, received
            rejects = dict(self.pipeline.ingest.rejects.by_reason())
            log.info(
                "ingest %.0f msg/s (%d total), rejects %s, tracks %d, mqtt %s with %d queued",
                rate,
                received,
                rejects,
                len(self.pipeline.tracker.tracks),
                "connected" if self.publisher.connected else "DISCONNECTED",
                self.publisher.pending,
                extra={
                    "ingest_rate": round(rate, 1),
                    "rejects": rejects,
                    "tracks": len(self.pipeline.tracker.tracks),
                    "mqtt_connected": self.publisher.connected,
                    "mqtt_pending": self.publisher.pending,
                },
            )

    def _dispatch(self, outputs: list[Output]) -> None:
        assert self._tracks is not None
        transitions = [
            Transition(o.message, o.subject or TRACK) for o in outputs if o.topic == TOPIC_ALERT
        ]
        if transitions:  # journaled (durably) before the publisher may send them
            self.journal.append(transitions)
            self.publisher.alerts_journaled()
        for o in outputs:
            if o.topic == TOPIC_TRACKS:
                self._tracks.send(o.message)
                if self._cycles % self._tracks_every == 0:
                    self.publisher.tracks(o.message)
                self._cycles += 1
            elif o.topic == TOPIC_SENSOR:
                self.publisher.sensor(o.message)


def run_service(
    config: CampConfig, record: str | Path | None = None, journal: str | Path | None = None
) -> None:
    """Run until SIGINT or SIGTERM (the `cuas run` command)."""
    import signal

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await FusionService(config, record=record, journal=journal).run(stop)

    asyncio.run(main())


__all__ = ["FusionService", "run_service"]
