"""Named drill scenarios for a camp: which targets fly, how, for how long, seen by which sensors.

A scenario is plain data, `Scenario`: a name, one sentence, a duration, a `TargetSet`, the
camp's radar with its detection model, and the other camp sensors flown with it (none for a
radar drill). Each library entry is a `ScenarioSpec` whose `build` places its targets relative
to the camp (the origin, and the sensors' reach), drawing anything random from a generator
seeded by the caller, so a name, a camp and a seed give one scenario. Scenario files (TOML) can
later map onto the same `ScenarioSpec`/`Target` constructors.

`LIBRARY` holds the radar drills (every drone in radar coverage); `MULTI_SENSOR` the
scenarios that fly every sensor of the camp (radar, RF direction finders, cameras, Remote ID)
and give targets RF links and Remote ID; `SCENARIOS` is both. Any scenario can be flown with
all sensors (`all_sensors=True`).

    scenario = build_scenario("attack", load_config("config/camp.example.toml"), seed=1)
    mixed = build_scenario("mixed", load_config("config/camp.example.toml"), seed=1)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from cuas.config import CampConfig, SensorConfig
from cuas.geodesy import LocalFrame
from simulators.events import Event
from simulators.radar import PdModel, RadarEquationPd, SimulatedRadar
from simulators.sensor_model import SensorModel
from simulators.targets.behaviours import (
    DRONE_RCS_DBSM,
    Orbit,
    Racetrack,
    Straight,
    Target,
    Weave,
    from_bearing,
    ingress,
    weave,
)
from simulators.targets.birds import bird_flock
from simulators.targets.target_set import TargetSet

DEFAULT_SCENARIO = "attack"
DEFAULT_RADAR = "radar-1"
NOMINAL_START_M = 2700.0  # where inbound drones appear, at most 90 % of the radar's range
TARGET_STREAM = 0  # random stream of a seed used for targets (the radar uses another)
FRIENDLY_UAS_ID = "UN-PKO-0001"  # the camp's own patrol drone (config [friendly])
FRIENDLY_EMITTER_ID = "PKO-LINK-7"

__all__ = [
    "DEFAULT_SCENARIO",
    "FRIENDLY_EMITTER_ID",
    "FRIENDLY_UAS_ID",
    "LIBRARY",
    "MULTI_SENSOR",
    "SCENARIOS",
    "Scenario",
    "ScenarioSpec",
    "Site",
    "build_scenario",
    "camp_radar",
    "describe_library",
    "resolve_scenario",
]


@dataclass(frozen=True)
class Scenario:
    """A drill: targets flying for `duration_s` seconds, watched by one camp radar and by
    `sensors`, the other camp sensors flown with it (any kind; empty: the radar alone).

    The sensor configs are those the simulators fly (a drill may make them differ from the
    camp's, which is what the core believes); `models` and `events` add what configs cannot say.
    """

    name: str
    description: str
    duration_s: float
    targets: TargetSet
    radar: SensorConfig
    pd: PdModel
    clutter_per_scan: float = 3.0
    sensors: tuple[SensorConfig, ...] = ()
    # Drills (simulators.scenario_builder): per-sensor simulation options by sensor id, scripted
    # events, and the seed the scenario file names (callers may override it).
    models: Mapping[str, SensorModel] = field(default_factory=dict)
    events: tuple[Event, ...] = ()
    seed: int = 0

    def make_radar(self, config: CampConfig, rng: np.random.Generator) -> SimulatedRadar:
        """The simulated radar of this scenario, placed by the camp config."""
        frame = config.local_frame()
        return SimulatedRadar.from_camp(
            self.radar, frame, rng, p_detection=self.pd, clutter_per_scan=self.clutter_per_scan
        )

    def drones(self) -> list[Target]:
        """The scenario's drones (the targets a tracker must find)."""
        return self.targets.of_class("drone")


@dataclass(frozen=True)
class Site:
    """What a scenario builder may know of the camp: its config, radar and a random stream."""

    config: CampConfig
    radar: SensorConfig
    rng: np.random.Generator
    duration_s: float

    @property
    def reach_m(self) -> float:
        """How far out inbound drones appear: inside the radar's range, with a margin."""
        return min(NOMINAL_START_M, 0.9 * self.radar.max_range_m)

    def frame(self) -> LocalFrame:
        """The camp's ENU frame."""
        return self.config.local_frame()

    def position(self, sensor: SensorConfig) -> np.ndarray:
        """A sensor's position in camp ENU metres."""
        return self.frame().to_enu(sensor.lat, sensor.lon, sensor.alt_m).reshape(3)

    def drone_rcs(self) -> float:
        """A small drone's RCS, drawn from `DRONE_RCS_DBSM`."""
        return float(self.rng.uniform(*DRONE_RCS_DBSM))


Builder = Callable[[Site], list[Target]]


@dataclass(frozen=True)
class ScenarioSpec:
    """A library entry: the name, one sentence, how long it runs, and how to build it."""

    name: str
    description: str
    duration_s: float
    build: Builder
    clutter_per_scan: float = 3.0
    all_sensors: bool = False  # fly every sensor of the camp, not only the radar


def _ingress(site: Site) -> list[Target]:
    r = site.reach_m
    return [
        ingress("d1", 45.0, r, 120.0, 24.0, rcs_dbsm=site.drone_rcs()),
        ingress("d2", 170.0, 0.95 * r, 80.0, 22.0, t_start=5.0, rcs_dbsm=site.drone_rcs()),
        ingress("d3", 280.0, r, 60.0, 28.0, overfly_m=600.0, rcs_dbsm=site.drone_rcs()),
        Straight(
            target_id="p1",
            start=(-0.8 * r, 0.65 * r, 200.0),
            end=(0.8 * r, 0.55 * r, 200.0),
            speed_mps=20.0,
            rcs_dbsm=site.drone_rcs(),
        ),
        Straight(
            target_id="p2",
            start=(0.95 * r, -0.2 * r, 150.0),
            end=(0.2 * r, -0.95 * r, 150.0),
            speed_mps=16.0,
            rcs_dbsm=site.drone_rcs(),
        ),
    ]


def _weave(site: Site) -> list[Target]:
    return [
        weave("w1", 225.0, site.reach_m, 90.0, 20.0, 100.0, 30.0, rcs_dbsm=site.drone_rcs()),
        Orbit(
            target_id="o1",
            center=(0.0, 0.0),
            radius_m=min(1500.0, 0.6 * site.radar.max_range_m),
            alt_m=150.0,
            speed_mps=15.0,
            start_bearing_deg=20.0,
            clockwise=False,
            rcs_dbsm=site.drone_rcs(),
        ),
    ]


def _swarm(site: Site, n: int = 10, bearing_deg: float = 70.0) -> list[Target]:
    """A loose formation: two ragged rows, 80 m apart abreast and 90 m deep, each drone
    wandering a little about its slot."""
    rng = site.rng
    lead = from_bearing(bearing_deg, site.reach_m, 120.0)
    aim = np.array([0.0, 0.0, 120.0])
    u = (aim - lead) / np.linalg.norm(aim - lead)
    left = np.array([-u[1], u[0], 0.0]) / np.hypot(u[0], u[1])
    targets: list[Target] = []
    for i in range(n):
        row, col = divmod(i, (n + 1) // 2)
        abreast = (col - ((n + 1) // 2 - 1) / 2.0) * 80.0 + 40.0 * row
        offset = abreast * left - row * 90.0 * u + rng.normal(0.0, 12.0, 3) * (1.0, 1.0, 0.0)
        offset[2] = rng.uniform(-20.0, 20.0)
        targets.append(
            Weave(
                target_id=f"s{i + 1:02d}",
                start=tuple(float(x) for x in lead + offset),  # type: ignore[arg-type]
                end=tuple(float(x) for x in aim + offset),  # type: ignore[arg-type]
                speed_mps=22.0,
                amplitude_m=float(rng.uniform(5.0, 20.0)),
                period_s=float(rng.uniform(20.0, 40.0)),
                phase_deg=float(rng.uniform(0.0, 360.0)),
                rcs_dbsm=site.drone_rcs(),
            )
        )
    return targets


def _birds(site: Site) -> list[Target]:
    flock = bird_flock(site.rng, 6, from_bearing(315.0, 1200.0)[:2], 50.0, site.duration_s)
    return [*flock, ingress("d1", 320.0, site.reach_m, 70.0, 20.0, rcs_dbsm=site.drone_rcs())]


def _attack(site: Site) -> list[Target]:
    r = site.reach_m
    # Birds just outside the approach zone's western edge: tracked, but not (yet) alerting.
    flock = bird_flock(site.rng, 5, from_bearing(300.0, 1600.0)[:2], 40.0, site.duration_s)
    return [
        ingress("a1", 40.0, min(2400.0, r), 100.0, 25.0, rcs_dbsm=site.drone_rcs()),
        weave("a2", 210.0, r, 80.0, 18.0, 80.0, 30.0, rcs_dbsm=site.drone_rcs()),
        Orbit(
            target_id="a3",
            center=(750.0, -300.0),
            radius_m=200.0,
            alt_m=150.0,
            speed_mps=15.0,
            start_bearing_deg=90.0,
            rcs_dbsm=site.drone_rcs(),
        ),
        Straight(
            target_id="a4",
            start=(-0.85 * r, 0.6 * r, 180.0),
            end=(0.85 * r, 0.7 * r, 180.0),
            speed_mps=22.0,
            rcs_dbsm=site.drone_rcs(),
        ),
        *flock,
    ]


def _mixed(site: Site) -> list[Target]:
    r = site.reach_m
    hostile = ingress(
        "h1",
        315.0,
        r,
        110.0,
        22.0,
        overfly_m=400.0,
        rcs_dbsm=site.drone_rcs(),
        rf_emitter="OCU-5F3A9C",
        protocol="dji-ocusync",
    )
    silent = weave("q1", 160.0, 0.9 * r, 35.0, 17.0, 60.0, 25.0, rcs_dbsm=site.drone_rcs())
    swarm = [
        replace(x, t_start=15.0, rf_emitter=f"ELRS-{x.target_id.upper()}", protocol="elrs")
        for x in _swarm(site, n=6, bearing_deg=100.0)
    ]
    loiterer = Orbit(
        target_id="l1",
        center=(750.0, -300.0),
        radius_m=200.0,
        alt_m=150.0,
        speed_mps=15.0,
        start_bearing_deg=200.0,
        rcs_dbsm=site.drone_rcs(),
        rf_emitter="VTX-2E71",
        protocol="wifi-fpv",
    )
    friendly = Racetrack(
        target_id="f1",
        center=(0.0, 0.0),
        straight_m=500.0,
        radius_m=180.0,
        axis_deg=80.0,
        alt_m=120.0,
        speed_mps=12.0,
        rcs_dbsm=site.drone_rcs(),
        rf_emitter=FRIENDLY_EMITTER_ID,
        protocol="dji-ocusync",
        remote_id=FRIENDLY_UAS_ID,
        operator_en=(0.0, 0.0),
    )
    flock = bird_flock(site.rng, 6, from_bearing(300.0, 1400.0)[:2], 40.0, site.duration_s)
    return [hostile, silent, *swarm, loiterer, friendly, *flock]


def _rf_only(site: Site) -> list[Target]:
    """A drone loitering on an arc about the radar beyond its range, where every RF direction
    finder still hears it (halfway between the radar's range and the DFs' worst reach)."""
    finders = [s for s in site.config.sensors if s.kind == "rf"]
    if len(finders) < 2:
        raise ValueError(f"camp {site.config.camp_id!r} needs two RF direction finders")
    centre = site.position(site.radar)
    reach = min(s.max_range_m - float(np.linalg.norm(site.position(s) - centre)) for s in finders)
    if reach - site.radar.max_range_m < 200.0:
        raise ValueError("the RF direction finders do not hear beyond the radar's range")
    radius = site.radar.max_range_m + 0.5 * (reach - site.radar.max_range_m)
    return [
        Orbit(
            target_id="r1",
            center=(float(centre[0]), float(centre[1])),
            radius_m=radius,
            alt_m=150.0,
            speed_mps=18.0,
            start_bearing_deg=300.0,
            rcs_dbsm=site.drone_rcs(),
            rf_emitter="ELRS-9C2E41",
            protocol="elrs",
        )
    ]


LIBRARY: dict[str, ScenarioSpec] = {
    s.name: s
    for s in (
        ScenarioSpec(
            "ingress",
            "Three drones fly straight in from the north-east, south and west while two "
            "others pass wide to the north and south-east.",
            120.0,
            _ingress,
        ),
        ScenarioSpec(
            "weave",
            "A drone weaves in from the south-west (100 m either side of its course, 30 s "
            "period) while another circles the camp at 1.5 km.",
            120.0,
            _weave,
        ),
        ScenarioSpec(
            "swarm",
            "Ten drones in a loose two-row formation, about 80 m apart, fly in together from "
            "the east-north-east and cross the perimeter.",
            120.0,
            _swarm,
        ),
        ScenarioSpec(
            "birds",
            "A flock of six birds loiters over the north-western approach while one drone "
            "flies in from the north-west through them.",
            120.0,
            _birds,
        ),
        ScenarioSpec(
            "attack",
            "The demo raid: one drone runs straight in from the north-east, one weaves in from "
            "the south-west, one loiters east of the camp inside the approach zone, one passes "
            "wide to the north, and a flock of birds loiters just west of the approach zone.",
            110.0,
            _attack,
        ),
    )
}

MULTI_SENSOR: dict[str, ScenarioSpec] = {
    s.name: s
    for s in (
        ScenarioSpec(
            "mixed",
            "Every camp sensor watches a hostile drone fly in from the north-west on its RF "
            "link without Remote ID, an RF-silent drone weave in low (35 m) from the "
            "south-south-east, a swarm of six come in from the east, a drone loiter outside "
            "the perimeter to the east, the camp's friendly patrol (Remote ID UN-PKO-0001, "
            "link PKO-LINK-7) fly a racetrack over the camp, and a flock of birds loiter to "
            "the west-north-west.",
            150.0,
            _mixed,
            all_sensors=True,
        ),
        ScenarioSpec(
            "rf-only",
            "A drone on an ELRS link loiters on an arc north-west of the camp beyond the "
            "radar's range (3.8 km out at camp alpha) but within both RF direction finders' "
            "reach, so only their bearings see it.",
            120.0,
            _rf_only,
            all_sensors=True,
        ),
    )
}

SCENARIOS: dict[str, ScenarioSpec] = {**LIBRARY, **MULTI_SENSOR}


def camp_radar(config: CampConfig, radar_id: str | None = None) -> SensorConfig:
    """The camp's radar named `radar_id`, else `radar-1`, else its first radar."""
    radars = [s for s in config.sensors if s.kind == "radar"]
    if radar_id is not None:
        found = [s for s in radars if s.id == radar_id]
        if not found:
            raise ValueError(f"camp {config.camp_id!r} has no radar {radar_id!r}")
        return found[0]
    if not radars:
        raise ValueError(f"camp {config.camp_id!r} has no radar")
    return next((s for s in radars if s.id == DEFAULT_RADAR), radars[0])


def build_scenario(
    name: str,
    config: CampConfig,
    seed: int = 0,
    duration_s: float | None = None,
    radar_id: str | None = None,
    all_sensors: bool | None = None,
) -> Scenario:
    """Build scenario `name` (of `SCENARIOS`) for a camp; same name, camp and seed, same scenario.

    The detection model is `RadarEquationPd.for_sensor`: a -10 dBsm drone is seen with the
    radar's configured `p_detection` at its `max_range_m`. `duration_s` overrides the
    scenario's own length (shorter for tests, longer to watch the end play out).
    `all_sensors` flies every sensor of the camp besides the radar (default: the scenario's
    own choice, yes for `MULTI_SENSOR`).
    """
    spec = SCENARIOS.get(name)
    if spec is None:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    radar = camp_radar(config, radar_id)
    duration = spec.duration_s if duration_s is None else float(duration_s)
    if duration <= 0.0:
        raise ValueError("a scenario's duration must be positive")
    rng = np.random.default_rng([TARGET_STREAM, seed])
    site = Site(config, radar, rng, max(duration, spec.duration_s))
    fly_all = spec.all_sensors if all_sensors is None else all_sensors
    return Scenario(
        name=spec.name,
        description=spec.description,
        duration_s=duration,
        targets=TargetSet(spec.build(site)),
        radar=radar,
        pd=RadarEquationPd.for_sensor(radar),
        clutter_per_scan=spec.clutter_per_scan,
        sensors=tuple(s for s in config.sensors if s.id != radar.id) if fly_all else (),
    )


def resolve_scenario(
    scenario: Scenario | str, config: CampConfig, seed: int, duration_s: float | None
) -> Scenario:
    """`scenario` itself, or the library scenario of that name built for the camp."""
    if isinstance(scenario, Scenario):
        return scenario
    return build_scenario(scenario, config, seed=seed, duration_s=duration_s)


def describe_library() -> str:
    """One line per scenario: name, duration, sensors and description."""
    width = max(len(n) for n in SCENARIOS)
    return "\n".join(
        f"{s.name:<{width}}  {s.duration_s:5.0f} s  "
        f"{'all sensors' if s.all_sensors else 'radar':<11}  {s.description}"
        for s in SCENARIOS.values()
    )
