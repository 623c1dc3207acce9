"""The after-action report of a drill: `DIR/report.html` and `DIR/score.json`.

The HTML file is self-contained (figures embedded as base64 PNG, styles inline), so it can be
mailed or archived as one file: a map of truth against firm tracks with the camp's zones and
sensors, an alert timeline against each hostile's perimeter crossing, GOSPA over time, and the
score tables. `score.json` is `DrillScore.to_dict()`. Figures use matplotlib's Agg backend.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from cuas.fusion.zones import ZoneSet
from simulators.drill.result import DrillResult, target_side

SIDE_COLOURS = {"hostile": "#c0392b", "friendly": "#2471a3", "neutral": "#7f8c8d"}
LEVEL_COLOURS = {"warning": "#f39c12", "critical": "#c0392b"}
KIND_MARKERS = {"radar": "^", "rf": "s", "camera": "D", "remote_id": "o"}

__all__ = ["write_report"]


def write_report(result: DrillResult, directory: str | Path) -> Path:
    """Write `report.html` and `score.json` into `directory`; returns the HTML path."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    (out / "score.json").write_text(json.dumps(result.score.to_dict(), indent=2) + "\n")
    page = out / "report.html"
    page.write_text(render_html(result), encoding="utf-8")
    return page


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _sides(result: DrillResult) -> dict[str, str]:
    return {x.target_id: target_side(x, result.camp) for x in result.scenario.targets}


