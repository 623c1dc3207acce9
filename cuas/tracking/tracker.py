"""The tracker: runs predict -> gate -> associate -> update -> initiate -> lifecycle per scan."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from cuas.config import TrackerConfig
from cuas.tracking import camera_drag, kernel_cache, kernels, radar_kernels, site_classes
from cuas.tracking.angle_screening import (
    cannot_tell_apart,
    contested_pairs,
    route_by_emitter,
    screen_bearings,
    unambiguous,
    unplaced_holders,
)
from cuas.tracking.association import global_nearest_neighbour
from cuas.tracking.calibration import NoiseCalibration
from cuas.tracking.classification import likely
from cuas.tracking.emitter_binding import EmitterEvidence
from cuas.tracking.emitter_claims import EmitterClaims
from cuas.tracking.emitter_codes import EmitterCodes
from cuas.tracking.emitter_ids import EmitterIds
from cuas.tracking.formation import formation_plots
from cuas.tracking.formation_velocity import not_birds, shared_velocity, velocity_update
from cuas.tracking.gating import Hypotheses, gate_threshold, hypothesise
from cuas.tracking.imm import InteractingMultipleModel, combine, gaussian_loglik
from cuas.tracking.initiation import SinglePointInitiator
from cuas.tracking.lifecycle import LifecycleRules, orphaned, transmitting, vouch
from cuas.tracking.lines_of_sight import HeightPrior
from cuas.tracking.measurements import MeasurementModel
from cuas.tracking.motion import POS, NearlyConstantVelocity
from cuas.tracking.passive_refit import PassiveRefit
from cuas.tracking.retrodiction import late_update, retrodict
from cuas.tracking.scan import CLASSES, Scan
from cuas.tracking.surprises import SurpriseHold
from cuas.tracking.tracks import COASTING, TENTATIVE, TrackRows, TrackTable
from cuas.tracking.triangulation import PassiveInitiator
from cuas.tracking.update import (
    innovation_covariance,
    kalman_update,
    store_updated_modes,
    update_modes,
)

Array = NDArray[np.float64]
Index = NDArray[np.intp]
ModeArrays = tuple[Array, Array, Array]  # mode probabilities, states, covariances
_SILENT = [CLASSES.index(c) for c in ("bird", "clutter")]  # what never carries a radio link
# How far beyond its estimate a bearings-only track's lines must still cross (sigmas).
RANGE_SIGMAS = 2.0
# Lines of sight that cross at this many times their combined noise place the target in
# range to a tenth of its distance: a crossing as good as the `min_crossing_deg` one, however
# much smaller (two cameras of 0.1-0.3 degrees: 1.4-4.2 degrees).
CROSSING_SIGMAS = 10.0
# A tentative track no radar placed is charged camera misses only after this long unseen.
PASSIVE_SILENCE_S = 1.0
# How fast a drone may cross a camera's view: its top speed, at no nearer than the range the
# track's uncertainty allows (and never nearer than the floor), bounds its angular rate.
MAX_SPEED_MPS = 60.0
MIN_TURN_RANGE_M = 150.0
# A radar plot shadows a firm track no radar placed (`_plots_elsewhere`) only inside this
# gate of the track's own: an echo's plot is its drone's, and falls in it 99 times in 100.
ECHO_PROBABILITY = 0.99
_RADAR_ANGLES = np.array([False, True, True, False])  # range, azimuth, elevation, range rate
_POSITION = np.arange(POS.start, POS.stop)  # `POS` as indices, for `_impose`


@dataclass(frozen=True)
class TrackSnapshot:
    """All live tracks predicted to time `t`, plus the tracks deleted since the last one.

    Both are copies: a snapshot never changes after it is taken. Deleted tracks keep the
    state of their last update (not predicted).
    """

    t: float
    live: TrackRows
    deleted: TrackRows
    sensors_silent: NDArray[np.bool_]  # live tracks coasting because their sensors went silent

    def __len__(self) -> int:
        return len(self.live)


class Annotator(Protocol):
    """A stage that keeps what and who a track is, beside the kinematic filter.

    Called with the table rows of tracks just initiated from, or just updated with,
    detections `dets` of `scan` (row i goes with detection dets[i]). Each returns the rows
    whose emitter ids it changed (None: none), which the tracker passes on to the other
    annotators' optional `reidentified(tracks, rows)`, as it does the ids it changes itself:
    what a track is may hang on whose emitter it holds (`classification.py`).
    """

    def initiated(
        self, tracks: TrackTable, rows: Index, scan: Scan, dets: Index
    ) -> Index | None: ...

    def updated(self, tracks: TrackTable, rows: Index, scan: Scan, dets: Index) -> Index | None: ...


@dataclass
class TrackerStats:
    scans: int = 0
    detections: int = 0
    updates: int = 0
    initiated: int = 0
    confirmed: int = 0
    deleted: int = 0
    late_updates: int = 0
    passive_refits: int = 0
    passive_courses: int = 0  # bearings-only tracks given their lines' course (bearings_tma.py)
    birth_heights_lapsed: int = 0  # bearings-only tracks whose birth's height went unconfirmed
    disowned: int = 0  # passive tracks whose camera sightings were a radar track's object
    camera_drags: int = 0  # radar tracks a camera's lines dragged, barred from cameras a while
    passers_by: int = 0  # looks at which a transmitter's track was no passing radar track's echo


class _Graveyard:
    """Rows of tracks deleted since the last snapshot."""

    def __init__(self, empty: TrackRows) -> None:
        self._empty = empty
        self._batches: list[TrackRows] = []

    def bury(self, rows: TrackRows) -> None:
        self._batches.append(rows)

    def drain(self) -> TrackRows:
        batches, self._batches = self._batches, []
        return TrackRows.concat(batches) if batches else self._empty


Hypothesiser = Callable[[Array, Array, Scan, float], Hypotheses]
Associator = Callable[[Index, Index, Array, float], Index]
Updater = Callable[[Array, Array, Array, Array, Array, Array], tuple[Array, Array]]


@dataclass(frozen=True)
class TrackerStages:
    """The tracker's swappable parts, in Stone Soup's terms.

    `motion` predicts (an IMM of motion models), `hypothesiser` gates (track, detection)
    pairs, `associator` picks one detection per track, `updater` is the Kalman update,
    `initiator` and `passive` start tracks from detections no track took (with and without
    range), and `rules` confirm, coast and delete.
    """

    motion: InteractingMultipleModel
    rules: LifecycleRules
    initiator: SinglePointInitiator
    passive: PassiveInitiator
    gate_probability: float
    # An angle-only pair is used only if no rival pair is within this of its squared
    # Mahalanobis distance (a likelihood ratio of exp(margin / 2)).
    angle_margin: float = 9.0
    # An angle-only detection updates a track that a radar or Remote ID placed within the
    # sensor memory only inside this (tighter) gate probability: see `process`.
    placed_angle_probability: float = 0.99
    identity_gate_m: float = 300.0  # a Remote ID report goes to its serial's track this near
    handover_sigma_m: float = 150.0  # a bearings-only track this vague takes no radar plot
    passive_noise_scale: float = 1.0  # process noise of never-placed tracks, times the motion's
    calibrate_noise: bool = True  # learn angle-only sensors' real noise (calibration.py)
    refit_passive: bool = True  # refit bearings-only tracks from their lines (passive_refit.py)
    # A camera sighting that fits its placed track badly waits for the camera to see the same
    # again (surprises.py).
    hold_surprises: bool = True
    # A track loses an emitter id once the bearings naming it, from finders that cover the
    # track, misfit by this running share (a bearing outside the gate a whole misfit, one
    # inside graded by its distance, `EmitterIds.check`); the share's memory per bearing.
    emitter_misfit_share: float = 0.5
    emitter_memory: float = 0.7
    # Bind a swarm member's emitter id to the track its ambiguous bearings fit best, once
    # that track leads every other by this many nats (emitter_binding.py); 0 turns it off.
    emitter_bind_margin: float = 4.0
    # A track holding no emitter id takes one only if that emitter's recent bearings fit it
    # from every finder (emitter_claims.py); refused, it is barred from that emitter, unless
    # it is one of these (the camp's friendly links: a friendly's own track, refused its link
    # before a finder's noise is learnt, must be able to claim it again).
    check_emitter_claims: bool = True
    trusted_emitters: frozenset[str] = frozenset()
    # Weigh a radar plot by the other plots its track could have taken, as JPDA does
    # (formation.py), so a formation's swapped plots do not drag tracks across.
    weigh_formation_plots: bool = True
    # Firm radar tracks this near whose velocities agree are told each other's, each
    # member's velocity spread about the formation's this (formation_velocity.py); 0 m
    # turns it off.
    formation_radius_m: float = 150.0
    formation_spread_mps: float = 3.0
    # Remote ID reports in a row that fit an unidentified twin of their serial's track before
    # the twin is deleted (`_by_identity`).
    echo_reports: int = 1
    hypothesiser: Hypothesiser = hypothesise
    associator: Associator = global_nearest_neighbour
    updater: Updater = kalman_update

    @classmethod
    def from_config(cls, cfg: TrackerConfig) -> TrackerStages:
        """The stages a camp's `[tracker]` settings describe."""
        return cls(
            motion=motion_model(cfg),
            rules=LifecycleRules(
                confirm_m=cfg.confirm_m,
                confirm_n=cfg.confirm_n,
                coast_after_s=cfg.coast_after_s,
                delete_after_s=cfg.delete_after_s,
                max_pos_sigma_m=cfg.max_pos_sigma_m,
                orphan_max_pos_sigma_m=cfg.orphan_max_pos_sigma_m,
                max_pos_sigma_fraction=cfg.max_pos_sigma_fraction,
                memory_s=cfg.sensor_memory_s,
                bird_delete_after_s=cfg.bird_delete_after_s,
                bird_confidence=cfg.class_confidence,
            ),
            initiator=SinglePointInitiator(cfg.init_speed_sigma_mps, cfg.init_vspeed_sigma_mps),
            passive=PassiveInitiator(
                altitude_m=cfg.passive_height_m,
                altitude_sigma_m=cfg.passive_height_sigma_m,
                speed_sigma=cfg.init_speed_sigma_mps,
                vspeed_sigma=cfg.init_vspeed_sigma_mps,
            ),
            gate_probability=cfg.gate_probability,
            passive_noise_scale=(cfg.passive_accel_noise_mps2 / cfg.accel_noise_mps2) ** 2,
            calibrate_noise=cfg.calibrate_noise,
            formation_radius_m=cfg.formation_radius_m,
            formation_spread_mps=cfg.formation_spread_mps,
        )


