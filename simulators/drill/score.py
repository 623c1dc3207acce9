"""Scoring a drill: how well the camp saw, tracked and warned of each hostile target.

Inputs are what any run of the core produces (track cycles and alert transitions, from a
replay output or captured live) plus the drill's ground truth: truth snapshots, and per
target its side, class, first detection and perimeter crossing time (`TargetInfo`, which the
simulators know; in a live-fly drill they come from GPS loggers and the sensor logs).

Association: each cycle, the firm tracks (confirmed or coasting) are assigned to the truth
moved to the cycle time by GOSPA's optimal assignment with cut-off `gate_m` (the same
`simulators.scoring.gospa` that scores accuracy). A track belongs to the target it was assigned to
most often (a duplicate track, left unassigned because its target already has one, belongs to
the nearest target within the cut-off); an alert belongs to the target its track was assigned
to at the alert's cycle, else to the track's own target, else to no target (clutter).

Per hostile target: first detection, first confirmed track assigned to it, first `raised`
alert of its tracks, the perimeter crossing and the warning time (crossing - first alert),
with an outcome: `warned` (alerted before crossing), `late` (alerted after), `missed`
(crossed, never alerted), `alerted` (alerted, never crossed) or `unalerted`. False alerts are
raised alerts of tracks of no hostile target, with their cause (`bird`, `friendly`, `neutral`,
`clutter`); friendly mistakes are alerts on friendlies, firm friendly tracks never published
`friendly`, and hostile tracks published `friendly`. Accuracy is `simulators.scoring.score`: mean
GOSPA and track-id switches over every true target (birds included; close formations swap
tracks often), and per hostile the switches of the firm track assigned to it. Alert semantics
are only the wire's: `state == "raised"` and `track_id`, so any alert lifecycle is scored the
same way.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from cuas import wire
from simulators.scoring import SCORED_STATUSES, Score, Snapshot, gospa, score, truth_at

GATE_M = 100.0  # association cut-off, also GOSPA's c
Side = str  # "hostile" | "friendly" | "neutral"

__all__ = [
    "DrillScore",
    "FalseAlert",
    "FriendlyMistake",
    "TargetInfo",
    "TargetScore",
    "score_drill",
]


@dataclass(frozen=True)
class TargetInfo:
    """What the drill's truth says of one target; times in scenario seconds."""

    target_id: str
    side: Side
    class_: str
    first_seen_s: float | None = None  # first delivered detection, any sensor
    perimeter_s: float | None = None  # first time inside the perimeter; None if never


@dataclass
class TargetScore:
    """One hostile target's timeline (scenario seconds; None: never)."""

    target_id: str
    class_: str
    first_detection_s: float | None
    first_confirmed_s: float | None
    first_alert_s: float | None
    first_alert_level: str | None
    perimeter_s: float | None
    warning_s: float | None  # perimeter - first alert, when the alert came first
    outcome: str
    tracks: list[int] = field(default_factory=list)
    id_switches: int = 0  # changes of the firm track assigned to it (gaps do not count)


@dataclass(frozen=True)
class FalseAlert:
    """A raised alert whose track belongs to no hostile target."""

    alert_id: str
    track_id: int | None
    t_s: float
    level: str
    zone: str | None
    cause: str  # bird | friendly | neutral | clutter
    target_id: str | None


@dataclass(frozen=True)
class FriendlyMistake:
    """Friend or foe confused: `kind` is `alerted`, `not flagged` or `hostile flagged`."""

    target_id: str
    kind: str
    track_id: int | None
    t_s: float


