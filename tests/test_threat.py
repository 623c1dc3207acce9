"""Threat evaluation: what makes a track `none` .. `critical` (cuas/fusion/threat.py)."""

from __future__ import annotations

from unittest import mock

import numpy as np
from support.sky import Sky

from cuas import wire
from cuas.fusion.threat import RANK, TrackGeometry
from cuas.geodesy import LocalFrame


def flight(sky: Sky, name: str, seconds: int) -> list[tuple[str, np.ndarray]]:
    """The threat of track `name` each cycle, with where it was."""
    seen = []
    for _ in range(seconds):
        where = sky.position(name)
        sky.cycle()
        seen.append((sky.threat[name], where))
    return seen


def test_a_drone_heading_for_the_perimeter_is_high_before_it_arrives_then_critical() -> None:
    sky = Sky()
    sky.add("d", (2500.0, 0.0, 100.0), (-20.0, 0.0, 0.0))
    seen = flight(sky, "d", 120)
    levels = [k for k, _ in seen]
    first_critical = levels.index("critical")
    assert seen[first_critical][1][0] <= 350.0  # critical only once across the perimeter
    # High for the last 25 s or more before it crossed, medium before that, rising only.
    assert levels[first_critical - 25 : first_critical] == ["high"] * 25
    assert "medium" in levels[:first_critical]
    ranks = [RANK[k] for k in levels]
    assert ranks == sorted(ranks)


def test_a_loiterer_that_keeps_its_distance_stays_below_critical() -> None:
    """An orbit of 200 m radius, 550 m east of the camp centre (200 m outside the perimeter),
    inside the approach zone: alerting, never critical."""
    sky = Sky()
    centre, radius, speed = np.array([750.0, -300.0]), 200.0, 15.0
    sky.add("l", (centre[0] + radius, centre[1], 150.0), (0.0, speed, 0.0))
    levels = []
    for k in range(300):
        a = k * speed / radius
        pos = centre + radius * np.array([np.cos(a), np.sin(a)])
        sky.set("l", enu=(*pos, 150.0), vel=(-speed * np.sin(a), speed * np.cos(a), 0.0))
        sky.cycle()
        levels.append(sky.threat["l"])
    assert "critical" not in levels
    assert set(levels) <= {"medium", "high"}


def test_friendlies_and_tentative_tracks_on_a_course_into_the_camp_are_no_threat() -> None:
    sky = Sky()
    course = ((1200.0, 0.0, 80.0), (-20.0, 0.0, 0.0))
    sky.add("patrol", *course, friendly=True)
    sky.add("new", *course, tentative=True)
    sky.add("drone", *course)
    for _ in range(70):  # all the way through the perimeter
        sky.cycle()
        assert sky.threat["patrol"] == sky.threat["new"] == "none"
    assert sky.threat["drone"] == "critical"
    assert {a.track_id for a in sky.alerts} == {sky.names["drone"]}


def test_a_track_where_two_lines_merely_cross_is_never_critical() -> None:
    """A finder's bearing and a camera's sight cross whether or not they are of one object:
    until something vouches for its place, a track on their crossing is never surely inside
    the perimeter (its alert gives the line it is on: tests/test_alerts.py); once vouched
    for, it is rated as any other."""
    sky = Sky()
    course = ((1200.0, 0.0, 80.0), (-20.0, 0.0, 0.0))
    sky.add("crossing", *course, vouched=False)
    sky.add("drone", *course)
    levels = []
    for _ in range(70):  # all the way through the perimeter
        sky.cycle()
        levels.append(sky.threat["crossing"])
    assert sky.threat["drone"] == "critical"
    assert "high" in levels and "critical" not in levels
    sky.table.t_vouched[sky._row("crossing")] = sky.t
    sky.cycle()
    assert sky.threat["crossing"] == "critical"


