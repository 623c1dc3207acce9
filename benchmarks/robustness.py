"""Robustness benchmark: fusion on random camps that nobody tuned for.

Each camp is drawn from a seed by `simulators.random_camp` (layout, sensor counts, sensors
flying with sigmas, Pd and clutter other than the camp file says, and a raid with inbound
drones, a close swarm, a loiterer, a friendly patrol, birds and a radar-hidden RF drone).

Every camp is recorded once and replayed twice: with every sensor, and with the radar alone.
Per camp it reports GOSPA (c = 100 m, p = 1) of both, confirmed tracks on no object per cycle
by the kinds of sensor that made them, missed objects per cycle, id switches, alerts raised
on no hostile drone, the share of time the radar-hidden RF drone has a confirmed track within
300 m once two direction finders hear it, the swarm's id switches per drone (CLEAR-MOT:
a drone's track changing while a correspondence within 100 m could have held) and the share
of its drones near the camp with no track of their own (few switches do not say every drone
has a track: a formation's tracks may gather on some of its drones), and the track
alerts whose object changed while they were active (the object each alert's track held, by
the same CLEAR-MOT correspondences over every object), and the hostile drones that entered
the perimeter with no alert on them before they did (with every sensor and with the radar
alone; and of those, how many no radar nor two sensor sites at once covered in the minute
before: no sensors of the camp could have placed them); then the table, its medians and its
worst camp.

    .venv/bin/python -m benchmarks.robustness [--camps 30] [--first 0] [--duration 150]
        [--formation] [--no-radar] [--json FILE] [--keep DIR]

The per-camp results go to `--json`; by default the reference run (the defaults above, the
seeds 0-29 that benchmarks/results/robustness.json keeps) writes that file, and any other run
`benchmarks/results/robustness-<first>-<camps>[-formation][-<duration>s].json`, so that a
run of one camp to look into it never overwrites the kept results.

The camps' swarms are loose (each member at its own speed, passing its neighbours abreast);
`--formation` flies each in formation instead, the swarm targets' case, the rest of each camp
and raid unchanged. `--no-radar` takes the radar away: the camp file lists none and its reports
are left out of the recording (a camp that could not buy one, or whose radar is down), the
rest of each camp and raid unchanged; there is no radar-alone run to compare with then, so
those figures are NaN and the table leaves them out.

Same seed, same camp, same raid, same figures.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from scipy.optimize import linear_sum_assignment

from benchmarks.bounds import hidden_drone_bound, passive_motion, radius, within
from cuas import wire
from cuas.fusion.zones import ZoneSet
from cuas.io.recording import read_records
from cuas.service.replay import replay
from cuas.topics import RECORDED_ALERT, RECORDED_TRACKS
from cuas.tracking.coverage import SensorGeometry
from simulators.flight.recording import record, truth_path
from simulators.random_camp import RandomCamp, random_camp
from simulators.scoring import (
    Snapshot,
    TruthFrame,
    TruthTarget,
    all_sensors_but,
    one_sensor,
    read_track_snapshots,
    read_truth,
    read_truth_frames,
    score,
    truth_at,
    truth_window,
)

MATCH_M = 100.0  # a track within this of an object is on it (the GOSPA cut-off)
# A swarm drone this near the camp's origin (horizontally) has a track of its own when a firm
# track within OWN_TRACK_M of it is nearer to it than to any other object.
SWARM_NEAR_M = 1500.0
OWN_TRACK_M = 50.0
RF_NEAR_M = 300.0
LINE_FLOOR_DEG = 1.0  # the least angle off its line at which an alert's line misses an object
ZONE_DWELL_S = 20.0  # a hostile drone this long in a warning zone must have been alerted there
# A drone is placeable when a radar, or two sites at once, covered it this long in the
# UNPLACED_WINDOW_S before it entered (a passive track is confirmed after 3 s of crossing).
PLACED_S = 3.0
UNPLACED_WINDOW_S = 60.0


# --- scoring ------------------------------------------------------------------------------


@dataclass
class CampResult:
    seed: int
    description: str
    gospa_all: float = 0.0
    gospa_radar: float = 0.0
    # GOSPA on what the radar can see: the radar-hidden RF drone left out, and with it the
    # camera/RF-only tracks on it (within 300 m or 3 sigmas). Bearings place that drone to
    # 100-300 m at 2 km, and with c = 100 m a track more than 50 m off costs more than no
    # track, so these figures show what fusion does to everything else.
    gospa_visible_all: float = 0.0
    gospa_visible_radar: float = 0.0
    false_per_cycle_all: float = 0.0
    false_per_cycle_radar: float = 0.0
    # Confirmed tracks made by cameras/RF alone with no object within 300 m or 3 sigmas.
    false_passive_per_cycle: float = 0.0
    false_by_kinds: dict[str, float] = field(default_factory=dict)
    missed_all: float = 0.0
    missed_radar: float = 0.0
    id_switches_all: int = 0
    id_switches_radar: int | float = 0  # NaN: flown without its radar (`_RADAR_ALONE`)
    swarm_switches_per_drone: float = 0.0  # CLEAR-MOT id switches
    swarm_switches_radar_per_drone: float = 0.0  # ... with the radar alone
    swarm_flips_per_drone: float = 0.0  # the assignment made afresh each cycle changing
    # The share of swarm drone-cycles within SWARM_NEAR_M of the camp with no track of their
    # own (every sensor, and the radar alone): where a formation's tracks gather on some of
    # its drones, its CLEAR-MOT switches stay few while other drones go without a track.
    swarm_untracked: float = math.nan
    swarm_untracked_radar: float = math.nan
    alerts_on_no_drone: int = 0
    line_alerts: int = 0  # raised giving a line of sight, not a place (`_Lines`)
    # Hostile drones that entered the perimeter, and those no alert was on before they did
    # (an active alert whose track was within 100 m of the drone, or three of its sigmas),
    # with every sensor and with the radar alone: the threat a camp must never miss.
    drones_entering: int = 0
    unalerted_all: int = 0
    unalerted_radar: int | float = 0  # NaN: flown without its radar
    # ... of those unalerted with every sensor, the drones that no radar, nor two sites at
    # once (a finder counts if the drone flies a link), covered for PLACED_S in the minute
    # before they entered (`_unplaced`): no sensors of the camp could have placed them.
    unalerted_unplaced: int = 0
    # Hostile drones (the radar-hidden one aside) that spent ZONE_DWELL_S or more in a warning
    # zone and never entered the perimeter (loiterers, drones passing wide), and those never
    # alerted while there (every sensor).
    zone_drones: int = 0
    zone_unalerted: int = 0
    # ... and how long before it the others were first alerted (s, every sensor).
    warnings_s: list[float] = field(default_factory=list)
    # Track alerts raised, and those whose track went from one object to another while active.
    track_alerts: int = 0
    alerts_changing_object: int = 0
    track_alerts_radar: int | float = 0  # ... with the radar alone (NaN: flown without it)
    alerts_changing_object_radar: int | float = 0
    rf_only_within_300m: float = math.nan
    # How well two finders' lines can place that drone in range: the widest angle at which
    # two of them meet at it (median over the run) over the noise of that angle (the pair's
    # configured bearing sigmas combined). Under one, lines from the two sites are as good
    # as parallel there: the range is unobservable, whatever the tracker does.
    rf_crossing_sigmas: float = math.nan
    # How well the camp's finders and cameras, as flown, allow that drone to be placed at all:
    # the median, from when two finders hear it (`_two_finders_hear`), of the radius (root
    # horizontal trace) of its position's posterior Cramér-Rao bound (bounds.py); NaN with
    # fewer than two finders. An efficient tracker's median horizontal miss is 0.7-0.8 of it.
    rf_bound_m: float = math.nan
    # ... and the share of that time an efficient tracker would be within 300 m of it (the
    # best `rf_only_within_300m` could be, on average).
    rf_bound_within_300m: float = math.nan
    # Whether the published sigma of a track made by cameras/finders alone on that drone
    # agrees with its error: over such firm tracks and cycles, their number, the mean of
    # (error / pos_sigma_m)^2 (pos_sigma_m is the root of the covariance's trace, so 1 where
    # they agree) and the share beyond three sigmas.
    rf_track_cycles: int = 0
    rf_track_nees: float = math.nan
    rf_track_beyond_3_sigma: float = math.nan
    # ... split: the median horizontal and vertical misses of those track-cycles (m), and the
    # mean of each squared over its published part (`horiz_sigma_m`, `alt_sigma_m`). No sensor
    # that hears the drone measures its height: the vertical miss is the height prior's.
    rf_track_horizontal_m: float = math.nan
    rf_track_vertical_m: float = math.nan
    rf_track_horizontal_nees: float = math.nan
    rf_track_vertical_nees: float = math.nan
    position_error_all: float = 0.0
    position_error_radar: float = 0.0
    # Scans and cycles the pipeline dropped because fusion raised (both replays): a defect
    # the core survives live, which the benchmark must not hide.
    faults: int = 0
    wall_s: float = 0.0

    @property
    def fused_better(self) -> bool:
        return self.gospa_all < self.gospa_radar

    @property
    def radar_alone(self) -> bool:
        """Whether the camp was also flown with its radar alone (not `--no-radar`)."""
        return not math.isnan(self.gospa_radar)


def _outputs(path: Path) -> tuple[list[wire.TrackCycle], list[wire.Alert]]:
    cycles, alerts = [], []
    for r in read_records(path):
        if r.topic == RECORDED_TRACKS:
            cycles.append(wire.from_msgpack(r.payload, wire.TrackCycle))
        elif r.topic == RECORDED_ALERT:
            alerts.append(wire.from_msgpack(r.payload, wire.Alert))
    return cycles, alerts


def _kinds(track: wire.Track, kinds: dict[str, str]) -> str:
    return "+".join(sorted({kinds.get(s, "?") for s in track.sensors})) or "none"


def _detail(
    camp: RandomCamp,
    truth: dict[float, TruthFrame],
    cycles: list[wire.TrackCycle],
    alerts: list[wire.Alert],
) -> dict[str, Any]:
    """False tracks by sensor kinds, the swarm's switches, the RF-only drone's coverage, and
    the track alerts whose object changed while they were active."""
    kinds = {s.id: s.kind for s in camp.config.sensors}
    by_kinds: dict[str, int] = {}
    passive_false = 0
    scored = 0
    owner: dict[str, int] = {}
    swarm_flips = 0
    holder: dict[str, int] = {}  # CLEAR-MOT correspondences of the swarm's drones
    swarm_switches = 0
    everyone: dict[str, int] = {}  # ... and of every object, for the alerts
    alerting = _alert_spans(alerts)
    followed: dict[str, list[str]] = {a: [] for a in alerting}  # alert -> objects in turn
    rf_seen = rf_near = 0
    rf_scores: list[float] = []  # (error / sigma)^2 of the passive tracks on the hidden drone
    rf_split: list[tuple[float, float, float, float]] = []  # (e_h, e_v, e_h/sigma_h, e_v/sigma_v)
    rf_heard_from = _two_finders_hear(camp)
    near_cycles = untracked = 0  # swarm drone-cycles near the camp, and those with no own track
    t0 = cycles[0].t if cycles else 0.0
    for cycle in cycles:
        frame = truth.get(round(cycle.t, 3))
        if frame is None:
            continue
        scored += 1
        tracks = [t for t in cycle.tracks if t.status in ("confirmed", "coasting")]
        X = np.array([t.enu for t in frame.targets]).reshape(-1, 3)
        Y = np.array([t.enu for t in tracks]).reshape(-1, 3)
        D = np.linalg.norm(X[:, None] - Y[None], axis=2) if len(X) and len(Y) else None
        matched_tracks: set[int] = set()
        near, lone = _swarm_untracked(frame, D, camp.swarm_ids)
        near_cycles += near
        untracked += lone
        if D is not None:
            rows, cols = linear_sum_assignment(np.minimum(D, MATCH_M * 10))
            for i, j in zip(rows, cols, strict=True):
                if D[i, j] >= MATCH_M:
                    continue
                matched_tracks.add(j)
                tid = frame.targets[i].target_id
                if tid in camp.swarm_ids:
                    if owner.get(tid, tracks[j].track_id) != tracks[j].track_id:
                        swarm_flips += 1
                    owner[tid] = tracks[j].track_id
            swarm_switches += _clear_mot_switches(frame, tracks, D, camp.swarm_ids, holder)
            ids = tuple(t.target_id for t in frame.targets)
            _clear_mot_switches(frame, tracks, D, ids, everyone)
            on = {everyone[i]: i for i in ids if i in everyone}  # track -> its object now
            for alert_id, (track_id, t_from, t_to) in alerting.items():
                seen = followed[alert_id]
                active = t_from <= cycle.t <= t_to and track_id in on
                if active and (not seen or seen[-1] != on[track_id]):
                    seen.append(on[track_id])
        for j, track in enumerate(tracks):
            nearest = float(D[:, j].min()) if D is not None else math.inf
            key = _kinds(track, kinds)
            passive = not set(key.split("+")) & {"radar", "remote_id"}  # cameras/DFs alone
            closest = int(D[:, j].argmin()) if D is not None else -1
            nearest_id = frame.targets[closest].target_id if D is not None else None
            if passive and nearest_id == camp.rf_only_id:
                rf_scores.append((nearest / max(track.pos_sigma_m, 1e-3)) ** 2)
                miss = np.array(track.enu) - X[closest]
                horizontal, vertical = track.sigmas()
                e_h, e_v = float(np.hypot(miss[0], miss[1])), abs(float(miss[2]))
                rf_split.append((e_h, e_v, e_h / max(horizontal, 1e-3), e_v / max(vertical, 1e-3)))
            if j in matched_tracks or nearest < MATCH_M:
                continue
            by_kinds[key] = by_kinds.get(key, 0) + 1
            # A passive track is a ghost when no object is within what bearings can place
            # (300 m) nor within three of its own published sigmas: a vague track of a real
            # drone 2.5 km out is on it, a crossing of two objects' lines of sight is not.
            reach = max(RF_NEAR_M, 3.0 * track.pos_sigma_m)
            if passive and nearest >= reach:
                passive_false += 1
        rf = next((t for t in frame.targets if t.target_id == camp.rf_only_id), None)
        if rf is not None and rf_heard_from is not None and cycle.t - t0 >= rf_heard_from:
            rf_seen += 1
            if len(Y) and float(np.linalg.norm(Y - np.array(rf.enu), axis=1).min()) < RF_NEAR_M:
                rf_near += 1
    n = max(scored, 1)
    return {
        "false_by_kinds": {k: round(v / n, 3) for k, v in sorted(by_kinds.items())},
        "false_passive_per_cycle": passive_false / n,
        "swarm_switches_per_drone": swarm_switches / max(len(camp.swarm_ids), 1),
        "swarm_flips_per_drone": swarm_flips / max(len(camp.swarm_ids), 1),
        "swarm_untracked": untracked / near_cycles if near_cycles else math.nan,
        "rf_only_within_300m": rf_near / rf_seen if rf_seen else math.nan,
        "rf_track_cycles": len(rf_scores),
        "rf_track_nees": float(np.mean(rf_scores)) if rf_scores else math.nan,
        "rf_track_beyond_3_sigma": float(np.mean(np.array(rf_scores) > 9.0))
        if rf_scores
        else math.nan,
        **_split_misses(rf_split),
        "track_alerts": len(alerting),
        "alerts_changing_object": sum(len(seen) > 1 for seen in followed.values()),
    }


def _split_misses(split: list[tuple[float, float, float, float]]) -> dict[str, float]:
    """The RF-only drone's camera/DF-only tracks: median horizontal and vertical misses, and
    the mean squared miss over its published sigma, each part apart."""
    if not split:
        return {}
    a = np.array(split)
    return {
        "rf_track_horizontal_m": float(np.median(a[:, 0])),
        "rf_track_vertical_m": float(np.median(a[:, 1])),
        "rf_track_horizontal_nees": float(np.mean(a[:, 2] ** 2)),
        "rf_track_vertical_nees": float(np.mean(a[:, 3] ** 2)),
    }


def _alert_spans(alerts: list[wire.Alert]) -> dict[str, tuple[int, float, float]]:
    """Each track alert's track and the measurement times it was active, raised to cleared
    (or the end of the run)."""
    spans: dict[str, tuple[int, float, float]] = {}
    for a in alerts:
        if a.track_id is None:
            continue
        track_id, t_from, t_to = spans.get(a.alert_id, (a.track_id, a.t_raised, math.inf))
        if a.state == "cleared":
            t_to = a.t
        spans[a.alert_id] = (track_id, t_from, t_to)
    return spans


def _clear_mot_switches(
    frame: TruthFrame,
    tracks: list[wire.Track],
    D: np.ndarray,
    drones: tuple[str, ...],
    holder: dict[str, int],
) -> int:
    """Id switches of `drones` in one frame, the CLEAR-MOT way (Bernardin & Stiefelhagen,
    2008): a drone's correspondence with a track holds while the track stays within the
    100 m match distance; drones without one are assigned afresh (Hungarian), and a drone
    whose new track differs from its last one switched. `holder` carries the
    correspondences from frame to frame. (Assigning every frame afresh instead counts a
    flip whenever two tracks of a 40 m formation trade places in the assignment, although
    each stays on its drone: the `swarm_flips_per_drone` figure of earlier tables.)"""
    ids = [t.track_id for t in tracks]
    column = {tid: j for j, tid in enumerate(ids)}
    index = {t.target_id: i for i, t in enumerate(frame.targets)}
    kept: dict[str, int] = {}
    for drone in drones:
        i, j = index.get(drone), column.get(holder.get(drone, -1))
        if i is not None and j is not None and D[i, j] < MATCH_M:
            kept[drone] = ids[j]
    rows = [index[d] for d in drones if d in index and d not in kept]
    cols = [j for j, tid in enumerate(ids) if tid not in kept.values()]
    switches = 0
    if rows and cols:
        sub = D[np.ix_(rows, cols)]
        for a, b in zip(*linear_sum_assignment(np.minimum(sub, MATCH_M * 10)), strict=True):
            if sub[a, b] < MATCH_M:
                drone = frame.targets[rows[a]].target_id
                switches += drone in holder and holder[drone] != ids[cols[b]]
                kept[drone] = ids[cols[b]]
    holder.update(kept)
    return switches


def _swarm_untracked(
    frame: TruthFrame, D: np.ndarray | None, swarm_ids: tuple[str, ...]
) -> tuple[int, int]:
    """(swarm drones of `frame` within `SWARM_NEAR_M` of the camp's origin, those of them with
    no track of their own: no firm track within `OWN_TRACK_M` whose nearest object it is).
    `D`: objects x firm tracks distances (None: no tracks or no objects)."""
    near = lone = 0
    nearest = D.argmin(axis=0) if D is not None else None
    for i, target in enumerate(frame.targets):
        if target.target_id not in swarm_ids or math.hypot(*target.enu[:2]) > SWARM_NEAR_M:
            continue
        near += 1
        if nearest is None or not ((nearest == i) & (D[i] < OWN_TRACK_M)).any():
            lone += 1
    return near, lone


def _two_finders_hear(camp: RandomCamp) -> float | None:
    """Scenario time from which two direction finders hear the RF-only drone, or None with
    fewer than two finders. It flies within every finder's range from the start (1.5-2.5 km
    from the radar, finders reach 4-6 km); 10 s are allowed to gather bearings."""
    finders = [s for s in camp.config.sensors if s.kind == "rf"]
    return 10.0 if len(finders) >= 2 else None


def _rf_bound(camp: RandomCamp) -> tuple[float, float]:
    """(`CampResult.rf_bound_m`, `CampResult.rf_bound_within_300m`)."""
    start = _two_finders_hear(camp)
    if start is None:
        return math.nan, math.nan
    times, horizontal = hidden_drone_bound(camp, passive_motion(camp.config.tracker))
    scored = horizontal[times >= start]
    return (
        round(float(np.median(radius(scored))), 1),
        round(float(np.mean(within(scored, RF_NEAR_M))), 3),
    )


def _rf_crossing_sigmas(camp: RandomCamp) -> float:
    """`CampResult.rf_crossing_sigmas`: NaN with fewer than two finders."""
    frame = camp.config.local_frame()
    finders = [s for s in camp.config.sensors if s.kind == "rf"]
    if len(finders) < 2:
        return math.nan
    sites = np.array([frame.to_enu(f.lat, f.lon, f.alt_m).reshape(3)[:2] for f in finders])
    sigmas = np.radians([f.sigma_az_deg for f in finders])
    drone = next(t for t in camp.scenario.targets.targets if t.target_id == camp.rf_only_id)
    positions = drone.state(np.arange(0.0, camp.scenario.duration_s, 5.0))[0][:, :2]
    offsets = positions[:, None, :] - sites[None, :, :]  # (times, finders, 2)
    azimuths = np.arctan2(offsets[..., 0], offsets[..., 1])
    best = 0.0
    for i in range(len(finders)):
        for j in range(i + 1, len(finders)):
            crossing = np.abs(np.angle(np.exp(1j * (azimuths[:, i] - azimuths[:, j]))))
            crossing = np.minimum(crossing, np.pi - crossing)  # lines, not rays
            noise = math.hypot(sigmas[i], sigmas[j])
            best = max(best, float(np.median(crossing)) / noise)
    return best


def _hostile(camp: RandomCamp) -> set[str]:
    """The raid's drones that are not the camp's friendly patrol."""
    return {
        t.target_id
        for t in camp.scenario.targets.targets
        if t.class_ == "drone" and t.target_id != "friend"
    }


class _Lines:
    """The sites that line-of-sight alerts (`wire.Alert.seen_from`: a track only two lines
    place) name, and which objects lie on such a line: within three of the site's
    configured azimuth sigmas (at least `LINE_FLOOR_DEG`) of it, and within the site's range.
    Such an alert claims the line, not a place, and is judged by the line."""

    def __init__(self, camp: RandomCamp) -> None:
        frame = camp.config.local_frame()
        self.sites = {
            s.id: (frame.to_enu(s.lat, s.lon, s.alt_m).reshape(3), s) for s in camp.config.sensors
        }

    def on(self, site: str, through: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Angles (degrees) off the line from `site` through `through` of positions `X`
        (n, 3); inf where beyond the site's range."""
        at = self.sites[site][0]
        return self.off(site, np.arctan2(through[0] - at[0], through[1] - at[1]), X)

    def off(self, site: str, bearing: float, X: np.ndarray) -> np.ndarray:
        """Angles (degrees) off the line from `site` on `bearing` (radians) of positions `X`
        (n, 3); inf where beyond the site's range."""
        at, s = self.sites[site]
        d = np.asarray(X, dtype=float).reshape(-1, 3) - at
        off = np.degrees(
            np.abs((np.arctan2(d[:, 0], d[:, 1]) - bearing + np.pi) % (2 * np.pi) - np.pi)
        )
        return np.where(np.linalg.norm(d[:, :2], axis=1) <= s.max_range_m, off, np.inf)

    def tolerance(self, site: str) -> float:
        return max(3.0 * self.sites[site][1].sigma_az_deg, LINE_FLOOR_DEG)


