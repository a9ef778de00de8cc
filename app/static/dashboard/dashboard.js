// Supervisor dashboard: open escalations at the top (owned until a supervisor acknowledges
// them), every running clock (handover, 24-hour detention, 3-hour assessment, welfare checks)
// counting down to its limit, urgent offers, today's figures, handover times and places of
// safety. Everything is read over REST on sign-in and whenever the stream (re)connects or asks
// for a resync, and kept live by the /ws events in between.
import { api, loadSession, clearSession, LiveStream, humanize, wireSignInForm } from '/static/common/live.js';
import { byId, el, setText } from '/static/common/dom.js';
import { londonDate, londonDay, londonDayTime, londonTime, formatDuration } from '/static/common/london.js';
import { AlertSound } from '/static/common/sound.js';
import { outOfView, moreText } from '/static/common/overflow.js';

const STOPPED_VISIBLE_MS = 30_000; // a stopped clock stays this long, dimmed, with its result
const REFRESH_MS = 60_000;         // figures, chart and lists are re-read this often
const CONNECT_SETTLE_MS = 500;     // after the stream opens, before the state is re-read
const RECENT_MS = 120_000;         // older events (replayed after a reload) are not announced
const FORGET_CLOSED_MS = 600_000;  // how long a closed item is kept from a late REST answer
const ALARM_HOLD_MS = 20_000;      // good news does not replace an alarm in the strip this soon
const URGENT_SHOWN = 3;            // urgent offers shown in the strip; more are counted

const CLOCK_KINDS = ['handover', 'detention', 'assessment', 'welfare_check'];
const CLOCK_NAMES = { handover: 'Handover', detention: 'Detention', assessment: 'Assessment', welfare_check: 'Welfare check' };
const STOPPED_WORDS = { handover: 'Handed over', detention: 'Ended', assessment: 'Assessed', welfare_check: 'Checked' };
const STATE_VIEW = {
  waiting: { icon: '●', label: 'Running' },
  warning: { icon: '▲', label: 'Warning' },
  breached: { icon: '✖', label: 'Breached' },
  stopped: { icon: '✔', label: 'Done' },
};
const STATE_RANK = { waiting: 0, warning: 1, breached: 2 };
const AGE_BANDS = { under_18: 'Under 18', '18_and_over': '18 or over', not_known: 'Age not known' };
const REASONS = {
  clock_breached: 'Time limit breached',
  no_unit_available: 'No unit available',
  no_unit_accepted: 'No unit accepted the offer',
  handoff_overdue: 'Hand-off not done in time',
  stale_job: 'Job not moving',
  place_refused: 'Place of safety refused the person',
  possible_duplicate_detention: 'Possible duplicate detention',
};
const RISKS = {
  immediate: { rank: 0, label: 'Immediate', icon: '⚠' },
  urgent: { rank: 1, label: 'Urgent', icon: '▲' },
  routine: { rank: 2, label: 'Routine', icon: '●' },
};
const PLACE_TYPES = {
  health_based_place_of_safety: 'Health-based place of safety',
  emergency_department: 'Emergency department',
  police_station: 'Police station',
  private_home: 'Private home',
  other: 'Other',
};

const limitText = (goal) => (goal >= 120 && goal % 60 === 0 ? `${goal / 60} h` : `${goal} min`);
const isRecent = (event) => Date.now() - Date.parse(event.at) < RECENT_MS;