class Tracker:
    """Multi-sensor, multi-target tracker over scans delivered in measurement-time order.

    Built from its stages (`TrackerStages`), usually with `Tracker.from_config`.
    """

    def __init__(
        self, stages: TrackerStages, n_sensors: int, annotators: Sequence[Annotator] = ()
    ) -> None:
        self.imm = stages.motion
        self.rules = stages.rules
        self.initiator = stages.initiator
        self.passive = stages.passive
        self.gate_probability = stages.gate_probability
        self.angle_margin = stages.angle_margin
        self.placed_angle_probability = stages.placed_angle_probability
        self.identity_gate_m = stages.identity_gate_m
        self.handover_sigma_m = stages.handover_sigma_m
        self.passive_noise_scale = stages.passive_noise_scale
        self.calibration = NoiseCalibration(n_sensors) if stages.calibrate_noise else None
        height = HeightPrior(stages.passive.altitude_m, stages.passive.altitude_sigma_m)
        self.refit = PassiveRefit(height) if stages.refit_passive else None
        self.surprises = SurpriseHold() if stages.hold_surprises else None
        self.weigh_formation_plots = stages.weigh_formation_plots
        self.formation_radius_m = stages.formation_radius_m
        self.formation_spread_mps = stages.formation_spread_mps
        self.echo_reports = stages.echo_reports
        self.emitter_ids = EmitterIds(
            stages.emitter_misfit_share,
            stages.emitter_memory,
            EmitterEvidence(stages.emitter_bind_margin) if stages.emitter_bind_margin > 0 else None,
            EmitterClaims(trusted=stages.trusted_emitters) if stages.check_emitter_claims else None,
        )
        self.min_crossing_deg = stages.passive.min_crossing_deg
        self.hypothesise = stages.hypothesiser
        self.associate = stages.associator
        self.kalman_update = stages.updater
        self.n_sensors = n_sensors
        self.silent = np.zeros(n_sensors, dtype=bool)  # sensors in fault (set by the pipeline)
        self.localising = np.zeros(n_sensors, dtype=bool)  # sensors that place a target alone
        self.hearing = np.zeros(n_sensors, dtype=bool)  # RF direction finders
        self.radar_t = -math.inf  # the last radar scan's time: is a radar at work?
        self.heighting = np.zeros(n_sensors, dtype=bool)  # sensors that measure height too
        self.viewing = np.zeros(n_sensors, dtype=bool)  # cameras
        self.sites = np.full((n_sensors, 3), np.nan)  # where each sensor stands (camp ENU)
        self.site_sigma = np.full(n_sensors, np.nan)  # an angle sensor's noise (rad), once seen
        self.watchers: dict[int, MeasurementModel] = {}  # sensors whose silence is a miss
        self.tracks = TrackTable(n_sensors, mode_prior=self.imm.quiet)
        self.t: float | None = None
        self.stats = TrackerStats()
        self.annotators = list(annotators)
        # Whether tracks hold the emitter ids their bearings name (`IdentityKeeper`).
        self.names_emitters = any(getattr(a, "names_emitters", False) for a in self.annotators)
        self._graveyard = _Graveyard(self.tracks.none)
        kernel_cache.warm_up()  # compiled kernels are loaded here, not in the first scan

    @classmethod
    def from_config(
        cls,
        cfg: TrackerConfig,
        n_sensors: int,
        annotators: Sequence[Annotator] = (),
        friendly_emitters: Sequence[str] = (),
    ) -> Tracker:
        """A tracker with the stages a camp's `[tracker]` settings describe; a refused claim
        on one of the camp's `friendly_emitters` bars nothing (`TrackerStages.trusted_emitters`)."""
        stages = replace(
            TrackerStages.from_config(cfg), trusted_emitters=frozenset(friendly_emitters)
        )
        return cls(stages, n_sensors, annotators)

    def _threshold(self, dim: int) -> float:
        return gate_threshold(self.gate_probability, dim)

    def _placed_threshold(self, dim: int) -> float:
        return gate_threshold(self.placed_angle_probability, dim)

    def predict_to(self, t: float, keep_modes: bool = False) -> ModeArrays | None:
        """Advance every track to time `t` (which must not be earlier than the last scan).

        A track's IMM cycle (mix, predict, update) closes at each of its updates and at
        every point of a fixed grid of time (the IMM's `step_s`), whatever the sensors
        report: the modes (`mode_*`, at `t_mix`) move on at the grid points passed, and x
        and P become their combination predicted from there to `t`, the modes staying as
        they are. Cycles closed at every scan of every sensor made a radar track depend on
        how often the cameras, finders and Remote ID receivers report (random camp 0: with
        them, the radar's bird tracks came out otherwise than with the radar alone).

        With `keep_modes`, returns the modes of the live tracks (several modes) as predicted
        to `t` on the way (mu, xm, Pm, new arrays; height not bounded), or None where it
        predicted none: the update of a scan's tracks takes them instead of predicting their
        modes again."""
        ahead = None
        if self.t is None:
            self.t = t
            return ahead
        dt = t - self.t
        if dt < 0.0:
            raise ValueError(f"scan at {t} is older than the tracker time {self.t}")
        table = self.tracks
        n = table.n
        if dt > 0.0 and n:
            mu, xm, Pm = table.mode_p[:n], table.mode_x[:n], table.mode_P[:n]
            x, P, last_hit = table.x[:n], table.P[:n], table.last_hit[:n]
            scale = self._noise_scale(last_hit)
            if self.imm.n_modes > 1:  # one mode: no mixing, and its prediction composes
                step = self.imm.step_s
                k = math.floor(self.t / step)  # grid points are k * step, to the bit
                while k * step <= self.t:  # each passed once (the division rounds)
                    k += 1
                while k * step <= t:
                    grid = k * step
                    self.imm.advance(mu, xm, Pm, grid - table.t_mix[:n], scale)
                    self._bound_height(last_hit, grid, xm, Pm)
                    table.t_mix[:n] = grid
                    k += 1
            if keep_modes and self.imm.n_modes > 1:  # new arrays: no state kept between scans
                m = self.imm.n_modes
                ahead = np.empty((n, m)), np.empty((n, m, 6)), np.empty((n, m, 6, 6))
            self.imm.predict_into(mu, xm, Pm, t - table.t_mix[:n], x, P, scale, ahead)
            self._bound_height(last_hit, t, x[:, None], P[:, None])
        self.t = t
        return ahead

    def _predicted_modes(
        self, rows: Index, t: float, ahead: ModeArrays | None = None
    ) -> tuple[Array, Array, Array]:
        """The modes of tracks `rows` predicted from their last IMM cycle to `t` (new arrays:
        probabilities (p, M), states (p, M, 6), covariances (p, M, 6, 6)), height bounded
        as in `predict_to`; taken from `ahead` (every track's modes predicted to `t` by
        `predict_to`, with the same noise scales) when given."""
        table = self.tracks
        last_hit = table.last_hit[rows]
        if ahead is not None:  # the same prediction, made for every track: copies of rows
            mu, xm, Pm = ahead[0][rows], ahead[1][rows], ahead[2][rows]
        else:
            mu, xm, Pm = table.mode_p[rows], table.mode_x[rows], table.mode_P[rows]  # copies
            self.imm.advance(mu, xm, Pm, t - table.t_mix[rows], self._noise_scale(last_hit))
        self._bound_height(last_hit, t, xm, Pm)
        return mu, xm, Pm

    def _bound_height(self, last_hit: Array, t: float, xm: Array, Pm: Array) -> Index:
        """Reset to the height prior the vertical state of tracks that no sensor measuring
        height (radar, camera, Remote ID) updated within the sensor memory, once its
        uncertainty exceeds the prior's: bearings alone say nothing of height, and an
        unobserved vertical velocity would otherwise carry the track underground while its
        published sigma grew without bound. Edits the mode arrays (n, M, ...) in place (or
        a combination, as (n, 1, ...)); returns the rows it edited."""
        prior = self.passive
        if kernels.ENABLED:  # one compiled pass; the numpy below is the reference
            rows = kernels.vague_heights(Pm, prior.altitude_sigma_m**2)
        else:
            rows = (Pm[:, :, 2, 2].max(axis=1) > prior.altitude_sigma_m**2).nonzero()[0]
        if rows.size:  # few are that vague: the sensors' test only for them
            rows = rows[~self._updated_by(last_hit[rows], self.heighting, t)]
        if rows.size:
            self._prior_height(xm, Pm, rows)
        return rows

    def _prior_height(self, xm: Array, Pm: Array, rows: Index) -> None:
        """Modes `rows` of `xm`, `Pm` (n, M, ...; edited in place) take the height prior's
        height and vertical speed, uncorrelated with the rest of the state."""
        prior = self.passive
        for k in (2, 5):  # height and vertical speed: no correlation with the rest left
            Pm[rows, :, k, :] = 0.0
            Pm[rows, :, :, k] = 0.0
        xm[rows, :, 2] = prior.altitude_m
        xm[rows, :, 5] = 0.0
        Pm[rows, :, 2, 2] = prior.altitude_sigma_m**2
        Pm[rows, :, 5, 5] = prior.vspeed_sigma**2

    def _radar_at_work(self, t: float) -> bool:
        """Whether a radar scanned within the sensor memory before `t`."""
        return t - self.radar_t <= self.rules.memory_s

    def _updated_by(
        self, last_hit: Array, sensors: NDArray[np.bool_], t: float | None = None
    ) -> NDArray[np.bool_]:
        """Tracks (rows of `last_hit`) that one of `sensors` ever updated, or with `t`, updated
        within the sensor memory before `t`."""
        if kernels.ENABLED:  # one compiled pass; the numpy below is the reference
            since = -np.inf if t is None else t - self.rules.memory_s
            return kernels.updated_by(last_hit, sensors, since)
        if t is None:
            return (last_hit[:, sensors] > -np.inf).any(axis=1)
        return (last_hit[:, sensors] >= t - self.rules.memory_s).any(axis=1)

    def _noise_scale(self, last_hit: Array) -> Array | None:
        """Per-track process noise scale: `passive_noise_scale` for tracks that no sensor
        which places a target alone (radar, Remote ID) ever updated; None when all are 1."""
        if self.passive_noise_scale == 1.0 or not len(last_hit):
            return None
        placed = self._updated_by(last_hit, self.localising)
        if placed.all():
            return None
        return np.where(placed, 1.0, self.passive_noise_scale)

    def process(self, scan: Scan) -> None:
        """Fuse one scan into the track picture."""
        # A radar's scan updates most tracks, and takes their modes as predicted on the way;
        # a camera's or a finder's updates few (1-5 and 60-80 of 1,100 tracks a scan at
        # 1,000 drones), and keeping every track's would cost more than predicting theirs.
        radar = scan.model.can_initiate and scan.model.charges_misses
        if radar:
            self.radar_t = scan.t
        ahead = self.predict_to(scan.t, keep_modes=radar)
        scan = self._calibrated(scan)
        if self.localising[scan.sensor] != scan.model.can_initiate:
            ahead = None  # the noise scales the prediction took change (a sensor's first scan)
        self.localising[scan.sensor] = scan.model.can_initiate
        self.hearing[scan.sensor] = not (scan.model.can_initiate or scan.model.charges_misses)
        self.heighting[scan.sensor] = scan.model.dim >= 2
        self.viewing[scan.sensor] = scan.model.charges_misses and not scan.model.can_initiate
        self.sites[scan.sensor] = scan.model.geometry.frame.position
        if len(scan) and not scan.model.can_initiate and np.isnan(self.site_sigma[scan.sensor]):
            self.site_sigma[scan.sensor] = float(np.sqrt(np.median(scan.var[:, 0])))  # azimuth
        table = self.tracks
        n, k = table.n, len(scan)
        self.stats.scans += 1
        self.stats.detections += k
        threshold = self._threshold(scan.model.dim)
        x, P = table.x[:n], table.P[:n]
        hyps = self.hypothesise(x, P, scan, threshold)
        glimpsed = np.zeros(n, dtype=bool)  # looked at but neither hit nor missed
        angle_only = not scan.model.can_initiate
        camera = angle_only and scan.model.charges_misses
        if camera:
            table.t_camera_line[hyps.track] = scan.t
        firm = table.status[:n] != TENTATIVE
        placed = self._updated_by(table.last_hit[:n], self.localising)
        # Which tracks lie in an angle-only sensor's field of regard, once a scan: the
        # exclusions and the update opportunities both ask (a radar's exclusions do not).
        inside = None if scan.model.can_initiate else scan.model.geometry.covers(x[:, :3])
        emitters = None
        named = None  # tracks holding an emitter id this scan's bearings name
        if scan.labels is not None and self.hearing[scan.sensor]:
            emitters = EmitterCodes.of(scan.labels.emitter_id)
            named = emitters.held(table.emitter_id[:n]) > 0
        excluded = self._excluded(scan, placed, firm, inside, named)
        if emitters is not None:
            hyps, released = self.emitter_ids.check(table, scan, hyps, threshold, emitters)
            self._reidentified(released)
            self.emitter_ids.record(scan, emitters)
        raw = hyps
        if emitters is not None:
            bound = self.emitter_ids.bind(table, scan, raw, firm, threshold, emitters)
            self._reidentified(bound)
        forced = Hypotheses.empty(scan.model.dim)
        identified = scan.labels is not None and scan.labels.uas_id.count(None) != k
        if emitters is not None and not identified:  # a direction finder's scan
            holds = emitters.held(table.emitter_id[:n])
            routable = self._routable(firm)
            if not self._radar_at_work(scan.t):  # finders place
                routable = routable | unplaced_holders(firm, placed, holds, emitters, raw)
            near = self._near(scan.t)
            gated, hyps, ambiguous = screen_bearings(
                raw,
                excluded,
                firm,
                routable,
                emitters,
                holds,
                near,
                self._placed_threshold(scan.model.dim),
                k,
            )
            # A bearing that cannot tell two placed tracks apart moves neither, unless the
            # holder's record vouches for it, but still says what its emitter's track is: a
            # drone (its link).
            placed_now = firm & near & ~excluded
            shared = cannot_tell_apart(raw, hyps, placed_now, k)
            if shared.any():
                shared[shared] = ~self.emitter_ids.vouched(
                    table, scan, raw, hyps.subset(shared), placed_now
                )
            if shared.any():
                self._observe(scan, hyps.subset(shared), gated)
                # ... and its holder was heard there, though not moved: the lifecycle counts
                # the finder (`TrackTable.last_hit`), so that a transmitter the radar glimpses
                # now and then is not buried as a ghost between its plots.
                table.last_hit[hyps.track[shared], scan.sensor] = scan.t
                hyps = hyps.subset(~shared)
        else:
            hyps = hyps.subset(~excluded[hyps.track])
            if camera and len(hyps):
                # A track the camera's lines dragged waits for the radar (camera_drag.py).
                barred = camera_drag.barred(table, scan.t)[hyps.track]
                glimpsed[hyps.track[barred]] = True  # neither hit nor missed
                hyps = hyps.subset(~barred)
            if emitters is not None:
                hyps = route_by_emitter(
                    emitters, emitters.held(table.emitter_id[:n]), hyps, self._routable(firm), k
                )
            if radar and len(hyps):
                # A plot in the gate of a firm track a radar placed is that track's to take
                # (or refuse): a track from bearings alone, on the same drone, that took it
                # would become a second radar track of it, fed by the two drones' plots in turn.
                held = np.zeros(k, dtype=bool)
                held[hyps.det[(placed & firm)[hyps.track]]] = True
                hyps = hyps.subset(placed[hyps.track] | ~held[hyps.det])
            if identified:
                forced, hyps = self._by_identity(scan, hyps)
            gated = hyps
            ambiguous = np.zeros(k, dtype=bool)
            if angle_only and len(hyps):
                near = self._near(scan.t)
                limit = self._placed_threshold(scan.model.dim)
                if scan.model.charges_misses and self.refit is not None:
                    hyps = self._explained_sightings(scan, hyps, firm & near, placed, limit)
                hyps, ambiguous = unambiguous(hyps, firm, near, limit, k)

        # Firm (confirmed, coasting) tracks choose first, so that a tentative track born of
        # clutter never takes a detection away from a real target.
        first = hyps.subset(firm[hyps.track])
        first = first.subset(self.associate(first.track, first.det, first.d2, threshold))
        taken = np.zeros(k, dtype=bool)
        taken[first.det] = True
        second = hyps.subset(~firm[hyps.track] & ~taken[hyps.det])
        second = second.subset(self.associate(second.track, second.det, second.d2, threshold))
        assigned = _concat(_concat(forced, first), second)
        if angle_only and len(assigned):
            # A line of sight that fits another track (or a track that another line of sight
            # fits) almost as well would drag the track onto a neighbour's direction: in a
            # flock or a swarm, angles update only the pairs they single out.
            contested = contested_pairs(assigned, gated, firm, self.angle_margin, k)
            if contested.any() and scan.labels is not None:
                self._observe(scan, assigned.subset(contested), gated)
            assigned = assigned.subset(~contested)
            if self.calibration is not None:
                self._learn_noise(scan, assigned)
        if emitters is not None and len(assigned):
            assigned = self.emitter_ids.screen_claims(table, scan, assigned, emitters)
        if camera and self.refit is not None and len(assigned):
            assigned, glimpses = self._camera_sightings(scan, assigned, placed)
            glimpsed[glimpses] = True
        if camera and self.surprises is not None and len(assigned):
            assigned, held = self._surprising(scan, assigned, placed)
            glimpsed[held] = True
        rows = assigned.track
        if radar and len(assigned):
            self._reidentified(self.emitter_ids.check_radar(table, assigned))
            if self.viewing.any():  # a camp with cameras: were the plots' tracks camera-fed?
                fed = self._updated_by(table.last_hit[rows], self.viewing, scan.t)
                fed &= table.uas_id[rows] == None  # noqa: E711 (its drone's reports place it)
                self.stats.camera_drags += camera_drag.check(
                    table, assigned, fed, scan.t, self.rules.memory_s
                ).size
        if rows.size:
            weighed = None
            if radar and self.weigh_formation_plots:
                var = scan.var[assigned.det]
                shift, spread = formation_plots(
                    assigned,
                    gated,
                    n,
                    _RADAR_ANGLES[: scan.model.dim],
                    firm,
                    var,
                    table.class_logp[:n],
                )
                if spread.any() or shift.any():
                    weighed = (var + np.minimum(spread, var), shift)
            self._update(rows, scan, assigned, ahead, weighed)
            if radar and self.formation_radius_m > 0.0:
                self._share_velocity(rows[(firm & placed)[rows]])
            if radar:
                # A tentative track of lines of sight that a radar places for the first time
                # counts its hits from this plot: crossing lines of sight of far objects
                # made a tentative track that one clutter plot then confirmed, 900 m from
                # anything, and the alert followed it (random camp 4).
                first = rows[~placed[rows] & (table.status[rows] == TENTATIVE)]
                table.history[first] = 0
            table.t_update[rows] = scan.t
            table.last_hit[rows, scan.sensor] = scan.t
            table.last_named[rows[self._naming(scan, assigned.det)], scan.sensor] = scan.t
            if angle_only and scan.labels is not None:
                probs = scan.labels.class_probs[assigned.det]
                site_classes.record(table, rows, scan.sensor, probs)
            if angle_only and not camera and self.refit is not None:
                passive = ~placed[rows]
                self.refit.record(table.track_id[rows[passive]], scan, assigned.det[passive])
            self.stats.updates += rows.size
            self._annotate("updated", rows, scan, assigned.det)
        hit = np.zeros(n, dtype=bool)
        hit[rows] = True
        shadow, crowded = None, None
        if radar:
            echo = np.where(firm, gate_threshold(ECHO_PROBABILITY, scan.model.dim), np.inf)
            shadow, crowded = _plots_elsewhere(raw, assigned, placed, echo)
            if shadow.any() and self.emitter_ids.claims is not None:
                passed = self._passed_by(scan.t, raw, assigned, placed, shadow)
                self.stats.passers_by += int(passed.sum())
                shadow &= ~passed
        covered = self._opportunities(
            scan, hit | glimpsed, placed, excluded, gated, shadow, crowded, inside
        )
        self.rules.record(table, covered & ~glimpsed, hit)

        # Every detection no track took may start one: a second plot in a firm track's gate
        # is another target (a swarm member 50 m away) as often as clutter, and a tentative
        # track that only echoes its firm neighbour starves, since firm tracks choose first.
        claimed = ambiguous.copy()
        claimed[assigned.det] = True
        if angle_only:  # a line of sight a track explains starts no second track
            claimed[gated.det] = True
        free = (~claimed).nonzero()[0]
        if free.size:
            self._initiate(scan, free)

        due = self.refit.due(scan.t) if self.refit is not None else []
        if due:
            self._refit_passive(scan.t, due)
        confirmed, doomed = self._apply_rules(scan.t)
        self.stats.confirmed += int(confirmed.sum())
        self._bury(doomed)

    def _camera_sightings(
        self,
        scan: Scan,
        assigned: Hypotheses,
        placed: NDArray[np.bool_],
    ) -> tuple[Hypotheses, Index]:
        """The camera detections `assigned` that may update their tracks, and the rows of the
        tracks they only glimpsed: a camera's looks at a track no radar or Remote ID placed
        count only once it keeps seeing it there; until then they are glimpses, neither hits
        nor misses (passive_refit.py)."""
        assert self.refit is not None
        table = self.tracks
        passive = assigned.subset(~placed[assigned.track])
        rows = passive.track
        if rows.size == 0:  # every track it saw was placed: nothing to weigh
            return assigned, rows
        use = self.refit.sighted(
            table.track_id[rows], scan, passive.det, self._turn_rate(rows, scan.sensor)
        )
        if use.all():
            return assigned, rows[:0]
        glimpses = rows[~use]
        return assigned.subset(~np.isin(assigned.track, glimpses)), glimpses

    def _explained_sightings(
        self,
        scan: Scan,
        hyps: Hypotheses,
        holding: NDArray[np.bool_],
        placed: NDArray[np.bool_],
        limit: float,
    ) -> Hypotheses:
        """The camera pairs `hyps` without those by which a track no radar placed would take
        a line of sight that a firm track a radar places now (`holding`) explains at least
        as well, inside its tighter gate (`limit`): the line is that object's. A young track
        (within the refit's window of its birth) that saw its object along that line before
        the radar track held it disowns those sightings (`PassiveRefit.disown`): they no
        longer count as the camera's looks at it, and its refit, due at once, places it by
        what remains.

        Random camps 305 and 335: a camera's line to the loiterer, crossed short of it by a
        finder's bearing of a distant emitter, started a track there in the seconds before
        the radar held the loiterer. The camera's sightings held that track to the crossing
        (its refit counted them for 10 s), and counted as a second look at a transmitter, so
        the radar's silence there did not delete it; both were alerted on. An old track
        keeps its sightings: on random camp 91 a swarm's radar tracks crossed a camera's line
        to the hidden drone, whose track, 40 s old, then lost the camera's share of it."""
        assert self.refit is not None
        passive = ~placed[hyps.track]
        if not passive.any():  # most camera scans: every track they see a radar placed
            return hyps
        rival = np.full(len(scan), np.inf)  # per detection, the best fit of a holding track
        mine = holding[hyps.track] & (hyps.d2 <= limit)
        np.minimum.at(rival, hyps.det[mine], hyps.d2[mine])
        lost = passive & (rival[hyps.det] <= hyps.d2)
        if not lost.any():
            return hyps
        table = self.tracks
        rows, dets = hyps.track[lost], hyps.det[lost]
        young = scan.t - table.t_birth[rows] <= self.refit.window_s
        rows, dets = rows[young], dets[young]
        rates = self._turn_rate(rows, scan.sensor)
        for row, j, rate in zip(rows.tolist(), dets.tolist(), rates.tolist(), strict=True):
            last = self.refit.disown(int(table.track_id[row]), scan, j, rate)
            if last is not None:
                table.last_hit[row, scan.sensor] = last
                self.stats.disowned += 1
        return hyps.subset(~lost)

    def _surprising(
        self, scan: Scan, assigned: Hypotheses, placed: NDArray[np.bool_]
    ) -> tuple[Hypotheses, Index]:
        """The camera detections `assigned` that may update their tracks, and the rows of the
        placed tracks they only glimpsed: a sighting that fits its placed track badly counts
        only once the camera sees the same again (surprises.py)."""
        assert self.surprises is not None
        self.surprises.forget(scan.t)
        odd = np.flatnonzero(placed[assigned.track] & (assigned.d2 > self.surprises.threshold))
        if odd.size == 0:
            return assigned, assigned.track[:0]
        rows, det = assigned.track[odd], assigned.det[odd]
        use = self.surprises.admit(
            self.tracks.track_id[rows],
            scan.sensor,
            scan.t,
            scan.z[det],
            scan.var[det],
            assigned.d2[odd],
            self._turn_rate(rows, scan.sensor),
        )
        keep = np.ones(assigned.track.size, dtype=bool)
        keep[odd[~use]] = False
        return assigned.subset(keep), rows[~use]

    def _turn_rate(self, rows: Index, sensor: int) -> Array:
        """How fast each track `rows` may turn about `sensor`'s site (rad/s): top speed at
        the nearest range its uncertainty allows (`MAX_SPEED_MPS`, `MIN_TURN_RANGE_M`)."""
        table = self.tracks
        pos, cov = table.x[rows][:, POS], table.P[rows][:, POS, POS]
        reach = np.linalg.norm(pos - self.sites[sensor], axis=1)
        reach -= 2.0 * np.sqrt(np.trace(cov, axis1=1, axis2=2))
        return MAX_SPEED_MPS / np.maximum(reach, MIN_TURN_RANGE_M)

    def _routable(self, firm: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Tracks whose emitter's bearings are reserved for them
        (`angle_screening.route_by_emitter`)."""
        return firm & ~self.tracks.shadowed[: self.tracks.n]

    def _near(self, t: float) -> NDArray[np.bool_]:
        """Tracks a radar or Remote ID updated within the sensor memory before `t`: an angle
        updates them only inside the tighter gate (`angle_screening.unambiguous`)."""
        return self._updated_by(self.tracks.last_hit[: self.tracks.n], self.localising, t)

    def _annotate(self, stage: str, rows: Index, scan: Scan, dets: Index) -> None:
        """Each annotator's `stage` ("initiated" or "updated") for `rows`, and the emitter ids
        any of them changed passed on to the others."""
        for annotator in self.annotators:
            changed = getattr(annotator, stage)(self.tracks, rows, scan, dets)
            if changed is not None and changed.size:
                self._reidentified(changed.tolist(), source=annotator)

    def _reidentified(self, rows: list[int], source: Annotator | None = None) -> None:
        """Tell the annotators (but `source`, which made the change) that the emitter ids of
        `rows` changed."""
        if not rows:
            return
        for annotator in self.annotators:
            reidentified = getattr(annotator, "reidentified", None)
            if annotator is not source and reidentified is not None:
                reidentified(self.tracks, np.array(rows, dtype=np.intp))

    def _calibrated(self, scan: Scan) -> Scan:
        """The scan with its angle-only detections' variances as calibrated."""
        if self.calibration is None or scan.model.can_initiate or not len(scan):
            return scan
        var = self.calibration.variances(scan.sensor, scan.var)
        return scan if var is scan.var else replace(scan, var=var)

    def _learn_noise(self, scan: Scan, assigned: Hypotheses) -> None:
        """Feed the calibration the pairs whose firm track a radar or Remote ID placed
        within the sensor memory: there the track is a reference for the angles."""
        assert self.calibration is not None
        table = self.tracks
        rows = assigned.track
        recent = self._updated_by(table.last_hit[rows], self.localising, scan.t)
        reference = recent & (table.status[rows] != TENTATIVE)
        if reference.any():
            self.calibration.observe(
                scan.sensor,
                assigned.y[reference],
                assigned.S[reference],
                scan.var[assigned.det[reference]],
            )

    def _excluded(
        self,
        scan: Scan,
        placed: NDArray[np.bool_],
        firm: NDArray[np.bool_],
        inside: NDArray[np.bool_] | None = None,
        named: NDArray[np.bool_] | None = None,
    ) -> NDArray[np.bool_]:
        """Tracks this scan's detections may not update, whatever the gate says (`inside`:
        the tracks in an angle-only sensor's field of regard, if already known; `named`: the
        tracks holding an emitter id a direction finder's scan names)."""
        table = self.tracks
        n = table.n
        excluded = np.zeros(n, dtype=bool)
        model = scan.model
        if model.can_initiate:
            if model.charges_misses:
                # A radar plot in the wide gate of a vague bearings-only track is as likely
                # clutter as the drone: it starts its own track instead of placing that one
                # (if it is the drone, the radar track takes the bearings over).
                # Nor does one in the gate of a transmitter the radar has kept looking at and
                # not seeing (`unseen`): the drone there is too small for it.
                P = table.P[:n]
                vague = np.sqrt(P[:, 0, 0] + P[:, 1, 1]) > self.handover_sigma_m
                hidden = table.unseen[:n] >= self.rules.radar_veto_scans
                excluded = ~placed & (vague | hidden)
            return excluded
        # Lines of sight update firm tracks and tracks they started themselves, never a
        # tentative track a radar plot started: radar clutter would take a hidden drone's
        # bearings (and its emitter id) and never let them start a track of their own.
        # Unless it holds an emitter id this scan names: bearings gave it that id before a
        # radar placed it, and they are still its own (random camp 296: the friendly patrol's
        # track, born of its link's bearings and then placed by the radar, took none of them
        # while tentative; they started bearings-only tracks 90 m off, one of which took the
        # link's id, and the patrol was alerted on as soon as its track was confirmed).
        excluded = ~firm & placed
        if named is not None:
            excluded &= ~named
        # Nor a track outside the sensor's field of regard: a direction finder does not hear
        # beyond its range, so a bearings-only track drifting out along its lines of sight
        # (where they hardly cross) is not held there by them. A track no radar or Remote ID
        # placed may be inside within three sigmas of its estimate: these sensors measure no
        # range, and only they gave it one (`may_cover`).
        outside = ~(model.geometry.covers(table.x[:n, :3]) if inside is None else inside)
        vague = (outside & ~placed).nonzero()[0]
        if vague.size:
            outside[vague] = ~model.geometry.may_cover(table.x[vague, :3], table.P[vague, :3, :3])
        excluded |= outside
        if not model.charges_misses:  # an RF bearing: a sure bird or clutter transmits nothing
            logp = table.class_logp[:n]
            p = np.exp(logp - logp.max(axis=1, keepdims=True))
            excluded |= p[:, _SILENT].sum(axis=1) / p.sum(axis=1) >= 0.9
        return excluded

    def _opportunities(
        self,
        scan: Scan,
        hit: NDArray[np.bool_],
        placed: NDArray[np.bool_],
        excluded: NDArray[np.bool_],
        gated: Hypotheses,
        shadow: NDArray[np.bool_] | None = None,
        crowded: NDArray[np.bool_] | None = None,
        inside: NDArray[np.bool_] | None = None,
    ) -> NDArray[np.bool_]:
        """Tracks for which this scan was an update opportunity (M-of-N), hit or missed.

        Also counts the radar's negative information (`unseen`) and, with a radar's
        `shadow` (see `_plots_elsewhere`), the `shadowed` looks as a side effect. A radar
        track `crowded` (`_plots_elsewhere`) was not unseen: the radar saw something there
        and gave it to a neighbour, as it does for two drones of a swarm in one cell.
        `inside`: the tracks in the field of regard before the scan's updates, if known.
        """
        table = self.tracks
        n = table.n
        model = scan.model
        if model.charges_misses:
            self.watchers[scan.sensor] = model
            # A track the scan did not hit has not moved since `inside` was taken.
            if inside is None:
                inside = model.geometry.covers(table.x[:n, POS])
            covered = inside | hit
            if model.can_initiate:  # a radar: negative information for passive tracks
                unseen = table.unseen[:n]
                looked = covered & ~hit
                if crowded is not None:
                    looked &= ~crowded
                unseen[looked] += 1
                unseen[hit] = 0
                if shadow is not None:
                    shadowed = table.shadowed[:n]
                    shadowed[covered & shadow] = True
                    shadowed[(covered & ~shadow) | placed | hit] = False
                # ... which is how its silence counts against a track no radar ever placed
                # (the lifecycle's ghost rule), not as M-of-N misses: a drone too small for
                # the radar, heard by two direction finders, must still be confirmed.
                covered &= placed | hit
                # A tentative track this radar placed is charged its every look, inside the
                # coverage or not: one that left the coverage cannot be confirmed by it. A
                # track born of a clutter plot at the radar's minimum range drifted into the
                # blind zone around the radar, was charged no miss there for 10 s, and two
                # more clutter plots at the zone's edge made three of four: it was confirmed,
                # called a drone and alerted on as critical inside the perimeter, 260 m from
                # anything (random camp 1089, with the radar alone too).
                covered |= (
                    (table.status[:n] == TENTATIVE)
                    & placed
                    & (table.last_hit[:n, scan.sensor] > -np.inf)
                )
            else:
                # A camera that has never seen a tentative track does not charge it misses:
                # its field of regard may reach further than it detects (a datasheet range
                # half too long), and at four scans a second a camera that looks and cannot
                # see killed by M-of-N every track two others were making of a drone (random
                # camp 27). Ghosts of crossing lines still die by the radar's veto, by the
                # misses of the cameras that made them, and by the confirmation rules.
                # Nor one no radar or Remote ID placed while it is still hit by some sensor
                # within `PASSIVE_SILENCE_S`: such a track must live `passive_confirm_s`
                # before it may be confirmed, and with two cameras at four scans a second and a
                # Pd of 0.6 at 2 km, three hits in every four looks for 3 s almost never
                # happened; it dies once the cameras that made it have not seen it for that long.
                tentative = table.status[:n] == TENTATIVE
                quiet = scan.t - table.t_update[:n] >= PASSIVE_SILENCE_S
                covered &= (
                    hit
                    | ~tentative
                    | ((table.last_hit[:n, scan.sensor] > -np.inf) & (placed | quiet))
                )
        elif model.can_initiate:  # Remote ID: says nothing of drones it does not hear
            covered = hit.copy()
        else:
            # An RF bearing fits radar clutter as well as a drone: where a radar or camera is
            # looking, only they decide confirmation; the bearing still updates the state.
            # Except on a transmitter that the radar keeps looking at and not seeing (two
            # finders hear one emitter id on it, no radar ever placed it, and no radar track
            # holds what the radar sees there): a drone too small for the radar is confirmed
            # by what hears it. Without a radar at work, on any transmitter: in a loose
            # swarm the cameras' lines are contested or glimpses, no camera's look is an
            # opportunity, and the members' tracks stayed tentative, updated for a minute
            # (random camp 10 without its radar, three finders and three cameras: one of
            # seven drones alerted before entering the perimeter).
            covered = hit.copy()
            heard = transmitting(
                table,
                scan.t,
                self.hearing,
                self.localising,
                self.rules.memory_s,
                self.rules.heard_s,
            )
            heard &= ~placed & ~table.shadowed[:n]
            if self._radar_at_work(scan.t):
                heard &= table.unseen[:n] >= self.rules.radar_veto_scans
            # ... once its range had time to converge along the lines of sight.
            heard &= scan.t - table.t_birth[:n] >= self.rules.transmitter_confirm_s
            covered[hit] = ~self._watched(table.x[:n][hit, :3]) | heard[hit]
        if not model.can_initiate:
            # A track whose gate held a line of sight that was not used (ambiguous, or
            # contested by a neighbour) was not missed, and nor was a track that lines of
            # sight may not update: this scan is no opportunity for them.
            seen = excluded.copy()
            seen[gated.track] = True
            covered &= hit | ~seen
        return covered

    def _passed_by(
        self,
        t: float,
        raw: Hypotheses,
        assigned: Hypotheses,
        placed: NDArray[np.bool_],
        shadow: NDArray[np.bool_],
    ) -> NDArray[np.bool_]:
        """Of the tracks a radar plot `shadow`s (`_plots_elsewhere`), those holding an
        emitter id that only passers-by shadow: every placed track that took a plot in the
        track's gate (`raw`, `assigned`) was born after it, and the emitter's bearings of the
        last `EmitterClaims.echo_window_s` do not fit that track taken back along its velocity.

        A hidden drone's firm bearings-only track, 2.3 km out and 280 m vague, was taken for
        the echo of an inbound drone's radar track 4 s old that passed 370 m from it: its
        emitter's bearings, no longer reserved for it, went to neither track, it died within
        5 s, and the drone went untracked for 40-60 s (random camps 1245 and 1276). The
        emitter's last 8 s of bearings (the claims' window) fitted the passer-by; its last
        30 s, from the finder along whose line it flew in, did not. A radar track born before
        the passive track is left its likelier source: a swarm drone's passive duplicate is
        born of bearings its own radar track failed to take, and 30 s of its link's bearings
        (50 from one finder) missed that radar track by half their sigma on average (random
        camp 703, with the rule for every radar track: the duplicate lived beside it).
        """
        claims = self.emitter_ids.claims
        assert claims is not None
        table = self.tracks
        owner = dict(zip(assigned.det.tolist(), assigned.track.tolist(), strict=True))
        passed = np.zeros_like(shadow)
        holders = shadow & (table.emitter_id[: table.n] != None)  # noqa: E711 (elementwise)
        for i in np.flatnonzero(holders).tolist():
            name = table.emitter_id[i]
            takers = {owner.get(d, -1) for d in raw.det[raw.track == i].tolist()}
            passed[i] = all(
                table.t_birth[j] > table.t_birth[i]
                and not claims.fits(name, t, table.x[j], table.P[j], window_s=claims.echo_window_s)
                for j in takers
                if j >= 0 and placed[j]
            )
        return passed

    def _observe(self, scan: Scan, pairs: Hypotheses, gated: Hypotheses) -> None:
        """Labels of lines of sight that may not move their tracks (contested, or a bearing
        that cannot tell two placed tracks apart), for the tracks whose every gated detection
        says the same class (a flock of birds all labelled bird): what a track *is* may be
        learnt where it *is* may not. A drone among birds (its gate holds a drone label and
        bird labels) learns nothing from them."""
        assert scan.labels is not None
        probs = scan.labels.class_probs
        known = ~np.isnan(probs).any(axis=1)
        top = np.where(known, np.argmax(np.nan_to_num(probs, nan=-1.0), axis=1), -1)
        # Each pair's track is in it once (one detection per track): a track is unsure when
        # any detection in its gate says another class than its pair's.
        said = np.full(self.tracks.n, -2)
        said[pairs.track] = top[pairs.det]
        unsure = np.zeros(self.tracks.n, dtype=bool)
        unsure[gated.track[top[gated.det] != said[gated.track]]] = True
        keep = ((top[pairs.det] >= 0) & ~unsure[pairs.track]).nonzero()[0]
        if not keep.size:
            return
        sure = pairs.subset(keep)
        for annotator in self.annotators:
            observed = getattr(annotator, "observed", None)
            if observed is not None:
                observed(self.tracks, sure.track, scan, sure.det)

    def _apply_rules(self, t: float) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """The lifecycle at `t`; returns (rows just confirmed, rows to delete)."""
        table = self.tracks
        n = table.n
        # Only tentative tracks no radar ever placed need the geometry (few, and cheap).
        observable = np.zeros(n, dtype=bool)
        ask = (table.status[:n] == TENTATIVE) & ~self._updated_by(
            table.last_hit[:n], self.localising
        )
        if ask.any():
            # ... where it is estimated and as far out as its range may be (`RANGE_SIGMAS`
            # beyond, away from the sites): an estimate pulled short of its drone sees the lines
            # cross wider than they do at the drone (random camp 58: 5.8 degrees 1 km short,
            # 1.7 at the drone, from two finders 335 m apart nearly in line with it).
            recent = table.last_hit[:n][ask] >= t - self.rules.memory_s
            x = table.x[:n][ask, :3]
            sites, least = self.sites, self.min_crossing_deg
            lines = (self.site_sigma, self.heighting)
            observable[ask] = crossing_at_track(x, recent, sites, least, *lines) & (
                crossing_at_track(_beyond(x, table.P[:n][ask], sites), recent, sites, least, *lines)
            )
            # ... and its sites agree on what it is: two that do not see two objects.
            odds = table.site_drone_odds[:n][ask]
            observable[ask] &= ~site_classes.disagree(odds, recent)
            # Where a working radar looks, its verdict comes first: it places the target, or
            # after `radar_veto_scans` looks at nothing the track is a ghost (or a transmitter
            # too small for it). Confirmed before that, a crossing of two objects' lines of
            # sight would be shown (and alerted on) for the seconds until the veto.
            rows = ask.nonzero()[0]
            pending = table.unseen[rows] < self.rules.radar_veto_scans
            if pending.any():
                rows = rows[pending]
                observable[rows] &= ~self._watched(table.x[rows, :3], radars_only=True)
        confirmed, doomed = self.rules.apply(
            table, t, self.silent, self.localising, self.hearing, observable, self.names_emitters
        )
        memory_s, heard_s = self.rules.memory_s, self.rules.heard_s
        vouch(table, t, self.hearing, self.localising, memory_s, heard_s, self._cross(t))
        return confirmed, doomed | (table.identity_echo[:n] >= self.echo_reports)

    def _cross(self, t: float) -> NDArray[np.bool_]:
        """Which tracks two finders that heard them within `heard_s` of `t` cross at, where
        nothing has vouched for their place yet (`lifecycle.vouch`)."""
        table = self.tracks
        n = table.n
        cross = np.zeros(n, dtype=bool)
        ask = np.isnan(table.t_vouched[:n])
        if ask.any() and self.hearing.any():
            heard = (table.last_hit[:n][ask] >= t - self.rules.heard_s) & self.hearing
            cross[ask] = crossing_at_track(
                table.x[:n][ask, :3], heard, self.sites, self.min_crossing_deg, self.site_sigma
            )
        return cross

    def _by_identity(self, scan: Scan, hyps: Hypotheses) -> tuple[Hypotheses, Hypotheses]:
        """Remote ID detections go to the track that holds their serial, gate or not.

        A drone broadcasting its serial says who it is: its report belongs to the track that
        holds that serial as long as the two are within `identity_gate_m` (a tight turn
        takes a track outside its statistical gate for a scan or two, and a second track
        born of the same drone would take its identity away). Returns the forced pairs and
        the other hypotheses, without those tracks and detections.
        """
        assert scan.labels is not None
        table = self.tracks
        n = table.n
        holder = {u: r for r, u in enumerate(table.uas_id[:n].tolist()) if u is not None}
        rows, dets = [], []
        for j, uas in enumerate(scan.labels.uas_id):
            row = holder.get(uas) if uas is not None else None
            if row is None or row in rows:
                continue
            distance = float(np.linalg.norm(table.x[row, :3] - scan.z[j, :3]))
            if distance <= self.identity_gate_m:
                rows.append(row)
                dets.append(j)
        if not rows:
            return Hypotheses.empty(scan.model.dim), hyps
        r = np.array(rows, dtype=np.intp)
        d = np.array(dets, dtype=np.intp)
        y, S, H = _innovations(scan.model, table.x[r], table.P[r], scan.z[d], scan.var[d])
        d2 = np.einsum("pi,pi->p", y, np.linalg.solve(S, y[:, :, None])[:, :, 0])
        taken_rows = np.zeros(n, dtype=bool)
        taken_rows[r] = True
        taken_dets = np.zeros(len(scan), dtype=bool)
        taken_dets[d] = True
        # A firm track holding no serial, in the gate of a report its serial's holder took,
        # is a second track of that drone (a radar plot started it while the first was still
        # tentative): after `echo_reports` such reports in a row it is deleted. Left alone it
        # lives on the plots it wins from its twin, unidentified: a friendly patrol would keep
        # a hostile-looking twin, alerted on, for its whole flight. Only a track a radar or
        # Remote ID placed can be such a twin: the gate of a bearings-only track 2 km out
        # spans a kilometre, and held the friendly's reports while it tracked a hidden drone
        # (random camp 16, once its covariance was honest), which deleted it.
        echo = np.zeros(n, dtype=bool)
        twin = taken_dets[hyps.det] & ~taken_rows[hyps.track]
        twin &= table.status[hyps.track] != TENTATIVE
        echo[hyps.track[twin]] = True
        echo &= table.uas_id[:n] == None  # noqa: E711 (elementwise)
        echo &= self._updated_by(table.last_hit[:n], self.localising)
        table.identity_echo[:n] = np.where(echo, table.identity_echo[:n] + 1, 0)
        rest = hyps.subset(~taken_rows[hyps.track] & ~taken_dets[hyps.det])
        return Hypotheses(r, d, d2, y, S, H), rest

    def _watched(self, positions: Array, radars_only: bool = False) -> NDArray[np.bool_]:
        """Positions inside the cover of a radar or camera (or, `radars_only`, a radar) that
        is not silent."""
        watched = np.zeros(positions.shape[0], dtype=bool)
        for sensor, model in self.watchers.items():
            if not self.silent[sensor] and (model.can_initiate or not radars_only):
                watched |= model.geometry.covers(positions)
        return watched

    def process_late(self, scan: Scan) -> int:
        """Fuse a scan measured before the tracker time (out of sequence, by retrodiction);
        returns how many of its detections updated a track. Late detections start no track
        and charge no misses: the picture has moved on since."""
        if self.t is None or scan.t > self.t:
            raise ValueError(f"scan at {scan.t} is not late (tracker time {self.t})")
        table = self.tracks
        n = table.n
        if n == 0 or len(scan) == 0:
            return 0
        scan = self._calibrated(scan)
        lag = self.t - scan.t
        m = self.imm.n_modes
        # The modes as the IMM predicts them now; an update through them mixes there.
        mu_now, xm_now, Pm_now = self._predicted_modes(np.arange(n), self.t)
        xm_then = np.empty_like(xm_now)
        Pm_then = np.empty_like(Pm_now)
        for j, model in enumerate(self.imm.models):
            xm_then[:, j], Pm_then[:, j] = retrodict(model, xm_now[:, j], Pm_now[:, j], lag)
        x_then, P_then = combine(mu_now, xm_then, Pm_then)
        threshold = self._threshold(scan.model.dim)
        hyps = self.hypothesise(x_then, P_then, scan, threshold)
        existed = table.t_birth[:n] <= scan.t  # a track born later was not there to be seen
        hyps = hyps.subset(existed[hyps.track])
        hyps = hyps.subset(self.associate(hyps.track, hyps.det, hyps.d2, threshold))
        rows = hyps.track
        if rows.size:
            # Each mode is updated through its own cross-covariance with its retrodiction;
            # mode probabilities stay: the late report is not evidence of the mode now.
            p = rows.size
            y, S, H = _innovations(
                scan.model,
                xm_then[rows].reshape(p * m, -1),
                Pm_then[rows].reshape(p * m, *Pm_then.shape[2:]),
                np.repeat(scan.z[hyps.det], m, axis=0),
                np.repeat(scan.var[hyps.det], m, axis=0),
            )
            xm, Pm = xm_now[rows], Pm_now[rows]
            x_new, P_new = late_update(  # uses the transition F(-lag) only: any mode's
                self.imm.models[0],
                xm.reshape(p * m, -1),
                Pm.reshape(p * m, *Pm.shape[2:]),
                lag,
                y,
                S,
                H,
            )
            table.mode_p[rows] = mu_now[rows]
            table.mode_x[rows] = x_new.reshape(xm.shape)
            table.mode_P[rows] = P_new.reshape(Pm.shape)
            table.t_mix[rows] = self.t
            table.x[rows], table.P[rows] = combine(
                table.mode_p[rows], table.mode_x[rows], table.mode_P[rows]
            )
            table.last_hit[rows, scan.sensor] = np.maximum(
                table.last_hit[rows, scan.sensor], scan.t
            )
            named = rows[self._naming(scan, hyps.det)]
            table.last_named[named, scan.sensor] = np.maximum(
                table.last_named[named, scan.sensor], scan.t
            )
            self.stats.late_updates += rows.size
            self._annotate("updated", rows, scan, hyps.det)
        return int(rows.size)

    def _update(
        self,
        rows: Index,
        scan: Scan,
        assigned: Hypotheses,
        ahead: ModeArrays | None = None,
        weighed: tuple[Array, Array] | None = None,
    ) -> None:
        """Kalman-update every motion mode of tracks `rows` with their assigned detections,
        reweigh the modes by how well each predicted them, and recombine. `ahead`: every
        track's modes predicted to the scan, if `predict_to` kept them; `weighed`: the
        assigned detections' variances and the shifts of their components, where a radar's
        formation plots were weighed (`formation.py`); the scan's own detections otherwise."""
        table = self.tracks
        var = scan.var[assigned.det] if weighed is None else weighed[0]
        if self.imm.n_modes == 1:  # the gating stage's innovations are the mode's own ...
            y, S = assigned.y, assigned.S
            if weighed is not None:  # ... unless weighed: the gain must see the widening too
                S = innovation_covariance(assigned.H, table.P[rows], var)
                y = y + weighed[1]
            x_new, P_new = self.kalman_update(table.x[rows], table.P[rows], y, S, assigned.H, var)
            table.t_mix[rows] = scan.t
            table.mode_x[rows, 0] = table.x[rows] = x_new
            table.mode_P[rows, 0] = table.P[rows] = P_new
            return
        z = scan.z
        if weighed is not None and weighed[1].any():
            z = z.copy()
            z[assigned.det] += weighed[1]
        p, m = rows.size, self.imm.n_modes
        c, xm, Pm = self._predicted_modes(rows, scan.t, ahead)
        if self.imm.steady is not None:
            # A bird never flies steady: a flock's tracks that took the steady mode in a calm
            # second lost their birds at the next turn, and their plots started new tracks.
            # Nor does any track with no radar at work, whose only teacher of modes is Remote
            # ID: with the steady mode there, the camps flown without their radar (seeds
            # 0-119) raised 18 alerts on no drone instead of 15, with more ghosts and swarm
            # switches; barred, they are as before.
            if self._radar_at_work(scan.t):
                unsteady = likely(table.class_logp[rows], "bird")
            else:
                unsteady = np.ones(rows.size, dtype=bool)
            self.imm.bar(c, self.imm.steady, unsteady)
        table.t_mix[rows] = scan.t
        xm = xm.reshape(p * m, -1)
        Pm = Pm.reshape(p * m, *Pm.shape[2:])
        if self.kalman_update is kalman_update:  # the default updater: one fused pass
            x_new, P_new, loglik = update_modes(scan.model, xm, Pm, z, assigned.det, var, m)
        else:
            var = np.repeat(var, m, axis=0)
            zm = np.repeat(z[assigned.det], m, axis=0)
            y, S, H = _innovations(scan.model, xm, Pm, zm, var)
            x_new, P_new = self.kalman_update(xm, Pm, y, S, H, var)
            loglik = gaussian_loglik(y, S)
        # A tentative track stays in the quiet mode: clutter that happens to line up jumps
        # about like a manoeuvring drone, and letting it win the manoeuvre mode would widen
        # its gate to catch more clutter. Modes are learnt once a track is confirmed, and
        # only from a sensor that places the target: the noise of bearings from afar looks
        # like a manoeuvre too, and would turn a slow drone into a fast one.
        located = self._updated_by(table.last_hit[rows], self.localising, scan.t)
        store_updated_modes(
            table, rows, c, loglik, x_new, P_new, located, self.imm.quiet, TENTATIVE
        )

    def _share_velocity(self, rows: Index) -> None:
        """Tell the firm radar tracks `rows` that are not birds their formation's velocity
        (formation_velocity.py), in each calm motion mode (cruise, steady) as that mode has
        their neighbours', and recombine their modes."""
        table = self.tracks
        rows = not_birds(rows, table.class_logp)
        told = []
        for mode in self.imm.calm:
            mode_x, mode_P = table.mode_x[:, mode], table.mode_P[:, mode]
            who, z, R = shared_velocity(
                mode_x, mode_P, rows, self.formation_radius_m, self.formation_spread_mps
            )
            if who.size:
                mode_x[who], mode_P[who] = velocity_update(mode_x[who], mode_P[who], z, R)
                told.append(who)
        if not told:
            return
        who = np.unique(np.concatenate(told))
        table.x[who], table.P[who] = combine(
            table.mode_p[who], table.mode_x[who], table.mode_P[who]
        )

    def _naming(self, scan: Scan, dets: Index) -> NDArray[np.bool_]:
        """Which detections `dets` of `scan` are not a finder's bearings whose labels name no
        emitter (`TrackTable.last_named`): every other sensor's, and a scan without labels,
        say nothing against a transmitter."""
        if not self.hearing[scan.sensor] or scan.labels is None:
            return np.ones(dets.size, dtype=bool)
        ids = scan.labels.emitter_id
        return np.array([ids[j] is not None for j in dets.tolist()], dtype=bool)

    def _initiate(self, scan: Scan, free: Index) -> None:
        """New tentative tracks: from each free detection of a sensor that localises a target
        alone, or from crossing bearings of passive sensors."""
        if scan.model.can_initiate:
            x0, P0 = self.initiator.initiate(scan, free)
            dets = free
        else:
            x0, P0, dets = self.passive.offer(scan, free)
        if dets.size == 0:
            return
        table = self.tracks
        first = table.n
        table.add(x0, P0, scan.t, scan.sensor)
        self.stats.initiated += dets.size
        rows = np.arange(first, table.n)
        table.last_named[rows[~self._naming(scan, dets)], scan.sensor] = -np.inf
        self._annotate("initiated", rows, scan, dets)

    def housekeep(self, t: float) -> None:
        """Advance to `t` and apply the lifecycle without a scan, so that tracks coast and
        die on time even while no sensor reports."""
        self.predict_to(t)
        confirmed, doomed = self._apply_rules(t)
        self.stats.confirmed += int(confirmed.sum())
        self._bury(doomed)

    def _refit_passive(self, t: float, due: list[int]) -> None:
        """Bearings-only tracks whose refit is due (track ids `due`) get the position their
        recent lines of sight give as a whole, where the filter disagrees with it
        (passive_refit.py)."""
        assert self.refit is not None
        table = self.tracks
        n = table.n
        row_of = {tid: r for r, tid in enumerate(table.track_id[:n].tolist())}
        placed = self._updated_by(table.last_hit[:n], self.localising)
        gone = []
        for tid in due:
            row = row_of.get(tid)
            if row is None or placed[row]:
                gone.append(tid)
                continue
            # Each motion mode, as predicted now, takes a small drone's velocity prior, then
            # what the lines of sight give.
            modes = self._predicted_modes(np.array([row]), t)
            self._lapse_birth_height(row, t, modes)
            self._hold_speed(row, t, modes)
            # A camera's run that just joined it: another object's unless its line meets
            # the finders' bearings; if it is the track's, where it places the track now is
            # a new crossing, which vouches for nothing yet (`lifecycle.vouch`).
            run = self.refit.admit(tid, t, table.x[row], table.P[row])
            if run is False:
                continue
            if self._follow_course(tid, row, t, modes):
                placed_afresh = True
            else:
                out = self.refit.refit(
                    tid, t, float(table.t_birth[row]), table.x[row], table.P[row]
                )
                placed_afresh = out is not None
                if out is not None:
                    self._impose(row, t, modes, _POSITION, *out)  # the velocity stays
                    self.stats.passive_refits += 1
            if run and placed_afresh:
                table.t_vouched[row] = np.nan
        self.refit.forget(gone)

    def _lapse_birth_height(self, row: int, t: float, modes: ModeArrays) -> None:
        """Bearings-only track `row` (its `modes`, predicted to `t`), whose height only its
        birth measured (no sensor measuring height has updated it since), takes the height
        prior once the sensor memory has passed since: a camera's one look is a glimpse
        (passive_refit.py), and the look that started a track is one too. On random camp 701
        a camera's line of sight to another object, 11 degrees up, crossed the hidden
        drone's bearing; the track, carried onto the drone by the finders' bearings, kept the
        height of that crossing, 330 m above the drone, for 70 s, with 50-150 m of sigma
        (`_bound_height` resets a height only once it is vaguer than the prior).

        Only a track that two finders carry, and in whose gate no camera's line of sight has
        fallen for the memory: there the bearings place it, and no camera sees anything at
        the height it holds. Elsewhere that height is all the track has. On random camp 4
        without its radar, cameras kept seeing a swarm, their lines in the gates of several
        tracks and so used by none; reset, the tracks' wider gates took more lines, and
        crossings 140-550 m from any drone were confirmed (ghosts 0.12 -> 0.72 a cycle).
        """
        table = self.tracks
        born = float(table.t_birth[row])
        last_hit = table.last_hit[row]
        if t - born < self.rules.memory_s or (last_hit[self.heighting] > born).any():
            return
        if int((last_hit[self.hearing] >= t - self.rules.memory_s).sum()) < 2:
            return
        if t - float(table.t_camera_line[row]) <= self.rules.memory_s:
            return  # a camera still sees something there (a swarm's contested lines)
        _, xm, Pm = modes
        if float(Pm[0, :, 2, 2].max()) >= 0.9 * self.passive.altitude_sigma_m**2:
            return  # about as vague as the prior already (`_bound_height` holds it there)
        self._prior_height(xm, Pm, np.array([0]))
        self._store(row, t, modes)
        self.stats.birth_heights_lapsed += 1

    def _hold_speed(self, row: int, t: float, modes: ModeArrays) -> None:
        """Bearings-only track `row` (its `modes`, predicted to `t`), if it moves faster than
        a small drone flies: every motion mode takes that drone's velocity prior as a
        measurement (passive_refit.py), and the track's state follows."""
        assert self.refit is not None
        mu, xm, Pm = modes
        if float(np.hypot(*(mu[0] @ xm[0, :, 3:5]))) <= self.refit.speed_prior_mps:
            return
        m = xm.shape[1]
        R = np.broadcast_to(self.refit.velocity_prior(), (m, 3, 3))
        xm[0], Pm[0] = velocity_update(xm[0], Pm[0], np.zeros((m, 3)), R)
        self._store(row, t, modes)

    def _follow_course(self, tid: int, row: int, t: float, modes: ModeArrays) -> bool:
        """Give bearings-only track `tid` (row `row`, its `modes` predicted to `t`) the
        course its lines of sight fit as a whole (bearings_tma.py), where one is accepted
        and, were it surely straight, places it more tightly than the filter does (the
        filter is as sure of its own motion model): the horizontal position and velocity,
        with the covariance that considers the drone's acceleration; its height and climb
        kept. Whether it did."""
        assert self.refit is not None
        x, P = combine(*modes)
        course = self.refit.course(tid, t, x[0])
        if course is None or np.trace(course.P_straight[:2, :2]) >= np.trace(P[0, :2, :2]):
            return False
        self._impose(row, t, modes, course.components, course.x, course.P)
        self.refit.done(tid, t)
        self.stats.passive_courses += 1
        return True

    def _impose(
        self, row: int, t: float, modes: ModeArrays, components: Index, mean: Array, cov: Array
    ) -> None:
        """Every motion mode of track `row`, as predicted to `t` (`modes`, changed in place),
        takes `mean` and `cov` for the state's `components`, uncorrelated with the rest of
        the state; the track's combined state follows."""
        _, xm, Pm = modes
        xm[:, :, components] = mean
        Pm[:, :, components, :] = 0.0
        Pm[:, :, :, components] = 0.0
        Pm[:, :, components[:, None], components[None, :]] = cov
        self._store(row, t, modes)

    def _store(self, row: int, t: float, modes: ModeArrays) -> None:
        """Track `row` takes `modes` as its motion modes at `t`, and their combination as its
        state."""
        mu, xm, Pm = modes
        table = self.tracks
        table.mode_p[row], table.mode_x[row], table.mode_P[row] = mu[0], xm[0], Pm[0]
        table.t_mix[row] = t
        x, P = combine(mu, xm, Pm)
        table.x[row], table.P[row] = x[0], P[0]

    def _bury(self, doomed: NDArray[np.bool_]) -> None:
        if not doomed.any():
            return
        rows = self.tracks.pop(doomed)
        if self.refit is not None:
            self.refit.forget(rows.track_id.tolist())
        self._graveyard.bury(rows)
        self.emitter_ids.prune(self.tracks.track_id[: self.tracks.n])
        self.stats.deleted += int(doomed.sum())

    def snapshot(self, t: float) -> TrackSnapshot:
        """Every live track predicted to `t` (not earlier than the tracker time), as copies."""
        live = self.tracks.rows()
        if self.t is not None and t > self.t and len(live):
            mu, xm, Pm, x, P = self.imm.predict_combined(
                live.mode_p,
                live.mode_x,
                live.mode_P,
                t - live.t_mix,
                self._noise_scale(live.last_hit),
            )
            self._bound_height(live.last_hit, t, x[:, None], P[:, None])
            live = replace(
                live, x=x, P=P, mode_p=mu, mode_x=xm, mode_P=Pm, t_mix=np.full(len(live), t)
            )
        silent = orphaned(live.last_hit, live.t_update, self.silent, self.rules.memory_s)
        return TrackSnapshot(t, live, self._graveyard.drain(), silent & (live.status == COASTING))


def motion_model(cfg: TrackerConfig) -> InteractingMultipleModel:
    """The configured motion: a quiet NCV model (cruise), and with `imm` a steady and a
    manoeuvre model beside it, in that order (a new track starts in the first)."""
    quiet = NearlyConstantVelocity(q_h=cfg.accel_noise_mps2**2, q_v=cfg.accel_noise_up_mps2**2)
    if cfg.motion == "ncv":
        return InteractingMultipleModel((quiet,), (1.0,))
    steady = NearlyConstantVelocity(q_h=cfg.steady_accel_mps2**2, q_v=cfg.steady_accel_up_mps2**2)
    manoeuvre = NearlyConstantVelocity(
        q_h=cfg.manoeuvre_accel_mps2**2, q_v=cfg.manoeuvre_accel_up_mps2**2
    )
    return InteractingMultipleModel(
        (quiet, steady, manoeuvre),
        (cfg.cruise_sojourn_s, cfg.steady_sojourn_s, cfg.manoeuvre_sojourn_s),
        cfg.mixing_step_s,
    )


def _innovations(
    model: MeasurementModel, x: Array, P: Array, z: Array, var: Array
) -> tuple[Array, Array, Array]:
    """Innovations y (p, m), their covariances S and Jacobians H, of detections z at states x."""
    zhat, H = model.predict(x)
    return model.residual(z, zhat), innovation_covariance(H, P, var), H


def _beyond(positions: Array, P: Array, sites: Array) -> Array:
    """`positions` (n, 3) moved `RANGE_SIGMAS` horizontal sigmas (from `P`) further from the
    centroid of the known `sites`: as far out as a bearings-only track's range may be."""
    known = sites[~np.isnan(sites[:, 0])]
    if not len(known):
        return positions
    out = positions.copy()
    away = positions[:, :2] - known[:, :2].mean(axis=0)
    distance = np.maximum(np.hypot(away[:, 0], away[:, 1]), 1.0)
    sigma = np.sqrt(np.maximum(P[:, 0, 0] + P[:, 1, 1], 0.0))
    out[:, :2] += away * (RANGE_SIGMAS * sigma / distance)[:, None]
    return out


def crossing_at_track(
    positions: Array,
    recent: NDArray[np.bool_],
    sites: Array,
    min_deg: float,
    sigma: Array | None = None,
    heighting: NDArray[np.bool_] | None = None,
) -> NDArray[np.bool_]:
    """Tracks seen recently from two sites whose lines of sight cross at the track at
    `min_deg` or more, or at `CROSSING_SIGMAS` times the two lines' combined angular noise
    (`sigma`, radians per sensor; NaN: unknown) where that is less. Lines of two sensors that
    both measure elevation (`heighting`: cameras) cross in 3-D; others horizontally: a
    bearing says nothing of height. Two cameras nearly in line with a target still place it
    by their elevations: 1.3 degrees apart in azimuth and 3.4 in 3-D at a loiterer 740 m
    out, with 0.15 degrees of noise each (random camp 53 without its radar, where the
    5-degree test kept a track within 10 m of the loiterer tentative for 35 s). Where only
    one site (or none) looked, False."""
    n = positions.shape[0]
    out = np.zeros(n, dtype=bool)
    known = (~np.isnan(sites[:, 0])).nonzero()[0]
    if n == 0 or known.size < 2:
        return out
    d = positions[:, None, :] - sites[None, known, :]  # (n, s, 3)
    bearing = np.arctan2(d[..., 0], d[..., 1])
    unit = d / np.maximum(np.linalg.norm(d, axis=2, keepdims=True), 1e-9)
    seen = recent[:, known]
    noise = np.full(known.size, np.nan) if sigma is None else sigma[known]
    tall = np.zeros(known.size, dtype=bool) if heighting is None else heighting[known]
    for a in range(known.size):
        for b in range(a + 1, known.size):
            both = seen[:, a] & seen[:, b]
            if not both.any():
                continue
            limit = np.radians(min_deg)
            pair = CROSSING_SIGMAS * math.hypot(noise[a], noise[b])
            if pair < limit:  # False for NaN: an unknown noise keeps `min_deg`
                limit = pair
            if tall[a] and tall[b]:
                cosine = np.clip(np.einsum("ij,ij->i", unit[:, a], unit[:, b]), -1.0, 1.0)
                angle = np.arccos(cosine)
            else:
                angle = np.abs(np.angle(np.exp(1j * (bearing[:, a] - bearing[:, b]))))
            out |= both & (angle >= limit) & (angle <= np.pi - limit)
    return out


def _plots_elsewhere(
    raw: Hypotheses,
    assigned: Hypotheses,
    placed: NDArray[np.bool_],
    echo: Array,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Tracks with a radar plot in their gate (`raw`, before any exclusion) that went to
    another track: the radar saw something there and gave it to a neighbour. Returns
    (shadowed, crowded), both from the plots' one owner table:

    - shadowed: tracks no radar placed whose plot, within their `echo` gate (a squared
      distance per track; infinite: the whole gate), went to a track a radar placed. A
      bearings-only track so shadowed is another track's echo, not a small drone the radar
      cannot see. The tracker narrows the echo gate of firm tracks: at the edge of a firm
      track's gate a plot is more likely another drone's. A hidden drone's firm track 2.2
      km out, whose gate a passing swarm's plots reached (squared distances 15-17.5, the
      gate 18.5), was taken for an echo; its emitter's bearings, no longer reserved for it,
      fell in the swarm tracks' gates as well and went to none, and the track starved and
      died, its successor starting 55 s later (random camp 6). A tentative track keeps the
      whole gate: one born 110 m beside a swarm drone's radar track, of that drone's
      bearings, was confirmed once no longer shadowed (random camps 9 and 52). The tracker
      then spares a transmitter's track whose shadow is a passer-by (`Tracker._passed_by`).
    - crowded: tracks a radar placed whose plot went to another track. Such a track was not
      unseen: a swarm's radar track whose drone shared a resolution cell with a neighbour's
      for three scans was buried as a ghost when bearings had kept it fed (random camp 24,
      three drones' tracks at 2-2.4 km); the radar alone let it coast and kept it.
    """
    if kernels.ENABLED:  # one compiled pass over the pairs; the numpy below is the reference
        return radar_kernels.plots_elsewhere(
            raw.track, raw.det, raw.d2, assigned.track, assigned.det, placed, echo
        )
    k = int(max(raw.det.max(initial=-1), assigned.det.max(initial=-1))) + 1
    owner = np.full(k, -1, dtype=np.intp)
    owner[assigned.det] = assigned.track
    taken = owner[raw.det]
    elsewhere = (taken >= 0) & (taken != raw.track)
    by_placed = elsewhere & placed[np.maximum(taken, 0)] & (raw.d2 <= echo[raw.track])
    shadowed = np.zeros(placed.shape[0], dtype=bool)
    shadowed[raw.track[by_placed & ~placed[raw.track]]] = True
    crowded = np.zeros(placed.shape[0], dtype=bool)
    crowded[raw.track[elsewhere & placed[raw.track]]] = True
    return shadowed, crowded


def _concat(a: Hypotheses, b: Hypotheses) -> Hypotheses:
    if not len(a) or not len(b):  # one side is usually empty (no Remote ID, no tentative)
        return b if not len(a) else a
    return Hypotheses(
        np.concatenate([a.track, b.track]),
        np.concatenate([a.det, b.det]),
        np.concatenate([a.d2, b.d2]),
        np.concatenate([a.y, b.y]),
        np.concatenate([a.S, b.S]),
        np.concatenate([a.H, b.H]),
    )
