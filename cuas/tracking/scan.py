"""A scan: one sensor's detections at one measurement time, as arrays the tracker consumes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cuas.tracking.measurements import MeasurementModel

Array = NDArray[np.float64]


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

    def __len__(self) -> int:
        return self.z.shape[0]
