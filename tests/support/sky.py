"""A hand-placed air picture, run through the real threat and alert stages cycle by cycle.

Tests of threat evaluation and of the alert lifecycle place tracks exactly where a
specification needs them (on a zone edge, on a course for the perimeter) instead of hoping a
tracker puts them there; everything after the tracker is the production code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec
import numpy as np

from cuas import wire
from cuas.config import CampConfig, load_config
from cuas.fusion.pipeline import FusionPipeline
from cuas.fusion.threat import track_geometry
from cuas.tracking.classification import published_classes
from cuas.tracking.tracks import CONFIRMED, TENTATIVE
from simulators.benchmark_scenarios import SAMPLE_CONFIG

T0 = 1_764_000_000.0
EXAMPLE = load_config(SAMPLE_CONFIG)


def camp(**alerts: object) -> CampConfig:
    """The example camp with some `[alerts]` settings changed. A sky is that of a service
    that has been running for a while: no start-up hold unless one is asked for (the hold
    has specifications of its own)."""
    settings = {"startup_hold_s": 0.0, **alerts}
    return msgspec.structs.replace(
        EXAMPLE, alerts=msgspec.structs.replace(EXAMPLE.alerts, **settings)
    )


CONFIG = camp()


@dataclass
class Sky:
    config: CampConfig = CONFIG
    t: float = T0
    period_s: float = 1.0
    faults: dict[str, str] = field(default_factory=dict)
    healthy: set[str] = field(default_factory=set)
    unseen: set[str] = field(default_factory=set)  # tracks no sensor updates (coasting)

    def __post_init__(self) -> None:
        self.pipeline = FusionPipeline(self.config)
        # The tracker's own table, filled by hand; its snapshot is what the pipeline would take.
        self.table = self.pipeline.tracker.tracks
        self.names: dict[str, int] = {}
        self.threat: dict[str, str] = {}
        self.alerts: list[wire.Alert] = []

    def _row(self, name: str) -> int:
        return int(np.flatnonzero(self.table.track_id[: self.table.n] == self.names[name])[0])

    def add(
        self,
        name: str,
        enu: tuple[float, float, float],
        vel: tuple[float, float, float] = (0.0, 0.0, 0.0),
        cls: str = "drone",
        friendly: bool = False,
        tentative: bool = False,
        vouched: bool = True,
    ) -> int:
        """A track `name` at `enu` (m) moving at `vel` (m/s), `cls` at 90 % (`unknown`: flat);
        `vouched`: its place vouched for (`TrackTable.t_vouched`), as a radar track's is."""
        x = np.array([[*enu, *vel]], dtype=float)
        # As a converged radar track: 5 m in position, 1 m/s in velocity (1 sigma).
        P = np.diag([25.0, 25.0, 25.0, 1.0, 1.0, 1.0])[None]
        self.table.add(x, P, self.t, 0)
        i = self.table.n - 1
        self.names[name] = int(self.table.track_id[i])
        self.table.status[i] = TENTATIVE if tentative else CONFIRMED
        probs = np.full(len(wire.CLASSES), 0.1 / (len(wire.CLASSES) - 1))
        if cls == "unknown":
            probs[:] = 1.0 / len(wire.CLASSES)
        else:
            probs[wire.CLASSES.index(cls)] = 0.9
        self.table.class_logp[i] = np.log(probs)
        self.table.friendly[i] = friendly
        self.table.t_vouched[i] = self.t if vouched else np.nan
        return self.names[name]

    def set(self, name: str, enu=None, vel=None, friendly: bool | None = None) -> None:
        i = self._row(name)
        if enu is not None:
            self.table.x[i, :3] = enu
        if vel is not None:
            self.table.x[i, 3:] = vel
        if friendly is not None:
            self.table.friendly[i] = friendly

    def position(self, name: str) -> np.ndarray:
        return self.table.x[self._row(name), :3].copy()

    def delete(self, name: str) -> None:
        self.table.remove(self.table.track_id[: self.table.n] == self.names.pop(name))

    def cycle(self) -> list[wire.Alert]:
        """One cycle at the current time, each track updated by a sensor just now (one piece
        of alerting evidence a cycle); then every track moves on by its velocity."""
        p = self.pipeline
        seen = [self._row(name) for name in self.names if name not in self.unseen]
        self.table.t_update[seen] = self.t
        snap = p.tracker.snapshot(self.t)  # the tracker never ran: nothing is predicted
        rows = snap.live
        geo = track_geometry(snap, p.zones, p.frame)
        classes = published_classes(rows.class_logp, p.class_confidence)
        threat = p.threat.evaluate(snap, geo, classes)
        by_id = {tid: n for n, tid in self.names.items()}
        self.threat = {
            by_id[t]: k for t, k in zip(rows.track_id.tolist(), threat.names, strict=True)
        }
        out = [tr.alert for tr in p.alerts.step(snap, geo, threat, self.faults, self.healthy)]
        self.alerts += out
        n = self.table.n
        self.table.x[:n, :3] += self.table.x[:n, 3:] * self.period_s
        self.t += self.period_s
        return out

    def fly(self, seconds: float) -> list[wire.Alert]:
        out: list[wire.Alert] = []
        for _ in range(round(seconds / self.period_s)):
            out += self.cycle()
        return out

    def acknowledge(self, alert_id: str, by: str) -> list[wire.Alert]:
        ack = wire.Ack(by=by, t=self.t)
        out = [tr.alert for tr in self.pipeline.acknowledge(alert_id, ack)]
        self.alerts += out
        return out


def states(alerts: list[wire.Alert], skip_updates: bool = True) -> list[str]:
    return [a.state for a in alerts if not (skip_updates and a.state == "updated")]
