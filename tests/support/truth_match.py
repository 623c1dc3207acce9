"""What happened to each true target in a replay: matched to published tracks cycle by cycle.

Each track cycle is matched to the truth of the same instant by an optimal assignment of
firm tracks (confirmed or coasting) to targets, pairs further apart than `gate_m` left out.
A target's record lists, per cycle it existed, the track it was matched to (if any), the
position error, the published class and the friendly flag of that track.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from cuas import wire
from cuas.io.recording import read_records
from simulators.scoring import TruthFrame


@dataclass
class Seen:
    t: float
    track_id: int
    error_m: float
    horizontal_error_m: float
    class_: str
    friendly: bool


@dataclass
class TargetRecord:
    target_id: str
    class_: str
    t_first: float
    t_last: float
    seen: list[Seen] = field(default_factory=list)
    cycles: int = 0  # cycles in which the target existed
    times: list[float] = field(default_factory=list)  # ... and their times

    def after(self, t: float) -> list[Seen]:
        return [s for s in self.seen if s.t >= t]

    def held(self, since_s: float) -> float:
        """Fraction of the target's cycles from `since_s` after its appearance with a track."""
        t0 = self.t_first + since_s
        total = sum(1 for t in self.times if t >= t0)
        return len(self.after(t0)) / total if total else 0.0

    @property
    def track_ids(self) -> set[int]:
        return {s.track_id for s in self.seen}


@dataclass
class Outcome:
    targets: dict[str, TargetRecord]
    alerts: list[wire.Alert]
    cycles: list[wire.TrackCycle]
    truth_enu: dict[str, dict[float, list[float]]]  # target -> cycle time -> true position

    def of_prefix(self, prefix: str) -> list[TargetRecord]:
        return [r for k, r in sorted(self.targets.items()) if k.startswith(prefix)]


def match(truth_file: Path | str, replay_out: Path | str, gate_m: float = 100.0) -> Outcome:
    truth = {
        round(f.t, 3): f
        for f in (wire.from_msgpack(r.payload, TruthFrame) for r in read_records(truth_file))
    }
    cycles, alerts = [], []
    for r in read_records(replay_out):
        if r.topic == "tracks":
            cycles.append(wire.from_msgpack(r.payload, wire.TrackCycle))
        elif r.topic == "alert":
            alerts.append(wire.from_msgpack(r.payload, wire.Alert))
    targets: dict[str, TargetRecord] = {}
    truth_enu: dict[str, dict[float, list[float]]] = {}
    for cycle in cycles:
        frame = truth.get(round(cycle.t, 3))
        if frame is None:
            continue
        for x in frame.targets:
            rec = targets.setdefault(x.target_id, TargetRecord(x.target_id, x.class_, cycle.t, 0))
            rec.t_last = cycle.t
            rec.cycles += 1
            rec.times.append(cycle.t)
            truth_enu.setdefault(x.target_id, {})[cycle.t] = x.enu
        tracks = [t for t in cycle.tracks if t.status in ("confirmed", "coasting")]
        if not tracks or not frame.targets:
            continue
        X = np.array([x.enu for x in frame.targets])
        Y = np.array([t.enu for t in tracks])
        D = np.linalg.norm(X[:, None] - Y[None], axis=2)
        rows, cols = linear_sum_assignment(np.minimum(D, gate_m))
        for i, j in zip(rows, cols, strict=True):
            if D[i, j] >= gate_m:
                continue
            track = tracks[j]
            targets[frame.targets[i].target_id].seen.append(
                Seen(
                    cycle.t,
                    track.track_id,
                    float(D[i, j]),
                    float(np.linalg.norm(X[i, :2] - Y[j, :2])),
                    track.class_,
                    track.friendly,
                )
            )
    return Outcome(targets, alerts, cycles, truth_enu)