def _lines_at(alerts: list[wire.Alert]) -> dict[int, list[tuple[float, str | None]]]:
    """Each alerted track's transitions in time order: (t, the site its line is from, or
    None for an alert that gives a place)."""
    lines: dict[int, list[tuple[float, str | None]]] = {}
    for a in sorted(alerts, key=lambda a: a.t):
        if a.track_id is not None:
            lines.setdefault(a.track_id, []).append((a.t, a.seen_from))
    return lines


def _line_now(
    lines: dict[int, list[tuple[float, str | None]]], track_id: int, t: float
) -> str | None:
    """The site of track `track_id`'s line at `t`, if its last alert transition named one."""
    site = None
    for t_a, s in lines.get(track_id, ()):
        if t_a > t + 1e-9:
            break
        site = s
    return site


def _alerts_on_no_drone(
    camp: RandomCamp,
    truth: dict[float, TruthFrame],
    alerts: list[wire.Alert],
    cycles: list[wire.TrackCycle],
) -> int:
    """Alerts raised where no hostile drone was within 300 m, nor within three of the
    alerting track's published sigmas (a hidden drone's vague track is on that drone); an
    alert that gives a line, not a place, where no hostile drone was on its line (`_Lines`)."""
    frame = camp.config.local_frame()
    hostile = _hostile(camp)
    times = np.array(sorted(truth))
    cycle_times = np.array([c.t for c in cycles])
    bad = 0
    lines = _Lines(camp)
    for a in alerts:
        if a.state != "raised" or a.track_id is None:
            continue
        t = times[np.argmin(np.abs(times - a.t))]
        if a.seen_from is not None and a.bearing_deg is not None:
            # ... at the alert's time: the truth record may be a second off, and a drone flies
            # 20 m in it, more than a degree at a kilometre.
            dt = a.t - float(t)
            drones = [
                np.add(x.enu, np.multiply(x.vel_enu, dt))
                for x in truth[float(t)].targets
                if x.target_id in hostile
            ]
            b = math.radians(a.bearing_deg)
            off = lines.off(a.seen_from, b, np.array(drones)) if drones else np.zeros(0)
            bad += not (off <= lines.tolerance(a.seen_from)).any()
            continue
        if a.lat is None:
            continue
        pos = frame.to_enu(a.lat, a.lon, a.alt_m).reshape(3)
        near = [
            np.linalg.norm(np.array(x.enu) - pos)
            for x in truth[float(t)].targets
            if x.target_id in hostile
        ]
        sigma = 0.0
        if len(cycle_times):
            cycle = cycles[int(np.argmin(np.abs(cycle_times - a.t)))]
            sigma = next((k.pos_sigma_m for k in cycle.tracks if k.track_id == a.track_id), 0.0)
        if not near or min(near) > max(RF_NEAR_M, 3.0 * sigma):
            bad += 1
    return bad


