"""Drills: scenario files, the library, events, scoring and `cuas drill`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import msgspec
import numpy as np
import pytest

from cuas import wire
from cuas.config import load_config
from cuas.errors import ScenarioError
from cuas.geodesy import LocalFrame
from cuas.io.recording import read_records
from simulators.benchmark_scenarios import SAMPLE_CONFIG, T0
from simulators.drill.report import write_report
from simulators.drill.runner import run_drill
from simulators.drill.score import TargetInfo, score_drill
from simulators.events import ClockSkew
from simulators.flight.recording import simulate
from simulators.scenario_builder import LIBRARY_DIR, library, load_scenario
from simulators.scenario_file import parse_scenario
from simulators.scoring import Snapshot

ORIGIN = (8.65, 24.50, 600.0)


def rect(half_e: float, half_n: float) -> list[list[float]]:
    """A rectangle about the origin as a [lat, lon] polygon."""
    frame = LocalFrame(*ORIGIN)
    e = np.array([half_e, half_e, -half_e, -half_e])
    n = np.array([half_n, -half_n, -half_n, half_n])
    lat, lon, _ = frame.to_geodetic(np.column_stack((e, n, np.zeros(4))))
    return [[float(a), float(b)] for a, b in zip(lat, lon, strict=True)]


def toml_list(rows: list[list[float]]) -> str:
    return "[" + ", ".join(f"[{a!r}, {b!r}]" for a, b in rows) + "]"


HAND_CHECKED = f"""
description = "One drone straight in from the north at 20 m/s, a perfect radar."
duration_s = 110.0
seed = 3

[camp]
camp_id = "hand"
origin = {{ lat = {ORIGIN[0]}, lon = {ORIGIN[1]}, alt_m = {ORIGIN[2]} }}

[[camp.zones]]
name = "perimeter"
level = "critical"
polygon = {toml_list(rect(300.0, 250.0))}

[[camp.zones]]
name = "approach"
level = "warning"
polygon = {toml_list(rect(1100.0, 1000.0))}

[[camp.sensors]]
id = "radar-1"
kind = "radar"
lat = {ORIGIN[0]}
lon = {ORIGIN[1]}
alt_m = {ORIGIN[2]}
max_range_m = 3000.0
sigma_range_m = 0.5
sigma_az_deg = 0.01
sigma_el_deg = 0.01
sigma_range_rate_mps = 0.1

[[sensors]]
id = "radar-1"
pd_model = "constant"
p_detection = 1.0
clutter_per_scan = 0.0