function debounce(fn, ms) {
  let timer;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

/** fn once, `ms` after the first call, however many calls come in between. */
function throttle(fn, ms) {
  let timer = null;
  return () => { timer ??= setTimeout(() => { timer = null; fn(); }, ms); };
}

// ---------------------------------------------------------------- state
const sound = new AlertSound({ storageKey: 'triage.dashboard.muted' });

const fresh = () => ({
  clocks: new Map(),       // clock key → {row (server fields), view, shown, stoppedAt, addedAt}
  stoppedClocks: new Map(), // clock key → when it stopped here (a late REST answer cannot revive it)
  escalations: new Map(),  // escalation id → {row, view, addedAt}
  closedEscalations: new Map(), // escalation id → when it was acknowledged here
  seenEscalations: new Set(), // ids this screen has already sounded for
  urgent: new Map(),       // assignment id → {row, view}
  pendingSounds: new Map(), // what may sound, keyed by what it is about; see soundSoon
  places: new Map(),
  chartRows: [],
  loadSeq: {},
  settleTimer: null,
  lastGoodData: null,
  areaCode: null,
  alarmShownAt: 0,
  soundCount: 0,
});
const app = { session: null, stream: null, timers: [], ...fresh() };

/** A clock is one kind, of one detention, started at one instant (a transfer starts another). */
const clockKey = (c) => `${c.detention_id}:${c.clock}:${Date.parse(c.started_at)}`;

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

async function loadClocks() {
  const startedAt = Date.now();
  const list = await load('clocks', '/api/v1/clocks?state=open');
  if (list) applyOpenClocks(list, startedAt);
}

async function loadEscalations() {
  const startedAt = Date.now();
  const list = await load('escalations', '/api/v1/escalations?state=open');
  if (list) applyOpenEscalations(list, startedAt);
}

async function loadPlaces() {
  const list = await load('places', '/api/v1/places-of-safety');
  if (!list) return;
  app.places = new Map(list.map((p) => [String(p.id), p]));
  renderPlaces();
  if (list[0] && list[0].area !== app.areaCode) showArea(list[0].area);
  else if (!list.length && !app.areaCode) showArea(null);
}

async function loadFigures() {
  const day = londonDate(); // "today" is London's, whatever zone this browser is in
  setText(byId('figures-day'), londonDay());
  const [report, done] = await Promise.all([
    load('figures', `/api/v1/reports/rcrp?from=${day}&to=${day}`),
    load('chart', `/api/v1/handovers?state=handed_over&from=${day}&to=${day}`),
  ]);
  if (report) renderFigures(report);
  if (done) { app.chartRows = done; drawChart(); }
}

/** The area's name in the header. Its code comes with the places of safety; with none yet, the
 *  only area there is. */
async function showArea(code) {
  app.areaCode = code;
  if (code) setText(byId('area-name'), code);
  const areas = await api('/api/v1/areas', { token: app.session?.token }).catch(() => null);
  if (!Array.isArray(areas)) return;
  const area = code ? areas.find((a) => a.code === code) : areas.length === 1 && areas[0];
  if (area && area.name) setText(byId('area-name'), area.name);
}

function loadAll() {
  return Promise.all([loadEscalations(), loadClocks(), loadPlaces(), loadFigures()]);
}
const reloadClocksSoon = debounce(loadClocks, 300);
const reloadFiguresSoon = debounce(loadFigures, 1000);
const reloadFiguresLater = throttle(loadFigures, 5000); // incidents change often: batch them

// ---------------------------------------------------------------- sound
/** Ask for a sound about `key` (an escalation, an offer, a breach); the sounds asked for within
 *  a moment play once, and only for what is still open then (a replay may hold its answer). */
function queueSound(key, pattern) {
  if (app.pendingSounds.get(key) !== 'alarm') app.pendingSounds.set(key, pattern);
  soundSoon();
}

const soundSoon = debounce(() => {
  const due = [...app.pendingSounds].filter(([key]) => stillOpen(key));
  app.pendingSounds.clear();
  if (!due.length) return;
  const result = sound.play(due.some(([, p]) => p === 'alarm') ? 'alarm' : 'alert');
  if (result === 'sound') app.soundCount += 1;
  document.body.dataset.sounds = String(app.soundCount);
  document.body.dataset.lastSound = result;
  for (const [key] of due) {
    const view = key.startsWith('esc:') ? app.escalations.get(Number(key.slice(4)))?.view : null;
    if (view) view.li.dataset.sounded = result === 'merged' ? 'sound' : result;
  }
}, 250);

function stillOpen(key) {
  const [kind, id] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
  if (kind === 'esc') return app.escalations.has(Number(id));
  if (kind === 'offer') return app.urgent.has(Number(id));
  return kind === 'clock';
}

function renderSoundButton() {
  const button = byId('sound-toggle');
  const state = sound.state;
  button.dataset.state = state;
  setText(button, { on: 'Sound on', muted: 'Sound muted', blocked: 'Sound off: click to allow' }[state]);
  button.title = { on: 'Mute alert sounds', muted: 'Turn alert sounds back on', blocked: 'This browser needs a click before it will play sounds' }[state];
}

// ---------------------------------------------------------------- announcements
/** Say it to screen readers (assertive for breaches and risk to life, polite for the rest) and
 *  in the strip under the header. News does not replace an alarm in the strip straight away (the
 *  alarm itself stays in the escalations panel until acknowledged); the answer to what this
 *  supervisor just did (`own`) always shows. */
function announce(message, urgency = 'polite', { own = false } = {}) {
  const text = `${londonTime(Date.now())} ${message}`;
  const region = byId(urgency === 'assertive' ? 'live-assertive' : 'live-polite');
  region.textContent = '';
  // A fresh text node after a tick makes screen readers announce repeats too.
  setTimeout(() => { region.textContent = text; }, 50);
  const strip = byId('announcer');
  if (urgency !== 'assertive' && !own && Date.now() - app.alarmShownAt < ALARM_HOLD_MS) return;
  if (urgency === 'assertive') app.alarmShownAt = Date.now();
  strip.dataset.urgency = urgency;
  setText(strip, text);
}

// ---------------------------------------------------------------- escalations
const escalationAlarming = (row) => row.reason === 'clock_breached' || row.risk === 'immediate';

function reasonText(reason) {
  return REASONS[reason] ?? humanize(reason);
}

function escalationSentence(row) {
  return `${reasonText(row.reason)}${row.incident_id != null ? `, incident ${row.incident_id}` : ''}`
    + `${row.detail ? `. ${row.detail}` : ''}`;
}

function applyOpenEscalations(list, loadStartedAt) {
  const ids = new Set(list.map((row) => row.id));
  for (const row of list) {
    if (!app.closedEscalations.has(row.id)) upsertEscalation(row);
  }
  // Gone from the server's open list: acknowledged while this screen was away. Not one an event
  // added after the request left (the answer may predate it).
  for (const [id, e] of app.escalations) {
    if (!ids.has(id) && e.addedAt < loadStartedAt) removeEscalation(id);
  }
  renderEscalations();
}

/** Add or update an escalation from a REST row or event data; new ones sound once. */
function upsertEscalation(row) {
  const id = row.id ?? row.escalation_id;
  if (id == null || app.closedEscalations.has(id)) return null;
  const clean = {
    id,
    incident_id: row.incident_id,
    reason: row.reason,
    risk: RISKS[row.risk] ? row.risk : 'urgent',
    detail: row.detail ?? '',
    raised_at: row.raised_at,
    announced_count: row.announced_count ?? 1,
  };
  let e = app.escalations.get(id);
  if (!e) {
    e = { row: clean, view: null, addedAt: Date.now() };
    app.escalations.set(id, e);
  } else {
    e.row = { ...e.row, ...clean, announced_count: Math.max(e.row.announced_count, clean.announced_count) };
  }
  if (!app.seenEscalations.has(id)) {
    app.seenEscalations.add(id);
    queueSound(`esc:${id}`, escalationAlarming(clean) ? 'alarm' : 'alert');
  }
  return e;
}

function removeEscalation(id) {
  const e = app.escalations.get(id);
  if (!e) return;
  const hadFocus = e.view?.li.contains(document.activeElement);
  const next = e.view?.li.nextElementSibling ?? e.view?.li.previousElementSibling;
  e.view?.li.remove();
  app.escalations.delete(id);
  app.closedEscalations.set(id, Date.now());
  // Keyboard users carry on with the next escalation rather than losing their place.
  if (hadFocus) (next?.querySelector('input') ?? byId('escalations')).focus();
}

function onEscalationEvent(event, what) {
  const d = event.data || {};
  const id = d.escalation_id;
  if (what === 'acknowledged') {
    const known = app.escalations.has(id);
    removeEscalation(id);
    app.seenEscalations.add(id);
    renderEscalations();
    if (known && isRecent(event)) {
      announce(d.acknowledged_by
        ? `Acknowledged by ${d.acknowledged_by}: ${reasonText(d.reason)}, incident ${d.incident_id}. ${d.action ?? ''}`
        : `Resolved: ${reasonText(d.reason)}, incident ${d.incident_id}. ${d.action ?? ''}`);
    }
    return;
  }
  if (what !== 'raised' && what !== 'repeated') return;
  const e = upsertEscalation({ ...d, id });
  if (!e) return;
  renderEscalations();
  if (!isRecent(event)) return;
  const alarming = escalationAlarming(e.row);
  if (what === 'repeated') {
    queueSound(`esc:${id}`, alarming ? 'alarm' : 'alert'); // a repeated announcement sounds again
    flash(e.view.li);
  }
  announce(`${what === 'repeated' ? 'Still open' : 'Escalation'}: ${escalationSentence(e.row)}`,
    alarming ? 'assertive' : 'polite');
}

function buildEscalationView(e) {
  const { id } = e.row;
  const li = el('li', 'escalation-row');
  li.dataset.testid = 'escalation-row';
  li.dataset.escalationId = String(id);
  const icon = el('span', 'esc-icon');
  icon.setAttribute('aria-hidden', 'true');
  const head = el('div', 'esc-head');
  const label = el('strong', 'esc-label');
  label.dataset.testid = 'escalation-reason';
  const risk = el('span', 'risk-badge');
  risk.dataset.testid = 'escalation-risk';
  head.append(label, risk);
  const detail = el('span', 'esc-detail');
  const incident = el('strong', 'esc-incident');
  const detailText = el('span', 'esc-detail-text');
  detailText.dataset.testid = 'escalation-detail';
  detail.append(incident, detailText);
  const since = el('div', 'esc-since');
  const ago = el('time', 'esc-ago');
  ago.dataset.testid = 'escalation-since';
  const raised = el('span', 'esc-raised');
  since.append(ago, raised);

  const form = el('form', 'ack-form');
  form.noValidate = true;
  const inputId = `ack-${id}`;
  const inputLabel = el('label', 'sr-only', `What was done about escalation ${id}`);
  inputLabel.htmlFor = inputId;
  const input = el('input', 'ack-input');
  input.id = inputId;
  input.name = 'action';
  input.autocomplete = 'off';
  input.maxLength = 2000;
  input.placeholder = 'What was done';
  input.dataset.testid = 'ack-action';
  const button = el('button', 'ack-button', 'Acknowledge');
  button.type = 'submit';
  button.dataset.testid = 'ack-submit';
  const error = el('span', 'ack-error');
  error.dataset.testid = 'ack-error';
  error.id = `ack-error-${id}`;
  error.setAttribute('role', 'alert');
  input.setAttribute('aria-describedby', error.id);
  form.append(inputLabel, input, button, error);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    acknowledge(id);
  });
  li.append(icon, head, detail, since, form);
  e.view = { li, icon, label, risk, incident, detail, detailText, ago, raised, input, button, error };
}

