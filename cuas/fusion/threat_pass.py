"""The alert stage's first threat pass, compiled: the threat level of many tracks in one loop.

After every scan the pipeline rates the firm tracks the scan updated, from their zones and
course alone, to learn which ones the alert lifecycle would act on; only those get the full
evaluation (`FusionPipeline._alerts_after`). That first pass ran the whole numpy evaluation
(`ThreatEvaluator.evaluate` over `ZoneSet.contains` and `time_to_perimeter`, each a dozen
small-array calls) after every scan: about a tenth of a dense camp's replay. Here it is one
compiled pass per track (`kernels.threat_levels`), the same tests in the same arithmetic;
the numpy evaluation stays the reference (`CUAS_KERNELS=numpy` uses it), and
tests/test_kernels.py holds the two to the same levels.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cuas.fusion.threat import (
    _BENIGN,
    CERTAIN_POSITION_M,
    ThreatEvaluator,
    own_benign,
    unvouched_at_most_high,
)
from cuas.tracking import class_kernels, kernels

Array = NDArray[np.float64]


class ThreatLevels:
    """`ThreatEvaluator.evaluate(...).level` of table columns, through the compiled kernel."""

    def __init__(self, evaluator: ThreatEvaluator) -> None:
        zones, cfg = evaluator.zones, evaluator.cfg
        polygons = zones.polygons
        self._polygons = np.ascontiguousarray(
            np.concatenate(polygons) if polygons else np.zeros((0, 2))
        )
        self._starts = np.cumsum([0] + [len(p) for p in polygons]).astype(np.intp)
        self._floor = np.ascontiguousarray(zones.floor, dtype=np.float64)
        self._ceiling = np.ascontiguousarray(zones.ceiling, dtype=np.float64)
        self._rank = np.ascontiguousarray(zones.rank, dtype=np.int64)
        self._perimeter = -1 if zones.perimeter is None else int(zones.perimeter)
        self._limits = np.array(
            [
                evaluator.perimeter_ceiling,
                cfg.certainty_sigmas,
                CERTAIN_POSITION_M,
                cfg.min_closing_mps,
                cfg.eta_high_s,
                cfg.eta_medium_s,
                cfg.min_height_m,
            ]
        )
        self._benign_confidence = cfg.benign_confidence
        self._benign_columns = np.array(_BENIGN, dtype=np.intp)

    def __call__(
        self,
        x: Array,
        P: Array,
        status: NDArray[np.int8],
        friendly: NDArray[np.bool_],
        class_logp: Array,
        class_bare: Array,
        t_vouched: Array,
    ) -> NDArray[np.int64]:
        """Levels (index into wire.THREATS) of rows with these states, covariances, statuses,
        friendly flags, class log-probabilities (published, and without what an emitter's
        bearings said: `threat.own_benign`) and times their places were vouched for."""
        level = kernels.threat_levels(
            np.ascontiguousarray(x),
            np.ascontiguousarray(P),
            np.ascontiguousarray(status),
            np.ascontiguousarray(friendly),
            self._benign(class_logp) | own_benign(class_bare, self._benign_confidence),
            self._polygons,
            self._starts,
            self._floor,
            self._ceiling,
            self._rank,
            self._perimeter,
            self._limits,
        )
        return unvouched_at_most_high(level, t_vouched)

    def _benign(self, class_logp: Array) -> NDArray[np.bool_]:
        """Whether a benign class reaches its confidence: the published probabilities
        (`classification.published_classes`) through `class_kernels`, round numpy's exp,
        which the threat kernel would not match to the bit. `benign_reference` is the numpy
        this stands for."""
        probs = class_kernels.probabilities(class_logp)
        return class_kernels.reaches(probs, self._benign_columns, self._benign_confidence)

    def benign_reference(self, class_logp: Array) -> NDArray[np.bool_]:
        """`_benign` in numpy (as `ThreatEvaluator.evaluate` decides it)."""
        if not len(class_logp):
            return np.zeros(0, dtype=bool)
        probs = np.exp(class_logp - class_logp.max(axis=1, keepdims=True))
        probs /= np.maximum(probs.sum(axis=1, keepdims=True), class_kernels.FLOOR)
        return probs[:, _BENIGN].max(axis=1, initial=0.0) >= self._benign_confidence
