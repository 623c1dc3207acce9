"""Track lifecycle (confirmation and deletion): M-of-N confirmation, coasting, deletion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import kernels
from cuas.tracking.classification import called
from cuas.tracking.tracks import COASTING, CONFIRMED, TENTATIVE, TrackTable

Mask = NDArray[np.bool_]


@dataclass(frozen=True)
class LifecycleRules:
    """When tracks are confirmed, coast, and die.

    - Tentative -> confirmed once M of its last N update opportunities were hits (an
      opportunity is a scan of a sensor whose field of regard holds the track, and every
      scan of the radar that placed a tentative track: it cannot confirm the track where it
      cannot see, inside its minimum range or beyond its reach; `Tracker._opportunities`).
    - Tentative tracks die as soon as M of N can no longer be reached.
    - Confirmed tracks coast after `coast_after_s` without an update and die after
      `delete_after_s`, or when the horizontal position uncertainty exceeds
      `max_pos_sigma_m`.
    - A firm track the picture calls a bird (`classification.called` at `bird_confidence`,
      the camp's `class_confidence`) dies sooner, after
      `bird_delete_after_s` without an update. A bird turns erratically at 5-15 m/s, so
      its predicted position a few seconds on is no better than none; in a flock, the plot
      it missed started a track beside it, and while it coasted it stood where no bird was
      (a duplicate or a false track) or took a neighbour's plot. Random camps 0-89, where
      flocks' tracks cost more than the hidden drone's: at 4.5 s mean GOSPA fell 320.06 ->
      304.03 (73 camps better, 9 worse); at 2.5 s (no coasting at all) to 300.34, but the
      flock's tracks died and were born again so often that one, newborn and not yet called
      a bird, raised a warning (random camp 20).
    - A passive track (never updated by a sensor that localises a target alone: radar,
      Remote ID) is where lines of sight cross, and lines of sight of different objects cross
      too. It is confirmed only when two or more sites have kept crossing on it for
      `passive_confirm_s` without a break (`t_crossed`), two of them have updated it again
      since the crossing began, and its speed is plausible (`passive_max_speed_mps`). Its
      age alone does not count, nor one line that crossed it once: a camera's line that made
      a tentative track 40 s before a finder's first bearing crossed it was confirmed by that
      one bearing, 530 m from any hostile drone, and alerted on (random camp 9, no radar).
      A finder's bearings that name no emitter (`TrackTable.last_named`) are no site, nor
      (`identified`) on a track that holds no emitter id: spurious ones crossing a camera's
      line to a drone that flies no link made tracks 670-1,020 m from it, confirmed and
      alerted on (random camps 105, 108, 110, no radar).
    - Any track that lines of sight keep alive dies, whatever its status, once a radar
      covering it has looked `radar_veto_scans` times in a row without seeing anything there
      (a ghost of crossing lines, or a track dragged off its object), unless two direction
      finders hear one emitter id on it (or one does, a camera sees it and the other finder
      heard it within `heard_s`, or one does and two cameras see it): a transmitter is
      there, a small drone the radar cannot see. On a firm track that no radar ever placed
      and that is no radar track's echo (`shadowed`), a finder's bearing or a camera's
      sighting counts within `heard_s`: a finder misses a drone for seconds at a time, and
      a firm track within 120 m of the hidden drone died of one finder's 5 s silence, its
      successor starting 600 m off (random camp 282); two cameras held it to 10-20 m with
      one finder, last heard 5.1 s before (random camps 8 and 288), or to 37 m with the
      second camera's last sighting 5.0 s old (camp 8 again).
    """

    confirm_m: int
    confirm_n: int
    coast_after_s: float
    delete_after_s: float
    max_pos_sigma_m: float
    orphan_max_pos_sigma_m: float = np.inf
    # A far track may be as vague as this fraction of its distance from the camp and still be
    # worth showing (an RF contact 4 km out, known well in bearing and poorly in range).
    max_pos_sigma_fraction: float = 0.0
    memory_s: float = 5.0  # how recent a sensor's update must be to count towards observability
    passive_confirm_s: float = 3.0
    passive_max_speed_mps: float = 70.0
    radar_veto_scans: int = 3
    # A transmitter the radar does not see is confirmed by what hears it only this long after
    # its birth: bearings from afar place it in range slowly, and a fresh one can be a
    # kilometre short of the drone while its covariance claims a hundred metres.
    transmitter_confirm_s: float = 10.0
    # Where a camera sees it too, the second finder may have heard the emitter this long ago:
    # a finder misses a drone for seconds at a time (its Pd, bearings too ambiguous to use)
    # while the other finder and a camera keep placing it.
    heard_s: float = 15.0
    bird_delete_after_s: float = np.inf
    bird_confidence: float = 0.6  # "calls a bird": the published class (class_confidence)

    @property
    def window(self) -> np.uint32:
        return np.uint32((1 << self.confirm_n) - 1)

    def record(self, table: TrackTable, covered: Mask, hit: Mask) -> None:
        """Shift one opportunity into the history of every covered track (1 = hit)."""
        n = table.n
        h = table.history[:n]
        h[covered] = ((h[covered] << np.uint32(1)) | hit[covered].astype(np.uint32)) & np.uint32(
            0xFFFF
        )

    def apply(
        self,
        table: TrackTable,
        t: float,
        silent: NDArray[np.bool_] | None = None,
        localising: NDArray[np.bool_] | None = None,
        hearing: NDArray[np.bool_] | None = None,
        observable: NDArray[np.bool_] | None = None,
        identified: bool = False,
    ) -> tuple[Mask, Mask]:
        """Update statuses at time `t`; returns (rows just confirmed, rows to delete).

        `silent` flags sensors that have stopped reporting (fault): a track last updated only
        by silent sensors is not deleted for its age, because nobody is looking; it coasts
        until its position is too uncertain to be useful (`orphan_max_pos_sigma_m`).

        `hearing` flags RF direction finders (see the class docstring on transmitters).
        `observable` flags tracks whose recent lines of sight cross at a real angle at the
        track (see `Tracker`): bearings along a baseline cross anywhere, so nowhere; and that
        no working radar covers without having looked `radar_veto_scans` times (its verdict
        comes first).

        `localising` flags sensors that place a target alone (radar, Remote ID). A track never
        updated by one is confirmed only while two or more sensors have updated it recently:
        bearings from one site leave the range unobservable, so one direction finder (or a
        ghost on its line of sight) cannot alone make a confirmed track.

        `identified`: tracks hold the emitter ids their bearings name (`IdentityKeeper`); a
        finder is then a site only on a track that holds one.
        """
        if kernels.ENABLED:  # the same rules track by track; `_apply` is the reference
            confirm, doomed = self._apply_compiled(
                table, t, silent, localising, hearing, observable, identified
            )
        else:
            confirm, doomed = self._apply(
                table, t, silent, localising, hearing, observable, identified
            )
        if np.isfinite(self.bird_delete_after_s):
            # Only tracks unseen that long are asked their class (few, once a scan).
            n = table.n
            lost = (t - table.t_update[:n] > self.bird_delete_after_s) & (
                table.status[:n] != TENTATIVE
            )
            if lost.any():
                doomed[lost] |= called(table.class_logp[:n][lost], "bird", self.bird_confidence)
        return confirm, doomed

    def _apply(
        self,
        table: TrackTable,
        t: float,
        silent: NDArray[np.bool_] | None,
        localising: NDArray[np.bool_] | None,
        hearing: NDArray[np.bool_] | None,
        observable: NDArray[np.bool_] | None,
        identified: bool = False,
    ) -> tuple[Mask, Mask]:
        """`apply` without the birds' rule, in numpy."""
        n = table.n
        status = table.status[:n]
        history = table.history[:n]
        hits = np.bitwise_count(history & self.window)
        # The birth bit is the leading 1, so the bit length counts the opportunities so far.
        opportunities = np.minimum(np.frexp(history.astype(np.float64))[1], self.confirm_n)
        tentative = status == TENTATIVE
        misses = opportunities - hits
        confirm = tentative & (hits >= self.confirm_m)
        ghost = np.zeros(n, dtype=bool)
        if localising is not None:
            last_hit = table.last_hit[:n]
            located = (last_hit[:, localising] > -np.inf).any(axis=1)
            # A finder's bearing that names no emitter (a spurious one, of no known protocol)
            # is no transmitter's: it is no site (`TrackTable.last_named`); nor, where tracks
            # hold the emitter ids their bearings name, on a track that holds none (the
            # emitter is another track's, whose line only crossed this one).
            sighting = last_hit
            if hearing is not None and hearing.any():
                heard = table.last_named[:n]
                if identified:
                    holds = (table.emitter_id[:n] != None)[:, None]  # noqa: E711
                    heard = np.where(holds, heard, -np.inf)
                sighting = np.where(hearing[None, :], heard, last_hit)
            crossed = (sighting >= t - self.memory_s).sum(axis=1) >= 2
            t_crossed = table.t_crossed[:n]
            t_crossed[~crossed] = np.nan
            t_crossed[crossed & np.isnan(t_crossed)] = t
            transmitter = transmitting(
                table,
                t,
                hearing,
                localising,
                self.memory_s,
                self.heard_s,
                ~tentative & ~located & ~table.shadowed[:n],
            )
            # Kept alive by lines of sight alone where a radar keeps looking and seeing nothing:
            # a crossing of two objects' lines of sight, or a track dragged off its object.
            angle_fed = (last_hit[:, ~localising] >= t - self.memory_s).any(axis=1)
            ghost = angle_fed & ~transmitter & (table.unseen[:n] >= self.radar_veto_scans)
            speed = np.hypot(table.x[:n, 3], table.x[:n, 4])
            # ... and every line is seen again since: one bearing that crossed a camera's line
            # counts as recent for the whole sensor memory, longer than `passive_confirm_s`.
            again = (sighting > t_crossed[:, None]).sum(axis=1) >= 2
            settled = (
                again
                & (t - t_crossed >= self.passive_confirm_s)
                & (speed <= self.passive_max_speed_mps)
            )
            if observable is not None:
                settled &= observable
            confirm &= located | (crossed & settled & ~ghost)
        hopeless = tentative & ~confirm & (misses > self.confirm_n - self.confirm_m)
        status[confirm] = CONFIRMED

        age = t - table.t_update[:n]
        firm = status != TENTATIVE
        status[firm & (age > self.coast_after_s)] = COASTING
        status[firm & (age <= self.coast_after_s)] = CONFIRMED
        P = table.P[:n]
        # Horizontal only: RF bearings say nothing of height, and a track that is well placed
        # on the map must not die because its altitude is (honestly) uncertain.
        horizontal_sigma = np.sqrt(P[:, 0, 0] + P[:, 1, 1])
        too_old = age > self.delete_after_s
        distance = np.hypot(table.x[:n, 0], table.x[:n, 1])
        too_vague = horizontal_sigma > np.maximum(
            self.max_pos_sigma_m, self.max_pos_sigma_fraction * distance
        )
        if silent is not None and silent.any():
            orphan = orphaned(table.last_hit[:n], table.t_update[:n], silent, self.memory_s)
            too_old &= ~orphan
            too_vague[orphan] = horizontal_sigma[orphan] > self.orphan_max_pos_sigma_m
        stale = firm & (too_old | too_vague)
        return confirm, hopeless | stale | ghost | (tentative & (age > self.delete_after_s))

    def _apply_compiled(
        self,
        table: TrackTable,
        t: float,
        silent: NDArray[np.bool_] | None,
        localising: NDArray[np.bool_] | None,
        hearing: NDArray[np.bool_] | None,
        observable: NDArray[np.bool_] | None,
        identified: bool = False,
    ) -> tuple[Mask, Mask]:
        """`apply` by `kernels.lifecycle`."""
        n = table.n
        sensors = table.last_hit.shape[1]
        none = np.zeros(max(n, sensors), dtype=bool)
        orphan = none[:n]
        if silent is not None and silent.any():
            orphan = orphaned(table.last_hit[:n], table.t_update[:n], silent, self.memory_s)
        return kernels.lifecycle(
            table.status[:n],
            table.history[:n],
            table.last_hit[:n],
            table.last_named[:n],
            table.t_crossed[:n],
            table.t_update[:n],
            table.x[:n],
            table.P[:n],
            table.unseen[:n],
            table.emitter_id[:n] != None,  # noqa: E711 (elementwise on objects)
            table.shadowed[:n],
            none[:sensors] if localising is None else localising,
            none[:sensors] if hearing is None else hearing,
            none[:n] if observable is None else observable,
            orphan,
            np.array(
                [localising is not None, hearing is not None, observable is not None, identified]
            ),
            np.array(
                [
                    self.confirm_m,
                    self.confirm_n,
                    int(self.window),
                    self.radar_veto_scans,
                    TENTATIVE,
                    CONFIRMED,
                    COASTING,
                ],
                dtype=np.int64,
            ),
            np.array(
                [
                    t,
                    self.memory_s,
                    self.passive_confirm_s,
                    self.passive_max_speed_mps,
                    self.coast_after_s,
                    self.delete_after_s,
                    self.max_pos_sigma_m,
                    self.max_pos_sigma_fraction,
                    self.orphan_max_pos_sigma_m,
                    self.heard_s,
                ],
                dtype=np.float64,
            ),
        )


def transmitting(
    table: TrackTable,
    t: float,
    hearing: NDArray[np.bool_] | None,
    localising: NDArray[np.bool_],
    memory_s: float,
    heard_s: float,
    firm_passive: Mask | None = None,
    rows: NDArray[np.intp] | None = None,
) -> Mask:
    """Tracks on which two direction finders (`hearing`) recently (`memory_s`) heard one
    emitter id, or one finder did while a camera (neither `hearing` nor `localising`) saw it
    and the other finder heard it within `heard_s`, or while two cameras saw it: a
    transmitter is there, even where no radar sees anything (a drone too small for it).
    Of the table's `rows` if given (`firm_passive` is then theirs), else of every track.
    On a `firm_passive` track (firm, never placed by a radar, and no radar track's echo), a
    finder's bearing or a camera's sighting counts as recent within `heard_s`.
    Without `hearing`, every track that holds an emitter id.

    Two cameras and a finder are three sites whose lines meet on the track, in height too
    (random camp 8, one finder: two cameras placed the hidden drone to 5-60 m, over and
    over, and the radar's silence deleted each track)."""
    which = slice(0, table.n) if rows is None else rows
    transmitter = table.emitter_id[which] != None  # noqa: E711 (elementwise on objects)
    if hearing is not None:
        last_hit = table.last_hit[which]
        recent = last_hit >= t - memory_s
        cameras = ~(hearing | localising)
        heard = recent[:, hearing].sum(axis=1)
        seen = recent[:, cameras].sum(axis=1)
        heard_long = (last_hit[:, hearing] >= t - heard_s).sum(axis=1)
        if firm_passive is not None:
            heard = np.where(firm_passive, heard_long, heard)
            seen_long = (last_hit[:, cameras] >= t - heard_s).sum(axis=1)
            seen = np.where(firm_passive, seen_long, seen)
        transmitter &= (heard >= 2) | (
            (heard >= 1) & ((seen >= 2) | ((seen >= 1) & (heard_long >= 2)))
        )
    return transmitter


def vouch(
    table: TrackTable,
    t: float,
    hearing: NDArray[np.bool_],
    localising: NDArray[np.bool_],
    memory_s: float,
    heard_s: float,
    finders_cross: Mask,
) -> None:
    """Mark the tracks whose place is vouched for at `t` (`TrackTable.t_vouched`, once).

    A place is vouched for by a sensor that places a target alone (radar, Remote ID), ever;
    or by more lines of sight than it takes to place it, within `memory_s`: two cameras (four
    angles for three coordinates, the elevations agreeing), or a finder with a camera and a
    second finder that heard the track's emitter within `heard_s`; or by two finders that
    hear the one emitter id the track holds. Two lines alone, a finder's bearing and a
    camera's sight, cross somewhere whether or not they are of one object: of the 15 alerts
    raised on no drone in random camps 0-119 without their radar, 11 were on tracks nothing
    vouched for (mostly a finder's bearing of the hidden drone or the swarm across a
    camera's line to the loiterer, another drone or a bird).

    Finders vouch only where two that heard it within `heard_s` cross at the track
    (`finders_cross`, (n,), `tracker.crossing_at_track`): two finders nearly in line with it
    draw one line twice. Random camp 125 without its radar: two finders 180 m apart, their
    bearings of the hidden drone 0.4 degrees apart, crossed a camera's line to an inbound
    drone 1.2 km short of both, and the track there was alerted on, 700 m from any drone.
    """
    n = table.n
    t_vouched = table.t_vouched[:n]
    rows = np.isnan(t_vouched).nonzero()[0]
    if not rows.size:
        return
    last_hit = table.last_hit[rows]
    located = (last_hit[:, localising] > -np.inf).any(axis=1)
    seen = (last_hit[:, ~(hearing | localising)] >= t - memory_s).sum(axis=1)  # by cameras
    # Finders that name its emitter, with a camera or not: the lifecycle's transmitter rule.
    named = transmitting(table, t, hearing, localising, memory_s, heard_s, rows=rows)
    named &= finders_cross[rows]
    t_vouched[rows[located | (seen >= 2) | named]] = t


def orphaned(
    last_hit: NDArray[np.float64],
    t_update: NDArray[np.float64],
    silent: NDArray[np.bool_],
    memory_s: float = 5.0,
) -> Mask:
    """Tracks whose recent updates all came from sensors that are now silent.

    `last_hit` (n, sensors) and `t_update` (n,) are the track table's columns. "Recent" is
    within `memory_s` of the track's own last update; a track that no sensor ever updated
    (cannot happen after initiation) is not orphaned.
    """
    recent = last_hit >= (t_update - memory_s)[:, None]
    return recent.any(axis=1) & ~(recent & ~silent[None, :]).any(axis=1)
