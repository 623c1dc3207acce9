"""Specification tests for the camp configuration loader (DESIGN.md, "Camp configuration").

Every bad file must be refused with the file, the key path and the reason; every setting
has a default; `dump_config` output parses back to the same configuration.
"""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cuas.config import CampConfig, ConfigError, dump_config, load_config, parse_config

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "camp.example.toml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")
MINIMAL = 'camp_id = "alpha"\norigin = { lat = 8.65, lon = 24.50, alt_m = 600.0 }\n'
SQUARE = "[[8.651, 24.499], [8.651, 24.501], [8.649, 24.501], [8.649, 24.499]]"
RADAR = '[[sensors]]\nid = "radar-1"\nkind = "radar"\nlat = 8.65\nlon = 24.5\n'

# The example block of DESIGN.md, verbatim apart from the elided approach polygon.
DESIGN_EXAMPLE = """
camp_id = "alpha"
origin = { lat = 8.65, lon = 24.50, alt_m = 600.0 }

[mqtt]                       # defaults shown
host = "127.0.0.1"
port = 1883                  # prefix defaults to "cuas/<camp_id>"

[zmq]
ingest = "tcp://127.0.0.1:5555"
tracks = "tcp://127.0.0.1:5556"

[[zones]]                    # the first zone named "perimeter" is the camp's boundary
name = "perimeter"
level = "critical"           # alert level for a hostile track inside
polygon = [[8.6518, 24.4972], [8.6518, 24.5028], [8.6482, 24.5028], [8.6482, 24.4972]]
ceiling_m = 1500             # optional; metres above the origin

[[zones]]
name = "approach"
level = "warning"
polygon = [[8.6590, 24.4900], [8.6590, 24.5100], [8.6410, 24.5100], [8.6410, 24.4900]]

[[sensors]]
id = "radar-1"
kind = "radar"               # radar | rf | camera | remote_id
lat = 8.6500
lon = 24.5000
alt_m = 612.0
max_range_m = 3000
sigma_range_m = 5.0
sigma_az_deg = 1.0
sigma_el_deg = 1.5

[friendly]
uas_ids = ["UN-PKO-0001"]
emitter_ids = []
"""