@dataclass
class DrillScore:
    """The whole drill's score; `to_dict` is `score.json`."""

    scenario: str
    seed: int
    duration_s: float
    hostiles: list[TargetScore]
    false_alerts: list[FalseAlert]
    friendly_mistakes: list[FriendlyMistake]
    accuracy: Score
    targets: int = 0
    friendlies: int = 0
    neutrals: int = 0
    tracks_confirmed: int = 0
    alerts_raised: int = 0
    gospa_series: list[tuple[float, float]] = field(default_factory=list)  # (t_s, GOSPA)

    @property
    def crossing(self) -> list[TargetScore]:
        """Hostiles that reached the perimeter."""
        return [h for h in self.hostiles if h.perimeter_s is not None]

    @property
    def warned(self) -> list[TargetScore]:
        """Hostiles alerted before they reached the perimeter."""
        return [h for h in self.hostiles if h.outcome == "warned"]

    def warning_times(self) -> list[float]:
        return [h.warning_s for h in self.warned if h.warning_s is not None]

    def summary(self) -> dict[str, Any]:
        """The headline numbers (one row of the library table)."""
        warnings = self.warning_times()
        return {
            "hostiles": len(self.hostiles),
            "crossing_perimeter": len(self.crossing),
            "warned_before_perimeter": len(self.warned),
            "missed": sum(h.outcome in ("missed", "late") for h in self.hostiles),
            "detected": sum(h.first_detection_s is not None for h in self.hostiles),
            "confirmed": sum(h.first_confirmed_s is not None for h in self.hostiles),
            "alerted": sum(h.first_alert_s is not None for h in self.hostiles),
            "median_warning_s": _round(statistics.median(warnings)) if warnings else None,
            "min_warning_s": _round(min(warnings)) if warnings else None,
            "false_alerts": len(self.false_alerts),
            "false_alert_causes": dict(Counter(a.cause for a in self.false_alerts)),
            "friendly_mistakes": len(self.friendly_mistakes),
            "mean_gospa_m": _round(self.accuracy.mean_gospa, 2),
            # GOSPA adds up over targets; per true target it compares across drill sizes.
            "mean_gospa_per_target_m": _round(
                self.accuracy.mean_gospa / max(self.accuracy.mean_truths, 1.0), 2
            ),
            "mean_position_error_m": _round(self.accuracy.mean_position_error_m, 2),
            "id_switches": self.accuracy.id_switches,
            "hostile_id_switches": sum(h.id_switches for h in self.hostiles),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": 1,
            "scenario": self.scenario,
            "seed": self.seed,
            "duration_s": self.duration_s,
            "summary": self.summary(),
            "targets": {
                "total": self.targets,
                "hostile": len(self.hostiles),
                "friendly": self.friendlies,
                "neutral": self.neutrals,
            },
            "tracks_confirmed": self.tracks_confirmed,
            "alerts_raised": self.alerts_raised,
            "hostiles": [asdict(h) for h in self.hostiles],
            "false_alerts": [asdict(a) for a in self.false_alerts],
            "friendly_mistakes": [asdict(m) for m in self.friendly_mistakes],
            "accuracy": self.accuracy.to_dict(),
        }


