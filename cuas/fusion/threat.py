"""Threat evaluation: how dangerous each track is this cycle, `none` .. `critical`.

Pure and vectorised over a tracker snapshot. A firm, non-friendly track is rated by
two cues, and takes the worse:
- where it is: inside a `warning` zone it is at least `medium`, inside a `critical` zone
  (the perimeter) it is `critical`;
- where it is going: closing on the camp faster than `min_closing_mps` on a course that meets
  the perimeter, it is `high` within `eta_high_s` of it, `medium` within `eta_medium_s`,
  `low` further out. Only being inside a critical zone makes a track `critical`, so a
  loiterer that keeps its distance never is.
Tentative tracks, friendlies and tracks estimated implausibly far below the camp
(`min_height_m`: the filter of a track fed only by bearings can drift underground) are `none`:
they never escalate. A track confidently a bird, clutter or a manned aircraft is rated by the
perimeter alone, on a course that crosses it within `eta_medium_s` or inside it, and is `none`
anywhere else: a flock by the camp is no threat, but a small drone taken for a bird (their
radar cross-sections and speeds overlap) must not cross the perimeter unalerted. So is one
that only an emitter's bearings make a drone, where its own looks call it a bird
(`own_benign`).

Both cues use the track's covariance, not only its estimate (`certainty_sigmas`, k): a
track counts as closing only if its closing speed less k sigmas still exceeds
`min_closing_mps` (the probability that it closes is then over 97 % for k = 2), and it is
inside a zone only when it is more than k sigmas of horizontal position inside the zone's
edge (or that sigma is under `CERTAIN_POSITION_M`). For a radar track this changes
nothing; a vague passive contact whose speed and place are unknown is rated by what is known
of it.

Nor is a track's place known where two lines of sight cross on it and nothing else vouches
for it (`TrackTable.t_vouched`): a finder's bearing and a camera's sight cross whether or
not they are of one object. Such a track is at most `high`, never `critical`, and its alert
gives the line it is on, not a place (alerts.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cuas import wire
from cuas.config import ThreatConfig
from cuas.fusion.zones import ZoneSet, distance_to_polygon
from cuas.geodesy import LocalFrame
from cuas.tracking.classification import PublishedClasses, class_probabilities
from cuas.tracking.tracker import TrackSnapshot
from cuas.tracking.tracks import TENTATIVE, TrackRows

Array = NDArray[np.float64]
NONE, LOW, MEDIUM, HIGH, CRITICAL = range(5)
RANK = {name: i for i, name in enumerate(wire.THREATS)}
_ZONE_THREAT = {1: MEDIUM, 2: CRITICAL}  # zones.LEVEL_RANK -> threat
_BENIGN = [wire.CLASSES.index(c) for c in ("bird", "clutter", "aircraft")]
CERTAIN_POSITION_M = 50.0  # a track placed this well is where it is, for zone containment


class TrackGeometry:
    """What threat and alerting need to know about each snapshot track: zone containment
    `inside` (n, zones), `eta_s` (n,) seconds to the perimeter (0 inside, inf never, NaN no
    perimeter), and the geodetic `lat`, `lon`, `alt` (n,).

    The geodetic position is given, or converted from `pos` in `frame` when first read:
    a scan's threat needs none of it, and only a transition (an alert raised or escalated)
    or a published picture reads it, so the conversion (~0.4 ms a call, whatever the rows)
    is not paid for every scan."""

    __slots__ = ("_frame", "_geodetic", "_pos", "eta_s", "inside")

    def __init__(
        self,
        inside: NDArray[np.bool_],
        eta_s: Array,
        lat: Array | None = None,
        lon: Array | None = None,
        alt: Array | None = None,
        *,
        pos: Array | None = None,
        frame: LocalFrame | None = None,
    ) -> None:
        self.inside = inside
        self.eta_s = eta_s
        self._geodetic: tuple[Array, Array, Array] | None = None
        if lat is not None and lon is not None and alt is not None:
            self._geodetic = (lat, lon, alt)
        elif pos is None or frame is None:
            raise ValueError("a TrackGeometry needs lat, lon and alt, or pos and frame")
        self._pos = pos
        self._frame = frame

    def _converted(self) -> tuple[Array, Array, Array]:
        if self._geodetic is None:
            assert self._pos is not None and self._frame is not None
            self._geodetic = self._frame.to_geodetic(self._pos)
        return self._geodetic

    @property
    def lat(self) -> Array:
        return self._converted()[0]

    @property
    def lon(self) -> Array:
        return self._converted()[1]

    @property
    def alt(self) -> Array:
        return self._converted()[2]


def track_geometry(snap: TrackSnapshot, zones: ZoneSet, frame: LocalFrame) -> TrackGeometry:
    """Zone containment, time to the perimeter and geodetic position of every live track
    (the last converted when first read)."""
    pos, vel = snap.live.x[:, :3], snap.live.x[:, 3:]
    return TrackGeometry(
        zones.contains(pos), zones.time_to_perimeter(pos, vel), pos=pos.copy(), frame=frame
    )


@dataclass(frozen=True)
class ThreatPicture:
    """The threat of every live track of a snapshot, with the cues behind it."""

    level: NDArray[np.int64]  # (n,) index into wire.THREATS
    zone: NDArray[np.int64]  # (n,) the highest-level zone holding the track, -1 none
    closing_mps: Array  # (n,) horizontal speed towards the camp centre (negative: away)
    harmless: NDArray[np.bool_]  # (n,) tentative, friendly, or a benign class off the perimeter
    label: list[str]  # (n,) the published class: most probable above the confidence
    benign: NDArray[np.bool_]  # (n,) a bird, clutter or aircraft: rated by the perimeter alone
    drone_p: Array  # (n,) the probability that it is a drone, on what its emitter did not say

    @property
    def names(self) -> list[str]:
        return [wire.THREATS[k] for k in self.level.tolist()]


def own_benign(class_bare: Array, confidence: float) -> NDArray[np.bool_]:
    """Whether each track's own looks call it a bird, clutter or an aircraft at `confidence`
    where bearings naming an emitter said otherwise (`TrackRows.class_bare`: its class without
    those bearings' labels, NaN where none updated it). Such a track is rated by the
    perimeter, as a benign track is: the emitter is somewhere on the finders' lines, and one
    finder, or two standing in line with the track, cannot say where. A flock's radar track
    that the hidden drone's or a swarm member's bearings crossed took the link and "drone"
    from it, and was warned of though its own looks called it a bird at 0.79-0.97 (random
    camps 773, 1097, 1228, 1279 and 1313: the commonest alert on no hostile drone with a
    radar). The numpy evaluator and the compiled first pass (threat_pass.py) both apply
    it."""
    out = np.zeros(class_bare.shape[0], dtype=bool)
    lent = ~np.isnan(class_bare).any(axis=1)
    if lent.any():
        out[lent] = class_probabilities(class_bare[lent])[:, _BENIGN].max(axis=1) >= confidence
    return out


def unvouched_at_most_high(level: NDArray[np.int64], t_vouched: Array) -> NDArray[np.int64]:
    """`level` capped at `high` where nothing vouched for the track's place (`t_vouched`
    NaN: two lines of sight cross on it, no more). Lines of two objects cross too: such a
    track is never surely inside the perimeter (its alert gives the line it is on, not its
    place: alerts.py). The numpy evaluator and the compiled first pass (threat_pass.py) both
    apply it."""
    return np.where(np.isnan(t_vouched), np.minimum(level, HIGH), level)


class ThreatEvaluator:
    """Rates every track of a snapshot against the camp's zones (see the module docstring)."""

    def __init__(self, cfg: ThreatConfig, zones: ZoneSet) -> None:
        self.cfg = cfg
        self.zones = zones
        p = zones.perimeter
        self.perimeter_ceiling = np.inf if p is None else float(zones.ceiling[p])

    def _surely_inside(self, pos: Array, sigma_h: Array, k: float) -> NDArray[np.bool_]:
        """(n, zones): whether each track is surely inside each zone: more than k sigmas
        inside its edge, those sigmas taken in inverse distance from the camp (always true
        for a track placed within `CERTAIN_POSITION_M`).

        A vague track is one that lines of sight place, and lines of sight place a target in
        inverse range, not in range: their errors are near Gaussian in 1/r (modified polar
        coordinates, Aidala and Hammel 1983) and skewed outwards in r. k sigmas of 1/r reach
        out to r / (1 - k sigma / r), further than r + k sigma (where that is under twice as far):
        a hidden drone's bearings-only track 1.35 km out claiming 244 m was 490 m inside the
        approach zone's edge, and the drone itself 2.04 km out, 140 m outside it (random
        camp 26, 90 s)."""
        out = np.ones((pos.shape[0], len(self.zones)), dtype=bool)
        vague = sigma_h > CERTAIN_POSITION_M
        if vague.any():
            r = np.hypot(pos[vague, 0], pos[vague, 1])
            reach = k * sigma_h[vague]
            # Only where the k sigmas reach less than half way to the camp's centre (twice
            # them at most): nearer, the sensors on the perimeter see it from all round.
            far = r > 2.0 * reach
            margin = reach.copy()
            margin[far] *= r[far] / (r[far] - reach[far])
            for i, polygon in enumerate(self.zones.polygons):
                out[vague, i] = distance_to_polygon(pos[vague, :2], polygon) >= margin
        return out

    def evaluate(
        self, snap: TrackSnapshot, geo: TrackGeometry, classes: PublishedClasses
    ) -> ThreatPicture:
        live, cfg = snap.live, self.cfg
        pos, vel = live.x[:, :3], live.x[:, 3:]
        probs, label = classes.probs, classes.names

        k = cfg.certainty_sigmas
        P = live.P
        sigma_h = np.sqrt(np.maximum(P[:, 0, 0] + P[:, 1, 1], 0.0))
        inside = geo.inside & self._surely_inside(pos, sigma_h, k)
        ranked = np.where(inside, self.zones.rank[None, :], 0)
        top = ranked.max(axis=1, initial=0)
        zone = np.where(top > 0, ranked.argmax(axis=1) if ranked.shape[1] else 0, -1)
        zone_threat = np.where(top == 2, CRITICAL, np.where(top == 1, MEDIUM, NONE))

        r = np.maximum(np.hypot(pos[:, 0], pos[:, 1]), 1.0)
        radial = -pos[:, :2] / r[:, None]  # horizontal unit vectors towards the camp centre
        closing = (radial * vel[:, :2]).sum(axis=1)
        sigma_c = np.sqrt(np.maximum(np.einsum("ni,nij,nj->n", radial, P[:, 3:5, 3:5], radial), 0))
        sure_closing = closing - k * sigma_c
        eta = geo.eta_s
        with np.errstate(invalid="ignore"):
            approaching = (
                (sure_closing >= cfg.min_closing_mps)
                & np.isfinite(eta)
                & (eta > 0.0)
                & (pos[:, 2] <= self.perimeter_ceiling)
            )
            # Nested np.where rather than np.select: the same choice at a tenth of the cost
            # (this runs after every scan).
            eta_threat = np.where(
                approaching & (eta <= cfg.eta_high_s),
                HIGH,
                np.where(
                    approaching & (eta <= cfg.eta_medium_s),
                    MEDIUM,
                    np.where(approaching, LOW, NONE),
                ),
            )
        benign = probs[:, _BENIGN].max(axis=1, initial=0.0) >= cfg.benign_confidence
        benign |= own_benign(live.class_bare, cfg.benign_confidence)
        underground = pos[:, 2] < cfg.min_height_m  # not a plausible flying object
        ignored = (live.status == TENTATIVE) | live.friendly | underground
        level = np.maximum(zone_threat, eta_threat)
        level = unvouched_at_most_high(level, live.t_vouched)
        # A bird (clutter, aircraft) is still rated by the perimeter: on a course that crosses
        # it within `eta_medium_s`, or inside it. Radar cross-section and speed overlap where
        # small drones and large birds do (-20 dBsm, 15-20 m/s), and a drone taken for a bird
        # would cross the perimeter unalerted (random camps: 14 of 519 hostile drones).
        at_perimeter = (eta_threat >= MEDIUM) | (zone_threat == CRITICAL)
        harmless = ignored | (benign & ~at_perimeter)
        level = np.where(harmless, NONE, level).astype(np.int64)
        return ThreatPicture(
            level=level,
            zone=zone.astype(np.int64),
            closing_mps=closing,
            harmless=harmless,
            label=label,
            benign=benign,
            drone_p=_own_drone_p(probs, live),
        )


def _own_drone_p(probs: Array, live: TrackRows) -> Array:
    """Each track's drone probability (`probs`: its published class probabilities) without
    what bearings naming an emitter said, where any did (`TrackRows.class_bare`): the
    emitter may yet prove to be elsewhere on their line (random camps 188 and 628: a flock's
    radar track, given the hidden drone's id by two finders nearly in line with both, was
    called a drone at 0.97 within 4 s and warned of; it lost the id 1-2.5 s later)."""
    drone = wire.CLASSES.index("drone")
    p = probs[:, drone].copy()
    bare = live.class_bare[:, drone]
    lent = ~np.isnan(bare)
    p[lent] = np.minimum(p[lent], np.exp(bare[lent]))
    return p
