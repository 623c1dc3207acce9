"""The peer to beat: a standard Stone Soup multi-target tracker run over a cuas recording.

Components are the textbook Stone Soup set-up for a 3-D radar: an EKF
(`CartesianToElevationBearingRange` measurements, nearly-constant-velocity motion in 3-D), a
Mahalanobis `DistanceHypothesiser` gated at the same chi-square probability as ours,
`GNNWith2DAssignment`, a
`MultiMeasurementInitiator` (3 points) and a deleter after as many missed scans as our tracker
waits before deleting. Its output is a `Snapshot` per scan, so `simulators.scoring` scores
it with the very code that scores our tracker.

Conventions: our azimuth is clockwise from true north, Stone Soup's bearing counter-clockwise
from the x (east) axis, so bearing = 90 deg - az; elevation is above the horizontal in both.
The state is [e, ve, n, vn, u, vu]. The sensor-to-camp rotation (earth curvature, under
0.03 deg within 3 km) is ignored; it is exactly zero for a radar at the camp origin.

Timing covers only the tracking loop (`next(tracker)`): reading the recording and building
Stone Soup `Detection` objects are excluded, which if anything flatters Stone Soup.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.stats import chi2
from stonesoup.base import Property
from stonesoup.buffered_generator import BufferedGenerator
from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
from stonesoup.deleter.time import UpdateTimeStepsDeleter
from stonesoup.hypothesiser.distance import DistanceHypothesiser
from stonesoup.initiator.simple import MultiMeasurementInitiator
from stonesoup.measures import Euclidean, Mahalanobis
from stonesoup.metricgenerator.ospametric import GOSPAMetric
from stonesoup.models.measurement.nonlinear import CartesianToElevationBearingRange
from stonesoup.models.transition.linear import (
    CombinedLinearGaussianTransitionModel,
    ConstantVelocity,
)
from stonesoup.predictor.kalman import ExtendedKalmanPredictor
from stonesoup.reader.base import DetectionReader
from stonesoup.tracker.simple import MultiTargetTracker
from stonesoup.types.angle import Bearing, Elevation
from stonesoup.types.array import CovarianceMatrix, StateVector
from stonesoup.types.detection import Detection
from stonesoup.types.state import GaussianState, State
from stonesoup.updater.kalman import ExtendedKalmanUpdater

from cuas.config import CampConfig, SensorConfig
from cuas.io.recording import read_records
from cuas.topics import report_topic
from cuas.wire import RadarReport, decode_report
from simulators.scoring import Snapshot, gospa

EPOCH = dt.datetime(1970, 1, 1)
POSITION = (0, 2, 4)


def to_datetime(t: float) -> dt.datetime:
    """UNIX seconds -> the naive UTC datetime Stone Soup works with."""
    return EPOCH + dt.timedelta(seconds=t)


def to_unix(when: dt.datetime) -> float:
    return (when - EPOCH).total_seconds()


@dataclass(frozen=True)
class RadarScans:
    """The radar reports of a recording, in measurement-time order, with their radar."""

    sensor: SensorConfig
    position_enu: np.ndarray  # the radar in camp ENU
    reports: list[RadarReport]

    @property
    def detections(self) -> int:
        return sum(len(r.detections) for r in self.reports)


def load_radar_scans(recording: str | Path, camp: CampConfig) -> RadarScans:
    """Read every report of the camp's (first) radar from a recording."""
    sensor = next(s for s in camp.sensors if s.kind == "radar")
    topic = report_topic(sensor.id)
    reports = [decode_report(r.payload) for r in read_records(recording) if r.topic == topic]
    frame = camp.local_frame()
    position = frame.sensor_frame(sensor.lat, sensor.lon, sensor.alt_m).position
    reports = [r for r in reports if isinstance(r, RadarReport)]
    return RadarScans(sensor, position, sorted(reports, key=lambda r: r.t))


class _ScanFeed(DetectionReader):
    """Hands Stone Soup one scan at a time, converting our reports lazily (and timing it)."""

    reports: list = Property(doc="RadarReports in time order")
    model: CartesianToElevationBearingRange = Property(doc="the radar's measurement model")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.convert_s = 0.0

    @BufferedGenerator.generator_method
    def detections_gen(self) -> Iterator[tuple[dt.datetime, set[Detection]]]:
        for report in self.reports:
            started = time.perf_counter()
            when = to_datetime(report.t)
            scan = {
                Detection(
                    StateVector(
                        [
                            Elevation(np.radians(d.el_deg)),
                            Bearing(np.radians(90.0 - d.az_deg)),
                            d.range_m,
                        ]
                    ),
                    timestamp=when,
                    measurement_model=self.model,
                )
                for d in report.detections
            }
            self.convert_s += time.perf_counter() - started
            yield when, scan


