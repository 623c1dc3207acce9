"""A scenario's targets evaluated together: `TargetSet` → `TargetStates` at one instant.

The emission columns of `TargetStates` (RF emitter, protocol, Remote ID, operator position)
are read from each `Target` with defaults (see `simulators.targets.behaviours`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from simulators.scoring import Snapshot, TruthFrame, TruthTarget
from simulators.targets.behaviours import Target

Array = NDArray[np.float64]

__all__ = ["TargetSet", "TargetStates"]


@dataclass(frozen=True)
class TargetStates:
    """Every target in the air at one instant: ids, classes, RCS and ENU kinematics.

    The emission columns (one entry per target, see the module docstring) may be empty,
    meaning that no target emits or broadcasts anything; `operators` is (n, 2) ENU (e, n).
    """

    t: float
    ids: tuple[str, ...]
    classes: tuple[str, ...]
    rcs_dbsm: Array  # (n,)
    enu: Array  # (n, 3)
    vel: Array  # (n, 3)
    rf_emitters: tuple[str | None, ...] = ()
    protocols: tuple[str | None, ...] = ()
    remote_ids: tuple[str | None, ...] = ()
    operators: Array | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def stamped(self, t: float) -> TargetStates:
        """The same states labelled with another time (wall clock in real-time runs)."""
        return replace(self, t=t)

    def in_wall_time(self, t: float, speed: float) -> TargetStates:
        """As seen by a run `speed` times faster than life: stamped `t`, velocities scaled."""
        return replace(self, t=t, vel=self.vel * speed)

    def snapshot(self) -> Snapshot:
        """As the scorer's `Snapshot`."""
        return Snapshot(self.t, self.ids, self.enu, self.vel)

    def truth_frame(self) -> TruthFrame:
        """As the payload of a `truth` record, each target with its class."""
        return TruthFrame(
            v=1,
            t=self.t,
            targets=[
                TruthTarget(i, p, v, c)
                for i, p, v, c in zip(
                    self.ids, self.enu.tolist(), self.vel.tolist(), self.classes, strict=True
                )
            ],
        )


class TargetSet:
    """The targets of a scenario, evaluated together at one time or on a grid of times."""

    def __init__(self, targets: Sequence[Target]) -> None:
        ids = [x.target_id for x in targets]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate target ids in {ids}")
        self.targets: tuple[Target, ...] = tuple(targets)
        self.ids = tuple(ids)
        self.classes = tuple(x.class_ for x in self.targets)
        self.rcs_dbsm = np.array([x.rcs_dbsm for x in self.targets], dtype=np.float64)
        self.t_start = np.array([x.t_start for x in self.targets], dtype=np.float64)
        self.t_end = np.array([x.t_end for x in self.targets], dtype=np.float64)
        self.rf_emitters = tuple(getattr(x, "rf_emitter", None) for x in self.targets)
        self.protocols = tuple(getattr(x, "protocol", None) for x in self.targets)
        self.remote_ids = tuple(getattr(x, "remote_id", None) for x in self.targets)
        self.operators = np.array([_operator(x) for x in self.targets]).reshape(-1, 2)

    def by_id(self, target_id: str) -> Target:
        """The target with this id (KeyError if none)."""
        return self.targets[self.ids.index(target_id)]

    def __len__(self) -> int:
        return len(self.targets)

    def __iter__(self) -> Iterator[Target]:
        return iter(self.targets)

    def of_class(self, class_: str) -> list[Target]:
        """The targets of one class."""
        return [x for x in self.targets if x.class_ == class_]

    def sample(self, times: ArrayLike) -> tuple[Array, Array, NDArray[np.bool_]]:
        """All targets at all `times` (k,): enu and vel (k, n, 3), and in-the-air mask (k, n)."""
        t = np.asarray(times, dtype=np.float64).reshape(-1)
        enu = np.zeros((len(t), len(self), 3))
        vel = np.zeros((len(t), len(self), 3))
        for j, target in enumerate(self.targets):
            enu[:, j], vel[:, j] = target.state(t)
        active = (t[:, None] >= self.t_start) & (t[:, None] <= self.t_end)
        return enu, vel, active

    def at(self, t: float) -> TargetStates:
        """The targets in the air at scenario time `t`."""
        enu, vel, active = self.sample([t])
        return self.select(t, enu[0], vel[0], active[0])

    def select(self, t: float, enu: Array, vel: Array, active: NDArray[np.bool_]) -> TargetStates:
        """One row of `sample` as `TargetStates` (only the targets in the air)."""
        idx = np.flatnonzero(active)
        return TargetStates(
            t=t,
            ids=tuple(self.ids[i] for i in idx),
            classes=tuple(self.classes[i] for i in idx),
            rcs_dbsm=self.rcs_dbsm[idx],
            enu=enu[idx],
            vel=vel[idx],
            rf_emitters=tuple(self.rf_emitters[i] for i in idx),
            protocols=tuple(self.protocols[i] for i in idx),
            remote_ids=tuple(self.remote_ids[i] for i in idx),
            operators=self.operators[idx],
        )


def _operator(target: Target) -> tuple[float, float]:
    """Where a target's operator stands (e, n): as given, else below the target's start."""
    given = getattr(target, "operator_en", None)
    if given is not None:
        return (float(given[0]), float(given[1]))
    start, _ = target.state(target.t_start)
    return (float(start[0]), float(start[1]))