def map_figure(result: DrillResult) -> str:
    """Map of the drill in camp ENU (km): zones, sensors, truth paths, firm tracks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    camp = result.camp
    frame = camp.local_frame()
    zones = ZoneSet(camp.zones, frame)
    fig, ax = plt.subplots(figsize=(8.5, 8.5))
    for name, level, poly in zip(zones.names, zones.levels, zones.polygons, strict=True):
        closed = np.vstack((poly, poly[:1])) / 1000.0
        ax.fill(closed[:, 0], closed[:, 1], color=LEVEL_COLOURS[level], alpha=0.08)
        ax.plot(closed[:, 0], closed[:, 1], color=LEVEL_COLOURS[level], lw=1.2)
        ax.annotate(name, closed[0], fontsize=8, color=LEVEL_COLOURS[level])
    flown = [result.scenario.radar, *result.scenario.sensors]
    for s in flown:
        p = frame.to_enu(s.lat, s.lon, s.alt_m).reshape(3) / 1000.0
        ax.plot(p[0], p[1], KIND_MARKERS.get(s.kind, "x"), color="black", ms=7)
        ax.annotate(s.id, (p[0], p[1]), xytext=(4, 4), textcoords="offset points", fontsize=7)
    # Truth paths, sampled finely from the targets' own motion.
    sides = _sides(result)
    times = np.arange(0.0, result.scenario.duration_s + 0.5, 1.0)
    enu, _, active = result.scenario.targets.sample(times)
    labelled: set[str] = set()
    for j, target in enumerate(result.scenario.targets):
        mask = active[:, j]
        if not mask.any():
            continue
        side = sides[target.target_id]
        label = f"truth: {side}" if side not in labelled else None
        labelled.add(side)
        path = enu[mask, j] / 1000.0
        ax.plot(path[:, 0], path[:, 1], color=SIDE_COLOURS[side], lw=2.0, alpha=0.45, label=label)
        ax.plot(path[0, 0], path[0, 1], "o", color=SIDE_COLOURS[side], ms=3, alpha=0.6)
    tracks: dict[int, list[list[float]]] = defaultdict(list)
    friendly: dict[int, bool] = defaultdict(bool)
    for cycle in result.cycles:
        for k in cycle.tracks:
            if k.status in ("confirmed", "coasting"):
                tracks[k.track_id].append(k.enu)
                friendly[k.track_id] |= k.friendly
    first = True
    for tid, pts in tracks.items():
        p = np.asarray(pts) / 1000.0
        colour = SIDE_COLOURS["friendly"] if friendly[tid] else "black"
        ax.plot(p[:, 0], p[:, 1], color=colour, lw=0.7, label="firm tracks" if first else None)
        first = False
    alerts = [a for a in result.alerts if a.state == "raised" and a.lat is not None]
    if alerts:
        lat = np.array([a.lat for a in alerts])
        lon = np.array([a.lon for a in alerts])
        alt = np.array([a.alt_m for a in alerts], dtype=np.float64)
        p = frame.to_enu(lat, lon, alt).reshape(-1, 3) / 1000.0
        ax.plot(p[:, 0], p[:, 1], "*", color="#f1c40f", mec="black", ms=10, label="alert raised")
    ax.set_aspect("equal")
    ax.set_xlabel("east (km)")
    ax.set_ylabel("north (km)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"{result.scenario.name}: truth against firm tracks")
    return _png(fig)


def timeline_figure(result: DrillResult) -> str:
    """Alert timeline: one row per alerted track (bar from raised to cleared, coloured by
    level) and, per hostile, its first detection, confirmation and perimeter crossing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    score = result.score
    scale, t0 = result.time_scale, result.t0
    end_s = score.duration_s
    spans: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    open_at: dict[str, tuple[float, str]] = {}
    track_of: dict[str, int | None] = {}
    for a in sorted(result.alerts, key=lambda a: a.t):
        t = (a.t - t0) * scale
        track_of[a.alert_id] = a.track_id
        if a.state == "raised":
            open_at[a.alert_id] = (t, a.level)
        elif a.state == "escalated" and a.alert_id in open_at:
            t_open, level = open_at[a.alert_id]
            spans[a.alert_id].append((t_open, t, level))
            open_at[a.alert_id] = (t, a.level)
        elif a.state == "cleared" and a.alert_id in open_at:
            t_open, level = open_at.pop(a.alert_id)
            spans[a.alert_id].append((t_open, t, level))
    for alert_id, (t_open, level) in open_at.items():
        spans[alert_id].append((t_open, end_s, level))
    false_ids = {a.alert_id: a for a in score.false_alerts}
    owners = {tid: h.target_id for h in score.hostiles for tid in h.tracks}
    rows: list[tuple[str, str]] = []  # (label, alert id or "h:target")
    for h in score.hostiles:
        rows.append((h.target_id, f"h:{h.target_id}"))
    for alert_id in spans:
        tid = track_of.get(alert_id)
        if alert_id in false_ids:
            label = f"track {tid} ({false_ids[alert_id].cause})"
        else:
            label = f"track {tid} ({owners.get(tid, '?')})" if tid is not None else alert_id
        rows.append((label, alert_id))
    height = max(2.5, 0.28 * len(rows) + 1.2)
    fig, ax = plt.subplots(figsize=(10, min(height, 30)))
    for y, (_, key) in enumerate(rows):
        if key.startswith("h:"):
            h = next(x for x in score.hostiles if x.target_id == key[2:])
            if h.first_detection_s is not None:
                ax.plot(h.first_detection_s, y, "|", color="#555", ms=10)
            if h.first_confirmed_s is not None:
                ax.plot(h.first_confirmed_s, y, "o", color="#555", ms=4)
            if h.first_alert_s is not None:
                ax.plot(h.first_alert_s, y, "*", color="#f1c40f", mec="black", ms=9)
            if h.perimeter_s is not None:
                ax.plot(h.perimeter_s, y, "X", color="#c0392b", ms=8)
            continue
        for t_a, t_b, level in spans[key]:
            colour = LEVEL_COLOURS[level]
            if key in false_ids:
                ax.barh(y, t_b - t_a, left=t_a, color=colour, alpha=0.5, hatch="//", height=0.6)
            else:
                ax.barh(y, t_b - t_a, left=t_a, color=colour, height=0.6)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0.0, end_s)
    ax.set_xlabel("scenario time (s)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(
        "hostiles: | detected, o confirmed, * first alert, X perimeter;  "
        "alerts: warning / critical (hatched: false)",
        fontsize=9,
    )
    return _png(fig)


def gospa_figure(result: DrillResult) -> str:
    """GOSPA (c = 100 m) per cycle."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 2.6))
    series = result.score.gospa_series
    if series:
        t, g = np.array(series).T
        ax.plot(t, g, color="#34495e", lw=1.0)
    ax.set_xlabel("scenario time (s)")
    ax.set_ylabel("GOSPA (m)")
    ax.grid(alpha=0.3)
    return _png(fig)


def _cell(x: Any) -> str:
    if x is None:
        return "&ndash;"
    if isinstance(x, float):
        return f"{x:.1f}"
    if isinstance(x, list):
        return html.escape(", ".join(str(v) for v in x))
    return html.escape(str(x))


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
.ok { color: #1e8449; } .bad { color: #c0392b; } img { max-width: 100%; }
.summary td { font-weight: 600; } .muted { color: #777; font-size: 0.85em; }
"""