def build_tracker(
    camp: CampConfig, scans: RadarScans, feed_reports: list[RadarReport]
) -> tuple[MultiTargetTracker, _ScanFeed]:
    """The Stone Soup tracker, with settings taken from the camp's tracker section."""
    s, cfg = scans.sensor, camp.tracker
    model = CartesianToElevationBearingRange(
        ndim_state=6,
        mapping=POSITION,
        noise_covar=CovarianceMatrix(
            np.diag(
                [
                    np.radians(s.sigma_el_deg) ** 2,
                    np.radians(s.sigma_az_deg) ** 2,
                    s.sigma_range_m**2,
                ]
            )
        ),
        translation_offset=StateVector(scans.position_enu.reshape(3, 1)),
    )
    q_h, q_v = cfg.accel_noise_mps2**2, cfg.accel_noise_up_mps2**2
    transition = CombinedLinearGaussianTransitionModel(
        [ConstantVelocity(q_h), ConstantVelocity(q_h), ConstantVelocity(q_v)]
    )
    predictor = ExtendedKalmanPredictor(transition)
    updater = ExtendedKalmanUpdater(model)
    gate = float(np.sqrt(chi2.ppf(cfg.gate_probability, df=3)))  # Mahalanobis distance, not d^2
    hypothesiser = DistanceHypothesiser(
        predictor, updater, measure=Mahalanobis(), missed_distance=gate
    )
    associator = GNNWith2DAssignment(hypothesiser)
    v, vz = cfg.init_speed_sigma_mps, cfg.init_vspeed_sigma_mps
    prior = GaussianState(
        StateVector(np.zeros((6, 1))), CovarianceMatrix(np.diag([0, v**2, 0, v**2, 0, vz**2]))
    )
    initiator = MultiMeasurementInitiator(
        prior_state=prior,
        measurement_model=model,
        deleter=UpdateTimeStepsDeleter(time_steps_since_update=2),
        data_associator=associator,
        updater=updater,
        min_points=cfg.confirm_m,
    )
    steps = max(1, round(cfg.delete_after_s / s.update_period_s))
    feed = _ScanFeed(reports=feed_reports, model=model)
    tracker = MultiTargetTracker(
        initiator=initiator,
        deleter=UpdateTimeStepsDeleter(time_steps_since_update=steps),
        detector=feed,
        data_associator=associator,
        updater=updater,
    )
    return tracker, feed


@dataclass
class StoneSoupRun:
    """What the Stone Soup run did: its tracks per scan and how fast it went."""

    snapshots: list[Snapshot] = field(default_factory=list)
    scans_run: int = 0
    scans_total: int = 0
    detections: int = 0  # processed in the scans that ran
    detections_total: int = 0
    wall_s: float = 0.0  # the tracking loop only
    convert_s: float = 0.0  # building Detection objects (excluded from wall_s)
    tracks_started: int = 0

    @property
    def truncated(self) -> bool:
        return self.scans_run < self.scans_total

    @property
    def detections_per_s(self) -> float:
        return self.detections / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def ms_per_scan(self) -> float:
        return 1000.0 * self.wall_s / self.scans_run if self.scans_run else 0.0

    @property
    def t_last(self) -> float:
        return self.snapshots[-1].t if self.snapshots else float("-inf")


def run_stonesoup(
    recording: str | Path,
    camp: CampConfig,
    max_scans: int | None = None,
    budget_s: float | None = None,
) -> StoneSoupRun:
    """Track a recording with Stone Soup, stopping after `max_scans` or once `budget_s` is spent.

    The budget is checked between scans, so the last scan may overrun it.
    """
    scans = load_radar_scans(recording, camp)
    reports = scans.reports[:max_scans] if max_scans is not None else scans.reports
    tracker, feed = build_tracker(camp, scans, reports)
    run = StoneSoupRun(scans_total=len(scans.reports), detections_total=scans.detections)
    seen: set[str] = set()
    it = iter(tracker)
    for report in reports:
        started = time.perf_counter()
        when, tracks = next(it)
        run.wall_s += time.perf_counter() - started
        run.scans_run += 1
        run.detections += len(report.detections)
        ids = tuple(t.id for t in tracks)
        seen.update(ids)
        enu = np.array(
            [np.asarray(t.state_vector[POSITION, 0], dtype=float).ravel() for t in tracks]
        )
        run.snapshots.append(Snapshot(to_unix(when), ids, enu.reshape(len(ids), 3)))
        if budget_s is not None and run.wall_s - feed.convert_s >= budget_s:
            break
    run.convert_s = feed.convert_s
    run.wall_s -= feed.convert_s  # conversion happens inside next(); keep only tracking
    run.tracks_started = len(seen)
    return run


def stonesoup_gospa_difference(
    truth: Snapshot, tracks: Snapshot, c: float = 100.0, p: float = 1
) -> float:
    """Largest difference between Stone Soup's GOSPAMetric and `simulators.scoring.gospa`.

    A benchmark-time cross-check that both trackers are scored by a correct GOSPA.
    """
    now = to_datetime(truth.t)
    metric = GOSPAMetric(c=c, p=p, measure=Euclidean(mapping=(0, 1, 2)))
    theirs, _ = metric.compute_gospa_metric(
        [State(StateVector(x.reshape(3, 1)), timestamp=now) for x in tracks.enu],
        [State(StateVector(x.reshape(3, 1)), timestamp=now) for x in truth.enu],
    )
    ours = gospa(truth.enu, tracks.enu, c=c, p=p)
    v = theirs.value
    return max(
        abs(v["distance"] - ours.value),
        abs(v["localisation"] - ours.localisation),
        abs(v["missed"] - ours.missed),
        abs(v["false"] - ours.false),
    )
