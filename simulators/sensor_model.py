"""How a simulated sensor performs, where a drill says more than the camp configuration.

The camp configuration is what the core believes about a sensor; a drill may make the real
sensor differ (a worse Pd, more clutter, longer latency, a classifier that confuses birds and
drones, an RF finder whose library lacks a protocol). Geometry and accuracy overrides are
applied to the sensor's `SensorConfig` itself (the scenario flies that config, the core keeps
the camp's); the rest lives here. Every field left None keeps the simulator's default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulators.passive import ConfusionMatrix, GilbertLink, Latency, RangePd
from simulators.radar import PdModel

__all__ = ["SensorModel"]


@dataclass(frozen=True)
class SensorModel:
    """Simulation options of one sensor (see the module docstring).

    `pd`: a radar's `PdModel`, a camera's `RangePd` or an RF finder's constant probability;
    `clutter_per_scan`: a radar's mean clutter plots, or a passive sensor's false alarms;
    `hears`: the protocols or emitter ids an RF finder recognises (None: all);
    `link`: a Remote ID receiver's reception model.
    """

    pd: PdModel | RangePd | float | None = None
    clutter_per_scan: float | None = None
    latency: Latency | None = None
    confusion: ConfusionMatrix | None = None
    hears: tuple[str, ...] | None = None
    link: GilbertLink | None = None

    def passive_options(self, kind: str) -> dict[str, Any]:
        """Keyword arguments of `simulators.passive.passive_sensor` for a sensor of `kind`."""
        options: dict[str, Any] = {}
        if self.latency is not None:
            options["latency"] = self.latency
        if kind == "camera":
            if self.pd is not None:
                options["pd"] = self.pd
            if self.confusion is not None:
                options["confusion"] = self.confusion
        if kind == "rf":
            if self.pd is not None:
                options["p_detection"] = float(self.pd)  # type: ignore[arg-type]
            if self.hears is not None:
                options["hears"] = self.hears
        if kind == "remote_id" and self.link is not None:
            options["link"] = self.link
        if kind in ("camera", "rf") and self.clutter_per_scan is not None:
            options["false_alarms_per_scan"] = self.clutter_per_scan
        return options
