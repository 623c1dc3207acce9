"""The fusion pipeline: validated sensor traffic in, track cycles, alerts and health out.

ingest -> reorder window -> scans -> tracker -> (every scan, for the tracks it updated)
threat, alert lifecycle -> (every cycle) zones, threat, alert lifecycle, air picture.
Alerts are event-driven: a scan's transitions (a track raised or escalated) come out as soon
as the scan is fused, not on the next cycle; the cycles keep their period for the picture,
and for what needs every track (updates, clearing, sensor alerts). With `track_updates`, the
tracks the scans updated are handed out too (`take_update`, and always before a cycle that
follows them), so an operator sees a scan's tracks without waiting for the cycle grid.
Everything is driven by measurement time, never by the wall clock, so the same input gives
the same output; the live service and `cuas replay` run this same object.

A fault in fusing one scan (or in building one cycle), an exception from a defect rather than
from bad input, which ingest refuses before this, costs that scan or cycle, not the core: it is
counted (`faults`; a scan's as a `fusion_fault` reject of its sensor), logged with its
traceback, and the next scan is fused as usual. Random camp 242 once crashed a replay this
way on an IndexError in one camera sighting; live, the whole core would have gone down.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cuas import topics, wire
from cuas.config import CampConfig
from cuas.fusion.air_picture import AirPicture
from cuas.fusion.alerts import AlertLifecycle, Transition
from cuas.fusion.ingest import Ingest, SensorStats
from cuas.fusion.ordering import ReorderBuffer
from cuas.fusion.scans import ScanBuilder
from cuas.fusion.threat import ThreatEvaluator, ThreatPicture, TrackGeometry, track_geometry
from cuas.fusion.threat_pass import ThreatLevels
from cuas.fusion.zones import ZoneSet
from cuas.tracking import kernels
from cuas.tracking.capacity import CapacityStats, enforce
from cuas.tracking.classification import Classifier, PublishedClasses, published_classes
from cuas.tracking.identity import IdentityKeeper
from cuas.tracking.scan import Scan
from cuas.tracking.tracker import Tracker, TrackSnapshot
from cuas.tracking.tracks import COASTING, CONFIRMED, TENTATIVE, TrackRows

log = logging.getLogger("cuas.fusion.pipeline")

HEARTBEAT_TIMEOUT_S = 6.0  # three missed heartbeats at the contract's 2 s

TOPIC_TRACKS = topics.RECORDED_TRACKS
TOPIC_ALERT = topics.RECORDED_ALERT
TOPIC_SENSOR = topics.RECORDED_SENSOR
TOPIC_TRACK_UPDATES = topics.RECORDED_TRACK_UPDATES


PipelineOutput = wire.TrackCycle | wire.TrackUpdate | Transition | wire.SensorHealth
"""What the pipeline hands its publishers: a track cycle, the tracks scans just updated, an
alert transition (the alert and what it is about), or a sensor's health."""


def recorded(output: PipelineOutput) -> tuple[float, str, Any]:
    """An output as `cuas replay` writes it: (time, recording topic, wire message)."""
    if isinstance(output, Transition):
        return output.alert.t, TOPIC_ALERT, output.alert
    if isinstance(output, wire.TrackCycle):
        return output.t, TOPIC_TRACKS, output
    if isinstance(output, wire.TrackUpdate):
        return output.t, TOPIC_TRACK_UPDATES, output
    return output.t, TOPIC_SENSOR, output


@dataclass(frozen=True, slots=True)
class PipelineCounters:
    """What the pipeline has done so far, for summaries, logs and health."""

    detections: int  # accepted from sensors
    detections_fused: int  # through the tracker
    rejects: dict[str, int]  # by reason, all sensors
    late: int  # scans rejected as too late
    late_fused: int  # scans fused by retrodiction
    not_fused: int  # reports of a kind no stage fuses
    tracks_live: int
    tracks_initiated: int
    tracks_confirmed: int
    tracks_shed: int  # over tracker.max_tracks
    cycles: int
    track_updates: int  # update messages handed out (each may cover several scans)
    alert_transitions: int
    faults: dict[str, int]  # scans and cycles lost to a fault in fusion, by stage