[[targets]]
type = "straight"
id = "d1"
bearing_deg = 0.0
distance_m = 2250.0
alt_m = 100.0
speed_mps = 20.0
"""


def write(tmp_path: Path, text: str, name: str = "drill.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- the library --------------------------------------------------------------------------


def test_the_library_has_at_least_eight_drills_each_saying_what_it_trains() -> None:
    drills = library()
    assert len(drills) >= 8
    assert {"single-intruder", "swarm-50"} <= set(drills)
    for path in drills.values():
        loaded = load_scenario(path)
        assert "trains" in loaded.scenario.description, path.name
        assert loaded.scenario.description.endswith("."), path.name


def test_the_library_is_found_beside_the_package() -> None:
    assert Path(__file__).resolve().parent.parent / "simulators" / "scenarios" == LIBRARY_DIR
    assert all(p.parent == LIBRARY_DIR for p in library().values())


@pytest.mark.parametrize("name", sorted(library()))
def test_every_library_drill_loads_and_runs(name: str, tmp_path: Path) -> None:
    loaded = load_scenario(library()[name])
    scenario = loaded.scenario
    hostiles = [x for x in scenario.targets if getattr(x, "side", None) in (None, "hostile")]
    assert hostiles
    # The first minute of each drill is enough to fly every sensor, target kind and most
    # events; the full runs are the closing note's (cuas drill --all).
    short = _shortened(scenario, 60.0)
    result = run_drill(short, loaded.camp, scenario.seed, tmp_path)
    assert result.replay is not None
    # Nothing a drill sends is refused, except the reports of a sensor whose clock it sets
    # ahead: the core refuses those as "future".
    skewed_ahead = any(isinstance(e, ClockSkew) and e.skew_s > 0 for e in scenario.events)
    expected = {"future"} if skewed_ahead else set()
    assert set(result.replay.rejects) == expected, result.replay.rejects
    assert result.cycles
    score = result.score
    assert len(score.hostiles) == sum(x.side == "hostile" for x in _infos(result))
    assert any(h.first_detection_s is not None for h in score.hostiles)


def _shortened(scenario, seconds: float):
    import dataclasses

    return dataclasses.replace(scenario, duration_s=min(scenario.duration_s, seconds))


def _infos(result) -> list[TargetInfo]:
    from simulators.drill.result import target_infos

    return target_infos(result.scenario, result.camp, {})


def test_the_swarm_drill_flies_fifty_drones_birds_and_a_failing_radar() -> None:
    scenario = load_scenario(library()["swarm-50"]).scenario
    drones = [x for x in scenario.targets if x.class_ == "drone"]
    birds = [x for x in scenario.targets if x.class_ == "bird"]
    assert len(drones) == 50 and birds
    assert [x.target_id for x in drones][:2] == ["s-01", "s-02"]
    assert any(
        type(e).__name__ == "SensorOutage" and e.sensor_id == "radar-1" for e in scenario.events
    )


# --- the hand-checked drill ---------------------------------------------------------------


def hand_checked_camp(camp):
    import msgspec

    return msgspec.structs.replace(
        camp, threat=msgspec.structs.replace(camp.threat, eta_medium_s=59.5)
    )


def test_a_hand_checkable_drill_scores_exactly(tmp_path: Path) -> None:
    """One drone from 2250 m north at 20 m/s, a radar with Pd 1 and no clutter, 1 s scans:

    - first detection at the first scan, 0 s;
    - confirmed by 3 of 4 scans: the cycle at 2 s;
    - crosses the perimeter (n < 250 m) at 100 s, so at cycle t it is 100 - t s away; with
      `threat.eta_medium_s` set to 59.5 s (off the whole-second cycle grid) its threat is
      `medium` from the scan at 41 s; a `medium` threat is raised once it has held on two
      updates spanning `alerts.medium_debounce_s` (2 s), so the alert (warning) is raised on
      the scan at 43 s: warning time 100 - 43 = 57 s.
    """
    loaded = load_scenario(write(tmp_path, HAND_CHECKED))
    camp = hand_checked_camp(loaded.camp)
    result = run_drill(loaded.scenario, camp, loaded.scenario.seed)
    (d1,) = result.score.hostiles
    assert d1.target_id == "d1"
    assert d1.first_detection_s == 0.0
    assert d1.first_confirmed_s == 2.0
    assert d1.first_alert_s == 43.0
    assert d1.first_alert_level == "warning"
    assert d1.perimeter_s == 100.0
    assert d1.warning_s == 57.0
    assert d1.outcome == "warned"
    summary = result.score.summary()
    assert summary["warned_before_perimeter"] == 1
    assert summary["median_warning_s"] == summary["min_warning_s"] == 57.0
    assert summary["false_alerts"] == 0 and summary["friendly_mistakes"] == 0
    assert summary["id_switches"] == 0
    # One drone, tracked to well under a metre from the third scan on: GOSPA is the 50 m of
    # each of the first two cycles (missed while tentative) plus the track's error.
    assert 100.0 / 111 < result.score.accuracy.mean_gospa < 100.0 / 111 + 1.0


# --- reproducibility ----------------------------------------------------------------------


def test_a_drill_is_reproducible_from_its_seed(tmp_path: Path) -> None:
    loaded = load_scenario(library()["birds-and-drone"])
    scenario = _shortened(loaded.scenario, 40.0)
    runs = [run_drill(scenario, loaded.camp, 11, tmp_path / f"run{i}") for i in range(2)]
    files = [(tmp_path / f"run{i}" / "recording.msgpack").read_bytes() for i in range(2)]
    replays = [(tmp_path / f"run{i}" / "replay.msgpack").read_bytes() for i in range(2)]
    assert files[0] == files[1] and replays[0] == replays[1]
    assert runs[0].score.to_dict() == runs[1].score.to_dict()
    other = run_drill(scenario, loaded.camp, 12, tmp_path / "other")
    assert (tmp_path / "other" / "recording.msgpack").read_bytes() != files[0]
    assert other.score.seed == 12


def test_the_seed_of_a_file_draws_its_random_parts() -> None:
    path = library()["swarm-50"]
    a, b = load_scenario(path), load_scenario(path)
    c = load_scenario(path, seed=99)
    rcs = [[x.rcs_dbsm for x in s.scenario.targets] for s in (a, b, c)]
    assert rcs[0] == rcs[1] != rcs[2]
    assert c.scenario.seed == 99


# --- broken files -------------------------------------------------------------------------


def broken(edit: tuple[str, str]) -> str:
    old, new = edit
    assert old in HAND_CHECKED
    return HAND_CHECKED.replace(old, new, 1)


@pytest.mark.parametrize(
    ("edit", "key", "reason"),
    [
        (("speed_mps = 20.0", "sped_mps = 20.0"), "targets[0].sped_mps", "unknown key"),
        (("speed_mps = 20.0", ""), "targets[0].speed_mps", "required key is missing"),
        (("speed_mps = 20.0", 'speed_mps = "fast"'), "targets[0].speed_mps", "Expected `float`"),
        (("speed_mps = 20.0", "speed_mps = -3.0"), "targets[0].speed_mps", ">"),
        (('type = "straight"', 'type = "zigzag"'), "targets[0].type", "targets are straight"),
        (('id = "radar-1"\npd_model', 'id = "radar-9"\npd_model'), "sensors[0].id", "radar-9"),
        (
            ("clutter_per_scan = 0.0", "clutter_per_scan = 0.0\nhears = ['elrs']"),
            "sensors[0].hears",
            "not a setting of a radar",
        ),
        (('id = "d1"', 'id = "d1"\nprotocol = "morse"'), "targets[0].protocol", "morse"),
        (("duration_s = 110.0", "duration_s = 0"), "duration_s", ">"),
        (('description = "One', 'describe = "One'), "describe", "unknown key"),
    ],
)
def test_a_broken_scenario_names_the_key(
    tmp_path: Path, edit: tuple[str, str], key: str, reason: str
) -> None:
    path = write(tmp_path, broken(edit))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.key == key
    assert reason in err.value.reason
    assert str(err.value).startswith(f"{path}: {key}: ")


def test_events_must_name_a_flown_sensor_and_make_sense(tmp_path: Path) -> None:
    text = HAND_CHECKED + '\n[[events]]\ntype = "sensor_fail"\nsensor = "cam-1"\nt_s = 5.0\n'
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, text))
    assert err.value.key == "events[0].sensor"
    text = HAND_CHECKED + (
        '\n[[events]]\ntype = "sensor_fail"\nsensor = "radar-1"\nt_s = 5.0\nuntil_s = 2.0\n'
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, text))
    assert err.value.key == "events[0].until_s"


def test_a_missing_camp_and_a_bad_embedded_camp_are_named(tmp_path: Path) -> None:
    text = re.sub(
        r"\[camp\].*?(?=\n\[\[sensors\]\])", 'camp = "nowhere.toml"\n', HAND_CHECKED, flags=re.S
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, text))
    assert err.value.key == "camp" and "nowhere.toml" in err.value.reason
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, broken(("max_range_m = 3000.0", "max_rnage_m = 3000.0"))))
    assert err.value.key == "camp.sensors[0].max_rnage_m"


def test_a_target_id_may_be_used_once_even_by_swarm_members(tmp_path: Path) -> None:
    text = HAND_CHECKED + (
        '\n[[targets]]\ntype = "swarm"\nid = "d"\nn = 3\nbearing_deg = 90.0\n'
        "distance_m = 2000.0\nspeed_mps = 20.0\n"
        '\n[[targets]]\ntype = "straight"\nid = "d-02"\nbearing_deg = 90.0\n'
        "distance_m = 2000.0\nspeed_mps = 20.0\n"
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, text))
    assert err.value.key == "targets[2].id" and "targets[1]" in err.value.reason


# --- behaviours from TOML -----------------------------------------------------------------


BEHAVIOURS = """
description = "x."
duration_s = 100.0
camp = "{camp}"

