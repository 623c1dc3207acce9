"""Scenario files: a camp config, a sensor recording and a truth recording, written together.

`write_ncv_radar_scenario` builds the tracking benchmark (N random drones, one radar, clutter);
`write_sample_recording` builds the small scripted demo bundled in `simulators/recordings/`.
Both write recordings exactly as live sensors would be captured: one `report.<id>` record per
scan (received 50 ms after the measurement time) and a `status.<id>` heartbeat every second.

    python -m simulators.benchmark_scenarios --targets 50 --duration 200 --seed 1 --out /tmp/n50
    python -m simulators.benchmark_scenarios --sample
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cuas.config import CampConfig, load_config, parse_config
from cuas.config import dump_config as dump_camp_config
from cuas.geodesy import LocalFrame
from cuas.io.recording import RecordingWriter
from cuas.topics import report_topic, status_topic
from cuas.wire import VERSION, Status
from simulators.radar import SimulatedRadar
from simulators.scoring import TRUTH_TOPIC, Snapshot, read_truth
from simulators.targets.benchmark import NcvSwarm, WaypointPath, scripted_snapshot, to_truth_frame

T0 = 1764000000.0
RECEIVE_DELAY_S = 0.05
HEARTBEAT_PERIOD_S = 1.0
ORIGIN = {"lat": 8.65, "lon": 24.50, "alt_m": 600.0}
REPO = Path(__file__).resolve().parent.parent
SAMPLE_DIR = Path(__file__).resolve().parent / "recordings"
SAMPLE_CONFIG = REPO / "config" / "camp.example.toml"

__all__ = [
    "ScenarioFiles",
    "benchmark_camp",
    "read_truth",
    "write_ncv_radar_scenario",
    "write_sample_recording",
    "write_scenario",
]


@dataclass(frozen=True)
class ScenarioFiles:
    """What a scenario wrote, and how big it is."""

    config: Path
    recording: Path
    truth: Path
    scans: int
    detections: int
    target_detections: int  # detections of true targets (the rest is clutter)
    targets_born: int


def _rect(frame: LocalFrame, half_e: float, half_n: float) -> list[list[float]]:
    """A rectangle centred on the camp origin as a [lat, lon] polygon."""
    corners = np.array([[half_e, half_n, 0], [half_e, -half_n, 0], [-half_e, -half_n, 0]])
    corners = np.vstack((corners, [-half_e, half_n, 0]))
    lat, lon, _ = frame.to_geodetic(corners)
    return [[round(float(a), 7), round(float(b), 7)] for a, b in zip(lat, lon, strict=True)]


def benchmark_camp(p_detection: float = 0.9) -> CampConfig:
    """The benchmark camp: one radar at the origin, a 700 x 500 m perimeter, an approach zone."""
    frame = LocalFrame(ORIGIN["lat"], ORIGIN["lon"], ORIGIN["alt_m"])
    doc = {
        "camp_id": "bench",
        "origin": dict(ORIGIN),
        "zones": [
            {"name": "perimeter", "level": "critical", "polygon": _rect(frame, 350.0, 250.0)},
            {"name": "approach", "level": "warning", "polygon": _rect(frame, 1100.0, 1000.0)},
        ],
        "sensors": [
            {
                "id": "radar-1",
                "kind": "radar",
                "lat": ORIGIN["lat"],
                "lon": ORIGIN["lon"],
                "alt_m": ORIGIN["alt_m"],
                "max_range_m": 3000.0,
                "min_range_m": 50.0,
                "sigma_range_m": 5.0,
                "sigma_az_deg": 1.0,
                "sigma_el_deg": 1.5,
                "sigma_range_rate_mps": 0.5,
                "update_period_s": 1.0,
                # The config demands 0 < p < 1; the simulator itself may use any p.
                "p_detection": min(max(p_detection, 0.01), 0.99),
            }
        ],
    }
    return parse_config(doc, "<benchmark camp>")


def write_scenario(
    recording: Path,
    truth_path: Path,
    radar: SimulatedRadar,
    truth_at: Callable[[float], Snapshot],
    n_scans: int,
    scan_period_s: float,
    t0: float = T0,
) -> tuple[int, int]:
    """Scan `truth_at(t)` every `scan_period_s` and write the radar and truth recordings.

    `truth_at` is called once per scan, in time order, so it may advance a simulation.
    Returns (all detections, detections of true targets).
    """
    topic, status = report_topic(radar.sensor.id), status_topic(radar.sensor.id)
    n_beats = math.ceil(n_scans * scan_period_s / HEARTBEAT_PERIOD_S)
    beats = [t0 + k * HEARTBEAT_PERIOD_S for k in range(n_beats)]
    detections = from_targets = 0
    with RecordingWriter(recording) as out, RecordingWriter(truth_path) as truth_out:
        next_beat = 0
        for i in range(n_scans):
            t = t0 + i * scan_period_s
            received = t + RECEIVE_DELAY_S
            while next_beat < n_beats and beats[next_beat] <= received:
                tb = beats[next_beat]
                out.write(
                    tb, status, Status(v=VERSION, sensor_id=radar.sensor.id, t=tb, state="ok")
                )
                next_beat += 1
            snap = truth_at(t)
            scan = radar.measure(
                t, snap.enu, snap.vel if snap.vel is not None else np.zeros_like(snap.enu)
            )
            detections += len(scan)
            from_targets += int(np.count_nonzero(scan.truth_index >= 0))
            out.write(received, topic, radar.report(scan))
            truth_out.write(t, TRUTH_TOPIC, to_truth_frame(snap))
        for tb in beats[next_beat:]:
            out.write(tb, status, Status(v=VERSION, sensor_id=radar.sensor.id, t=tb, state="ok"))
    return detections, from_targets


def write_ncv_radar_scenario(
    directory: str | Path,
    n_targets: int,
    duration_s: float = 200.0,
    seed: int = 0,
    scan_period_s: float = 1.0,
    clutter_per_scan: float = 4.0,
    p_detection: float = 0.9,
) -> ScenarioFiles:
    """Write the tracking benchmark: `camp.toml`, `scenario.msgpack`, `scenario.truth.msgpack`.

    N nearly-constant-velocity drones always in the air within 3 km of one radar, seen at
    `scan_period_s` with probability `p_detection`, plus Poisson clutter. Same seed, same files.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    camp = benchmark_camp(p_detection)
    config_path = directory / "camp.toml"
    config_path.write_text(dump_camp_config(camp))
    camp = load_config(config_path)  # what the tracker will read, not what we meant to write
    rng = np.random.default_rng(seed)
    frame = camp.local_frame()
    sensor = camp.sensors[0]
    radar = SimulatedRadar.from_camp(
        sensor, frame, rng, p_detection=p_detection, clutter_per_scan=clutter_per_scan
    )
    swarm = NcvSwarm(n_targets, rng, center=radar.frame.position)
    last = [T0]

    def truth_at(t: float) -> Snapshot:
        if t > last[0]:
            swarm.step(t - last[0])
            last[0] = t
        return swarm.snapshot(t)

    n_scans = round(duration_s / scan_period_s)
    recording, truth = directory / "scenario.msgpack", directory / "scenario.truth.msgpack"
    dets, hits = write_scenario(recording, truth, radar, truth_at, n_scans, scan_period_s)
    return ScenarioFiles(config_path, recording, truth, n_scans, dets, hits, swarm.born)


