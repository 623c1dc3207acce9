"""Zone alerts: a firm track inside a zone raises an alert of the zone's level.

This is the first, simple alert stage: raised when a confirmed (or coasting) track is inside
a zone, escalated when it enters a zone of a higher level, cleared when it leaves every zone
or its track is deleted. Threat evaluation with debounce, hysteresis and acknowledgement
replaces it later; its output is already the wire `Alert` of DESIGN.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cuas import wire
from cuas.tracking.tracker import TrackSnapshot
from cuas.tracking.tracks import TENTATIVE
from cuas.zones import LEVEL_RANK, ZoneSet

Array = NDArray[np.float64]
_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
_THREAT_OF_LEVEL = {"warning": "medium", "critical": "critical"}


@dataclass
class _Active:
    alert_id: str
    level: str
    zone: str
    t_raised: float


@dataclass(frozen=True)
class TrackGeometry:
    """What alerting needs to know about each snapshot track, computed once per cycle."""

    inside: NDArray[np.bool_]  # (n, zones)
    eta_s: Array  # (n,) seconds to the perimeter (0 inside, inf never, NaN no perimeter)
    lat: Array
    lon: Array
    alt: Array


def describe(track_id: int, zone: str, enu: Array, vel: Array, eta_s: float) -> str:
    """One human sentence: where the track is, how fast, and how soon it reaches the camp."""
    distance = float(np.hypot(enu[0], enu[1]))
    bearing = float(np.degrees(np.arctan2(enu[0], enu[1])) % 360.0)
    compass = _COMPASS[int((bearing + 22.5) // 45.0) % 8]
    speed = float(np.hypot(vel[0], vel[1]))
    where = (
        f"{distance / 1000:.1f} km {compass}" if distance >= 1000 else f"{distance:.0f} m {compass}"
    )
    sentence = f"Track {track_id} inside {zone}, {where} of camp centre, {speed:.0f} m/s"
    if np.isfinite(eta_s) and eta_s > 0:
        sentence += f", {eta_s:.0f} s to perimeter"
    return sentence


class ZoneAlerts:
    """Keeps one alert per track episode inside the camp's zones."""

    def __init__(self, zones: ZoneSet) -> None:
        self.zones = zones
        self.active: dict[int, _Active] = {}

    def evaluate(
        self, snap: TrackSnapshot, geo: TrackGeometry
    ) -> tuple[list[wire.Alert], list[str]]:
        """Alert transitions for this cycle and the threat of each snapshot track."""
        n = len(snap)
        threat = ["none"] * n
        alerts: list[wire.Alert] = []
        seen: set[int] = set()
        if len(self.zones):
            # Friendly drones never raise a hostile alert, wherever they fly.
            firm = (snap.live.status != TENTATIVE) & ~snap.live.friendly
            ranked = np.where(geo.inside, self.zones.rank[None, :], 0)
            best = ranked.argmax(axis=1)
            in_zone = firm & (ranked.max(axis=1) > 0)
            for i in np.flatnonzero(in_zone):
                track_id = int(snap.live.track_id[i])
                zone = self.zones.names[best[i]]
                level = self.zones.levels[best[i]]
                threat[i] = _THREAT_OF_LEVEL[level]
                seen.add(track_id)
                active = self.active.get(track_id)
                if active is None:
                    active = _Active(f"a{int(snap.t)}-{track_id}", level, zone, snap.t)
                    self.active[track_id] = active
                    alerts.append(self._alert(active, track_id, "raised", snap, geo, i))
                elif LEVEL_RANK[level] > LEVEL_RANK[active.level]:
                    active.level, active.zone = level, zone
                    alerts.append(self._alert(active, track_id, "escalated", snap, geo, i))
        index = {int(tid): i for i, tid in enumerate(snap.live.track_id)}
        for track_id in sorted(set(self.active) - seen):
            active = self.active.pop(track_id)
            i = index.get(track_id)
            alerts.append(self._alert(active, track_id, "cleared", snap, geo, i))
        return alerts, threat

    def _alert(
        self,
        active: _Active,
        track_id: int,
        state: str,
        snap: TrackSnapshot,
        geo: TrackGeometry,
        i: int | None,
    ) -> wire.Alert:
        if i is None:  # the track is gone: the alert clears where it was last raised
            return wire.Alert(
                v=wire.VERSION,
                alert_id=active.alert_id,
                track_id=track_id,
                level=active.level,
                state=state,
                zone=active.zone,
                reason=f"Track {track_id} lost",
                t_raised=active.t_raised,
                t=snap.t,
                lat=None,
                lon=None,
                alt_m=None,
                eta_s=None,
                acknowledged_by=None,
            )
        eta = float(geo.eta_s[i])
        x = snap.live.x[i]
        reason = describe(track_id, active.zone, x[:3], x[3:], eta)
        if state == "cleared":
            reason = f"Track {track_id} left the {active.zone} zone"
        return wire.Alert(
            v=wire.VERSION,
            alert_id=active.alert_id,
            track_id=track_id,
            level=active.level,
            state=state,
            zone=active.zone,
            reason=reason,
            t_raised=active.t_raised,
            t=snap.t,
            lat=round(float(geo.lat[i]), 7),
            lon=round(float(geo.lon[i]), 7),
            alt_m=round(float(geo.alt[i]), 2),
            eta_s=round(eta, 1) if np.isfinite(eta) else None,
            acknowledged_by=None,
        )