def write(tmp_path: Path, text: str | bytes, name: str = "camp.toml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    assert err.file == str(path)
    assert str(path) in str(err) and err.key in str(err) and err.reason in str(err)
    assert isinstance(err, ValueError)
    return err


def example_with(old: str, new: str) -> str:
    """The example camp with the first occurrence of `old` replaced."""
    assert old in EXAMPLE_TEXT, old
    return EXAMPLE_TEXT.replace(old, new, 1)


# --- the worked example and the defaults ------------------------------------------------


def test_example_config_loads() -> None:
    cfg = load_config(EXAMPLE)
    assert isinstance(cfg, CampConfig)
    assert cfg.camp_id == "alpha"
    assert (cfg.origin.lat, cfg.origin.lon, cfg.origin.alt_m) == (8.65, 24.50, 600.0)
    assert cfg.mqtt.host == "127.0.0.1"
    assert cfg.mqtt.port == 1883
    assert cfg.mqtt_prefix == "cuas/alpha"
    assert cfg.zmq.ingest == "tcp://127.0.0.1:5555"
    assert cfg.zmq.tracks == "tcp://127.0.0.1:5556"
    assert [s.id for s in cfg.sensors] == ["radar-1", "rf-ne", "rf-sw", "cam-nw", "cam-se", "rid-1"]
    assert [s.kind for s in cfg.sensors] == ["radar", "rf", "rf", "camera", "camera", "remote_id"]
    assert cfg.friendly.uas_ids == ["UN-PKO-0001", "UN-PKO-0002"]
    assert cfg.friendly.emitter_ids == ["PKO-LINK-7"]


def test_example_perimeter_is_the_first_zone_named_perimeter() -> None:
    cfg = load_config(EXAMPLE)
    perimeter = cfg.perimeter
    assert perimeter is not None
    assert perimeter is cfg.zones[0]
    assert perimeter.name == "perimeter"
    assert perimeter.level == "critical"
    assert perimeter.ceiling_m == 1500.0
    assert [tuple(p) for p in perimeter.polygon] == [
        (8.65226, 24.49682),
        (8.65226, 24.50318),
        (8.64774, 24.50318),
        (8.64774, 24.49682),
    ]
    assert cfg.zones[1].name == "approach"
    assert cfg.zones[1].level == "warning"


def test_example_sensor_details() -> None:
    cfg = load_config(EXAMPLE)
    radar = cfg.sensor("radar-1")
    assert radar is not None
    assert (radar.lat, radar.lon, radar.alt_m) == (8.65, 24.5, 615.0)
    assert (radar.max_range_m, radar.min_range_m) == (3000.0, 50.0)
    assert (radar.sigma_range_m, radar.sigma_az_deg, radar.sigma_el_deg) == (5.0, 1.0, 1.5)
    cam = cfg.sensor("cam-nw")
    assert cam is not None
    assert (cam.boresight_az_deg, cam.fov_az_deg) == (315.0, 120.0)
    assert (cam.fov_el_min_deg, cam.fov_el_max_deg) == (-5.0, 45.0)
    assert cfg.sensor("no-such-sensor") is None


def test_example_tracker_settings() -> None:
    t = load_config(EXAMPLE).tracker
    assert (t.reorder_window_s, t.cycle_period_s) == (0.5, 1.0)
    assert (t.confirm_m, t.confirm_n) == (3, 4)
    assert (t.coast_after_s, t.delete_after_s) == (2.5, 8.0)
    assert (t.passive_height_m, t.passive_height_sigma_m) == (100.0, 150.0)


def test_design_doc_example_is_accepted(tmp_path: Path) -> None:
    """The snippet in DESIGN.md (with integers where floats are meant) must load."""
    cfg = load_config(write(tmp_path, DESIGN_EXAMPLE))
    assert cfg.sensors[0].max_range_m == 3000.0
    assert cfg.zones[0].ceiling_m == 1500.0
    assert cfg.zones[1].ceiling_m is None
    assert cfg.perimeter is not None and cfg.perimeter.name == "perimeter"
    assert cfg.friendly.emitter_ids == []


def test_minimal_config_gets_every_default(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL))
    assert cfg.mqtt.host == "127.0.0.1"
    assert cfg.mqtt.port == 1883
    assert cfg.mqtt.prefix is None
    assert cfg.mqtt_prefix == "cuas/alpha"
    assert cfg.zmq.ingest == "tcp://127.0.0.1:5555"
    assert cfg.zmq.tracks == "tcp://127.0.0.1:5556"
    assert cfg.zones == [] and cfg.perimeter is None
    assert cfg.sensors == []
    assert cfg.friendly.uas_ids == [] and cfg.friendly.emitter_ids == []
    t = cfg.tracker
    assert (t.reorder_window_s, t.cycle_period_s) == (0.5, 1.0)
    assert (t.confirm_m, t.confirm_n) == (3, 4)
    assert (t.coast_after_s, t.delete_after_s) == (2.5, 8.0)
    assert 0.9 <= t.gate_probability < 1.0
    a = cfg.alerts
    assert (a.raise_threat, a.debounce_updates, a.debounce_s) == ("medium", 2, 0.5)
    assert a.clear_cycles == 5
    assert (a.update_period_s, a.clear_margin_m) == (5.0, 50.0)
    assert (a.restore_grace_s, a.restore_radius_m) == (20.0, 500.0)
    assert a.sensor_alerts and a.journal is None and a.retention_days == 30.0
    assert t.max_tracks == 2000 and cfg.zmq.intake_rate_factor == 5.0
    th = cfg.threat
    assert (th.eta_high_s, th.eta_medium_s, th.min_closing_mps) == (30.0, 60.0, 3.0)
    assert th.benign_confidence == 0.6


def test_sensor_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL + RADAR))
    s = cfg.sensors[0]
    assert s.alt_m == 0.0
    assert s.max_range_m > s.min_range_m >= 0.0
    assert s.fov_az_deg == 360.0
    assert s.fov_el_min_deg < s.fov_el_max_deg
    assert s.sigma_range_m > 0 and s.sigma_az_deg > 0 and s.sigma_el_deg > 0
    assert 0.0 < s.p_detection < 1.0


def test_origin_altitude_defaults_to_zero(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, 'camp_id = "b"\norigin = { lat = 1.0, lon = 2.0 }\n'))
    assert cfg.origin.alt_m == 0.0
    assert cfg.mqtt_prefix == "cuas/b"