[[targets]]
type = "waypoints"
id = "w"
points = [[0.0, -1000.0, 50.0], [0.0, 0.0, 50.0], [500.0, 0.0, 80.0]]
speed_mps = 10.0

[[targets]]
type = "popup"
id = "p"
t_start_s = 40.0
bearing_deg = 90.0
speed_mps = 15.0

[[targets]]
type = "swarm"
id = "s"
n = 9
formation = "rows"
spacing_m = 50.0
bearing_deg = 0.0
distance_m = 2000.0
speed_mps = 20.0
wander_m = 0.0
rf_emitter = "ELRS-S"

[[targets]]
type = "birds"
id = "b"
n = 4
center = [500.0, 500.0]

[[targets]]
type = "racetrack"
id = "f"
side = "friendly"
straight_m = 400.0
radius_m = 100.0
speed_mps = 10.0
remote_id = "UN-PKO-0001"
"""


def test_behaviours_are_built_from_toml(tmp_path: Path) -> None:
    text = BEHAVIOURS.format(camp=SAMPLE_CONFIG)
    scenario = load_scenario(write(tmp_path, text)).scenario
    targets = {x.target_id: x for x in scenario.targets}
    w = targets["w"]
    pos, vel = w.state(np.array([0.0, 50.0, 100.0, 130.0]))
    np.testing.assert_allclose(pos[:3], [[0, -1000, 50], [0, -500, 50], [0, 0, 50]], atol=1e-9)
    assert w.t_end == pytest.approx(100.0 + np.hypot(500.0, 30.0) / 10.0)
    np.testing.assert_allclose(np.linalg.norm(vel, axis=1), 10.0)
    p = targets["p"]
    assert p.t_start == 40.0
    start, _ = p.state(40.0)
    assert start[2] == 25.0 and np.hypot(start[0], start[1]) == pytest.approx(1500.0)
    swarm = [targets[f"s-{k:02d}"] for k in range(1, 10)]
    assert [x.rf_emitter for x in swarm][:2] == ["ELRS-S-01", "ELRS-S-02"]
    starts = np.array([x.state(0.0)[0] for x in swarm])
    east = sorted({round(float(e)) for e in starts[:, 0]})
    assert east == [-50, 0, 50]  # three abreast, 50 m apart
    assert sorted({round(float(n)) for n in starts[:, 1]}) == [2000, 2050, 2100]  # rows back
    birds = [x for x in scenario.targets if x.class_ == "bird"]
    assert len(birds) == 4 and {x.side for x in birds} == {"neutral"}
    assert targets["f"].side == "friendly" and targets["f"].remote_id == "UN-PKO-0001"


# --- events in the simulation -------------------------------------------------------------


EVENTS = """
[[events]]
type = "sensor_fail"
sensor = "radar-1"
t_s = 10.0
until_s = 20.0

