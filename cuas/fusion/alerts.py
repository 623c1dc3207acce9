"""The alert lifecycle: one alert per track episode (and per sensor fault), as transitions.

Pure state machine, fed once per cycle with the snapshot, its geometry and the threat of
every track (`step`), and as soon as a scan is fused with the tracks that scan updated
(`observe`, so an operator hears of a threat without waiting for the cycle grid); it emits
the wire `Alert` of DESIGN.md for each transition:
- `raised` once a track's threat has been at or above `alerts.raise_threat` on
  `debounce_updates` distinct updates of the track spanning at least `debounce_s` of
  measurement time (`medium_debounce_s` while the threat is only `medium`: a bird's new
  track in the approach zone rates medium until its class settles, random camps 33, 52, 66
  and 68; and a `medium` threat on a track not yet surely a drone not before the track is
  `unsettled_age_s` old: a large bird's RCS is a small drone's, session 31), and no cycle
  in between found it below (debounce by evidence and time, not by cycles: a track seen by
  a 5 Hz camera is raised sooner than one seen by a 1 Hz radar, and a coasting track
  gathers no evidence, unless it coasts because its sensors went silent: then each cycle's
  prediction counts, since no sensor can update it); its level is `critical` for a
  `critical` threat and `warning` otherwise. Not before `startup_hold_s` of
  measurement time since the run's first evaluation: a friendly patrol already over the camp
  when the service starts is a new track inside the perimeter, critical within 1.5 s, and
  the finders and the Remote ID receiver name it only a second or two later, once its track
  exists (random camps 30, 102, 104 and 116). The debounce runs during the hold, so a track
  still alerting at its end is raised then;
- `escalated` at once when the level rises (warning -> critical), on a scan or a cycle; a
  level never falls within an episode, and an escalation clears the acknowledgement (the new
  level needs its own);
- `updated` at most every `update_period_s` while active (position, eta, reason);
- `acknowledged` when an operator acknowledges it (`acknowledge`), naming who;
- `cleared` when the track is deleted (at once), or after `clear_cycles` consecutive
  cycles below the alerting threat, more than `clear_margin_m` from every zone and no
  longer closing on the camp (hysteresis: a track on a zone edge, or weaving so that its
  course only now and then meets the perimeter, keeps one alert); or after `clear_cycles`
  as a friendly or a benign class (bird, clutter, aircraft), so that an identity that
  flickers for a cycle does not end one alert and start another.
A sensor in `fault` or silent past its heartbeats raises a `warning` of its own, cleared
when it reports healthy again.

After a restart the active alerts come back from the journal (`restore`). Track ids restart
with the tracker, so a restored track alert waits `restore_grace_s` for a new alerting track
within `restore_radius_m` of its last position and carries on with it (an `updated`
transition naming the new track); otherwise it is cleared as "track lost after restart".
Either way a consumer sees no second `raised` and no missing `cleared`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cuas import wire
from cuas.config import AlertsConfig, SensorConfig
from cuas.fusion.threat import CRITICAL, HIGH, RANK, ThreatPicture, TrackGeometry
from cuas.fusion.zones import ZoneSet
from cuas.geodesy import LocalFrame
from cuas.tracking.tracker import TrackSnapshot
from cuas.tracking.tracks import TrackRows

Array = NDArray[np.float64]
_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
TRACK = "track"
SENSOR = "sensor:"  # subject prefix of a sensor alert: "sensor:<sensor_id>"
LINE_MEMORY_S = 5.0  # a site that saw a track this recently has it on its line (`_line_of`)

__all__ = [
    "SENSOR",
    "TRACK",
    "AlertLifecycle",
    "TrackGeometry",
    "Transition",
    "describe",
    "describe_line",
]


@dataclass(frozen=True, slots=True)
class Transition:
    """One alert transition and what the alert is about (`track` or `sensor:<id>`)."""

    alert: wire.Alert
    subject: str


@dataclass
class _Streak:
    """A track at alerting threat, not yet raised: since when, and on how many updates."""

    t_first: float  # the first evaluation at alerting threat (measurement time)
    t_update: float  # the track's last update counted as evidence
    evidence: int  # updates at alerting threat so far


@dataclass
class _Episode:
    alert_id: str
    subject: str
    level: str
    t_raised: float
    last: wire.Alert
    track_id: int | None = None
    acknowledged_by: str | None = None
    quiet: int = 0  # consecutive cycles without reason to stay active
    deadline: float | None = None  # restored, awaiting a track until this time
    restored: bool = False


def describe(
    label: str,
    track_id: int,
    enu: Array,
    vel: Array,
    closing: float,
    eta_s: float,
    zone: str | None,
) -> str:
    """One human sentence: what, where, how fast, how soon it reaches the perimeter."""
    distance = float(np.hypot(enu[0], enu[1]))
    bearing = float(np.degrees(np.arctan2(enu[0], enu[1])) % 360.0)
    compass = _COMPASS[int((bearing + 22.5) // 45.0) % 8]
    where = f"{distance / 1000:.1f} km" if distance >= 1000 else f"{distance:.0f} m"
    speed = float(np.hypot(vel[0], vel[1]))
    parts = [f"{label.capitalize()} (track {track_id}) {where} {compass} of camp centre"]
    if closing >= 1.0:
        parts.append(f"inbound at {closing:.0f} m/s")
    elif speed < 1.0:
        parts.append("hovering")
    else:
        parts.append(f"{speed:.0f} m/s, not closing")
    if np.isfinite(eta_s) and eta_s > 0:
        parts.append(f"{eta_s:.0f} s to perimeter")
    if zone == "perimeter":
        parts.append("inside the perimeter")
    elif zone is not None:
        parts.append(f"in the {zone} zone")
    return ", ".join(parts) + "."


def describe_line(label: str, track_id: int, site: str, bearing: float) -> str:
    """One human sentence for a track whose place nothing vouches for: the line it is on."""
    return (
        f"{label.capitalize()} (track {track_id}) on bearing {bearing:.0f} degrees from "
        f"{site}, range unconfirmed: only two lines of sight cross on it."
    )


class AlertLifecycle:
    """Keeps the camp's active alerts and emits their transitions (see the module docstring)."""

    def __init__(
        self,
        camp_id: str,
        cfg: AlertsConfig,
        zones: ZoneSet,
        frame: LocalFrame,
        sensors: list[SensorConfig],
        first_number: int = 1,
        min_closing_mps: float = 3.0,
    ) -> None:
        self.camp_id = camp_id
        self.cfg = cfg
        self.zones = zones
        self.frame = frame
        self.sensors = {s.id: s for s in sensors}
        # The sites whose lines of sight a track alert may name, by the tracker's sensor index
        # (the camp file's order): cameras first, then direction finders (`_line_of`).
        kinds = [s.kind for s in sensors]
        self._site_ids = [s.id for s in sensors]
        self._site_enu = np.array(
            [frame.to_enu(s.lat, s.lon, s.alt_m).reshape(3) for s in sensors]
        ).reshape(-1, 3)
        self._cameras = np.array([k == "camera" for k in kinds], dtype=bool)
        self._finders = np.array([k == "rf" for k in kinds], dtype=bool)
        self.next_number = first_number
        self.raise_rank = RANK[cfg.raise_threat]
        self.min_closing_mps = min_closing_mps
        self.episodes: dict[str, _Episode] = {}  # alert id -> episode, in raising order
        self._by_track: dict[int, _Episode] = {}
        self._by_sensor: dict[str, _Episode] = {}
        self._orphans: list[_Episode] = []  # restored track alerts without a track yet
        self._streak: dict[int, _Streak] = {}  # track id -> its run at alerting threat
        self._hold_until: float | None = None  # no track alert raised before (startup hold)

    # --- queries -----------------------------------------------------------------------

    @property
    def active(self) -> list[wire.Alert]:
        """The current state of every active alert."""
        return [e.last for e in self.episodes.values()]

    # --- restart -----------------------------------------------------------------------

    def restore(self, alerts: list[tuple[wire.Alert, str]]) -> None:
        """Take back the active alerts (latest state, subject) a previous run left open."""
        for alert, subject in alerts:
            ep = _Episode(
                alert_id=alert.alert_id,
                subject=subject,
                level=alert.level,
                t_raised=alert.t_raised,
                last=alert,
                track_id=None,
                acknowledged_by=alert.acknowledged_by,
                restored=True,
            )
            self.episodes[ep.alert_id] = ep
            if subject.startswith(SENSOR):
                self._by_sensor[subject[len(SENSOR) :]] = ep
            else:
                self._orphans.append(ep)

    def clear_restored(self, t: float, reason: str) -> list[Transition]:
        """Clear every restored track alert still waiting for its track, saying why (its
        track cannot have survived the core's downtime, so no new track may take it over)."""
        out = [self._clear(ep, t, reason) for ep in self._orphans]
        self._orphans.clear()
        return out

    # --- operators ---------------------------------------------------------------------

    def acknowledge(self, alert_id: str, by: str, t: float) -> Transition | None:
        """An operator's acknowledgement; None when the alert is not active or already
        acknowledged at its current level by the same operator."""
        ep = self.episodes.get(alert_id)
        if ep is None or ep.acknowledged_by == by:
            return None
        ep.acknowledged_by = by
        last = ep.last
        return self._emit(
            ep,
            wire.Alert(
                **{
                    **_fields(last),
                    "state": "acknowledged",
                    "t": max(t, last.t),
                    "acknowledged_by": by,
                }
            ),
        )

    # --- the cycle -----------------------------------------------------------------------

    def step(
        self,
        snap: TrackSnapshot,
        geo: TrackGeometry,
        threat: ThreatPicture,
        faults: dict[str, str],
        healthy: set[str],
    ) -> list[Transition]:
        """This cycle's transitions. `faults`: sensors in fault or silent (id -> why);
        `healthy`: sensors heard and well."""
        t = snap.t
        out: list[Transition] = []
        live = snap.live
        index = {tid: i for i, tid in enumerate(live.track_id.tolist())}
        alerting = threat.level >= self.raise_rank
        for ep in self._orphans:
            if ep.deadline is None:
                ep.deadline = t + self.cfg.restore_grace_s

        # Active track alerts: carry on, escalate, update, or clear.
        near = self._near_zones(live.x[:, :3], [index.get(tid) for tid in self._by_track])
        for (track_id, ep), is_near in zip(list(self._by_track.items()), near, strict=True):
            i = index.get(track_id)
            if i is None:
                out.append(self._clear(ep, t, f"Track {track_id} lost."))
                continue
            closing = threat.closing_mps[i] >= self.min_closing_mps
            if alerting[i] or (not threat.harmless[i] and (is_near or closing)):
                ep.quiet = 0
            else:
                ep.quiet += 1
                if ep.quiet >= self.cfg.clear_cycles:
                    label = threat.label[i]
                    if live.friendly[i]:
                        why = f"Track {track_id} identified as friendly."
                    elif threat.harmless[i] and label not in ("unknown", "drone"):
                        why = f"Track {track_id} is a {label}, not a threat."
                    else:
                        why = f"Track {track_id} left the zones and is not closing."
                    out.append(self._clear(ep, t, why, geo, i))
                    continue
            escalation = self._escalate(ep, snap, geo, threat, i)
            if escalation is not None:
                out.append(escalation)
            elif t - ep.last.t >= self.cfg.update_period_s - 1e-9:
                out.append(self._track_alert(ep, "updated", snap, geo, threat, i))

        out += self._raise(snap, geo, threat, alerting, snap.sensors_silent)
        for track_id in [k for k in self._streak if k not in index or not alerting[index[k]]]:
            del self._streak[track_id]

        # Restored alerts whose track did not come back in time.
        for ep in [e for e in self._orphans if e.deadline is not None and t >= e.deadline]:
            self._orphans.remove(ep)
            out.append(self._clear(ep, t, "Track lost after restart."))

        if self.cfg.sensor_alerts:
            out += self._sensor_alerts(t, faults, healthy)
        return out

    def concerned(self, track_ids: list[int], level: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Which of these tracks, at these threat levels, `observe` would act on: at the
        alerting threat without an alert (raise or adopt), or critical under an alert that
        is not yet (escalate). The rest need no geodetic position nor transition."""
        out = np.zeros(len(track_ids), dtype=bool)
        # Only a track at the alerting threat or critical can be either: most are neither.
        rows = (level >= min(self.raise_rank, CRITICAL)).nonzero()[0]
        for i, lv in zip(rows.tolist(), level[rows].tolist(), strict=True):
            ep = self._by_track.get(track_ids[i])
            if ep is None:
                out[i] = lv >= self.raise_rank
            else:
                out[i] = ep.level != "critical" and lv == CRITICAL
        return out

    def count_evidence(
        self, track_ids: list[int], t: float, t_update: list[float], level: list[int]
    ) -> NDArray[np.bool_]:
        """Tracks at alerting threat (`level`: a medium one's debounce is the longer) without
        an alert, just updated by a scan at `t`: counts this update towards each one's
        debounce where that does not complete it, as
        `observe` would, and says which those were (`observe` would have done nothing else
        for them, so they need no full evaluation). The rest, whose debounce this completes,
        are left to `observe`; so are all of them while an alert restored after a restart
        waits for a track to adopt it."""
        counted = np.zeros(len(track_ids), dtype=bool)
        if self._orphans:
            return counted
        for i, (track_id, t_up, lv) in enumerate(zip(track_ids, t_update, level, strict=True)):
            if track_id in self._by_track or self._debounced(
                track_id, t, t_up, False, lv, count=False
            ):
                continue
            self._debounced(track_id, t, t_up, False, lv)
            counted[i] = True
        return counted

    def observe(
        self, snap: TrackSnapshot, geo: TrackGeometry, threat: ThreatPicture
    ) -> list[Transition]:
        """The transitions due as soon as a scan is fused: `snap` holds the tracks that scan
        updated (at the scan's time). Raises what the debounce now allows and escalates at
        once; updates and clearing wait for the cycle (`step`), which sees every track.
        A scan that finds a track below the alerting threat does not break its run: a
        track seen five times a second by a camera and twice by a direction finder would
        otherwise lose its run to any single update's jitter; the cycle's evaluation, once a
        period, decides (as it did when alerts were evaluated on cycles alone)."""
        out: list[Transition] = []
        alerting = threat.level >= self.raise_rank
        for i, track_id in enumerate(snap.live.track_id.tolist()):
            ep = self._by_track.get(track_id)
            if ep is not None:
                escalation = self._escalate(ep, snap, geo, threat, i)
                if escalation is not None:
                    out.append(escalation)
        return out + self._raise(snap, geo, threat, alerting)

    def _escalate(
        self, ep: _Episode, snap: TrackSnapshot, geo: TrackGeometry, threat: ThreatPicture, i: int
    ) -> Transition | None:
        """`escalated` if row `i`'s threat now calls for a higher level than the episode's."""
        if threat.level[i] != CRITICAL or ep.level == "critical":
            return None
        ep.level = "critical"
        ep.acknowledged_by = None
        return self._track_alert(ep, "escalated", snap, geo, threat, i)

    def _debounced(
        self,
        track_id: int,
        t: float,
        t_update: float,
        orphaned: bool,
        level: int,
        benign: bool = False,
        count: bool = True,
        not_before: float = -math.inf,
    ) -> bool:
        """Count this evaluation at `t` of a track at alerting threat `level`: is the evidence
        enough? (With `count` off, only whether it would be.) A `medium` threat's run must
        span `medium_debounce_s`, a higher one's `debounce_s`; a `benign` track's (classified
        a bird, clutter or an aircraft, and rated by the perimeter alone) at least
        `benign_debounce_s`; and none completes before `not_before`.

        Evidence is an update evaluated at its own time (`t_update == t`: the scan path, or a
        cycle that falls on an update); each update counts once. An evaluation of a track
        between updates (a cycle's prediction) starts or extends the run but adds nothing,
        unless the track is `orphaned` (coasting because its sensors went silent): then the
        cycle's prediction is all there will be, and counts."""
        streak = self._streak.get(track_id)
        if streak is None:
            streak = _Streak(t, -math.inf, 0)
            if count:
                self._streak[track_id] = streak
        evidence = streak.evidence
        if orphaned or (t_update == t and t_update > streak.t_update):
            evidence += 1
            if count:
                streak.evidence = evidence
                streak.t_update = max(t_update, streak.t_update)
        wait = self.cfg.medium_debounce_s if level < HIGH else self.cfg.debounce_s
        if benign:
            wait = max(wait, self.cfg.benign_debounce_s)
        return (
            evidence >= self.cfg.debounce_updates
            and t - streak.t_first >= wait - 1e-9
            and t >= not_before - 1e-9
        )

    def _settled_at(self, live: TrackRows, threat: ThreatPicture, i: int) -> float:
        """When row `i`'s threat may raise, however long it has been alerting: a `medium`
        threat on a track not yet surely a drone (`settled_drone_p`) once the track is
        `unsettled_age_s` old; any other at once (-inf).

        Random camp 52 (session 31): a flock's new track in the approach zone at start-up,
        its first velocities made of several birds' plots (24-32 m/s), was called a drone at
        0.64 five seconds after its birth, and warned of. Camp 614's loiterer, a drone of
        -18.7 dBsm that looks like a large bird, is `unknown` for as long as it flies, and is
        warned of once its track is 15 s old."""
        if threat.level[i] >= HIGH or threat.drone_p[i] >= self.cfg.settled_drone_p:
            return -math.inf
        return float(live.t_birth[i]) + self.cfg.unsettled_age_s

    def _raise(
        self,
        snap: TrackSnapshot,
        geo: TrackGeometry,
        threat: ThreatPicture,
        alerting: NDArray[np.bool_],
        orphaned: NDArray[np.bool_] | None = None,
    ) -> list[Transition]:
        """Tracks at alerting threat without an alert: a restored one, or debounce then raise.
        `orphaned`: rows coasting because their sensors went silent (a cycle's evaluation)."""
        out: list[Transition] = []
        t, live = snap.t, snap.live
        if self._hold_until is None:
            self._hold_until = t + self.cfg.startup_hold_s
        held = t < self._hold_until - 1e-9
        for i in alerting.nonzero()[0].tolist():
            track_id = int(live.track_id[i])
            if track_id in self._by_track:
                continue
            debounced = self._debounced(
                track_id,
                t,
                float(live.t_update[i]),
                orphaned is not None and bool(orphaned[i]),
                int(threat.level[i]),
                bool(threat.benign[i]),
                not_before=self._settled_at(live, threat, i),
            )
            orphan = self._adopt(live.x[i, :3], t)
            if orphan is not None:
                orphan.track_id = track_id
                self._by_track[track_id] = orphan
                self._streak.pop(track_id, None)
                tr = self._track_alert(orphan, "updated", snap, geo, threat, i)
                note = f" Re-associated with track {track_id} after a restart."
                tr = self._emit(
                    orphan, wire.Alert(**{**_fields(tr.alert), "reason": tr.alert.reason + note})
                )
                out.append(tr)
            elif debounced and not held:
                level = "critical" if threat.level[i] == CRITICAL else "warning"
                alert_id = f"{self.camp_id}-{int(t)}-{self.next_number}"
                self.next_number += 1
                ep = _Episode(alert_id, TRACK, level, t, _placeholder(t), track_id)
                self.episodes[alert_id] = ep
                self._by_track[track_id] = ep
                self._streak.pop(track_id, None)
                out.append(self._track_alert(ep, "raised", snap, geo, threat, i))
        return out

    # --- helpers ---------------------------------------------------------------------------

    def _near_zones(self, pos: Array, rows: list[int | None]) -> list[bool]:
        """Whether each row is within the clearing margin of any zone (None rows: False)."""
        have = [i for i in rows if i is not None]
        if not have or not len(self.zones):
            return [False] * len(rows)
        d = self.zones.distance_outside(pos[have]).min(axis=1)
        near = iter((d <= self.cfg.clear_margin_m).tolist())
        return [False if i is None else next(near) for i in rows]

    def _adopt(self, enu: Array, t: float) -> _Episode | None:
        """The nearest restored track alert within the radius, taken off the orphan list."""
        best, best_d = None, self.cfg.restore_radius_m
        for ep in self._orphans:
            a = ep.last
            if a.lat is None or a.lon is None:
                continue
            p = self.frame.to_enu(a.lat, a.lon, a.alt_m or self.frame.alt0).reshape(3)
            d = float(np.hypot(*(p[:2] - enu[:2])))
            if d <= best_d:
                best, best_d = ep, d
        if best is not None:
            self._orphans.remove(best)
        return best

    def _sensor_alerts(
        self, t: float, faults: dict[str, str], healthy: set[str]
    ) -> list[Transition]:
        out: list[Transition] = []
        for sensor_id, why in faults.items():
            if sensor_id in self._by_sensor:
                continue
            alert_id = f"{self.camp_id}-{int(t)}-{self.next_number}"
            self.next_number += 1
            ep = _Episode(alert_id, SENSOR + sensor_id, "warning", t, _placeholder(t))
            self.episodes[alert_id] = ep
            self._by_sensor[sensor_id] = ep
            out.append(self._sensor_alert(ep, sensor_id, "raised", t, f"Sensor {sensor_id} {why}."))
        for sensor_id in [s for s in self._by_sensor if s in healthy]:
            ep = self._by_sensor.pop(sensor_id)
            self.episodes.pop(ep.alert_id, None)
            out.append(
                self._sensor_alert(ep, sensor_id, "cleared", t, f"Sensor {sensor_id} recovered.")
            )
        return out

    def _sensor_alert(
        self, ep: _Episode, sensor_id: str, state: str, t: float, reason: str
    ) -> Transition:
        s = self.sensors.get(sensor_id)
        return self._emit(
            ep,
            wire.Alert(
                v=wire.VERSION,
                alert_id=ep.alert_id,
                track_id=None,
                level=ep.level,
                state=state,  # type: ignore[arg-type]
                zone=None,
                reason=reason,
                t_raised=ep.t_raised,
                t=t,
                lat=None if s is None else s.lat,
                lon=None if s is None else s.lon,
                alt_m=None if s is None else s.alt_m,
                eta_s=None,
                acknowledged_by=ep.acknowledged_by,
            ),
        )

    def _track_alert(
        self,
        ep: _Episode,
        state: str,
        snap: TrackSnapshot,
        geo: TrackGeometry,
        threat: ThreatPicture,
        i: int,
    ) -> Transition:
        x = snap.live.x[i]
        eta = float(geo.eta_s[i])
        z = int(threat.zone[i])
        zone = self.zones.names[z] if z >= 0 else None
        track_id = int(snap.live.track_id[i])
        line = None if not np.isnan(snap.live.t_vouched[i]) else self._line_of(snap.live, i, snap.t)
        where: dict[str, object]
        if line is None:
            reason = describe(
                threat.label[i], track_id, x[:3], x[3:], float(threat.closing_mps[i]), eta, zone
            )
            where = {
                "zone": zone,
                "lat": round(float(geo.lat[i]), 7),
                "lon": round(float(geo.lon[i]), 7),
                "alt_m": round(float(geo.alt[i]), 2),
                "eta_s": round(eta, 1) if np.isfinite(eta) else None,
            }
        else:  # the line it is on, not a place
            site, bearing = line
            reason = describe_line(threat.label[i], track_id, site, bearing)
            where = {"zone": None, "lat": None, "lon": None, "alt_m": None, "eta_s": None}
            where |= {"bearing_deg": bearing, "seen_from": site}
        return self._emit(
            ep,
            wire.Alert(
                v=wire.VERSION,
                alert_id=ep.alert_id,
                track_id=track_id,
                level=ep.level,  # type: ignore[arg-type]
                state=state,  # type: ignore[arg-type]
                reason=reason,
                t_raised=ep.t_raised,
                t=snap.t,
                acknowledged_by=ep.acknowledged_by,
                **where,  # type: ignore[arg-type]
            ),
        )

    def _line_of(self, live: TrackRows, i: int, t: float) -> tuple[str, float] | None:
        """The line of sight track `i` of `live` is on at `t`, as (site id, bearing from it in
        degrees): of the sites that saw it within `LINE_MEMORY_S`, the camera that saw it
        last (its line is the finer), else the finder that heard it last; of the others, the
        one that did last. None if no camera or finder ever did."""
        hits = live.last_hit[i]
        k = -1
        for since in (t - LINE_MEMORY_S, -np.inf):
            for kind in (self._cameras, self._finders):
                seen = kind[: len(hits)] & (hits > since)
                if seen.any():
                    k = int(np.where(seen, hits, -np.inf).argmax())
                    break
            if k >= 0:
                break
        if k < 0:
            return None
        d = live.x[i, :2] - self._site_enu[k, :2]
        bearing = float(np.degrees(np.arctan2(d[0], d[1])) % 360.0)
        return self._site_ids[k], round(bearing, 1) % 360.0

    def _clear(
        self,
        ep: _Episode,
        t: float,
        reason: str,
        geo: TrackGeometry | None = None,
        i: int | None = None,
    ) -> Transition:
        """The episode ends; the alert clears where the track was last seen."""
        self.episodes.pop(ep.alert_id, None)
        if ep.track_id is not None:
            self._by_track.pop(ep.track_id, None)
        fields = _fields(ep.last)
        if geo is not None and i is not None and ep.last.seen_from is None:
            fields |= {
                "lat": round(float(geo.lat[i]), 7),
                "lon": round(float(geo.lon[i]), 7),
                "alt_m": round(float(geo.alt[i]), 2),
            }
        fields |= {
            "state": "cleared",
            "t": max(t, ep.last.t),
            "reason": reason,
            "eta_s": None,
            "level": ep.level,
            "acknowledged_by": ep.acknowledged_by,
        }
        return self._emit(ep, wire.Alert(**fields))

    def _emit(self, ep: _Episode, alert: wire.Alert) -> Transition:
        ep.last = alert
        return Transition(alert, ep.subject)


def _fields(alert: wire.Alert) -> dict[str, object]:
    return {f: getattr(alert, f) for f in alert.__struct_fields__}


def _placeholder(t: float) -> wire.Alert:
    """The `last` of an episode before its first transition is built."""
    return wire.Alert(
        v=wire.VERSION,
        alert_id="-",
        track_id=None,
        level="warning",
        state="raised",
        zone=None,
        reason="",
        t_raised=t,
        t=t,
        lat=None,
        lon=None,
        alt_m=None,
        eta_s=None,
        acknowledged_by=None,
    )