def _alerting_frames(
    truth: dict[float, TruthFrame],
    cycles: list[wire.TrackCycle],
    alerts: list[wire.Alert],
    hostile: set[str],
) -> Iterator[
    tuple[wire.TrackCycle, TruthFrame, list[TruthTarget], np.ndarray, set[int], dict[int, str]]
]:
    """Each cycle with a truth record holding hostile drones: (the cycle, its truth, those
    drones, their positions (n, 3), the tracks whose alerts are active then, and the site of
    each of those whose alert gives a line, not a place)."""
    spans = list(_alert_spans(alerts).values())
    history = _lines_at(alerts)
    for cycle in cycles:
        frame = truth.get(round(cycle.t, 3))
        if frame is None:
            continue
        drones = [t for t in frame.targets if t.target_id in hostile]
        if not drones:
            continue
        alerting = {track_id for track_id, t_from, t_to in spans if t_from <= cycle.t <= t_to}
        lines = {k: _line_now(history, k, cycle.t) for k in alerting}
        yield (
            cycle,
            frame,
            drones,
            np.array([t.enu for t in drones]),
            alerting,
            {k: v for k, v in lines.items() if v is not None},
        )


def _unalerted(
    camp: RandomCamp,
    truth: dict[float, TruthFrame],
    cycles: list[wire.TrackCycle],
    alerts: list[wire.Alert],
) -> tuple[int, dict[str, list[tuple[float, np.ndarray]]], list[float]]:
    """(how many hostile drones entered the perimeter, the path until then of each on which
    no alert was active before it did (for `_unplaced`), how long before they did the others
    first had one). An alert is on a drone while its track is
    within `MATCH_M` of it, or within three of the track's published sigmas; one that gives
    a line, while the drone is on that line (`_Lines`)."""
    zones = ZoneSet(camp.config.zones, camp.config.local_frame())
    if zones.perimeter is None:
        return 0, {}, []
    entered: dict[str, float] = {}  # drone -> when it entered
    warned: dict[str, float] = {}  # drone -> when an alert was first on it
    paths: dict[str, list[tuple[float, np.ndarray]]] = {}  # drone -> (t, position) until then
    sites = _Lines(camp)
    frames = _alerting_frames(truth, cycles, alerts, _hostile(camp))
    for cycle, _, drones, X, alerting, lines in frames:
        inside = zones.contains(X)[:, zones.perimeter]
        on = [t for t in cycle.tracks if t.track_id in alerting]
        along = [  # each line alert's drones: on its line
            sites.on(lines[t.track_id], np.array(t.enu), X) <= sites.tolerance(lines[t.track_id])
            for t in on
            if t.track_id in lines
        ]
        on = [t for t in on if t.track_id not in lines]
        for k, (drone, x, now_inside) in enumerate(zip(drones, X, inside, strict=True)):
            if drone.target_id in entered:
                continue
            paths.setdefault(drone.target_id, []).append((cycle.t, x))
            if now_inside:
                entered[drone.target_id] = cycle.t
                continue
            if drone.target_id in warned:
                continue
            if any(line[k] for line in along):
                warned[drone.target_id] = cycle.t
                continue
            for t in on:
                if np.linalg.norm(np.array(t.enu) - x) < max(MATCH_M, 3.0 * t.pos_sigma_m):
                    warned[drone.target_id] = cycle.t
                    break
    leads = [round(t - warned[d], 1) for d, t in entered.items() if d in warned]
    missed = {d: paths[d] for d in entered if d not in warned}
    return len(entered), missed, leads


