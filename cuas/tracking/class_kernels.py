"""Compiled passes of the published class probabilities, round numpy's exp.

Every scan's first threat pass (the benign-class test of the tracks it updated), every track
update message and every cycle turn class log-probabilities (p, 5) into probabilities: a
row's maximum taken off, numpy's exp, each row divided by its sum. In numpy the reductions
along rows of five cost more than the rest (a row maximum alone was about 1 % of the live
load's replay). Here the maximum and the subtraction are one pass, and the sum, the division
and the benign test another, the exp staying numpy's; a row's sum is numpy's for rows this
short (left to right). `classification.published_classes` and
`cuas.fusion.threat_pass.ThreatLevels` keep their numpy code as the reference, and
tests/test_kernels.py holds these passes to its bits.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import kernels
from cuas.tracking.kernels import _jit

Array = NDArray[np.float64]
Index = NDArray[np.intp]

FLOOR = 1e-300  # the least a row's sum is divided by (`np.maximum(sum, FLOOR)`)


@_jit
def shift_by_row_max(logp: Array) -> Array:
    """logp less each row's maximum (numpy's: a NaN wins), as a new array."""
    p, c = logp.shape
    out = np.empty((p, c))
    for i in range(p):
        top = logp[i, 0]
        for j in range(1, c):
            v = logp[i, j]
            if top == top and (v > top or v != v):
                top = v
        for j in range(c):
            out[i, j] = logp[i, j] - top
    return out


@_jit
def normalise_rows(probs: Array) -> None:
    """probs /= max(its row sums, FLOOR), in place (numpy's maximum: a NaN wins)."""
    p, c = probs.shape
    for i in range(p):
        s = 0.0
        for j in range(c):
            s += probs[i, j]
        d = s if (s >= FLOOR or s != s) else FLOOR
        for j in range(c):
            probs[i, j] = probs[i, j] / d


@_jit
def reaches(probs: Array, columns: Index, confidence: float) -> NDArray[np.bool_]:
    """Whether the largest of each row's `columns` (from 0; a NaN wins) is `confidence` or
    more."""
    p = probs.shape[0]
    out = np.empty(p, dtype=np.bool_)
    for i in range(p):
        top = 0.0
        nan = False
        for j in columns:
            v = probs[i, j]
            if v != v:
                nan = True
            elif v > top:
                top = v
        out[i] = not nan and top >= confidence
    return out


def probabilities(class_logp: Array) -> Array:
    """Class probabilities (p, C) of rows of log-probabilities: the two passes round numpy's
    exp (`kernels.ENABLED` only; `classification.published_classes` has the reference)."""
    probs = shift_by_row_max(np.ascontiguousarray(class_logp, dtype=np.float64))
    np.exp(probs, out=probs)
    normalise_rows(probs)
    return probs


def warm_up() -> None:
    """Load (or compile) the passes with the argument types their callers pass."""
    if not kernels.ENABLED:
        return
    probs = probabilities(np.zeros((1, 5)))
    reaches(probs, np.zeros(1, dtype=np.intp), 0.5)
