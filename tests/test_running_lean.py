"""The running lean (cuas/tracking/running_lean.py): a running mean of normalised residuals
whose spread on a track where its target is, is the lean's own sigma."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cuas.tracking import running_lean


@given(
    st.floats(0.0, 0.99),
    st.floats(-10.0, 10.0, allow_nan=False),
    st.floats(-10.0, 10.0, allow_nan=False),
)
def test_a_step_weighs_the_past_by_the_memory(memory: float, before: float, z: float) -> None:
    out = running_lean.step(np.array([before], dtype=np.float32), np.array([z]), memory)
    assert out.dtype == np.float64
    assert out[0] == pytest.approx(memory * float(np.float32(before)) + (1.0 - memory) * z)


@pytest.mark.parametrize("memory", [0.5, 0.8, 0.9])
def test_white_residuals_keep_the_lean_within_its_own_sigma(memory: float) -> None:
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4000, 64))  # 64 tracks, 4000 measurements each
    lean = np.zeros(64)
    seen = []
    for k in range(z.shape[0]):
        lean = running_lean.step(lean, z[k], memory)
        if k >= 100:
            seen.append(lean)
    assert np.std(seen) == pytest.approx(running_lean.sigma(memory), rel=0.03)


def test_a_steady_offset_walks_the_lean_to_it() -> None:
    lean = np.zeros(1)
    for _ in range(100):
        lean = running_lean.step(lean, np.array([2.0]), 0.9)
    assert lean[0] == pytest.approx(2.0, abs=1e-3)
    assert lean[0] > 5.0 * running_lean.sigma(0.9)
