// Nurse desk: advice requests from officers on scene (incidents routed to nurse_advice and
// offered to this desk). The nurse sees the officer's details and account, accepts, records the
// advice and whether s136 was then used (which clears the request), and keeps a list of what was
// handled today. Accept and advice go through a small queue kept in localStorage: both are
// idempotent on the server, so a resend after a dropped connection is safe.
import { api, loadSession, clearSession, LiveStream, humanize, wireSignInForm } from '/static/common/live.js';
import { byId, el, setText } from '/static/common/dom.js';
import { upsertActive } from '/static/common/assignments.js';
import { RETRY_MIN_MS, connectionShown, sendInOrder } from '/static/common/pending.js';

const ALERT_REPEAT_MS = 20_000;
const RISKS = {
  immediate_risk_to_life: 'Immediate risk to life', suicidal: 'Suicidal', self_harm: 'Self-harm',
  weapon: 'Weapon', violence_to_others: 'Violence to others', serious_harm: 'Serious harm',
  crime_in_progress: 'Crime in progress', intoxicated: 'Intoxicated', medical_emergency: 'Medical emergency',
};

// ---------------------------------------------------------------- helpers
const hhmm = (t) => (t == null || Number.isNaN(new Date(t).getTime()) ? '—'
  : new Date(t).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' }));
const isToday = (t) => t != null && new Date(t).toDateString() === new Date().toDateString();

function formatLeft(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

// ---------------------------------------------------------------- state and storage
const app = {
  session: null,
  stream: null,
  timers: [],
  requests: new Map(),  // assignment id → assignment (REST shape) + seenAt
  summaries: {},        // incident id → summary (the offer event's, or built from the full record)
  handled: [],          // newest first: {id, incident_id, advice, s136_used, advice_at, caller, location, pending}
  queue: [],            // pending accept/advice actions (persisted)
  drafts: {},           // assignment id → {advice, s136_used} (persisted)
  errors: {},           // assignment id → [{field, message}]
  flushing: false,
  nextFlushAt: 0,
  retryMs: RETRY_MIN_MS,
  sendFailing: false,
  alerted: new Set(),
  lastAlertAt: 0,
};

const key = (name) => `nurse.v1.${app.session?.username || 'anon'}.${name}`;

function load(storage, name, fallback) {
  try { return JSON.parse(storage.getItem(key(name))) ?? fallback; } catch { return fallback; }
}

function save(storage, name, value) {
  if (!app.session) return;
  try { storage.setItem(key(name), JSON.stringify(value)); } catch (err) { console.error('storage write failed', err); }
}

// Unsent work and drafts survive a closed tab (localStorage); what is on screen survives a reload.
const saveQueue = () => save(localStorage, 'queue', app.queue);
const saveDrafts = () => save(localStorage, 'drafts', app.drafts);
function saveView() {
  save(sessionStorage, 'view', { requests: [...app.requests.values()], summaries: app.summaries, handled: app.handled });
}

function loadStored() {
  app.queue = load(localStorage, 'queue', []);
  app.drafts = load(localStorage, 'drafts', {});
  const view = load(sessionStorage, 'view', {});
  app.requests = new Map((view.requests || []).map((r) => [r.id, r]));
  app.summaries = view.summaries || {};
  app.handled = (view.handled || []).filter((h) => isToday(h.advice_at));
}

// ---------------------------------------------------------------- queue
function enqueue(action) {
  if (app.queue.some((a) => a.path === action.path && JSON.stringify(a.body ?? null) === JSON.stringify(action.body ?? null))) return;
  app.queue.push({ ...action, key: `${Date.now()}-${Math.random().toString(36).slice(2, 8)}` });
  saveQueue();
  app.nextFlushAt = 0;
  renderAll();
  flushQueue();
}

function removeAction(action) {
  app.queue = app.queue.filter((a) => a.key !== action.key);
  saveQueue();
}

async function flushQueue() {
  if (app.flushing || !app.session || !app.queue.length || navigator.onLine === false) return;
  app.flushing = true;
  try {
    await sendInOrder(app, {
      remove: removeAction,
      onSent,
      onRefused,
      onSessionEnded: () => signOut('Your session has ended. Sign in again: unsent advice is kept and sent then.'),
    });
  } finally {
    app.flushing = false;
    saveView();
    renderAll();
  }
}

function onSent(action, result) {
  if (action.type === 'accept') {
    upsertRequest(result);
    loadIncident(result.incident_id);
  } else if (action.type === 'advice') {
    addHandled(result);
    app.requests.delete(result.id);
    delete app.drafts[result.id];
    saveDrafts();
  }
}

function onRefused(action, err) {
  if (action.type === 'advice') {
    // Keep the text: the nurse can correct it and send again.
    app.errors[action.assignmentId] = err.details.length ? err.details : [{ field: 'advice', message: err.message }];
  }
  showNotice(`${action.label} was not recorded: ${err.message}`);
  refreshSoon();
}

// ---------------------------------------------------------------- REST
async function get(path) {
  const token = app.session?.token;
  try {
    const data = await api(path, { token });
    return token === app.session?.token ? data : undefined;
  } catch (err) {
    if (err.status === 401 && token === app.session?.token) signOut('Your session has ended. Please sign in again.');
    return undefined;
  }
}

async function refreshAll() {
  const started = Date.now();
  const [active, all] = await Promise.all([get('/api/v1/assignments'), get('/api/v1/assignments?active=false')]);
  if (Array.isArray(active)) {
    const seen = new Set(active.map((r) => r.id));
    for (const row of active) {
      // the need-to-know summary, for a request whose offer event we missed (e.g. after a reload)
      if (row.incident) app.summaries[row.incident_id] = { ...(app.summaries[row.incident_id] || {}), ...row.incident };
      upsertRequest(row);
    }
    for (const [id, r] of app.requests) {
      if (!seen.has(id) && (r.seenAt || 0) < started && !app.queue.some((q) => q.assignmentId === id)) app.requests.delete(id);
    }
  }
  if (Array.isArray(all)) {
    for (const row of all) if (row.status === 'cleared' && row.advice != null && isToday(row.advice_at)) addHandled(row, false);
  }
  // The full record for accepted requests we have no summary for (e.g. accepted before a reload).
  for (const r of app.requests.values()) {
    if (r.status !== 'offered' && !app.summaries[r.incident_id]) loadIncident(r.incident_id);
  }
  saveView();
  renderAll();
  scheduleAlertCheck();
}
const refreshSoon = debounce(refreshAll, 400);

async function loadIncident(incidentId) {
  const incident = await get(`/api/v1/incidents/${incidentId}`);
  if (!incident) return;
  const old = app.summaries[incidentId];
  app.summaries[incidentId] = {
    ...(old || {}),
    id: incident.id, category: incident.category, location: incident.location, person: incident.person,
    risks: Object.keys(RISKS).filter((k) => incident.risk?.[k]), flags: incident.decision?.flags || [],
    crisis_plan: Boolean(incident.context?.crisis_plan), known_to_mh_services: Boolean(incident.context?.known_to_mh_services),
    outcome: incident.effective_outcome, source: incident.source, caller: incident.caller || {},
    circumstances: incident.circumstances,
  };
  saveView();
  renderAll();
}

function upsertRequest(row) {
  upsertActive(app.requests, row);
}

/** Keep a handled request in today's list (once; the server's answer replaces a pending one). */
function addHandled(row, fresh = true) {
  const id = row.id ?? row.assignment_id;
  const summary = app.summaries[row.incident_id];
  const entry = {
    id, incident_id: row.incident_id, advice: row.advice, s136_used: row.s136_used, advice_at: row.advice_at,
    caller: summary?.caller || null, location: summary?.location?.description || null,
  };
  const index = app.handled.findIndex((h) => h.id === id);
  if (index >= 0) app.handled[index] = { ...app.handled[index], ...Object.fromEntries(Object.entries(entry).filter(([, v]) => v != null)) };
  else if (fresh || isToday(entry.advice_at)) app.handled.unshift(entry);
  app.handled.sort((a, b) => Date.parse(b.advice_at) - Date.parse(a.advice_at));
}

// ---------------------------------------------------------------- effective state (server + queue)
function effectiveStatus(r) {
  let status = r.status;
  for (const q of app.queue) {
    if (q.assignmentId !== r.id) continue;
    if (q.type === 'accept' && status === 'offered') status = 'accepted';
    if (q.type === 'advice') status = 'sending';
  }
  return status;
}

// ---------------------------------------------------------------- alerts
const sound = { ctx: null };

function enableSound() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    sound.ctx = sound.ctx || new Ctx();
    if (sound.ctx.state === 'suspended') sound.ctx.resume().then(renderSoundButton, () => {});
  } catch { /* no audio */ }
  renderSoundButton();
}

