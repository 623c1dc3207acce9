"""The running lean of a track's residuals: whether a sensor keeps seeing it to one side.

A measurement's residual, normalised by its predicted sigma, has mean zero on a track that is
where its target is. Its exponentially weighted running mean (the lean, `memory` the weight
of the past per measurement) then stays within a few of its own sigmas of zero, whereas a
track that something else drags off its target (another object's bearings or lines of
sight) is seen to one side measurement after measurement, and its lean walks away. The
emitter-id checks (emitter_ids.py: a finder's bearings against their emitter's holder, a
radar's plots against a track holding an emitter id) and the camera-drag check
(camera_drag.py) each keep one in the track table.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def step(lean: NDArray[np.floating], z: Array, memory: float) -> Array:
    """The leans (float64) after normalised residuals `z` (one each), from `lean`."""
    return memory * lean.astype(np.float64) + (1.0 - memory) * z


def sigma(memory: float) -> float:
    """The lean's own standard deviation where the residuals are white and of unit variance:
    sqrt((1 - m) / (1 + m)) for memory m."""
    return math.sqrt((1.0 - memory) / (1.0 + memory))
