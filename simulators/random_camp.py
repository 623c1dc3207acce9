"""Random camps for robustness tests: a camp nobody tuned for, its real sensors, and a raid.

`random_camp(seed)` draws, from the seed alone: an irregular perimeter and approach zone at a
random place on Earth; a radar somewhere near the middle; one to three RF direction finders
and one to three cameras on the perimeter (cameras looking outwards, some all-round); a
Remote ID receiver. The camp file says what the core believes about each sensor; the
simulated sensors fly with sigmas off by up to +-50 %, other detection probabilities and
clutter, so the core is never told the truth about its sensors. The raid: one to three
inbound drones, a swarm of four to six at 30-40 m spacing on their own RF links, a loiterer,
a friendly patrol with Remote ID, a flock of birds, and a low RF-emitting drone the radar
cannot see (a tiny RCS) 1.5-2.5 km out. Same seed, same camp, same raid.

The swarm is loose by default: each member flies its own speed (15-22 m/s) from its slot, so
the rows draw apart and members pass one another 30-40 m abreast, within the radar's
cross-range noise. `formation=True` flies the same swarm in formation instead, every member
at the first member's speed, holding its slot: the close formation the swarm targets speak
of. Nothing else of the camp or raid changes (the same random draws are made).

`benchmarks/robustness.py` scores many of them; `tests/test_random_camps.py` keeps the worst.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np

from cuas.config import CampConfig, SensorConfig, parse_config
from cuas.geodesy import LocalFrame
from simulators.passive import RangePd
from simulators.radar import RadarEquationPd
from simulators.scenario_library import Scenario
from simulators.sensor_model import SensorModel
from simulators.targets.behaviours import Orbit, Racetrack, Weave, from_bearing, ingress
from simulators.targets.birds import bird_flock
from simulators.targets.target_set import TargetSet

FRIENDLY_UAS = "UN-PKO-0042"
FRIENDLY_LINK = "PKO-LINK-42"


@dataclass(frozen=True)
class RandomCamp:
    """A camp as the core believes it, the sensors as they really are, and the raid."""

    seed: int
    config: CampConfig
    scenario: Scenario
    swarm_ids: tuple[str, ...]
    rf_only_id: str
    description: str


def _polygon(
    rng: np.random.Generator, radius: tuple[float, float], n: int, centre: np.ndarray
) -> np.ndarray:
    """An irregular star-shaped polygon (n, 2) in ENU metres."""
    # One vertex in each of n equal sectors: increasing angles, no gap of half a turn, so
    # the polygon is star-shaped about the camp centre and its edges never cross.
    angles = (np.arange(n) + rng.uniform(0.1, 0.9, n)) * (2.0 * np.pi / n)
    r = rng.uniform(*radius, n)
    return centre + np.stack([r * np.sin(angles), r * np.cos(angles)], axis=1)


def _latlon(frame: Any, en: np.ndarray, up: float = 0.0) -> list[list[float]]:
    enu = np.column_stack([en, np.full(len(en), up)])
    lat, lon, _ = frame.to_geodetic(enu)
    return [[float(a), float(b)] for a, b in zip(lat, lon, strict=True)]


def _sensor(frame: Any, sid: str, kind: str, en: np.ndarray, up: float, **kw: Any) -> dict:
    lat, lon, alt = frame.to_geodetic(np.array([en[0], en[1], up]))
    return {
        "id": sid,
        "kind": kind,
        "lat": float(lat),
        "lon": float(lon),
        "alt_m": float(alt),
        **kw,
    }


def random_camp(seed: int, duration_s: float = 150.0, formation: bool = False) -> RandomCamp:
    """The camp and raid of `seed`, its swarm loose or in `formation` (see the module
    docstring)."""
    rng = np.random.default_rng([7, seed])
    origin = {
        "lat": float(rng.uniform(-40.0, 50.0)),
        "lon": float(rng.uniform(-20.0, 60.0)),
        "alt_m": float(rng.uniform(0.0, 2000.0)),
    }
    frame = LocalFrame(origin["lat"], origin["lon"], origin["alt_m"])
    perimeter = _polygon(rng, (350.0, 700.0), int(rng.integers(5, 9)), np.zeros(2))
    approach = _polygon(rng, (1500.0, 2200.0), int(rng.integers(5, 9)), np.zeros(2))
    radar_en = rng.uniform(-300.0, 300.0, 2)
    radar_range = float(rng.uniform(2500.0, 4000.0))
    sensors = [
        _sensor(
            frame,
            "radar",
            "radar",
            radar_en,
            15.0,
            max_range_m=radar_range,
            min_range_m=50.0,
            sigma_range_m=float(rng.uniform(3.0, 10.0)),
            sigma_az_deg=float(rng.uniform(0.7, 2.0)),
            sigma_el_deg=float(rng.uniform(1.0, 2.5)),
            p_detection=float(rng.uniform(0.85, 0.95)),
            update_period_s=float(rng.choice([0.5, 1.0, 1.0, 2.0])),
        )
    ]
    corners = rng.permutation(len(perimeter))
    n_rf = int(rng.integers(1, 4))
    n_cam = int(rng.integers(1, 4))
    for i in range(n_rf):
        sensors.append(
            _sensor(
                frame,
                f"rf-{i}",
                "rf",
                perimeter[corners[i % len(corners)]],
                10.0,
                max_range_m=float(rng.uniform(4000.0, 6000.0)),
                sigma_az_deg=float(rng.uniform(2.0, 5.0)),
                update_period_s=float(rng.choice([0.5, 1.0])),
            )
        )
    for i in range(n_cam):
        where = perimeter[corners[(n_rf + i) % len(corners)]]
        outward = math.degrees(math.atan2(where[0], where[1])) % 360.0
        all_round = rng.random() < 0.25
        sensors.append(
            _sensor(
                frame,
                f"cam-{i}",
                "camera",
                where,
                12.0,
                max_range_m=float(rng.uniform(1500.0, 2500.0)),
                boresight_az_deg=float((outward + rng.uniform(-30.0, 30.0)) % 360.0),
                fov_az_deg=360.0 if all_round else float(rng.uniform(60.0, 120.0)),
                fov_el_min_deg=-5.0,
                fov_el_max_deg=45.0,
                sigma_az_deg=float(rng.uniform(0.1, 0.3)),
                sigma_el_deg=float(rng.uniform(0.1, 0.3)),
                update_period_s=float(rng.choice([0.2, 0.25, 0.5])),
            )
        )
    sensors.append(_sensor(frame, "rid", "remote_id", np.zeros(2), 3.0, max_range_m=4000.0))
    config = parse_config(
        {
            "camp_id": f"random-{seed}",
            "origin": origin,
            "zones": [
                {"name": "perimeter", "level": "critical", "polygon": _latlon(frame, perimeter)},
                {"name": "approach", "level": "warning", "polygon": _latlon(frame, approach)},
            ],
            "sensors": sensors,
            "friendly": {"uas_ids": [FRIENDLY_UAS], "emitter_ids": [FRIENDLY_LINK]},
        },
        f"<random camp {seed}>",
    )
    flown, models = _real_sensors(rng, config)
    targets, swarm_ids, rf_only = _raid(rng, config, radar_en, radar_range, duration_s, formation)
    radar = flown[0]
    scenario = Scenario(
        name=f"random-{seed}",
        description="random camp",
        duration_s=duration_s,
        targets=TargetSet(targets),
        radar=radar,
        pd=models["radar"].pd,  # type: ignore[arg-type]
        clutter_per_scan=float(models["radar"].clutter_per_scan or 0.0),
        sensors=tuple(flown[1:]),
        models=models,
        seed=seed,
    )
    description = (
        f"radar {radar_range / 1000:.1f} km, {n_rf} DF, {n_cam} cam, "
        f"{sum(1 for t in targets if t.class_ == 'drone')} drones"
    )
    return RandomCamp(seed, config, scenario, swarm_ids, rf_only, description)


def _real_sensors(
    rng: np.random.Generator, config: CampConfig
) -> tuple[list[SensorConfig], dict[str, SensorModel]]:
    """The sensors as they really fly: sigmas off by up to +-50 %, other Pd and clutter."""
    off = lambda: float(rng.uniform(0.5, 1.5))  # noqa: E731
    flown: list[SensorConfig] = []
    models: dict[str, SensorModel] = {}
    for s in config.sensors:
        real = _replace_struct(s, off)
        flown.append(real)
        if s.kind == "radar":
            models[s.id] = SensorModel(
                pd=RadarEquationPd.for_sensor(real),
                clutter_per_scan=float(rng.uniform(0.0, 12.0)),
            )
        elif s.kind == "camera":
            models[s.id] = SensorModel(
                pd=RangePd(0.97, float(rng.uniform(0.5, 0.9)), real.max_range_m),
                clutter_per_scan=float(rng.uniform(0.0, 1.0)),
            )
        elif s.kind == "rf":
            models[s.id] = SensorModel(
                pd=float(rng.uniform(0.5, 0.95)), clutter_per_scan=float(rng.uniform(0.0, 0.3))
            )
    return flown, models


def _replace_struct(s: SensorConfig, off: Any) -> SensorConfig:
    return msgspec.structs.replace(
        s,
        sigma_range_m=s.sigma_range_m * off(),
        sigma_az_deg=s.sigma_az_deg * off(),
        sigma_el_deg=s.sigma_el_deg * off(),
        sigma_pos_m=s.sigma_pos_m * off(),
        sigma_alt_m=s.sigma_alt_m * off(),
        p_detection=float(min(0.99, s.p_detection * off() ** 0.25)),
    )


def _raid(
    rng: np.random.Generator,
    config: CampConfig,
    radar_en: np.ndarray,
    radar_range: float,
    duration_s: float,
    formation: bool,
) -> tuple[list[Any], tuple[str, ...], str]:
    reach = 0.85 * radar_range
    rcs = lambda: float(rng.uniform(-20.0, -5.0))  # noqa: E731
    targets: list[Any] = []
    for i in range(int(rng.integers(1, 4))):
        targets.append(
            ingress(
                f"in{i}",
                float(rng.uniform(0.0, 360.0)),
                reach * float(rng.uniform(0.8, 1.0)),
                float(rng.uniform(40.0, 200.0)),
                float(rng.uniform(12.0, 30.0)),
                overfly_m=300.0,
                rcs_dbsm=rcs(),
                t_start=float(rng.uniform(0.0, 30.0)),
            )
        )
    # A swarm of 4-6 at 30-40 m spacing, each on its own RF link; loose, each member at its
    # own speed, or in formation at the first member's.
    n = int(rng.integers(4, 7))
    spacing = float(rng.uniform(30.0, 40.0))
    bearing = float(rng.uniform(0.0, 360.0))
    lead = from_bearing(bearing, reach, 100.0)
    aim = np.array([0.0, 0.0, 100.0])
    u = (aim - lead) / np.linalg.norm(aim - lead)
    left = np.array([-u[1], u[0], 0.0]) / math.hypot(u[0], u[1])
    swarm_ids = []
    speeds: list[float] = []
    for k in range(n):
        row, col = divmod(k, 3)
        offset = (col - 1) * spacing * left - row * spacing * u
        offset[2] = float(rng.uniform(-10.0, 10.0))
        tid = f"sw{k}"
        swarm_ids.append(tid)
        speeds.append(float(rng.uniform(15.0, 22.0)))  # drawn either way: the same raid
        targets.append(
            Weave(
                target_id=tid,
                start=tuple(float(x) for x in lead + offset),  # type: ignore[arg-type]
                end=tuple(float(x) for x in aim + offset),  # type: ignore[arg-type]
                speed_mps=speeds[0] if formation else speeds[k],
                amplitude_m=3.0,
                period_s=30.0,
                phase_deg=0.0,
                rcs_dbsm=rcs(),
                rf_emitter=f"ELRS-{seed_tag(rng)}{k}",
                protocol="elrs",
                t_start=20.0,
            )
        )
    # A loiterer inside the approach zone.
    targets.append(
        Orbit(
            target_id="loiter",
            center=tuple(from_bearing(float(rng.uniform(0, 360)), 1000.0)[:2]),  # type: ignore[arg-type]
            radius_m=float(rng.uniform(100.0, 250.0)),
            alt_m=float(rng.uniform(80.0, 200.0)),
            speed_mps=float(rng.uniform(8.0, 15.0)),
            start_bearing_deg=float(rng.uniform(0, 360)),
            rcs_dbsm=rcs(),
        )
    )
    # The camp's friendly patrol, broadcasting Remote ID on a racetrack over the camp.
    targets.append(
        Racetrack(
            target_id="friend",
            center=(0.0, 0.0),
            straight_m=float(rng.uniform(200.0, 600.0)),
            radius_m=float(rng.uniform(100.0, 200.0)),
            axis_deg=float(rng.uniform(0.0, 180.0)),
            alt_m=float(rng.uniform(80.0, 150.0)),
            speed_mps=float(rng.uniform(8.0, 15.0)),
            rcs_dbsm=rcs(),
            rf_emitter=FRIENDLY_LINK,
            protocol="dji-ocusync",
            remote_id=FRIENDLY_UAS,
            operator_en=(0.0, 0.0),
        )
    )
    home = from_bearing(float(rng.uniform(0.0, 360.0)), float(rng.uniform(800.0, 1600.0)))[:2]
    targets += bird_flock(rng, int(rng.integers(3, 7)), home, 50.0, duration_s)
    # A low drone the radar cannot see (tiny RCS), 1.5-2.5 km out, on an RF link.
    targets.append(
        Orbit(
            target_id="rfonly",
            center=tuple(radar_en),  # type: ignore[arg-type]
            radius_m=float(rng.uniform(1500.0, 2500.0)),
            alt_m=float(rng.uniform(30.0, 80.0)),
            speed_mps=float(rng.uniform(5.0, 12.0)),
            start_bearing_deg=float(rng.uniform(0, 360)),
            rcs_dbsm=-45.0,
            rf_emitter="OCU-HIDDEN",
            protocol="dji-ocusync",
        )
    )
    return targets, tuple(swarm_ids), "rfonly"


def seed_tag(rng: np.random.Generator) -> str:
    return f"{int(rng.integers(0, 1 << 16)):04X}"