class FusionPipeline:
    """One camp's fusion core, with no I/O of its own."""

    def __init__(self, config: CampConfig, track_updates: bool = False) -> None:
        """`track_updates`: keep the tracks each scan updates for `take_update` (the live
        service's per-scan publication); off, nothing is kept and nothing is handed out."""
        self.config = config
        self.track_updates = track_updates
        self._updated: list[NDArray[np.int64]] = []  # ids updated since the last take
        self.frame = config.local_frame()
        self.ingest = Ingest(config)
        self.scans = ScanBuilder(config.sensors, self.frame)
        self.tracker = Tracker.from_config(
            config.tracker,
            len(config.sensors),
            annotators=[
                Classifier(config.tracker),
                IdentityKeeper(config.friendly, config.tracker.identity_switch_after),
            ],
            friendly_emitters=config.friendly.emitter_ids,
        )
        self.reorder: ReorderBuffer[wire.Report] = ReorderBuffer(
            config.tracker.reorder_window_s,
            sources={s.id: s.latency_s for s in config.sensors if self.scans.supports(s.kind)},
            adaptive=config.tracker.reorder_adaptive,
            quantile=config.tracker.reorder_quantile,
            margin_s=config.tracker.reorder_margin_s,
        )
        self.zones = ZoneSet(config.zones, self.frame)
        # The zones' reach from the camp origin, for `could_alert`.
        self._zone_reach_m = max(
            (float(np.hypot(*p.T).max()) for p in self.zones.polygons), default=0.0
        )
        self.threat = ThreatEvaluator(config.threat, self.zones)
        self._levels = ThreatLevels(self.threat)
        self.class_confidence = config.tracker.class_confidence
        self.alerts = AlertLifecycle(
            config.camp_id,
            config.alerts,
            self.zones,
            self.frame,
            config.sensors,
            min_closing_mps=config.threat.min_closing_mps,
        )
        self.picture = AirPicture(
            self.frame,
            [s.id for s in config.sensors],
            config.tracker.sensor_memory_s,
            config.tracker.class_confidence,
        )
        self.cycle_period = config.tracker.cycle_period_s
        self.health_period = config.tracker.sensor_health_period_s
        self.max_clock_ahead = config.tracker.max_clock_ahead_s
        self._next_cycle: int | None = None  # index k of the next cycle at k * period
        self._next_health = -math.inf
        self._health_marks: dict[str, tuple[float, int]] = {}
        self.clock: float | None = None  # wall clock when live; None: the data's own time
        self.late = 0
        self.late_fused = 0
        self.not_fused = 0
        self.cycles = 0
        self.updates = 0
        self.alert_transitions = 0
        self.faults: Counter[str] = Counter()  # "scan", "late scan", "cycle"
        self.capacity = CapacityStats()

    # --- input -----------------------------------------------------------------------

    def submit(
        self, topic: str, payload: bytes, received: float | None = None
    ) -> list[PipelineOutput]:
        """Take one sensor message received at `received` (default: the live clock, if any);
        returns what became due (cycles, alerts, health)."""
        if not self.hold(topic, payload, received):
            return []
        return self._run(self.reorder.release(self.clock))

    def hold(self, topic: str, payload: bytes, received: float | None = None) -> bool:
        """`submit` without the release: validate one message and hold its report in the
        reorder window; True if it is held. A report already late is fused at once (by
        retrodiction) or refused. The live service holds every report of a drain before it
        moves its clock and fuses them (`fuse_next`): a report it has read but not yet held
        could otherwise fall behind a cycle the clock emits meanwhile, and be late. When it
        was `received` also tells the reorder window whether its sensor is delivering a
        backlog (cuas/fusion/ordering.py)."""
        message = self.ingest.accept(topic, payload)
        if not isinstance(
            message, wire.RadarReport | wire.RfReport | wire.CameraReport | wire.RemoteIdReport
        ):
            return False
        received = self.clock if received is None else received
        if received is not None and message.t > received + self.max_clock_ahead:
            ahead = message.t - received
            self.ingest.reject(
                message.sensor_id,
                "future",
                f"measured {ahead:.2f} s after it was received: is the sensor's clock ahead?",
            )
            return False
        if not self.scans.supports(wire.report_kind(message)):
            self.not_fused += 1
            return False
        if received is not None:
            self.reorder.observe(message.sensor_id, received - message.t)
        if not self.reorder.push(message.t, message, message.sensor_id, received):
            for scan in self.scans.build(message):
                self._late(message.sensor_id, scan)
            return False
        return True

    def fuse_next(self, now: float) -> list[PipelineOutput] | None:
        """Fuse the oldest held report if the reorder window lets it go at wall time `now`,
        and return what it produced; None if none may go yet. One report a call, so the live
        service can hand on each scan's outputs before it fuses the next."""
        self.clock = now
        released = list(islice(self.reorder.release(now), 1))
        return self._run(released) if released else None

    def advance(self, now: float) -> list[PipelineOutput]:
        """The live service's clock tick: release what is due at wall time `now`, and emit
        the cycles that no sensor can add to any more, from the start: an empty picture is
        published too, so a consumer knows it is live before any sensor has spoken."""
        self.clock = now
        horizon = self.reorder.horizon(now)
        out = self._run(self.reorder.release_until(horizon))
        out += self._cycles_before(horizon)
        return out

    def flush(self) -> list[PipelineOutput]:
        """Process everything still held and emit the cycle that follows the last report."""
        out = self._run(self.reorder.flush())
        if self.tracker.t is not None:
            out += self._cycles_before(self.tracker.t + self.cycle_period)
        return out

    def acknowledge(self, alert_id: str, ack: wire.Ack) -> list[PipelineOutput]:
        """An operator acknowledged an alert: its `acknowledged` transition, if it is active."""
        tr = self.alerts.acknowledge(alert_id, ack.by, ack.t)
        if tr is None:
            return []
        self.alert_transitions += 1
        return [tr]

    def restore_alerts(self, active: list[Transition], next_number: int) -> None:
        """Take back the alerts a previous run left active, and go on numbering after
        `next_number - 1` so alert ids stay unique in the journal."""
        self.alerts.restore([(tr.alert, tr.subject) for tr in active])
        self.alerts.next_number = next_number

    def next_due(self) -> float | None:
        """The time at which `advance` will next have something to do (a held report to
        release, or a cycle to emit) if no report arrives first; None: nothing pending."""
        due = [self.reorder.due(t) for t in (self.reorder.oldest,) if t is not None]
        if self._next_cycle is not None:
            due.append(self.reorder.due(self._next_cycle * self.cycle_period))
        return min(due, default=None)

    @property
    def newest_measurement(self) -> float:
        """The latest measurement time submitted (-inf before the first report)."""
        return self.reorder.newest

    def counters(self) -> PipelineCounters:
        return PipelineCounters(
            detections=sum(s.detections for s in self.ingest.sensors.values()),
            detections_fused=self.tracker.stats.detections,
            rejects=dict(self.ingest.rejects.by_reason()),
            late=self.late,
            late_fused=self.late_fused,
            not_fused=self.not_fused,
            tracks_live=len(self.tracker.tracks),
            tracks_initiated=self.tracker.stats.initiated,
            tracks_confirmed=self.tracker.stats.confirmed,
            tracks_shed=self.capacity.total,
            cycles=self.cycles,
            track_updates=self.updates,
            alert_transitions=self.alert_transitions,
            faults=dict(self.faults),
        )

    # --- processing ------------------------------------------------------------------

    def _run(self, released: Any) -> list[PipelineOutput]:
        out: list[PipelineOutput] = []
        for _, report in released:
            for scan in self.scans.build(report):
                if self.tracker.t is not None and scan.t < self.tracker.t:
                    # A detection-level time behind the tracker: the report was on time,
                    # this part of it is not.
                    self._late(report.sensor_id, scan)
                    continue
                out += self._cycles_before(scan.t)
                try:
                    out += self._fuse(scan)
                except Exception as error:
                    self._fault("scan", error, report.sensor_id, scan)
        return out

    def _fuse(self, scan: Scan) -> list[PipelineOutput]:
        """Fuse one scan on time; the alert transitions it caused."""
        self.tracker.process(scan)
        table = self.tracker.tracks
        enforce(table, self.config.tracker.max_tracks, self.capacity)
        rows = (table.t_update[: table.n] == scan.t).nonzero()[0]
        if self.track_updates and rows.size:
            self._updated.append(table.track_id[rows])
        return self._alerts_after(scan.t, rows)

    def _fault(
        self, stage: str, error: Exception, sensor_id: str | None = None, scan: Scan | None = None
    ) -> None:
        """A defect raised while fusing a scan or building a cycle: count it, log it with its
        traceback (the first of each stage, then every hundredth), drop what it was fusing."""
        self.faults[stage] += 1
        n = self.faults[stage]
        what = f"{stage} at {scan.t:.3f}" if scan is not None else stage
        if sensor_id is not None and scan is not None:
            self.ingest.reject(
                sensor_id, "fusion_fault", f"{what} not fused: {type(error).__name__}: {error}"
            )
        if n == 1 or n % 100 == 0:
            log.error("fusion fault #%d: %s dropped, the core goes on", n, what, exc_info=error)

    def take_update(self) -> wire.TrackUpdate | None:
        """The tracks that scans updated since the last call, each once, in its state now
        (at the tracker's time); None if there were none. Taking them when the publishers are
        ready coalesces a burst of scans into one message: a track updated by several is
        carried once, newest state."""
        if not self._updated:
            return None
        ids = np.concatenate(self._updated)
        self._updated.clear()
        table = self.tracker.tracks
        rows = np.isin(table.track_id[: table.n], ids).nonzero()[0]  # deleted ones: gone
        if not rows.size or self.tracker.t is None:
            return None
        t = self.tracker.t
        live = table.rows(rows)
        # A coasting track that a scan just updated is confirmed again at the lifecycle's next
        # pass (updated within `coast_after_s`); its update says so at once.
        live.status[live.status == COASTING] = CONFIRMED
        snap, geo, threat, classes = self._evaluate(t, live)
        self.updates += 1
        return self.picture.update(snap, geo, threat.names, classes)

    @property
    def update_pending(self) -> bool:
        """Whether scans updated tracks since the last `take_update`."""
        return bool(self._updated)

    def _alerts_after(self, t: float, updated: NDArray[np.intp]) -> list[PipelineOutput]:
        """Threat and alerts for the firm tracks the scan at `t` just updated (event-driven:
        the operator hears at once, not on the next cycle).

        Two passes keep it cheap: the threat of every updated track from its zones and course
        alone (no geodetic position), then the full evaluation only for the few the alert
        lifecycle would act on (raise or escalate); a track at alerting threat whose debounce
        this update only extends (one at 250 Hz of radar scans: some 125 updates before its
        0.5 s are up) has its evidence counted without it. `updated`: the table rows it
        updated."""
        table = self.tracker.tracks
        rows = updated[table.status[updated] != TENTATIVE]
        rows = rows[self.could_alert(table.x[rows])]
        if not rows.size:
            return []
        level = self._first_pass(t, rows)
        wanted = self.alerts.concerned(table.track_id[rows].tolist(), level)
        # Tracks at alerting threat whose debounce this scan only extends need nothing more.
        pending = (wanted & (level >= self.alerts.raise_rank)).nonzero()[0]
        if pending.size:
            counted = self.alerts.count_evidence(
                table.track_id[rows[pending]].tolist(),
                t,
                table.t_update[rows[pending]].tolist(),
                level[pending].tolist(),
            )
            wanted[pending[counted]] = False
        if not wanted.any():
            return []
        transitions = self.alerts.observe(*self._threat(t, table.rows(rows[wanted])))
        self.alert_transitions += len(transitions)
        return list(transitions)

    def _first_pass(self, t: float, rows: NDArray[np.intp]) -> NDArray[np.int64]:
        """Threat levels of table rows from their zones and course alone (no geodetic
        position): one compiled pass when the kernels are on (`threat_pass`), else the
        evaluator's, which is the reference."""
        table = self.tracker.tracks
        if kernels.ENABLED:
            return self._levels(
                table.x[rows],
                table.P[rows],
                table.status[rows],
                table.friendly[rows],
                table.class_logp[rows],
                table.class_bare[rows],
                table.t_vouched[rows],
            )
        return self._threat(t, table.rows(rows))[2].level

    def could_alert(self, x: NDArray[np.float64]) -> NDArray[np.bool_]:
        """A cheap, conservative filter of states (k, 6): False only where the track can be
        neither inside a zone nor within `threat.eta_medium_s` of the perimeter at its
        present speed, so its threat is below `medium` and no alert can be raised or
        escalated for it (tests/test_event_alerts.py checks this against ThreatEvaluator)."""
        r = np.hypot(x[:, 0], x[:, 1])
        speed = np.hypot(x[:, 3], x[:, 4])
        return r - self._zone_reach_m <= speed * self.config.threat.eta_medium_s + 1.0

    def _threat(
        self, t: float, live: TrackRows
    ) -> tuple[TrackSnapshot, TrackGeometry, ThreatPicture]:
        """Snapshot, geometry and threat of some table rows at `t` (the tracker's time); the
        geometry's geodetic position is converted only if something reads it."""
        snap, geo, threat, _ = self._evaluate(t, live)
        return snap, geo, threat

    def _evaluate(
        self, t: float, live: TrackRows
    ) -> tuple[TrackSnapshot, TrackGeometry, ThreatPicture, PublishedClasses]:
        """`_threat`, and the rows' published classes."""
        snap = TrackSnapshot(t, live, self.tracker.tracks.none, np.zeros(len(live), dtype=bool))
        geo = track_geometry(snap, self.zones, self.frame)
        classes = published_classes(live.class_logp, self.class_confidence)
        return snap, geo, self.threat.evaluate(snap, geo, classes), classes

    def _late(self, sensor_id: str, scan: Scan) -> None:
        """A scan measured before what was already fused: fused by retrodiction when the
        configuration says so and it is not too old, otherwise rejected as `late`."""
        lag = (self.tracker.t if self.tracker.t is not None else scan.t) - scan.t
        cfg = self.config.tracker
        if cfg.late_policy == "retrodict" and lag <= cfg.max_lag_s:
            try:
                self.tracker.process_late(scan)
            except Exception as error:
                self._fault("late scan", error, sensor_id, scan)
                return
            self.late_fused += 1
            return
        self.late += 1
        self.ingest.reject(
            sensor_id, "late", f"measured at {scan.t:.3f}, {lag:.2f} s behind the picture"
        )

    def _silent_sensors(self, t: float) -> list[bool]:
        """Sensors that stopped reporting: heartbeats missed, or a `fault` of their own."""
        return [
            _silence(stats, t) is not None or stats.state == "fault"
            for stats in self.ingest.sensors.values()
        ]

    def _cycles_before(self, t: float) -> list[PipelineOutput]:
        """Emit every cycle strictly before measurement time `t`."""
        if self._next_cycle is None:
            self._next_cycle = math.ceil(t / self.cycle_period)
        out: list[PipelineOutput] = []
        while (cycle_t := self._next_cycle * self.cycle_period) < t:
            if self._updated:  # what scans updated before this cycle goes out before it
                update = self.take_update()
                if update is not None:
                    out.append(update)
            try:
                out += self._cycle(cycle_t)
            except Exception as error:
                self._fault("cycle", error)
            self._next_cycle += 1
        return out

    def _cycle(self, t: float) -> list[PipelineOutput]:
        if self.tracker.t is not None:
            self.tracker.silent[:] = self._silent_sensors(t)
            self.tracker.housekeep(t)
        snap = self.tracker.snapshot(t)
        geo = track_geometry(snap, self.zones, self.frame)
        classes = published_classes(snap.live.class_logp, self.class_confidence)
        threat = self.threat.evaluate(snap, geo, classes)
        alerts = self.alerts.step(snap, geo, threat, *self._sensor_faults(t))
        out: list[PipelineOutput] = [*alerts, self.picture.cycle(snap, geo, threat.names, classes)]
        self.cycles += 1
        self.alert_transitions += len(alerts)
        if t >= self._next_health:
            out += [self._health(s, t) for s in self.ingest.sensors.values()]
            self._next_health = t + self.health_period
        return out

    def _sensor_faults(self, t: float) -> tuple[dict[str, str], set[str]]:
        """Sensors in fault (silent past their heartbeats, or saying so), with why, and the
        sensors heard and well. Sensors never heard are neither: they raise nothing."""
        faults: dict[str, str] = {}
        healthy: set[str] = set()
        for stats in self.ingest.sensors.values():
            silent_for = _silence(stats, t)
            if silent_for is not None:
                faults[stats.sensor_id] = f"silent for {silent_for:.0f} s"
            elif stats.state == "fault":
                faults[stats.sensor_id] = "reports a fault" + (
                    f": {stats.detail}" if stats.detail else ""
                )
            elif stats.t_last_report is not None or stats.t_last_status is not None:
                healthy.add(stats.sensor_id)
        return faults, healthy

    def _health(self, stats: SensorStats, t: float) -> wire.SensorHealth:
        t0, reports0 = self._health_marks.get(stats.sensor_id, (t, stats.reports))
        rate = (stats.reports - reports0) / (t - t0) if t > t0 else 0.0
        self._health_marks[stats.sensor_id] = (t, stats.reports)
        silent_for = _silence(stats, t)
        if silent_for is not None:
            state, detail = "fault", f"silent for {silent_for:.0f} s"
        elif stats.state is not None:
            state, detail = stats.state, stats.detail
        elif stats.reports:
            state, detail = "ok", "reporting, no heartbeat received"
        else:
            state, detail = "fault", "nothing received"
        return wire.SensorHealth(
            v=wire.VERSION,
            sensor_id=stats.sensor_id,
            kind=stats.kind,
            t=t,
            state=state,
            detail=detail,
            t_last_report=stats.t_last_report,
            t_last_status=stats.t_last_status,
            reports=stats.reports,
            detections=stats.detections,
            report_rate_hz=round(rate, 3),
            rejects=dict(sorted(stats.rejects.items())),
        )


def _silence(stats: SensorStats, t: float) -> float | None:
    """How long a sensor that was heard has been silent at `t`, if past the heartbeat timeout."""
    heard = max(stats.t_last_status or -math.inf, stats.t_last_report or -math.inf)
    if heard > -math.inf and t - heard > HEARTBEAT_TIMEOUT_S:
        return t - heard
    return None
