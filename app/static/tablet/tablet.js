// Crew tablet: offers with an alert, accept/decline, unit status, and the s135/s136 record with
// its clocks and transfers. The law is checked by s136-rules.js (the server's rules, one case
// table for both); places are offered in its order for this person. Works offline: every action
// goes through a queue kept in localStorage and is sent when the connection is back; each is
// idempotent on the server, so a resend after a lost answer does no harm. Events come over /ws
// (LiveStream resumes with after=<last id>, so an offer made while offline is replayed), and
// state is re-read over REST on every reconnect.
import { api, loadSession, clearSession, LiveStream, humanize, wireSignInForm } from '/static/common/live.js';
import { byId, el, setText } from '/static/common/dom.js';
import { upsertActive } from '/static/common/assignments.js';
import { RETRY_MIN_MS, connectionShown, sendInOrder } from '/static/common/pending.js';
import { dayTimeLabel, durationLabel } from '/static/common/typed-time.js';
import { checkDetention, checkPlace } from './s136-rules.js';
import { rankFor, renderPlaceCards, renderPlaceSelect } from './places-view.js';
import { clockOf, clockState, currentHandoverClock, currentSince, isBehind, mergeClockEvent } from './clocks.js';
import { clearTimeInput, readTimeInput, renderTimeConfirm, timeInputProblem } from './time-entry.js';

const ALERT_REPEAT_MS = 15_000;  // an unanswered offer sounds again this often
const CONFIRM_MS = 5_000;        // "tap again to clear the job" stays armed this long
const DEFAULT_GOAL = { goal_minutes: 60, warning_minutes: 45 }; // contract default, until the server says
const DETENTION_HOURS = 24; // shown until the server's 24-hour clock arrives (S2)
const JOB_STATUSES = ['accepted', 'en_route', 'on_scene'];

const UNIT_STATUS = {
  available: 'Available', en_route: 'En route', on_scene: 'On scene', conveying: 'Conveying',
  at_place_of_safety: 'At place of safety', off_duty: 'Off duty',
};
const JOB_STATUS = { offered: 'Offered', accepted: 'Accepted', en_route: 'En route', on_scene: 'On scene', cleared: 'Cleared' };
const RISKS = {
  immediate_risk_to_life: 'Immediate risk to life', suicidal: 'Suicidal', self_harm: 'Self-harm',
  weapon: 'Weapon', violence_to_others: 'Violence to others', serious_harm: 'Serious harm',
  crime_in_progress: 'Crime in progress', intoxicated: 'Intoxicated', medical_emergency: 'Medical emergency',
};
const FLAGS = { under_18: 'Under 18', share_crisis_plan: 'Share the crisis plan' };
const CONSULTEES = { mh_nurse: 'Mental health nurse', doctor: 'Doctor', paramedic: 'Paramedic', amhp: 'AMHP', other: 'Other health professional' };
const VEHICLES = {
  ambulance: 'Ambulance', police_vehicle: 'Police vehicle', other_health_vehicle: 'Other health vehicle',
  other: 'Other', none: 'None (kept where found)', not_known: 'Not known',
};
const LOCATION_KINDS = {
  public_place: 'a public place', private_dwelling: 'a private dwelling', health_setting: 'a health setting',
  custody: 'custody', other: 'another kind of place',
};
// The exceptional-place fields S3, S4 and S5 may ask for, in the order shown.
const CHOICE_FIELDS = [
  ['police_station_reason', 'police-station-reason', 'Why a police station (exceptional circumstances only)'],
  ['authorised_by', 'authorised-by', 'Authorised by (inspector or above)'],
  ['believed_adult_reason', 'believed-adult-reason', 'Age not known: why you believe the person is 18 or over'],
  ['under_18_place_reason', 'under-18-place-reason', 'Why this place, though it does not take under-18s'],
];
// Flags for review: [rule, said while choosing, said on the record].
const FLAG_NOTES = {
  under_18_unsuitable_place: ['S5', 'A child at a place not meant for under-18s: the detention will be flagged for review. Call ahead.',
    'A child at a place not meant for under-18s: flagged for review.'],
  police_station_review: ['S4', 'Every use of a police station is reviewed.', 'A police station was used: flagged for review.'],
  possible_duplicate: ['', '', 'Possibly the same person as another recent detention: the supervisor has been told.'],
};
// Shown live while the form is filled in; the rest at "Record detention".
const LIVE_REFUSALS = new Set(['police_station_under_18', 's136_in_private_dwelling']);
const DECLINE_REASONS = [
  'Already committed to another job',
  'Too far away',
  'Vehicle off the road',
  'Crew on refreshment break',
  'Needs an ambulance, not a triage car',
];
const STATE_VIEW = {
  not_started: 'Not started', waiting: '● Waiting', warning: '▲ Warning', breached: '✖ Goal passed',
  handed_over: '✔ Handed over', not_handed_over: '■ Stopped: not handed over', no_goal: 'No handover goal here',
};

// ---------------------------------------------------------------- small helpers
const isValidTime = (t) => t != null && !Number.isNaN(new Date(t).getTime());
// Times with their date whenever it is not today ("yesterday, Mon 30 Nov 23:50").
const hhmm = (t) => (isValidTime(t) ? dayTimeLabel(t, Date.now()) : '—');
const hhmmss = (t) => (isValidTime(t) ? dayTimeLabel(t, Date.now(), { seconds: true }) : '—');
const nowIso = () => new Date().toISOString();

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
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

// ---------------------------------------------------------------- state
const app = {
  session: null,
  stream: null,
  timers: [],
  assignments: new Map(), // id → assignment fields (REST shape) + seenAt
  summaries: {},          // incident id → need-to-know summary (from the offer event, or the full record)
  incidents: {},          // incident id → full record (only after our unit accepted)
  detentions: {},         // incident id → the server's s136 record with clocks
  places: new Map(),      // place id → place
  unit: { callsign: null, status: null, lat: null, lon: null },
  goal: { ...DEFAULT_GOAL },
  queue: [],              // pending actions, oldest first (persisted)
  drafts: {},             // incident id → s136 draft (persisted)
  formErrors: {},         // incident id → [{field, message, rule?}] from the last refusal of the form
  stepErrors: {},         // incident id → {arrived|handover|transfer: [{field, message, rule?}]}
  flushing: null,          // the send in progress (a promise), if any
  nextFlushAt: 0,
  retryMs: RETRY_MIN_MS,
  sendFailing: false,     // the last send could not reach the server
  alerted: new Set(),     // offers already announced
  lastAlertAt: 0,
  confirmClearUntil: 0,
  formIncident: null,     // the incident whose draft the s136 form shows
  detailsAt: {},          // incident id → when its full record was last read
  renderedJob: '',
};

// ---------------------------------------------------------------- storage (per user, survives reloads)
const storeKey = (name) => `tablet.v1.${app.session?.username || 'anon'}.${name}`;

