"""Which angle-only pairs (a camera's line of sight, a direction finder's bearing) may update a
track.

An angle fixes no range: in a swarm or a flock one falls in the gates of several tracks, and
whichever took it would be dragged onto a neighbour's line of sight. The tracker therefore
screens a camera's or a finder's gated pairs before association (`unambiguous`, and for a
finder first `route_by_emitter`: `screen_bearings` does both, then `cannot_tell_apart`) and
after it (`contested_pairs`). Each function but `cannot_tell_apart` (one count over the pairs)
has a compiled twin in pair_kernels.py for the camps of a thousand drones; the numpy here is
the reference that test_kernels.py holds it to.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import kernels, pair_kernels
from cuas.tracking.emitter_codes import EmitterCodes
from cuas.tracking.gating import Hypotheses


def contested_pairs(
    assigned: Hypotheses, gated: Hypotheses, firm: NDArray[np.bool_], margin: float, k: int
) -> NDArray[np.bool_]:
    """Assigned pairs with a rival within `margin` of their squared distance: another firm
    track for the same detection, or another detection for the same track (detections of a
    scan of `k`)."""
    if kernels.ENABLED:  # one compiled pass over the gated pairs; the numpy is the reference
        return pair_kernels.contested(
            assigned.track,
            assigned.det,
            assigned.d2,
            gated.track,
            gated.det,
            gated.d2,
            firm,
            margin,
            k,
        )
    n = firm.shape[0]
    track_of = np.full(k, -1, dtype=np.intp)
    track_of[assigned.det] = assigned.track
    det_of = np.full(n, -1, dtype=np.intp)
    det_of[assigned.track] = assigned.det
    rival_for_det = np.full(k, np.inf)
    other_track = (track_of[gated.det] >= 0) & (gated.track != track_of[gated.det])
    other_track &= firm[gated.track]
    np.minimum.at(rival_for_det, gated.det[other_track], gated.d2[other_track])
    rival_for_track = np.full(n, np.inf)
    other_det = (det_of[gated.track] >= 0) & (gated.det != det_of[gated.track])
    np.minimum.at(rival_for_track, gated.track[other_det], gated.d2[other_det])
    limit = assigned.d2 + margin
    return (rival_for_det[assigned.det] < limit) | (rival_for_track[assigned.track] < limit)


def route_by_emitter(
    emitters: EmitterCodes,
    holds: NDArray[np.int64],
    hyps: Hypotheses,
    firm: NDArray[np.bool_],
    k: int,
) -> Hypotheses:
    """Bearings that name an emitter, paired by it: one in the gate of the firm track that
    holds its emitter id (`holds`, per track, `EmitterCodes.held`) goes to that track alone;
    and where a bearing falls in several firm tracks' gates (a swarm), a track holding another
    emitter id does not take it. Nor does a track whose own emitter this scan's bearing in its
    gate names: the finder hears two transmitters there at once, and the other one is
    elsewhere on the line (random camp 115: the friendly patrol over the camp took a hidden
    drone's bearings from the finder that had them in line, and held them from starting the
    drone's track for 110 s). Otherwise a lone track's bearing naming another emitter stays
    paired, so identity.py's rule 3 can still rename it. `firm` leaves out shadowed tracks
    (`_plots_elsewhere`): a bearings-only track whose gate holds a radar track's plot is likely that
    track's echo, and its emitter's bearings are not reserved for it.

    Not a tentative holder where a radar is at work: routing to one too helped a hidden
    drone's new track on a few random camps, but in the 200-drone camp tentative
    bearings-only tracks in the swarm took their emitters' bearings from the drones' radar
    tracks (its GOSPA 5592 -> 5724). Without one, `firm` also holds the tentative tracks
    `unplaced_holders` names."""
    if not len(hyps) or not emitters.any:
        return hyps
    named = emitters.codes[hyps.det]
    holds = holds[hyps.track]  # -1: holds an emitter this scan does not name
    has_name = named != 0
    holding = holds != 0
    own = has_name & holding & (holds == named) & firm[hyps.track]
    if not (own.any() or (has_name & holding).any()):
        return hyps
    routed = np.zeros(k, dtype=bool)
    routed[hyps.det[own]] = True
    heard = np.zeros(firm.shape[0], dtype=bool)  # tracks whose own emitter's bearing gates
    heard[hyps.track[own]] = True
    other = has_name & holding & (holds != named)
    other &= ambiguous_angles(hyps, firm, k)[hyps.det] | heard[hyps.track]
    return hyps.subset((~routed[hyps.det] | own) & ~other)


def unplaced_holders(
    firm: NDArray[np.bool_],
    placed: NDArray[np.bool_],
    holds: NDArray[np.int64],
    emitters: EmitterCodes,
    raw: Hypotheses,
) -> NDArray[np.bool_]:
    """Tentative tracks that no radar or Remote ID placed, holding the emitter id of a bearing
    of this scan, where no firm track a radar or Remote ID placed has any bearing naming that
    emitter in its gate: their emitter's bearings are theirs (`route_by_emitter`). The
    tracker asks only while no radar is at work (none scanned within the sensor memory: a
    camp without one, or whose radar is down).

    A swarm's drones fly on links of their own, and without a radar only the finders place
    them: each member's bearings fall in every member's gate, and a young track that took
    none of them for being contested never grew firm. With the radar gone from the random
    camps (`benchmarks.robustness --no-radar`, seeds 0-29), 82 % of the swarm's drone-cycles
    near the camp had no track of their own, and 80 of 135 hostile drones entered the
    perimeter unalerted. Where a radar works, its tracks are the emitters' better holders,
    which the binding rules (`emitter_binding.py`) name: routed to a tentative holder there
    too, bearings-only tracks in a radar-tracked swarm took their emitters' bearings from the
    drones' radar tracks (random camp 13: one such track, 500-700 m vague, was confirmed 880 m
    from the swarm and alerted on); and kept from the bearings a placed track gates, but
    asked with a radar at work, it cost the 200-drone camp (`benchmarks.fusion --dense 200`)
    7 % of GOSPA (4606 -> 4944) and 40 % of its throughput (51k -> 31k det/s)."""
    tentative = ~firm & ~placed & (holds > 0)
    if not tentative.any():
        return tentative
    named = emitters.codes[raw.det[(firm & placed)[raw.track]]]
    return tentative & ~np.isin(holds, named[named != 0])


def screen_bearings(
    raw: Hypotheses,
    excluded: NDArray[np.bool_],
    firm: NDArray[np.bool_],
    routable: NDArray[np.bool_],
    emitters: EmitterCodes,
    holds: NDArray[np.int64],
    near: NDArray[np.bool_],
    limit: float,
    k: int,
) -> tuple[Hypotheses, Hypotheses, NDArray[np.bool_]]:
    """A direction finder's gated pairs `raw` (emitters checked and bound), screened as any
    scan's are: (the pairs its bearings may explain, those that may update a track, the
    ambiguous bearings (k,)).

    Without the tracks the scan may not update (`excluded`), routed by emitter id
    (`route_by_emitter`, `holds` per track), then the angles' ambiguity and tighter gate
    (`unambiguous`). At 1,000 drones `raw` holds some 70,000 pairs: with the kernels that
    is three compiled passes (pair_kernels.py); the numpy below is the reference."""
    if kernels.ENABLED and len(raw):
        gated, kept, ambiguous = pair_kernels.screen_bearings(
            raw.track,
            raw.det,
            raw.d2,
            excluded,
            routable,
            firm,
            emitters.codes,
            holds,
            near,
            limit,
            k,
        )
        return raw.subset(gated), raw.subset(kept), ambiguous
    gated = route_by_emitter(emitters, holds, raw.subset(~excluded[raw.track]), routable, k)
    if not len(gated):
        return gated, gated, np.zeros(k, dtype=bool)
    hyps, ambiguous = unambiguous(gated, firm, near, limit, k)
    return gated, hyps, ambiguous


def cannot_tell_apart(
    raw: Hypotheses, kept: Hypotheses, placed: NDArray[np.bool_], k: int
) -> NDArray[np.bool_]:
    """Which of a finder's `kept` pairs (one flag per pair) name their track's emitter but may
    not move it: the track is `placed` (firm, and a radar or Remote ID updated it within the
    sensor memory), and the bearing also falls in another placed track's gate (`raw`: the
    scan's gated pairs, `k` bearings).

    Routed by its emitter id (`route_by_emitter`), a bearing goes to the track holding that
    id alone, which the ambiguity of an unnamed bearing (`ambiguous_angles`) no longer sees.
    A 3-degree bearing spans 80-100 m at 1.5-2 km: where another radar track of a swarm lies
    in it too, it cannot tell which of the two carries the link, and where the id is held by
    the wrong one (bound while the radar still saw the pair as one plot, or across two drones
    in line with the finder), its bearings, several for each radar look, pull that track
    onto the other drone. Two tracks then stand on one drone and the other has none, where
    the radar alone held each (random camps 181, 194 and 1017: 18, 22 and 38 % of the
    swarm's drone-cycles near the camp without a track of their own, against 0-1 % with the
    radar alone). The other track's own emitter id does not settle it: that id may be as
    wrong (camp 616). Such a bearing still names the emitter (its checks and claims run on
    the gated pairs, and `Tracker._observe` takes its word on what the track is) and starts
    no track; a track no radar or Remote ID places (the hidden drone's) keeps its bearings,
    all it has. The tracker lets such a pair update its holder after all once the holder's
    record of them says the emitter is its own (`EmitterIds.vouched`)."""
    if not len(kept):
        return np.zeros(0, dtype=bool)
    gating = np.bincount(raw.det[placed[raw.track]], minlength=k)  # placed tracks per bearing
    return placed[kept.track] & (gating[kept.det] > 1)


def unambiguous(
    hyps: Hypotheses, firm: NDArray[np.bool_], near: NDArray[np.bool_], limit: float, k: int
) -> tuple[Hypotheses, NDArray[np.bool_]]:
    """The angle-only pairs that may update a track, and the detections (k,) in several firm
    tracks' gates (`ambiguous_angles`), which update none.

    A track a radar places is where the radar says: an angle at the edge of its gate is more
    likely another object's (a hidden drone's bearing across a flock), and taking it would
    drag the track off its object and give it that object's emitter id. Such angles update a
    track placed within the sensor memory (`near`) only inside the tighter gate (`limit`);
    they still count as explained (no second track starts on them) and still weigh in
    emitter checks."""
    ambiguous = ambiguous_angles(hyps, firm, k)
    hyps = hyps.subset(~ambiguous[hyps.det])
    return hyps.subset(~near[hyps.track] | (hyps.d2 <= limit)), ambiguous


def ambiguous_angles(hyps: Hypotheses, firm: NDArray[np.bool_], k: int) -> NDArray[np.bool_]:
    """Angle-only detections that fall in the gates of several firm tracks: used by none.

    A 3-degree RF bearing 2 km out spans 100 m: in a swarm it gates with several tracks, and
    whichever it is given is pulled towards another drone's line of sight, which swaps
    tracks. Such a bearing carries no usable position for any of them; a precise camera
    direction usually gates with one track only and is kept. Nor may such a bearing start a
    track: it belongs to one of the drones already tracked.
    """
    if kernels.ENABLED:  # one compiled pass over the pairs; the numpy is the reference
        return pair_kernels.ambiguous(hyps.track, hyps.det, firm, k)
    return np.bincount(hyps.det[firm[hyps.track]], minlength=k) > 1
