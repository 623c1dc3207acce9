"""Compiled passes over an angle-only scan's gated (track, detection) pairs.

At 1,000 drones an RF bearing gates about 70 tracks: some 70,000 pairs a direction-finder
scan. The tracker's numpy code filters them in a dozen passes (tracks lines of sight may not
update, routing by emitter id, ambiguous bearings, the tighter gate of placed tracks, the
contest between neighbours), each a gather, a mask and a subset of the whole set. Here each
of those stages is one or two loops over the pairs. The callers (`screen_bearings`,
`contested_pairs` and `ambiguous_angles` in angle_screening.py, `EmitterIds.check` and
`EmitterIds.bind` in emitter_ids.py, and `EmitterEvidence.observe`) keep their numpy code as
the reference, used when `kernels.ENABLED` is off; tests/test_kernels.py requires the same
results from both.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import kernels
from cuas.tracking.kernels import _jit

Array = NDArray[np.float64]
Index = NDArray[np.intp]


@_jit
def screen_bearings(
    track: Index,
    det: Index,
    d2: Array,
    excluded: NDArray[np.bool_],
    routable: NDArray[np.bool_],
    firm: NDArray[np.bool_],
    named: NDArray[np.int64],
    holds: NDArray[np.int64],
    near: NDArray[np.bool_],
    limit: float,
    k: int,
) -> tuple[Index, Index, NDArray[np.bool_]]:
    """The pairs a direction finder's scan keeps, as `angle_screening.screen_bearings`: (positions
    of the gated pairs, positions of those that may update, the ambiguous detections).

    A pair of an excluded track goes; one whose bearing names the emitter id a routable track
    holds goes unless it is that track's; one of a track holding another id goes when the
    bearing is in several routable tracks' gates, or when a bearing naming the track's own id
    is in its gate too (`route_by_emitter`). Of the rest (the
    gated pairs), a bearing in several firm tracks' gates is ambiguous and updates none
    (`ambiguous_angles`), and a track placed within the sensor memory (`near`) takes one only
    inside the tighter gate (`limit`)."""
    p = track.shape[0]
    crowd = np.zeros(k, dtype=np.intp)  # routable tracks gating each detection
    routed = np.zeros(k, dtype=np.bool_)  # detections whose emitter's holder gates them
    heard = np.zeros(excluded.shape[0], dtype=np.bool_)  # tracks whose own emitter gates
    for i in range(p):
        t = track[i]
        if excluded[t] or not routable[t]:
            continue
        d = det[i]
        crowd[d] += 1
        if named[d] != 0 and holds[t] == named[d]:
            routed[d] = True
            heard[t] = True
    gated = np.empty(p, dtype=np.intp)
    g = 0
    firm_in = np.zeros(k, dtype=np.intp)  # firm tracks gating each detection, once gated
    for i in range(p):
        t = track[i]
        if excluded[t]:
            continue
        d = det[i]
        code, held = named[d], holds[t]
        if routed[d] and not (held == code and routable[t]):
            continue
        if code != 0 and held != 0 and held != code and (crowd[d] > 1 or heard[t]):
            continue
        gated[g] = i
        g += 1
        if firm[t]:
            firm_in[d] += 1
    ambiguous = firm_in > 1
    kept = np.empty(g, dtype=np.intp)
    q = 0
    for j in range(g):
        i = gated[j]
        if ambiguous[det[i]] or (near[track[i]] and not d2[i] <= limit):
            continue
        kept[q] = i
        q += 1
    return gated[:g], kept[:q], ambiguous


@_jit
def contested(
    a_track: Index,
    a_det: Index,
    a_d2: Array,
    g_track: Index,
    g_det: Index,
    g_d2: Array,
    firm: NDArray[np.bool_],
    margin: float,
    k: int,
) -> NDArray[np.bool_]:
    """Assigned pairs with a rival within `margin` of their squared distance, as
    `angle_screening.contested_pairs`: another firm track gating the same detection, or
    another detection in the same track's gate. `k` bounds the detection indices."""
    n = firm.shape[0]
    track_of = np.full(k, -1, dtype=np.intp)
    det_of = np.full(n, -1, dtype=np.intp)
    for i in range(a_track.shape[0]):
        track_of[a_det[i]] = a_track[i]
        det_of[a_track[i]] = a_det[i]
    rival_for_det = np.full(k, np.inf)
    rival_for_track = np.full(n, np.inf)
    for j in range(g_track.shape[0]):
        t, d, v = g_track[j], g_det[j], g_d2[j]
        owner = track_of[d]
        if owner >= 0 and t != owner and firm[t] and v < rival_for_det[d]:
            rival_for_det[d] = v
        mine = det_of[t]
        if mine >= 0 and d != mine and v < rival_for_track[t]:
            rival_for_track[t] = v
    out = np.empty(a_track.shape[0], dtype=np.bool_)
    for i in range(a_track.shape[0]):
        limit = a_d2[i] + margin
        out[i] = rival_for_det[a_det[i]] < limit or rival_for_track[a_track[i]] < limit
    return out