def test_birds_clutter_and_aircraft_are_rated_by_the_perimeter_alone() -> None:
    """Anywhere else a bird is no threat (a flock by the camp); on a course into the perimeter
    it is `medium` a minute out, `high` half a minute out and `critical` inside, because a
    drone taken for a bird flies just so (random camps: 14 of 519 hostile drones crossed the
    perimeter unalerted as birds). Its alert waits `alerts.benign_debounce_s`: a bird by the
    camp turns towards it now and then."""
    sky = Sky()
    course = ((2500.0, 0.0, 80.0), (-20.0, 0.0, 0.0))  # 107 s from the perimeter
    for cls in ("bird", "clutter", "aircraft"):
        sky.add(cls, *course, cls=cls)
    sky.add("drone", *course)
    sky.add("loafer", (700.0, 300.0, 80.0), (0.0, -8.0, 0.0), cls="bird")  # passes the camp by
    levels: dict[str, list[str]] = {name: [] for name in sky.names}
    times = []
    for _ in range(140):
        times.append(sky.t)
        sky.cycle()
        for name in levels:
            levels[name].append(sky.threat[name])
    for cls in ("bird", "clutter", "aircraft"):
        seen = levels[cls]
        medium, high, critical = (seen.index(k) for k in ("medium", "high", "critical"))
        assert set(seen[:medium]) == {"none"}  # further out, or in the approach zone alone
        assert set(seen[medium:high]) == {"medium"} and high - medium >= 25
        assert set(seen[high:critical]) == {"high"} and critical - high >= 25
    assert set(levels["loafer"]) == {"none"}
    assert "none" not in levels["drone"][45:]  # the drone is rated by the approach zone too
    raised = {a.track_id: a.t for a in sky.alerts if a.state == "raised"}
    assert sky.names["loafer"] not in raised
    # The bird's alert comes 20 s after its threat did, half a minute before the perimeter.
    bird = levels["bird"]
    assert raised[sky.names["bird"]] - times[bird.index("medium")] == 20.0
    assert times[bird.index("critical")] - raised[sky.names["bird"]] >= 30.0


def test_a_track_its_own_looks_call_a_bird_is_rated_as_a_bird_whatever_a_link_said() -> None:
    """A finder's bearings naming a drone's link say "drone" of the track they update, but
    the emitter may be anywhere on the finders' lines: a flock's radar track they crossed was
    warned of though its own looks called it a bird (random camps 773, 1097, 1228, 1279 and
    1313). Where its class without those bearings (`TrackTable.class_bare`) is a bird, it is
    rated by the perimeter, as a bird is; where its own looks say drone, as a drone."""
    sky = Sky()
    passing = ((700.0, 300.0, 80.0), (0.0, -8.0, 0.0))  # in the approach zone, passing by
    sky.add("flock", *passing)  # published: a drone, on its link's word
    sky.add("drone", *passing)
    own = {"flock": "bird", "drone": "drone"}
    for name, cls in own.items():
        probs = np.full(len(wire.CLASSES), 0.1 / (len(wire.CLASSES) - 1))
        probs[wire.CLASSES.index(cls)] = 0.9
        sky.table.class_bare[sky._row(name)] = np.log(probs)
    levels: dict[str, set[str]] = {"flock": set(), "drone": set()}
    for _ in range(30):
        sky.cycle()
        for name in levels:
            levels[name].add(sky.threat[name])
    assert levels["flock"] == {"none"}
    assert "medium" in levels["drone"]
    assert {a.track_id for a in sky.alerts} == {sky.names["drone"]}


def test_an_unclassified_track_counts_as_a_possible_drone() -> None:
    sky = Sky()
    sky.add("u", (600.0, 0.0, 80.0), (-10.0, 0.0, 0.0), cls="unknown")
    sky.cycle()
    assert sky.threat["u"] == "high"  # in the approach zone, 25 s from the perimeter