# --- the bundled demo recording -----------------------------------------------------


def _from_bearing(bearing_deg: float, dist_m: float, up_m: float) -> tuple[float, float, float]:
    """An ENU point at a true-north bearing and horizontal distance from the camp origin."""
    b = math.radians(bearing_deg)
    return (dist_m * math.sin(b), dist_m * math.cos(b), up_m)


SAMPLE_PATHS: Sequence[WaypointPath] = (
    # Straight through the camp from the north-east, out the far side.
    WaypointPath("t0001", 0.0, [_from_bearing(35, 2800, 120), _from_bearing(215, 600, 120)], 26.0),
    # From the south-south-east, ending over the camp.
    WaypointPath("t0002", 5.0, [_from_bearing(160, 2600, 80), (60.0, -40.0, 80.0)], 22.0),
    # Fast and low from the west, across the camp.
    WaypointPath("t0003", 0.0, [_from_bearing(280, 2900, 60), _from_bearing(100, 700, 60)], 30.0),
    # Appears late in the east and pushes into the approach zone.
    WaypointPath(
        "t0004", 40.0, [_from_bearing(100, 2900, 250), _from_bearing(100, 500, 250)], 24.0
    ),
    # Passing wide to the north, high.
    WaypointPath("t0005", 0.0, [(-2000.0, 1700.0, 200.0), (2500.0, 1400.0, 200.0)], 20.0),
    # Passing wide to the south-east.
    WaypointPath("t0006", 0.0, [(2600.0, -600.0, 150.0), (600.0, -2700.0, 150.0)], 16.0),
)