def test_explicit_mqtt_prefix(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL + '[mqtt]\nprefix = "ops/alpha/"\n'))
    assert cfg.mqtt_prefix == "ops/alpha"


def test_perimeter_is_the_first_zone_of_that_name_wherever_it_is(tmp_path: Path) -> None:
    text = MINIMAL + "".join(
        f'[[zones]]\nname = "{name}"\npolygon = {SQUARE}\n' for name in ("outer", "perimeter")
    )
    cfg = load_config(write(tmp_path, text))
    assert cfg.perimeter is cfg.zones[1]


# --- dump_config round trip -------------------------------------------------------------


def test_dump_config_round_trips_the_example(tmp_path: Path) -> None:
    cfg = load_config(EXAMPLE)
    text = dump_config(cfg)
    assert parse_config(tomllib.loads(text)) == cfg
    assert load_config(write(tmp_path, text)) == cfg


def test_dump_config_round_trips_optional_settings(tmp_path: Path) -> None:
    text = MINIMAL + (
        '[mqtt]\nprefix = "x/y"\nusername = "op"\npassword = "p\\"w\\\\d"\n'
        f'[[zones]]\nname = "z"\npolygon = {SQUARE}\nfloor_m = -5.5\nceiling_m = 1e4\n'
    )
    cfg = load_config(write(tmp_path, text))
    assert cfg.mqtt.password == 'p"w\\d'
    assert parse_config(tomllib.loads(dump_config(cfg))) == cfg


def test_dump_config_escapes_control_characters() -> None:
    """A password or id with a newline or other control character must survive a dump."""
    cfg = load_config(EXAMPLE)
    cfg = msgspec.structs.replace(
        cfg,
        mqtt=msgspec.structs.replace(cfg.mqtt, password="line1\nline2\r\x00\x7f"),
        friendly=msgspec.structs.replace(cfg.friendly, uas_ids=["UN\x1bPKO"]),
    )
    assert parse_config(tomllib.loads(dump_config(cfg))) == cfg


_chars = st.characters(exclude_categories=("Cs",))
free_text = st.text(_chars, max_size=30)
ids = st.text(_chars, min_size=1, max_size=30)
lats = st.floats(-90.0, 90.0, allow_nan=False)
lons = st.floats(-180.0, 180.0, allow_nan=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    host=free_text,
    username=st.none() | free_text,
    password=st.none() | free_text,
    prefix=st.none() | free_text.filter(lambda p: p.rstrip("/") and not set(p) & set("+#")),
    ingest=free_text,
    uas_ids=st.lists(ids, max_size=3),
    emitter_ids=st.lists(ids, max_size=3),
    lat=lats,
    lon=lons,
)
def test_dump_config_round_trips_any_values(
    host: str,
    username: str | None,
    password: str | None,
    prefix: str | None,
    ingest: str,
    uas_ids: list[str],
    emitter_ids: list[str],
    lat: float,
    lon: float,
) -> None:
    base = load_config(EXAMPLE)
    sensors = [msgspec.structs.replace(base.sensors[0], lat=lat, lon=lon), *base.sensors[1:]]
    cfg = msgspec.structs.replace(
        base,
        mqtt=msgspec.structs.replace(
            base.mqtt, host=host, username=username, password=password, prefix=prefix
        ),
        zmq=msgspec.structs.replace(base.zmq, ingest=ingest),
        friendly=msgspec.structs.replace(base.friendly, uas_ids=uas_ids, emitter_ids=emitter_ids),
        sensors=sensors,
    )
    assert parse_config(tomllib.loads(dump_config(cfg))) == cfg


# --- bad files are refused with file, key and reason ------------------------------------