/** Two soft tones (a desk, not a vehicle). */
function chime() {
  const ctx = sound.ctx;
  if (!ctx || ctx.state !== 'running') return false;
  const start = ctx.currentTime + 0.02;
  [660, 880].forEach((freq, i) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = freq;
    const t = start + i * 0.3;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.3, t + 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.35);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t);
    osc.stop(t + 0.4);
  });
  return true;
}

function renderSoundButton() {
  const on = sound.ctx && sound.ctx.state === 'running';
  const button = byId('sound-toggle');
  setText(button, on ? 'Sound on' : 'Sound off: click');
  button.classList.toggle('attention', !on);
}

function openOffers() {
  return [...app.requests.values()].filter((r) => effectiveStatus(r) === 'offered' && Date.parse(r.expires_at) > Date.now());
}

const scheduleAlertCheck = debounce(() => {
  const fresh = openOffers().filter((r) => !app.alerted.has(r.id));
  if (!fresh.length) return;
  const how = chime() ? 'sound' : 'visual';
  app.lastAlertAt = Date.now();
  for (const r of fresh) {
    app.alerted.add(r.id);
    const card = document.querySelector(`[data-testid="request-card"][data-assignment-id="${r.id}"]`);
    if (card) card.dataset.alerted = how;
  }
}, 250);