def _unplaced(camp: RandomCamp, paths: dict[str, list[tuple[float, np.ndarray]]]) -> int:
    """How many of the drones (each with its path up to entering the perimeter, sampled once
    a cycle) no radar, nor two sites at once, covered for `PLACED_S` of the
    `UNPLACED_WINDOW_S` before they entered, as the camp file's sensor geometry has it (a
    finder covers a drone that flies a link). A radar is one site that places alone, a camera
    or a finder half of a pair: a camera's line or a finder's bearing has no range."""
    frame = camp.config.local_frame()
    sites = [(s.kind, SensorGeometry.from_config(s, frame)) for s in camp.config.sensors]
    emitting = {
        t.target_id for t in camp.scenario.targets.targets if getattr(t, "rf_emitter", None)
    }
    unplaced = 0
    for drone, path in paths.items():
        t = np.array([p[0] for p in path])
        recent = t >= t[-1] - UNPLACED_WINDOW_S
        X = np.array([p[1] for p in path])[recent]
        count = np.zeros(len(X))
        for kind, geometry in sites:
            if kind == "remote_id" or (kind == "rf" and drone not in emitting):
                continue
            count += geometry.covers(X) * (2.0 if kind == "radar" else 1.0)
        step = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
        unplaced += bool(np.sum(count >= 2.0) * step < PLACED_S)
    return unplaced


