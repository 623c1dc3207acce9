"""The track table (cuas/tracking/tracks.py): deleting rows keeps the rest in order."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cuas.tracking.tracks import TrackRows, TrackTable


def table_of(n: int, seed: int) -> TrackTable:
    """n tracks with distinct states, covariances, hit times and serials."""
    rng = np.random.default_rng(seed)
    table = TrackTable(n_sensors=2, mode_prior=np.array([0.9, 0.1]))
    table.add(rng.normal(0, 100, (n, 6)), rng.uniform(1, 9, (n, 6, 6)), 10.0, 0)
    table.last_hit[:n, 1] = rng.uniform(0, 10, n)
    table.uas_id[:n] = [f"uas-{i}" for i in range(n)]
    return table


def same(a: TrackRows, b: TrackRows) -> bool:
    return all(equal(getattr(a, f.name), getattr(b, f.name)) for f in fields(TrackRows))


def equal(x: np.ndarray, y: np.ndarray) -> bool:
    """Equal arrays, NaN (a column's "none") equal to NaN."""
    return np.array_equal(x, y, equal_nan=x.dtype.kind == "f")


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 150), st.floats(0.0, 1.0))
def test_deleted_rows_come_out_whole_and_the_rest_keep_their_order(
    seed: int, n: int, share: float
) -> None:
    doomed = np.random.default_rng(seed + 1).uniform(size=n) < share
    before = table_of(n, seed).rows()
    kept = TrackRows(**{f.name: getattr(before, f.name)[~doomed] for f in fields(TrackRows)})

    table = table_of(n, seed)
    gone = table.pop(doomed)
    assert same(gone, table_of(n, seed).rows(doomed))
    assert len(table) == len(kept) and same(table.rows(), kept)

    table = table_of(n, seed)
    assert table.remove(doomed).tolist() == before.track_id[doomed].tolist()
    assert same(table.rows(), kept)