// ---------------------------------------------------------------- rendering
function renderAll() {
  if (!app.session) return;
  renderHeader();
  renderRequests();
  renderHandled();
}

function displayConnection() { return connectionShown(app.stream, app.sendFailing); }

function renderHeader() {
  const conn = displayConnection();
  setText(byId('connection-status'), conn);
  byId('conn').dataset.state = conn;
  byId('offline-banner').hidden = conn !== 'offline';
  document.body.classList.toggle('is-offline', conn === 'offline');
  const n = app.queue.length;
  setText(byId('offline-detail'), n ? `${n} waiting to send.` : '');
  const open = openOffers().length;
  document.title = open ? `(${open}) New advice request · Nurse desk` : 'Nurse desk · Street triage';
}

function chip(text, kind) { return el('li', `chip ${kind}`, text); }

function describePerson(person = {}) {
  return [person.description, person.age != null ? `age ${person.age}` : null,
    person.gender && person.gender !== 'not_known' ? person.gender : null,
    person.language && person.language !== 'en' ? `language: ${person.language}` : null,
    person.communication_needs ? `communication: ${person.communication_needs}` : null]
    .filter(Boolean).join(' · ') || 'No description';
}

function renderRequests() {
  const list = byId('request-list');
  const rows = [...app.requests.values()]
    .filter((r) => effectiveStatus(r) !== 'sending')
    .sort((a, b) => Date.parse(a.offered_at) - Date.parse(b.offered_at));
  const ids = new Set(rows.map((r) => String(r.id)));
  for (const card of [...list.children]) if (!ids.has(card.dataset.assignmentId)) card.remove();
  for (const r of rows) {
    let card = list.querySelector(`[data-assignment-id="${r.id}"]`);
    if (!card) {
      card = buildCard(r);
      list.append(card);
    }
    updateCard(card, r);
  }
  byId('requests-empty').hidden = rows.length > 0;
  const waiting = rows.filter((r) => effectiveStatus(r) === 'offered').length;
  setText(byId('requests-summary'), rows.length ? `${waiting} waiting · ${rows.length - waiting} in progress` : '');
  tickCountdowns();
}

