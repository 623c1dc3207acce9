"""Initiation (the initiator): new tentative tracks from detections no track explained."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cuas.tracking.measurements import RadarModel
from cuas.tracking.motion import POS, STATE_DIM, VEL
from cuas.tracking.scan import Scan

Array = NDArray[np.float64]


@dataclass(frozen=True)
class SinglePointInitiator:
    """A state from one detection: its position, and a zero-mean velocity prior.

    The velocity prior has `speed_sigma` horizontally and `vspeed_sigma` vertically; where a
    radar measured range-rate, the velocity along the line of sight is set from it instead,
    which roughly halves the time a fast target needs to be confirmed.
    """

    speed_sigma: float
    vspeed_sigma: float

    def initiate(self, scan: Scan, dets: NDArray[np.intp]) -> tuple[Array, Array]:
        """States (k, 6) and covariances (k, 6, 6) for detections `dets` of `scan`."""
        k = dets.shape[0]
        pos, pos_cov = scan.model.initiate(scan.z[dets], scan.var[dets])
        x = np.zeros((k, STATE_DIM))
        P = np.zeros((k, STATE_DIM, STATE_DIM))
        x[:, POS] = pos
        P[:, POS, POS] = pos_cov
        V = np.diag([self.speed_sigma**2, self.speed_sigma**2, self.vspeed_sigma**2])
        P[:, VEL, VEL] = V
        model = scan.model
        if isinstance(model, RadarModel) and model.with_range_rate:
            los = model.line_of_sight(pos)
            rr = scan.z[dets, 3]
            x[:, VEL] = rr[:, None] * los
            outer = los[:, :, None] * los[:, None, :]
            across = np.eye(3) - outer
            P[:, VEL, VEL] = across @ V @ across + scan.var[dets, 3][:, None, None] * outer
        return x, P
