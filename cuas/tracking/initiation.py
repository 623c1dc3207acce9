"""Initiation (the initiator): new tentative tracks from detections no track explained."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from cuas.tracking.motion import POS, STATE_DIM, VEL
from cuas.tracking.scan import Scan

Array = NDArray[np.float64]


@dataclass(frozen=True)
class SinglePointInitiator:
    """A state from one detection: its position, and what it says about velocity.

    The default velocity prior is zero-mean with `speed_sigma` horizontally and
    `vspeed_sigma` vertically; a measurement model that observes velocity (radar range-rate,
    Remote ID velocity) replaces the part it measured.
    """

    speed_sigma: float
    vspeed_sigma: float
    _V: Array = field(init=False, repr=False, compare=False)  # the velocity prior, built once

    def __post_init__(self) -> None:
        V = np.diag([self.speed_sigma**2, self.speed_sigma**2, self.vspeed_sigma**2])
        object.__setattr__(self, "_V", V)

    def initiate(self, scan: Scan, dets: NDArray[np.intp]) -> tuple[Array, Array]:
        """States (k, 6) and covariances (k, 6, 6) for detections `dets` of `scan`."""
        k = dets.shape[0]
        z, var = scan.z[dets], scan.var[dets]
        pos, pos_cov = scan.model.initiate(z, var)
        vel, vel_cov = scan.model.velocity_prior(z, var, pos, self._V)
        x = np.zeros((k, STATE_DIM))
        P = np.zeros((k, STATE_DIM, STATE_DIM))
        x[:, POS], x[:, VEL] = pos, vel
        P[:, POS, POS], P[:, VEL, VEL] = pos_cov, vel_cov
        return x, P