function buildCard(r) {
  const card = el('article', 'request-card');
  card.dataset.testid = 'request-card';
  card.dataset.assignmentId = String(r.id);
  card.dataset.incidentId = String(r.incident_id);
  const head = el('header', 'request-head');
  head.append(el('span', 'kicker', 'Advice request'), el('h3', 'request-title', `Incident ${r.incident_id}`),
    el('span', 'countdown'));
  head.querySelector('.countdown').dataset.testid = 'request-countdown';
  const details = el('div', 'request-details');
  const actions = el('div', 'request-actions');
  card.append(head, details, actions);
  return card;
}

/** Refresh a card in place: details when the summary changes; the form is built once. */
function updateCard(card, r) {
  const status = effectiveStatus(r);
  card.dataset.status = status;
  const summary = app.summaries[r.incident_id];
  const signature = JSON.stringify(summary || null);
  if (card.dataset.signature !== signature) {
    card.dataset.signature = signature;
    fillDetails(card, r, summary);
  }
  const actions = card.querySelector('.request-actions');
  if (status === 'offered' && actions.dataset.mode !== 'offered') {
    actions.dataset.mode = 'offered';
    const accept = el('button', 'primary big', 'Accept request');
    accept.type = 'button';
    accept.dataset.testid = 'request-accept';
    accept.addEventListener('click', () => onAccept(r.id));
    actions.replaceChildren(accept);
  } else if (status !== 'offered' && actions.dataset.mode !== 'advice') {
    actions.dataset.mode = 'advice';
    actions.replaceChildren(buildAdviceForm(r));
  }
  if (actions.dataset.mode === 'advice') showErrors(actions, app.errors[r.id] || []);
  card.classList.toggle('pending', app.queue.some((q) => q.assignmentId === r.id));
}

function fillDetails(card, r, summary) {
  const details = card.querySelector('.request-details');
  if (!summary) {
    details.replaceChildren(el('p', 'missing', 'The officer\'s details did not come with this request. Accept it to read the full record.'));
    return;
  }
  const caller = summary.caller || {};
  const who = el('p', 'request-caller');
  who.dataset.testid = 'request-caller';
  who.append(el('span', 'caller-name', caller.name || 'Caller not named'));
  if (caller.role) who.append(el('span', 'caller-role', caller.role));
  if (caller.phone) {
    const phone = el('a', 'caller-phone', caller.phone);
    phone.href = `tel:${caller.phone.replace(/\s+/g, '')}`;
    who.append(phone);
  }
  const account = el('blockquote', 'request-circumstances', summary.circumstances || 'No account recorded.');
  account.dataset.testid = 'request-circumstances';
  const dl = el('dl', 'facts');
  const fact = (label, value, testid) => {
    const dd = el('dd', null, value);
    if (testid) dd.dataset.testid = testid;
    dl.append(el('dt', null, label), dd);
  };
  const loc = summary.location || {};
  fact('Category', humanize(summary.category), 'request-category');
  fact('Where', [loc.description, loc.kind ? humanize(loc.kind).toLowerCase() : null].filter(Boolean).join(' · ') || '—', 'request-location');
  fact('Person', describePerson(summary.person), 'request-person');
  fact('MH services', `${summary.known_to_mh_services ? 'Known to mental health services' : 'Not known to MH services'} · ${summary.crisis_plan ? 'has a crisis plan' : 'no crisis plan recorded'}`, 'request-context');
  const risks = el('ul', 'chips');
  risks.dataset.testid = 'request-risks';
  risks.append(...(summary.risks?.length ? summary.risks.map((k) => chip(RISKS[k] || humanize(k), 'risk')) : [chip('No risks reported', 'none')]));
  if (summary.crisis_plan) risks.append(chip('Crisis plan', 'flag strong'));
  if (summary.known_to_mh_services) risks.append(chip('Known to MH services', 'flag'));
  for (const f of summary.flags || []) if (f === 'under_18') risks.append(chip('Under 18', 'flag strong'));
  details.replaceChildren(who, account, risks, dl);
}

