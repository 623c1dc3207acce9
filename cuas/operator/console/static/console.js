// cuas console: the page. One WebSocket from the console brings the camps (hello), the whole
// picture (snapshot) and every change (track cycles, and between them the tracks each scan
// updated); the page sends operators' acks (and review controls).
// Selectors that tests and integrators rely on (DESIGN.md): [data-track-id], [data-alert-id],
// [data-alert-id] button[data-action="ack"], input[name="operator"], [data-sensor-id]; each
// also carries data-camp-id; an alert that gives a line of sight, data-seen-from and
// data-bearing; a track, data-placed (a mission's camps may reuse track, alert and sensor ids).
"use strict";

const TRAIL_S = 60;          // trail of the last minute
const TRAIL_STEP_S = 1;      // trail points at least this far apart (updates move the newest)
const LEADER_S = 10;         // velocity leader: where the track will be in 10 s
const SIGMA_SHOWN_M = 25;    // draw the 2-sigma circle when the position is worse than this
const LABELS_MAX = 25;       // label at most this many tracks: alerted first, then by threat
const STALE_MS = 5000;       // no track cycle for this long: say so
const THREAT_RANK = {none: 0, low: 1, medium: 2, high: 3, critical: 4};
const HEALTH_COLOUR = {ok: "#3fbf5f", degraded: "#e0a800", fault: "#e0302a", unknown: "#6c7f8f"};
const LEVEL_RANK = {critical: 0, warning: 1};
const TRACK_COLOURS = ["#4fb3ff", "#ff5f57", "#d7c26a"];  // friendly, alerted, other

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, text) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};
const utc = t => (t == null ? "--:--:--" : new Date(t * 1000).toISOString().slice(11, 19)) + "Z";
const fmtS = s => (s == null ? "-" : s < 90 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`);
const key = (camp, id) => `${camp}/${id}`;

const S = {
  mode: "live", tiled: false,
  camps: new Map(),     // camp id -> its view (zones, sensors, offset in the map's frame)
  order: [],            // camp ids in the mission's order
  filter: "",           // the camp selector: "" for every camp
  tracks: new Map(),    // camp/track id -> {camp, track, marker, sidc, trail, sigma, label, look}
  lines: new Map(),     // camp -> {trails: {colour: [...]}, leaders: {...}}
  counts: new Map(),    // camp -> {class: n}
  alerts: new Map(),    // camp/alert id -> alert
  sensors: new Map(),   // camp/sensor id -> health
  history: [],
  links: new Map(),     // camp -> {broker, core}
  lastCycle: new Map(), // camp -> wall clock (ms) of its last track cycle
  ws: false,
  review: null, reviewClock: null,
  selected: null,       // camp/track id
  pending: new Map(),   // camp/alert id -> operator, ack sent and not yet confirmed
  muted: localStorage.getItem("cuas.muted") === "1",
};

// --- the map -------------------------------------------------------------------------------
// Without tiles: Leaflet's simple CRS, 1 unit = 1 m, LatLng(north, east) in the first camp's
// ENU frame (each camp is placed at its offset_m). With tiles: Web Mercator and lat/lon; ENU
// offsets (wedges, leaders) go through offsetLL.
let map, layers, trackLines = null;
// Leaflet restacks every marker (style.zIndex = y) on each move: 500 stacking changes per
// cycle cost more than the moves. Tracks are stacked by insertion instead.
L.Marker.prototype._updateZIndex = function () {};

function offsetLL(ll, e, n) {  // a point e metres east and n north of ll
  if (!S.tiled) return L.latLng(ll.lat + n, ll.lng + e);
  return L.latLng(ll.lat + n / 111132.0, ll.lng + e / (111320.0 * Math.cos(ll.lat * Math.PI / 180)));
}
function mapOrigin() { const o = S.camps.get(S.order[0]).origin; return L.latLng(o.lat, o.lon); }
function P(camp, e, n) {  // a point of a camp's ENU frame
  if (S.tiled) return offsetLL(L.latLng(camp.origin.lat, camp.origin.lon), e, n);
  return L.latLng(camp.offset_m[1] + n, camp.offset_m[0] + e);
}
function trackLL(camp, t) { return S.tiled ? L.latLng(t.lat, t.lon) : P(camp, t.enu[0], t.enu[1]); }
function geoLL(lat, lon) {  // lat/lon on the map
  if (S.tiled) return L.latLng(lat, lon);
  const o = mapOrigin(), lat0 = o.lat * Math.PI / 180;
  return L.latLng((lat - o.lat) * 111132.0, (lon - o.lng) * 111320.0 * Math.cos(lat0));
}
function alertLL(a) {
  const rec = a.track_id != null && S.tracks.get(key(a.camp, a.track_id));
  if (rec) return rec.marker.getLatLng();
  return a.lat == null ? null : geoLL(a.lat, a.lon);
}
function campBounds(camp, metres) {
  return L.latLngBounds([P(camp, -metres, -metres), P(camp, metres, metres)]);
}

function buildMap(camps, tiled) {
  if (map) { map.remove(); S.tracks.clear(); trackLines = null; }
  S.tiled = tiled;
  const opts = {zoomSnap: 0.25, renderer: L.canvas({padding: 0.2}), attributionControl: true};
  map = S.tiled ? L.map("map", opts) : L.map("map", {...opts, crs: L.CRS.Simple, minZoom: -8, maxZoom: 4});
  map.attributionControl.setPrefix('<span title="Leaflet 1.9.4 (BSD-2-Clause), milsymbol 3.0.4 (MIT)">Leaflet · milsymbol</span>');
  layers = {base: L.layerGroup().addTo(map), zones: L.layerGroup().addTo(map),
            sensors: L.layerGroup().addTo(map), sights: L.layerGroup().addTo(map),
            tracks: L.layerGroup().addTo(map)};
  if (S.tiled) L.tileLayer("/tiles/{z}/{x}/{y}", {maxZoom: 19, attribution: "camp tiles"}).addTo(layers.base);
  else drawGrid(camps);
  L.control.scale({metric: true, imperial: false}).addTo(map);
  S.sensorShapes = new Map();
  for (const camp of camps) {
    for (const z of camp.zones) {
      const pts = S.tiled ? z.polygon.map(p => L.latLng(p[0], p[1])) : z.enu.map(p => P(camp, p[0], p[1]));
      const colour = z.level === "critical" ? "#e0302a" : "#e0a800";
      L.polygon(pts, {color: colour, weight: 1.5, fillOpacity: 0.05, interactive: false,
                      dashArray: z.name === "perimeter" ? null : "6 4"}).addTo(layers.zones);
    }
    for (const s of camp.sensors) {
      const at = P(camp, s.enu[0], s.enu[1]), colour = HEALTH_COLOUR.unknown;
      const cover = s.fov_az_deg >= 360
        ? L.circle(at, {radius: s.max_range_m, color: colour, weight: 1, opacity: 0.7, fillOpacity: 0.02, interactive: false})
        : L.polygon(wedge(camp, s), {color: colour, weight: 1, opacity: 0.7, fillOpacity: 0.03, interactive: false});
      const dot = L.circleMarker(at, {radius: 5, color: "#fff", weight: 1, fillColor: colour, fillOpacity: 1})
        .bindTooltip(`${s.id} (${s.kind})`);
      cover.addTo(layers.sensors); dot.addTo(layers.sensors);
      S.sensorShapes.set(key(camp.camp_id, s.id), {cover, dot});
    }
  }
  fitCamps();
}

function fitCamps() {
  const shown = S.filter ? [S.camps.get(S.filter)] : [...S.camps.values()];
  let bounds = null;
  for (const camp of shown) {
    const b = campBounds(camp, camp.view_m);
    bounds = bounds ? bounds.extend(b) : b;
  }
  if (bounds) map.fitBounds(bounds);
}

function wedge(camp, s) {
  const pts = [P(camp, s.enu[0], s.enu[1])], half = s.fov_az_deg / 2, steps = 24;
  for (let i = 0; i <= steps; i++) {
    const az = (s.boresight_az_deg - half + (s.fov_az_deg * i) / steps) * Math.PI / 180;
    pts.push(P(camp, s.enu[0] + s.max_range_m * Math.sin(az), s.enu[1] + s.max_range_m * Math.cos(az)));
  }
  return pts;
}

function drawGrid(camps) {
  // A grid over every camp's reach, in the map's frame; range rings about each camp's origin.
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity, reach = 0;
  for (const c of camps) {
    w = Math.min(w, c.offset_m[0] - c.extent_m); e = Math.max(e, c.offset_m[0] + c.extent_m);
    s = Math.min(s, c.offset_m[1] - c.extent_m); n = Math.max(n, c.offset_m[1] + c.extent_m);
    reach = Math.max(reach, c.extent_m);
  }
  const span = Math.max(e - w, n - s), step = span > 40000 ? 5000 : span > 12000 ? 1000 : 500;
  w = Math.floor(w / step) * step; s = Math.floor(s / step) * step;
  const grid = {color: "#223340", weight: 0.6, interactive: false};
  for (let x = w; x <= e; x += step) L.polyline([L.latLng(s, x), L.latLng(n, x)], grid).addTo(layers.base);
  for (let y = s; y <= n; y += step) L.polyline([L.latLng(y, w), L.latLng(y, e)], grid).addTo(layers.base);
  for (const c of camps) {
    const axis = {color: "#4f7a68", weight: 1.2, interactive: false};
    L.polyline([P(c, -c.extent_m, 0), P(c, c.extent_m, 0)], axis).addTo(layers.base);
    L.polyline([P(c, 0, -c.extent_m), P(c, 0, c.extent_m)], axis).addTo(layers.base);
    for (let r = 500; r <= c.extent_m; r += r < 2000 ? 500 : 1000) {
      L.circle(P(c, 0, 0), {radius: r, color: "#3c8f76", weight: 1, fill: false, interactive: false}).addTo(layers.base);
      L.marker(P(c, 0, r), {interactive: false, keyboard: false, icon: L.divIcon({className: "ring-label",
        html: r >= 1000 ? `${r / 1000} km` : `${r} m`, iconSize: null, iconAnchor: [-3, 14]})}).addTo(layers.base);
    }
    L.circleMarker(P(c, 0, 0), {radius: 3, color: "#fff", weight: 1, fillOpacity: 1, interactive: false}).addTo(layers.base);
    if (camps.length > 1)
      L.marker(P(c, 0, 0), {interactive: false, keyboard: false, icon: L.divIcon({className: "camp-label",
        html: c.camp_id, iconSize: null, iconAnchor: [-6, -4]})}).addTo(layers.base);
  }
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

function alertsByTrack(camp) {
  const found = new Map();
  for (const a of S.alerts.values()) if (a.camp === camp && a.track_id != null) found.set(String(a.track_id), a);
  return found;
}

function labelOf(t, alert) {
  const speed = Math.hypot(t.vel_enu[0], t.vel_enu[1]);
  let text = `${t.track_id} ${t.class} ${speed.toFixed(0)} m/s ${t.enu[2].toFixed(0)} m`;
  if (alert && alert.eta_s != null) text += ` · ${fmtS(alert.eta_s)} to perimeter`;
  if (t.friendly) text += " · friendly";
  return text;
}

function chooseLabelled(tracks, alerted, campId) {
  if (tracks.length <= LABELS_MAX) return new Set(tracks);
  const score = t => (alerted.has(String(t.track_id)) ? 10 : 0) + THREAT_RANK[t.threat] +
    (S.selected === key(campId, t.track_id) ? 20 : 0);
  return new Set([...tracks].sort((a, b) => score(b) - score(a)).slice(0, LABELS_MAX));
}

const colourOf = (t, alert) => t.friendly ? TRACK_COLOURS[0] : alert ? TRACK_COLOURS[1] : TRACK_COLOURS[2];

// A track's marker, symbol, trail and uncertainty circle, created or moved to `t`.
function placeTrack(campId, camp, t, alert) {
  const id = String(t.track_id), k = key(campId, id);
  const ll = trackLL(camp, t), sidc = sidcOf(t, !!alert);
  let rec = S.tracks.get(k);
  if (!rec) {
    const marker = L.marker(ll, {icon: iconFor(sidc), keyboard: false}).addTo(layers.tracks);
    marker.on("click", () => select(k));
    rec = {camp: campId, id, marker, sidc, trail: [], sigma: null, label: null, look: null};
    S.tracks.set(k, rec);
    tag(rec);
  } else {
    rec.marker.setLatLng(ll);
    if (rec.sidc !== sidc) { rec.sidc = sidc; rec.marker.setIcon(iconFor(sidc)); tag(rec); }
  }
  rec.track = t;
  // A track only two crossing lines of sight place (`placed` false) is drawn faint: its place
  // is where they cross, its alert gives the line (a core older than the field: placed).
  const placed = String(t.placed !== false);
  const e = rec.marker.getElement(), look = `${t.threat} ${t.class} ${t.status} ${placed}`;
  if (e && rec.look !== look) {  // attribute writes restyle the element: only on change
    rec.look = look; e.dataset.threat = t.threat; e.dataset.class = t.class; e.dataset.status = t.status;
    e.dataset.placed = placed;
    e.title = placed === "true" ? "" : "range unconfirmed: only two lines of sight cross on it";
  }
  // Trail points at least TRAIL_STEP_S apart, however often updates come; the newest point
  // follows the track.
  const trail = rec.trail, n = trail.length;
  if (!n || t.t >= trail[n - 1][0]) {
    if (n >= 2 && trail[n - 1][0] - trail[n - 2][0] < TRAIL_STEP_S) trail[n - 1] = [t.t, ll];
    else trail.push([t.t, ll]);
  }
  while (trail.length && trail[0][0] < t.t - TRAIL_S) trail.shift();
  // The map is horizontal: its circle is the horizontal sigma (a core older than the split
  // publishes only the 3-D one), not a bearings-only track's unknown height.
  const horizontal = t.horiz_sigma_m ?? t.pos_sigma_m;
  if (horizontal > SIGMA_SHOWN_M) {  // uncertainty where it is large
    if (!rec.sigma) rec.sigma = L.circle(ll, {radius: 2 * horizontal, color: colourOf(t, alert), weight: 1, dashArray: "3 3", fillOpacity: 0.05, interactive: false}).addTo(layers.tracks);
    else { rec.sigma.setLatLng(ll); rec.sigma.setRadius(2 * horizontal); }
  } else if (rec.sigma) { rec.sigma.remove(); rec.sigma = null; }
  return rec;
}
// A track cycle: the camp's whole picture (tracks not in it are removed).
function applyCycle(campId, cycle) {
  const camp = S.camps.get(campId);
  if (!camp) return;
  S.lastCycle.set(campId, Date.now());
  const alerted = alertsByTrack(campId), seen = new Set();
  for (const t of cycle.tracks)
    if (t.status !== "deleted") seen.add(placeTrack(campId, camp, t, alerted.get(String(t.track_id))));
  for (const [k, rec] of S.tracks) if (rec.camp === campId && !seen.has(rec)) removeTrack(k, rec);
  drawCamp(campId, alerted);
}

// A track update: the tracks a scan just updated move (or appear); the others stay as they
// are, and the next cycle removes the deleted ones.
function applyUpdate(campId, update) {
  const camp = S.camps.get(campId);
  if (!camp) return;
  const alerted = alertsByTrack(campId);
  for (const t of update.tracks)
    if (t.status !== "deleted") placeTrack(campId, camp, t, alerted.get(String(t.track_id)));
  drawCamp(campId, alerted);
}

// What depends on all of a camp's tracks: labels, trails and leaders, counts.
function drawCamp(campId, alerted) {
  const recs = [...S.tracks.values()].filter(r => r.camp === campId);
  const labelled = chooseLabelled(recs.map(r => r.track), alerted, campId), labels = [];
  const counts = {};
  // Trails and leaders: one multi-line per colour for every camp's tracks: six canvas layers.
  const lines = {trails: {}, leaders: {}};
  for (const c of TRACK_COLOURS) { lines.trails[c] = []; lines.leaders[c] = []; }
  for (const rec of recs) {
    const t = rec.track, alert = alerted.get(rec.id), colour = colourOf(t, alert);
    const ll = rec.marker.getLatLng();
    counts[t.class] = (counts[t.class] || 0) + 1;
    lines.trails[colour].push(rec.trail.map(p => p[1]));
    lines.leaders[colour].push([ll, offsetLL(ll, t.vel_enu[0] * LEADER_S, t.vel_enu[1] * LEADER_S)]);
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
  S.lines.set(campId, lines);
  S.counts.set(campId, counts);
  drawLines();
  showCounts();
}

function drawLines() {
  if (!trackLines) {
    trackLines = {trails: {}, leaders: {}};
    for (const c of TRACK_COLOURS) {
      trackLines.trails[c] = L.polyline([], {color: c, weight: 1.5, opacity: 0.6, interactive: false}).addTo(layers.tracks);
      trackLines.leaders[c] = L.polyline([], {color: c, weight: 2, interactive: false}).addTo(layers.tracks);
    }
  }
  for (const kind of ["trails", "leaders"])
    for (const c of TRACK_COLOURS)
      trackLines[kind][c].setLatLngs([...S.lines.values()].flatMap(l => l[kind][c]));
}

function tag(rec) {
  const e = rec.marker.getElement();
  if (!e) return;
  e.dataset.trackId = rec.id; e.dataset.campId = rec.camp;
  if (S.selected === key(rec.camp, rec.id)) e.classList.add("selected");
}
function removeTrack(k, rec) {
  for (const layer of [rec.marker, rec.sigma]) if (layer) layer.remove();
  S.tracks.delete(k);
}
function clearTracks() {
  for (const [k, rec] of S.tracks) removeTrack(k, rec);
  S.lines.clear(); S.counts.clear();
  if (trackLines) drawLines();
  showCounts();
}

function showCounts() {
  const box = $('[data-field="counts"]'); box.textContent = "";
  const counts = {};
  for (const [camp, c] of S.counts) if (!S.filter || camp === S.filter)
    for (const [cls, n] of Object.entries(c)) counts[cls] = (counts[cls] || 0) + n;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  box.append(el("span", {"data-count": "total"}, `${total} tracks`));
  for (const c of ["drone", "bird", "aircraft", "clutter", "unknown"])
    if (counts[c]) box.append(el("span", {"data-count": c}, `${c} ${counts[c]}`));
}

function select(k) {
  S.selected = k;
  for (const e of document.querySelectorAll(".trk.selected")) e.classList.remove("selected");
  const rec = S.tracks.get(k);
  if (rec && rec.marker.getElement()) rec.marker.getElement().classList.add("selected");
}

// --- alerts --------------------------------------------------------------------------------
const shownCamp = camp => !S.filter || camp === S.filter;
// An alert on a track only two lines of sight place gives its line, not a place: drawn from
// its sensor along `bearing_deg` to the sensor's range (DESIGN addition: `seen_from`).
function sightLine(a) {
  const camp = S.camps.get(a.camp), s = camp && camp.sensors.find(x => x.id === a.seen_from);
  if (!s || a.bearing_deg == null) return null;
  const b = a.bearing_deg * Math.PI / 180, r = s.max_range_m;
  return [P(camp, s.enu[0], s.enu[1]), P(camp, s.enu[0] + r * Math.sin(b), s.enu[1] + r * Math.cos(b))];
}

function renderAlerts() {
  const box = $("#alerts"); box.textContent = "";
  if (layers) layers.sights.clearLayers();
  const list = [...S.alerts.values()].filter(a => shownCamp(a.camp)).sort((a, b) =>
    (LEVEL_RANK[a.level] - LEVEL_RANK[b.level]) || (a.t_raised - b.t_raised));
  $('[data-field="alert-count"]').textContent = list.length ? `(${list.length})` : "";
  if (!list.length) { box.append(el("p", {class: "empty"}, "No active alerts")); return; }
  const now = nowT(), many = S.camps.size > 1;
  for (const a of list) {
    const k = key(a.camp, a.alert_id);
    const row = el("div", {class: "alert", "data-alert-id": a.alert_id, "data-camp-id": a.camp,
      "data-level": a.level, "data-state": a.state, "data-acknowledged": String(!!a.acknowledged_by)});
    const sight = a.seen_from != null && layers ? sightLine(a) : null;
    if (sight) {
      row.dataset.seenFrom = a.seen_from; row.dataset.bearing = String(a.bearing_deg);
      L.polyline(sight, {color: a.level === "critical" ? "#e0302a" : "#e0a800", weight: 2,
                         dashArray: "8 6", interactive: false}).addTo(layers.sights);
    }
    if (a.fresh) row.classList.add("fresh");
    const head = el("div", {class: "head"});
    head.append(el("span", {class: "level"}, a.level));
    if (many) head.append(el("span", {class: "camp"}, a.camp));
    head.append(el("span", {class: "id"}, a.alert_id), el("span", {class: "zone"}, a.zone || ""),
                el("span", {class: "age", "data-field": "age"}, fmtS(Math.max(0, now - a.t_raised))));
    const foot = el("div", {class: "foot"});
    foot.append(el("span", {class: "eta"}, `ETA ${fmtS(a.eta_s)}`),
                el("span", {class: "track"}, a.track_id != null ? `track ${a.track_id}` : ""));
    const state = el("span", {class: "ack-state", "data-field": "ack-state"});
    if (a.acknowledged_by) state.textContent = `acknowledged by ${a.acknowledged_by}`;
    else if (S.pending.has(k)) state.textContent = `ack sent (${S.pending.get(k)})…`;
    else state.textContent = a.state;
    foot.append(state);
    if (S.mode !== "review") {
      const b = el("button", {type: "button", "data-action": "ack"}, "Acknowledge");
      b.disabled = !!a.acknowledged_by;
      b.addEventListener("click", ev => { ev.stopPropagation(); acknowledge(a); });
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
  if (a.track_id != null) select(key(a.camp, a.track_id));
  for (const r of document.querySelectorAll(".alert.selected")) r.classList.remove("selected");
  const row = document.querySelector(`[data-camp-id="${CSS.escape(a.camp)}"][data-alert-id="${CSS.escape(a.alert_id)}"]`);
  if (row) row.classList.add("selected");
}

function operatorName() { return $('input[name="operator"]').value.trim(); }
function acknowledge(a) {
  const input = $('input[name="operator"]'), by = operatorName();
  if (!by) {  // asked once: the name is then remembered in this browser
    input.classList.add("wanted"); input.placeholder = "your name, to acknowledge"; input.focus();
    return;
  }
  input.classList.remove("wanted");
  localStorage.setItem("cuas.operator", by);
  if (!send({kind: "ack", camp: a.camp, alert_id: a.alert_id, by})) return;
  S.pending.set(key(a.camp, a.alert_id), by);
  renderAlerts();
}

function onAlert(a, event) {
  const k = key(a.camp, a.alert_id), known = S.alerts.get(k);
  if (known && known.t > a.t) return;
  if (a.acknowledged_by) S.pending.delete(k);
  if (a.state === "cleared") S.alerts.delete(k);
  else {
    const fresh = event && (a.state === "raised" || a.state === "escalated");
    const kept = {...a, fresh};
    S.alerts.set(k, kept);
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
  const many = S.camps.size > 1;
  for (const a of S.history.filter(h => shownCamp(h.camp)).slice(0, 40)) {
    const li = el("li", {"data-history-alert-id": a.alert_id, "data-camp-id": a.camp, "data-state": a.state});
    li.append(`${utc(a.t)} `, el("span", {class: "st"}, a.state), ` ${a.level} ${many ? a.camp + " " : ""}${a.alert_id}` +
      (a.acknowledged_by && a.state === "acknowledged" ? ` by ${a.acknowledged_by}` : "") + ` — ${a.reason}`);
    box.append(li);
  }
}

// --- audible alarm (Web Audio; browsers allow sound after the first click on the page) -------
let audio = null;
document.addEventListener("click", () => { if (!audio && window.AudioContext) audio = new AudioContext(); }, {once: true});
function alarm(level) {
  if (S.muted || S.mode === "review" || !audio) return;
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
  const now = nowT(), many = S.camps.size > 1;
  for (const campId of S.order) {
    const camp = S.camps.get(campId);
    for (const s of camp.sensors) {
      const h = S.sensors.get(key(campId, s.id)), state = h ? h.state : "unknown";
      const shape = S.sensorShapes.get(key(campId, s.id));
      if (shape) { const c = HEALTH_COLOUR[state]; shape.cover.setStyle({color: c}); shape.dot.setStyle({fillColor: c}); }
      if (!shownCamp(campId)) continue;
      const row = el("div", {class: "sensor", "data-sensor-id": s.id, "data-camp-id": campId, "data-state": state});
      const last = h && h.t_last_report != null ? `last report ${fmtS(Math.max(0, now - h.t_last_report))} ago` : "no report yet";
      const rate = !h ? "" : h.report_rate_hz > 0 ? `${h.report_rate_hz.toFixed(1)} Hz` : `${h.reports} reports`;
      row.append(el("span", {class: "name"}, `${many ? campId + " · " : ""}${s.id} (${s.kind})`),
                 el("span", {class: "state"}, state), el("span", {class: "rate"}, rate),
                 el("span", {class: "detail"}, last + (h && h.detail ? ` · ${h.detail}` : "")));
      box.append(row);
    }
  }
}

// --- links: the offline banner -------------------------------------------------------------
function renderBanner() {
  const b = $("#banner"), many = S.camps.size > 1, problems = [];
  if (S.mode !== "review") {
    if (!S.ws) problems.push(["console", "Console unreachable: reconnecting…"]);
    else for (const campId of S.order) {
      const link = S.links.get(campId) || {}, who = many ? `Camp ${campId}: ` : "";
      const last = S.lastCycle.get(campId);
      if (link.broker === false) problems.push(["broker", `${who}broker unreachable: the picture is not live`]);
      else if (link.core === "offline") problems.push(["core", `${who}fusion core OFFLINE: no tracks or alerts are being produced`]);
      else if (last && Date.now() - last > STALE_MS) problems.push(["stale", `${who}no track update for ${Math.round((Date.now() - last) / 1000)} s`]);
    }
  }
  b.hidden = !problems.length;
  b.textContent = problems.map(p => p[1]).join(" · ");
  if (problems.length) b.dataset.reason = problems[0][0]; else delete b.dataset.reason;
}

// --- the camp selector (a mission's page) ------------------------------------------------------
function setupCampSelector() {
  const sel = $('[data-control="camp"]');
  sel.hidden = S.camps.size < 2;
  sel.textContent = "";
  sel.append(el("option", {value: ""}, "All camps"));
  for (const id of S.order) sel.append(el("option", {value: id}, `Camp ${id}`));
  sel.value = S.filter;
  sel.onchange = () => {
    S.filter = sel.value;
    fitCamps(); renderAlerts(); renderSensors(); renderHistory(); showCounts();
  };
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
// window.cuasPerf: per track cycle (`updates`) and per track update (`scans`), when it
// arrived and when it was drawn (for benchmarks).
const perf = {updates: [], scans: [], loaf: []};
window.cuasPerf = perf;
try {
  new PerformanceObserver(l => { for (const e of l.getEntries()) perf.loaf.push({start: e.startTime, d: e.duration, block: e.blockingDuration}); })
    .observe({type: "long-animation-frame", buffered: true});
} catch (e) { perf.loafUnsupported = String(e); }

function timed(list, apply, msg, recv) {
  const t0 = performance.now();
  apply();
  const js = performance.now() - t0;
  requestAnimationFrame(() => {  // a message posted from rAF runs after that frame is drawn
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      if (list.length > 5000) list.splice(0, 1000);
      list.push({cycle_t: msg.t, n: msg.tracks.length, js, frame: performance.now() - recv,
                 at: performance.now(), drawn: Date.now() / 1000});
    };
    ch.port2.postMessage(0);
  });
}
function onTracks(camp, cycle, recv) { timed(perf.updates, () => applyCycle(camp, cycle), cycle, recv); }
function onUpdate(camp, update, recv) { timed(perf.scans, () => applyUpdate(camp, update), update, recv); }

let socket = null;
function send(obj) {
  if (!socket || socket.readyState !== WebSocket.OPEN) { renderBanner(); return false; }
  socket.send(JSON.stringify(obj)); return true;
}

function hello(m) {
  S.mode = m.mode; document.body.dataset.mode = m.mode;
  S.camps = new Map(m.camps.map(c => [c.camp_id, c])); S.order = m.camps.map(c => c.camp_id);
  if (!S.camps.has(S.filter)) S.filter = "";
  const title = m.mission ? `Mission ${m.mission.mission_id}` : `Camp ${S.order[0]}`;
  $('[data-field="camp"]').textContent = title;
  $('[data-field="mode"]').textContent = m.mode === "review" ? `review of ${m.recording}`
    : m.mode === "mission" ? `${S.order.length} camps, live` : "live";
  document.title = `cuas ${m.mission ? m.mission.mission_id : S.order[0]}` + (m.mode === "review" ? " (review)" : "");
  buildMap(m.camps, !!m.tiles);
  setupCampSelector();
  if (m.mode === "review") setupReview(m.review);
}

function snapshot(m) {
  clearTracks(); S.alerts.clear(); S.sensors.clear(); S.links.clear();
  for (const [camp, part] of Object.entries(m.camps)) {
    for (const h of part.sensors) S.sensors.set(key(camp, h.sensor_id), h);
    for (const a of part.alerts) S.alerts.set(key(camp, a.alert_id), a);
    S.links.set(camp, part.link);
    if (part.tracks) applyCycle(camp, part.tracks);
  }
  S.history = m.history;
  renderAlerts(); renderHistory(); renderSensors(); renderBanner();
}

function handle(m, recv) {
  switch (m.kind) {
    case "hello": hello(m); break;
    case "snapshot": snapshot(m); break;
    case "tracks": onTracks(m.camp, m.cycle, recv); break;
    case "track_update": onUpdate(m.camp, m.update, recv); break;
    case "alert": onAlert(m.alert, m.event); break;
    case "alert_removed": S.alerts.delete(key(m.camp, m.alert_id)); renderAlerts(); break;
    case "sensor": S.sensors.set(key(m.camp, m.sensor.sensor_id), m.sensor); renderSensors(); break;
    case "link": S.links.set(m.camp, {broker: m.broker, core: m.core}); renderBanner(); break;
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
function tick() {
  $('[data-field="clock"]').textContent = utc(nowT());
  if (!S.order.length) return;
  renderBanner();
  for (const r of document.querySelectorAll('[data-alert-id] [data-field="age"]')) {
    const row = r.closest("[data-alert-id]"), a = S.alerts.get(key(row.dataset.campId, row.dataset.alertId));
    if (a) r.textContent = fmtS(Math.max(0, nowT() - a.t_raised));
  }
}
tick();
setInterval(tick, 500);
connect();
