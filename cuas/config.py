"""Camp configuration: a TOML file describing one camp, loaded into typed, validated structs.

Parsing is `tomllib` (stdlib); structure, types and ranges are checked by `msgspec.convert`
into the structs below, which refuse unknown keys so that a typo is an error, not a silently
ignored setting; the cross-field rules msgspec cannot express are checked afterwards. Every
failure is a `ConfigError` naming the file, the key and the reason.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from cuas.errors import ConfigError
from cuas.geodesy import LocalFrame
from cuas.tomlfile import convert, read_toml
from cuas.wire import AlertLevel, Kind, Threat

Latitude = Annotated[float, Meta(ge=-90.0, le=90.0)]
Longitude = Annotated[float, Meta(ge=-180.0, le=180.0)]
Altitude = Annotated[float, Meta(ge=-1000.0, le=100_000.0)]
Positive = Annotated[float, Meta(gt=0.0, le=1.0e7)]
NonNegative = Annotated[float, Meta(ge=0.0, le=1.0e7)]
Degrees = Annotated[float, Meta(ge=0.0, le=360.0)]
Name = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Probability = Annotated[float, Meta(gt=0.0, lt=1.0)]
Uuid = Annotated[
    str,
    Meta(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
]
# A CurveZMQ public key in Z85 (40 characters), as in pyzmq's `.key` files.
Z85Key = Annotated[str, Meta(pattern=r"^[0-9a-zA-Z.\-:+=^!/*?&<>()\[\]{}@%$#]{40}$")]


class _Section(Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A config table: unknown keys are refused, every field has a documented default."""


class Origin(_Section):
    lat: Latitude
    lon: Longitude
    alt_m: Altitude = 0.0