def _zone_presence(zones: ZoneSet, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For positions `X` (n, 3): (inside a warning zone but not a critical one, inside a
    critical one)."""
    inside = zones.contains(X)
    critical = inside[:, zones.rank >= 2].any(axis=1)
    return inside[:, zones.rank == 1].any(axis=1) & ~critical, critical


def _zone_unalerted(
    camp: RandomCamp,
    truth: dict[float, TruthFrame],
    cycles: list[wire.TrackCycle],
    alerts: list[wire.Alert],
) -> tuple[int, int]:
    """(hostile drones, the radar-hidden one aside, that spent `ZONE_DWELL_S` or more in a
    warning zone and never entered the perimeter, those of them no alert was on while they
    were there). A loiterer in the approach zone never enters the perimeter, so `_unalerted`
    does not see it; an operator must hear of it all the same. An alert is on a drone while its
    track is within `MATCH_M` of it or three of its sigmas, and no other object is nearer
    the track: a vague track alerted on another drone passes within three of its 200 m
    sigmas of a loiterer, which is not alerted on for that. One that gives a line is on the
    object nearest its line, if on it (`_Lines`)."""
    zones = ZoneSet(camp.config.zones, camp.config.local_frame())
    if not (zones.rank == 1).any():
        return 0, 0
    hostile = _hostile(camp) - {camp.rf_only_id}
    period = camp.config.tracker.cycle_period_s
    dwell: dict[str, float] = {}
    alerted: set[str] = set()
    entered: set[str] = set()  # drones that crossed into the perimeter (`_unalerted`'s)
    sites = _Lines(camp)
    for cycle, frame, drones, X, alerting, lines in _alerting_frames(
        truth, cycles, alerts, hostile
    ):
        there, in_perimeter = _zone_presence(zones, X)
        objects = np.array([t.enu for t in frame.targets])
        on: set[str] = set()  # the objects nearest an alerting track that is on them
        for t in cycle.tracks:
            if t.track_id in lines:  # ... or nearest its line, and on it
                site = lines[t.track_id]
                off = sites.on(site, np.array(t.enu), objects)
                k = int(off.argmin())
                if off[k] <= sites.tolerance(site):
                    on.add(frame.targets[k].target_id)
            elif t.track_id in alerting:
                d = np.linalg.norm(objects - np.array(t.enu), axis=1)
                k = int(d.argmin())
                if d[k] < max(MATCH_M, 3.0 * t.pos_sigma_m):
                    on.add(frame.targets[k].target_id)
        entered.update(d.target_id for d, i in zip(drones, in_perimeter, strict=True) if i)
        for drone, now in zip(drones, there, strict=True):
            if now:
                dwell[drone.target_id] = dwell.get(drone.target_id, 0.0) + period
                if drone.target_id in on:
                    alerted.add(drone.target_id)
    stayed = {d for d, s in dwell.items() if s >= ZONE_DWELL_S - 1e-9} - entered
    return len(stayed), len(stayed - alerted)


def _visible_gospa(camp: RandomCamp, truth: list[Snapshot], cycles: list[wire.TrackCycle]) -> float:
    """Mean GOSPA without the radar-hidden drone and the camera/RF-only tracks on it
    (`truth` as `read_truth` gives it).

    Each cycle finds the hidden drone in the truth record `score` pairs it with (the
    nearest within half the truth period): a narrower window found none on the cycles
    between records, and kept the tracks on the drone there as false tracks.
    """
    kinds = {s.id: s.kind for s in camp.config.sensors}
    times = np.array([s.t for s in truth])
    max_dt = truth_window(times)
    visible = []
    for snap in truth:
        keep = [i for i, tid in enumerate(snap.ids) if tid != camp.rf_only_id]
        vel = snap.vel[keep] if snap.vel is not None else None
        visible.append(Snapshot(snap.t, tuple(snap.ids[i] for i in keep), snap.enu[keep], vel))
    tracks = []
    for cycle in cycles:
        now = truth_at(truth, times, cycle.t, max_dt)
        hidden = None
        if now is not None and camp.rf_only_id in now.ids:
            hidden = now.enu[now.ids.index(camp.rf_only_id)]
        kept = []
        for t in cycle.tracks:
            if t.status not in ("confirmed", "coasting"):
                continue
            passive = not (set(_kinds(t, kinds).split("+")) & {"radar", "remote_id"})
            reach = max(RF_NEAR_M, 3.0 * t.pos_sigma_m)
            if passive and hidden is not None and np.linalg.norm(np.array(t.enu) - hidden) < reach:
                continue
            kept.append(t)
        enu = np.array([t.enu for t in kept]).reshape(-1, 3)
        tracks.append(Snapshot(cycle.t, tuple(t.track_id for t in kept), enu))
    return score(visible, tracks).mean_gospa


def run_camp(camp: RandomCamp, work: Path, radar: bool = True) -> CampResult:
    """Record `camp` once and score its replays: every sensor, and the radar alone; or, with
    no `radar`, every sensor but the radar, which the camp file no longer lists."""
    started = time.perf_counter()
    rec = work / f"camp-{camp.seed}.msgpack"
    record(camp.scenario, camp.config, rec, seed=camp.seed)
    truth_file = Path(truth_path(rec))
    if radar:
        radar_rec = work / f"camp-{camp.seed}.radar.msgpack"
        one_sensor(rec, radar_rec, camp.scenario.radar.id)
        replays = [("all", rec), ("radar", radar_rec)]
    else:
        replays = [("all", work / f"camp-{camp.seed}.no-radar.msgpack")]
        camp = radar_taken_out(camp, rec, replays[0][1])
    result = CampResult(camp.seed, camp.description)
    if not radar:
        for name in _RADAR_ALONE:
            setattr(result, name, math.nan)
    truth = read_truth_frames(truth_file)
    snapshots = read_truth(truth_file)  # read once for both replays' scores
    for name, recording in replays:
        out = work / f"camp-{camp.seed}.{name}.out.msgpack"
        summary = replay(recording, camp.config, out, progress=False)
        result.faults += sum(summary.faults.values())
        s = score(snapshots, read_track_snapshots(out))
        cycles, alerts = _outputs(out)
        setattr(result, f"gospa_{name}", round(s.mean_gospa, 1))
        setattr(result, f"false_per_cycle_{name}", round(s.mean_false, 2))
        setattr(result, f"missed_{name}", round(s.mean_missed, 2))
        setattr(result, f"id_switches_{name}", s.id_switches)
        setattr(result, f"position_error_{name}", round(s.mean_position_error_m, 1))
        visible = _visible_gospa(camp, snapshots, cycles)
        setattr(result, f"gospa_visible_{name}", round(visible, 1))
        result.drones_entering, missed, warnings = _unalerted(camp, truth, cycles, alerts)
        setattr(result, f"unalerted_{name}", len(missed))
        if name == "all":
            result.warnings_s = warnings
            result.unalerted_unplaced = _unplaced(camp, missed)
            result.zone_drones, result.zone_unalerted = _zone_unalerted(camp, truth, cycles, alerts)
            for key, value in _detail(camp, truth, cycles, alerts).items():
                setattr(result, key, value)
            result.alerts_on_no_drone = _alerts_on_no_drone(camp, truth, alerts, cycles)
            result.line_alerts = sum(
                a.state == "raised" and a.seen_from is not None and a.track_id is not None
                for a in alerts
            )
        else:  # the swarm's switches with the radar alone, its reference
            detail = _detail(camp, truth, cycles, alerts)
            result.swarm_switches_radar_per_drone = detail["swarm_switches_per_drone"]
            result.swarm_untracked_radar = detail["swarm_untracked"]
            result.track_alerts_radar = detail["track_alerts"]
            result.alerts_changing_object_radar = detail["alerts_changing_object"]
    result.rf_crossing_sigmas = round(_rf_crossing_sigmas(camp), 2)
    result.rf_bound_m, result.rf_bound_within_300m = _rf_bound(camp)
    result.wall_s = round(time.perf_counter() - started, 1)
    return result


# What only a radar-alone run gives: NaN in a camp flown without its radar.
_RADAR_ALONE = (
    "gospa_radar",
    "gospa_visible_radar",
    "false_per_cycle_radar",
    "missed_radar",
    "id_switches_radar",
    "unalerted_radar",
    "swarm_switches_radar_per_drone",
    "swarm_untracked_radar",
    "position_error_radar",
    "track_alerts_radar",
    "alerts_changing_object_radar",
)


def radar_taken_out(camp: RandomCamp, recording: Path, out: Path) -> RandomCamp:
    """Write to `out` the camp's `recording` without its radar's reports, and return the
    camp as it then believes itself (`without_radar`)."""
    all_sensors_but(recording, out, camp.scenario.radar.id)
    return without_radar(camp)


def without_radar(camp: RandomCamp) -> RandomCamp:
    """`camp` as a camp without a radar believes it: its camp file lists no radar."""
    sensors = [s for s in camp.config.sensors if s.kind != "radar"]
    config = msgspec.structs.replace(camp.config, sensors=sensors)
    description = camp.description.split(", ", 1)[-1]
    return replace(camp, config=config, description=f"no radar, {description}")


# --- the table ----------------------------------------------------------------------------


def render(results: list[CampResult]) -> str:
    head = (
        f"{'camp':>5} {'GOSPA all':>9} {'radar':>7} {'better':>6} {'false/cyc':>9} "
        f"{'passive':>7} {'missed':>6} {'ids':>4} {'swarm':>5} {'RF<300':>6} {'bad al':>6}  "
        "camp"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        rf = "  -   " if math.isnan(r.rf_only_within_300m) else f"{r.rf_only_within_300m:6.0%}"
        better = ("yes" if r.fused_better else "NO") if r.radar_alone else "-"
        lines.append(
            f"{r.seed:>5} {r.gospa_all:9.1f} {r.gospa_radar:7.1f} "
            f"{better:>6} {r.false_per_cycle_all:9.2f} "
            f"{r.false_passive_per_cycle:7.2f} {r.missed_all:6.2f} {r.id_switches_all:4d} "
            f"{r.swarm_switches_per_drone:5.1f} {rf} {r.alerts_on_no_drone:6d}  {r.description}"
        )
    compared = [r for r in results if r.radar_alone]
    lines.append("")
    if compared:
        lines += [
            f"camps where all sensors beat radar alone: "
            f"{sum(r.fused_better for r in compared)}/{len(compared)}",
            f"median GOSPA all {statistics.median(r.gospa_all for r in compared):.1f}, "
            f"radar alone {statistics.median(r.gospa_radar for r in compared):.1f}",
            f"... on what the radar can see (the hidden RF drone and the camera/DF tracks on it "
            f"left out): all sensors better on "
            f"{sum(r.gospa_visible_all < r.gospa_visible_radar for r in compared)}"
            f"/{len(compared)}, "
            f"median {statistics.median(r.gospa_visible_all for r in compared):.1f} vs "
            f"{statistics.median(r.gospa_visible_radar for r in compared):.1f}",
        ]
    else:
        lines.append(
            f"no radar: median GOSPA {statistics.median(r.gospa_all for r in results):.1f} "
            f"(nothing to compare with)"
        )
    lines += [
        f"confirmed tracks on no object from cameras/DFs alone: "
        f"{statistics.mean(r.false_passive_per_cycle for r in results):.3f} per cycle (mean)",
        f"alerts on no hostile drone: {sum(r.alerts_on_no_drone for r in results)}; alerts "
        f"raised giving a line of sight, not a place (judged by the line): "
        f"{sum(r.line_alerts for r in results)}",
        f"hostile drones that entered the perimeter unalerted: "
        f"{sum(r.unalerted_all for r in results)} of {sum(r.drones_entering for r in results)}"
        + (f" (radar alone {sum(r.unalerted_radar for r in compared)})" if compared else "")
        + f", {sum(r.unalerted_unplaced for r in results)} of them covered by no radar nor two "
        f"sites at once for {PLACED_S:.0f} s in the minute before"
        + f"; the others warned {_median_min([s for r in results for s in r.warnings_s])} "
        "before",
        f"hostile drones {ZONE_DWELL_S:.0f} s or more in a warning zone, never in the perimeter "
        f"(the hidden one aside), never alerted there: {sum(r.zone_unalerted for r in results)} of "
        f"{sum(r.zone_drones for r in results)}"
        + "".join(f", camp {r.seed}: {r.zone_unalerted}" for r in results if r.zone_unalerted),
        f"track alerts whose object changed while active: "
        f"{sum(r.alerts_changing_object for r in results)} of "
        f"{sum(r.track_alerts for r in results)}"
        + (
            f" (radar alone {sum(r.alerts_changing_object_radar for r in compared)} of "
            f"{sum(r.track_alerts_radar for r in compared)})"
            if compared
            else ""
        ),
        _rf_line(results),
        f"swarm id switches per drone (CLEAR-MOT): "
        f"mean {statistics.mean(r.swarm_switches_per_drone for r in results):.2f} "
        + (
            f"(radar alone {_mean_of(compared, 'swarm_switches_radar_per_drone'):.2f}), "
            if compared
            else ""
        )
        + f"max {max(r.swarm_switches_per_drone for r in results):.1f}, "
        f"over one on {sum(r.swarm_switches_per_drone > 1.0 for r in results)}/{len(results)}; "
        f"fresh-assignment flips max {max(r.swarm_flips_per_drone for r in results):.1f}",
        _untracked_line(results),
        f"fusion faults (scans or cycles dropped because fusion raised): "
        f"{sum(r.faults for r in results)}"
        + "".join(f", camp {r.seed}: {r.faults}" for r in results if r.faults),
    ]
    if compared:
        worst = max(compared, key=lambda r: r.gospa_all - r.gospa_radar)
        lines.append(
            f"worst camp (all minus radar GOSPA): {worst.seed} "
            f"({worst.gospa_all:.1f} vs {worst.gospa_radar:.1f}; {worst.description})"
        )
    else:
        worst = max(results, key=lambda r: r.gospa_all)
        lines.append(f"worst camp: {worst.seed} ({worst.gospa_all:.1f}; {worst.description})")
    return "\n".join(lines)


def _untracked_line(results: list[CampResult]) -> str:
    """The swarm drones near the camp with no track of their own (`_swarm_untracked`)."""
    both = [r for r in results if not math.isnan(r.swarm_untracked)]
    if not both:
        return "swarm drones near the camp: none"
    worst = max(both, key=lambda r: r.swarm_untracked)
    radar = [r.swarm_untracked_radar for r in both if not math.isnan(r.swarm_untracked_radar)]
    return (
        f"swarm drones within {SWARM_NEAR_M / 1000:.1f} km of the camp with no track of their own "
        f"(none within {OWN_TRACK_M:.0f} m nearer to them than to any other object): "
        f"mean {statistics.mean(r.swarm_untracked for r in both):.1%} of drone-cycles"
        + (f" (radar alone {statistics.mean(radar):.1%}), " if radar else ", ")
        + f"worst {worst.swarm_untracked:.0%} (camp {worst.seed})"
    )


def _rf_line(results: list[CampResult]) -> str:
    """The RF-only drone's coverage: over every camp with two finders, and over those where
    their lines cross at it by more than their noise (`rf_crossing_sigmas` > 1)."""
    heard = [r for r in results if not math.isnan(r.rf_only_within_300m)]
    if not heard:
        return "RF-only drone: no camp with two direction finders"
    parts = []
    for name, rows in (
        ("", heard),
        ("lines crossing > 1 sigma", [r for r in heard if r.rf_crossing_sigmas > 1.0]),
    ):
        if not rows:
            continue
        values = [r.rf_only_within_300m for r in rows]
        parts.append(
            f"{name + ': ' if name else ''}median {statistics.median(values):.0%}, "
            f"worst {min(values):.0%}, 80 % of the time or more on "
            f"{sum(v >= 0.8 for v in values)}/{len(values)}"
        )
    line = "RF-only drone within 300 m: " + "; ".join(parts)
    scored = [r for r in results if r.rf_track_cycles]
    if scored:
        n = sum(r.rf_track_cycles for r in scored)
        line += (
            f"\nits camera/DF-only tracks, error against published sigma: mean (e/sigma)^2 "
            f"{_per_cycle(scored, 'rf_track_nees'):.2f} (1 where they agree), beyond 3 sigmas "
            f"{_per_cycle(scored, 'rf_track_beyond_3_sigma'):.1%} of {n} track-cycles"
            f"\n... across and up apart (misses: the median of the camps' medians; "
            f"(e/sigma)^2 over the track-cycles): horizontally "
            f"{_median_of(scored, 'rf_track_horizontal_m')} m, (e/sigma)^2 "
            f"{_per_cycle(scored, 'rf_track_horizontal_nees'):.2f}; vertically, a prior (nothing "
            f"that hears it measures height), {_median_of(scored, 'rf_track_vertical_m')} m, "
            f"(e/sigma)^2 {_per_cycle(scored, 'rf_track_vertical_nees'):.2f}"
        )
        bounded = [r for r in scored if not math.isnan(r.rf_bound_m)]
        if bounded:
            ratios = [r.rf_track_horizontal_m / r.rf_bound_m for r in bounded]
            line += (
                f"\n... against what the sensors allow (the posterior Cramér-Rao bound's radius, "
                f"bounds.py; an efficient tracker misses by 0.7-0.8 of it): bound "
                f"{_median_of(bounded, 'rf_bound_m')} m (median), horizontal miss over bound "
                f"median {statistics.median(ratios):.2f}, over 1 on "
                f"{sum(x > 1.0 for x in ratios)}/{len(ratios)}"
            )
    allowed = [r for r in heard if not math.isnan(r.rf_bound_within_300m)]
    if allowed:
        able = [r for r in allowed if r.rf_bound_within_300m >= 0.8]
        short = [r for r in able if r.rf_only_within_300m < 0.8]
        line += (
            f"\nan efficient tracker would be within 300 m 80 % of the time or more on "
            f"{len(able)}/{len(allowed)} (the bound's share of the time, median "
            f"{statistics.median(r.rf_bound_within_300m for r in allowed):.0%}); on those, "
            f"the tracker was on {len(able) - len(short)}/{len(able)}"
            + "".join(
                f", camp {r.seed}: {r.rf_only_within_300m:.0%} (bound {r.rf_bound_within_300m:.0%})"
                for r in short
            )
        )
    return line


def _mean_of(rows: list[CampResult], key: str) -> float:
    return statistics.mean(getattr(r, key) for r in rows)


def _median_of(rows: list[CampResult], key: str) -> str:
    return f"{statistics.median(getattr(r, key) for r in rows):.0f}"


def _per_cycle(rows: list[CampResult], key: str) -> float:
    """The mean of a per-camp figure of the hidden drone's tracks over their track-cycles."""
    return sum(getattr(r, key) * r.rf_track_cycles for r in rows) / sum(
        r.rf_track_cycles for r in rows
    )


def _median_min(seconds: list[float]) -> str:
    if not seconds:
        return "-"
    return f"{statistics.median(seconds):.0f} s (median), {min(seconds):.0f} s (least)"


# The reference run, whose per-camp results benchmarks/results/robustness.json keeps.
REFERENCE_FIRST, REFERENCE_CAMPS, REFERENCE_DURATION_S = 0, 30, 150.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--camps", type=int, default=REFERENCE_CAMPS)
    parser.add_argument("--first", type=int, default=REFERENCE_FIRST, help="seed of the first camp")
    parser.add_argument("--duration", type=float, default=REFERENCE_DURATION_S)
    parser.add_argument("--json", help="where the per-camp results go (default: see above)")
    parser.add_argument("--keep", help="keep recordings and outputs in this folder")
    parser.add_argument(
        "--formation", action="store_true", help="each swarm in formation, at one speed"
    )
    parser.add_argument(
        "--no-radar", action="store_true", help="each camp without its radar (nothing to compare)"
    )
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.keep) if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for seed in range(args.first, args.first + args.camps):
            camp = random_camp(seed, args.duration, formation=args.formation)
            r = run_camp(camp, work, radar=not args.no_radar)
            results.append(r)
            print(json.dumps(asdict(r)), file=sys.stderr, flush=True)
    print(render(results))
    out = Path(
        args.json
        or _default_json(args.first, args.camps, args.duration, args.formation, args.no_radar)
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0


def _default_json(
    first: int, camps: int, duration: float, formation: bool, no_radar: bool = False
) -> str:
    """The reference run's kept results file, or a file of this run's own (see the module
    docstring)."""
    if (first, camps, duration, formation, no_radar) == (
        REFERENCE_FIRST,
        REFERENCE_CAMPS,
        REFERENCE_DURATION_S,
        False,
        False,
    ):
        return "benchmarks/results/robustness.json"
    tail = "-formation" if formation else ""
    tail += "-no-radar" if no_radar else ""
    tail += "" if duration == REFERENCE_DURATION_S else f"-{duration:g}s"
    return f"benchmarks/results/robustness-{first}-{camps}{tail}.json"


if __name__ == "__main__":
    sys.exit(main())