BAD_FILES: list[tuple[str, str, str, str]] = [
    # (id, file text, expected key, fragment of the reason, case-insensitive)
    ("misspelt-sensor-key", example_with("sigma_range_m = 5.0", "sigma_rnage_m = 5.0"),
     "sensors[0].sigma_rnage_m", "unknown"),
    ("misspelt-in-later-sensor", example_with("sigma_az_deg = 0.2", "sigma_az = 0.2"),
     "sensors[3].sigma_az", "unknown"),
    ("misspelt-table", MINIMAL + "[trakcer]\nconfirm_m = 3\n", "trakcer", "unknown"),
    ("misspelt-tracker-key", example_with("confirm_m = 3", "confirm_mm = 3"),
     "tracker.confirm_mm", "unknown"),
    ("misspelt-origin-key", example_with("alt_m = 600.0 }", "altm = 600.0 }"), "origin.altm",
     "unknown"),
    ("misspelt-zone-key", example_with("ceiling_m = 1500.0\n\n[[sensors]]",
     "cieling_m = 1500.0\n\n[[sensors]]"), "zones[1].cieling_m", "unknown"),
    ("misspelt-top-level", MINIMAL + "camp_name = 'x'\n", "camp_name", "unknown"),
    ("no-camp_id", MINIMAL.replace('camp_id = "alpha"\n', ""), "camp_id", "missing"),
    ("no-origin", 'camp_id = "alpha"\n', "origin", "missing"),
    ("no-origin-lat", 'camp_id = "a"\norigin = { lon = 24.5 }\n', "origin.lat", "missing"),
    ("no-sensor-lat", example_with("lat = 8.64774\n", ""), "sensors[2].lat", "missing"),
    ("no-sensor-kind", MINIMAL + RADAR.replace('kind = "radar"\n', ""), "sensors[0].kind",
     "missing"),
    ("no-zone-polygon", MINIMAL + '[[zones]]\nname = "z"\n', "zones[0].polygon", "missing"),
    ("port-str", example_with("port = 1883", 'port = "1883"'), "mqtt.port", "str"),
    ("port-bool", example_with("port = 1883", "port = true"), "mqtt.port", "bool"),
    ("port-float", example_with("port = 1883", "port = 1883.0"), "mqtt.port", "float"),
    ("lat-str", example_with("lat = 8.6500", 'lat = "8.6500"'), "sensors[0].lat", "str"),
    ("mqtt-not-table", MINIMAL.replace("origin", "mqtt = 5\norigin"), "mqtt", "object"),
    ("sensors-not-array", MINIMAL + "[sensors]\nid = 'x'\n", "sensors", "array"),
    ("uas_ids-str", example_with('uas_ids = ["UN-PKO-0001", "UN-PKO-0002"]', 'uas_ids = "UN"'),
     "friendly.uas_ids", "array"),
    ("confirm_m-float", example_with("confirm_m = 3", "confirm_m = 3.5"), "tracker.confirm_m",
     "float"),
    ("camp_id-int", MINIMAL.replace('"alpha"', "7"), "camp_id", "str"),
    ("polygon-point-3d", MINIMAL + f'[[zones]]\nname = "z"\npolygon = {SQUARE[:-1]}, [1,2,3]]\n',
     "zones[0].polygon[4]", "length"),
    ("port-70000", example_with("port = 1883", "port = 70000"), "mqtt.port", "65535"),
    ("port-0", example_with("port = 1883", "port = 0"), "mqtt.port", ">= 1"),
    ("lat-91", example_with("lat = 8.6500", "lat = 91.0"), "sensors[0].lat", "90"),
    ("origin-lon-181", MINIMAL.replace("24.50", "181.0"), "origin.lon", "180"),
    ("origin-lat-nan", MINIMAL.replace("8.65", "nan"), "origin.lat", ""),
    ("origin-alt-inf", MINIMAL.replace("600.0", "inf"), "origin.alt_m", ""),
    ("sigma-zero", example_with("sigma_az_deg = 1.0", "sigma_az_deg = 0.0"),
     "sensors[0].sigma_az_deg", "> 0"),
    ("max-range-negative", example_with("max_range_m = 3000.0", "max_range_m = -3000.0"),
     "sensors[0].max_range_m", "> 0"),
    ("p_detection-1", example_with("p_detection = 0.9", "p_detection = 1.0"),
     "sensors[0].p_detection", "< 1"),
    ("confirm_m-0", example_with("confirm_m = 3", "confirm_m = 0"), "tracker.confirm_m", ">= 1"),
    ("kind-lidar", example_with('kind = "radar"', 'kind = "lidar"'), "sensors[0].kind", "lidar"),
    ("level-info", example_with('level = "critical"', 'level = "info"'), "zones[0].level", "info"),
    ("sensor-id-space", example_with('id = "radar-1"', 'id = "radar 1"'), "sensors[0].id", ""),
    ("duplicate-sensor-id", example_with('id = "rf-sw"', 'id = "rf-ne"'), "sensors[2].id",
     "duplicate"),
    ("duplicate-zone-name", example_with('name = "approach"', 'name = "perimeter"'),
     "zones[1].name", "duplicate"),
    ("polygon-2-points", MINIMAL + '[[zones]]\nname = "z"\npolygon = [[8.6, 24.4], [8.7, 24.5]]\n',
     "zones[0].polygon", "3"),
    ("polygon-collinear", MINIMAL + '[[zones]]\nname = "z"\n'
     "polygon = [[8.6, 24.4], [8.7, 24.5], [8.8, 24.6]]\n", "zones[0].polygon", "area"),
    ("polygon-one-point", MINIMAL + '[[zones]]\nname = "z"\n'
     "polygon = [[8.6, 24.4], [8.6, 24.4], [8.6, 24.4], [8.6, 24.4]]\n", "zones[0].polygon",
     "area"),
    ("polygon-there-and-back", example_with(
        "polygon = [[8.6590, 24.4900], [8.6590, 24.5100], [8.6410, 24.5100], [8.6410, 24.4900]]",
        "polygon = [[8.6590, 24.4900], [8.6590, 24.5100], [8.6590, 24.4900]]"),
     "zones[1].polygon", "area"),
    ("floor-equals-ceiling",
     example_with("ceiling_m = 1500.0", "floor_m = 1500.0\nceiling_m = 1500.0"),
     "zones[0].floor_m", "ceiling"),
    ("floor-above-ceiling",
     example_with("ceiling_m = 1500.0", "floor_m = 2000.0\nceiling_m = 1500.0"),
     "zones[0].floor_m", "ceiling"),
    ("confirm_m-above-n", example_with("confirm_m = 3", "confirm_m = 5"), "tracker.confirm_m",
     "confirm_n"),
    ("coast-after-delete", example_with("coast_after_s = 2.5", "coast_after_s = 9.0"),
     "tracker.coast_after_s", "delete_after_s"),
    ("passive-height-underground",
     example_with("passive_height_m = 100.0", "passive_height_m = -150.0"),
     "tracker.passive_height_m", "min_height_m"),
    ("passive-height-sigma-0",
     example_with("passive_height_sigma_m = 150.0", "passive_height_sigma_m = 0.0"),
     "tracker.passive_height_sigma_m", "> 0"),
    ("min-range-above-max", example_with("min_range_m = 50.0", "min_range_m = 5000.0"),
     "sensors[0].min_range_m", "max_range_m"),
    ("fov-el-inverted", example_with("fov_el_min_deg = -5.0", "fov_el_min_deg = 50.0"),
     "sensors[3].fov_el_min_deg", "fov_el_max_deg"),
    ("prefix-wildcard", MINIMAL + '[mqtt]\nprefix = "cuas/#"\n', "mqtt.prefix", "wildcard"),
    ("prefix-empty", MINIMAL + '[mqtt]\nprefix = "///"\n', "mqtt.prefix", "empty"),
    ("alerts-misspelt", MINIMAL + "[alerts]\ndebounce_cycle = 2\n", "alerts.debounce_cycle",
     "unknown key"),
    ("alerts-raise-low", MINIMAL + '[alerts]\nraise_threat = "low"\n', "alerts.raise_threat",
     "medium"),
    ("alerts-raise-unknown", MINIMAL + '[alerts]\nraise_threat = "severe"\n',
     "alerts.raise_threat", "severe"),
    ("alerts-debounce-0", MINIMAL + "[alerts]\ndebounce_updates = 0\n",
     "alerts.debounce_updates", ">= 1"),
    ("alerts-journal-blank", MINIMAL + '[alerts]\njournal = " "\n', "alerts.journal", "file"),
    ("threat-eta-inverted", MINIMAL + "[threat]\neta_high_s = 90.0\n", "threat.eta_high_s",
     "eta_medium_s"),
    ("threat-misspelt", MINIMAL + "[threat]\neta_hi_s = 9.0\n", "threat.eta_hi_s",
     "unknown key"),
    ("syntax-unterminated-string", MINIMAL.replace('"alpha"', '"alpha'), "(syntax)", ""),
    ("syntax-duplicate-key", MINIMAL + 'camp_id = "beta"\n', "(syntax)", ""),
    ("syntax-missing-value", MINIMAL + "[mqtt]\nport =\n", "(syntax)", ""),
    ("syntax-not-toml", '{"camp_id": "alpha"}', "(syntax)", ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_bad_file_is_refused(tmp_path: Path, text: str, key: str, reason: str) -> None:
    err = refused(write(tmp_path, text))
    assert err.key == key, err
    assert reason.lower() in err.reason.lower(), err


def test_misspelt_key_error_message_is_useful(tmp_path: Path) -> None:
    path = write(tmp_path, example_with("sigma_range_m = 5.0", "sigma_rnage_m = 5.0"))
    err = refused(path)
    assert str(err).startswith(f"{path}: sensors[0].sigma_rnage_m: ")


def test_syntax_error_reason_locates_the_line(tmp_path: Path) -> None:
    err = refused(write(tmp_path, MINIMAL + "\n[mqtt]\nport = 18 83\n"))
    assert err.key == "(syntax)"
    assert "line 5" in err.reason


def test_missing_file(tmp_path: Path) -> None:
    err = refused(tmp_path / "nope.toml")
    assert err.key == "(file)"
    assert err.reason


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    err = refused(tmp_path)
    assert err.key == "(file)"


@pytest.mark.parametrize(
    "data",
    [
        MINIMAL.replace("alpha", "alph\xe9").encode("latin-1"),
        b"\xff\xfe" + MINIMAL.encode("utf-16-le"),
        b"\x80" + MINIMAL.encode(),
    ],
    ids=["latin-1", "utf-16", "stray-byte"],
)
def test_non_utf8_file(tmp_path: Path, data: bytes) -> None:
    err = refused(write(tmp_path, data))
    assert err.key == "(file)"
    assert "utf-8" in err.reason.lower()


def test_non_ascii_utf8_is_accepted(tmp_path: Path) -> None:
    """Non-ASCII UTF-8 in strings is fine."""
    cfg = load_config(write(tmp_path, MINIMAL + '[friendly]\nuas_ids = ["ÜN-☃-1"]\n'))
    assert cfg.friendly.uas_ids == ["ÜN-☃-1"]


def test_parse_config_names_its_file_argument() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"camp_id": "a"}, file="inline.toml")
    assert (info.value.file, info.value.key) == ("inline.toml", "origin")


