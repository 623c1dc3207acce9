"""Which track holds which emitter id, from the bearings that name it.

A direction finder's bearing may name the emitter it heard. Identity rules 1 and 3
(identity.py) give a track an emitter id from the bearings it takes; this stage keeps those ids
honest, per finder scan, in the tracker's table:
- `check`: a track whose emitter's bearings keep missing it, or pass it on one side, loses the
  id and is barred from it (the loiterer a kilometre short of a hidden drone), unless its
  drone's Remote ID places it;
- `check_radar`: so does a radar track that the radar keeps seeing to one side of it, in
  azimuth, while it holds an emitter id: the emitter's bearings drag it off its own target
  (a swarm member holding its neighbour's id);
- `bind`: in a swarm, where bearings are ambiguous, the track their evidence singles out takes
  the id (emitter_binding.py);
- `vouched`: a bearing that another radar track's gate holds too updates the holder only once
  the holder's record of such bearings says the emitter is its own;
- `screen_claims` and `claim_fits`: a track holding no id takes one only where that emitter's
  recent bearings fit it (emitter_claims.py); refused, it is barred from it until they fit it
  from two finders while no track holds it (`check` reconsiders such bars).
The tracker tells its annotators of the rows whose ids changed (`check` and `bind` return them).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import kernels, pair_kernels, running_lean
from cuas.tracking.angle_screening import ambiguous_angles
from cuas.tracking.emitter_binding import EmitterEvidence, log_det
from cuas.tracking.emitter_claims import EmitterClaims
from cuas.tracking.emitter_codes import EmitterCodes
from cuas.tracking.gating import Hypotheses
from cuas.tracking.scan import Scan
from cuas.tracking.tracks import TrackTable

Array = NDArray[np.float64]
Index = NDArray[np.intp]

RADAR_MEMORY = 0.9  # the memory of `TrackTable.radar_lean` per radar plot
RADAR_LEAN_SIGMAS = 5.0  # ... and how far from zero, in its own sigmas, releases the id
ODDS_MARGIN = 4.0  # log odds at which `vouched` trusts a holder (the margin binding asks)
ODDS_HALF_LIFE_S = 20.0  # ... their half-life (binding's)
ODDS_STEP = 4.0  # ... and the most one bearing moves them, either way


class EmitterIds:
    """The tracker's emitter-id stage; see the module docstring.

    `misfit_share` and `memory` are `TrackerStages.emitter_misfit_share` and
    `emitter_memory`; `evidence` binds swarm members' ids (None: off); `claims` checks
    claims (None: every claim is granted). `refused` counts claims refused (the tracker's
    only count of them).
    """

    def __init__(
        self,
        misfit_share: float,
        memory: float,
        evidence: EmitterEvidence | None,
        claims: EmitterClaims | None,
    ) -> None:
        self.misfit_share = misfit_share
        self.memory = memory
        self.evidence = evidence
        self.claims = claims
        self.refused = 0

    def record(self, scan: Scan, emitters: EmitterCodes) -> None:
        """Keep a finder's scan for later claims on the emitters it names."""
        if self.claims is not None:
            self.claims.record(scan, emitters.lookup, emitters.codes)

    def prune(self, live_track_ids: NDArray[np.int64]) -> None:
        """Forget the evidence of tracks no longer alive."""
        if self.evidence is not None and len(self.evidence):
            self.evidence.prune(live_track_ids)

    def check(
        self,
        table: TrackTable,
        scan: Scan,
        hyps: Hypotheses,
        threshold: float,
        emitters: EmitterCodes,
    ) -> tuple[Hypotheses, list[int]]:
        """Direction-finder bearings against the tracks that hold the emitter ids they name.

        A bearing names its emitter, and any track along that line may have been given it:
        the loiterer a kilometre short of a hidden drone, a flock of birds. From a finder
        that covers the holder, a bearing of its emitter outside its gate says the emitter is
        elsewhere, and one at the edge of the gate nearly so: a bearing counts as a misfit
        graded by its squared distance d2 from the holder, 0 at the expected 1 rising to 1
        at the gate (bearings of an emitter a few sigmas to one side of the track, always,
        stay inside the gate but are another target's). Once the misfits make up
        `misfit_share` of the recent bearings (a running share), the track loses the
        emitter id and may take no more of its bearings (the hidden drone's own track takes
        them). A track that holds a Remote ID serial keeps its emitter id, as in
        `check_radar`: the drone's own reports place it to metres, and bearings outside its
        gate there are the finder's noise (random camps 0-89: 7 of the 9 ids released by a
        track on its emitter's drone were the friendly patrol's link, two bearings outside the
        gate of its Remote ID track from finders up to 1.5 times noisier than configured, in
        the first minute, before the noise calibration had learnt them). Returns `hyps`
        without barred pairs, and the rows that lost their ids.
        """
        assert scan.labels is not None
        names = scan.labels.emitter_id
        if not emitters.any:
            return hyps, []
        n = table.n
        held = table.emitter_id[:n]
        rows = emitters.holders(emitters.held(held))[emitters.codes]
        dets = (rows >= 0).nonzero()[0]
        # One bearing per holder (the first): two naming one emitter in a scan is a rare echo.
        _, first = np.unique(rows[dets], return_index=True)
        dets = dets[first]
        dets = dets[scan.model.geometry.covers(table.x[rows[dets], :3])]
        released: list[int] = []
        if dets.size:
            held_rows = rows[dets]
            d2 = np.full(len(names), np.inf)  # each bearing's distance from its holder
            if kernels.ENABLED:  # one compiled pass over the pairs; the numpy is the reference
                with_holder = pair_kernels.with_holder(hyps.track, hyps.det, rows)
            else:
                with_holder = (rows[hyps.det] == hyps.track).nonzero()[0]
            d2[hyps.det[with_holder]] = hyps.d2[with_holder]
            misfit = np.clip((d2[dets] - 1.0) / (threshold - 1.0), 0.0, 1.0)
            keep = self.memory
            misfit = np.maximum(misfit, self._lean(table, scan, hyps, with_holder, dets, held_rows))
            share = keep * table.emitter_misfit[held_rows] + (1.0 - keep) * misfit
            table.emitter_misfit[held_rows] = share
            placed = table.uas_id[held_rows] != None  # noqa: E711 (elementwise)
            released = held_rows[(share >= self.misfit_share) & ~placed].tolist()
            for row in released:
                _release(table, row)
        barred = table.barred_emitter[:n]
        if not len(hyps) or not (barred != None).any():  # noqa: E711 (elementwise)
            return hyps, released
        if table.bar_refused[:n].any():
            self._reconsider(table, scan.t, emitters)
        # (n, slots): 0 an empty slot, -1 an emitter this scan never names
        bar = emitters.held(barred.ravel()).reshape(barred.shape)
        if kernels.ENABLED:
            keep = pair_kernels.unbarred(hyps.track, hyps.det, bar, emitters.codes)
            return (hyps if keep.size == len(hyps) else hyps.subset(keep)), released
        bar = bar[hyps.track]
        named = emitters.codes[hyps.det][:, None]
        return hyps.subset(~((bar > 0) & (bar == named)).any(axis=1)), released

    def check_radar(self, table: TrackTable, assigned: Hypotheses) -> list[int]:
        """A radar scan's plots `assigned` to tracks holding an emitter id, against those tracks.

        A radar plot's azimuth residual, normalised, has mean zero on a track that is where
        its target is. A track holding an emitter id also takes its bearings, several for
        each radar look; if they are another target's (a swarm member's neighbour, the
        hidden drone beyond a radar track), they drag it off its own target and the radar
        sees that target to one side of it, plot after plot (random camp 227: 40-50 m,
        halfway to the emitter's drone; camp 443: 100-220 m). The bearings of a track on its
        emitter's target agree with the radar, so the residuals then only lean during a
        manoeuvre or while neighbours' plots are taken, and not as far: over 135 rightful
        holdings on 31 random camps, the running mean stayed within four of its sigmas. Once
        it is `RADAR_LEAN_SIGMAS` off, the track loses the id and is barred from it, as
        `check` does. On the 29 of 480 random camps whose figures this changed, it released
        37 ids: 32 held by a track off its emitter's drone, 4 by a swarm member's own track,
        and the friendly's below. A track that holds a Remote ID serial is left alone: the
        drone's own reported positions place it, not bearings, and a lean is the radar's
        disagreement with them (random camp 264: the friendly patrol's track lost its link
        20 s in). Returns the rows released."""
        held = (table.emitter_id[assigned.track] != None) & (  # noqa: E711 (elementwise)
            table.uas_id[assigned.track] == None  # noqa: E711
        )
        if not held.any():
            return []
        rows = assigned.track[held]
        z = assigned.y[held, 1] / np.sqrt(assigned.S[held, 1, 1])
        lean = running_lean.step(table.radar_lean[rows], z, RADAR_MEMORY)
        table.radar_lean[rows] = lean
        s0 = running_lean.sigma(RADAR_MEMORY)
        released = rows[np.abs(lean) >= RADAR_LEAN_SIGMAS * s0].tolist()
        for row in released:
            _release(table, row)
        return released

    def vouched(
        self,
        table: TrackTable,
        scan: Scan,
        raw: Hypotheses,
        shared: Hypotheses,
        placed: NDArray[np.bool_],
    ) -> NDArray[np.bool_]:
        """Which of a finder's `shared` pairs (each a bearing routed to the track holding its
        emitter id, which another `placed` track's gate holds too: `angle_screening.
        cannot_tell_apart`) the holder's record vouches for, so that they update it after all.

        Held back, such bearings leave a swarm member's radar track with its own link vague
        where the bearings would have refined it; at 70-150 m from a neighbour, inside each
        other's gates, both tracks then gated the cameras' lines, which became ambiguous too
        (random camp 1063, 255 -> 289 GOSPA). A bearing is evidence of whose the emitter is:
        its log likelihood on the holder against the likeliest other placed track in its gate
        (`raw`: the scan's gated pairs), at most `ODDS_STEP` either way, summed per track
        with a half-life of `ODDS_HALF_LIFE_S` (`TrackTable.emitter_odds`). A pair updates
        its holder once the odds before this scan reach `ODDS_MARGIN`. A holder on its
        emitter's drone gains on a rival 100 m off at about one nat a bearing; one holding
        a neighbour's link, whose bearings fit that neighbour's track better, loses, and
        neither drags itself into favour since its bearings do not move it till then. The
        odds start over whenever the track's emitter id changes."""
        if not len(shared):
            return np.zeros(0, dtype=bool)
        k = len(scan)
        holder = np.full(k, -1, dtype=np.intp)
        holder[shared.det] = shared.track
        rivals = raw.subset(
            placed[raw.track] & (holder[raw.det] >= 0) & (raw.track != holder[raw.det])
        )
        rival = np.full(k, np.inf)  # the likeliest rival's cost per bearing
        np.minimum.at(rival, rivals.det, rivals.d2 + log_det(rivals.S))
        cost = shared.d2 + log_det(shared.S)
        step = np.clip(0.5 * (rival[shared.det] - cost), -ODDS_STEP, ODDS_STEP)
        rows = shared.track
        age = np.maximum(scan.t - table.emitter_odds_t[rows], 0.0)
        before = table.emitter_odds[rows] * 0.5 ** (age / ODDS_HALF_LIFE_S)
        table.emitter_odds[rows] = before
        table.emitter_odds_t[rows] = scan.t
        np.add.at(table.emitter_odds, rows, step)
        return before >= ODDS_MARGIN

    def _reconsider(self, table: TrackTable, t: float, emitters: EmitterCodes) -> None:
        """Lift the bars of refused claims on emitters this scan names, no track holds, and
        whose recent bearings now fit the track from two finders or more: a claim is tested
        once, on the bearings of its moment, and in a swarm's first seconds a track between
        two drones was refused its own drone's emitter, and barred from it for good (random
        camp 521, +10 GOSPA). One finder's bearings fit anything on its line; and lifted
        while another track held the emitter, an inbound drone's track took the hidden
        drone's id again (random camp 3: the hidden drone within 300 m 66 % of the time,
        against 80 %). A bar of an id the track lost stays: its bearings had missed it, or
        dragged it off its target, where they fit it best of all."""
        assert self.claims is not None
        n = table.n
        held = set(table.emitter_id[:n].tolist())
        for row, slot in zip(*table.bar_refused[:n].nonzero(), strict=True):
            name = table.barred_emitter[row, slot]
            if name not in emitters.lookup or name in held:
                continue
            if self.claims.fits(name, t, table.x[row], table.P[row], finders=2):
                _unbar(table, int(row), name)

    def _lean(
        self,
        table: TrackTable,
        scan: Scan,
        hyps: Hypotheses,
        with_holder: Index,
        dets: Index,
        rows: Index,
    ) -> Array:
        """The misfit of bearings `dets` of this finder's scan that lean to one side of their
        emitters' holders `rows`.

        A bearing a few sigmas off its holder, inside the gate, fits it about as well as any
        noisy bearing; one that passes the track on the same side scan after scan does not:
        the emitter is elsewhere (a hidden drone's bearings across a bird flock's radar track,
        2.8 sigmas east of it every time). Per track and finder, the running mean of the signed,
        normalised residuals (with the memory of the misfit share) would stay within about
        `s0` of zero if the emitter were on the track; it counts as a misfit from two `s0`,
        a whole one at four. Bearings outside the gate leave it: they misfit anyway."""
        keep = self.memory
        z = np.full(len(scan), np.nan)
        if scan.model.dim == 1 and with_holder.size:
            y, S = hyps.y[with_holder, 0], hyps.S[with_holder, 0, 0]
            z[hyps.det[with_holder]] = y / np.sqrt(S)
        fitted = ~np.isnan(z[dets])
        lean = table.emitter_lean[rows, scan.sensor].astype(np.float64)
        lean[fitted] = running_lean.step(lean[fitted], z[dets][fitted], keep)
        table.emitter_lean[rows, scan.sensor] = lean
        s0 = running_lean.sigma(keep)
        return np.where(fitted, np.clip((np.abs(lean) / s0 - 2.0) / 2.0, 0.0, 1.0), 0.0)

    def bind(
        self,
        table: TrackTable,
        scan: Scan,
        raw: Hypotheses,
        firm: NDArray[np.bool_],
        threshold: float,
        emitters: EmitterCodes,
    ) -> list[int]:
        """Bearings in several firm tracks' gates (a swarm) naming an emitter no track holds,
        as evidence of which of those tracks carries it (emitter_binding.py). A track the
        evidence singles out, holding no emitter id yet, takes it; the bearings naming it are
        then routed to it (`angle_screening.route_by_emitter`). `raw` is every gated pair, before
        exclusions: a bearing tells of every track it fits."""
        assert scan.labels is not None
        if self.evidence is None:
            return []
        names = scan.labels.emitter_id
        if not len(raw) or not emitters.any:
            return []
        crowded = ambiguous_angles(raw, firm, len(scan))  # bearings in several firm tracks' gates
        if not crowded.any():
            return []
        held = np.zeros(emitters.count + 1, dtype=bool)  # the last: ids this scan never names
        held[emitters.held(table.emitter_id[: table.n])] = True
        held[0] = True  # a bearing naming no emitter is no evidence either
        dets = (crowded & ~held[emitters.codes]).nonzero()[0]
        # One bearing per emitter and scan (the first): two are a rare echo.
        _, first = np.unique(emitters.codes[dets], return_index=True)
        dets = dets[np.sort(first)]
        if not dets.size:
            return []
        bearing_of = np.full(len(scan), -1, dtype=np.intp)
        bearing_of[dets] = np.arange(dets.size)
        # The firm tracks in those bearings' gates (a bearing of `dets` is crowded); the
        # innovation covariances of these pairs only, not of all of `raw`.
        if kernels.ENABLED:  # one compiled pass over the pairs; the numpy is the reference
            pairs = raw.subset(pair_kernels.firm_pairs(raw.track, raw.det, firm, bearing_of >= 0))
        else:
            pairs = raw.subset(firm[raw.track] & (bearing_of[raw.det] >= 0))
        winners = self.evidence.observe(
            scan.t,
            scan.sensor,
            [names[j] for j in dets.tolist()],
            bearing_of[pairs.det],
            table.track_id[pairs.track],
            pairs.d2,
            log_det(pairs.S),
            threshold,
        )
        bound: dict[str, int] = {}
        if winners:
            ids = table.track_id[: table.n]
            rows = np.isin(ids, list(winners.values())).nonzero()[0]
            row_of = dict(zip(ids[rows].tolist(), rows.tolist(), strict=True))
            for name, winner in winners.items():
                row = row_of.get(winner)
                if row is None or table.emitter_id[row] is not None:
                    continue
                if not self.claim_fits(table, name, scan.t, row):
                    continue  # barred from it now: the evidence may name another
                table.emitter_id[row] = name
                table.emitter_misfit[row] = 0.0
                table.emitter_lean[row] = 0.0
                table.radar_lean[row] = 0.0
                table.emitter_odds[row] = 0.0
                bound[name] = row
        self.evidence.forget(list(bound))
        return list(bound.values())

    def screen_claims(
        self, table: TrackTable, scan: Scan, assigned: Hypotheses, emitters: EmitterCodes
    ) -> Hypotheses:
        """The direction finder's pairs `assigned`, without those by which a track holding no
        emitter id would claim the one its bearing names although that emitter's recent
        bearings pass it to one side (emitter_claims.py)."""
        assert scan.labels is not None
        if self.claims is None:
            return assigned
        claim = (emitters.codes[assigned.det] != 0) & (
            table.emitter_id[assigned.track] == None  # noqa: E711 (elementwise on objects)
        )
        if not claim.any():
            return assigned
        keep = np.ones(len(assigned), dtype=bool)
        names = scan.labels.emitter_id
        for i in claim.nonzero()[0].tolist():
            name = names[int(assigned.det[i])]
            assert name is not None
            keep[i] = self.claim_fits(table, name, scan.t, int(assigned.track[i]))
        return assigned if keep.all() else assigned.subset(keep)

    def claim_fits(self, table: TrackTable, name: str, t: float, row: int) -> bool:
        """Whether track `row`, holding no emitter id, may claim emitter `name`: that
        emitter's recent bearings fit it (emitter_claims.py). If not, the track
        is barred from that emitter, as one that lost it is (`check`): it takes no
        more of its bearings, which are free to place the emitter's own track (random camp 3:
        an inbound drone's radar track, refused the hidden drone's id, went on gating one
        finder's bearings of it, which then started no track, and the hidden drone was
        within 300 m of a track 21 % of the time, against 61 %)."""
        if self.claims is None:
            return True
        if self.claims.fits(name, t, table.x[row], table.P[row]):
            return True
        if name not in self.claims.trusted:  # a friendly's own track may claim it later
            _bar(table, row, name, refused=True)
        self.refused += 1
        return False


