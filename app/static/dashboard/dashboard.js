// Supervisor dashboard: open handovers against the one-hour goal, places of safety,
// escalations and today's figures, kept live over the /ws stream and re-read over REST
// whenever the stream (re)connects or asks for a resync.
import { api, loadSession, clearSession, LiveStream, humanize, wireSignInForm } from '/static/common/live.js';
import { byId, el, setText } from '/static/common/dom.js';

const COMPLETED_VISIBLE_MS = 30_000; // a handed-over row stays this long before it goes
const REFRESH_MS = 60_000;           // figures, chart and open list are re-read this often
const RECENT_MS = 120_000;           // older events (replayed after a reload) are not announced
const SEVERITY = { waiting: 0, warning: 1, breached: 2 };
const STATE_VIEW = {
  waiting: { icon: '●', label: 'Waiting' },
  warning: { icon: '▲', label: 'Warning' },
  breached: { icon: '✖', label: 'Breached' },
  handed_over: { icon: '✔', label: 'Handed over' },
};
const PLACE_TYPES = {
  health_based_place_of_safety: 'Health-based place of safety',
  emergency_department: 'Emergency department',
  police_station: 'Police station',
  private_home: 'Private home',
  other: 'Other',
};
const REASONS = { no_unit_available: 'No unit available', no_unit_accepted: 'No unit accepted the offer' };
const CLOCKS = { assessment: 'Assessment', detention: 'Detention', welfare_check: 'Welfare check' };

