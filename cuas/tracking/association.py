"""Association (the associator): global nearest neighbour over gated hypotheses.

The optimal assignment decomposes over the connected components of the gate graph, so it is
solved per component, cheapest first:
- one track and one detection (the vast majority): taken directly;
- a star, one track against several detections or one detection against several tracks:
  the cheapest pair wins, found for all stars at once;
- anything else: scipy's `linear_sum_assignment`, once for all tangled clusters together
  (their block structure keeps them independent, and one call beats many small ones).
A scan with only a few gated pairs (a camera or RF report) skips the decomposition: one
small dense solve costs less than finding the components.
Each track may also be left without a detection at `miss_cost`, so a track takes a
detection only when that lowers the total cost, as in Stone Soup's GNN with missed-detection
hypotheses. Costs of gated pairs are below `miss_cost`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching

from cuas.tracking import kernels

Index = NDArray[np.intp]
_SMALL = 48  # pairs up to which one dense assignment is cheaper than finding the components
_SPARSE_FROM = 200  # tracks from which the sparse solver beats the dense one


def global_nearest_neighbour(
    track: Index,
    det: Index,
    cost: NDArray[np.float64],
    miss_cost: float,
    dense_up_to: int = _SMALL,
) -> Index:
    """Indices into the hypothesis arrays of the chosen (track, detection) pairs.

    Each track and each detection appears in at most one chosen pair; the choice minimises
    the summed cost plus `miss_cost` for every gated track left without a detection. Up to
    `dense_up_to` pairs are solved in one dense assignment, more by components.
    """
    p = track.shape[0]
    if p == 0:
        return np.zeros(0, dtype=np.intp)
    usable = cost < miss_cost
    # Track rows and detection indices serve as the graph's node ids as they are: only their
    # order and equality matter below, and counting them beats sorting them.
    alone = (np.bincount(track)[track] == 1) & (np.bincount(det)[det] == 1)
    if p <= dense_up_to:  # a handful of pairs: one small dense solve beats the decomposition
        if (alone & usable).all():  # ... unless no two pairs share a track or a detection
            return np.arange(p)
        return np.sort(_solve_jointly(np.arange(p), track, det, cost, miss_cost))
    chosen = [(alone & usable).nonzero()[0]]
    rest = (~alone).nonzero()[0]
    if rest.size:  # only contested pairs need the graph; usually there are few or none
        chosen += _solve_contested(rest, track, det, cost, usable, miss_cost)
    return np.sort(np.concatenate(chosen))


def _solve_contested(
    rest: Index,
    track: Index,
    det: Index,
    cost: NDArray[np.float64],
    usable: NDArray[np.bool_],
    miss_cost: float,
) -> list[Index]:
    nt, nd = int(track.max()) + 1, int(det.max()) + 1
    if kernels.ENABLED:  # union-find, compiled; scipy's sparse graph below is the reference
        n_comp, labels = kernels.components(track[rest], nt + det[rest], nt + nd)
    else:
        graph = coo_matrix(
            (np.ones(rest.size), (track[rest], nt + det[rest])), shape=(nt + nd, nt + nd)
        )
        n_comp, labels = connected_components(graph, directed=False)
    component = labels[track]
    # Distinct members per component (a track with several pairs counts once).
    tracks_in = np.bincount(labels[_distinct(track[rest], nt)], minlength=n_comp)
    dets_in = np.bincount(labels[nt + _distinct(det[rest], nd)], minlength=n_comp)
    star = (tracks_in[component[rest]] == 1) | (dets_in[component[rest]] == 1)
    chosen = [_cheapest_per_component(rest[star & usable[rest]], component, cost)]
    tangled = rest[~star]
    if tangled.size:
        chosen.append(_solve_jointly(tangled, track, det, cost, miss_cost))
    return chosen


def _cheapest_per_component(pairs: Index, component: Index, cost: NDArray[np.float64]) -> Index:
    """In a star every pair excludes every other, so the optimum is its cheapest pair."""
    if pairs.size == 0:
        return pairs
    order = pairs[np.lexsort((pairs, cost[pairs], component[pairs]))]
    first = np.ones(order.size, dtype=bool)
    first[1:] = component[order[1:]] != component[order[:-1]]
    return order[first]


def _solve_jointly(
    pairs: Index,
    track: Index,
    det: Index,
    cost: NDArray[np.float64],
    miss_cost: float,
    sparse_from: int = _SPARSE_FROM,
) -> Index:
    """Optimal assignment of `pairs` with a private missed-detection column per track; from
    `sparse_from` tracks on the sparse graph (`_solve_sparse`)."""
    r = _ranks(track[pairs])
    c = _ranks(det[pairs])
    nt = int(r.max()) + 1
    nd = int(c.max()) + 1
    if nt >= sparse_from:
        return _solve_sparse(pairs, r, c, nt, nd, cost, miss_cost)
    big = (nt + 1) * miss_cost + 1.0  # dearer than any solution made of real options
    matrix = np.full((nt, nd + nt), big)
    matrix[r, c] = cost[pairs]
    matrix[np.arange(nt), nd + np.arange(nt)] = miss_cost
    row_ind, col_ind = linear_sum_assignment(matrix)
    taken = col_ind < nd
    return _pairs_at(pairs, r, c, nd, row_ind[taken], col_ind[taken])


def _solve_sparse(
    pairs: Index,
    r: Index,
    c: Index,
    nt: int,
    nd: int,
    cost: NDArray[np.float64],
    miss_cost: float,
) -> Index:
    """`_solve_jointly` on the sparse graph of the pairs and the miss columns (`r`, `c`: each
    pair's row and column). A swarm's tentative tracks under RF bearings tangle into one
    component of hundreds of tracks with a dozen pairs each: the dense matrix is mostly
    filler, and the sparse solver (LAPJVsp) finds the same optimum several times faster.
    Every track is matched (to a detection or its miss column), so adding one to every
    weight keeps the optimum and keeps zero costs from reading as missing edges."""
    miss = np.arange(nt)
    graph = csr_matrix(
        (np.r_[cost[pairs], np.full(nt, miss_cost)] + 1.0, (np.r_[r, miss], np.r_[c, nd + miss])),
        shape=(nt, nd + nt),
    )
    row_ind, col_ind = min_weight_full_bipartite_matching(graph)
    taken = col_ind < nd
    return _pairs_at(pairs, r, c, nd, row_ind[taken], col_ind[taken])


def _pairs_at(pairs: Index, r: Index, c: Index, nd: int, rows: Index, cols: Index) -> Index:
    """The pairs (of `pairs`, at cells `r`, `c`, each cell once) at the cells (`rows`,
    `cols`) an assignment chose, in that order; a chosen cell no pair holds is left out. By
    sorted cell keys: the dense (tracks x detections) table this read from cost more to fill
    than the solve, at a swarm's hundreds of tentative tracks."""
    key = r.astype(np.int64) * nd + c
    order = np.argsort(key)
    key = key[order]
    wanted = rows.astype(np.int64) * nd + cols
    at = np.minimum(np.searchsorted(key, wanted), key.size - 1)
    return pairs[order[at[key[at] == wanted]]]


def _distinct(values: Index, size: int) -> Index:
    """The distinct values (sorted) of non-negative integers below `size`: `np.unique` by
    marking, not sorting (track rows and detection indices, a few thousand at most)."""
    seen = np.zeros(size, dtype=bool)
    seen[values] = True
    return seen.nonzero()[0]


def _ranks(values: Index) -> Index:
    """Each of non-negative integers `values` as its rank among their distinct values, as
    `np.unique(values, return_inverse=True)[1]`, by marking instead of sorting."""
    distinct = _distinct(values, int(values.max()) + 1)
    rank = np.empty(int(distinct[-1]) + 1, dtype=np.intp)
    rank[distinct] = np.arange(distinct.size)
    return rank[values]