@_jit
def with_holder(track: Index, det: Index, holder: Index) -> Index:
    """Positions of the pairs whose track is their detection's `holder` (a row, or -1), as
    `EmitterIds.check`'s `np.flatnonzero(holder[det] == track)`."""
    out = np.empty(track.shape[0], dtype=np.intp)
    q = 0
    for i in range(track.shape[0]):
        if holder[det[i]] == track[i]:
            out[q] = i
            q += 1
    return out[:q]


@_jit
def unbarred(track: Index, det: Index, bar: NDArray[np.int64], named: NDArray[np.int64]) -> Index:
    """Positions of the pairs whose track is not barred (`bar` > 0, per track and slot) from
    the emitter their detection names (`named`, per detection), as `EmitterIds.check`."""
    out = np.empty(track.shape[0], dtype=np.intp)
    q = 0
    for i in range(track.shape[0]):
        code = named[det[i]]
        free = True
        for b in bar[track[i]]:
            if b > 0 and b == code:
                free = False
                break
        if free:
            out[q] = i
            q += 1
    return out[:q]


@_jit
def ambiguous(track: Index, det: Index, firm: NDArray[np.bool_], k: int) -> NDArray[np.bool_]:
    """Detections (k,) in the gates of several firm tracks, as
    `angle_screening.ambiguous_angles`."""
    count = np.zeros(k, dtype=np.intp)
    for i in range(track.shape[0]):
        if firm[track[i]]:
            count[det[i]] += 1
    return count > 1


@_jit
def firm_pairs(
    track: Index, det: Index, firm: NDArray[np.bool_], chosen: NDArray[np.bool_]
) -> Index:
    """Positions of the pairs of a firm track and a `chosen` detection (the emitter
    evidence's, `EmitterIds.bind`)."""
    out = np.empty(track.shape[0], dtype=np.intp)
    q = 0
    for i in range(track.shape[0]):
        if firm[track[i]] and chosen[det[i]]:
            out[q] = i
            q += 1
    return out[:q]


@_jit
def least_per(group: Index, values: Array, groups: int) -> Array:
    """The least of `values` per `group` (inf where a group has none): np.minimum.at into a
    full array of inf, which is slow per element (the emitter evidence's edges)."""
    out = np.full(groups, np.inf)
    for i in range(group.shape[0]):
        if values[i] < out[group[i]]:
            out[group[i]] = values[i]
    return out


def warm_up() -> None:
    """Load (or compile) the kernels with the argument types the tracker passes."""
    if not kernels.ENABLED:
        return
    one = np.zeros(1, dtype=np.intp)
    flag = np.zeros(1, dtype=np.bool_)
    code = np.zeros(1, dtype=np.int64)
    screen_bearings(one, one, np.ones(1), flag, flag, flag, code, code, flag, 1.0, 1)
    contested(one, one, np.ones(1), one, one, np.ones(1), flag, 1.0, 1)
    with_holder(one, one, one)
    unbarred(one, one, np.zeros((1, 1), dtype=np.int64), code)
    least_per(one, np.ones(1), 1)
    ambiguous(one, one, flag, 1)
    firm_pairs(one, one, flag, flag)