function buildAdviceForm(r) {
  const draft = app.drafts[r.id] || (app.drafts[r.id] = { advice: '', s136_used: null });
  const form = el('form', 'advice-form');
  form.noValidate = true;
  const adviceWrap = el('div');
  adviceWrap.dataset.fieldWrap = 'advice';
  const label = el('label', null, 'Advice given to the officer');
  label.htmlFor = `advice-${r.id}`;
  const text = el('textarea');
  text.id = `advice-${r.id}`;
  text.rows = 3;
  text.dataset.testid = 'advice-text';
  text.value = draft.advice;
  text.addEventListener('input', () => {
    draft.advice = text.value;
    saveDrafts();
    clearErrors(adviceWrap, r.id, 'advice');
  });
  adviceWrap.append(label, text);

  const s136Wrap = el('div', 's136-choice');
  s136Wrap.dataset.fieldWrap = 's136_used';
  const group = el('div', 'choice-row');
  group.setAttribute('role', 'radiogroup');
  const question = el('span', 'choice-label', 'Was s136 then used?');
  question.id = `s136-q-${r.id}`;
  group.setAttribute('aria-labelledby', question.id);
  const yes = choiceButton('Yes, s136 used', 'advice-s136-yes', draft.s136_used === true);
  const no = choiceButton('No', 'advice-s136-no', draft.s136_used === false);
  const choose = (value) => {
    draft.s136_used = value;
    saveDrafts();
    yes.setAttribute('aria-checked', String(value === true));
    no.setAttribute('aria-checked', String(value === false));
    clearErrors(s136Wrap, r.id, 's136_used');
  };
  yes.addEventListener('click', () => choose(true));
  no.addEventListener('click', () => choose(false));
  group.append(yes, no);
  s136Wrap.append(question, group);

  const submit = el('button', 'primary big', 'Record advice and close');
  submit.type = 'submit';
  submit.dataset.testid = 'advice-submit';
  const foot = el('div', 'form-foot');
  foot.append(s136Wrap, submit);
  form.append(adviceWrap, foot);
  form.addEventListener('submit', (event) => { event.preventDefault(); onAdviceSubmit(r.id); });
  return form;
}

function choiceButton(text, testid, checked) {
  const b = el('button', 'choice', text);
  b.type = 'button';
  b.dataset.testid = testid;
  b.setAttribute('role', 'radio');
  b.setAttribute('aria-checked', String(checked));
  return b;
}

function tickCountdowns() {
  const now = Date.now();
  for (const card of byId('request-list').children) {
    const r = app.requests.get(Number(card.dataset.assignmentId));
    if (!r) continue;
    const countdown = card.querySelector('.countdown');
    if (effectiveStatus(r) === 'offered') {
      const left = Date.parse(r.expires_at) - now;
      setText(countdown, left > 0 ? `Accept within ${formatLeft(left)}` : 'Expired');
      countdown.classList.toggle('urgent', left < 30_000);
      const accept = card.querySelector('[data-testid="request-accept"]');
      if (accept) accept.disabled = left <= 0;
    } else {
      setText(countdown, `Accepted${r.responded_at ? ` ${hhmm(r.responded_at)}` : ''}`);
      countdown.classList.remove('urgent');
    }
  }
}

