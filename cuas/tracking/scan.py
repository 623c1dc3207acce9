"""A scan: one sensor's detections at one measurement time, as arrays the tracker consumes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cuas.tracking.measurements import MeasurementModel
from cuas.wire import CLASSES

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Labels:
    """What each detection of a scan says about *what* and *who* the target is.

    Rows align with the scan's detections. `class_probs` (k, 5) holds a detection's class
    probabilities in `CLASSES` order, or NaN where it says nothing; `rcs_dbsm` is NaN where
    absent; `uas_id` (Remote ID serial) and `emitter_id` (RF emitter) are None where absent.
    """

    class_probs: Array
    rcs_dbsm: Array
    uas_id: list[str | None]
    emitter_id: list[str | None]

    @classmethod
    def none(cls, k: int) -> Labels:
        """Labels of k detections that say nothing beyond where the target is."""
        return cls(np.full((k, len(CLASSES)), np.nan), np.full(k, np.nan), [None] * k, [None] * k)


@dataclass(frozen=True)
class Scan:
    """Detections `z` (k, m) with per-detection measurement variances `var` (k, m).

    `sensor` is the sensor's index in the tracker's sensor list; `model` is the measurement
    model that explains `z` (angles in radians). A scan with k = 0 is a sensor that looked
    and saw nothing: the tracks it covers are charged a miss.
    """

    sensor: int
    t: float
    z: Array
    var: Array
    model: MeasurementModel
    labels: Labels | None = None  # None: the detections say nothing about class or identity

    def __len__(self) -> int:
        return self.z.shape[0]
