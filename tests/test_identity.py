"""Identity: Remote ID serials and RF emitter ids on tracks, friendlies, end to end."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from support.reports import radar_report, rf_report

from cuas import wire
from cuas.config import FriendlyConfig, load_config
from cuas.fusion.alerts import Transition
from cuas.fusion.pipeline import FusionPipeline
from cuas.geodesy import LocalFrame
from cuas.tracking.coverage import SensorGeometry
from cuas.tracking.identity import IdentityKeeper
from cuas.tracking.measurements import PositionModel
from cuas.tracking.scan import Labels, Scan
from cuas.tracking.tracks import TrackTable
from simulators.benchmark_scenarios import SAMPLE_CONFIG

FRAME = LocalFrame(8.65, 24.50, 600.0)
T0 = 1_764_000_000.0
MODEL = PositionModel(
    SensorGeometry(FRAME.sensor_frame(8.65, 24.50, 603.0), 0.0, 4000.0, 0.0, 360.0, -90.0, 90.0),
    with_velocity=False,
)
FRIENDS = FriendlyConfig(uas_ids=["UN-PKO-0001"], emitter_ids=["PKO-LINK-7"])

# --- the rules, on a bare track table -----------------------------------------------


def table(n: int) -> TrackTable:
    tracks = TrackTable(n_sensors=3)
    tracks.add(np.zeros((n, 6)), np.tile(np.eye(6), (n, 1, 1)), T0, 0)
    return tracks


def hear(
    keeper: IdentityKeeper,
    tracks: TrackTable,
    rows: list[int],
    uas: list[str | None] | None = None,
    emitters: list[str | None] | None = None,
    sensor: int = 0,
) -> list[int] | None:
    """One scan whose detection i updated track rows[i], naming uas[i] / emitters[i]; the
    rows whose emitter ids it changed (None: none)."""
    k = len(rows)
    labels = Labels(
        np.full((k, 5), math.nan),
        np.full(k, math.nan),
        uas if uas is not None else [None] * k,
        emitters if emitters is not None else [None] * k,
    )
    scan = Scan(sensor, T0, np.zeros((k, 3)), np.ones((k, 3)), MODEL, labels)
    changed = keeper.updated(tracks, np.array(rows, dtype=np.intp), scan, np.arange(k))
    return None if changed is None else changed.tolist()


def test_a_remote_id_serial_identifies_its_track_and_makes_a_friend() -> None:
    keeper, tracks = IdentityKeeper(FRIENDS), table(2)
    hear(keeper, tracks, [0, 1], uas=["UN-PKO-0001", "XX-0042"])
    assert list(tracks.uas_id[:2]) == ["UN-PKO-0001", "XX-0042"]
    assert list(tracks.friendly[:2]) == [True, False]  # the stranger keeps its serial too


def test_identity_survives_updates_that_name_nobody() -> None:
    keeper, tracks = IdentityKeeper(FRIENDS), table(1)
    hear(keeper, tracks, [0], uas=["UN-PKO-0001"])
    for _ in range(20):
        hear(keeper, tracks, [0])  # radar or camera updates
        scan = Scan(0, T0, np.zeros((1, 3)), np.ones((1, 3)), MODEL)  # no labels at all
        keeper.updated(tracks, np.arange(1), scan, np.arange(1))
    assert tracks.uas_id[0] == "UN-PKO-0001" and tracks.friendly[0]


def test_a_different_serial_takes_over_only_after_three_in_a_row() -> None:
    keeper, tracks = IdentityKeeper(FRIENDS), table(1)
    hear(keeper, tracks, [0], uas=["UN-PKO-0001"])
    for _ in range(2):
        hear(keeper, tracks, [0], uas=["XX-0042"])
    hear(keeper, tracks, [0], uas=["UN-PKO-0001"])  # its own again: the count restarts
    for _ in range(2):
        hear(keeper, tracks, [0], uas=["XX-0042"])
    assert tracks.uas_id[0] == "UN-PKO-0001" and tracks.friendly[0]
    hear(keeper, tracks, [0], uas=["XX-0042"])
    assert tracks.uas_id[0] == "XX-0042" and not tracks.friendly[0]


def test_two_tracks_claiming_one_serial_the_most_recent_wins() -> None:
    keeper, tracks = IdentityKeeper(FRIENDS), table(2)
    hear(keeper, tracks, [0], uas=["UN-PKO-0001"])
    hear(keeper, tracks, [1], uas=["UN-PKO-0001"])  # e.g. a duplicate track born of Remote ID
    assert list(tracks.uas_id[:2]) == [None, "UN-PKO-0001"]
    assert list(tracks.friendly[:2]) == [False, True]


def test_an_emitter_on_a_bearing_does_not_jump_to_another_track_from_one_site() -> None:
    """A hostile track along the bearing of the friendly link, from one direction finder."""
    keeper, tracks = IdentityKeeper(FRIENDS), table(2)
    hear(keeper, tracks, [0], emitters=["PKO-LINK-7"], sensor=1)
    for _ in range(10):
        hear(keeper, tracks, [1], emitters=["PKO-LINK-7"], sensor=1)
    assert list(tracks.emitter_id[:2]) == ["PKO-LINK-7", None]
    assert list(tracks.friendly[:2]) == [True, False]


def test_a_holder_heard_again_resets_the_other_claims() -> None:
    keeper, tracks = IdentityKeeper(FRIENDS), table(2)
    hear(keeper, tracks, [0], emitters=["PKO-LINK-7"], sensor=1)
    for _ in range(5):  # two sites alternate between the two tracks: never consecutive
        hear(keeper, tracks, [1], emitters=["PKO-LINK-7"], sensor=1)
        hear(keeper, tracks, [0], emitters=["PKO-LINK-7"], sensor=2)
    assert list(tracks.emitter_id[:2]) == ["PKO-LINK-7", None]


def test_an_emitter_moves_when_two_sites_agree_three_times_in_a_row() -> None:
    """And the keeper says which tracks' emitter ids changed, the one that lost it too: the
    tracker tells the other annotators (a track's class may hang on its emitter)."""
    keeper, tracks = IdentityKeeper(FRIENDS), table(2)
    assert hear(keeper, tracks, [0], emitters=["PKO-LINK-7"], sensor=1) == [0]
    changed = [hear(keeper, tracks, [1], emitters=["PKO-LINK-7"], sensor=s) for s in (1, 2, 1)]
    assert list(tracks.emitter_id[:2]) == [None, "PKO-LINK-7"]
    assert list(tracks.friendly[:2]) == [False, True]
    assert changed == [None, None, [0, 1]]
    assert hear(keeper, tracks, [0], uas=["UN-PKO-0001"]) is None  # a serial is no emitter


events = st.lists(
    st.tuples(
        st.integers(0, 3),  # track row
        st.sampled_from(["uas_id", "emitter_id"]),
        st.sampled_from(["UN-PKO-0001", "PKO-LINK-7", "A", "B"]),
        st.integers(0, 2),  # sensor
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(events)
def test_one_track_per_identifier_and_friendly_follows_the_list(sequence: list) -> None:
    keeper, tracks = IdentityKeeper(FRIENDS), table(4)
    for row, column, name, sensor in sequence:
        if column == "uas_id":
            hear(keeper, tracks, [row], uas=[name], sensor=sensor)
        else:
            hear(keeper, tracks, [row], emitters=[name], sensor=sensor)
        for ids in (tracks.uas_id[:4], tracks.emitter_id[:4]):
            held = [x for x in ids if x is not None]
            assert len(held) == len(set(held))
        for i in range(4):
            expect = tracks.uas_id[i] == "UN-PKO-0001" or tracks.emitter_id[i] == "PKO-LINK-7"
            assert tracks.friendly[i] == expect


# --- end to end --------------------------------------------------------------------

CONFIG = load_config(SAMPLE_CONFIG)
START = np.array([700.0, 600.0, 100.0])  # north-east of the camp, in the approach zone
VELOCITY = np.array([-12.0, -10.0, 0.0])  # 15.6 m/s straight at the camp
GAP = (20.0, 30.0)  # no Remote ID reception


def fly_in(uas_id: str | None, seconds: int = 55) -> tuple[list[wire.TrackCycle], list[wire.Alert]]:
    """A drone flying from the approach zone into the perimeter, tracked by the radar and,
    with `uas_id`, broadcasting Remote ID except during `GAP`; returns cycles and alerts."""
    rng = np.random.default_rng(11)
    radar, rid = CONFIG.sensor("radar-1"), CONFIG.sensor("rid-1")
    assert radar is not None and rid is not None
    look = FRAME.sensor_frame(radar.lat, radar.lon, radar.alt_m)
    pipeline = FusionPipeline(CONFIG)
    cycles, alerts = [], []
    for k in range(seconds):
        enu = START + VELOCITY * k
        az, el, r = look.enu_to_aer(enu)
        messages: list[wire.Report] = [
            wire.RadarReport(
                v=1,
                sensor_id="radar-1",
                seq=k,
                t=T0 + k,
                detections=[
                    wire.RadarDetection(
                        range_m=float(r) + rng.normal(0, radar.sigma_range_m),
                        az_deg=float(az) + rng.normal(0, radar.sigma_az_deg),
                        el_deg=float(el) + rng.normal(0, radar.sigma_el_deg),
                    )
                ],
            )
        ]
        if uas_id is not None and not GAP[0] <= k < GAP[1]:
            noisy = enu + rng.normal(0, [rid.sigma_pos_m, rid.sigma_pos_m, rid.sigma_alt_m])
            lat, lon, alt = FRAME.to_geodetic(noisy)
            broadcast = wire.RemoteIdDetection(
                lat=float(lat), lon=float(lon), alt_m=float(alt), uas_id=uas_id
            )
            messages.append(
                wire.RemoteIdReport(
                    v=1, sensor_id="rid-1", seq=k, t=T0 + k + 0.3, detections=[broadcast]
                )
            )
        outputs = [
            out
            for msg in messages
            for out in pipeline.submit(f"report.{msg.sensor_id}", wire.to_msgpack(msg))
        ]
        cycles += [out for out in outputs if isinstance(out, wire.TrackCycle)]
        alerts += [out.alert for out in outputs if isinstance(out, Transition)]
    return cycles, alerts


def firm(cycle: wire.TrackCycle) -> list[wire.Track]:
    return [t for t in cycle.tracks if t.status in ("confirmed", "coasting")]


def test_a_friendly_drone_stays_friendly_through_a_remote_id_gap_and_never_alerts() -> None:
    cycles, alerts = fly_in("UN-PKO-0001")
    # No alert about the drone; the receiver's silence in the gap (no heartbeats in this
    # test) is a sensor alert of its own, raised and cleared.
    assert [a for a in alerts if a.track_id is not None] == []
    assert [(a.state, a.reason) for a in alerts] == [
        ("raised", "Sensor rid-1 silent for 7 s."),
        ("cleared", "Sensor rid-1 recovered."),
    ]
    tracked = [c for c in cycles if firm(c)]
    assert len(tracked) >= len(cycles) - 5
    ids = set()
    for cycle in tracked:
        (track,) = firm(cycle)
        assert track.friendly and track.uas_id == "UN-PKO-0001", cycle.t - T0
        ids.add(track.track_id)
    assert len(ids) == 1  # one track throughout, the gap included
    in_gap = [c for c in tracked if GAP[0] + 2 <= c.t - T0 <= GAP[1]]
    assert len(in_gap) >= 8  # the radar alone kept it, and its identity, through the gap
    assert firm(tracked[-1])[0].class_ == "drone"
    last = firm(tracked[-1])[0]
    assert abs(last.enu[0]) < 300 and abs(last.enu[1]) < 200  # inside the perimeter


def test_the_same_flight_without_remote_id_raises_an_alert() -> None:
    cycles, alerts = fly_in(None)
    raised = [a for a in alerts if a.state == "raised"]
    assert raised
    assert not any(t.friendly or t.uas_id for c in cycles for t in c.tracks)


def test_a_link_heard_before_the_radar_sees_its_drone_stays_on_that_drones_track() -> None:
    """A friendly drone over the camp when the service starts: both finders hear its link
    first and start its track, then the radar places it and confirms it. The link's bearings
    go on updating that track while it is tentative, so no track of bearings alone starts
    beside it, takes the link's id and leaves the friendly drone a stranger, alerted on as
    soon as its track is confirmed (random camp 296, at 5.7 s)."""
    pipeline = FusionPipeline(CONFIG)
    rng = np.random.default_rng(296)
    sigma = CONFIG.sensor("rf-ne").sigma_az_deg
    messages: list[tuple[float, str, bytes]] = []
    for k in range(40):  # 20 s of bearings at 2 Hz from each finder
        t = T0 + 0.5 * k
        for finder in ("rf-ne", "rf-sw"):
            at = t + (0.1 if finder == "rf-sw" else 0.0)
            enu = np.array([40.0 + 8.0 * (at - T0), 150.0 - 9.0 * (at - T0), 80.0])
            noise = float(rng.normal(0.0, sigma))
            messages.append((at, finder, rf_report(at, k, finder, enu, "PKO-LINK-7", noise)))
    for k in range(2, 20):  # the radar sees it from 2 s on, in one scan out of two...
        if k < 8 and k % 2:
            continue
        enu = np.array([40.0 + 8.0 * k, 150.0 - 9.0 * k, 80.0])
        messages.append((T0 + k + 0.3, "radar-1", radar_report(T0 + k + 0.3, k, enu)))
    out = []
    for t, sensor, payload in sorted(messages):
        out += pipeline.submit(f"report.{sensor}", payload, received=t + 0.05)
    out += pipeline.flush()
    cycles = [o for o in out if isinstance(o, wire.TrackCycle)]
    holders = {t.track_id for c in cycles for t in c.tracks if t.friendly}
    assert len(holders) == 1, holders  # one track carried the link throughout
    placed = [t for t in cycles[-1].tracks if "radar-1" in t.sensors]
    assert [t.friendly for t in placed] == [True]
    assert not [o for o in out if isinstance(o, Transition)]
