"""The simulated sensors of a run, with the face every run needs (`SimSensor`).

A scenario flies its radar and, for multi-sensor scenarios (or `all_sensors`), every other
sensor of the camp (`simulators.passive`: RF direction finders, cameras, Remote ID; further
radars), each at its own `update_period_s` (the scenario radar on `k * period`, the others
with a fixed phase derived from their id, `scan_phase`) and with its own random stream derived
from the seed (`simulators.passive.sensor_rng`; the scenario radar keeps its stream of old, so
radar drills are unchanged).
"""

from __future__ import annotations

import zlib
from typing import Any, Protocol

import numpy as np

from cuas.config import CampConfig, SensorConfig
from cuas.wire import Report
from simulators.benchmark_scenarios import RECEIVE_DELAY_S
from simulators.passive import PassiveScan, passive_sensor, sensor_rng
from simulators.radar import RadarEquationPd, RadarScan, SimulatedRadar
from simulators.scenario_library import Scenario
from simulators.sensor_model import SensorModel
from simulators.targets.target_set import TargetStates

RADAR_STREAM = 1  # random stream of a seed used for the radar (targets use another)

Scan = RadarScan | PassiveScan

__all__ = ["RadarSensor", "Scan", "SimSensor", "make_sensors", "scan_phase"]


def _radar_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([RADAR_STREAM, seed])


class SimSensor(Protocol):
    """What a run needs of a simulated sensor of any kind (`simulators.passive` sensors have
    exactly this face; radars get it from `RadarSensor`)."""

    sensor: SensorConfig

    def observe(self, t: float, states: TargetStates) -> Any: ...

    def report(self, scan: Any) -> Report: ...

    def arrival_time(self, t: float) -> float: ...


class RadarSensor:
    """A `SimulatedRadar` with the face of a `SimSensor`: reports arrive `delay_s` late."""

    def __init__(self, radar: SimulatedRadar, delay_s: float = RECEIVE_DELAY_S) -> None:
        self.radar = radar
        self.sensor = radar.sensor
        self.delay_s = delay_s

    def observe(self, t: float, states: TargetStates) -> RadarScan:
        return self.radar.measure(t, states.enu, states.vel, states.rcs_dbsm)

    def report(self, scan: RadarScan) -> Report:
        return self.radar.report(scan)

    def arrival_time(self, t: float) -> float:
        return t + self.delay_s


def _radar_delay(scenario: Scenario, sensor_id: str) -> float:
    model = scenario.models.get(sensor_id)
    return RECEIVE_DELAY_S if model is None or model.latency is None else model.latency.base_s


def make_sensors(scenario: Scenario, config: CampConfig, seed: int) -> list[SimSensor]:
    """The simulated sensors of a scenario run: its radar first, then `scenario.sensors`,
    each with its own random stream and latencies within what the camp declares, and with
    the options of `scenario.models` (a radar's latency is its model's `base_s`, no jitter)."""
    frame = config.local_frame()
    primary = scenario.make_radar(config, _radar_rng(seed))
    flown: list[SimSensor] = [RadarSensor(primary, _radar_delay(scenario, primary.sensor.id))]
    for s in scenario.sensors:
        rng = sensor_rng(seed, s.id)
        model = scenario.models.get(s.id, SensorModel())
        if s.kind == "radar":
            pd = model.pd if model.pd is not None else RadarEquationPd.for_sensor(s)
            clutter = model.clutter_per_scan
            radar = SimulatedRadar.from_camp(
                s,
                frame,
                rng,
                pd,  # type: ignore[arg-type]
                scenario.clutter_per_scan if clutter is None else clutter,
            )
            flown.append(RadarSensor(radar, _radar_delay(scenario, s.id)))
        else:
            # The camp's declared bound (the core's reorder window when none is declared).
            bound = _declared_latency(config, s.id)
            options = model.passive_options(s.kind)
            flown.append(passive_sensor(s, frame, rng, latency_bound_s=bound, **options))
    return flown


def _declared_latency(config: CampConfig, sensor_id: str) -> float:
    """The worst latency the camp declares for a sensor: its `latency_s`, else the window."""
    camp_sensor = config.sensor(sensor_id)
    if camp_sensor is not None and camp_sensor.latency_s is not None:
        return camp_sensor.latency_s
    return config.tracker.reorder_window_s


def scan_phase(sensor: SimSensor, index: int) -> float:
    """When in its period a sensor scans: the scenario radar at 0, the others at a fixed
    fraction derived from their id (real sensors' clocks are not in step)."""
    if index == 0:
        return 0.0
    fraction = (zlib.crc32(sensor.sensor.id.encode()) % 1000) / 1000.0
    return fraction * sensor.sensor.update_period_s