[[events]]
type = "clock_skew"
sensor = "cam-nw"
skew_s = 2.0
t_s = 30.0

[[events]]
type = "clutter_burst"
sensor = "radar-1"
t_s = 40.0
duration_s = 5.0
per_scan = 30.0
az_min_deg = 350.0
az_max_deg = 20.0
range_min_m = 1000.0
range_max_m = 2000.0
"""


def test_events_silence_skew_and_clutter_the_sensors(tmp_path: Path) -> None:
    text = BEHAVIOURS.format(camp=SAMPLE_CONFIG).replace("duration_s = 100.0", "duration_s = 50.0")
    loaded = load_scenario(write(tmp_path, text + EVENTS))
    camp = loaded.camp
    run = simulate(loaded.scenario, camp, seed=1)
    radar = [(t - T0, topic, p) for t, topic, p in run.records if topic.endswith(".radar-1")]
    silent = [(t, topic) for t, topic, _ in radar if 10.0 <= t < 20.0]
    assert silent == []  # neither reports nor heartbeats
    assert any(9.0 <= t < 10.0 for t, _, _ in radar) and any(20.0 <= t < 21.0 for t, _, _ in radar)
    cam = [(t - T0, p) for t, topic, p in run.records if topic == "report.cam-nw"]
    for received, report in cam:
        true_t = received - 0.15  # the camera's latency
        skew = 2.0 if true_t >= 30.0 else 0.0
        assert report.t - T0 == pytest.approx(true_t + skew, abs=1e-6)
    burst = [p for t, topic, p in radar if topic == "report.radar-1" and 40.0 <= t - 0.05 < 45.0]
    calm = [p for t, topic, p in radar if topic == "report.radar-1" and 30.0 <= t - 0.05 < 35.0]
    assert sum(len(p.detections) for p in burst) > sum(len(p.detections) for p in calm) + 100
    az = [d.az_deg for p in burst for d in p.detections if 1000.0 <= d.range_m <= 2000.0]
    assert sum(a >= 350.0 or a <= 20.0 for a in az) > 100


# --- scoring rules on a synthetic run -----------------------------------------------------


def track(track_id: int, enu: list[float], status: str = "confirmed", friendly: bool = False):
    return wire.Track(
        track_id=track_id,
        t=T0,
        status=status,
        lat=0.0,
        lon=0.0,
        alt_m=0.0,
        enu=enu,
        vel_enu=[0.0, 0.0, 0.0],
        pos_sigma_m=5.0,
        class_="drone",
        class_probs={},
        threat="none",
        sensors=["radar-1"],
        friendly=friendly,
        uas_id=None,
        t_update=T0,
    )


def alert(alert_id: str, track_id: int, t: float, state: str = "raised") -> wire.Alert:
    return wire.Alert(
        v=1,
        alert_id=alert_id,
        track_id=track_id,
        level="warning",
        state=state,
        zone="approach",
        reason="",
        t_raised=t,
        t=t,
        lat=None,
        lon=None,
        alt_m=None,
        eta_s=None,
        acknowledged_by=None,
    )


def test_scoring_names_causes_of_false_alerts_and_friendly_mistakes() -> None:
    ids = ("h", "late", "bird", "friend")
    where = {
        "h": [0, 900, 100],
        "late": [500, 0, 100],
        "bird": [-500, 0, 40],
        "friend": [0, -500, 120],
    }
    truth = [
        Snapshot(T0 + k, ids, np.array([where[i] for i in ids], float), np.zeros((4, 3)))
        for k in range(10)
    ]
    cycles = [
        wire.TrackCycle(
            v=1,
            t=T0 + k,
            tracks=[
                track(1, [0, 905, 100]),
                track(2, [500, 3, 100]),
                track(3, [-498, 0, 40]),
                track(4, [0, -502, 120], friendly=False),
                track(5, [2000, 2000, 100]),
                track(6, [0, 890, 100]),  # a duplicate of h's track
            ],
        )
        for k in range(10)
    ]
    alerts = [
        alert("a1", 1, T0 + 3),
        alert("a2", 2, T0 + 6),
        alert("a3", 3, T0 + 4),
        alert("a4", 4, T0 + 5),
        alert("a5", 5, T0 + 2),
        alert("a1", 1, T0 + 8, "cleared"),
    ]
    infos = [
        TargetInfo("h", "hostile", "drone", first_seen_s=0.5, perimeter_s=8.0),
        TargetInfo("late", "hostile", "drone", first_seen_s=1.0, perimeter_s=5.0),
        TargetInfo("bird", "neutral", "bird"),
        TargetInfo("friend", "friendly", "drone"),
    ]
    s = score_drill("synthetic", infos, truth, cycles, alerts, T0)
    h, late = s.hostiles
    assert (h.first_alert_s, h.warning_s, h.outcome, h.tracks) == (3.0, 5.0, "warned", [1, 6])
    assert (late.first_alert_s, late.warning_s, late.outcome) == (6.0, None, "late")
    causes = {a.alert_id: a.cause for a in s.false_alerts}
    assert causes == {"a3": "bird", "a4": "friendly", "a5": "clutter"}
    kinds = sorted((m.target_id, m.kind) for m in s.friendly_mistakes)
    assert kinds == [("friend", "alerted"), ("friend", "not flagged")]
    assert s.summary()["missed"] == 1 and s.summary()["warned_before_perimeter"] == 1


def test_a_hostile_never_alerted_before_crossing_is_missed() -> None:
    truth = [
        Snapshot(T0 + k, ("h",), np.array([[0.0, 0.0, 100.0]]), np.zeros((1, 3))) for k in range(5)
    ]
    cycles = [wire.TrackCycle(v=1, t=T0 + k, tracks=[]) for k in range(5)]
    s = score_drill("none", [TargetInfo("h", "hostile", "drone", None, 2.0)], truth, cycles, [], T0)
    assert s.hostiles[0].outcome == "missed"
    assert s.summary()["mean_gospa_m"] == 50.0


# --- the command line and the report ------------------------------------------------------


def cuas(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuas", *args], capture_output=True, text=True, timeout=120
    )


def test_cuas_drill_writes_a_self_contained_report_and_scores(tmp_path: Path) -> None:
    out = tmp_path / "aar"
    result = cuas("drill", "single-intruder", "--duration", "40", "--report", str(out))
    assert result.returncode == 0, result.stderr
    assert "drill single-intruder (seed 1, 40 s)" in result.stdout
    assert re.search(r"^d1\s+0\.0\s+", result.stdout, re.M)
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)  # nothing outside the file
    assert "After-action report" in page and "single-intruder" in page
    scores = json.loads((out / "score.json").read_text())
    assert scores["scenario"] == "single-intruder" and scores["seed"] == 1
    assert scores["hostiles"][0]["target_id"] == "d1"
    assert set(scores["summary"]) >= {"warned_before_perimeter", "false_alerts", "id_switches"}
    assert (out / "recording.msgpack").is_file() and (out / "replay.msgpack").is_file()


def test_cuas_drill_quiet_prints_nothing_and_a_bad_file_fails_clearly(tmp_path: Path) -> None:
    quiet = cuas(
        "drill",
        "single-intruder",
        "--duration",
        "10",
        "--quiet",
        "--score-json",
        str(tmp_path / "s.json"),
    )
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    assert json.loads((tmp_path / "s.json").read_text())["duration_s"] == 10.0
    bad = write(tmp_path, broken(("speed_mps = 20.0", "sped_mps = 20.0")))
    result = cuas("drill", str(bad))
    assert result.returncode == 2
    assert f"{bad}: targets[0].sped_mps: unknown key (misspelt?)" in result.stderr
    listing = cuas("drill", "--list")
    assert all(name in listing.stdout for name in library())


def test_the_report_renders_a_run_with_friendlies_birds_and_false_alerts(tmp_path: Path) -> None:
    loaded = load_scenario(library()["friendly-patrol"])
    result = run_drill(_shortened(loaded.scenario, 30.0), loaded.camp, 5)
    page = write_report(result, tmp_path).read_text()
    assert "Friendly mistakes" in page and "False alerts" in page


def test_a_python_library_scenario_is_a_drill_too(tmp_path: Path) -> None:
    result = cuas(
        "drill", "mixed", "--duration", "20", "--quiet", "--score-json", str(tmp_path / "s.json")
    )
    assert result.returncode == 0, result.stderr
    scores = json.loads((tmp_path / "s.json").read_text())
    assert scores["targets"]["friendly"] == 1 and scores["targets"]["neutral"] == 6


def test_parse_scenario_accepts_a_document_without_a_file() -> None:
    doc = {
        "description": "x.",
        "duration_s": 10.0,
        "camp": "c.toml",
        "targets": [{"type": "orbit", "id": "o", "radius_m": 100.0, "speed_mps": 10.0}],
    }
    spec = parse_scenario(doc)
    assert spec.targets[0].radius_m == 100.0
    with pytest.raises(ScenarioError) as err:
        parse_scenario({**doc, "targets": []})
    assert err.value.key == "targets"


def test_records_of_a_drill_replay_without_rejects(tmp_path: Path) -> None:
    loaded = load_scenario(library()["radar-failure"])
    run = simulate(_shortened(loaded.scenario, 70.0), loaded.camp, seed=7)
    truth = run.write(tmp_path / "r.msgpack")
    topics = {r.topic for r in read_records(tmp_path / "r.msgpack")}
    assert "report.radar-1" in topics and "report.rid-1" in topics
    frames = [msgspec.msgpack.decode(r.payload) for r in read_records(truth)]
    assert frames[-1]["t"] - frames[0]["t"] == pytest.approx(70.0)
    assert load_config(SAMPLE_CONFIG).camp_id == loaded.camp.camp_id


# --- live ---------------------------------------------------------------------------------


def test_a_live_drill_is_scored_from_what_the_service_published(mosquitto, tmp_path: Path) -> None:
    """The real service in-process, the sensors over ZeroMQ, scores from MQTT, at 2x."""
    import asyncio

    from support.live import live_camp

    from simulators.drill.runner import run_drill_live

    camp_path = live_camp(tmp_path, mosquitto.port, cycle_s=0.5)
    text = f"""