def _round(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(float(x), digits)


def _outcome(alert_s: float | None, perimeter_s: float | None) -> tuple[str, float | None]:
    if perimeter_s is None:
        return ("alerted" if alert_s is not None else "unalerted"), None
    if alert_s is None:
        return "missed", None
    if alert_s < perimeter_s:
        return "warned", _round(perimeter_s - alert_s)
    return "late", None


def score_drill(
    scenario: str,
    targets: Sequence[TargetInfo],
    truth: Sequence[Snapshot],
    cycles: Sequence[wire.TrackCycle],
    alerts: Sequence[wire.Alert],
    t0: float,
    *,
    seed: int = 0,
    duration_s: float = 0.0,
    time_scale: float = 1.0,
    gate_m: float = GATE_M,
) -> DrillScore:
    """Score one drill run (see the module docstring). Times in `truth`, `cycles` and
    `alerts` are epoch seconds; scenario time is `(t - t0) * time_scale` (a sped-up live run
    has `time_scale` = its speed)."""
    info = {x.target_id: x for x in targets}

    def scenario_s(t: float) -> float:
        return round((t - t0) * time_scale, 6)

    times = np.array([s.t for s in truth])
    votes: dict[int, Counter[str]] = defaultdict(Counter)
    paired_at: dict[tuple[float, int], str] = {}  # (cycle t, track id) -> target id
    near_votes: dict[int, Counter[str]] = defaultdict(Counter)  # unpaired, within the gate
    near_at: dict[tuple[float, int], str] = {}
    first_confirmed: dict[str, float] = {}
    flagged: dict[int, bool] = defaultdict(bool)  # a track ever published friendly
    flagged_hostile: dict[int, float] = {}  # hostile track published friendly, first time
    confirmed_tracks: set[int] = set()
    first_paired: dict[int, float] = {}
    last_track: dict[str, int] = {}
    switches: Counter[str] = Counter()
    series: list[tuple[float, float]] = []
    firm_snaps: list[Snapshot] = []
    for cycle in sorted(cycles, key=lambda c: c.t):
        firm = [k for k in cycle.tracks if k.status in SCORED_STATUSES]
        enu = np.array([k.enu for k in firm], dtype=np.float64).reshape(-1, 3)
        firm_snaps.append(Snapshot(cycle.t, tuple(k.track_id for k in firm), enu))
        confirmed_tracks.update(k.track_id for k in firm if k.status == "confirmed")
        if not len(times):
            continue
        now = truth_at(truth, times, cycle.t, 0.75)
        if now is None:
            continue
        g = gospa(now.enu, enu, c=gate_m)
        series.append((scenario_s(cycle.t), round(g.value, 3)))
        paired = {j for _, j in g.pairs}
        for j, track in enumerate(firm):
            if j in paired or not len(now):
                continue
            # A duplicate track of a target (GOSPA pairs each target once) still belongs to it.
            d = np.linalg.norm(now.enu - enu[j], axis=1)
            nearest = int(np.argmin(d))
            if d[nearest] < gate_m:
                target = str(now.ids[nearest])
                near_votes[track.track_id][target] += 1
                near_at[(cycle.t, track.track_id)] = target
        for i, j in g.pairs:
            target, track = str(now.ids[i]), firm[j]
            votes[track.track_id][target] += 1
            paired_at[(cycle.t, track.track_id)] = target
            first_paired.setdefault(track.track_id, scenario_s(cycle.t))
            if last_track.get(target, track.track_id) != track.track_id:
                switches[target] += 1
            last_track[target] = track.track_id
            flagged[track.track_id] |= track.friendly
            side = info[target].side if target in info else "neutral"
            if track.status == "confirmed" and target not in first_confirmed:
                first_confirmed[target] = scenario_s(cycle.t)
            if side == "hostile" and track.friendly and track.track_id not in flagged_hostile:
                flagged_hostile[track.track_id] = scenario_s(cycle.t)
    owner = {tid: c.most_common(1)[0][0] for tid, c in near_votes.items() if c}
    owner.update({tid: c.most_common(1)[0][0] for tid, c in votes.items() if c})

    raised = sorted((a for a in alerts if a.state == "raised"), key=lambda a: a.t)
    first_alert: dict[str, wire.Alert] = {}
    false_alerts: list[FalseAlert] = []
    mistakes: list[FriendlyMistake] = []
    for a in raised:
        target = None
        if a.track_id is not None:
            key = (a.t, a.track_id)
            target = paired_at.get(key, near_at.get(key, owner.get(a.track_id)))
        side = info[target].side if target in info else None
        if side == "hostile":
            first_alert.setdefault(target, a)  # type: ignore[arg-type]
            continue
        cause = "clutter" if target is None else _cause(info.get(target))
        false_alerts.append(
            FalseAlert(a.alert_id, a.track_id, scenario_s(a.t), a.level, a.zone, cause, target)
        )
        if side == "friendly":
            mistakes.append(FriendlyMistake(target, "alerted", a.track_id, scenario_s(a.t)))  # type: ignore[arg-type]

    tracks_of: dict[str, list[int]] = defaultdict(list)
    for tid, target in sorted(owner.items()):
        tracks_of[target].append(tid)
    for target, tids in tracks_of.items():
        x = info.get(target)
        if x is None:
            continue
        if x.side == "friendly":
            for tid in tids:
                if tid in confirmed_tracks and not flagged[tid]:
                    mistakes.append(FriendlyMistake(target, "not flagged", tid, first_paired[tid]))
        if x.side == "hostile":
            for tid in tids:
                if tid in flagged_hostile:
                    mistakes.append(
                        FriendlyMistake(target, "hostile flagged", tid, flagged_hostile[tid])
                    )

    hostiles: list[TargetScore] = []
    for x in targets:
        if x.side != "hostile":
            continue
        a = first_alert.get(x.target_id)
        alert_s = None if a is None else scenario_s(a.t)
        outcome, warning = _outcome(alert_s, x.perimeter_s)
        hostiles.append(
            TargetScore(
                target_id=x.target_id,
                class_=x.class_,
                first_detection_s=_round(x.first_seen_s),
                first_confirmed_s=first_confirmed.get(x.target_id),
                first_alert_s=alert_s,
                first_alert_level=None if a is None else a.level,
                perimeter_s=_round(x.perimeter_s),
                warning_s=warning,
                outcome=outcome,
                tracks=tracks_of.get(x.target_id, []),
                id_switches=switches[x.target_id],
            )
        )
    accuracy = score(truth, firm_snaps, c=gate_m)
    return DrillScore(
        scenario=scenario,
        seed=seed,
        duration_s=duration_s,
        hostiles=hostiles,
        false_alerts=false_alerts,
        friendly_mistakes=sorted(mistakes, key=lambda m: (m.t_s, m.target_id)),
        accuracy=accuracy,
        targets=len(targets),
        friendlies=sum(x.side == "friendly" for x in targets),
        neutrals=sum(x.side == "neutral" for x in targets),
        tracks_confirmed=len(confirmed_tracks),
        alerts_raised=len(raised),
        gospa_series=series,
    )


def _cause(x: TargetInfo | None) -> str:
    if x is None:
        return "clutter"
    if x.class_ == "bird":
        return "bird"
    return "friendly" if x.side == "friendly" else "neutral"