def test_a_self_crossing_zone_polygon_is_refused(tmp_path) -> None:
    """A bow-tie perimeter would make 'inside' meaningless."""
    path = tmp_path / "camp.toml"
    path.write_text(
        'camp_id = "x"\norigin = { lat = 8.65, lon = 24.5 }\n[[zones]]\nname = "perimeter"\n'
        "polygon = [[8.66, 24.49], [8.64, 24.51], [8.66, 24.51], [8.64, 24.49]]\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert (err.value.key, err.value.reason) == (
        "zones[0].polygon",
        "polygon edges cross each other",
    )


def test_state_lives_in_a_directory_of_the_camp_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    cfg = parse_config(tomllib.loads(MINIMAL))
    assert cfg.journal_path == tmp_path / "xdg" / "cuas" / cfg.camp_id / "journal.sqlite"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cfg.state_path == tmp_path / "home" / ".local" / "state" / "cuas" / cfg.camp_id
    # A configured state_dir is relative to the camp file; an explicit journal still wins.
    path = tmp_path / "camp.toml"
    path.write_text('state_dir = "state"\n' + MINIMAL)
    assert load_config(path).journal_path == tmp_path / "state" / "journal.sqlite"
    path.write_text(MINIMAL + '[alerts]\njournal = "/srv/j.sqlite"\n')
    assert load_config(path).journal_path == Path("/srv/j.sqlite")


toml_fragments = st.sampled_from(
    ["[", "]", "[[", "=", '"', "'''", "\\", "\n", "camp_id", "origin", "{", "}", ",", "1e999",
     "nan", "inf", "[zmq]", "[[sensors]]", "kind = 'radar'", "\x00", "é", "#", "true"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(toml_fragments | st.text(max_size=12), max_size=30).map("".join))
def test_malformed_or_hostile_toml_is_a_config_error_never_a_crash(text: str) -> None:
    try:
        parse_config(tomllib.loads(MINIMAL + text))
    except tomllib.TOMLDecodeError:
        pass  # load_config turns this into a ConfigError naming the file (next test)
    except ConfigError as err:
        assert str(err)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_a_camp_file_of_any_bytes_is_refused_with_a_config_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "camp.toml"
        path.write_bytes(data)
        try:
            load_config(path)
        except ConfigError as err:
            assert "camp.toml" in str(err)