function renderHandled() {
  const list = byId('handled-list');
  const signature = JSON.stringify([app.handled, app.queue.filter((q) => q.type === 'advice')]);
  if (list.dataset.signature === signature) return;
  list.dataset.signature = signature;
  const pending = app.queue.filter((q) => q.type === 'advice').map((q) => ({
    id: q.assignmentId, incident_id: q.incidentId, advice: q.body.advice, s136_used: q.body.s136_used,
    advice_at: q.queuedAt, caller: app.summaries[q.incidentId]?.caller, location: app.summaries[q.incidentId]?.location?.description, pending: true,
  }));
  const rows = [...pending, ...app.handled.filter((h) => !pending.some((p) => p.id === h.id))];
  list.replaceChildren(...rows.map((h) => {
    const li = el('li', `handled-row${h.pending ? ' pending' : ''}`);
    li.dataset.testid = 'handled-row';
    li.dataset.assignmentId = String(h.id);
    const time = el('time', 'handled-time', hhmm(h.advice_at));
    time.dateTime = h.advice_at || '';
    const body = el('div', 'handled-body');
    const who = [h.caller?.name, h.location].filter(Boolean).join(' · ') || `Incident ${h.incident_id}`;
    body.append(el('span', 'handled-who', who),
      el('span', 'handled-advice', h.advice || ''),
      el('span', `handled-s136 ${h.s136_used ? 'yes' : 'no'}`, `${h.s136_used ? 's136 used' : 'No s136'}${h.pending ? ' · sending…' : ''}`));
    li.append(time, body);
    return li;
  }));
  byId('handled-empty').hidden = rows.length > 0;
  setText(byId('handled-summary'), rows.length ? `${rows.length} · ${rows.filter((h) => h.s136_used).length} with s136` : '');
}

// ---------------------------------------------------------------- field errors
function clearErrors(wrap, id, field) {
  wrap.querySelectorAll('.field-error').forEach((n) => n.remove());
  wrap.querySelectorAll('[aria-invalid]').forEach((n) => n.removeAttribute('aria-invalid'));
  if (app.errors[id]) app.errors[id] = app.errors[id].filter((e) => e.field !== field);
}

function showErrors(root, errors) {
  const signature = JSON.stringify(errors);
  if (root.dataset.errors === signature) return;
  root.dataset.errors = signature;
  root.querySelectorAll('.field-error').forEach((n) => n.remove());
  for (const { field, message } of errors) {
    const wrap = root.querySelector(`[data-field-wrap="${CSS.escape(field)}"]`) || root.querySelector('form') || root;
    const p = el('p', 'field-error', message);
    p.dataset.testid = 'field-error';
    p.dataset.field = field;
    p.setAttribute('role', 'alert');
    wrap.append(p);
    wrap.querySelector('textarea')?.setAttribute('aria-invalid', 'true');
  }
}

// ---------------------------------------------------------------- actions
function onAccept(id) {
  const r = app.requests.get(id);
  if (!r) return;
  enableSound();
  enqueue({ type: 'accept', path: `/api/v1/assignments/${id}/accept`, assignmentId: id, incidentId: r.incident_id,
    label: `Accepting incident ${r.incident_id}` });
}

function onAdviceSubmit(id) {
  const r = app.requests.get(id);
  const draft = app.drafts[id];
  if (!r || !draft) return;
  const errors = [];
  if (!draft.advice.trim()) errors.push({ field: 'advice', message: 'Write the advice you gave.' });
  if (draft.s136_used !== true && draft.s136_used !== false) errors.push({ field: 's136_used', message: 'Say whether s136 was then used.' });
  app.errors[id] = errors;
  if (errors.length) { renderAll(); return; }
  enqueue({ type: 'advice', path: `/api/v1/assignments/${id}/advice`, body: { advice: draft.advice.trim(), s136_used: draft.s136_used },
    assignmentId: id, incidentId: r.incident_id, queuedAt: new Date().toISOString(), label: `Advice for incident ${r.incident_id}` });
}

function showNotice(message) {
  setText(byId('notice-text'), message);
  byId('notice').hidden = false;
}