description = "A drone already in the approach zone crosses the perimeter from the east."
duration_s = 14.0
camp = "{camp_path}"

[[sensors]]
id = "radar-1"
clutter_per_scan = 0.5

[[targets]]
type = "straight"
id = "d1"
bearing_deg = 90.0
distance_m = 700.0
alt_m = 80.0
speed_mps = 25.0
"""
    loaded = load_scenario(write(tmp_path, text))
    result = asyncio.run(run_drill_live(loaded.scenario, loaded.camp, seed=1, speed=2.0))
    assert result.replay is None and result.time_scale == 2.0
    assert result.cycles and result.alerts  # received over MQTT
    (d1,) = result.score.hostiles
    assert d1.first_detection_s is not None and d1.first_detection_s < 1.0
    assert d1.perimeter_s == pytest.approx(350.0 / 25.0, abs=0.05)
    assert d1.first_alert_s is not None and d1.first_alert_s < d1.perimeter_s
    assert d1.outcome == "warned"
    page = write_report(result, tmp_path / "aar").read_text()
    assert "live at 2x" in page


def test_the_readme_example_drill_loads_and_flies(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = re.search(r"```toml\n(# my-drill\.toml.*?)```", readme, re.S)
    assert block is not None
    text = block.group(1).replace("../config/camp.example.toml", str(SAMPLE_CONFIG))
    path = tmp_path / "drills" / "my-drill.toml"
    path.parent.mkdir()
    path.write_text(text)
    loaded = load_scenario(path)
    kinds = {type(x).__name__ for x in loaded.scenario.targets}
    assert kinds == {"Straight", "Racetrack"}
    assert loaded.scenario.models["rf-ne"].hears == ("dji-ocusync", "elrs")
    result = run_drill(_shortened(loaded.scenario, 20.0), loaded.camp, 1)
    assert {h.target_id for h in result.score.hostiles} == {"d1", "p1"}


# --- COURAGEOUS (CWA 18150) export --------------------------------------------------------


def test_a_drill_exports_in_the_courageous_trial_format(tmp_path: Path) -> None:
    from simulators.drill.courageous import courageous_document

    loaded = load_scenario(write(tmp_path, HAND_CHECKED))
    camp = hand_checked_camp(loaded.camp)
    result = run_drill(loaded.scenario, camp, 3)
    doc = courageous_document(camp, result.reports, result.cycles, result.alerts)
    assert {
        "version",
        "vendor_name",
        "system_name",
        "static_cuas_location",
        "detection",
        "tracks",
    } <= set(doc)
    assert doc["static_cuas_location"] == {
        "lat": ORIGIN[0],
        "lon": ORIGIN[1],
        "height_amsl": ORIGIN[2],
    }
    (radar,) = doc["detection"]
    assert radar["uas_id"] is None and radar["name"] == "radar-1"
    assert len(radar["records"]) == 111  # one detection per scan, Pd 1, no clutter
    first = radar["records"][0]
    assert first["time"] == round(T0 * 1000) and first["location"]["$type"] == (
        "BearingElevationDistance"
    )
    assert first["location"]["distance"] == pytest.approx(np.hypot(2250.0, 100.0), abs=2.0)
    (track,) = doc["tracks"]
    records = track["records"]
    assert records[0]["time"] == round((T0 + 2.0) * 1000)  # firm from the cycle at 2 s
    alarm = [r["time"] for r in records if r["alarm"]["active"]]
    assert alarm[0] == round((T0 + 43.0) * 1000)  # the alert of the hand-checked drill
    numbers = [r["record_number"] for s in doc["detection"] + doc["tracks"] for r in s["records"]]
    assert len(set(numbers)) == len(numbers)
    assert {r["location"]["$type"] for r in records} == {"Position3d"}