const hhmm = (time) => (time == null || Number.isNaN(new Date(time).getTime()) ? '—'
  : new Date(time).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' }));
const minutes = (value) => (value == null ? '—' : `${Math.round(value)} min`);

/** Local calendar date as YYYY-MM-DD (the control room's "today"). */
function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** 754 s → "12:34"; 3754 s → "1:02:34". */
function formatElapsed(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${String(m).padStart(2, '0')}:${s}`;
}

function debounce(fn, ms) {
  let timer;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

// ---------------------------------------------------------------- state
const app = {
  session: null,
  stream: null,
  timers: [],
  handovers: new Map(),   // incident_id → {row (server fields), view (DOM refs), shown, removeAt}
  places: new Map(),      // place id → place object
  escalations: [],        // newest first: {id, at, incident_id, reason, detail, kind}
  chartRows: [],
  loadSeq: {},            // per loader, so a slow old response never overwrites a newer one
  lastFullLoad: 0,
  lastGoodData: null,     // when we last had fresh data (for the offline banner)
  areaCode: null,
};

// ---------------------------------------------------------------- REST
/** GET with the session's token; a 401 signs out. Resolves to undefined when superseded. */
async function load(name, path) {
  const seq = (app.loadSeq[name] = (app.loadSeq[name] || 0) + 1);
  const token = app.session?.token;
  const panelError = document.querySelector(`[data-panel-error="${name}"]`);
  try {
    const data = await api(path, { token });
    if (seq !== app.loadSeq[name] || token !== app.session?.token) return undefined;
    if (panelError) setText(panelError, '');
    app.lastGoodData = new Date();
    return data;
  } catch (err) {
    if (err.status === 401) signOut('Your session has ended. Please sign in again.');
    else if (panelError && token === app.session?.token) setText(panelError, `Not updated: ${err.message}`);
    return undefined;
  }
}

async function loadHandovers() {
  const list = await load('handovers', '/api/v1/handovers?state=open');
  if (list) applyOpenHandovers(list);
}

async function loadPlaces() {
  const list = await load('places', '/api/v1/places-of-safety');
  if (!list) return;
  app.places = new Map(list.map((p) => [String(p.id), p]));
  renderPlaces();
  if (list[0] && list[0].area !== app.areaCode) showArea(list[0].area);
}

async function loadEscalations() {
  const list = await load('escalations', '/api/v1/escalations');
  if (!list) return;
  // Keep live clock alerts (they have no REST source); the rest comes from the server.
  const alerts = app.escalations.filter((e) => e.kind === 'clock');
  app.escalations = [...list.map((e) => ({ ...e, kind: 'escalation' })), ...alerts]
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  renderEscalations();
}

async function loadFigures() {
  const day = today();
  const [report, done] = await Promise.all([
    load('figures', `/api/v1/reports/rcrp?from=${day}&to=${day}`),
    load('chart', `/api/v1/handovers?state=handed_over&from=${day}&to=${day}`),
  ]);
  if (report) renderFigures(report);
  if (done) { app.chartRows = done; drawChart(); }
}

async function showArea(code) {
  app.areaCode = code;
  setText(byId('area-name'), code);
  const areas = await api('/api/v1/areas', { token: app.session?.token }).catch(() => null);
  const area = Array.isArray(areas) && areas.find((a) => a.code === code);
  if (area && area.name) setText(byId('area-name'), area.name);
}

function loadAll() {
  app.lastFullLoad = Date.now();
  return Promise.all([loadHandovers(), loadPlaces(), loadEscalations(), loadFigures()]);
}
const reloadHandoversSoon = debounce(loadHandovers, 300);
const reloadFiguresSoon = debounce(loadFigures, 1000);

// ---------------------------------------------------------------- handovers
function elapsedMs(h, now) {
  const end = h.row.state === 'handed_over' ? (h.handedOverAt ?? now) : now;
  return Math.max(0, end - Date.parse(h.row.arrived_at));
}

/** What the clock alone says; the server's state can only make it more severe. */
function displayState(h, now) {
  const { row } = h;
  if (row.state === 'handed_over') return 'handed_over';
  const mins = elapsedMs(h, now) / 60000;
  let state = 'waiting';
  const deadline = row.deadline_at ? Date.parse(row.deadline_at) : NaN;
  if ((!Number.isNaN(deadline) && now >= deadline) || (row.goal_minutes != null && mins >= row.goal_minutes)) {
    state = 'breached';
  } else if (row.warning_minutes != null && mins >= row.warning_minutes) {
    state = 'warning';
  }
  return (SEVERITY[row.state] ?? 0) > SEVERITY[state] ? row.state : state;
}

function applyOpenHandovers(list) {
  const seen = new Set();
  for (const row of list) {
    const key = String(row.incident_id);
    seen.add(key);
    const h = app.handovers.get(key);
    if (!h) app.handovers.set(key, { row, shown: null });
    else if (h.row.state !== 'handed_over') h.row = row; // a just-completed row stays completed
  }
  for (const [key, h] of app.handovers) {
    if (!seen.has(key) && h.row.state !== 'handed_over') removeHandover(key);
  }
  renderHandovers();
}

function removeHandover(key) {
  app.handovers.get(key)?.view?.tr.remove();
  app.handovers.delete(key);
}

function onHandoverEvent(event) {
  const data = event.data || {};
  const h = app.handovers.get(String(data.incident_id));
  const kind = event.type.split('.')[1];
  if (kind === 'completed') {
    reloadFiguresSoon();
    if (!h) return undefined; // not on screen (e.g. an old event replayed): nothing to show
    Object.assign(h.row, data, { state: 'handed_over' });
    h.handedOverAt = handedOverTime(h, data, event);
    h.removeAt = Date.now() + COMPLETED_VISIBLE_MS;
    if (isRecent(event)) announce(`Handed over: ${placeName(h.row)}, ${outcomeText(h)}.`);
    return renderHandovers();
  }
  // started, or a row we do not have, or anything else (a new goal…): re-read the list.
  if (!h || (kind !== 'warning' && kind !== 'breached')) return reloadHandoversSoon();
  for (const field of ['deadline_at', 'goal_minutes', 'warning_minutes', 'agreed']) {
    if (data[field] !== undefined) h.row[field] = data[field];
  }
  h.row.state = STATE_VIEW[data.state] ? data.state : kind;
  return renderHandovers();
}

/** When the person was handed over: the event may come late (a handover entered afterwards). */
function handedOverTime(h, data, event) {
  const explicit = Date.parse(data.handed_over_at ?? data.stopped_at ?? '');
  if (!Number.isNaN(explicit)) return explicit;
  const at = Date.parse(event.at) || Date.now();
  const fromMinutes = Date.parse(h.row.arrived_at) + Number(data.elapsed_minutes) * 60000;
  return Number.isFinite(fromMinutes) && at - fromMinutes > 60000 ? fromMinutes : at;
}

function placeName(row) {
  return row.place_of_safety ?? PLACE_TYPES[row.place_of_safety_type] ?? 'Place of safety';
}

function outcomeText(h) {
  const mins = h.row.elapsed_minutes ?? elapsedMs(h, Date.now()) / 60000;
  const within = h.row.within_goal ?? (h.row.goal_minutes == null ? null : mins <= h.row.goal_minutes);
  const verdict = { met: 'within goal', agreed: 'within agreed goal', missed: 'over goal' }[h.row.outcome]
    ?? (within == null ? 'no goal' : within ? 'within goal' : 'over goal');
  return `${Math.round(mins)} min, ${verdict}`;
}

function buildHandoverRow(h) {
  const tr = el('tr', 'handover-row');
  tr.dataset.testid = 'handover-row';
  const badge = el('span', 'badge');
  const icon = el('span', 'icon');
  icon.setAttribute('aria-hidden', 'true');
  const label = el('span');
  badge.append(icon, label);
  const place = el('span', 'place-name');
  const type = el('span', 'place-type');
  const unit = el('td', 'unit');
  const arrived = el('td', 'arrived');
  const elapsed = el('td', 'elapsed right');
  elapsed.dataset.testid = 'handover-elapsed';
  const bar = el('div', 'bar');
  bar.setAttribute('aria-hidden', 'true');
  const fill = el('div', 'fill');
  const warnMark = el('div', 'warn-mark');
  bar.append(fill, warnMark);
  const goal = el('td', 'goal right');
  const cells = [el('td', 'state'), el('td', 'place'), unit, arrived, elapsed, el('td', 'progress'), goal];
  cells[0].append(badge);
  cells[1].append(place, type);
  cells[5].append(bar);
  tr.append(...cells);
  tr.addEventListener('animationend', () => tr.classList.remove('flash'));
  return { tr, badge, icon, label, place, type, unit, arrived, elapsed, fill, warnMark, goal };
}

function updateHandoverRow(h, state, now) {
  const { row } = h;
  const v = (h.view ??= buildHandoverRow(h));
  const ms = elapsedMs(h, now);
  v.tr.dataset.incidentId = String(row.incident_id);
  v.tr.dataset.state = state;
  v.badge.dataset.state = state;
  setText(v.icon, STATE_VIEW[state].icon);
  setText(v.label, STATE_VIEW[state].label);
  setText(v.place, placeName(row));
  const agreed = row.agreed ? ' · agreed goal' : '';
  setText(v.type, state === 'handed_over' ? `Handed over ${hhmm(h.handedOverAt)} · ${outcomeText(h)}`
    : (PLACE_TYPES[row.place_of_safety_type] ?? humanize(row.place_of_safety_type)) + agreed);
  setText(v.unit, row.unit ?? '—');
  setText(v.arrived, hhmm(row.arrived_at));
  setText(v.elapsed, formatElapsed(ms));
  setText(v.goal, minutes(row.goal_minutes));
  const goalMs = row.goal_minutes ? row.goal_minutes * 60000 : null;
  v.fill.style.width = goalMs ? `${Math.min(100, (ms / goalMs) * 100).toFixed(2)}%` : '0%';
  v.warnMark.style.left = goalMs && row.warning_minutes != null
    ? `${Math.min(100, (row.warning_minutes / row.goal_minutes) * 100)}%` : '-10px';
}

/** Re-render every row (called each second): states, order, flashes, announcements. */
function renderHandovers(now = Date.now()) {
  const rank = { breached: 0, warning: 1, waiting: 2, handed_over: 3 };
  const rows = [];
  for (const [key, h] of app.handovers) {
    if (h.removeAt && now >= h.removeAt) { removeHandover(key); continue; }
    const state = displayState(h, now);
    updateHandoverRow(h, state, now);
    rows.push({ h, state });
  }
  rows.sort((a, b) => rank[a.state] - rank[b.state]
    || Date.parse(a.h.row.arrived_at) - Date.parse(b.h.row.arrived_at));
  // Move nodes only when the order really changed (moving restarts animations, loses hover).
  const list = byId('handover-list');
  rows.forEach(({ h }, i) => {
    if (list.children[i] !== h.view.tr) list.insertBefore(h.view.tr, list.children[i] ?? null);
  });
  for (const { h, state } of rows) {
    if (h.shown !== null && h.shown !== state && (state === 'warning' || state === 'breached')) {
      h.view.tr.classList.remove('flash');
      void h.view.tr.offsetWidth; // restart the animation if it was still running
      h.view.tr.classList.add('flash');
      const r = h.row;
      announce(`Handover ${state === 'breached' ? 'BREACHED' : 'warning'}: ${placeName(r)}`
        + `${r.unit ? `, unit ${r.unit}` : ''}, ${formatElapsed(elapsedMs(h, now))} elapsed.`);
    }
    h.shown = state;
  }
  byId('handover-empty').hidden = rows.length > 0;
  const count = (s) => rows.filter((r) => r.state === s).length;
  const open = rows.length - count('handed_over');
  setText(byId('handover-summary'),
    `${open} open · ${count('breached')} breached · ${count('warning')} warning`);
}

// ---------------------------------------------------------------- places
function renderPlaces() {
  const list = byId('places-list');
  const rows = [...app.places.values()]; // server order: by type, then name
  list.replaceChildren(...rows.map((p) => {
    const tr = el('tr', 'place-row');
    tr.dataset.testid = 'place-row';
    tr.dataset.placeId = String(p.id);
    const name = el('td', 'name');
    name.append(el('span', 'place-name', p.name),
      el('span', 'place-type', [PLACE_TYPES[p.type] ?? humanize(p.type), p.exclusions && `Excludes: ${p.exclusions}`]
        .filter(Boolean).join(' · ')));
    name.title = p.exclusions ? `Exclusions: ${p.exclusions}` : '';
    const full = Number(p.available_beds) <= 0;
    const beds = el('td', `beds right${full ? ' full' : ''}`, full ? '0 full' : String(p.available_beds));
    beds.dataset.testid = 'place-beds';
    tr.append(name, beds, el('td', 'u18', p.accepts_under_18 ? 'Yes' : 'No'));
    return tr;
  }));
  byId('places-empty').hidden = rows.length > 0;
}

// ---------------------------------------------------------------- escalations
function isRecent(event) {
  return Date.now() - Date.parse(event.at) < RECENT_MS;
}

function addEscalation(entry, event) {
  // The same escalation may come from REST and from a replayed event.
  const duplicate = app.escalations.some((e) => e.id === entry.id
    || (e.incident_id === entry.incident_id && e.reason === entry.reason
      && Math.abs(Date.parse(e.at) - Date.parse(entry.at)) < 5000));
  if (duplicate) return;
  app.escalations.unshift(entry);
  app.escalations.length = Math.min(app.escalations.length, 100);
  renderEscalations();
  if (isRecent(event)) announce(`Escalation: ${escalationLabel(entry)}, incident ${entry.incident_id}.`);
}

function escalationLabel(e) {
  if (e.kind === 'clock') return `${CLOCKS[e.clock] ?? humanize(e.clock)} time ${e.state === 'breached' ? 'breached' : 'warning'}`;
  return REASONS[e.reason] ?? humanize(e.reason);
}

function renderEscalations() {
  const list = byId('escalation-list');
  list.replaceChildren(...app.escalations.map((e) => {
    const li = el('li', `escalation-row ${e.kind === 'clock' ? `alert-${e.state}` : 'escalation'}`);
    li.dataset.testid = e.kind === 'clock' ? 'clock-alert-row' : 'escalation-row';
    li.dataset.escalationId = String(e.id);
    li.dataset.incidentId = String(e.incident_id);
    li.dataset.reason = e.reason;
    const icon = el('span', 'esc-icon', e.kind === 'clock' && e.state !== 'breached' ? '▲' : '!');
    icon.setAttribute('aria-hidden', 'true');
    const time = el('time', 'esc-time', hhmm(e.at));
    time.dateTime = e.at;
    const body = el('div', 'esc-body');
    body.append(el('span', 'esc-label', escalationLabel(e)),
      el('span', 'esc-detail', [`Incident ${e.incident_id}`, e.detail].filter(Boolean).join(' · ')));
    li.append(icon, time, body);
    return li;
  }));
  byId('escalation-empty').hidden = app.escalations.length > 0;
}

/** assessment/detention/welfare_check clock warnings become alerts in the escalations panel. */
function onClockAlert(event) {
  const d = event.data || {};
  if (new Date(event.at).toDateString() !== new Date().toDateString()) return;
  const state = event.type.endsWith('.breached') ? 'breached' : 'warning';
  const detail = d.elapsed_minutes != null && d.goal_minutes != null
    ? `${Math.round(d.elapsed_minutes)} of ${d.goal_minutes} min` : '';
  addEscalation({ id: event.id, at: event.at, incident_id: d.incident_id, reason: event.type,
    detail, kind: 'clock', clock: d.clock ?? event.type.split('.')[0], state }, event);
}

// ---------------------------------------------------------------- figures and chart
function renderFigures(report) {
  const h = report.handovers || {};
  const share = h.within_goal_share;
  const values = {
    incidents_total: report.incidents_total ?? '—',
    police_attendances_avoided: report.police_attendances_avoided ?? '—',
    handovers_count: h.count ?? '—',
    median_minutes: minutes(h.median_minutes),
    p90_minutes: minutes(h.p90_minutes),
    within_goal_share: share == null ? '—' : `${Math.round(share * 100)}%`,
  };
  for (const [name, value] of Object.entries(values)) {
    setText(document.querySelector(`[data-figure="${name}"]`), String(value));
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** One bar per handover today (minutes), dashed line at the goal, bars over it in red. */
function drawChart() {
  const chart = byId('handover-chart');
  const box = byId('chart-box').getBoundingClientRect();
  const W = Math.max(300, Math.round(box.width));
  const H = Math.max(150, Math.round(box.height));
  chart.setAttribute('viewBox', `0 0 ${W} ${H}`);
  chart.setAttribute('width', W);
  chart.setAttribute('height', H);
  const rows = app.chartRows
    .map((r) => ({ ...r, mins: Number(r.elapsed_minutes) || 0, end: Date.parse(r.handed_over_at) || 0 }))
    .sort((a, b) => a.end - b.end);
  const goals = rows.map((r) => r.goal_minutes).filter((g) => g != null);
  const goal = goals.sort((a, b) => goals.filter((g) => g === b).length - goals.filter((g) => g === a).length)[0] ?? null;
  const over = rows.filter((r) => (r.within_goal ?? (r.goal_minutes == null || r.mins <= r.goal_minutes)) === false);
  const summary = rows.length
    ? `${rows.length} handover${rows.length === 1 ? '' : 's'} today, ${over.length} over the goal`
    : 'No handovers completed today.';
  setText(byId('chart-summary'), rows.length ? `${rows.length} today · ${over.length} over goal` : '');

  const pad = { left: 78, right: 24, top: 22, bottom: 62 };
  const plotW = W - pad.left - pad.right;
  const plotH = H - pad.top - pad.bottom;
  const peak = Math.max(10, (goal ?? 0) * 1.2, ...rows.map((r) => r.mins * 1.1));
  const step = [5, 10, 15, 30, 60, 120, 240].find((s) => peak / s <= 5) ?? 480;
  const top = Math.ceil(peak / step) * step;
  const y = (m) => pad.top + plotH - (Math.min(m, top) / top) * plotH;

  const nodes = [svg('desc', { id: 'chart-desc' }, summary)];
  for (let m = 0; m <= top; m += step) {
    nodes.push(svg('line', { class: 'gridline', x1: pad.left, x2: W - pad.right, y1: y(m), y2: y(m) }),
      svg('text', { class: 'tick', x: pad.left - 10, y: y(m) + 7, 'text-anchor': 'end' }, String(m)));
  }
  nodes.push(svg('text', { class: 'axis-title', transform: `translate(22 ${pad.top + plotH / 2}) rotate(-90)`,
    'text-anchor': 'middle' }, 'Minutes'));
  nodes.push(svg('text', { class: 'axis-title', x: pad.left + plotW / 2, y: H - 8, 'text-anchor': 'middle' },
    'Handovers today, by time handed over'));
  nodes.push(svg('line', { class: 'axis', x1: pad.left, x2: W - pad.right, y1: y(0), y2: y(0) }),
    svg('line', { class: 'axis', x1: pad.left, x2: pad.left, y1: pad.top, y2: y(0) }));

  const slot = plotW / Math.max(rows.length, 12);
  const barW = Math.max(4, Math.min(64, slot * 0.7));
  const labelEvery = Math.max(1, Math.ceil(62 / slot));
  rows.forEach((r, i) => {
    const x = pad.left + slot * i + (slot - barW) / 2;
    const isOver = over.includes(r);
    const bar = svg('rect', { class: isOver ? 'chart-bar over' : 'chart-bar', x, y: y(r.mins), width: barW,
      height: Math.max(1, y(0) - y(r.mins)) });
    bar.append(svg('title', {}, `${r.place_of_safety ?? ''} ${hhmm(r.handed_over_at)}: ${Math.round(r.mins)} min${isOver ? ' (over goal)' : ''}`));
    nodes.push(bar);
    if (barW >= 22) {
      nodes.push(svg('text', { class: isOver ? 'bar-label over' : 'bar-label', x: x + barW / 2,
        y: y(r.mins) - 6, 'text-anchor': 'middle' }, `${isOver ? '✖' : ''}${Math.round(r.mins)}`));
    }
    if (i % labelEvery === 0) {
      nodes.push(svg('text', { class: 'tick', x: x + barW / 2, y: y(0) + 26, 'text-anchor': 'middle' }, hhmm(r.handed_over_at)));
    }
    if (r.goal_minutes != null && goal != null && r.goal_minutes !== goal) { // this place has its own goal
      nodes.push(svg('line', { class: 'goal', x1: x - 3, x2: x + barW + 3, y1: y(r.goal_minutes), y2: y(r.goal_minutes) }));
    }
  });
  if (goal != null) {
    nodes.push(svg('line', { class: 'goal', x1: pad.left, x2: W - pad.right, y1: y(goal), y2: y(goal) }),
      svg('text', { class: 'goal-label', x: W - pad.right - 4, y: y(goal) - 8, 'text-anchor': 'end' }, `Goal ${goal} min`));
  }
  if (!rows.length) {
    nodes.push(svg('text', { class: 'empty-label', x: pad.left + plotW / 2, y: pad.top + plotH / 2,
      'text-anchor': 'middle' }, 'No handovers completed today'));
  }
  chart.replaceChildren(...nodes);
}

// ---------------------------------------------------------------- live stream and header
/** Put a message in the aria-live region (also shown in the strip under the header). */
function announce(message) {
  const region = byId('announcer');
  region.textContent = '';
  // A fresh text node after a tick makes screen readers announce repeats too.
  setTimeout(() => { region.textContent = `${hhmm(Date.now())} ${message}`; }, 50);
}

function onEvent(event) {
  const [prefix] = event.type.split('.');
  if (prefix === 'handover' && (event.data?.clock ?? 'handover') === 'handover') onHandoverEvent(event);
  else if (event.type === 'place_of_safety.updated' && event.data?.id != null) {
    app.places.set(String(event.data.id), event.data);
    renderPlaces();
  } else if (event.type === 'escalation.raised') {
    const d = event.data || {};
    addEscalation({ id: event.id, at: event.at, incident_id: d.incident_id, reason: d.reason,
      detail: d.detail, kind: 'escalation' }, event);
  } else if (/\.(warning|breached)$/.test(event.type) && CLOCKS[event.data?.clock ?? prefix]) {
    onClockAlert(event);
  }
}

function onStatus(status) {
  setText(byId('connection-status'), status);
  byId('conn').dataset.state = status;
  document.body.classList.toggle('is-offline', status === 'offline');
  byId('offline-banner').hidden = status !== 'offline';
  const since = app.lastGoodData ? ` from ${app.lastGoodData.toLocaleTimeString('en-GB')}` : '';
  setText(byId('offline-since'), since);
  // Back online: re-read everything we may have missed (skip the duplicate right after start).
  if (status === 'live' && Date.now() - app.lastFullLoad > 3000) loadAll();
}

function tick() {
  setText(byId('clock'), new Date().toLocaleTimeString('en-GB'));
  renderHandovers();
}

// ---------------------------------------------------------------- sign in / out
function startDashboard(session) {
  app.session = session;
  byId('login').hidden = true;
  byId('dashboard').hidden = false;
  setText(byId('signed-in-user'), `${session.username || 'Signed in'} · supervisor`);
  const stream = new LiveStream({ token: session.token, cursorKey: session.username || undefined });
  stream.onEvent(onEvent);
  stream.onStatus(onStatus);
  stream.onResync(() => loadAll());
  stream.onUnauthenticated(() => signOut('Your session has ended. Please sign in again.'));
  app.stream = stream;
  onStatus('connecting');
  tick();
  loadAll();
  stream.start();
  app.timers = [setInterval(tick, 1000), setInterval(() => { loadFigures(); loadHandovers(); }, REFRESH_MS)];
  window.addEventListener('resize', drawChart);
}

function signOut(notice = '') {
  if (!app.session) return;
  app.stream?.stop();
  app.timers.forEach(clearInterval);
  window.removeEventListener('resize', drawChart);
  clearSession();
  Object.assign(app, { session: null, stream: null, timers: [], handovers: new Map(), places: new Map(),
    escalations: [], chartRows: [], areaCode: null, lastGoodData: null });
  // Do not leave incident data on screen behind the login form.
  for (const id of ['handover-list', 'places-list', 'escalation-list']) byId(id).replaceChildren();
  byId('dashboard').hidden = true;
  byId('login').hidden = false;
  setText(byId('login-notice'), notice);
  byId('password').value = '';
  byId('username').focus();
}

wireSignInForm({
  start: startDashboard,
  refusal: (answer, username) => (answer.role === 'supervisor' ? '' : `This dashboard is for supervisors. ${username} is signed in as ${humanize(answer.role).toLowerCase()}; use the screen for that role.`),
});
byId('sign-out').addEventListener('click', () => {
  app.stream?.forgetCursor(); // a deliberate sign-out starts the next session afresh
  signOut();
});
const saved = loadSession();
if (saved && saved.role === 'supervisor') startDashboard(saved);
else byId('username').focus();