function updateEscalationView(e, now) {
  const { row, view } = e;
  const breach = row.reason === 'clock_breached';
  const risk = RISKS[row.risk];
  view.li.dataset.reason = row.reason;
  view.li.dataset.risk = row.risk;
  view.li.dataset.incidentId = String(row.incident_id ?? '');
  view.li.dataset.announcedCount = String(row.announced_count);
  view.li.dataset.level = breach || row.risk === 'immediate' ? 'alarm' : row.risk;
  setText(view.icon, breach ? '✖' : risk.icon);
  setText(view.label, reasonText(row.reason));
  setText(view.risk, risk.label);
  setText(view.incident, row.incident_id != null ? `Incident ${row.incident_id}` : '');
  // Every row has an "Acknowledge" button: say which one this is to those who hear it.
  view.button.setAttribute('aria-label', `Acknowledge: ${reasonText(row.reason)}${row.incident_id != null ? `, incident ${row.incident_id}` : ''}`);
  setText(view.detailText, row.detail);
  view.detail.title = row.detail;
  const raisedAt = Date.parse(row.raised_at);
  setText(view.ago, `${formatDuration(now - raisedAt)} ago`);
  view.ago.dateTime = row.raised_at;
  setText(view.raised, `raised ${londonTime(row.raised_at)}${row.announced_count > 1 ? ` · told ${row.announced_count}×` : ''}`);
}

