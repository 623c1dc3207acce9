"""`cuas replay`: the whole pipeline over recordings, as drills and benchmarks use it."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import msgpack
import pytest

from cuas import wire
from cuas.config import load_config
from cuas.io.recording import RecordingWriter, read_records
from cuas.service.replay import replay
from simulators.benchmark_scenarios import SAMPLE_CONFIG, SAMPLE_DIR, write_ncv_radar_scenario
from simulators.scoring import score_replay

SAMPLE = SAMPLE_DIR / "camp-ingress.msgpack"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory):
    """Twenty drones over two minutes, one radar at 1 Hz, Pd 0.9, four clutter plots a scan."""
    return write_ncv_radar_scenario(
        tmp_path_factory.mktemp("ncv"), n_targets=20, duration_s=120.0, seed=7
    )


def outputs(path: Path, topic: str, type_: type) -> list:
    return [wire.from_msgpack(r.payload, type_) for r in read_records(path) if r.topic == topic]


def test_replay_tracks_every_target_accurately(scenario, tmp_path: Path) -> None:
    out = tmp_path / "out.msgpack"
    summary = replay(scenario.recording, load_config(scenario.config), out, progress=False)
    assert summary.reports == scenario.scans
    assert summary.detections == scenario.detections
    assert sum(summary.rejects.values()) == 0

    cycles = outputs(out, "tracks", wire.TrackCycle)
    assert len(cycles) >= scenario.scans - 1
    # Once tracks have had time to form, the firm picture holds the twenty drones.
    firm = [sum(t.status in ("confirmed", "coasting") for t in c.tracks) for c in cycles[10:]]
    assert 18 <= sum(firm) / len(firm) <= 22

    result = score_replay(scenario.truth, out)
    # Targets spread to 3 km, where 1 deg of azimuth is 52 m of cross-range sigma (the raw plots
    # are ~60 m off in 3-D); the filtered tracks must do much better than the plots.
    assert result.mean_position_error_m < 30.0
    # GOSPA (c=100, p=1): each missed or false track costs 50; on average fewer than one of
    # each per cycle, including the births of new targets that have to be confirmed first.
    assert result.mean_missed < 50.0 and result.mean_false < 50.0
    assert result.mean_gospa < 20 * 30.0 + 100.0
    assert result.id_switches <= 2


def test_replay_is_byte_for_byte_deterministic(scenario, tmp_path: Path) -> None:
    config = load_config(scenario.config)
    replay(scenario.recording, config, tmp_path / "a.msgpack", progress=False)
    replay(scenario.recording, config, tmp_path / "b.msgpack", progress=False)
    assert (tmp_path / "a.msgpack").read_bytes() == (tmp_path / "b.msgpack").read_bytes()


def test_sample_drones_are_alerted_before_the_perimeter_then_escalated(tmp_path: Path) -> None:
    """Each inbound drone raises one alert (warning, with its eta) well before it reaches the
    perimeter, escalates to critical on crossing it, with bounded-rate updates between."""
    out = tmp_path / "out.msgpack"
    replay(SAMPLE, load_config(SAMPLE_CONFIG), out, progress=False)
    alerts = outputs(out, "alert", wire.Alert)
    by_id: dict[str, list[wire.Alert]] = {}
    for a in alerts:
        by_id.setdefault(a.alert_id, []).append(a)
    assert len(by_id) >= 3, "inbound drones must raise alerts"
    for history in by_id.values():
        assert history[0].state == "raised" and history[0].level == "warning"
        assert history[0].eta_s is not None and history[0].eta_s > 20.0
        skeleton = [a.state for a in history[1:] if a.state != "updated"]
        assert skeleton in ([], ["escalated"], ["cleared"], ["escalated", "cleared"])
        updates = [a.t for a in history if a.state == "updated"]
        assert all(b - a >= 5.0 for a, b in pairwise(updates))
    critical = [a for a in alerts if a.level == "critical" and a.state == "escalated"]
    assert len(critical) >= 3 and all(a.zone == "perimeter" for a in critical)


def _report(sensor: str, t: float, seq: int, **detection: float) -> dict:
    det = {"range_m": 1500.0, "az_deg": 45.0, "el_deg": 3.0} | detection
    return {"v": 1, "sensor_id": sensor, "seq": seq, "t": t, "kind": "radar", "detections": [det]}


def test_bad_input_is_counted_by_reason_and_never_stops_tracking(scenario, tmp_path: Path) -> None:
    """Garbage interleaved with a real scenario: every bad message counted, tracks unharmed."""
    records = list(read_records(scenario.recording))
    t_mid = 1764000000.0 + 60.0
    bad: list[tuple[str, bytes]] = [
        ("report.radar-1", b"\xc1\xc1\xc1"),  # not MessagePack
        ("report.radar-1", b""),  # empty payload
        ("report.radar-1", msgpack.packb(_report("radar-1", t_mid, 1))[:-4]),  # truncated
        ("report.radar-1", msgpack.packb(_report("radar-1", t_mid, 2, range_m=math.nan))),
        ("report.radar-1", msgpack.packb(_report("radar-1", t_mid, 3, az_deg=400.0))),
        ("report.radar-1", msgpack.packb(_report("radar-1", t_mid, 4, el_deg=math.inf))),
        ("report.radar-1", msgpack.packb({**_report("radar-1", t_mid, 5), "kind": "sonar"})),
        ("report.radar-1", msgpack.packb({**_report("radar-1", t_mid, 6), "v": 2})),
        ("report.ghost-9", msgpack.packb(_report("ghost-9", t_mid, 7))),  # unknown sensor
        ("report.radar-1", msgpack.packb(_report("radar-2", t_mid, 8))),  # topic mismatch
        (
            "report.radar-1",
            msgpack.packb(
                {**_report("radar-1", t_mid, 9), "kind": "rf", "detections": [{"az_deg": 10.0}]}
            ),
        ),  # wrong kind
        ("report.radar-1", msgpack.packb(_report("radar-1", 1764000000.0 + 5.0, 10))),  # late
        ("telemetry.radar-1", msgpack.packb({"x": 1})),  # not a sensor topic: ignored
    ]
    path = tmp_path / "dirty.msgpack"
    with RecordingWriter(path) as w:
        for i, r in enumerate(records):
            w.write(r.t_received, r.topic, r.payload)
            if i == len(records) // 2:
                for topic, payload in bad:
                    w.write(r.t_received, topic, payload)
    clean = replay(
        scenario.recording, load_config(scenario.config), tmp_path / "c.msgpack", progress=False
    )
    dirty = replay(path, load_config(scenario.config), tmp_path / "d.msgpack", progress=False)
    assert dict(dirty.rejects) == {
        "malformed": 3,
        "detection_out_of_range": 3,  # the report's one detection, alone
        "unknown_kind": 1,
        "bad_version": 1,
        "unknown_sensor": 1,
        "topic_mismatch": 1,
        "kind_mismatch": 1,
        "late": 1,
    }
    assert dirty.ignored_topics == 1  # a recording may carry other topics: skipped, counted
    assert dirty.tracks_confirmed == clean.tracks_confirmed
    # The track stream of the dirty run equals the clean one: nothing valid was lost.
    assert outputs(tmp_path / "d.msgpack", "tracks", wire.TrackCycle) == outputs(
        tmp_path / "c.msgpack", "tracks", wire.TrackCycle
    )
    health = outputs(tmp_path / "d.msgpack", "sensor", wire.SensorHealth)
    assert health[-1].rejects["detection_out_of_range"] == 3


def test_a_truncated_recording_replays_what_it_holds(scenario, tmp_path: Path) -> None:
    data = scenario.recording.read_bytes()
    cut = tmp_path / "cut.msgpack"
    cut.write_bytes(data[: len(data) // 2 + 7])
    summary = replay(cut, load_config(scenario.config), tmp_path / "o.msgpack", progress=False)
    assert summary.truncated
    assert 0 < summary.reports < scenario.scans


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuas", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_prints_a_summary_and_writes_json(tmp_path: Path) -> None:
    result = run_cli(
        "replay",
        str(SAMPLE),
        "--config",
        str(SAMPLE_CONFIG),
        "--out",
        str(tmp_path / "o.msgpack"),
        "--summary-json",
        str(tmp_path / "s.json"),
    )
    assert result.returncode == 0, result.stderr
    assert "detections/s" in result.stdout and "raised" in result.stdout
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["detections"] > 0 and summary["tracks_confirmed"] > 0


def test_cli_refuses_a_bad_config_with_file_key_and_reason(tmp_path: Path) -> None:
    bad = tmp_path / "camp.toml"
    bad.write_text(SAMPLE_CONFIG.read_text().replace("max_range_m = 3000.0", "max_range_m = -1"))
    result = run_cli(
        "replay", str(SAMPLE), "--config", str(bad), "--out", str(tmp_path / "o.msgpack")
    )
    assert result.returncode == 2
    assert f"{bad}: sensors[0].max_range_m:" in result.stderr


def test_cli_reports_a_missing_recording(tmp_path: Path) -> None:
    result = run_cli(
        "replay",
        str(tmp_path / "nope.msgpack"),
        "--config",
        str(SAMPLE_CONFIG),
        "--out",
        str(tmp_path / "o.msgpack"),
    )
    assert result.returncode == 2
    assert "no such recording" in result.stderr