def write_sample_recording(
    out_dir: str | Path = SAMPLE_DIR,
    config_path: str | Path = SAMPLE_CONFIG,
    duration_s: float = 120.0,
    seed: int = 7,
) -> ScenarioFiles:
    """Write `camp-ingress.msgpack` (+ `.truth.msgpack`) for the example camp.

    Radar `radar-1` only; four drones fly in from 2.5-3 km toward and across the perimeter
    (zone alerts fire), two pass wide, and the radar sees clutter.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    camp = load_config(config_path)
    sensor = camp.sensor("radar-1")
    if sensor is None:
        raise ValueError(f"{config_path}: no sensor radar-1")
    frame = camp.local_frame()
    radar = SimulatedRadar.from_camp(sensor, frame, np.random.default_rng(seed))
    period = sensor.update_period_s
    n_scans = round(duration_s / period)
    recording = out_dir / "camp-ingress.msgpack"
    truth = out_dir / "camp-ingress.truth.msgpack"

    def truth_at(t: float) -> Snapshot:
        snap = scripted_snapshot(SAMPLE_PATHS, t - T0)
        return Snapshot(t, snap.ids, snap.enu, snap.vel)

    dets, hits = write_scenario(recording, truth, radar, truth_at, n_scans, period)
    return ScenarioFiles(
        Path(config_path), recording, truth, n_scans, dets, hits, len(SAMPLE_PATHS)
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: write a benchmark scenario, or the bundled sample recording."""
    ap = argparse.ArgumentParser(
        prog="python -m simulators.benchmark_scenarios", description=__doc__.split("\n")[0]
    )
    ap.add_argument(
        "--sample", action="store_true", help="write simulators/recordings/camp-ingress"
    )
    ap.add_argument("--targets", type=int, default=10, help="drones always in the air")
    ap.add_argument("--duration", type=float, default=200.0, help="seconds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scan-period", type=float, default=1.0, help="seconds")
    ap.add_argument("--clutter", type=float, default=4.0, help="mean false detections per scan")
    ap.add_argument("--pd", type=float, default=0.9, help="probability of detection")
    ap.add_argument("--out", type=Path, help="output directory")
    args = ap.parse_args(argv)
    if args.sample:
        files = write_sample_recording(args.out or SAMPLE_DIR)
    else:
        if args.out is None:
            ap.error("--out is required (or --sample)")
        files = write_ncv_radar_scenario(
            args.out,
            args.targets,
            args.duration,
            args.seed,
            args.scan_period,
            args.clutter,
            args.pd,
        )
    print(
        f"{files.recording} ({files.recording.stat().st_size / 1e6:.2f} MB): {files.scans} scans, "
        f"{files.detections} detections ({files.target_detections} of targets), "
        f"{files.targets_born} targets; truth {files.truth}; config {files.config}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