class MqttConfig(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 1883
    prefix: str | None = None  # default "cuas/<camp_id>"
    username: str | None = None
    password: str | None = None  # prefer password_file: a camp file is often shared
    password_file: str | None = None  # first line is the password (relative: to the camp file)
    tls_ca: str | None = None  # CA certificate (PEM): TLS on, the broker verified against it
    tls_cert: str | None = None  # client certificate (PEM), where the broker asks for one
    tls_key: str | None = None  # the client certificate's private key (PEM)
    keepalive_s: Annotated[int, Meta(ge=5, le=3600)] = 30
    tracks_period_s: Annotated[float, Meta(ge=0.05, le=60.0)] = 1.0  # MQTT `tracks` rate
    # Publish the tracks each scan updated on `tracks/updates` as soon as it is fused (QoS 0;
    # coalesced while the broker is slow: only the newest state of each track waits).
    track_updates: bool = True


class ZmqConfig(_Section):
    ingest: str = "tcp://127.0.0.1:5555"
    tracks: str = "tcp://127.0.0.1:5556"
    # Also send the tracks each scan updated, as soon as it is fused, on the track socket
    # under the topic `track_updates` (beside every cycle under `tracks`).
    track_updates: bool = True
    # Per-sensor intake limit (cuas/fusion/intake.py): a sensor may send this many times its
    # configured rate (1 / update_period_s, plus its heartbeats), with bursts of
    # intake_burst_s at that rate; beyond it messages are shed and counted (`flood`). 0: off.
    intake_rate_factor: Annotated[float, Meta(ge=0.0, le=1000.0)] = 5.0
    intake_burst_s: Annotated[float, Meta(gt=0.0, le=60.0)] = 2.0
    # The core's CURVE key file (pyzmq `.key_secret`; relative: to the camp file). Set, the
    # ingest socket accepts only sensors whose `curve_public_key` is configured.
    curve_secret_key: str | None = None
    # The core's CURVE public key (Z85), which sensors dial the core with; the core checks it
    # is the public half of curve_secret_key.
    curve_server_key: Z85Key | None = None
    # With curve_secret_key the track stream is CURVE too: only these client keys (Z85) may
    # subscribe to it.
    track_subscriber_keys: list[Z85Key] = []


class ZoneConfig(_Section):
    name: Name
    polygon: Annotated[list[tuple[Latitude, Longitude]], Meta(min_length=3)]
    level: AlertLevel = "warning"
    floor_m: Annotated[float, Meta(ge=-1000.0, le=100_000.0)] | None = None
    ceiling_m: Annotated[float, Meta(ge=-1000.0, le=100_000.0)] | None = None


class SensorConfig(_Section):
    """One sensor: where it is, where it looks, how well it measures.

    Angles of the field of view are true-north azimuths; `fov_az_deg = 360` is all-round.
    Sigmas are the defaults used when a detection carries none of its own.
    """

    id: Name
    kind: Kind
    lat: Latitude
    lon: Longitude
    alt_m: Altitude = 0.0
    max_range_m: Positive = 3000.0
    min_range_m: NonNegative = 0.0
    boresight_az_deg: Degrees = 0.0
    fov_az_deg: Annotated[float, Meta(gt=0.0, le=360.0)] = 360.0
    fov_el_min_deg: Annotated[float, Meta(ge=-90.0, le=90.0)] = -10.0
    fov_el_max_deg: Annotated[float, Meta(ge=-90.0, le=90.0)] = 90.0
    sigma_range_m: Positive = 5.0
    sigma_az_deg: Annotated[float, Meta(gt=0.0, le=90.0)] = 1.0
    sigma_el_deg: Annotated[float, Meta(gt=0.0, le=90.0)] = 1.5
    sigma_range_rate_mps: Positive = 0.5
    sigma_pos_m: Positive = 10.0  # remote_id: horizontal position accuracy
    sigma_alt_m: Positive = 15.0  # remote_id: altitude accuracy
    sigma_vel_mps: Positive = 1.0  # remote_id: velocity accuracy
    update_period_s: Positive = 1.0  # nominal revisit / report period
    # Worst delay from measurement to arrival at the core; the reorder window waits this long
    # for the sensor at most. Unset: the camp-wide tracker.reorder_window_s.
    latency_s: Annotated[float, Meta(ge=0.0, le=60.0)] | None = None
    p_detection: Probability = 0.9
    # SAPIENT (`cuas adapter-sapient`): the node_id (a UUID) of the sensor node that is this
    # sensor; a node whose id no sensor names is refused at registration.
    sapient_node_id: Uuid | None = None
    curve_public_key: Z85Key | None = None  # the only key this sensor's messages come from


class FriendlyConfig(_Section):
    uas_ids: list[Annotated[str, Meta(min_length=1)]] = []
    emitter_ids: list[Annotated[str, Meta(min_length=1)]] = []


class TrackerConfig(_Section):
    """Tracker settings; the defaults suit small drones seen by a 1 Hz radar."""

    reorder_window_s: Annotated[float, Meta(ge=0.0, le=60.0)] = 0.5
    # Adapt each sensor's wait to the delays it shows: this quantile of its recent delays plus
    # the margin, never more than its latency_s (or the window). Late reports: retrodiction.
    reorder_adaptive: bool = True
    reorder_quantile: Annotated[float, Meta(ge=0.5, le=1.0)] = 0.99
    reorder_margin_s: Annotated[float, Meta(ge=0.0, le=10.0)] = 0.005
    # A report later than the window: fused by retrodiction up to max_lag_s old, or dropped.
    late_policy: Literal["retrodict", "drop"] = "retrodict"
    max_lag_s: Annotated[float, Meta(ge=0.0, le=60.0)] = 5.0
    # A report measured later than this after it was received comes from a sensor whose clock
    # runs ahead: it is refused ("future"), since fusing it would make every other sensor's
    # reports late.
    max_clock_ahead_s: Annotated[float, Meta(ge=0.0, le=60.0)] = 0.5
    cycle_period_s: Annotated[float, Meta(ge=0.05, le=60.0)] = 1.0
    gate_probability: Annotated[float, Meta(ge=0.9, lt=1.0)] = 0.999
    confirm_m: Annotated[int, Meta(ge=1, le=16)] = 3
    confirm_n: Annotated[int, Meta(ge=1, le=16)] = 4
    coast_after_s: Positive = 2.5
    delete_after_s: Positive = 8.0
    # ... and a track called a bird dies after this long without an update: a bird turns
    # erratically, and in a flock its coasting track stands where no bird is.
    bird_delete_after_s: Positive = 4.5
    max_pos_sigma_m: Positive = 300.0  # horizontal; beyond it a track is deleted
    # ... or beyond this fraction of its distance from the camp, whichever is larger.
    max_pos_sigma_fraction: Annotated[float, Meta(ge=0.0, le=2.0)] = 0.5
    # ... unless every sensor that updated it is silent: then it coasts on up to this sigma.
    orphan_max_pos_sigma_m: Positive = 1500.0
    accel_noise_mps2: Positive = 2.0  # horizontal white-noise acceleration (1-sigma, ~1 s)
    accel_noise_up_mps2: Positive = 1.0
    # A track no radar or Remote ID ever placed (bearings alone) predicts with this
    # horizontal acceleration instead (the vertical scaled alike): bearings from afar cannot
    # see a manoeuvre anyway, and a gentler model averages their noise over more scans.
    passive_accel_noise_mps2: Positive = 0.5
    # The height above the camp origin of a track that no sensor measuring height (radar,
    # camera, Remote ID) has placed, and its sigma: azimuths say nothing of height. A camp on
    # a ridge above the valley its drones fly up sets it below zero.
    passive_height_m: Annotated[float, Meta(ge=-3000.0, le=3000.0)] = 100.0
    passive_height_sigma_m: Annotated[float, Meta(gt=0.0, le=3000.0)] = 150.0
    # Learn each direction finder's and camera's real angle noise from its innovations on
    # radar-placed tracks, and use it instead of the configured sigma (x0.5 to x2).
    calibrate_noise: bool = True
    # Manoeuvres (cuas/tracking/imm.py): "imm" runs the quiet model above (cruise) beside a
    # steady model and a manoeuvre model with these accelerations, each left for either
    # other alike, with these mean sojourn times; "ncv" runs the quiet model alone. The
    # steady model is a drone flying straight and level: in it a track knows its velocity
    # to a few tenths of a m/s, and a neighbour's plot in a swarm no longer fits it.
    motion: Literal["imm", "ncv"] = "imm"
    steady_accel_mps2: Positive = 0.5
    steady_accel_up_mps2: Positive = 0.25
    manoeuvre_accel_mps2: Positive = 15.0
    manoeuvre_accel_up_mps2: Positive = 5.0
    cruise_sojourn_s: Positive = 60.0
    steady_sojourn_s: Positive = 20.0
    manoeuvre_sojourn_s: Positive = 5.0
    # The modes mix at each update of a track and every `mixing_step_s` of time between,
    # whatever other sensors report (cuas/tracking/imm.py).
    mixing_step_s: Annotated[float, Meta(gt=0.0, le=10.0)] = 0.2
    # Drones of a formation share their velocity (cuas/tracking/formation_velocity.py): a
    # firm radar track is told the velocity of those within this radius whose velocities
    # agree with its own, each member's spread about the formation's velocity taken as
    # this; 0 m turns it off.
    formation_radius_m: NonNegative = 150.0
    formation_spread_mps: Positive = 3.0
    init_speed_sigma_mps: Positive = 20.0
    init_vspeed_sigma_mps: Positive = 5.0
    sensor_memory_s: Positive = 5.0  # how long a sensor counts as "contributing" to a track
    class_confidence: Annotated[float, Meta(ge=0.2, le=1.0)] = 0.6  # publish a class above
    # Classification (cuas/tracking/classification.py). Each detection's class probabilities
    # count as a likelihood raised to this power: looks at one target are not independent.
    class_likelihood_exponent: Annotated[float, Meta(gt=0.0, le=1.0)] = 0.6
    # No class falls below this fraction of a detection's best one: nothing is ruled out by a
    # single look.
    class_likelihood_floor: Annotated[float, Meta(gt=0.0, lt=1.0)] = 0.01
    # Weight of the kinematic cues (speed, altitude) at each update; 0 turns them off.
    class_kinematic_weight: Annotated[float, Meta(ge=0.0, le=1.0)] = 0.5
    # No class falls more than this many nats below the best, so a track can change its mind.
    class_max_log_odds: Annotated[float, Meta(ge=1.0, le=20.0)] = 5.0
    # Identity (cuas/tracking/identity.py): consecutive detections naming another Remote ID
    # serial (or RF emitter) before a track takes that identity instead of its own.
    identity_switch_after: Annotated[int, Meta(ge=1, le=100)] = 3
    sensor_health_period_s: Positive = 5.0
    # Live tracks at most (cuas/tracking/capacity.py): beyond it the least established are
    # shed after each scan, tentative ones first, and counted.
    max_tracks: Annotated[int, Meta(ge=1, le=1_000_000)] = 2000


class ThreatConfig(_Section):
    """Threat evaluation (cuas/fusion/threat.py): how a firm, non-friendly track is rated.

    Inside a zone the zone's level sets the floor (warning zone: `medium`, critical zone:
    `critical`); a track closing on the perimeter faster than `min_closing_mps` is `high`
    within `eta_high_s` of it and `medium` within `eta_medium_s`, wherever it is. A track
    whose bird, clutter or aircraft probability reaches `benign_confidence` is rated by the
    perimeter alone (on a course into it within `eta_medium_s`, or inside it), and one more
    than `-min_height_m` below the origin is no threat.
    """

    eta_high_s: Annotated[float, Meta(ge=0.0, le=3600.0)] = 30.0
    eta_medium_s: Annotated[float, Meta(ge=0.0, le=3600.0)] = 60.0
    min_closing_mps: Annotated[float, Meta(ge=0.0, le=1000.0)] = 3.0
    benign_confidence: Annotated[float, Meta(gt=0.0, le=1.0)] = 0.6
    # Below this height relative to the origin a track is not a flying object (no threat).
    min_height_m: Annotated[float, Meta(ge=-10_000.0, le=0.0)] = -100.0
    # How sure threat evaluation must be of a vague track (a passive contact) before it acts
    # on it, in standard deviations of the track's own covariance: it must be closing even
    # at this many sigmas below its estimated closing speed, and inside a zone by this many
    # sigmas of its horizontal position. A radar track (metres, a few tenths of m/s) hardly
    # notices; a bearings-only track cannot alert on a speed it does not know.
    certainty_sigmas: Annotated[float, Meta(ge=0.0, le=5.0)] = 2.0


class AlertsConfig(_Section):
    """The alert lifecycle (cuas/fusion/alerts.py) and its journal (cuas/io/journal.py)."""

    raise_threat: Threat = "medium"  # the threat at which a track alerts
    # Raise once a track is at that threat on this many updates spanning this long (and below
    # it on none in between): evidence and time, not cycles.
    debounce_updates: Annotated[int, Meta(ge=1, le=100)] = 2
    debounce_s: Annotated[float, Meta(ge=0.0, le=60.0)] = 0.5
    # ... and this long for a `medium` threat (loitering in a warning zone, or a minute out):
    # a bird's new track rates medium in the approach zone for the second or two its class
    # takes to settle; `high` and `critical` still raise after `debounce_s`.
    medium_debounce_s: Annotated[float, Meta(ge=0.0, le=60.0)] = 2.0
    # A `medium` threat on a track not yet surely a drone (drone probability under
    # `settled_drone_p`, on its own looks: what bearings naming an emitter said is left out,
    # as the emitter may prove to be elsewhere on their line) raises only once the track is
    # `unsettled_age_s` old: a large bird's radar cross-section and speed are a small
    # drone's, and a new track's first seconds say little (a few looks; in a flock,
    # velocities made of several birds' plots). A track that flies into a warning zone is
    # older than that, and `high` (a drone inbound, half a minute out) and `critical` do not
    # wait.
    unsettled_age_s: Annotated[float, Meta(ge=0.0, le=120.0)] = 15.0
    settled_drone_p: Annotated[float, Meta(gt=0.0, le=1.0)] = 0.9
    # ... and this long for a track that classification calls a bird (clutter, aircraft),
    # rated by the perimeter alone: a drone taken for a bird flies at the perimeter for as
    # long as it takes to get there; a bird by the camp turns towards it now and then.
    benign_debounce_s: Annotated[float, Meta(ge=0.0, le=120.0)] = 20.0
    # No track alert in the first seconds of a run (a start or a restart), while the identity
    # sensors name the friendlies already in the air: a finder hears a link, or a Remote ID
    # receiver a serial, once a second, and only a track that exists can take the name. The
    # debounce runs meanwhile, so what is still alerting is raised when the hold ends.
    startup_hold_s: Annotated[float, Meta(ge=0.0, le=600.0)] = 5.0
    update_period_s: Annotated[float, Meta(ge=0.1, le=3600.0)] = 5.0  # `updated` at most
    clear_cycles: Annotated[int, Meta(ge=1, le=1000)] = 5  # consecutive quiet cycles to clear
    clear_margin_m: Annotated[float, Meta(ge=0.0, le=10_000.0)] = 50.0  # "still at the zone"
    restore_grace_s: Annotated[float, Meta(ge=0.0, le=3600.0)] = 20.0  # after a restart
    restore_radius_m: Annotated[float, Meta(gt=0.0, le=100_000.0)] = 500.0
    sensor_alerts: bool = True  # a sensor in fault or silent raises a warning of its own
    # The SQLite journal; unset: `journal.sqlite` in the camp's state directory. A relative
    # path is relative to the working directory (as before the state directory existed).
    journal: str | None = None
    retention_days: Annotated[float, Meta(gt=0.0, le=36_500.0)] = 30.0  # cleared alerts kept


class TakConfig(_Section):
    """Cursor-on-Target output (`cuas gateway-tak`, cuas/gateways/tak.py)."""

    # tcp://HOST:PORT (a TAK server's plain CoT port), tls://HOST:PORT, or udp://GROUP:PORT
    # (multicast, e.g. the SA group 239.2.3.1:6969); `--url` overrides it.
    url: str | None = None
    min_interval_s: Annotated[float, Meta(ge=0.0, le=3600.0)] = 1.0  # per track, at most
    stale_periods: Annotated[float, Meta(ge=1.0, le=100.0)] = 3.0  # stale this many periods on
    callsign_prefix: Annotated[str, Meta(max_length=32)] = "UAS"
    multicast_ttl: Annotated[int, Meta(ge=1, le=255)] = 1
    tls_ca: str | None = None  # TLS: the server's CA (PEM); default: the system's CAs
    tls_cert: str | None = None  # TLS: our client certificate (PEM), where the server asks
    tls_key: str | None = None


class SapientConfig(_Section):
    """SAPIENT output (`cuas gateway-sapient`, cuas/gateways/sapient.py): the core as a
    FUSION_NODE child of a higher decision node."""

    # Our node_id (a lower-case UUIDv4); default: one derived from camp_id, stable per camp.
    node_id: Uuid | None = None
    status_interval_s: Annotated[float, Meta(ge=0.5, le=3600.0)] = 5.0
    reconnect_max_s: Annotated[float, Meta(ge=0.1, le=3600.0)] = 10.0  # backoff ceiling


class AsterixConfig(_Section):
    """ASTERIX output (`cuas gateway-asterix`, cuas/gateways/asterix.py): CAT-062 tracks."""

    sac: Annotated[int, Meta(ge=0, le=255)] = 0  # System Area Code of the camp's tracker
    sic: Annotated[int, Meta(ge=0, le=255)] = 1  # System Identification Code
    multicast_ttl: Annotated[int, Meta(ge=1, le=255)] = 1


class ConsoleConfig(_Section):
    """The operations console (`cuas console`): where it listens, and its offline map."""

    listen: str = "127.0.0.1:8080"  # HOST:PORT of the page
    # Offline basemap: a folder of XYZ tiles ({z}/{x}/{y}.png|jpg|webp) or an .mbtiles file,
    # relative to the camp file. Without it the page draws a metric grid with range rings.
    tiles: str | None = None


class CampConfig(_Section):
    camp_id: Name
    origin: Origin
    mqtt: MqttConfig = MqttConfig()
    zmq: ZmqConfig = ZmqConfig()
    zones: list[ZoneConfig] = []
    sensors: list[SensorConfig] = []
    friendly: FriendlyConfig = FriendlyConfig()
    tracker: TrackerConfig = TrackerConfig()
    threat: ThreatConfig = ThreatConfig()
    alerts: AlertsConfig = AlertsConfig()
    tak: TakConfig = TakConfig()
    sapient: SapientConfig = SapientConfig()
    asterix: AsterixConfig = AsterixConfig()
    console: ConsoleConfig = ConsoleConfig()
    # Where the core keeps its state (the alert journal); unset: $XDG_STATE_HOME/cuas/<camp_id>
    # (else ~/.local/state/cuas/<camp_id>), so two camps, or two runs in one folder, never
    # share state by accident. Relative: to the camp file's folder.
    state_dir: str | None = None

    @property
    def state_path(self) -> Path:
        """The camp's state directory (see `state_dir`)."""
        if self.state_dir is not None:
            return Path(self.state_dir)
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        return Path(base) / "cuas" / self.camp_id

    @property
    def journal_path(self) -> Path:
        """The alert journal: `alerts.journal` if set, else `journal.sqlite` in the state
        directory."""
        if self.alerts.journal is not None:
            return Path(self.alerts.journal)
        return self.state_path / "journal.sqlite"

    @property
    def mqtt_prefix(self) -> str:
        return (self.mqtt.prefix or f"cuas/{self.camp_id}").rstrip("/")

    @property
    def perimeter(self) -> ZoneConfig | None:
        """The camp's boundary: the first zone named `perimeter`."""
        return next((z for z in self.zones if z.name == "perimeter"), None)

    def sensor(self, sensor_id: str) -> SensorConfig | None:
        return next((s for s in self.sensors if s.id == sensor_id), None)

    def local_frame(self) -> LocalFrame:
        """The camp's East-North-Up frame, with its origin at the camp origin."""
        return LocalFrame(self.origin.lat, self.origin.lon, self.origin.alt_m)


def _polygon_area(points: list[tuple[float, float]]) -> float:
    """Signed area in squared degrees (shoelace); only its magnitude is used, as a sanity check."""
    total = 0.0
    for (a_lat, a_lon), (b_lat, b_lon) in zip(points, points[1:] + points[:1], strict=True):
        total += a_lon * b_lat - b_lon * a_lat
    return total / 2.0


def _self_crossing(points: list[tuple[float, float]]) -> bool:
    """Whether any two non-adjacent edges of a closed polygon cross."""
    edges = list(zip(points, points[1:] + points[:1], strict=True))

    def orient(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    for i, (a, b) in enumerate(edges):
        for j in range(i + 2, len(edges)):
            if i == 0 and j == len(edges) - 1:
                continue  # the first and last edges share a vertex
            c, d = edges[j]
            if orient(a, b, c) * orient(a, b, d) < 0 and orient(c, d, a) * orient(c, d, b) < 0:
                return True
    return False


def _check(file: str, cfg: CampConfig) -> None:
    """Cross-field rules that a schema cannot express."""
    seen: set[str] = set()
    keys: dict[str, str] = {}
    for i, s in enumerate(cfg.sensors):
        if cfg.zmq.curve_secret_key is not None and s.curve_public_key is None:
            raise ConfigError(
                file, f"sensors[{i}].curve_public_key", "required with zmq.curve_secret_key"
            )
        if s.curve_public_key is not None:
            if s.curve_public_key in keys:
                raise ConfigError(
                    file,
                    f"sensors[{i}].curve_public_key",
                    f"the same key as sensor {keys[s.curve_public_key]!r}: one key per sensor",
                )
            keys[s.curve_public_key] = s.id
        if s.id in seen:
            raise ConfigError(file, f"sensors[{i}].id", f"duplicate sensor id {s.id!r}")
        seen.add(s.id)
        if s.min_range_m >= s.max_range_m:
            raise ConfigError(file, f"sensors[{i}].min_range_m", "must be below max_range_m")
        if s.fov_el_min_deg >= s.fov_el_max_deg:
            raise ConfigError(file, f"sensors[{i}].fov_el_min_deg", "must be below fov_el_max_deg")
    nodes: set[str] = set()
    for i, s in enumerate(cfg.sensors):
        if s.sapient_node_id is not None:
            if s.sapient_node_id.lower() in nodes:
                raise ConfigError(file, f"sensors[{i}].sapient_node_id", "names another sensor")
            nodes.add(s.sapient_node_id.lower())
    names: set[str] = set()
    for i, z in enumerate(cfg.zones):
        if z.name in names:
            raise ConfigError(file, f"zones[{i}].name", f"duplicate zone name {z.name!r}")
        names.add(z.name)
        if _self_crossing(list(z.polygon)):
            raise ConfigError(file, f"zones[{i}].polygon", "polygon edges cross each other")
        if abs(_polygon_area(list(z.polygon))) < 1e-12:
            raise ConfigError(file, f"zones[{i}].polygon", "polygon has no area")
        if z.floor_m is not None and z.ceiling_m is not None and z.floor_m >= z.ceiling_m:
            raise ConfigError(file, f"zones[{i}].floor_m", "must be below ceiling_m")
    t = cfg.tracker
    if t.confirm_m > t.confirm_n:
        raise ConfigError(file, "tracker.confirm_m", "must not exceed confirm_n")
    if t.coast_after_s >= t.delete_after_s:
        raise ConfigError(file, "tracker.coast_after_s", "must be below delete_after_s")
    if t.passive_height_m <= cfg.threat.min_height_m:
        raise ConfigError(
            file,
            "tracker.passive_height_m",
            "must be above threat.min_height_m: bearings-only tracks would be taken for "
            "objects on the ground and never rated a threat",
        )
    if cfg.threat.eta_high_s > cfg.threat.eta_medium_s:
        raise ConfigError(file, "threat.eta_high_s", "must not exceed eta_medium_s")
    if cfg.alerts.raise_threat in ("none", "low"):
        raise ConfigError(file, "alerts.raise_threat", "must be medium, high or critical")
    if cfg.alerts.journal is not None and not cfg.alerts.journal.strip():
        raise ConfigError(file, "alerts.journal", "must name a file")
    if cfg.mqtt.password is not None and cfg.mqtt.password_file is not None:
        raise ConfigError(file, "mqtt.password_file", "give password or password_file, not both")
    if (cfg.mqtt.tls_cert is None) != (cfg.mqtt.tls_key is None):
        raise ConfigError(file, "mqtt.tls_key", "tls_cert and tls_key go together")
    prefix = cfg.mqtt_prefix
    if any(c in prefix for c in "+#") or not prefix:
        raise ConfigError(file, "mqtt.prefix", "must be a non-empty topic without wildcards")
    if not all(math.isfinite(v) for v in (cfg.origin.lat, cfg.origin.lon, cfg.origin.alt_m)):
        raise ConfigError(file, "origin", "must be finite")


def parse_config(data: dict[str, Any], file: str = "<config>") -> CampConfig:
    """Validate an already-parsed TOML document into a `CampConfig`."""
    cfg = convert(data, CampConfig, file, ConfigError)
    _check(file, cfg)
    return cfg


def load_config(path: str | Path) -> CampConfig:
    """Load and validate a camp configuration file, or raise `ConfigError`.

    File paths in it (`[mqtt] password_file`, `tls_*`, `[zmq] curve_secret_key`,
    `[console] tiles`, `[tak] tls_*`) are relative to the file's folder.
    """
    cfg = parse_config(read_toml(path, ConfigError), str(path))
    return _files_beside(cfg, Path(path).resolve().parent)


_MQTT_FILES = ("password_file", "tls_ca", "tls_cert", "tls_key")
_TAK_FILES = ("tls_ca", "tls_cert", "tls_key")


def _files_beside(cfg: CampConfig, folder: Path) -> CampConfig:
    """`cfg` with its relative file paths made absolute against `folder`."""
    moved = {
        key: str(folder / value)
        for key in _MQTT_FILES
        if (value := getattr(cfg.mqtt, key)) is not None and not Path(value).is_absolute()
    }
    if cfg.state_dir is not None and not Path(cfg.state_dir).is_absolute():
        cfg = msgspec.structs.replace(cfg, state_dir=str(folder / cfg.state_dir))
    key = cfg.zmq.curve_secret_key
    if key is not None and not Path(key).is_absolute():
        zmq_moved = msgspec.structs.replace(cfg.zmq, curve_secret_key=str(folder / key))
        cfg = msgspec.structs.replace(cfg, zmq=zmq_moved)
    tiles = cfg.console.tiles
    if tiles is not None and not Path(tiles).is_absolute():
        cfg = msgspec.structs.replace(
            cfg, console=msgspec.structs.replace(cfg.console, tiles=str(folder / tiles))
        )
    if moved:
        cfg = msgspec.structs.replace(cfg, mqtt=msgspec.structs.replace(cfg.mqtt, **moved))
    tak_moved = {
        name: str(folder / value)
        for name in _TAK_FILES
        if (value := getattr(cfg.tak, name)) is not None and not Path(value).is_absolute()
    }
    if tak_moved:
        cfg = msgspec.structs.replace(cfg, tak=msgspec.structs.replace(cfg.tak, **tak_moved))
    return cfg


def dump_config(cfg: CampConfig) -> str:
    """Render a config back to TOML (used by generators of scenarios and benchmarks)."""
    return _to_toml(msgspec.to_builtins(cfg))


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + "".join(_toml_char(c) for c in v) + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot render {type(v).__name__} as TOML")


def _toml_char(c: str) -> str:
    """One character of a TOML basic string: quotes, backslashes and controls escaped."""
    if c in '"\\':
        return "\\" + c
    if ord(c) < 0x20 or ord(c) == 0x7F:
        return f"\\u{ord(c):04x}"
    return c


def _to_toml(doc: dict[str, Any]) -> str:
    lines: list[str] = []
    tables: list[tuple[str, Any]] = []
    for k, v in doc.items():
        if v is None:
            continue
        is_table = isinstance(v, dict) and k != "origin"
        is_array_of_tables = isinstance(v, list) and v and all(isinstance(x, dict) for x in v)
        if is_table or is_array_of_tables:
            tables.append((k, v))
        else:
            lines.append(f"{k} = {_toml_value(v)}")
    for k, v in tables:
        items = v if isinstance(v, list) else [v]
        header = f"[[{k}]]" if isinstance(v, list) else f"[{k}]"
        for item in items:
            lines += ["", header]
            lines += [f"{ik} = {_toml_value(iv)}" for ik, iv in item.items() if iv is not None]
    return "\n".join(lines) + "\n"
