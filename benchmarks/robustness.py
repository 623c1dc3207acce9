"""Robustness benchmark: fusion on random camps that nobody tuned for.

Each camp is drawn from a seed: an irregular perimeter and approach zone at a random place on
Earth; a radar somewhere near the middle; one to three RF direction finders and one to three
cameras on the perimeter (cameras looking outwards, some all-round); a Remote ID receiver.
The camp file says what the core believes about each sensor; the simulators fly sensors
whose sigmas are off by up to +-50 %, whose detection probabilities and clutter differ, so
the core is never told the truth about its sensors. The raid: one to three inbound drones,
a swarm of four to six at 30-40 m spacing, a loiterer, a friendly patrol with Remote ID,
a flock of birds, and a low RF-emitting drone the radar cannot see, 1.5-2.5 km out.

Every camp is recorded once and replayed twice: with every sensor, and with the radar alone.
Per camp it reports GOSPA (c = 100 m, p = 1) of both, confirmed tracks on no object per cycle
by the kinds of sensor that made them, missed objects per cycle, id switches, alerts raised
on no hostile drone, the share of time the radar-hidden RF drone has a confirmed track within
300 m once two direction finders hear it, and the swarm's id switches per drone; then the
table, its medians and its worst camp.

    .venv/bin/python -m benchmarks.robustness [--camps 30] [--first 0] [--duration 150]
        [--json benchmarks/results/robustness.json] [--keep DIR]

Same seed, same camp, same raid, same figures.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from cuas import wire
from cuas.config import CampConfig, SensorConfig, parse_config
from cuas.io.recording import RecordingWriter, read_records
from cuas.service.replay import replay
from cuas.topics import RECORDED_ALERT, RECORDED_TRACKS, report_topic, status_topic
from simulators.passive import RangePd
from simulators.radar import RadarEquationPd
from simulators.run import record, truth_path
from simulators.scenario_library import Scenario
from simulators.scoring import TruthFrame, score_replay
from simulators.sensor_model import SensorModel
from simulators.targets import (
    Orbit,
    Racetrack,
    TargetSet,
    Weave,
    bird_flock,
    from_bearing,
    ingress,
)

FRIENDLY_UAS = "UN-PKO-0042"
FRIENDLY_LINK = "PKO-LINK-42"
MATCH_M = 100.0  # a track within this of an object is on it (the GOSPA cut-off)
RF_NEAR_M = 300.0


# --- the random camp ----------------------------------------------------------------------


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
    angles = np.sort(rng.uniform(0.0, 2.0 * np.pi, n))
    angles += np.linspace(0.0, 0.3, n)  # keep vertices apart
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


def random_camp(seed: int, duration_s: float = 150.0) -> RandomCamp:
    """The camp and raid of `seed` (see the module docstring)."""
    rng = np.random.default_rng([7, seed])
    origin = {
        "lat": float(rng.uniform(-40.0, 50.0)),
        "lon": float(rng.uniform(-20.0, 60.0)),
        "alt_m": float(rng.uniform(0.0, 2000.0)),
    }
    from cuas.geodesy import LocalFrame

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
    targets, swarm_ids, rf_only = _raid(rng, config, radar_en, radar_range, duration_s)
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
    import msgspec

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
    # A swarm of 4-6 at 30-40 m spacing, each on its own RF link.
    n = int(rng.integers(4, 7))
    spacing = float(rng.uniform(30.0, 40.0))
    bearing = float(rng.uniform(0.0, 360.0))
    lead = from_bearing(bearing, reach, 100.0)
    aim = np.array([0.0, 0.0, 100.0])
    u = (aim - lead) / np.linalg.norm(aim - lead)
    left = np.array([-u[1], u[0], 0.0]) / math.hypot(u[0], u[1])
    swarm_ids = []
    for k in range(n):
        row, col = divmod(k, 3)
        offset = (col - 1) * spacing * left - row * spacing * u
        offset[2] = float(rng.uniform(-10.0, 10.0))
        tid = f"sw{k}"
        swarm_ids.append(tid)
        targets.append(
            Weave(
                target_id=tid,
                start=tuple(float(x) for x in lead + offset),  # type: ignore[arg-type]
                end=tuple(float(x) for x in aim + offset),  # type: ignore[arg-type]
                speed_mps=float(rng.uniform(15.0, 22.0)),
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


# --- scoring ------------------------------------------------------------------------------


@dataclass
class CampResult:
    seed: int
    description: str
    gospa_all: float = 0.0
    gospa_radar: float = 0.0
    false_per_cycle_all: float = 0.0
    false_per_cycle_radar: float = 0.0
    # Confirmed tracks made by cameras/RF alone with no object within 300 m.
    false_passive_per_cycle: float = 0.0
    false_by_kinds: dict[str, float] = field(default_factory=dict)
    missed_all: float = 0.0
    missed_radar: float = 0.0
    id_switches_all: int = 0
    id_switches_radar: int = 0
    swarm_switches_per_drone: float = 0.0
    alerts_on_no_drone: int = 0
    alerts_on_passive_ghosts: int = 0
    rf_only_within_300m: float = math.nan
    position_error_all: float = 0.0
    position_error_radar: float = 0.0
    wall_s: float = 0.0

    @property
    def fused_better(self) -> bool:
        return self.gospa_all < self.gospa_radar


def _radar_only(recording: Path, out: Path, radar: str) -> None:
    with RecordingWriter(out) as w:
        for r in read_records(recording):
            if r.topic in (report_topic(radar), status_topic(radar)):
                w.write(r.t_received, r.topic, r.payload)


def _truth(path: Path) -> dict[float, TruthFrame]:
    return {
        round(f.t, 3): f
        for f in (wire.from_msgpack(r.payload, TruthFrame) for r in read_records(path))
    }


def _outputs(path: Path) -> tuple[list[wire.TrackCycle], list[wire.Alert]]:
    cycles, alerts = [], []
    for r in read_records(path):
        if r.topic == RECORDED_TRACKS:
            cycles.append(wire.from_msgpack(r.payload, wire.TrackCycle))
        elif r.topic == RECORDED_ALERT:
            alerts.append(wire.from_msgpack(r.payload, wire.Alert))
    return cycles, alerts


def _kinds(track: wire.Track, kinds: dict[str, str]) -> str:
    return "+".join(sorted({kinds.get(s, "?") for s in track.sensors})) or "none"


def _detail(
    camp: RandomCamp, truth: dict[float, TruthFrame], cycles: list[wire.TrackCycle]
) -> dict[str, Any]:
    """False tracks by sensor kinds, the swarm's switches, the RF-only drone's coverage."""
    kinds = {s.id: s.kind for s in camp.config.sensors}
    by_kinds: dict[str, int] = {}
    passive_false = 0
    scored = 0
    owner: dict[str, int] = {}
    swarm_switches = 0
    rf_seen = rf_near = 0
    rf_heard_from = _two_finders_hear(camp)
    t0 = cycles[0].t if cycles else 0.0
    for cycle in cycles:
        frame = truth.get(round(cycle.t, 3))
        if frame is None:
            continue
        scored += 1
        tracks = [t for t in cycle.tracks if t.status in ("confirmed", "coasting")]
        X = np.array([t.enu for t in frame.targets]).reshape(-1, 3)
        Y = np.array([t.enu for t in tracks]).reshape(-1, 3)
        D = np.linalg.norm(X[:, None] - Y[None], axis=2) if len(X) and len(Y) else None
        matched_tracks: set[int] = set()
        if D is not None:
            rows, cols = linear_sum_assignment(np.minimum(D, MATCH_M * 10))
            for i, j in zip(rows, cols, strict=True):
                if D[i, j] >= MATCH_M:
                    continue
                matched_tracks.add(j)
                tid = frame.targets[i].target_id
                if tid in camp.swarm_ids:
                    if owner.get(tid, tracks[j].track_id) != tracks[j].track_id:
                        swarm_switches += 1
                    owner[tid] = tracks[j].track_id
        for j, track in enumerate(tracks):
            nearest = float(D[:, j].min()) if D is not None else math.inf
            if j in matched_tracks or nearest < MATCH_M:
                continue
            key = _kinds(track, kinds)
            by_kinds[key] = by_kinds.get(key, 0) + 1
            # A passive track is on its object within what bearings can place (300 m).
            if not (set(key.split("+")) & {"radar", "remote_id"}) and nearest >= RF_NEAR_M:
                passive_false += 1
        rf = next((t for t in frame.targets if t.target_id == camp.rf_only_id), None)
        if rf is not None and rf_heard_from is not None and cycle.t - t0 >= rf_heard_from:
            rf_seen += 1
            if len(Y) and float(np.linalg.norm(Y - np.array(rf.enu), axis=1).min()) < RF_NEAR_M:
                rf_near += 1
    n = max(scored, 1)
    return {
        "false_by_kinds": {k: round(v / n, 3) for k, v in sorted(by_kinds.items())},
        "false_passive_per_cycle": passive_false / n,
        "swarm_switches_per_drone": swarm_switches / max(len(camp.swarm_ids), 1),
        "rf_only_within_300m": rf_near / rf_seen if rf_seen else math.nan,
    }


def _two_finders_hear(camp: RandomCamp) -> float | None:
    """Scenario time from which two direction finders can hear the RF-only drone (+10 s to
    gather bearings), or None with fewer than two finders."""
    finders = [s for s in camp.config.sensors if s.kind == "rf"]
    if len(finders) < 2:
        return None
    return 10.0


def _alerts_on_no_drone(
    camp: RandomCamp, truth: dict[float, TruthFrame], alerts: list[wire.Alert]
) -> tuple[int, int]:
    """Alerts raised where no hostile drone was within 300 m; of those, on passive ghosts."""
    frame = camp.config.local_frame()
    hostile = {
        t.target_id
        for t in camp.scenario.targets.targets
        if t.class_ == "drone" and t.target_id != "friend"
    }
    times = np.array(sorted(truth))
    bad = 0
    for a in alerts:
        if a.state != "raised" or a.lat is None or a.track_id is None:
            continue
        pos = frame.to_enu(a.lat, a.lon, a.alt_m).reshape(3)
        t = times[np.argmin(np.abs(times - a.t))]
        near = [
            np.linalg.norm(np.array(x.enu) - pos)
            for x in truth[float(t)].targets
            if x.target_id in hostile
        ]
        if not near or min(near) > RF_NEAR_M:
            bad += 1
    return bad, 0


def run_camp(camp: RandomCamp, work: Path) -> CampResult:
    started = time.perf_counter()
    rec = work / f"camp-{camp.seed}.msgpack"
    record(camp.scenario, camp.config, rec, seed=camp.seed)
    truth_file = Path(truth_path(rec))
    radar_rec = work / f"camp-{camp.seed}.radar.msgpack"
    _radar_only(rec, radar_rec, camp.scenario.radar.id)
    result = CampResult(camp.seed, camp.description)
    truth = _truth(truth_file)
    for name, recording in (("all", rec), ("radar", radar_rec)):
        out = work / f"camp-{camp.seed}.{name}.out.msgpack"
        replay(recording, camp.config, out, progress=False)
        s = score_replay(truth_file, out)
        cycles, alerts = _outputs(out)
        setattr(result, f"gospa_{name}", round(s.mean_gospa, 1))
        setattr(result, f"false_per_cycle_{name}", round(s.mean_false, 2))
        setattr(result, f"missed_{name}", round(s.mean_missed, 2))
        setattr(result, f"id_switches_{name}", s.id_switches)
        setattr(result, f"position_error_{name}", round(s.mean_position_error_m, 1))
        if name == "all":
            for key, value in _detail(camp, truth, cycles).items():
                setattr(result, key, value)
            result.alerts_on_no_drone, result.alerts_on_passive_ghosts = _alerts_on_no_drone(
                camp, truth, alerts
            )
    result.wall_s = round(time.perf_counter() - started, 1)
    return result


# --- the table ----------------------------------------------------------------------------


def render(results: list[CampResult]) -> str:
    head = (
        f"{'camp':>5} {'GOSPA all':>9} {'radar':>7} {'better':>6} {'false/cyc':>9} "
        f"{'passive':>7} {'missed':>6} {'ids':>4} {'swarm':>5} {'RF<300':>6} {'bad al':>6}  "
        "camp"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        rf = "  -   " if math.isnan(r.rf_only_within_300m) else f"{r.rf_only_within_300m:6.0%}"
        lines.append(
            f"{r.seed:>5} {r.gospa_all:9.1f} {r.gospa_radar:7.1f} "
            f"{'yes' if r.fused_better else 'NO':>6} {r.false_per_cycle_all:9.2f} "
            f"{r.false_passive_per_cycle:7.2f} {r.missed_all:6.2f} {r.id_switches_all:4d} "
            f"{r.swarm_switches_per_drone:5.1f} {rf} {r.alerts_on_no_drone:6d}  {r.description}"
        )
    rf_values = [r.rf_only_within_300m for r in results if not math.isnan(r.rf_only_within_300m)]
    worst = max(results, key=lambda r: r.gospa_all - r.gospa_radar)
    lines += [
        "",
        f"camps where all sensors beat radar alone: "
        f"{sum(r.fused_better for r in results)}/{len(results)}",
        f"median GOSPA all {statistics.median(r.gospa_all for r in results):.1f}, "
        f"radar alone {statistics.median(r.gospa_radar for r in results):.1f}",
        f"confirmed tracks on no object from cameras/DFs alone: "
        f"{statistics.mean(r.false_passive_per_cycle for r in results):.3f} per cycle (mean)",
        f"alerts on no hostile drone: {sum(r.alerts_on_no_drone for r in results)}",
        f"RF-only drone within 300 m: median {statistics.median(rf_values):.0%}, "
        f"worst {min(rf_values):.0%}"
        if rf_values
        else "RF-only drone: no camp with two direction finders",
        f"swarm id switches per drone: max {max(r.swarm_switches_per_drone for r in results):.1f}",
        f"worst camp (all minus radar GOSPA): {worst.seed} "
        f"({worst.gospa_all:.1f} vs {worst.gospa_radar:.1f}; {worst.description})",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--camps", type=int, default=30)
    parser.add_argument("--first", type=int, default=0, help="seed of the first camp")
    parser.add_argument("--duration", type=float, default=150.0)
    parser.add_argument("--json", default="benchmarks/results/robustness.json")
    parser.add_argument("--keep", help="keep recordings and outputs in this folder")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.keep) if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for seed in range(args.first, args.first + args.camps):
            camp = random_camp(seed, args.duration)
            r = run_camp(camp, work)
            results.append(r)
            print(json.dumps(asdict(r)), file=sys.stderr, flush=True)
    print(render(results))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
