"""What a drill produced (`DrillResult`), and the truth about its targets that scoring needs.

Both the runners (`simulators.drill.runner`) and the after-action report
(`simulators.drill.report`) use these: whose a target is (`target_side`) and when it first
enters the perimeter (`perimeter_crossing`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cuas import wire
from cuas.config import CampConfig
from cuas.fusion.zones import ZoneSet
from cuas.service.replay import ReplaySummary
from simulators.drill.score import DrillScore, TargetInfo
from simulators.scoring import Snapshot

if TYPE_CHECKING:
    from simulators.scenario_library import Scenario
    from simulators.targets.behaviours import Target

CROSSING_STEP_S = 0.1  # perimeter crossings: sampled on this grid, then bisected
CROSSING_TOLERANCE_S = 1e-6

__all__ = ["DrillResult", "perimeter_crossing", "target_infos", "target_side"]


@dataclass
class DrillResult:
    """A scored drill and what it produced."""

    scenario: Scenario
    camp: CampConfig
    seed: int
    score: DrillScore
    truth: list[Snapshot]
    cycles: list[wire.TrackCycle]
    alerts: list[wire.Alert]
    t0: float
    time_scale: float = 1.0
    replay: ReplaySummary | None = None
    files: dict[str, Path] = field(default_factory=dict)
    wall_s: float = 0.0
    reports: list[wire.Report] = field(default_factory=list)  # what the sensors sent (fast runs)


# --- ground truth -------------------------------------------------------------------------


def perimeter_crossing(target: Target, zones: ZoneSet, until_s: float) -> float | None:
    """The first scenario time at which `target` is inside the perimeter (None if never
    before `until_s`): sampled every `CROSSING_STEP_S`, then bisected on the target's exact,
    pure `state(t)` to `CROSSING_TOLERANCE_S`."""
    if zones.perimeter is None:
        return None
    k = zones.perimeter
    t_start, t_end = target.t_start, min(target.t_end, until_s)
    if not t_end >= t_start:
        return None
    grid = np.arange(t_start, t_end + CROSSING_STEP_S / 2, CROSSING_STEP_S)
    grid[-1] = min(grid[-1], t_end)

    def inside(t: Any) -> np.ndarray:
        pos, _ = target.state(np.atleast_1d(np.asarray(t, dtype=np.float64)))
        return zones.contains(np.asarray(pos).reshape(-1, 3))[:, k]

    hits = np.flatnonzero(inside(grid))
    if not len(hits):
        return None
    j = int(hits[0])
    if j == 0:
        return float(grid[0])
    lo, hi = float(grid[j - 1]), float(grid[j])
    while hi - lo > CROSSING_TOLERANCE_S:
        mid = 0.5 * (lo + hi)
        if inside(mid)[0]:
            hi = mid
        else:
            lo = mid
    return hi


def target_side(target: Target, camp: CampConfig) -> str:
    """Whose a target is: as the scenario says, else birds are neutral, drones broadcasting a
    friendly Remote ID serial or RF emitter id are friendly, and every other drone hostile."""
    side = getattr(target, "side", None)
    if side is not None:
        return str(side)
    if target.class_ != "drone":
        return "neutral"
    friendly = set(camp.friendly.uas_ids) | set(camp.friendly.emitter_ids)
    ids = {getattr(target, "remote_id", None), getattr(target, "rf_emitter", None)}
    return "friendly" if ids & friendly else "hostile"


def target_infos(
    scenario: Scenario, camp: CampConfig, first_seen: dict[str, float]
) -> list[TargetInfo]:
    """The truth of each target the scorer needs."""
    frame = camp.local_frame()
    zones = ZoneSet(camp.zones, frame)
    return [
        TargetInfo(
            target_id=x.target_id,
            side=target_side(x, camp),
            class_=x.class_,
            first_seen_s=first_seen.get(x.target_id),
            perimeter_s=perimeter_crossing(x, zones, scenario.duration_s),
        )
        for x in scenario.targets
    ]