/** Most at risk first (a breach counts as immediate), then oldest first. */
function escalationOrder(a, b) {
  const rank = (e) => (e.row.reason === 'clock_breached' ? Math.min(RISKS[e.row.risk].rank, 0.5) : RISKS[e.row.risk].rank);
  return rank(a) - rank(b) || Date.parse(a.row.raised_at) - Date.parse(b.row.raised_at) || a.row.id - b.row.id;
}

function renderEscalations(now = Date.now()) {
  const list = byId('escalation-list');
  const rows = [...app.escalations.values()].sort(escalationOrder);
  rows.forEach((e, i) => {
    if (!e.view) buildEscalationView(e);
    updateEscalationView(e, now);
    if (list.children[i] !== e.view.li) list.insertBefore(e.view.li, list.children[i] ?? null);
  });
  byId('escalation-empty').hidden = rows.length > 0;
  const alarms = rows.filter((e) => e.view.li.dataset.level === 'alarm').length;
  setText(byId('escalation-summary'), rows.length ? `${rows.length} open${alarms ? ` · ${alarms} at highest risk` : ''}` : '');
  setText(document.querySelector('[data-figure="open_escalations"]'), String(rows.length));
  updateMore('escalation-scroll', 'escalations-more', list.children);
}

async function acknowledge(id) {
  const e = app.escalations.get(id);
  if (!e) return;
  const { input, button, error } = e.view;
  const action = input.value.trim();
  if (!action) {
    setText(error, 'Say what was done first.');
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  input.removeAttribute('aria-invalid');
  setText(error, '');
  button.disabled = true;
  try {
    const answer = await api(`/api/v1/escalations/${id}/acknowledge`, {
      method: 'POST', body: { action }, token: app.session?.token,
    });
    removeEscalation(id);
    renderEscalations();
    announce(`Acknowledged by ${answer.acknowledged_by ?? 'you'}: ${reasonText(answer.reason)}, incident ${answer.incident_id}. ${answer.action}`,
      'polite', { own: true });
  } catch (err) {
    button.disabled = false;
    if (err.status === 401) return signOut('Your session has ended. Please sign in again.');
    if (err.status === 409 || err.status === 404) {
      removeEscalation(id);
      renderEscalations();
      announce(err.status === 409 ? 'That escalation was already acknowledged by someone else.' : 'That escalation no longer exists.',
        'polite', { own: true });
      return loadEscalations();
    }
    setText(error, err.status === 0 ? 'Not sent: no connection. Try again.' : err.message);
  }
  return undefined;
}

// ---------------------------------------------------------------- clocks
function applyOpenClocks(list, loadStartedAt) {
  const keys = new Set();
  for (const row of list) {
    const key = clockKey(row);
    keys.add(key);
    if (app.stoppedClocks.has(key)) continue; // stopped here after the server answered
    const c = app.clocks.get(key);
    if (!c) app.clocks.set(key, { row, view: null, shown: null, stoppedAt: null, addedAt: Date.now() });
    else if (!c.stoppedAt) c.row = { ...c.row, ...row };
  }
  for (const [key, c] of app.clocks) {
    if (!keys.has(key) && !c.stoppedAt && c.addedAt < loadStartedAt) removeClock(key);
  }
  renderClocks();
}

function removeClock(key) {
  app.clocks.get(key)?.view?.tr.remove();
  app.clocks.delete(key);
}

function onClockEvent(event, what) {
  const d = { ...(event.data || {}) };
  d.clock = d.clock ?? event.type.split('.')[0];
  if (d.detention_id == null || !d.started_at) return;
  const key = clockKey(d);
  const c = app.clocks.get(key);
  if (what === 'completed') {
    if (d.clock === 'handover') reloadFiguresSoon();
    app.stoppedClocks.set(key, Date.now());
    if (!c) return;
    Object.assign(c.row, d);
    c.stoppedAt = Date.now();
    if (isRecent(event) && d.clock === 'handover') {
      announce(`Handed over: incident ${d.incident_id}${c.row.unit ? `, unit ${c.row.unit}` : ''}`
        + `${d.within_goal === false ? ', after the goal' : ''}.`);
    }
    renderClocks();
    return;
  }
  if (app.stoppedClocks.has(key)) return;
  if (!c) {
    // Unit, place name and age band are on the board's rows, not in the event: fetch them.
    app.clocks.set(key, { row: d, view: null, shown: null, stoppedAt: null, addedAt: Date.now() });
    reloadClocksSoon();
  } else {
    Object.assign(c.row, d);
  }
  renderClocks();
  if (!isRecent(event)) return;
  const row = app.clocks.get(key).row;
  const where = `incident ${row.incident_id}${row.unit ? `, unit ${row.unit}` : ''}${placeOf(row) ? ` at ${placeOf(row)}` : ''}`;
  if (what === 'breached') {
    announce(`${CLOCK_NAMES[row.clock] ?? humanize(row.clock)} limit BREACHED: ${where}.`, 'assertive');
    queueSound(`clock:${key}`, 'alarm');
  } else if (what === 'warning') {
    announce(`${CLOCK_NAMES[row.clock] ?? humanize(row.clock)} warning: ${where}, ${formatDuration(Date.parse(row.deadline_at) - Date.now())} left.`);
  }
}

function placeOf(row) {
  return row.place_of_safety ?? app.places.get(String(row.place_of_safety_id))?.name ?? '';
}

/** What the clock alone says; the server's state can only make it more severe. */
function clockState(c, now) {
  if (c.stoppedAt) return 'stopped';
  const { row } = c;
  let state = 'waiting';
  const deadline = Date.parse(row.deadline_at);
  const warnAt = row.warning_minutes != null ? Date.parse(row.started_at) + row.warning_minutes * 60000 : NaN;
  if (now > deadline) state = 'breached';
  else if (now >= warnAt) state = 'warning';
  return (STATE_RANK[row.state] ?? 0) > STATE_RANK[state] ? row.state : state;
}

function buildClockView(c) {
  const tr = el('tr', 'clock-row');
  tr.dataset.testid = 'clock-row';
  const cell = (cls) => { const td = el('td', cls); tr.append(td); return td; };
  const badge = el('span', 'badge');
  cell('state').append(badge);
  const kindCell = cell('kind');
  const kind = el('span', 'kind-name');
  const goal = el('span', 'kind-goal');
  kindCell.append(kind, goal);
  const incident = cell('incident');
  const unit = cell('unit');
  const placeCell = cell('place');
  const place = el('span', 'place-name');
  const age = el('span', 'age');
  age.dataset.testid = 'clock-age';
  placeCell.append(place, age);
  const leftCell = cell('left right');
  const left = el('span', 'left-time');
  left.dataset.testid = 'clock-left';
  const leftWord = el('span', 'left-word');
  const bar = el('div', 'bar');
  const fill = el('div', 'fill');
  bar.append(fill);
  bar.setAttribute('aria-hidden', 'true');
  const line = el('div', 'left-line');
  line.append(bar, leftWord);
  leftCell.append(left, line);
  const due = cell('due right');
  c.view = { tr, badge, kind, goal, incident, unit, place, age, left, leftWord, fill, due };
}

function updateClockView(c, state, now) {
  const { row, view } = c;
  const tr = view.tr;
  tr.dataset.state = state;
  tr.dataset.clock = row.clock;
  tr.dataset.incidentId = String(row.incident_id);
  tr.dataset.ageBand = row.age_band ?? '';
  const look = STATE_VIEW[state];
  view.badge.dataset.state = state === 'stopped' ? 'handed_over' : state;
  setText(view.badge, `${look.icon} ${look.label}`);
  setText(view.kind, CLOCK_NAMES[row.clock] ?? humanize(row.clock));
  setText(view.goal, state === 'stopped' ? (STOPPED_WORDS[row.clock] ?? 'Stopped')
    : `${limitText(row.goal_minutes)} limit${row.agreed ? ' · agreed' : ''}`);
  setText(view.incident, `#${row.incident_id}`);
  view.incident.title = `Incident ${row.incident_id}`;
  setText(view.unit, row.unit ?? '—');
  setText(view.place, placeOf(row) || '—');
  view.place.title = placeOf(row);
  const band = row.age_band;
  view.age.dataset.band = band ?? '';
  setText(view.age, band === 'under_18' ? '◆ UNDER 18' : (AGE_BANDS[band] ?? ''));
  const deadline = Date.parse(row.deadline_at);
  const started = Date.parse(row.started_at);
  if (state === 'stopped') {
    const stoppedAt = row.stopped_at ?? c.stoppedAt;
    setText(view.left, londonTime(stoppedAt));
    setText(view.leftWord, row.within_goal === false ? 'late' : 'in time');
  } else if (state === 'breached') {
    setText(view.left, formatDuration(now - deadline));
    setText(view.leftWord, 'over');
  } else {
    setText(view.left, formatDuration(deadline - now));
    setText(view.leftWord, 'left');
  }
  const share = (now - started) / Math.max(1, deadline - started);
  view.fill.style.width = `${Math.max(0, Math.min(100, share * 100)).toFixed(2)}%`;
  setText(view.due, londonDayTime(row.deadline_at, now));
}

/** Re-render every row (called each second): states, countdowns, order, flashes. */
function renderClocks(now = Date.now()) {
  const rows = [];
  for (const [key, c] of app.clocks) {
    if (c.stoppedAt && now - c.stoppedAt > STOPPED_VISIBLE_MS) { removeClock(key); continue; }
    if (!c.view) buildClockView(c);
    const state = clockState(c, now);
    updateClockView(c, state, now);
    rows.push({ c, state });
  }
  // Past its limit first (longest over first), then closest to its limit; stopped ones last.
  const group = (s) => (s === 'breached' ? 0 : s === 'stopped' ? 2 : 1);
  rows.sort((a, b) => group(a.state) - group(b.state)
    || Date.parse(a.c.row.deadline_at) - Date.parse(b.c.row.deadline_at));
  const list = byId('clock-list');
  rows.forEach(({ c }, i) => { // move nodes only when the order changed (moving restarts animations)
    if (list.children[i] !== c.view.tr) list.insertBefore(c.view.tr, list.children[i] ?? null);
  });
  for (const { c, state } of rows) {
    if (c.shown !== null && (STATE_RANK[state] ?? -1) > (STATE_RANK[c.shown] ?? -1)) flash(c.view.tr);
    c.shown = state;
  }
  byId('clock-empty').hidden = rows.length > 0;
  const count = (s, kind) => rows.filter((r) => r.state === s && (!kind || r.c.row.clock === kind)).length;
  const running = rows.length - count('stopped');
  setText(byId('clock-summary'), `${running} running · ${count('breached')} breached · ${count('warning')} warning`);
  const handoverBreaches = count('breached', 'handover');
  setText(document.querySelector('[data-figure="open_handover_breaches"]'), String(handoverBreaches));
  byId('breach-figure').classList.toggle('alarm', handoverBreaches > 0);
  updateMore('clock-scroll', 'clocks-more', list.children);
}

function flash(node) {
  node.classList.remove('flash');
  void node.offsetWidth; // restart the animation if it was still running
  node.classList.add('flash');
}

/** The "+N more" line under a panel whose rows do not all fit. */
function updateMore(scrollId, moreId, rows) {
  const more = byId(moreId);
  const count = () => moreText(outOfView(byId(scrollId), rows));
  let text = count();
  if (more.hidden && text) {
    setText(more, text); // the line takes room from the list: count again with it shown
    more.hidden = false;
    text = count();
  }
  setText(more, text);
  more.hidden = !text;
}

// ---------------------------------------------------------------- urgent offers
/** Risk-to-life offers (`urgent` on the event): supervisors watch them until answered. */
function onAssignmentEvent(event, what) {
  const d = event.data || {};
  const id = d.assignment_id;
  if (id == null) return;
  if (what === 'offered' && d.urgent === true && d.status === 'offered') {
    if (Date.parse(d.expires_at) <= Date.now()) return;
    app.urgent.set(id, { row: d, view: null });
    renderUrgent();
    if (isRecent(event)) {
      queueSound(`offer:${id}`, 'alarm');
      announce(`Urgent offer: incident ${d.incident_id} offered to ${d.unit}, risk to life.`, 'assertive');
    }
    return;
  }
  const offer = app.urgent.get(id);
  if (!offer || !d.status || d.status === 'offered') return;
  app.urgent.get(id)?.view?.remove();
  app.urgent.delete(id);
  renderUrgent();
  if (isRecent(event)) {
    const answered = d.status === 'accepted';
    announce(`${d.unit} ${answered ? 'accepted' : humanize(d.status).toLowerCase()} urgent incident ${d.incident_id}.`,
      answered ? 'polite' : 'assertive');
  }
}

function renderUrgent(now = Date.now()) {
  for (const [id, offer] of app.urgent) { // past its expiry by a few seconds: the event is late
    if (Date.parse(offer.row.expires_at) < now - 5000) { offer.view?.remove(); app.urgent.delete(id); }
  }
  const offers = [...app.urgent.values()].sort((a, b) => Date.parse(a.row.expires_at) - Date.parse(b.row.expires_at));
  const list = byId('urgent-list');
  const shown = offers.slice(0, URGENT_SHOWN);
  shown.forEach((offer, i) => {
    if (!offer.view) {
      const li = el('li', 'urgent-offer');
      li.dataset.testid = 'urgent-offer';
      li.dataset.assignmentId = String(offer.row.assignment_id);
      const countdown = el('time', 'urgent-countdown');
      countdown.dataset.testid = 'urgent-countdown';
      li.append(el('strong', 'urgent-unit', offer.row.unit ?? '—'),
        el('span', 'urgent-incident', `#${offer.row.incident_id}`), countdown);
      li.title = `Incident ${offer.row.incident_id} offered to ${offer.row.unit}${offer.row.risk_level ? ` (${offer.row.risk_level})` : ''}`;
      offer.view = li;
    }
    const left = Date.parse(offer.row.expires_at) - now;
    setText(offer.view.querySelector('.urgent-countdown'), left > 0 ? formatDuration(left) : 'expired');
    if (list.children[i] !== offer.view) list.insertBefore(offer.view, list.children[i] ?? null);
  });
  for (const offer of offers.slice(URGENT_SHOWN)) offer.view?.remove();
  const more = byId('urgent-more');
  setText(more, offers.length > URGENT_SHOWN ? `+${offers.length - URGENT_SHOWN} more` : '');
  more.hidden = offers.length <= URGENT_SHOWN;
  byId('urgent').hidden = offers.length === 0;
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
  updateMore('places-scroll', 'places-more', list.children);
}

// ---------------------------------------------------------------- figures and chart
function renderFigures(report) {
  const h = report.handovers || {};
  const share = h.within_goal_share;
  const values = {
    incidents_total: report.incidents_total ?? '—',
    police_attendances_avoided: report.police_attendances_avoided ?? '—',
    handovers_count: h.count ?? '—',
    median_minutes: h.median_minutes == null ? '—' : String(Math.round(h.median_minutes)),
    p90_minutes: h.p90_minutes == null ? '—' : String(Math.round(h.p90_minutes)),
    within_goal_share: share == null ? '—' : `${Math.round(share * 100)}%`,
  };
  for (const [name, value] of Object.entries(values)) {
    setText(document.querySelector(`[data-figure="${name}"]`), String(value));
  }
  for (const name of ['median_minutes', 'p90_minutes']) { // the unit, small, after a number only
    const dd = document.querySelector(`[data-figure="${name}"]`);
    if (values[name] === '—') delete dd.dataset.unit;
    else dd.dataset.unit = 'min';
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
  setText(byId('chart-summary'), rows.length ? `${rows.length} · ${over.length} over goal` : '');

  const pad = { left: 64, right: 20, top: 18, bottom: 52 };
  const plotW = W - pad.left - pad.right;
  const plotH = H - pad.top - pad.bottom;
  const peak = Math.max(10, (goal ?? 0) * 1.2, ...rows.map((r) => r.mins * 1.1));
  const step = [5, 10, 15, 30, 60, 120, 240].find((s) => peak / s <= 4) ?? 480;
  const top = Math.ceil(peak / step) * step;
  const y = (m) => pad.top + plotH - (Math.min(m, top) / top) * plotH;

  const nodes = [svg('desc', { id: 'chart-desc' }, summary)];
  for (let m = 0; m <= top; m += step) {
    nodes.push(svg('line', { class: 'gridline', x1: pad.left, x2: W - pad.right, y1: y(m), y2: y(m) }),
      svg('text', { class: 'tick', x: pad.left - 10, y: y(m) + 7, 'text-anchor': 'end' }, String(m)));
  }
  nodes.push(svg('text', { class: 'axis-title', transform: `translate(20 ${pad.top + plotH / 2}) rotate(-90)`,
    'text-anchor': 'middle' }, 'Minutes'));
  nodes.push(svg('line', { class: 'axis', x1: pad.left, x2: W - pad.right, y1: y(0), y2: y(0) }),
    svg('line', { class: 'axis', x1: pad.left, x2: pad.left, y1: pad.top, y2: y(0) }));

  const slot = plotW / Math.max(rows.length, 10);
  const barW = Math.max(4, Math.min(56, slot * 0.7));
  const labelEvery = Math.max(1, Math.ceil(62 / slot));
  rows.forEach((r, i) => {
    const x = pad.left + slot * i + (slot - barW) / 2;
    const isOver = over.includes(r);
    const bar = svg('rect', { class: isOver ? 'chart-bar over' : 'chart-bar', x, y: y(r.mins), width: barW,
      height: Math.max(1, y(0) - y(r.mins)) });
    bar.append(svg('title', {}, `${r.place_of_safety ?? ''} ${londonTime(r.handed_over_at)}: ${Math.round(r.mins)} min${isOver ? ' (over goal)' : ''}`));
    nodes.push(bar);
    if (barW >= 22) {
      nodes.push(svg('text', { class: isOver ? 'bar-label over' : 'bar-label', x: x + barW / 2,
        y: y(r.mins) - 6, 'text-anchor': 'middle' }, `${isOver ? '✖' : ''}${Math.round(r.mins)}`));
    }
    if (i % labelEvery === 0) {
      nodes.push(svg('text', { class: 'tick', x: x + barW / 2, y: y(0) + 26, 'text-anchor': 'middle' }, londonTime(r.handed_over_at)));
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
function onEvent(event) {
  const [prefix, what] = event.type.split('.');
  if (CLOCK_KINDS.includes(prefix)) onClockEvent(event, what);
  else if (prefix === 'escalation') onEscalationEvent(event, what);
  else if (prefix === 'assignment') onAssignmentEvent(event, what);
  else if (event.type === 'incident.updated') reloadFiguresLater();
  else if (event.type === 'place_of_safety.updated' && event.data?.id != null) {
    app.places.set(String(event.data.id), event.data);
    renderPlaces();
  }
}

function onStatus(status) {
  setText(byId('connection-status'), status);
  byId('conn').dataset.state = status;
  document.body.classList.toggle('is-offline', status === 'offline');
  byId('offline-banner').hidden = status !== 'offline';
  const since = app.lastGoodData ? ` from ${londonTime(app.lastGoodData, { seconds: true })}` : '';
  setText(byId('offline-since'), since);
  // Connected (on sign-in too) or back online: re-read everything. The server starts this
  // connection's stream a moment after it opens, so read just after that: whatever was raised
  // before is in the answer, whatever after comes as events.
  clearTimeout(app.settleTimer);
  if (status === 'live') {
    app.settleTimer = setTimeout(() => loadAll().then(() => {
      document.body.dataset.synced = String(Date.now()); // for tests: live and caught up
    }), CONNECT_SETTLE_MS);
  }
}

function tick() {
  const now = Date.now();
  setText(byId('clock'), londonTime(now, { seconds: true }));
  renderClocks(now);
  renderEscalations(now);
  renderUrgent(now);
  for (const map of [app.closedEscalations, app.stoppedClocks]) {
    for (const [key, at] of map) if (now - at > FORGET_CLOSED_MS) map.delete(key);
  }
}

function onResize() {
  drawChart();
  renderPlaces();
  tick();
}

/** Scrolling a list changes what is out of view: only the "+N more" lines need redoing. */
function onListScroll() {
  updateMore('escalation-scroll', 'escalations-more', byId('escalation-list').children);
  updateMore('clock-scroll', 'clocks-more', byId('clock-list').children);
  updateMore('places-scroll', 'places-more', byId('places-list').children);
}
const SCROLLERS = ['escalation-scroll', 'clock-scroll', 'places-scroll'];

// ---------------------------------------------------------------- sign in / out
function startDashboard(session) {
  app.session = session;
  byId('login').hidden = true;
  byId('dashboard').hidden = false;
  setText(byId('signed-in-user'), `${session.username || 'Signed in'} · supervisor`);
  renderSoundButton();
  const stream = new LiveStream({ token: session.token, cursorKey: session.username || undefined });
  stream.onEvent(onEvent);
  stream.onStatus(onStatus);
  stream.onResync(() => loadAll());
  stream.onUnauthenticated(() => signOut('Your session has ended. Please sign in again.'));
  app.stream = stream;
  onStatus('connecting');
  tick();
  loadAll().then(() => {
    const open = app.escalations.size;
    if (open) announce(`${open} open escalation${open === 1 ? '' : 's'} waiting for a supervisor.`, 'assertive');
  });
  stream.start();
  app.timers = [setInterval(tick, 1000), setInterval(() => { loadFigures(); loadClocks(); loadEscalations(); }, REFRESH_MS)];
  window.addEventListener('resize', onResize);
  for (const id of SCROLLERS) byId(id).addEventListener('scroll', onListScroll, { passive: true });
}

function signOut(notice = '') {
  if (!app.session) return;
  app.stream?.stop();
  app.timers.forEach(clearInterval);
  clearTimeout(app.settleTimer);
  window.removeEventListener('resize', onResize);
  for (const id of SCROLLERS) byId(id).removeEventListener('scroll', onListScroll);
  clearSession();
  sound.close();
  Object.assign(app, { session: null, stream: null, timers: [], ...fresh() });
  delete document.body.dataset.synced;
  // Do not leave incident data on screen behind the login form.
  for (const id of ['clock-list', 'places-list', 'escalation-list', 'urgent-list']) byId(id).replaceChildren();
  for (const id of ['announcer', 'live-polite', 'live-assertive']) setText(byId(id), '');
  byId('urgent').hidden = true;
  byId('dashboard').hidden = true;
  byId('login').hidden = false;
  setText(byId('login-notice'), notice);
  byId('password').value = '';
  byId('username').focus();
}

wireSignInForm({
  beforeSubmit: () => sound.unlock(), // the sign-in press is the gesture that allows sound
  start: startDashboard,
  refusal: (answer, username) => (answer.role === 'supervisor' ? '' : `This dashboard is for supervisors. ${username} is signed in as ${humanize(answer.role).toLowerCase()}; use the screen for that role.`),
});
sound.onChange(renderSoundButton);
// After a reload the browser holds sound back until the page is used: any click or key will do.
for (const type of ['pointerdown', 'keydown']) {
  document.addEventListener(type, (event) => {
    if (event.target.closest?.('#sound-toggle')) return; // the toggle's own click decides
    if (app.session && sound.state === 'blocked') sound.unlock();
  });
}
byId('sound-toggle').addEventListener('click', () => {
  const before = sound.state;
  sound.unlock();
  if (before === 'on') sound.setMuted(true);
  else if (before === 'muted') sound.setMuted(false);
});
byId('sign-out').addEventListener('click', () => {
  app.stream?.forgetCursor(); // a deliberate sign-out starts the next session afresh
  signOut();
});
const saved = loadSession();
if (saved && saved.role === 'supervisor') startDashboard(saved);
else byId('username').focus();