def _release(table: TrackTable, row: int) -> None:
    """Row `row` loses its emitter id and is barred from it; the evidence against it starts
    over."""
    _bar(table, row, table.emitter_id[row])
    table.emitter_id[row] = None
    table.emitter_misfit[row] = 0.0
    table.emitter_lean[row] = 0.0
    table.radar_lean[row] = 0.0
    table.emitter_odds[row] = 0.0


def _bar(table: TrackTable, row: int, name: str, refused: bool = False) -> None:
    """Bar row `row` from emitter `name` too (`refused`: by a refused claim, which may be
    lifted): it goes first in the track's bars, the oldest bar dropping out when all
    `BARRED_SLOTS` are taken."""
    _set_bars(table, row, [(name, refused), *_bars_but(table, row, name)])


def _unbar(table: TrackTable, row: int, name: str) -> None:
    """Lift row `row`'s bar on emitter `name`, the later bars moving up."""
    _set_bars(table, row, _bars_but(table, row, name))


def _bars_but(table: TrackTable, row: int, name: str) -> list[tuple[str, bool]]:
    """Row `row`'s bars other than on `name`, newest first: (emitter id, set by a refused
    claim)."""
    bars = zip(table.barred_emitter[row].tolist(), table.bar_refused[row].tolist(), strict=True)
    return [(b, r) for b, r in bars if b is not None and b != name]


def _set_bars(table: TrackTable, row: int, bars: list[tuple[str, bool]]) -> None:
    """Row `row`'s bars: `bars` (newest first) as far as the slots go, the rest empty."""
    slots = table.barred_emitter.shape[1]
    padded: list[tuple[str | None, bool]] = [*bars, *[(None, False)] * slots][:slots]
    table.barred_emitter[row] = [b for b, _ in padded]
    table.bar_refused[row] = [r for _, r in padded]