function storeGet(name, fallback) {
  try {
    const value = JSON.parse(localStorage.getItem(storeKey(name)));
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

function storeSet(name, value) {
  if (!app.session) return; // signed out meanwhile: nothing to save under
  try {
    localStorage.setItem(storeKey(name), JSON.stringify(value));
  } catch (err) {
    // Storage full or blocked: keep working from memory, but say so.
    showNotice('This tablet could not save your entries. Do not reload the page until the connection is back.');
    console.error('localStorage write failed', err);
  }
}

const saveQueue = () => storeSet('queue', app.queue);
const saveDrafts = () => storeSet('drafts', app.drafts);

/** Last known state, so a reload while offline still shows the job and its clock. */
function saveCache() {
  storeSet('cache', {
    assignments: [...app.assignments.values()],
    summaries: app.summaries,
    incidents: app.incidents,
    detentions: app.detentions,
    places: [...app.places.values()],
    unit: app.unit,
    goal: app.goal,
  });
}

function loadStored() {
  app.queue = storeGet('queue', []);
  app.drafts = storeGet('drafts', {});
  const cache = storeGet('cache', {});
  app.assignments = new Map((cache.assignments || []).map((a) => [a.id, a]));
  app.summaries = cache.summaries || {};
  app.incidents = cache.incidents || {};
  app.detentions = cache.detentions || {};
  app.places = new Map((cache.places || []).map((p) => [p.id, p]));
  if (cache.unit && cache.unit.callsign === app.session.unit) app.unit = cache.unit;
  if (cache.goal) app.goal = cache.goal;
}

/** Other people's unsent actions on this tablet (they go when that person signs in again). */
function othersPending() {
  const mine = storeKey('queue');
  const others = [];
  for (let i = 0; i < localStorage.length; i += 1) {
    const key = localStorage.key(i);
    if (!key || !key.startsWith('tablet.v1.') || !key.endsWith('.queue') || key === mine) continue;
    try {
      const list = JSON.parse(localStorage.getItem(key));
      if (Array.isArray(list) && list.length) others.push(`${list.length} by ${key.slice(10, -6)}`);
    } catch { /* ignore a corrupt entry */ }
  }
  return others;
}

// ---------------------------------------------------------------- the action queue
/**
 * Queue an action and try to send it now. Every action is sent as recorded (the time in it is
 * when the crew pressed the button), in order, and retried until the server answers.
 * action: {type, method, path, body, label, incidentId?, assignmentId?}
 */
function enqueue(action) {
  const same = app.queue.find((a) => a.method === action.method && a.path === action.path
    && JSON.stringify(a.body ?? null) === JSON.stringify(action.body ?? null));
  if (same) return; // a double tap: already waiting
  app.queue.push({ ...action, key: `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, queuedAt: nowIso() });
  saveQueue();
  app.nextFlushAt = 0;
  renderAll();
  flushQueue();
}

function removeAction(action) {
  app.queue = app.queue.filter((a) => a.key !== action.key);
  saveQueue();
}

/** Send queued actions oldest first; stop at the first that cannot reach the server.
 *  Resolves when this round is over (a caller may then re-read state safely). */
function flushQueue() {
  if (app.flushing) return app.flushing;
  if (!app.session || !app.queue.length) return Promise.resolve();
  if (navigator.onLine === false) return Promise.resolve(); // the 'online' event brings us back
  app.flushing = sendQueued().finally(() => {
    app.flushing = null;
    saveCache();
    renderAll();
  });
  return app.flushing;
}

function sendQueued() {
  return sendInOrder(app, {
    remove: removeAction,
    onSent,
    onRefused, // the server refused it for good (e.g. the offer had expired): tell the crew
    onSessionEnded: () => signOut('Your session has ended. Sign in again: nothing you entered is lost, it will be sent then.'),
  });
}

/** The server has the action: keep its answer as the new truth. */
function onSent(action, result) {
  switch (action.type) {
    case 'accept':
      upsertAssignment(result);
      loadJobDetails(action.incidentId);
      break;
    case 'decline':
      app.assignments.delete(action.assignmentId);
      break;
    case 'assignment_status':
      upsertAssignment(result);
      if (result.status === 'cleared') {
        delete app.drafts[action.incidentId];
        saveDrafts();
      }
      break;
    case 'unit_status':
      if (result && result.callsign === app.unit.callsign) app.unit = { ...app.unit, status: result.status, lat: result.lat ?? app.unit.lat, lon: result.lon ?? app.unit.lon };
      break;
    case 's136':
      setDetention(action.incidentId, result);
      delete app.formErrors[action.incidentId];
      break;
    case 'arrived':
    case 'handover':
    case 'transfer':
      setDetention(action.incidentId, result);
      delete app.stepErrors[action.incidentId];
      break;
    default:
      break;
  }
}

function onRefused(action, err) {
  const why = err.message || 'refused';
  if (action.type === 'accept' && err.code === 'offer_expired') {
    app.assignments.delete(action.assignmentId);
    showNotice(`Too late for incident ${action.incidentId}: the offer had expired and went to another unit.`);
  } else if (action.type === 'accept' && err.code === 'offer_withdrawn') {
    app.assignments.delete(action.assignmentId);
    showNotice(withdrawnNotice(action.incidentId), 'stop');
  } else if (action.type === 's136') {
    const draft = app.drafts[action.incidentId];
    if (err.code === 'detention_exists') {
      showNotice(`A detention was already recorded for incident ${action.incidentId}; showing that record.`);
    } else {
      if (draft) { draft.submitted = false; draft.open = true; saveDrafts(); }
      const details = err.details.length ? err.details : [{ field: 'form', message: why }];
      app.formErrors[action.incidentId] = details.map((e) => ({ ...e, field: draft ? shownField(e.field, draft) : e.field }));
      app.formIncident = null; // refill the form with the kept draft
      showNotice(`The detention was not recorded: ${why} Check the form and record it again.`);
    }
    loadDetention(action.incidentId);
  } else if (['arrived', 'handover', 'transfer'].includes(action.type)) {
    const details = err.details.length ? err.details : [{ field: 'at', message: why }];
    app.stepErrors[action.incidentId] = { [action.type]: details };
    if (action.type === 'transfer') {
      const draft = ensureDraft(action.incidentId);
      draft.transfer = { ...(draft.transfer || {}), ...transferDraftFrom(action.body), open: true };
      saveDrafts();
    }
    showNotice(`${action.label} was not recorded: ${why}`);
    loadDetention(action.incidentId);
  } else {
    showNotice(`${action.label} was not recorded: ${why}`);
  }
  refreshSoon();
}

// ---------------------------------------------------------------- REST
/** GET; undefined when it failed (offline keeps the cached state). A 401 signs out. */
async function get(path) {
  const token = app.session?.token;
  try {
    const data = await api(path, { token });
    return token === app.session?.token ? data : undefined;
  } catch (err) {
    if (err.status === 401 && token === app.session?.token) {
      signOut('Your session has ended. Sign in again: nothing you entered is lost.');
    }
    return err.status === 404 ? null : undefined;
  }
}

/** Everything we show, re-read: on start, on every reconnect and after a resync. */
async function refreshAll() {
  const started = Date.now();
  const [list, units, places] = await Promise.all([
    get('/api/v1/assignments'),
    get('/api/v1/units'),
    get('/api/v1/places-of-safety'),
  ]);
  if (Array.isArray(list)) {
    const gone = applyAssignmentList(list, started);
    if (gone.length) explainGone(gone);
    pruneFinished();
  }
  if (Array.isArray(units)) {
    const mine = units.find((u) => u.callsign === app.unit.callsign);
    if (mine) app.unit = { callsign: mine.callsign, status: mine.status, lat: mine.lat, lon: mine.lon };
  }
  if (Array.isArray(places)) app.places = new Map(places.map((p) => [p.id, p]));
  const job = currentJob(true);
  if (job) await loadJobDetails(job.incident_id, true);
  saveCache();
  renderAll();
  scheduleAlertCheck();
}
const refreshSoon = debounce(refreshAll, 400);

function applyAssignmentList(list, requestedAt) {
  const seen = new Set();
  for (const row of list) {
    seen.add(row.id);
    if (row.incident) app.summaries[row.incident_id] = row.incident; // for an offer we missed
    upsertAssignment(row);
  }
  // Gone from the server's active list: finished elsewhere (expired, cancelled…). Keep any that
  // arrived by event after we asked, and any we still have actions waiting for.
  const gone = [];
  for (const [id, a] of app.assignments) {
    if (seen.has(id) || (a.seenAt || 0) > requestedAt) continue;
    if (app.queue.some((q) => q.assignmentId === id)) continue;
    app.assignments.delete(id);
    gone.push(a);
  }
  return gone;
}

/** Offers or jobs that went while we were not listening (no event seen): say why, so a crew
 *  never keeps driving to a job the control room withdrew. */
async function explainGone(gone) {
  const all = await get('/api/v1/assignments?active=false');
  if (!Array.isArray(all)) return;
  for (const a of gone) {
    const row = all.find((r) => r.id === a.id);
    if (row?.status === 'withdrawn') showNotice(withdrawnNotice(a.incident_id), 'stop');
    else if (row?.status === 'cancelled') showNotice(`Incident ${a.incident_id} was taken off this unit by the control room.`);
  }
}

const withdrawnNotice = (incidentId) => `Incident ${incidentId} withdrawn: do not attend. `
  + 'The control room decided it no longer needs this unit.';

/** Forget what we kept about incidents that are no longer ours (need to know), unless
 *  something about them is still waiting to be sent. */
function pruneFinished() {
  const keep = new Set([...app.assignments.values()].map((a) => String(a.incident_id)));
  for (const q of app.queue) if (q.incidentId != null) keep.add(String(q.incidentId));
  for (const store of [app.summaries, app.incidents, app.detentions, app.drafts]) {
    for (const id of Object.keys(store)) if (!keep.has(id)) delete store[id];
  }
  saveDrafts();
}

function upsertAssignment(row) {
  return upsertActive(app.assignments, row);
}

/** The full record and any s136 record of an accepted job. */
async function loadJobDetails(incidentId, force = false) {
  // The accept answer and its event both ask for this; one read is enough (reads are audited).
  if (!force && Date.now() - (app.detailsAt[incidentId] || 0) < 3000) return;
  app.detailsAt[incidentId] = Date.now();
  const [incident] = await Promise.all([get(`/api/v1/incidents/${incidentId}`), loadDetention(incidentId)]);
  if (incident) {
    app.incidents[incidentId] = incident;
    if (!app.summaries[incidentId]) app.summaries[incidentId] = summaryFromIncident(incident);
  }
  saveCache();
  renderAll();
}

async function loadDetention(incidentId) {
  // A 404 (none yet) changes nothing: a record is never deleted, and a slow "none" must not
  // hide one our own queued request has just created.
  const detention = await get(`/api/v1/incidents/${incidentId}/s136`);
  if (detention) setDetention(incidentId, detention);
  renderAll();
}
const reloadDetentionSoon = debounce(loadDetention, 500);

function setDetention(incidentId, detention) {
  // An answer that left before a later step was recorded must not undo that step on screen.
  if (isBehind(detention, app.detentions[incidentId])) return;
  app.detentions[incidentId] = detention;
  const clock = currentHandoverClock(detention);
  if (clock && !clock.agreed) app.goal = { goal_minutes: clock.goal_minutes, warning_minutes: clock.warning_minutes };
  saveCache();
}

/** The event summary's shape, built from the full incident (when we had no offer event). */
function summaryFromIncident(incident) {
  return {
    id: incident.id,
    category: incident.category,
    location: incident.location,
    person: incident.person,
    risks: Object.keys(RISKS).filter((k) => incident.risk?.[k]),
    flags: incident.decision?.flags || [],
    crisis_plan: Boolean(incident.context?.crisis_plan),
    known_to_mh_services: Boolean(incident.context?.known_to_mh_services),
    outcome: incident.effective_outcome,
    source: incident.source,
    caller: incident.caller || {},
  };
}

// ---------------------------------------------------------------- what the crew sees: server state + queued actions
function effectiveAssignment(a) {
  let status = a.status;
  let pending = false;
  for (const q of app.queue) {
    if (q.assignmentId !== a.id) continue;
    pending = true;
    if (q.type === 'accept' && status === 'offered') status = 'accepted';
    else if (q.type === 'decline') status = 'declined';
    else if (q.type === 'assignment_status') status = q.body.status;
  }
  return { ...a, status, pending };
}

function offers() {
  return [...app.assignments.values()].map(effectiveAssignment)
    .filter((a) => a.status === 'offered')
    .sort((a, b) => Date.parse(a.offered_at) - Date.parse(b.offered_at));
}

/** The current job: the oldest accepted/en route/on scene assignment. `serverOnly` ignores the queue. */
function currentJob(serverOnly = false) {
  const list = [...app.assignments.values()].map((a) => (serverOnly ? a : effectiveAssignment(a)))
    .filter((a) => JOB_STATUSES.includes(a.status))
    .sort((a, b) => a.id - b.id);
  return list[0] || null;
}

function effectiveUnitStatus() {
  let status = app.unit.status;
  for (const q of app.queue) {
    if (q.type === 'unit_status') status = q.body.status;
    else if (q.type === 'assignment_status') status = { en_route: 'en_route', on_scene: 'on_scene', cleared: 'available' }[q.body.status] || status;
    else if (q.type === 'arrived') status = 'at_place_of_safety';
  }
  return status;
}

/** The s136 record as the crew has entered it: the server's, plus steps still waiting to send. */
function effectiveDetention(incidentId) {
  const server = app.detentions[incidentId];
  let d = server ? { ...server, transfers: [...(server.transfers || [])], pending: {} } : null;
  for (const q of app.queue) {
    if (q.incidentId !== incidentId) continue;
    if (q.type === 's136' && !d) {
      d = { ...q.body, incident_id: incidentId, arrived_at: null, handover_at: null, clocks: [], transfers: [], flags: [],
        pending: { created: true } };
    } else if (q.type === 'arrived' && d && !d.arrived_at) {
      d.arrived_at = q.body.at;
      if (q.body.place_of_safety_id) d.place_of_safety_id = q.body.place_of_safety_id;
      d.pending.arrived = true;
    } else if (q.type === 'transfer' && d && d.arrived_at) {
      const known = d.transfers.some((t) => Date.parse(t.at) === Date.parse(q.body.at)
        && t.to_place_of_safety_id === q.body.place_of_safety_id);
      if (known) continue;
      d.transfers.push({ at: q.body.at, from_place_of_safety_id: d.place_of_safety_id,
        to_place_of_safety_id: q.body.place_of_safety_id, to_place_of_safety: app.places.get(q.body.place_of_safety_id)?.name,
        vehicle: q.body.vehicle, reason: q.body.reason, pending: true });
      d.place_of_safety_id = q.body.place_of_safety_id;
      d.place_of_safety = app.places.get(q.body.place_of_safety_id)?.name;
      d.handover_at = null; // the handover owed is now the new place's
      d.received_by = null;
      d.pending.transfer = true;
      d.pending.handover = false;
    } else if (q.type === 'handover' && d && !d.handover_at) {
      d.handover_at = q.body.at;
      d.received_by = q.body.received_by;
      d.pending.handover = true;
    }
  }
  return d;
}

/** The handover clock to show: the one at the place the person is at now (the server's, or one
 *  started locally from a queued arrival or transfer). */
function handoverClock(d) {
  if (!d || !d.arrived_at) return { state: 'not_started' };
  const since = currentSince(d);
  const server = d.pending.transfer ? null : currentHandoverClock(d);
  if (server) {
    if (d.pending.handover && !server.stopped_at) return { ...server, stopped_at: d.handover_at, stop_reason: 'handed_over' };
    return server;
  }
  const queued = d.pending.arrived || d.pending.created || d.pending.transfer;
  if (!queued) return { state: 'no_goal' }; // no goal for this type of place
  return { started_at: since, goal_minutes: app.goal.goal_minutes, warning_minutes: app.goal.warning_minutes,
    stopped_at: d.handover_at, stop_reason: d.handover_at ? 'handed_over' : null, state: 'waiting', provisional: true,
    place_of_safety_id: d.place_of_safety_id };
}

// ---------------------------------------------------------------- alerts: sound and vibration
const sound = { ctx: null };

/** Audio may only start after a tap; call from a click handler. */
function enableSound() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    sound.ctx = sound.ctx || new Ctx();
    if (sound.ctx.state === 'suspended') sound.ctx.resume().then(renderSoundButton, () => {});
  } catch { /* no audio on this device */ }
  renderSoundButton();
}

/** Three loud beeps, generated (no file to download). */
function beep() {
  const ctx = sound.ctx;
  if (!ctx || ctx.state !== 'running') return false;
  const start = ctx.currentTime + 0.02;
  for (let i = 0; i < 3; i += 1) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'square';
    osc.frequency.value = i === 1 ? 1175 : 880;
    const t = start + i * 0.28;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.35, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.22);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t);
    osc.stop(t + 0.24);
  }
  return true;
}

function alertCrew() {
  const beeped = beep();
  let vibrated = false;
  try { vibrated = Boolean(navigator.vibrate && navigator.vibrate([400, 150, 400, 150, 400])); } catch { /* not allowed */ }
  app.lastAlertAt = Date.now();
  return [beeped && 'sound', vibrated && 'vibrate'].filter(Boolean).join('+') || 'visual';
}

/** Alert once per new offer, a moment after events settle (a replay may already hold its answer). */
const scheduleAlertCheck = debounce(() => {
  const fresh = offers().filter((a) => !app.alerted.has(a.id) && Date.parse(a.expires_at) > Date.now());
  if (!fresh.length) return;
  const how = alertCrew();
  for (const a of fresh) {
    app.alerted.add(a.id);
    const card = document.querySelector(`[data-testid="offer-card"][data-assignment-id="${a.id}"]`);
    if (card) card.dataset.alerted = how;
  }
}, 250);

function renderSoundButton() {
  const button = byId('sound-toggle');
  const on = sound.ctx && sound.ctx.state === 'running';
  setText(button, on ? 'Sound on' : 'Sound off: tap');
  button.classList.toggle('attention', !on);
  button.setAttribute('aria-pressed', on ? 'true' : 'false');
}

// ---------------------------------------------------------------- rendering
function renderAll() {
  if (!app.session) return;
  renderHeader();
  renderOffers();
  renderJob();
  renderStatusBar();
  renderS136();
}

function displayConnection() { return connectionShown(app.stream, app.sendFailing); }

function renderHeader() {
  const conn = displayConnection();
  setText(byId('connection-status'), conn);
  byId('conn').dataset.state = conn;
  document.body.classList.toggle('is-offline', conn === 'offline');
  byId('offline-banner').hidden = conn !== 'offline';
  const count = app.queue.length;
  setText(byId('pending-count'), String(count));
  byId('pending').dataset.count = String(count);
  setText(byId('pending-label'), count === 1 ? 'action to send' : 'actions to send');
  const list = app.queue.map((q) => q.label).join(', ');
  setText(byId('offline-detail'), count ? `Waiting to send: ${list}.` : '');
  byId('pending').title = count ? `Waiting to send: ${list}` : 'Everything is sent';
  setText(byId('unit-callsign'), app.unit.callsign || '—');
  const status = effectiveUnitStatus();
  setText(byId('unit-status'), UNIT_STATUS[status] || humanize(status) || '—');
  byId('unit-status').dataset.status = status || '';
}

function chip(text, kind) {
  const li = el('li', `chip ${kind}`, text);
  return li;
}

function describePerson(person = {}) {
  const parts = [person.description, person.age != null ? `age ${person.age}` : null,
    person.gender && person.gender !== 'not_known' ? person.gender : null,
    person.language && person.language !== 'en' ? `language: ${person.language}` : null,
    person.communication_needs ? `communication: ${person.communication_needs}` : null];
  return parts.filter(Boolean).join(' · ') || 'No description';
}

function describeCaller(caller = {}) {
  const parts = [caller.name, caller.role, caller.phone].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'Not recorded';
}

function flagChips(summary) {
  const items = [];
  if (summary.crisis_plan) items.push(chip('Crisis plan: ask for it', 'flag strong'));
  if (summary.known_to_mh_services) items.push(chip('Known to MH services', 'flag'));
  for (const f of summary.flags || []) {
    if (f === 'share_crisis_plan' && summary.crisis_plan) continue;
    items.push(chip(FLAGS[f] || humanize(f), f === 'under_18' ? 'flag strong' : 'flag'));
  }
  return items;
}

function riskChips(summary) {
  const risks = summary.risks || [];
  if (!risks.length) return [chip('No risks reported', 'none')];
  return risks.map((r) => chip(RISKS[r] || humanize(r), 'risk'));
}

/** The offer cards: one per open offer, built once and kept (the decline panel may hold typing). */
function renderOffers() {
  const stack = byId('offer-stack');
  const list = offers();
  const ids = new Set(list.map((a) => String(a.id)));
  for (const card of [...stack.children]) {
    if (!ids.has(card.dataset.assignmentId)) card.remove();
  }
  for (const a of list) {
    let card = stack.querySelector(`[data-assignment-id="${a.id}"]`);
    const summary = app.summaries[a.incident_id];
    const signature = JSON.stringify([summary || null, a.pending, Boolean(a.urgent)]);
    if (card && card.dataset.signature !== signature) {
      fillOfferDetails(card, a, summary);
      card.dataset.signature = signature;
    }
    if (!card) {
      card = buildOfferCard(a, summary);
      card.dataset.signature = signature;
      stack.append(card);
    }
  }
  const layer = byId('offer-layer');
  const wasHidden = layer.hidden;
  layer.hidden = list.length === 0;
  if (wasHidden && !layer.hidden) stack.querySelector('[data-testid="accept"]')?.focus();
  tickOffers();
}

function buildOfferCard(a, summary) {
  const card = el('article', 'offer-card');
  card.dataset.testid = 'offer-card';
  card.dataset.assignmentId = String(a.id);
  card.dataset.incidentId = String(a.incident_id);
  const head = el('header', 'offer-head');
  const kicker = el('span', 'offer-kicker', 'New job');
  kicker.dataset.testid = 'offer-kicker';
  const title = el('h2', 'offer-title', `Incident ${a.incident_id}`);
  const countdown = el('span', 'countdown');
  countdown.dataset.testid = 'offer-countdown';
  head.append(kicker, title, countdown);
  const details = el('div', 'offer-details');

  const actions = el('div', 'offer-actions');
  const accept = el('button', 'big accept', 'Accept');
  accept.type = 'button';
  accept.dataset.testid = 'accept';
  accept.addEventListener('click', () => onAccept(a.id));
  const decline = el('button', 'big decline', 'Decline');
  decline.type = 'button';
  decline.dataset.testid = 'decline';
  decline.addEventListener('click', () => openDecline(card));
  actions.append(accept, decline);

  card.append(head, details, actions, buildDeclinePanel(card, a));
  fillOfferDetails(card, a, summary);
  return card;
}

function fillOfferDetails(card, a, summary) {
  const details = card.querySelector('.offer-details');
  const title = card.querySelector('.offer-title');
  card.dataset.urgent = a.urgent ? 'true' : 'false';
  setText(card.querySelector('.offer-kicker'), a.urgent ? '⚠ Risk to life' : 'New job');
  const urgent = a.urgent ? el('p', 'offer-urgent',
    'Risk to life: less time to accept. The supervisor is told at once and watches this offer until you answer.') : null;
  if (urgent) urgent.dataset.testid = 'offer-urgent';
  if (!summary) {
    setText(title, `Incident ${a.incident_id}`);
    details.replaceChildren(...[urgent, el('p', 'offer-missing',
      'Details were not received with this offer. Accept to see the full record, or ask the control room.')].filter(Boolean));
    return;
  }
  setText(title, `Incident ${a.incident_id} · ${humanize(summary.category)}`);
  const loc = summary.location || {};
  const location = el('p', 'offer-location');
  location.dataset.testid = 'offer-location';
  location.append(el('span', 'where', loc.description || 'Location not given'));
  if (loc.kind) location.append(el('span', 'muted kind', humanize(loc.kind)));
  const person = el('p', 'offer-person', describePerson(summary.person));
  person.dataset.testid = 'offer-person';
  const risks = el('ul', 'chips offer-risks');
  risks.dataset.testid = 'offer-risks';
  risks.setAttribute('aria-label', 'Risks');
  risks.append(...riskChips(summary));
  const flags = el('ul', 'chips offer-flags');
  flags.dataset.testid = 'offer-flags';
  flags.setAttribute('aria-label', 'Flags');
  flags.append(...flagChips(summary));
  const caller = el('p', 'offer-caller');
  caller.dataset.testid = 'offer-caller';
  caller.append(el('span', 'label', 'Caller'), document.createTextNode(` ${describeCaller(summary.caller)}`));
  if (summary.source) caller.append(el('span', 'muted', ` · ${humanize(summary.source)}`));
  details.replaceChildren(...[urgent, location, person, risks, flags, caller].filter(Boolean));
}

function buildDeclinePanel(card, a) {
  const panel = el('div', 'decline-panel');
  panel.hidden = true;
  panel.append(el('p', 'decline-title', 'Why are you declining? The job goes to the next unit at once.'));
  const input = el('input', 'decline-reason');
  input.dataset.testid = 'decline-reason';
  input.setAttribute('aria-label', 'Reason for declining');
  input.placeholder = 'Pick a reason or type one';
  input.autocomplete = 'off';
  const reasons = el('div', 'reason-chips');
  for (const reason of DECLINE_REASONS) {
    const b = el('button', 'reason', reason);
    b.type = 'button';
    b.dataset.testid = 'decline-reason-option';
    b.addEventListener('click', () => {
      input.value = reason;
      for (const other of reasons.children) other.setAttribute('aria-pressed', other === b ? 'true' : 'false');
      clearFieldErrors(panel);
    });
    reasons.append(b);
  }
  input.addEventListener('input', () => clearFieldErrors(panel));
  const wrap = el('div', 'decline-input');
  wrap.dataset.fieldWrap = 'reason';
  wrap.append(input);
  const row = el('div', 'offer-actions');
  const submit = el('button', 'big decline', 'Decline job');
  submit.type = 'button';
  submit.dataset.testid = 'decline-submit';
  submit.addEventListener('click', () => onDeclineSubmit(a.id, input, panel));
  const back = el('button', 'big', 'Back');
  back.type = 'button';
  back.dataset.testid = 'decline-back';
  back.addEventListener('click', () => {
    panel.hidden = true;
    card.querySelector('.offer-actions').hidden = false;
  });
  row.append(submit, back);
  panel.append(reasons, wrap, row);
  return panel;
}

function openDecline(card) {
  card.querySelector('.offer-actions').hidden = true;
  const panel = card.querySelector('.decline-panel');
  panel.hidden = false;
  panel.querySelector('input').focus();
}

/** Countdown to each offer's expiry; an expired offer cannot be accepted. */
function tickOffers() {
  const now = Date.now();
  for (const card of byId('offer-stack').children) {
    const a = app.assignments.get(Number(card.dataset.assignmentId));
    if (!a) continue;
    const left = Date.parse(a.expires_at) - now;
    const countdown = card.querySelector('.countdown');
    const accept = card.querySelector('[data-testid="accept"]');
    const pending = effectiveAssignment(a).pending;
    if (left <= 0) {
      setText(countdown, 'Expired');
      card.dataset.expired = 'true';
      accept.disabled = true;
    } else {
      setText(countdown, `Accept within ${formatElapsed(left)}`);
      card.dataset.expired = 'false';
      accept.disabled = false;
    }
    countdown.classList.toggle('urgent', left > 0 && left < 30_000);
    card.classList.toggle('pending', pending);
  }
}

/** The job card: need-to-know, then the full record once it has been read. */
function renderJob() {
  const job = currentJob();
  byId('idle').hidden = Boolean(job);
  byId('job-layout').hidden = !job;
  const card = byId('job-card');
  if (!job) {
    app.renderedJob = '';
    const unitStatus = effectiveUnitStatus();
    setText(byId('idle-detail'), unitStatus === 'available' || !unitStatus
      ? 'A new job will sound and appear here.'
      : `Status: ${UNIT_STATUS[unitStatus] || humanize(unitStatus)}. Press Available when you are free for jobs.`);
    return;
  }
  card.dataset.status = job.status;
  card.dataset.assignmentId = String(job.id);
  card.dataset.incidentId = String(job.incident_id);
  card.dataset.unitStatus = effectiveUnitStatus() || '';
  const summary = app.summaries[job.incident_id];
  const incident = app.incidents[job.incident_id];
  const signature = JSON.stringify([job.id, job.status, job.pending, summary || null, incident?.updated_at || null]);
  if (signature === app.renderedJob) return;
  app.renderedJob = signature;

  const head = el('div', 'panel-head');
  const title = el('h2', null, `Incident ${job.incident_id}`);
  title.id = 'job-title';
  const badge = el('span', 'job-status', `${JOB_STATUS[job.status] || humanize(job.status)}${job.pending ? ' · waiting to send' : ''}`);
  badge.dataset.testid = 'job-status';
  head.append(title, badge);
  const body = el('div', 'job-body');
  if (summary) {
    const loc = summary.location || {};
    body.append(el('p', 'job-category', humanize(summary.category)));
    const where = el('p', 'job-location');
    where.dataset.testid = 'job-location';
    where.append(el('span', null, loc.description || 'Location not given'));
    if (loc.kind) where.append(el('span', 'muted kind', humanize(loc.kind)));
    const risks = el('ul', 'chips');
    risks.append(...riskChips(summary));
    const flags = el('ul', 'chips');
    flags.append(...flagChips(summary));
    const dl = el('dl', 'facts');
    const fact = (label, value) => { if (value) dl.append(el('dt', null, label), el('dd', null, value)); };
    const person = incident?.person?.name ? `${incident.person.name} · ${describePerson(summary.person)}` : describePerson(summary.person);
    fact('Person', person);
    fact('Caller', describeCaller(summary.caller));
    fact('What was said', incident?.circumstances);
    fact('Decision', incident?.decision?.reasons?.map((r) => r.text).join(' '));
    body.append(where, risks, flags, dl);
  } else {
    body.append(el('p', 'muted', 'Loading the job details…'));
  }
  card.replaceChildren(head, body);
}

/** Status buttons: pressed = the unit's status; disabled where the move is not allowed. */
function renderStatusBar() {
  const job = currentJob();
  const unitStatus = effectiveUnitStatus();
  const armed = Date.now() < app.confirmClearUntil;
  for (const button of document.querySelectorAll('.status-btn')) {
    const status = button.dataset.status;
    let enabled = Boolean(job);
    if (status === 'en_route') enabled = Boolean(job) && job.status === 'accepted';
    if (status === 'on_scene') enabled = Boolean(job) && ['accepted', 'en_route'].includes(job.status);
    if (status === 'available') enabled = true;
    button.disabled = !enabled;
    // With a job, "Available" is the way to clear it, never a state shown as pressed.
    const pressed = unitStatus === status && !(status === 'available' && job);
    button.setAttribute('aria-pressed', pressed ? 'true' : 'false');
    button.classList.toggle('pending', app.queue.some((q) => q.statusButton === status));
  }
  const available = document.querySelector('.status-btn[data-status="available"]');
  const d = job && effectiveDetention(job.incident_id);
  const warning = d && !d.handover_at ? 'Handover not recorded. Tap again to clear the job' : 'Tap again to clear the job';
  setText(available, armed && job ? warning : (job ? 'Available (clear job)' : 'Available'));
  available.classList.toggle('armed', armed && Boolean(job));
}

// ---------------------------------------------------------------- the s136 panel
function newDraft(incidentId) {
  const summary = app.summaries[incidentId] || {};
  const person = summary.person || {};
  return {
    open: true, submitted: false,
    power: 's136', found_in: summary.location?.kind || '', warrant_issued_by: '', warrant_issued_at: '',
    consulted_who: '', consulted_at: null, not_consulted_reason: '',
    detained_at: null,
    place_of_safety_id: '', police_station_reason: '', authorised_by: '', believed_adult_reason: '', under_18_place_reason: '',
    vehicle: '', ambulance_requested: '', police_vehicle_reason: '',
    age: person.age ?? '', gender: ['female', 'male', 'other'].includes(person.gender) ? person.gender : 'not_known',
    ethnicity: 'not_known',
    received_by: '',
    transfer: null,
  };
}

/** The incident's draft with every field present (a draft kept by an older tablet, or none yet
 *  when the detention was recorded elsewhere and only a later step is entered here). */
function ensureDraft(incidentId) {
  const draft = app.drafts[incidentId] || (app.drafts[incidentId] = { open: false, submitted: true });
  for (const [key, value] of Object.entries(newDraft(incidentId))) if (!(key in draft)) draft[key] = value;
  return draft;
}

const incidentAge = (incidentId) => app.incidents[incidentId]?.person?.age ?? app.summaries[incidentId]?.person?.age ?? null;

/** The age the server will go by: the form's when given, else the incident's. */
function draftAge(draft, incidentId) {
  if (draft.age === '' || draft.age == null) return incidentAge(incidentId);
  const age = Number(draft.age);
  return Number.isInteger(age) && age >= 0 && age <= 120 ? age : incidentAge(incidentId);
}

const detentionAge = (d, incidentId) => d.person?.age ?? incidentAge(incidentId);
const rankedFor = (age) => rankFor(app.places.values(), { age, lat: app.unit.lat ?? null, lon: app.unit.lon ?? null });
const placeFacts = (place) => (place ? { type: place.type, accepts_under_18: place.accepts_under_18 } : null);
const trimmed = (text) => (typeof text === 'string' && text.trim() ? text.trim() : null);
/** A datetime-local value ("2026-05-14T13:05") as an ISO time, read in the device's time zone. */
const localToIso = (value) => (value && isValidTime(value) ? new Date(value).toISOString() : null);

// ---- the exceptional-place fields (S3, S4, S5): asked only when the rules ask for them
function buildChoiceFields(container, prefix, named) {
  const police = el('p', 'warn-text', 'A police station only in exceptional circumstances, authorised by an inspector or above, and never for anyone under 18.');
  police.dataset.choiceNote = 'police';
  police.hidden = true;
  container.append(police);
  for (const [field, slug, label] of CHOICE_FIELDS) {
    const wrap = el('div', 'choice-field');
    wrap.dataset.fieldWrap = field;
    wrap.dataset.choice = field;
    wrap.hidden = true;
    const id = `${prefix}-${slug}`;
    const text = el('label', null, label);
    text.htmlFor = id;
    const input = el('input');
    input.id = id;
    input.autocomplete = 'off';
    input.dataset.testid = id;
    input.dataset.choiceInput = field;
    if (named) input.name = field;
    wrap.append(text, input);
    container.append(wrap);
  }
}

/** The exceptional-place fields this person at this place needs: what the rules (S3/S4/S5)
 *  refuse when none of them is given. */
function neededChoiceFields(age, place) {
  if (!place) return [];
  const names = CHOICE_FIELDS.map(([field]) => field);
  return checkPlace({ age, place: placeFacts(place) }).refusals.map((r) => r.field).filter((f) => names.includes(f));
}

function showChoiceFields(container, needed) {
  for (const wrap of container.querySelectorAll('[data-choice]')) wrap.hidden = !needed.includes(wrap.dataset.choice);
  container.querySelector('[data-choice-note="police"]').hidden = !needed.includes('police_station_reason');
}

const choiceInputs = (container) => [...container.querySelectorAll('[data-choice-input]')];

/** A later step's place choice checked by the rules: the fields sent now, else those already
 *  recorded on the detention (as the server reads them). → {body fields, refusals, flags} */
function checkStepPlace(d, incidentId, place, container) {
  const age = detentionAge(d, incidentId);
  const needed = neededChoiceFields(age, place);
  const sent = {};
  for (const input of choiceInputs(container)) {
    const value = trimmed(input.value);
    if (value && needed.includes(input.dataset.choiceInput)) sent[input.dataset.choiceInput] = value;
  }
  const recorded = Object.fromEntries(CHOICE_FIELDS.map(([f]) => [f, d[f] ?? null]));
  const verdict = checkPlace({ age, place: placeFacts(place), ...recorded, ...sent });
  return { sent, ...verdict };
}

// ---- the form
function renderS136() {
  const job = currentJob();
  if (!job) return;
  const id = job.incident_id;
  const d = effectiveDetention(id);
  const draft = app.drafts[id];
  const formOpen = !d && draft && draft.open && !draft.submitted;
  byId('s136-intro').hidden = Boolean(d) || formOpen;
  byId('s136-form').hidden = !formOpen;
  byId('s136-steps').hidden = !d;
  setText(byId('s136-start'), draft && !d && !draft.submitted ? 'Continue the s136 record' : 'Record a section 136 detention');
  setText(byId('s136-state'), d ? (d.pending?.created ? 'Recorded on this tablet · waiting to send' : 'Recorded') : (formOpen ? 'Draft (kept on this tablet)' : ''));
  if (formOpen) {
    ensureDraft(id);
    if (app.formIncident !== id) fillForm(id, draft);
    renderFormPlaces(id, draft);
    updateFormVisibility(draft, id);
  }
  if (d) renderSteps(id, d);
  tickClock();
}

/** Put the draft's values into the (static) form, once per incident or after a refusal. */
function fillForm(incidentId, draft) {
  app.formIncident = incidentId;
  const form = byId('s136-form');
  for (const name of ['power', 'found_in', 'warrant_issued_by', 'warrant_issued_at', 'consulted_who', 'not_consulted_reason',
    'vehicle', 'ambulance_requested', 'police_vehicle_reason', 'age', 'gender', 'ethnicity',
    ...CHOICE_FIELDS.map(([f]) => f)]) {
    form.elements[name].value = draft[name] ?? '';
  }
  for (const input of form.querySelectorAll('.timefield input[type="time"]')) clearTimeInput(input);
  renderFormPlaces(incidentId, draft);
  updateFormVisibility(draft, incidentId);
  clearFieldErrors(form);
  showFieldErrors(form, app.formErrors[incidentId] || []);
  renderLiveChecks(draft, incidentId);
}

function renderFormPlaces(incidentId, draft) {
  const ranked = rankedFor(draftAge(draft, incidentId));
  renderPlaceSelect(byId('s136-place'), ranked, draft.place_of_safety_id, { emptyLabel: 'Not decided yet (choose on arrival)' });
  renderPlaceCards(byId('place-list'), ranked, draft.place_of_safety_id, { onPick: (placeId) => pickPlace(byId('s136-place'), placeId) });
}

function pickPlace(select, placeId) {
  select.value = String(placeId);
  select.dispatchEvent(new Event('change', { bubbles: true }));
}

function updateFormVisibility(draft, incidentId) {
  const notConsulted = draft.consulted_who === 'none';
  byId('not-consulted').hidden = !notConsulted;
  byId('consulted-time').hidden = notConsulted;
  byId('warrant').hidden = draft.power !== 's135';
  const place = app.places.get(Number(draft.place_of_safety_id));
  const choices = byId('s136-choice-fields');
  const needed = neededChoiceFields(draftAge(draft, incidentId), place);
  const asked = JSON.stringify(needed);
  showChoiceFields(choices, needed);
  // New questions below the list of places: bring them into view, once, as they appear.
  if (needed.length && choices.dataset.asked !== undefined && choices.dataset.asked !== asked) {
    choices.scrollIntoView({ block: 'nearest' });
  }
  choices.dataset.asked = asked;
  byId('police-vehicle').hidden = draft.vehicle !== 'police_vehicle';
  for (const field of document.querySelectorAll('#s136-form .timefield')) {
    const value = draft[field.dataset.time];
    const waiting = readTimeInput(field.querySelector('input[type="time"]')).unconfirmed;
    setText(field.querySelector('output'), value ? `✔ ${hhmmss(value)}` : waiting ? 'not set: confirm the date below' : 'not set');
    field.classList.toggle('set', Boolean(value));
  }
  const callKind = app.summaries[incidentId]?.location?.kind;
  let hint = '';
  if (callKind === 'private_dwelling') {
    hint = 'The call was to a private dwelling. If you detained the person somewhere else (in the street, say), '
      + 'choose where; in the home, it is s135 with a warrant (S9).';
  } else if (callKind) {
    hint = `The call gave the location as ${LOCATION_KINDS[callKind] || humanize(callKind)}. If you detained the person somewhere else, choose where.`;
  }
  setText(byId('found-in-hint'), hint);
  const age = incidentAge(incidentId);
  setText(byId('age-hint'), age == null ? 'The call gave no age: leave it blank if it is not known.'
    : `Left blank, the call's age (${age}) is used.`);
}

/** Read the form into the draft (on every change, so nothing entered is lost). */
function onFormInput(event) {
  const job = currentJob();
  if (!job) return;
  const id = job.incident_id;
  const draft = app.drafts[id];
  if (!draft) return;
  const form = byId('s136-form');
  const target = event.target;
  const wrap = target.closest('[data-field-wrap]');
  if (target.type === 'time') {
    const key = target.closest('.timefield')?.dataset.time;
    if (!key) return;
    const state = renderTimeConfirm(target, (at) => {
      draft[key] = at;
      saveDrafts();
      if (wrap) clearFieldErrors(wrap);
      updateFormVisibility(draft, id);
    });
    if (state.at) draft[key] = state.at;
    else if (!state.empty) draft[key] = null; // never a time the crew has not seen with its date
  } else if (target.name) {
    draft[target.name] = target.value;
  }
  draft.consulted_who = form.elements.consulted_who.value;
  saveDrafts();
  if (wrap) clearFieldErrors(wrap);
  if (['place_of_safety_id', 'age'].includes(target.name)) renderFormPlaces(id, draft);
  updateFormVisibility(draft, id);
  renderLiveChecks(draft, id);
}

function onTimeNow(event) {
  const field = event.target.closest('.timefield');
  const job = currentJob();
  if (!field || !job || !app.drafts[job.incident_id]) return;
  const draft = app.drafts[job.incident_id];
  draft[field.dataset.time] = nowIso();
  clearTimeInput(field.querySelector('input[type="time"]'));
  saveDrafts();
  clearFieldErrors(field.closest('[data-field-wrap]') || field);
  updateFormVisibility(draft, job.incident_id);
}

/** The body to send, exactly as the rules are asked about it. */
function draftBody(draft, incidentId) {
  const place = app.places.get(Number(draft.place_of_safety_id));
  const needed = neededChoiceFields(draftAge(draft, incidentId), place);
  const police = draft.vehicle === 'police_vehicle';
  const consulted = draft.consulted_who && draft.consulted_who !== 'none';
  const s135 = draft.power === 's135';
  const body = {
    power: s135 ? 's135' : 's136',
    detained_at: draft.detained_at,
    found_in: draft.found_in || null,
    warrant: s135 ? { issued_by: draft.warrant_issued_by.trim(), issued_at: localToIso(draft.warrant_issued_at) } : null,
    consulted: consulted ? { who: draft.consulted_who, at: draft.consulted_at } : null,
    not_consulted_reason: consulted ? null : trimmed(draft.not_consulted_reason),
    place_of_safety_id: place ? place.id : null,
    vehicle: draft.vehicle,
    ambulance_requested: police && draft.ambulance_requested ? draft.ambulance_requested === 'yes' : null,
    police_vehicle_reason: police ? trimmed(draft.police_vehicle_reason) : null,
    person: { age: draft.age === '' ? null : Number(draft.age), gender: draft.gender, ethnicity: draft.ethnicity },
  };
  for (const [field] of CHOICE_FIELDS) body[field] = needed.includes(field) ? trimmed(draft[field]) : null;
  return body;
}

/** The s136-rules.js facts for a body (the incident's age and location kind where the body has
 *  none, as the server fills them in). */
function bodyFacts(body, incidentId, now) {
  const place = app.places.get(body.place_of_safety_id);
  return {
    now: new Date(now).toISOString(),
    power: body.power,
    detained_at: body.detained_at || new Date(now).toISOString(),
    found_in: body.found_in ?? app.summaries[incidentId]?.location?.kind ?? null,
    warrant: body.warrant,
    consulted: body.consulted,
    not_consulted_reason: body.not_consulted_reason,
    age: body.person.age ?? incidentAge(incidentId),
    believed_adult_reason: body.believed_adult_reason,
    place: placeFacts(place),
    police_station_reason: body.police_station_reason,
    authorised_by: body.authorised_by,
    under_18_place_reason: body.under_18_place_reason,
    vehicle: body.vehicle || null,
    ambulance_requested: body.ambulance_requested,
    police_vehicle_reason: body.police_vehicle_reason,
  };
}

/** What stops the form being sent: what is missing or unconfirmed, then every refusal of the
 *  rules (s136-rules.js, the server's own), each with its rule id. */
function draftErrors(draft, incidentId) {
  const now = Date.now();
  const problems = [];
  const add = (field, message) => problems.push({ field, message });
  const consulted = draft.consulted_who && draft.consulted_who !== 'none';
  if (consulted) {
    const problem = timeInputProblem(readTimeInput(byId('s136-consulted-at'), now));
    if (problem) add('consulted.at', problem);
  }
  const detainedProblem = timeInputProblem(readTimeInput(byId('s136-detained-at'), now));
  if (detainedProblem) add('detained_at', detainedProblem);
  else if (!draft.detained_at) add('detained_at', 'Say when the person was detained: press Now, or enter the time.');
  const age = draft.age === '' ? null : Number(draft.age);
  if (age != null && (!Number.isInteger(age) || age < 0 || age > 120)) add('person.age', 'Age must be a whole number from 0 to 120.');
  if (draft.power === 's135' && draft.warrant_issued_at && !localToIso(draft.warrant_issued_at)) {
    add('warrant.issued_at', 'That is not a date and time.');
  }
  if (!draft.vehicle) add('vehicle', 'Say how the person is conveyed.');
  if (problems.some((p) => p.field === 'person.age')) return problems;
  const { refusals } = checkDetention(bodyFacts(draftBody(draft, incidentId), incidentId, now));
  const noDetentionTime = !draft.detained_at;
  const rules = refusals.filter((r) => !problems.some((p) => p.field === r.field)
    && !(noDetentionTime && ['consultation_after_detention', 'warrant_after_detention'].includes(r.code)))
    .map((r) => ({ ...r, field: shownField(r.field, draft) }));
  return [...problems, ...rules];
}

/** Where a refusal is shown: "consult or say why" beside the reason once "Not consulted" is chosen. */
const shownField = (field, draft) => (field === 'consulted' && draft.consulted_who === 'none' ? 'not_consulted_reason' : field);

/** While the form is filled in: the refusals about what was just chosen (a police station for a
 *  child, s136 in a home) and what will be flagged for review, at once. */
function renderLiveChecks(draft, incidentId) {
  const form = byId('s136-form');
  form.querySelectorAll('.field-error[data-code]').forEach((node) => {
    if (LIVE_REFUSALS.has(node.dataset.code) || node.dataset.code in FLAG_NOTES) node.remove();
  });
  const body = draftBody(draft, incidentId);
  const { refusals, flags } = checkDetention(bodyFacts(body, incidentId, Date.now()));
  showFieldErrors(form, refusals.filter((r) => LIVE_REFUSALS.has(r.code)));
  showFieldErrors(form, flags.filter((f) => FLAG_NOTES[f]?.[1])
    .map((f) => ({ field: 'place_of_safety_id', code: f, rule: FLAG_NOTES[f][0], message: FLAG_NOTES[f][1], tone: 'warn' })));
}

function onS136Submit(event) {
  event.preventDefault();
  const job = currentJob();
  if (!job) return;
  const id = job.incident_id;
  const draft = ensureDraft(id);
  const form = byId('s136-form');
  clearFieldErrors(form);
  const errors = draftErrors(draft, id);
  if (errors.length) {
    showFieldErrors(form, errors);
    form.querySelector('.field-error:not([hidden]):not(.warn)')?.scrollIntoView({ block: 'center' });
    return;
  }
  const body = draftBody(draft, id);
  draft.submitted = true;
  draft.open = false;
  saveDrafts();
  delete app.formErrors[id];
  for (const input of form.querySelectorAll('.timefield input[type="time"]')) clearTimeInput(input);
  enqueue({ type: 's136', method: 'POST', path: `/api/v1/incidents/${id}/s136`, body,
    incidentId: id, label: `${body.power} detention (incident ${id})` });
}

// ---- the steps after the detention: arrival, handover, transfer
function placeName(id, d) {
  if (id == null) return null;
  return app.places.get(Number(id))?.name || (Number(id) === d?.place_of_safety_id ? d.place_of_safety : null) || `place ${id}`;
}

function renderSteps(id, d) {
  const draft = app.drafts[id];
  const dl = byId('s136-summary');
  const rows = [];
  if (d.power === 's135') rows.push(['Power', `s135 · warrant: ${d.warrant?.issued_by || '—'}, ${hhmm(d.warrant?.issued_at)}`]);
  rows.push(['Detained', `${hhmm(d.detained_at)}${d.pending?.created ? ' (to send)' : ''}`]);
  if (d.found_in) rows.push(['Found in', humanize(d.found_in)]);
  rows.push(['Consulted', d.consulted ? `${CONSULTEES[d.consulted.who] || humanize(d.consulted.who)}, ${hhmm(d.consulted.at)}` : `No: ${d.not_consulted_reason || '—'}`]);
  const transfers = d.transfers || [];
  const first = transfers.length ? transfers[0].from_place_of_safety_id : d.place_of_safety_id;
  rows.push([transfers.length ? 'First place' : 'Place', placeName(first, d) || 'Not decided yet']);
  rows.push(['Vehicle', VEHICLES[d.vehicle] || humanize(d.vehicle)]);
  if (d.arrived_at) rows.push(['Arrived', `${hhmmss(d.arrived_at)}${d.pending?.arrived ? ' (to send)' : ''}`]);
  for (const t of transfers) {
    rows.push(['Moved', `to ${t.to_place_of_safety || placeName(t.to_place_of_safety_id, d)}, ${hhmm(t.at)}${t.pending ? ' (to send)' : ''}`]);
  }
  if (d.handover_at) rows.push(['Handed over', `${hhmmss(d.handover_at)} to ${d.received_by || '—'}${d.pending?.handover ? ' (to send)' : ''}`]);
  if (d.outcome) rows.push(['Ended', `${hhmm(d.ended_at)}: ${humanize(d.outcome)}`]);
  const review = (d.flags || []).filter((f) => f in FLAG_NOTES).map((f) => FLAG_NOTES[f][2]);
  if (review.length) rows.push(['Review', review.join(' ')]);
  const signature = JSON.stringify(rows);
  if (dl.dataset.signature !== signature) {
    // Two facts a row: each a <div> of <dt>+<dd> (valid inside <dl>).
    dl.replaceChildren(...rows.map(([k, v]) => {
      const pair = el('div', `fact${k === 'Review' ? ' review' : ''}`);
      pair.append(el('dt', null, k), el('dd', null, v));
      return pair;
    }));
    dl.dataset.signature = signature;
  }
  const ended = Boolean(d.outcome || d.ended_at);
  renderArrivalStep(id, d);
  byId('step-handover').hidden = !d.arrived_at || Boolean(d.handover_at) || ended;
  setText(byId('handover-step-title'), `Handed over to health staff${d.place_of_safety_id ? ` at ${placeName(d.place_of_safety_id, d)}` : ''}`);
  const receivedBy = byId('s136-received-by');
  if (draft && document.activeElement !== receivedBy && receivedBy.value !== (draft.received_by || '')) {
    receivedBy.value = draft.received_by || '';
  }
  setText(byId('s136-handover'), stepButtonText(byId('s136-handover-at'), 'Handed over now', 'Record handover at'));
  renderTransferStep(id, d, ended);
  // Errors are re-drawn only when they change, so a screen reader announces each once.
  const errors = app.stepErrors[id] || {};
  for (const [scope, root] of [['arrived', byId('step-arrived')], ['handover', byId('step-handover')], ['transfer', byId('transfer-panel')]]) {
    const list = errors[scope] || [];
    if (root.dataset.errors !== JSON.stringify(list)) {
      root.dataset.errors = JSON.stringify(list);
      clearFieldErrors(root);
      showFieldErrors(root, list);
    }
  }
}

function stepButtonText(input, now, recordAt) {
  const state = readTimeInput(input);
  if (state.unconfirmed) return 'Confirm the date of the time first';
  return state.at ? `${recordAt} ${hhmm(state.at)}` : now;
}

function renderArrivalStep(id, d) {
  byId('step-arrived').hidden = Boolean(d.arrived_at);
  const needPlace = !d.place_of_safety_id && !d.arrived_at;
  byId('arrived-place-wrap').hidden = !needPlace;
  if (needPlace) {
    const select = byId('s136-arrived-place');
    renderPlaceSelect(select, rankedFor(detentionAge(d, id)), select.value, { emptyLabel: 'Choose…' });
    const place = app.places.get(Number(select.value));
    showChoiceFields(byId('s136-arrival-choice-fields'), neededChoiceFields(detentionAge(d, id), place));
  }
  setText(byId('s136-arrived'), stepButtonText(byId('s136-arrived-at'), 'Arrived now', 'Record arrival at'));
}

function renderTransferStep(id, d, ended) {
  const step = byId('step-transfer');
  step.hidden = !d.arrived_at || ended;
  if (step.hidden) return;
  const draft = app.drafts[id];
  const t = draft?.transfer;
  const panel = byId('transfer-panel');
  const open = Boolean(t?.open);
  byId('s136-transfer-open').hidden = open;
  if (!open) {
    panel.hidden = true;
    return;
  }
  if (panel.hidden) fillTransferPanel(t);
  panel.hidden = false;
  const age = detentionAge(d, id);
  const ranked = rankedFor(age);
  const select = byId('s136-transfer-place');
  renderPlaceSelect(select, ranked, t.place_of_safety_id, { currentId: d.place_of_safety_id });
  renderPlaceCards(byId('transfer-place-list'), ranked, t.place_of_safety_id,
    { currentId: d.place_of_safety_id, onPick: (placeId) => pickPlace(select, placeId) });
  showChoiceFields(byId('s136-transfer-choice-fields'), neededChoiceFields(age, app.places.get(Number(t.place_of_safety_id))));
  setText(byId('s136-transfer-submit'), stepButtonText(byId('s136-transfer-at'), 'Arrived there now', 'Record the move: arrived at'));
}

const transferDraftFrom = (body) => ({
  place_of_safety_id: String(body.place_of_safety_id), vehicle: body.vehicle || 'not_known', reason: body.reason || '',
  ...Object.fromEntries(CHOICE_FIELDS.map(([f]) => [f, body[f] || ''])),
});

function fillTransferPanel(t) {
  byId('s136-transfer-vehicle').value = t.vehicle || 'not_known';
  byId('s136-transfer-reason').value = t.reason || '';
  for (const input of choiceInputs(byId('s136-transfer-choice-fields'))) input.value = t[input.dataset.choiceInput] || '';
  clearTimeInput(byId('s136-transfer-at'));
}

function onTransferOpen() {
  const job = currentJob();
  if (!job) return;
  const draft = ensureDraft(job.incident_id);
  const d = effectiveDetention(job.incident_id) || {};
  // What was recorded for the place left (a police station's authority, say) is offered again.
  const recorded = Object.fromEntries(CHOICE_FIELDS.map(([f]) => [f, d[f] || '']));
  draft.transfer = { place_of_safety_id: '', vehicle: 'not_known', reason: '', ...recorded, ...(draft.transfer || {}), open: true };
  saveDrafts();
  renderAll();
  byId('s136-transfer-place').focus();
}

function onTransferCancel() {
  const job = currentJob();
  const draft = job && app.drafts[job.incident_id];
  if (!draft?.transfer) return;
  draft.transfer.open = false; // kept: opening it again brings the entries back
  saveDrafts();
  renderAll();
}

function onTransferInput(event) {
  const job = currentJob();
  const draft = job && app.drafts[job.incident_id];
  if (!draft?.transfer) return;
  const target = event.target;
  const t = draft.transfer;
  if (target.id === 's136-transfer-place') t.place_of_safety_id = target.value;
  else if (target.id === 's136-transfer-vehicle') t.vehicle = target.value;
  else if (target.id === 's136-transfer-reason') t.reason = target.value;
  else if (target.dataset.choiceInput) t[target.dataset.choiceInput] = target.value;
  else if (target.id === 's136-transfer-at') renderTimeConfirm(target, () => renderAll());
  saveDrafts();
  const wrap = target.closest('[data-field-wrap]');
  if (wrap) clearFieldErrors(wrap);
  renderAll();
}

/** A step's time: typed (and confirmed when it is not today's), else now, at the press. */
function stepTime(input, errors) {
  const state = readTimeInput(input);
  const problem = timeInputProblem(state);
  if (problem) errors.push({ field: 'at', message: problem });
  return state.at ?? nowIso();
}

function onArrived() {
  const job = currentJob();
  if (!job) return;
  const id = job.incident_id;
  const d = effectiveDetention(id);
  if (!d || d.arrived_at) return;
  const errors = [];
  const input = byId('s136-arrived-at');
  // The time is taken now, at the press, and sent as it is however late it goes.
  const at = stepTime(input, errors);
  if (!errors.length && Date.parse(at) < Date.parse(d.detained_at)) {
    errors.push({ field: 'at', message: `Arrival must be after the detention (${hhmm(d.detained_at)}).` });
  }
  const body = { at };
  if (!d.place_of_safety_id) {
    const place = app.places.get(Number(byId('s136-arrived-place').value));
    if (!place) {
      errors.push({ field: 'place_of_safety_id', message: 'Say which place of safety you arrived at.' });
    } else {
      const checked = checkStepPlace(d, id, place, byId('s136-arrival-choice-fields'));
      errors.push(...checked.refusals);
      Object.assign(body, { place_of_safety_id: place.id }, checked.sent);
    }
  }
  if (errors.length) {
    app.stepErrors[id] = { arrived: errors };
    renderAll();
    return;
  }
  delete app.stepErrors[id];
  clearTimeInput(input);
  enqueue({ type: 'arrived', method: 'POST', path: `/api/v1/incidents/${id}/s136/arrived`, body,
    incidentId: id, label: `Arrived ${hhmm(at)} (incident ${id})` });
}

function onHandover() {
  const job = currentJob();
  if (!job) return;
  const id = job.incident_id;
  const d = effectiveDetention(id);
  if (!d || !d.arrived_at || d.handover_at) return;
  const errors = [];
  const input = byId('s136-handover-at');
  const at = stepTime(input, errors);
  const receivedBy = byId('s136-received-by').value.trim();
  if (!receivedBy) errors.push({ field: 'received_by', message: 'Say who took over (name and role).' });
  const since = currentSince(d);
  if (!errors.some((e) => e.field === 'at') && Date.parse(at) < Date.parse(since)) {
    errors.push({ field: 'at', message: `Handover must be after the arrival here (${hhmm(since)}).` });
  }
  if (errors.length) {
    app.stepErrors[id] = { handover: errors };
    renderAll();
    return;
  }
  delete app.stepErrors[id];
  clearTimeInput(input);
  enqueue({ type: 'handover', method: 'POST', path: `/api/v1/incidents/${id}/s136/handover`,
    body: { at, received_by: receivedBy }, incidentId: id, label: `Handed over ${hhmm(at)} (incident ${id})` });
}

/** S10: the person moved to another place; the time is the arrival there. */
function onTransferSubmit() {
  const job = currentJob();
  if (!job) return;
  const id = job.incident_id;
  const d = effectiveDetention(id);
  const draft = app.drafts[id];
  if (!d || !d.arrived_at || !draft?.transfer) return;
  const t = draft.transfer;
  const errors = [];
  const input = byId('s136-transfer-at');
  const at = stepTime(input, errors);
  const since = currentSince(d);
  if (!errors.length && Date.parse(at) < Date.parse(since)) {
    errors.push({ field: 'at', message: `The arrival at the new place cannot be before the arrival at this one (${hhmm(since)}).` });
  }
  const place = app.places.get(Number(t.place_of_safety_id));
  const body = { at, place_of_safety_id: place?.id ?? null, vehicle: t.vehicle || 'not_known', reason: trimmed(t.reason) };
  if (!place) {
    errors.push({ field: 'place_of_safety_id', message: 'Choose the place the person was moved to.' });
  } else {
    const checked = checkStepPlace(d, id, place, byId('s136-transfer-choice-fields'));
    errors.push(...checked.refusals);
    Object.assign(body, checked.sent);
  }
  if (errors.length) {
    app.stepErrors[id] = { transfer: errors };
    renderAll();
    return;
  }
  delete app.stepErrors[id];
  clearTimeInput(input);
  draft.transfer = { open: false };
  saveDrafts();
  enqueue({ type: 'transfer', method: 'POST', path: `/api/v1/incidents/${id}/s136/transfer`, body,
    incidentId: id, label: `Moved to ${place.name} ${hhmm(at)} (incident ${id})` });
  byId('handover-clock').scrollIntoView({ block: 'start' }); // the new place's clock, from now
}

// ---- the clocks
/** The big clock (the handover at the place the person is at now, ticking every second), the
 *  24-hour limit from the first arrival, and the other clocks due. */
function tickClock() {
  const job = currentJob();
  const box = byId('handover-clock');
  if (!job || byId('s136-steps').hidden) return;
  const d = effectiveDetention(job.incident_id);
  const clock = handoverClock(d);
  const now = Date.now();
  const state = ['not_started', 'no_goal'].includes(clock.state) ? clock.state : clockState(clock, now);
  box.dataset.state = state;
  box.dataset.provisional = clock.provisional ? 'true' : 'false';
  box.dataset.startedAt = clock.started_at || '';
  const placeId = clock.place_of_safety_id ?? d?.place_of_safety_id ?? null;
  box.dataset.placeId = placeId == null ? '' : String(placeId);
  const here = d?.arrived_at && placeId != null ? placeName(placeId, d) : null;
  const badge = byId('clock-badge');
  badge.dataset.state = state === 'not_started' || state === 'no_goal' ? 'waiting' : state;
  setText(badge, STATE_VIEW[state] || humanize(state));
  const fill = byId('clock-fill');
  const warn = byId('clock-warn');
  if (state === 'not_started' || state === 'no_goal') {
    setText(byId('clock-elapsed'), '--:--');
    setText(byId('clock-goal'), state === 'no_goal' ? 'no handover goal for this type of place' : 'starts when you record arrival');
    setText(byId('clock-note'), '');
    fill.style.width = '0%';
    warn.hidden = true;
  } else {
    const end = clock.stopped_at ? Date.parse(clock.stopped_at) : now;
    const elapsed = Math.max(0, end - Date.parse(clock.started_at));
    setText(byId('clock-elapsed'), formatElapsed(elapsed));
    const goal = clock.goal_minutes;
    setText(byId('clock-goal'), `of ${goal} min goal${clock.agreed ? ' (agreed)' : ''}${clock.provisional ? ' (until confirmed)' : ''}`);
    fill.style.width = `${Math.min(100, (elapsed / (goal * 60000)) * 100)}%`;
    warn.hidden = clock.warning_minutes == null;
    if (clock.warning_minutes != null) warn.style.left = `${(clock.warning_minutes / goal) * 100}%`;
    const moved = (d.transfers || []).length > 0;
    const where = here ? `${moved ? ' to' : ' at'} ${here}` : '';
    let note = `${moved ? 'Moved' : 'Arrived'}${where} ${hhmm(clock.started_at)} · goal by ${hhmm(Date.parse(clock.started_at) + goal * 60000)}`;
    if (state === 'handed_over') {
      const within = clock.within_goal ?? elapsed <= goal * 60000;
      note = `Handed over after ${Math.round(elapsed / 60000)} min: ${within ? 'within the goal' : 'over the goal'}. Press Available when you are free.`;
    } else if (state === 'not_handed_over') {
      note = `Stopped at ${hhmm(clock.stopped_at)} without a handover: the detention ended first.`;
    } else if (state === 'breached') note += ' · the goal has passed: the supervisor has been told';
    else if (state === 'warning') note += ' · nearing the goal: ask staff for the handover time';
    if (d.pending?.arrived) note += ' · arrival waiting to send';
    if (d.pending?.transfer) note += ' · move waiting to send';
    setText(byId('clock-note'), note);
  }
  renderDetentionClock(d, now);
  const others = [];
  const assessment = d && clockOf(d, 'assessment');
  if (assessment && !assessment.stopped_at) others.push(`Assessment (AMHP and doctor) due by ${hhmm(assessment.deadline_at)}`);
  const welfare = d && clockOf(d, 'welfare_check');
  if (welfare && !welfare.stopped_at) others.push(`Welfare check due by ${hhmm(welfare.deadline_at)}`);
  setText(byId('other-clocks'), others.join(' · '));
}

/** The 24-hour limit (S2) runs from the first arrival, whatever moves follow. */
function renderDetentionClock(d, now) {
  const line = byId('detention-clock');
  if (!d || !d.arrived_at) {
    line.hidden = true;
    return;
  }
  const server = clockOf(d, 'detention');
  const started = server?.started_at ?? d.arrived_at;
  const deadline = server?.deadline_at ?? new Date(Date.parse(d.arrived_at) + DETENTION_HOURS * 3_600_000).toISOString();
  line.hidden = false;
  line.dataset.startedAt = started;
  line.dataset.deadlineAt = deadline;
  line.dataset.state = server ? clockState(server, now) : 'waiting';
  let text;
  if (server?.stopped_at) {
    text = `Detention limit: stopped ${hhmm(server.stopped_at)} (the detention ended).`;
  } else {
    const left = Date.parse(deadline) - now;
    text = `Detention limit (24 h from the first arrival, ${hhmm(started)}): ends ${dayTimeLabel(deadline, now)} · `
      + (left >= 0 ? `${durationLabel(left)} left` : `passed ${durationLabel(left)} ago`);
    if (!server) text += ' (until confirmed)';
  }
  setText(line, text);
}

// ---------------------------------------------------------------- field errors
function clearFieldErrors(root) {
  root.querySelectorAll('.field-error:not(.form-level)').forEach((n) => n.remove());
  const formLevel = root.querySelector('.field-error.form-level');
  if (formLevel) formLevel.hidden = true;
  root.querySelectorAll('[aria-invalid="true"]').forEach((n) => n.removeAttribute('aria-invalid'));
}

/** A message without its own trailing "(S3)" when the rule id is shown beside it. */
const withoutRule = (message, rule) => (rule ? message.replace(` (${rule})`, '') : message);

function fillError(p, { field, message, rule, code }) {
  p.replaceChildren();
  p.dataset.field = field || 'form';
  if (rule) {
    p.dataset.rule = rule;
    p.append(el('span', 'rule-id', rule), document.createTextNode(' '));
  } else {
    delete p.dataset.rule;
  }
  if (code) p.dataset.code = code;
  p.append(document.createTextNode(withoutRule(message, rule)));
}

function addFieldError(wrap, error) {
  const warn = error.tone === 'warn';
  const p = el('p', `field-error${warn ? ' warn' : ''}`);
  p.dataset.testid = 'field-error';
  fillError(p, error);
  p.setAttribute('role', 'alert');
  // Beside the field, not below a long list (the place cards).
  const list = wrap.querySelector(':scope > .place-list');
  if (list) list.before(p);
  else wrap.append(p);
  const input = wrap.querySelector('input, select');
  if (input && !warn) input.setAttribute('aria-invalid', 'true');
}

/** Show [{field, message, rule?}] beside each field (server paths like "consulted.at"). */
function showFieldErrors(root, errors) {
  for (const error of errors) {
    const { field } = error;
    const visible = (wrap) => wrap && !wrap.closest('[hidden]');
    let wrap = root.querySelector(`[data-field-wrap="${CSS.escape(field)}"]`);
    if (!visible(wrap)) wrap = root.querySelector(`[data-field-wrap="${CSS.escape(String(field).split('.')[0])}"]`);
    if (visible(wrap)) {
      addFieldError(wrap, error);
    } else {
      const formLevel = root.querySelector('.field-error.form-level');
      if (formLevel && formLevel.hidden) {
        fillError(formLevel, error);
        formLevel.hidden = false;
      } else {
        addFieldError(root, { ...error, field: field || 'form' });
      }
    }
  }
}

// ---------------------------------------------------------------- actions from the crew
function onAccept(assignmentId) {
  const a = app.assignments.get(assignmentId);
  if (!a) return;
  enableSound(); // a tap: the moment audio may start
  enqueue({ type: 'accept', method: 'POST', path: `/api/v1/assignments/${a.id}/accept`,
    assignmentId: a.id, incidentId: a.incident_id, label: `Accept incident ${a.incident_id}` });
}

function onDeclineSubmit(assignmentId, input, panel) {
  const a = app.assignments.get(assignmentId);
  const reason = input.value.trim();
  clearFieldErrors(panel);
  if (!reason) {
    showFieldErrors(panel, [{ field: 'reason', message: 'Give a reason: pick one or type it.' }]);
    input.focus();
    return;
  }
  if (!a) return;
  enqueue({ type: 'decline', method: 'POST', path: `/api/v1/assignments/${a.id}/decline`, body: { reason },
    assignmentId: a.id, incidentId: a.incident_id, label: `Decline incident ${a.incident_id}` });
}

/** en route / on scene move the job; conveying / at place of safety are the unit's own status;
 *  available with a job clears it (after a second tap). */
function onStatusButton(event) {
  const status = event.currentTarget.dataset.status;
  const job = currentJob();
  const callsign = app.unit.callsign;
  if ((status === 'en_route' || status === 'on_scene') && job) {
    enqueue({ type: 'assignment_status', method: 'POST', path: `/api/v1/assignments/${job.id}/status`, body: { status },
      assignmentId: job.id, incidentId: job.incident_id, statusButton: status, label: `${UNIT_STATUS[status]} (incident ${job.incident_id})` });
  } else if (status === 'available' && job) {
    if (Date.now() > app.confirmClearUntil) {
      app.confirmClearUntil = Date.now() + CONFIRM_MS;
      renderStatusBar();
      return;
    }
    app.confirmClearUntil = 0;
    enqueue({ type: 'assignment_status', method: 'POST', path: `/api/v1/assignments/${job.id}/status`, body: { status: 'cleared' },
      assignmentId: job.id, incidentId: job.incident_id, statusButton: 'available', label: `Clear incident ${job.incident_id}` });
  } else if (callsign) {
    enqueue({ type: 'unit_status', method: 'PATCH', path: `/api/v1/units/${encodeURIComponent(callsign)}`, body: { status },
      statusButton: status, incidentId: job?.incident_id, label: UNIT_STATUS[status] });
  }
}

function onS136Start() {
  const job = currentJob();
  if (!job) return;
  const id = job.incident_id;
  if (!app.drafts[id]) app.drafts[id] = newDraft(id);
  app.drafts[id].open = true;
  app.drafts[id].submitted = false;
  saveDrafts();
  app.formIncident = null;
  renderAll();
  byId('s136-consulted-who').focus();
}

function onS136Cancel() {
  const job = currentJob();
  if (!job || !app.drafts[job.incident_id]) return;
  app.drafts[job.incident_id].open = false; // kept: "Continue the s136 record" brings it back
  saveDrafts();
  renderAll();
}

/** A notice stays until OK; a second one is added below it, never in its place (a "do not
 *  attend" must not be replaced by the next message). */
function showNotice(message, tone = 'info') {
  const notice = byId('notice');
  const box = byId('notice-text');
  if (notice.hidden) box.replaceChildren();
  if ([...box.children].some((line) => line.textContent === message)) return;
  box.append(el('span', `notice-line ${tone}`, message));
  notice.dataset.tone = box.querySelector('.notice-line.stop') ? 'stop' : 'info';
  notice.hidden = false;
}

// ---------------------------------------------------------------- live events
function onEvent(event) {
  const data = event.data || {};
  const [prefix, kind] = event.type.split('.');
  if (prefix === 'assignment') {
    onAssignmentEvent(event, data);
  } else if (event.type === 'unit.updated' && data.unit === app.unit.callsign) {
    app.unit = { callsign: data.unit, status: data.status, lat: data.lat ?? app.unit.lat, lon: data.lon ?? app.unit.lon };
  } else if (event.type === 'place_of_safety.updated' && data.id != null) {
    app.places.set(data.id, data);
  } else if (['handover', 'assessment', 'detention', 'welfare_check'].includes(data.clock ?? prefix) && data.incident_id != null) {
    onClockEvent(event, data, kind);
  } else {
    return;
  }
  saveCache();
  renderAll();
}

function onAssignmentEvent(event, data) {
  if (data.incident) app.summaries[data.incident_id] = data.incident;
  const before = app.assignments.get(data.assignment_id);
  const row = {
    id: data.assignment_id, incident_id: data.incident_id, unit: data.unit, unit_kind: data.unit_kind,
    status: data.status, offered_at: data.offered_at, expires_at: data.expires_at, decline_reason: data.decline_reason,
  };
  // Risk to life: a shorter time to accept, and supervisors watching (kept from the offer event).
  if (data.urgent != null) row.urgent = Boolean(data.urgent);
  if (data.risk_level != null) row.risk_level = data.risk_level;
  upsertAssignment(row);
  if (data.status === 'offered') scheduleAlertCheck();
  if (data.status === 'accepted' && before?.status === 'offered') loadJobDetails(data.incident_id);
  // Tell the crew when a job was taken away, not when they did it themselves.
  const recent = Date.now() - Date.parse(event.at) < 10 * 60_000;
  const ours = app.queue.some((q) => q.assignmentId === data.assignment_id);
  if (recent && !ours && before) {
    if (data.status === 'expired') showNotice(`The offer for incident ${data.incident_id} expired and went to another unit.`);
    if (data.status === 'cancelled') showNotice(`Incident ${data.incident_id} was taken off this unit by the control room.`);
    if (data.status === 'withdrawn') {
      showNotice(withdrawnNotice(data.incident_id), 'stop');
      alertCrew(); // the crew may be driving to it: a sound, not only words on the screen
    }
  }
}

function onClockEvent(event, data, kind) {
  const d = app.detentions[data.incident_id];
  if (d) mergeClockEvent(d.clocks || (d.clocks = []), data);
  // A breach just now sounds; an old one replayed after a reconnect does not.
  if (kind === 'breached' && ['handover', 'detention', 'welfare_check'].includes(data.clock)
      && Date.now() - Date.parse(event.at) < 120_000) alertCrew();
  reloadDetentionSoon(data.incident_id);
}

function onStreamStatus(status) {
  renderHeader();
  if (status === 'live') {
    // Back: send what waited, then re-read everything (offers made meanwhile come as replay too).
    app.nextFlushAt = 0;
    app.retryMs = RETRY_MIN_MS;
    flushQueue().then(refreshAll);
  }
}

/** The device says the network is gone: drop the socket now (it would only stall). */
function onBrowserOffline() {
  app.stream?.stop();
  renderHeader();
}

/** Network back: reconnect at once (resuming after the last event) and send the queue. */
function onBrowserOnline() {
  if (!app.session) return;
  app.sendFailing = false;
  app.nextFlushAt = 0;
  if (app.stream && app.stream.status === 'offline') app.stream.start();
  flushQueue();
  renderHeader();
}

function tick() {
  tickOffers();
  tickClock();
  if (app.confirmClearUntil && Date.now() > app.confirmClearUntil) {
    app.confirmClearUntil = 0;
    renderStatusBar();
  }
  if (app.queue.length && !app.flushing && Date.now() >= app.nextFlushAt) flushQueue();
  const unanswered = offers().some((a) => app.alerted.has(a.id) && Date.parse(a.expires_at) > Date.now());
  if (unanswered && Date.now() - app.lastAlertAt > ALERT_REPEAT_MS) alertCrew();
}

// ---------------------------------------------------------------- sign in / out
function startTablet(session) {
  app.session = session;
  app.unit = { callsign: session.unit, status: null, lat: null, lon: null };
  loadStored();
  byId('login').hidden = true;
  byId('app').hidden = false;
  const stream = new LiveStream({ token: session.token, cursorKey: `tablet.${session.username || session.unit}` });
  stream.onEvent(onEvent);
  stream.onStatus(onStreamStatus);
  stream.onResync(() => refreshAll());
  stream.onUnauthenticated(() => signOut('Your session has ended. Sign in again: nothing you entered is lost.'));
  app.stream = stream;
  renderSoundButton();
  renderAll();
  const others = othersPending();
  if (others.length) showNotice(`Also waiting on this tablet: ${others.join(', ')} action(s); they are sent when that person signs in.`);
  if (navigator.onLine !== false) stream.start();
  refreshAll();
  flushQueue();
  app.timers = [setInterval(tick, 1000)];
}

function signOut(notice = '') {
  if (!app.session) return;
  app.stream?.stop();
  app.timers.forEach(clearInterval);
  clearSession();
  Object.assign(app, {
    session: null, stream: null, timers: [], assignments: new Map(), summaries: {}, incidents: {}, detentions: {},
    places: new Map(), queue: [], drafts: {}, formErrors: {}, stepErrors: {}, flushing: null, alerted: new Set(),
    formIncident: null, renderedJob: '', unit: { callsign: null, status: null, lat: null, lon: null },
  });
  byId('offer-stack').replaceChildren();
  byId('job-card').replaceChildren();
  byId('app').hidden = true;
  byId('login').hidden = false;
  setText(byId('login-notice'), notice);
  byId('password').value = '';
  byId('username').focus();
}

/** Signing out on purpose: forget cached job details; keep unsent actions and drafts. */
function onSignOutClick() {
  const count = app.queue.length;
  if (count && !window.confirm(`${count} action(s) are not sent yet. They stay on this tablet and are sent when you sign in again. Sign out?`)) return;
  try { localStorage.removeItem(storeKey('cache')); } catch { /* ignore */ }
  app.stream?.forgetCursor();
  signOut(count ? `${count} action(s) kept on this tablet; sign in again to send them.` : '');
}

function applyTheme(theme) {
  document.body.classList.toggle('day', theme !== 'night');
  document.body.classList.toggle('night', theme === 'night');
  setText(byId('theme-toggle'), theme === 'night' ? 'Day' : 'Night');
  document.querySelector('meta[name="theme-color"]').content = theme === 'night' ? '#0a0e13' : '#f3f5f8';
}

function onThemeToggle() {
  const theme = document.body.classList.contains('night') ? 'day' : 'night';
  localStorage.setItem('tablet.theme', theme);
  applyTheme(theme);
}

// ---------------------------------------------------------------- wiring
wireSignInForm({
  start: startTablet,
  refusal: (answer, username) => (answer.role === 'crew' && answer.unit ? '' : `This tablet is for triage car crews. ${username} is ${humanize(answer.role).toLowerCase()}${answer.unit ? '' : ' with no unit'}; use the screen for that role.`),
  beforeSubmit: enableSound,
});
byId('sign-out').addEventListener('click', onSignOutClick);
byId('sound-toggle').addEventListener('click', () => { enableSound(); setTimeout(beep, 50); });
byId('theme-toggle').addEventListener('click', onThemeToggle);
byId('notice-close').addEventListener('click', () => { byId('notice').hidden = true; });
for (const button of document.querySelectorAll('.status-btn')) button.addEventListener('click', onStatusButton);
byId('s136-start').addEventListener('click', onS136Start);
byId('s136-cancel').addEventListener('click', onS136Cancel);
byId('s136-form').addEventListener('submit', onS136Submit);
byId('s136-form').addEventListener('input', onFormInput);
byId('s136-form').addEventListener('change', onFormInput);
for (const button of document.querySelectorAll('#s136-form .timefield .now')) button.addEventListener('click', onTimeNow);
byId('s136-arrived').addEventListener('click', onArrived);
byId('s136-handover').addEventListener('click', onHandover);
for (const input of [byId('s136-arrived-at'), byId('s136-handover-at')]) {
  input.addEventListener('input', () => {
    renderTimeConfirm(input, () => renderAll());
    clearFieldErrors(input.closest('[data-field-wrap]'));
    renderAll();
  });
}
byId('s136-arrived-place').addEventListener('change', () => {
  clearFieldErrors(byId('arrived-place-wrap'));
  renderAll();
});
byId('s136-received-by').addEventListener('input', (event) => {
  const job = currentJob();
  if (!job) return;
  ensureDraft(job.incident_id).received_by = event.target.value;
  saveDrafts();
});
byId('s136-transfer-open').addEventListener('click', onTransferOpen);
byId('s136-transfer-cancel').addEventListener('click', onTransferCancel);
byId('s136-transfer-submit').addEventListener('click', onTransferSubmit);
byId('transfer-panel').addEventListener('input', onTransferInput);
byId('transfer-panel').addEventListener('change', onTransferInput);
buildChoiceFields(byId('s136-choice-fields'), 's136', true);
buildChoiceFields(byId('s136-arrival-choice-fields'), 's136-arrival', false);
buildChoiceFields(byId('s136-transfer-choice-fields'), 's136-transfer', false);
window.addEventListener('offline', onBrowserOffline);
window.addEventListener('online', onBrowserOnline);
// Another tab of this tablet changed the queue or drafts: pick them up.
window.addEventListener('storage', (event) => {
  if (!app.session || !event.key?.startsWith(storeKey(''))) return;
  app.queue = storeGet('queue', []);
  app.drafts = storeGet('drafts', {});
  renderAll();
});

applyTheme(localStorage.getItem('tablet.theme') || 'day');
const saved = loadSession();
if (saved && saved.role === 'crew' && saved.unit) startTablet(saved);
else byId('username').focus();
