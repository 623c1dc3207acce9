// cuas console: the page. One WebSocket from the console brings the camp (hello), the whole
// picture (snapshot) and every change; the page sends operators' acks (and review controls).
// Selectors that tests and integrators rely on (DESIGN.md): [data-track-id], [data-alert-id],
// [data-alert-id] button[data-action="ack"], input[name="operator"], [data-sensor-id].
"use strict";

const TRAIL_S = 60;          // trail of the last minute
const LEADER_S = 10;         // velocity leader: where the track will be in 10 s
const SIGMA_SHOWN_M = 25;    // draw the 2-sigma circle when the position is worse than this
const LABELS_MAX = 25;       // label at most this many tracks: alerted first, then by threat
const THREAT_RANK = {none: 0, low: 1, medium: 2, high: 3, critical: 4};
const HEALTH_COLOUR = {ok: "#3fbf5f", degraded: "#e0a800", fault: "#e0302a", unknown: "#6c7f8f"};
const LEVEL_RANK = {critical: 0, warning: 1};

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, text) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};
const utc = t => (t == null ? "--:--:--" : new Date(t * 1000).toISOString().slice(11, 19)) + "Z";
const fmtS = s => (s == null ? "-" : s < 90 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`);

const S = {
  camp: null, mode: "live", tiled: false,
  tracks: new Map(),    // id -> {track, marker, sidc, trail: [[t, ll]], sigma, label}
  alerts: new Map(),    // alert id -> alert
  sensors: new Map(),   // sensor id -> health
  history: [],
  link: {broker: null, core: null}, ws: false,
  lastCycleWall: null, cycleT: null,
  review: null, reviewClock: null,
  selected: null,
  pending: new Map(),   // alert id -> operator, ack sent and not yet confirmed
  muted: localStorage.getItem("cuas.muted") === "1",
};

// --- the map -------------------------------------------------------------------------------
// Without tiles: Leaflet's simple CRS, 1 unit = 1 m, LatLng(north, east) in the camp's ENU
// frame. With tiles: Web Mercator and lat/lon; ENU offsets (wedges, leaders) go through P().
let map, canvas, layers;
// Leaflet restacks every marker (style.zIndex = y) on each move: 500 stacking changes per
// cycle cost more than the moves. Tracks are stacked by insertion instead.
L.Marker.prototype._updateZIndex = function () {};

function offsetLL(ll, e, n) {  // a point e metres east and n north of ll
  if (!S.tiled) return L.latLng(ll.lat + n, ll.lng + e);
  return L.latLng(ll.lat + n / 111132.0, ll.lng + e / (111320.0 * Math.cos(ll.lat * Math.PI / 180)));
}
function P(e, n) {  // a point of the camp's ENU frame
  return S.tiled ? offsetLL(L.latLng(S.camp.origin.lat, S.camp.origin.lon), e, n) : L.latLng(n, e);
}
function trackLL(t) { return S.tiled ? L.latLng(t.lat, t.lon) : P(t.enu[0], t.enu[1]); }
function alertLL(a) {
  const t = a.track_id != null && S.tracks.get(String(a.track_id));
  if (t) return t.marker.getLatLng();
  if (a.lat == null) return null;
  if (S.tiled) return L.latLng(a.lat, a.lon);
  const o = S.camp.origin, lat0 = o.lat * Math.PI / 180;
  return P((a.lon - o.lon) * 111320.0 * Math.cos(lat0), (a.lat - o.lat) * 111132.0);
}

function buildMap(camp) {
  if (map) { map.remove(); S.tracks.clear(); trackLines = null; }
  S.tiled = !!camp.tiles;
  canvas = L.canvas({padding: 0.2});
  const opts = {zoomSnap: 0.25, renderer: canvas, attributionControl: true};
  map = S.tiled ? L.map("map", opts) : L.map("map", {...opts, crs: L.CRS.Simple, minZoom: -6, maxZoom: 4});
  map.attributionControl.setPrefix('<span title="Leaflet 1.9.4 (BSD-2-Clause), milsymbol 3.0.4 (MIT)">Leaflet · milsymbol</span>');
  const x = camp.extent_m, v = camp.view_m;
  map.fitBounds([P(-v, -v), P(v, v)]);
  layers = {base: L.layerGroup().addTo(map), zones: L.layerGroup().addTo(map),
            sensors: L.layerGroup().addTo(map), tracks: L.layerGroup().addTo(map)};
  if (S.tiled) {
    L.tileLayer("/tiles/{z}/{x}/{y}", {maxZoom: 19, attribution: "camp tiles"}).addTo(layers.base);
  } else {
    drawGrid(x);
  }
  L.control.scale({metric: true, imperial: false}).addTo(map);
  for (const z of camp.zones) {
    const pts = S.tiled ? z.polygon.map(p => L.latLng(p[0], p[1])) : z.enu.map(p => P(p[0], p[1]));
    const colour = z.level === "critical" ? "#e0302a" : "#e0a800";
    L.polygon(pts, {color: colour, weight: 1.5, fillOpacity: 0.05, interactive: false,
                    dashArray: z.name === "perimeter" ? null : "6 4"})
      .bindTooltip(`${z.name} (${z.level})`, {permanent: false}).addTo(layers.zones);
  }
  S.sensorShapes = new Map();
  for (const s of camp.sensors) {
    const at = P(s.enu[0], s.enu[1]), colour = HEALTH_COLOUR.unknown;
    const cover = s.fov_az_deg >= 360
      ? L.circle(at, {radius: s.max_range_m, color: colour, weight: 1, opacity: 0.7, fillOpacity: 0.02, interactive: false})
      : L.polygon(wedge(s), {color: colour, weight: 1, opacity: 0.7, fillOpacity: 0.03, interactive: false});
    const dot = L.circleMarker(at, {radius: 5, color: "#fff", weight: 1, fillColor: colour, fillOpacity: 1})
      .bindTooltip(`${s.id} (${s.kind})`);
    cover.addTo(layers.sensors); dot.addTo(layers.sensors);
    S.sensorShapes.set(s.id, {cover, dot});
  }
}

function wedge(s) {
  const pts = [P(s.enu[0], s.enu[1])], half = s.fov_az_deg / 2, steps = 24;
  for (let i = 0; i <= steps; i++) {
    const az = (s.boresight_az_deg - half + (s.fov_az_deg * i) / steps) * Math.PI / 180;
    pts.push(P(s.enu[0] + s.max_range_m * Math.sin(az), s.enu[1] + s.max_range_m * Math.cos(az)));
  }
  return pts;
}

function drawGrid(extent) {
  const step = extent > 6000 ? 1000 : 500;
  for (let v = -extent; v <= extent; v += step) {
    const style = {color: v === 0 ? "#4f7a68" : "#223340", weight: v === 0 ? 1.2 : (v % 1000 === 0 ? 0.8 : 0.5), interactive: false};
    L.polyline([P(v, -extent), P(v, extent)], style).addTo(layers.base);
    L.polyline([P(-extent, v), P(extent, v)], style).addTo(layers.base);
  }
  for (let r = 500; r <= extent; r += r < 2000 ? 500 : 1000) {
    L.circle(P(0, 0), {radius: r, color: "#3c8f76", weight: 1, fill: false, interactive: false}).addTo(layers.base);
    L.marker(P(0, r), {interactive: false, keyboard: false, icon: L.divIcon({className: "ring-label",
      html: r >= 1000 ? `${r / 1000} km` : `${r} m`, iconSize: null, iconAnchor: [-3, 14]})}).addTo(layers.base);
  }
  L.circleMarker(P(0, 0), {radius: 3, color: "#fff", weight: 1, fillOpacity: 1, interactive: false}).addTo(layers.base);
}

// --- track symbols (MIL-STD-2525C via milsymbol) ------------------------------------------------
// Affiliation: friend F, hostile H (high/critical threat or alerted), suspect S (low/medium),
// unknown U. Function: rotary-wing UAV for drones, fixed wing for aircraft, a bare air track
// otherwise. Status: present P; anticipated A (dashed frame) while tentative or coasting.
const FUNCTION = {drone: "MHQ---", aircraft: "MF----"};
const iconCache = new Map();
function sidcOf(t, alerted) {
  const aff = t.friendly ? "F" : (alerted || t.threat === "high" || t.threat === "critical") ? "H"
    : (t.threat === "low" || t.threat === "medium") ? "S" : "U";
  const status = t.status === "confirmed" ? "P" : "A";
  return `S${aff}A${status}${FUNCTION[t.class] || "------"}-----`;
}
function iconFor(sidc) {
  let icon = iconCache.get(sidc);
  if (!icon) {
    const s = new ms.Symbol(sidc, {size: 20});
    const a = s.getAnchor(), z = s.getSize();
    // One <img> per track sharing a data: URL per symbol: cheap to draw, and setIcon() keeps
    // the same element, so its data-track-id survives.
    icon = L.icon({iconUrl: s.toDataURL(), className: "trk",
                   iconSize: [Math.ceil(z.width), Math.ceil(z.height)],
                   iconAnchor: [Math.round(a.x), Math.round(a.y)]});
    iconCache.set(sidc, icon);
  }
  return icon;
}

function alertOfTrack(id) {
  for (const a of S.alerts.values()) if (String(a.track_id) === id) return a;
  return null;
}

function labelOf(t, alert) {
  const speed = Math.hypot(t.vel_enu[0], t.vel_enu[1]);
  let text = `${t.track_id} ${t.class} ${speed.toFixed(0)} m/s ${t.enu[2].toFixed(0)} m`;
  if (alert && alert.eta_s != null) text += ` · ${fmtS(alert.eta_s)} to perimeter`;
  if (t.friendly) text += " · friendly";
  return text;
}

function applyCycle(cycle) {
  S.cycleT = cycle.t; S.lastCycleWall = Date.now();
  const seen = new Set(), counts = {}, labelled = chooseLabelled(cycle.tracks), labels = [];
  // Trails and leaders: one multi-line per colour, so 500 tracks cost six canvas layers.
  const lines = {trails: {}, leaders: {}};
  for (const c of TRACK_COLOURS) { lines.trails[c] = []; lines.leaders[c] = []; }
  for (const t of cycle.tracks) {
    if (t.status === "deleted") continue;
    const id = String(t.track_id); seen.add(id);
    counts[t.class] = (counts[t.class] || 0) + 1;
    const ll = trackLL(t), alert = alertOfTrack(id), sidc = sidcOf(t, !!alert);
    let rec = S.tracks.get(id);
    if (!rec) {
      const marker = L.marker(ll, {icon: iconFor(sidc), keyboard: false}).addTo(layers.tracks);
      marker.on("click", () => select(id));
      rec = {marker, sidc, trail: [], sigma: null, label: null};
      S.tracks.set(id, rec);
      tag(rec, id);
    } else {
      rec.marker.setLatLng(ll);
      if (rec.sidc !== sidc) { rec.sidc = sidc; rec.marker.setIcon(iconFor(sidc)); tag(rec, id); }
    }
    rec.track = t;
    const e = rec.marker.getElement(), look = `${t.threat} ${t.class} ${t.status}`;
    if (e && rec.look !== look) {  // attribute writes restyle the element: only on change
      rec.look = look; e.dataset.threat = t.threat; e.dataset.class = t.class; e.dataset.status = t.status;
    }
    // trail: the last minute of positions
    rec.trail.push([t.t, ll]);
    while (rec.trail.length && rec.trail[0][0] < t.t - TRAIL_S) rec.trail.shift();
    const colour = t.friendly ? "#4fb3ff" : alert ? "#ff5f57" : "#d7c26a";
    lines.trails[colour].push(rec.trail.map(p => p[1]));
    // velocity leader
    const ahead = offsetLL(ll, t.vel_enu[0] * LEADER_S, t.vel_enu[1] * LEADER_S);
    lines.leaders[colour].push([ll, ahead]);
    // uncertainty where it is large
    if (t.pos_sigma_m > SIGMA_SHOWN_M) {
      if (!rec.sigma) rec.sigma = L.circle(ll, {radius: 2 * t.pos_sigma_m, color: colour, weight: 1, dashArray: "3 3", fillOpacity: 0.05, interactive: false}).addTo(layers.tracks);
      else { rec.sigma.setLatLng(ll); rec.sigma.setRadius(2 * t.pos_sigma_m); }
    } else if (rec.sigma) { rec.sigma.remove(); rec.sigma = null; }
    if (labelled.has(t)) labels.push([rec, labelOf(t, alert)]);
    else if (rec.label) { rec.marker.unbindTooltip(); rec.label = null; }
  }
  // Labels last: a label's new text makes the browser measure it (a layout), so they are
  // changed after every marker has moved, not in between, and only where the text changed.
  for (const [rec, text] of labels) {
    if (!rec.label) rec.marker.bindTooltip(text, {permanent: true, direction: "right", className: "trk-label", offset: [8, 0]});
    else if (rec.label !== text) rec.marker.setTooltipContent(text);
    rec.label = text;
  }
  for (const [id, rec] of S.tracks) if (!seen.has(id)) removeTrack(id, rec);
  drawLines(lines);
  showCounts(counts);
}

const TRACK_COLOURS = ["#4fb3ff", "#ff5f57", "#d7c26a"];  // friendly, alerted, other
let trackLines = null;
function drawLines(lines) {
  if (!trackLines) {
    trackLines = {trails: {}, leaders: {}};
    for (const c of TRACK_COLOURS) {
      trackLines.trails[c] = L.polyline([], {color: c, weight: 1.5, opacity: 0.6, interactive: false}).addTo(layers.tracks);
      trackLines.leaders[c] = L.polyline([], {color: c, weight: 2, interactive: false}).addTo(layers.tracks);
    }
  }
  for (const kind of ["trails", "leaders"])
    for (const c of TRACK_COLOURS) trackLines[kind][c].setLatLngs(lines[kind][c] || []);
}

function chooseLabelled(tracks) {
  const live = tracks.filter(t => t.status !== "deleted");
  if (live.length <= LABELS_MAX) return new Set(live);
  const alerted = new Set([...S.alerts.values()].map(a => String(a.track_id)));
  const score = t => (alerted.has(String(t.track_id)) ? 10 : 0) + THREAT_RANK[t.threat] +
    (S.selected === String(t.track_id) ? 20 : 0);
  return new Set(live.sort((a, b) => score(b) - score(a)).slice(0, LABELS_MAX));
}

function tag(rec, id) {
  const e = rec.marker.getElement();
  if (e) { e.dataset.trackId = id; if (S.selected === id) e.classList.add("selected"); }
}
function removeTrack(id, rec) {
  for (const layer of [rec.marker, rec.sigma]) if (layer) layer.remove();
  S.tracks.delete(id);
}
function clearTracks() {
  for (const [id, rec] of S.tracks) removeTrack(id, rec);
  if (trackLines) drawLines({trails: {}, leaders: {}});
  showCounts({});
}

function showCounts(counts) {
  const box = $('[data-field="counts"]'); box.textContent = "";
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  box.append(el("span", {"data-count": "total"}, `${total} tracks`));
  for (const c of ["drone", "bird", "aircraft", "clutter", "unknown"])
    if (counts[c]) box.append(el("span", {"data-count": c}, `${c} ${counts[c]}`));
}

function select(id) {
  S.selected = id;
  for (const e of document.querySelectorAll(".trk.selected")) e.classList.remove("selected");
  const rec = S.tracks.get(id);
  if (rec && rec.marker.getElement()) rec.marker.getElement().classList.add("selected");
}

// --- alerts --------------------------------------------------------------------------------
function renderAlerts() {
  const box = $("#alerts"); box.textContent = "";
  const list = [...S.alerts.values()].sort((a, b) =>
    (LEVEL_RANK[a.level] - LEVEL_RANK[b.level]) || (a.t_raised - b.t_raised));
  $('[data-field="alert-count"]').textContent = list.length ? `(${list.length})` : "";
  if (!list.length) { box.append(el("p", {class: "empty"}, "No active alerts")); return; }
  const now = nowT();
  for (const a of list) {
    const row = el("div", {class: "alert", "data-alert-id": a.alert_id, "data-level": a.level,
      "data-state": a.state, "data-acknowledged": String(!!a.acknowledged_by)});
    if (a.fresh) row.classList.add("fresh");
    const head = el("div", {class: "head"});
    head.append(el("span", {class: "level"}, a.level), el("span", {class: "id"}, a.alert_id),
                el("span", {class: "zone"}, a.zone || ""),
                el("span", {class: "age", "data-field": "age"}, fmtS(Math.max(0, now - a.t_raised))));
    const foot = el("div", {class: "foot"});
    foot.append(el("span", {class: "eta"}, `ETA ${fmtS(a.eta_s)}`),
                el("span", {class: "track"}, a.track_id != null ? `track ${a.track_id}` : ""));
    const state = el("span", {class: "ack-state", "data-field": "ack-state"});
    if (a.acknowledged_by) state.textContent = `acknowledged by ${a.acknowledged_by}`;
    else if (S.pending.has(a.alert_id)) state.textContent = `ack sent (${S.pending.get(a.alert_id)})…`;
    else state.textContent = a.state;
    foot.append(state);
    if (S.mode === "live") {
      const b = el("button", {type: "button", "data-action": "ack"}, "Acknowledge");
      b.disabled = !!a.acknowledged_by;
      b.addEventListener("click", ev => { ev.stopPropagation(); acknowledge(a.alert_id); });
      foot.append(b);
    }
    row.append(head, el("div", {class: "reason"}, a.reason), foot);
    row.addEventListener("click", () => centreOn(a));
    box.append(row);
  }
}

function centreOn(a) {
  const ll = alertLL(a);
  if (ll) map.setView(ll, Math.max(map.getZoom(), S.tiled ? 16 : -1));
  if (a.track_id != null) select(String(a.track_id));
  for (const r of document.querySelectorAll(".alert.selected")) r.classList.remove("selected");
  const row = document.querySelector(`[data-alert-id="${CSS.escape(a.alert_id)}"]`);
  if (row) row.classList.add("selected");
}

function operatorName() { return $('input[name="operator"]').value.trim(); }
function acknowledge(id) {
  const input = $('input[name="operator"]'), by = operatorName();
  if (!by) {  // asked once: the name is then remembered in this browser
    input.classList.add("wanted"); input.placeholder = "your name, to acknowledge"; input.focus();
    return;
  }
  input.classList.remove("wanted");
  localStorage.setItem("cuas.operator", by);
  if (!send({kind: "ack", alert_id: id, by})) return;
  S.pending.set(id, by);
  renderAlerts();
}

function onAlert(a, event) {
  const known = S.alerts.get(a.alert_id);
  if (known && known.t > a.t) return;
  if (a.acknowledged_by) S.pending.delete(a.alert_id);
  if (a.state === "cleared") S.alerts.delete(a.alert_id);
  else {
    const fresh = event && (a.state === "raised" || a.state === "escalated");
    const kept = {...a, fresh};
    S.alerts.set(a.alert_id, kept);
    if (fresh) setTimeout(() => { kept.fresh = false; }, 3000);  // flash once, not on every redraw
  }
  if (event) {
    S.history.unshift(a); S.history.length = Math.min(S.history.length, 100);
    renderHistory();
    if (a.state === "raised" || a.state === "escalated") alarm(a.level);
  }
  renderAlerts();
}

function renderHistory() {
  const box = $("#history"); box.textContent = "";
  for (const a of S.history.slice(0, 40)) {
    const li = el("li", {"data-history-alert-id": a.alert_id, "data-state": a.state});
    li.append(`${utc(a.t)} `, el("span", {class: "st"}, a.state), ` ${a.level} ${a.alert_id}` +
      (a.acknowledged_by && a.state === "acknowledged" ? ` by ${a.acknowledged_by}` : "") + ` — ${a.reason}`);
    box.append(li);
  }
}

// --- audible alarm (Web Audio; browsers allow sound after the first click on the page) -------
let audio = null;
document.addEventListener("click", () => { if (!audio && window.AudioContext) audio = new AudioContext(); }, {once: true});
function alarm(level) {
  if (S.muted || S.mode !== "live" || !audio) return;
  const beeps = level === "critical" ? 3 : 1;
  for (let i = 0; i < beeps; i++) {
    const o = audio.createOscillator(), g = audio.createGain(), t0 = audio.currentTime + i * 0.35;
    o.frequency.value = level === "critical" ? 880 : 660;
    g.gain.setValueAtTime(0.2, t0); g.gain.exponentialRampToValueAtTime(0.001, t0 + 0.3);
    o.connect(g).connect(audio.destination); o.start(t0); o.stop(t0 + 0.3);
  }
}
function showMute() {
  const b = $('[data-action="mute"]');
  b.setAttribute("aria-pressed", String(S.muted)); b.textContent = S.muted ? "Alarm muted" : "Alarm on";
}

// --- sensors --------------------------------------------------------------------------------
function renderSensors() {
  const box = $("#sensors"); box.textContent = "";
  const now = nowT();
  for (const s of S.camp.sensors) {
    const h = S.sensors.get(s.id), state = h ? h.state : "unknown";
    const row = el("div", {class: "sensor", "data-sensor-id": s.id, "data-state": state});
    const last = h && h.t_last_report != null ? `last report ${fmtS(Math.max(0, now - h.t_last_report))} ago` : "no report yet";
    row.append(el("span", {class: "name"}, `${s.id} (${s.kind})`), el("span", {class: "state"}, state),
               el("span", {class: "rate"}, !h ? "" : h.report_rate_hz > 0 ? `${h.report_rate_hz.toFixed(1)} Hz` : `${h.reports} reports`),
               el("span", {class: "detail"}, last + (h && h.detail ? ` · ${h.detail}` : "")));
    box.append(row);
    const shape = S.sensorShapes.get(s.id);
    if (shape) { const c = HEALTH_COLOUR[state]; shape.cover.setStyle({color: c}); shape.dot.setStyle({fillColor: c}); }
  }
}

// --- links: the offline banner -------------------------------------------------------------
function renderBanner() {
  const b = $("#banner");
  let reason = null, text = "";
  if (S.mode === "review") reason = null;
  else if (!S.ws) { reason = "console"; text = "Console unreachable: reconnecting…"; }
  else if (S.link.broker === false) { reason = "broker"; text = "Broker unreachable: the picture is not live"; }
  else if (S.link.core === "offline") { reason = "core"; text = "Fusion core OFFLINE: no tracks or alerts are being produced"; }
  else if (S.lastCycleWall && Date.now() - S.lastCycleWall > 5000) { reason = "stale"; text = `No track update for ${Math.round((Date.now() - S.lastCycleWall) / 1000)} s`; }
  b.hidden = !reason; b.textContent = text;
  if (reason) b.dataset.reason = reason; else delete b.dataset.reason;
}

// --- review mode -----------------------------------------------------------------------------
function setupReview(review) {
  S.review = review;
  $("#review").hidden = false;
  const seek = $('[data-control="seek"]'), speed = $('[data-control="speed"]');
  seek.min = review.t0; seek.max = review.t1; seek.step = 0.1;
  speed.textContent = "";
  for (const v of review.speeds) speed.append(el("option", {value: v}, `${v}×`));
  speed.onchange = () => send({kind: "review", speed: Number(speed.value)});
  seek.oninput = () => { S.seeking = true; $('[data-field="review-time"]').textContent = utc(Number(seek.value)); };
  seek.onchange = () => { S.seeking = false; send({kind: "review", seek: Number(seek.value)}); };
  $('[data-control="play"]').onclick = () => {
    const c = S.reviewClock || {};
    if (!c.paused) send({kind: "review", paused: true});
    else if (c.t >= review.t1) send({kind: "review", seek: review.t0, paused: false});
    else send({kind: "review", paused: false});
  };
}
function showReviewClock(c) {
  S.reviewClock = c;
  if (!S.seeking) $('[data-control="seek"]').value = c.t;
  $('[data-control="speed"]').value = c.speed;
  $('[data-control="play"]').textContent = c.paused ? "Play" : "Pause";
  const r = S.review;
  $('[data-field="review-time"]').textContent = `${utc(c.t)}  (+${(c.t - r.t0).toFixed(1)} s of ${(r.t1 - r.t0).toFixed(0)} s)`;
  document.body.dataset.reviewT = c.t.toFixed(2);
}

function nowT() { return S.mode === "review" && S.reviewClock ? S.reviewClock.t : Date.now() / 1000; }

// --- the feed --------------------------------------------------------------------------------
// window.cuasPerf: per track cycle, when it arrived and when it was drawn (for benchmarks).
const perf = {updates: [], loaf: []};
window.cuasPerf = perf;
try {
  new PerformanceObserver(l => { for (const e of l.getEntries()) perf.loaf.push({start: e.startTime, d: e.duration, block: e.blockingDuration}); })
    .observe({type: "long-animation-frame", buffered: true});
} catch (e) { perf.loafUnsupported = String(e); }

function onTracks(cycle, recv) {
  const t0 = performance.now();
  applyCycle(cycle);
  const js = performance.now() - t0;
  requestAnimationFrame(() => {  // a message posted from rAF runs after that frame is drawn
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      if (perf.updates.length > 5000) perf.updates.splice(0, 1000);
      perf.updates.push({cycle_t: cycle.t, n: cycle.tracks.length, js, frame: performance.now() - recv,
                         at: performance.now(), drawn: Date.now() / 1000});
    };
    ch.port2.postMessage(0);
  });
}

let socket = null;
function send(obj) {
  if (!socket || socket.readyState !== WebSocket.OPEN) { renderBanner(); return false; }
  socket.send(JSON.stringify(obj)); return true;
}

function handle(m, recv) {
  switch (m.kind) {
    case "hello":
      S.camp = m.camp; S.mode = m.mode; document.body.dataset.mode = m.mode;
      $('[data-field="camp"]').textContent = `Camp ${m.camp.label}`;
      $('[data-field="mode"]').textContent = m.mode === "review" ? `review of ${m.recording}` : "live";
      document.title = `cuas ${m.camp.camp_id}` + (m.mode === "review" ? " (review)" : "");
      buildMap(m.camp);
      if (m.mode === "review") setupReview(m.review);
      break;
    case "snapshot":
      clearTracks(); S.alerts.clear(); S.sensors.clear(); S.history = [];
      for (const h of m.sensors) S.sensors.set(h.sensor_id, h);
      for (const a of m.alerts) S.alerts.set(a.alert_id, a);
      S.history = m.history; S.link = m.link;
      if (m.tracks) applyCycle(m.tracks);
      renderAlerts(); renderHistory(); renderSensors(); renderBanner();
      break;
    case "tracks": onTracks(m.cycle, recv); break;
    case "alert": onAlert(m.alert, m.event); break;
    case "alert_removed": S.alerts.delete(m.alert_id); renderAlerts(); break;
    case "sensor": S.sensors.set(m.sensor.sensor_id, m.sensor); renderSensors(); break;
    case "link": S.link = {broker: m.broker, core: m.core}; renderBanner(); break;
    case "review": showReviewClock(m); break;
    case "error": console.warn("console refused a request:", m.error); break;
  }
}

function connect() {
  socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  socket.onopen = () => { S.ws = true; document.body.dataset.ws = "open"; renderBanner(); };
  socket.onmessage = ev => { const recv = performance.now(); handle(JSON.parse(ev.data), recv); };
  socket.onclose = () => { S.ws = false; document.body.dataset.ws = "closed"; renderBanner(); setTimeout(connect, 1000); };
}

// --- start -----------------------------------------------------------------------------------
const opInput = $('input[name="operator"]');
opInput.value = localStorage.getItem("cuas.operator") || "";
opInput.addEventListener("change", () => { const v = operatorName(); if (v) { localStorage.setItem("cuas.operator", v); opInput.classList.remove("wanted"); } });
$('[data-action="mute"]').addEventListener("click", () => {
  S.muted = !S.muted; localStorage.setItem("cuas.muted", S.muted ? "1" : "0"); showMute();
});
showMute();
setInterval(() => {
  $('[data-field="clock"]').textContent = utc(nowT());
  if (S.camp) { renderBanner(); for (const r of document.querySelectorAll('[data-alert-id] [data-field="age"]')) {
    const a = S.alerts.get(r.closest("[data-alert-id]").dataset.alertId); if (a) r.textContent = fmtS(Math.max(0, nowT() - a.t_raised)); } }
}, 500);
connect();