// ---------------------------------------------------------------- live events
function onEvent(event) {
  const data = event.data || {};
  if (!event.type.startsWith('assignment.')) return;
  if (data.incident) app.summaries[data.incident_id] = { ...(app.summaries[data.incident_id] || {}), ...data.incident };
  const before = app.requests.get(data.assignment_id);
  const row = {
    id: data.assignment_id, incident_id: data.incident_id, unit: data.unit, status: data.status,
    offered_at: data.offered_at, expires_at: data.expires_at, advice: data.advice, s136_used: data.s136_used,
  };
  if (data.status === 'cleared' && data.advice != null) addHandled({ ...row, advice_at: event.at });
  upsertRequest(row);
  if (data.status === 'offered') scheduleAlertCheck();
  const recent = Date.now() - Date.parse(event.at) < 10 * 60_000;
  if (recent && before && ['expired', 'cancelled', 'withdrawn'].includes(data.status)) {
    showNotice(`The request for incident ${data.incident_id} was ${data.status === 'expired' ? 'not accepted in time and was raised to the supervisor' : 'withdrawn by the control room'}.`);
  }
  saveView();
  renderAll();
}

function onStreamStatus(status) {
  renderHeader();
  if (status === 'live') {
    app.nextFlushAt = 0;
    flushQueue().then(refreshAll);
  }
}

function tick() {
  setText(byId('clock'), new Date().toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' }));
  tickCountdowns();
  renderHeader();
  if (app.queue.length && !app.flushing && Date.now() >= app.nextFlushAt) flushQueue();
  if (openOffers().length && Date.now() - app.lastAlertAt > ALERT_REPEAT_MS) { chime(); app.lastAlertAt = Date.now(); }
}

// ---------------------------------------------------------------- sign in / out
function startDesk(session) {
  app.session = session;
  loadStored();
  byId('login').hidden = true;
  byId('desk').hidden = false;
  setText(byId('unit-callsign'), session.unit || '—');
  setText(byId('signed-in-user'), session.username || '');
  const stream = new LiveStream({ token: session.token, cursorKey: `nurse.${session.username || session.unit}` });
  stream.onEvent(onEvent);
  stream.onStatus(onStreamStatus);
  stream.onResync(() => refreshAll());
  stream.onUnauthenticated(() => signOut('Your session has ended. Please sign in again.'));
  app.stream = stream;
  renderSoundButton();
  renderAll();
  stream.start();
  refreshAll();
  app.timers = [setInterval(tick, 1000)];
  tick();
}

function signOut(notice = '') {
  if (!app.session) return;
  app.stream?.stop();
  app.timers.forEach(clearInterval);
  clearSession();
  Object.assign(app, { session: null, stream: null, timers: [], requests: new Map(), summaries: {}, handled: [],
    queue: [], drafts: {}, errors: {}, flushing: false, alerted: new Set() });
  byId('request-list').replaceChildren();
  byId('handled-list').replaceChildren();
  byId('handled-list').dataset.signature = '';
  byId('desk').hidden = true;
  byId('login').hidden = false;
  setText(byId('login-notice'), notice);
  byId('password').value = '';
  byId('username').focus();
}

wireSignInForm({
  start: startDesk,
  refusal: (answer, username) => (answer.role === 'nurse' && answer.unit ? '' : `This screen is for the nurse desk. ${username} is ${humanize(answer.role).toLowerCase()}${answer.unit ? '' : ' with no desk'}; use the screen for that role.`),
  beforeSubmit: enableSound,
});
byId('sign-out').addEventListener('click', () => {
  const n = app.queue.length;
  if (n && !window.confirm(`${n} action(s) are not sent yet; they stay on this computer and go when you sign in again. Sign out?`)) return;
  try { sessionStorage.removeItem(key('view')); } catch { /* ignore */ }
  app.stream?.forgetCursor();
  signOut();
});
byId('sound-toggle').addEventListener('click', () => { enableSound(); setTimeout(chime, 50); });
byId('notice-close').addEventListener('click', () => { byId('notice').hidden = true; });
window.addEventListener('offline', () => { app.stream?.stop(); renderHeader(); });
window.addEventListener('online', () => {
  if (!app.session) return;
  app.sendFailing = false;
  app.nextFlushAt = 0;
  if (app.stream && app.stream.status === 'offline') app.stream.start();
  flushQueue();
});

const saved = loadSession();
if (saved && saved.role === 'nurse' && saved.unit) startDesk(saved);
else byId('username').focus();