def test_a_course_that_misses_the_perimeter_or_passes_above_it_is_not_critical() -> None:
    sky = Sky()
    sky.add("wide", (-2000.0, 1500.0, 150.0), (20.0, 0.0, 0.0))  # passes 1.5 km north
    sky.add("high", (1500.0, 0.0, 2000.0), (-20.0, 0.0, 0.0))  # over the 1500 m ceiling
    for _ in range(150):
        sky.cycle()
        assert sky.threat["wide"] == "none"
        assert sky.threat["high"] == "none"


def test_a_hovering_drone_inside_the_approach_zone_is_medium() -> None:
    sky = Sky()
    sky.add("h", (0.0, 800.0, 100.0))
    sky.cycle()
    assert sky.threat["h"] == "medium"


def test_a_vague_contact_cannot_alert_on_a_speed_it_does_not_know() -> None:
    """A bearings-only track 2.5 km out "inbound at 55 m/s" with a velocity known to +-40 m/s
    and a position to +-400 m is no more than what is certain of it: not closing, not in the
    approach zone it seems to sit in."""
    sky = Sky()
    sky.add("vague", (1400.0, 0.0, 60.0), (-55.0, 0.0, 0.0))
    sky.add("sharp", (1400.0, 50.0, 60.0), (-55.0, 0.0, 0.0))
    row = sky._row("vague")
    sky.table.P[row] = np.diag([400.0**2, 400.0**2, 100.0**2, 40.0**2, 40.0**2, 5.0**2])
    sky.cycle()
    assert sky.threat["sharp"] in ("high", "medium")
    assert sky.threat["vague"] == "none"


def test_a_far_vague_contact_is_in_a_zone_only_if_its_outward_tail_is() -> None:
    """Lines of sight place a far target in inverse range: two sigmas of 1/r reach further out
    than two sigmas of r. A contact 650 m north of the centre, 346 m inside the approach
    zone's edge (at 996 m) and known to 120 m, is not surely in it (the 1/r bound reaches
    380 m out); the same contact placed by a radar is, and so is one as vague 300 m out,
    where the sensors around the camp see it from all sides (plain sigmas)."""
    sky = Sky()
    sky.add("vague", (0.0, 650.0, 80.0))
    sky.add("sharp", (30.0, 650.0, 80.0))
    sky.add("near", (0.0, 300.0, 80.0))
    for name in ("vague", "near"):
        sky.table.P[sky._row(name)] = np.diag([85.0**2, 85.0**2, 50.0**2, 4.0, 4.0, 1.0])
    sky.cycle()
    assert sky.threat["sharp"] == "medium"
    assert sky.threat["near"] == "medium"
    assert sky.threat["vague"] == "none"


def test_a_contact_placed_well_inside_a_zone_counts_inside_even_when_vague() -> None:
    sky = Sky()
    sky.add("deep", (0.0, 0.0, 60.0))  # the camp centre: 350 m inside the perimeter
    sky.table.P[sky._row("deep")] = np.diag([80.0**2, 80.0**2, 50.0**2, 4.0, 4.0, 1.0])
    sky.cycle()
    assert sky.threat["deep"] == "critical"


def test_the_geodetic_position_is_converted_once_and_only_when_read() -> None:
    frame = LocalFrame(8.65, 24.5, 600.0)
    pos = np.array([[100.0, -250.0, 80.0], [900.0, 40.0, 120.0]])
    with mock.patch.object(LocalFrame, "to_geodetic", wraps=frame.to_geodetic) as convert:
        geo = TrackGeometry(np.zeros((2, 1), bool), np.full(2, np.inf), pos=pos, frame=frame)
        assert convert.call_count == 0  # a scan's threat reads none of it
        lat, lon, alt = geo.lat, geo.lon, geo.alt
        assert convert.call_count == 1
    expected = frame.to_geodetic(pos)
    assert [a.tolist() for a in (lat, lon, alt)] == [a.tolist() for a in expected]