def render_html(result: DrillResult) -> str:
    """The report page (see the module docstring)."""
    score, sc = result.score, result.scenario
    s = score.summary()
    mode = "live" if result.time_scale != 1.0 or result.replay is None else "as fast as possible"
    if result.replay is None:
        mode = f"live at {result.time_scale:g}x"
    outcome_rows = [
        [
            h.target_id,
            h.first_detection_s,
            h.first_confirmed_s,
            h.first_alert_s,
            h.first_alert_level,
            h.perimeter_s,
            h.warning_s,
            h.outcome,
            h.id_switches,
            h.tracks,
        ]
        for h in score.hostiles
    ]
    summary_rows = [
        ["hostile targets", s["hostiles"]],
        ["reached the perimeter", s["crossing_perimeter"]],
        ["alerted before the perimeter", s["warned_before_perimeter"]],
        ["missed or alerted late", s["missed"]],
        ["median warning time (s)", s["median_warning_s"]],
        ["minimum warning time (s)", s["min_warning_s"]],
        ["false alerts", s["false_alerts"]],
        ["friendly mistakes", s["friendly_mistakes"]],
        ["mean GOSPA (m, c = 100 m)", s["mean_gospa_m"]],
        ["mean GOSPA per true target (m)", s["mean_gospa_per_target_m"]],
        ["mean position error (m)", s["mean_position_error_m"]],
        ["track-id switches (all targets)", s["id_switches"]],
        ["track-id switches (hostiles)", s["hostile_id_switches"]],
        ["tracks confirmed", score.tracks_confirmed],
        ["alerts raised", score.alerts_raised],
    ]
    false_rows = [
        [a.t_s, a.track_id, a.cause, a.target_id, a.level, a.zone] for a in score.false_alerts
    ]
    mistake_rows = [[m.t_s, m.target_id, m.kind, m.track_id] for m in score.friendly_mistakes]
    events = "".join(f"<li>{html.escape(repr(e))}</li>" for e in sc.events) or "<li>none</li>"
    flown = ", ".join(f"{x.id} ({x.kind})" for x in (sc.radar, *sc.sensors))
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>After-action report: {html.escape(sc.name)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>After-action report: drill <code>{html.escape(sc.name)}</code></h1>",
        f"<p>{html.escape(sc.description)}</p>",
        f"<p class='muted'>camp {html.escape(result.camp.camp_id)}; seed {result.seed}; "
        f"{sc.duration_s:.0f} s of scenario flown {mode}; {len(sc.targets)} targets; "
        f"sensors: {html.escape(flown)}</p>",
        "<h2>Summary</h2>",
        "<table class='summary'>"
        + "".join(f"<tr><td>{html.escape(k)}</td><td>{_cell(v)}</td></tr>" for k, v in summary_rows)
        + "</table>",
        "<h2>Hostile targets</h2>",
        "<p class='muted'>Times in scenario seconds. Warning time = perimeter crossing - first "
        "alert. Outcomes: warned (alert before the perimeter), late (after), missed (crossed, "
        "never alerted), alerted / unalerted (never crossed).</p>",
        _table(
            [
                "target",
                "detected",
                "confirmed",
                "first alert",
                "level",
                "perimeter",
                "warning (s)",
                "outcome",
                "id switches",
                "tracks",
            ],
            outcome_rows,
        ),
        "<h2>Map</h2>",
        f"<img alt='map' src='data:image/png;base64,{map_figure(result)}'>",
        "<h2>Alert timeline</h2>",
        f"<img alt='alert timeline' src='data:image/png;base64,{timeline_figure(result)}'>",
        "<h2>Tracking accuracy (GOSPA per cycle)</h2>",
        f"<img alt='GOSPA' src='data:image/png;base64,{gospa_figure(result)}'>",
        "<h2>False alerts</h2>",
        _table(["t (s)", "track", "cause", "target", "level", "zone"], false_rows)
        if false_rows
        else "<p>None.</p>",
        "<h2>Friendly mistakes</h2>",
        _table(["t (s)", "target", "mistake", "track"], mistake_rows)
        if mistake_rows
        else "<p>None.</p>",
        "<h2>Scripted events</h2>",
        f"<ul>{events}</ul>",
        "<p class='muted'>Machine-readable scores: score.json beside this file.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)
