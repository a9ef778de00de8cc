// Call intake: a call handler takes a call, sees the Right Care, Right Person decision change
// as the answers come in (POST /api/v1/triage/preview), records it (POST /api/v1/incidents,
// one Idempotency-Key per form), may override it, and watches dispatch live over /ws. My open
// incidents shows what each needs next; the desk's task (hand off, then close; or close) is done
// from its row (POST /api/v1/incidents/{id}/handoff, /close).
import { api, loadSession, clearSession, LiveStream, humanize, wireSignInForm } from '/static/common/live.js';
import { byId, el, setText } from '/static/common/dom.js';

const PREVIEW_DEBOUNCE_MS = 250;
const OPEN_STATUSES = ['open', 'dispatched', 'on_scene'];

const OUTCOMES = {
  police_immediate: 'Police immediately',
  police_and_triage: 'Police with the street triage car',
  police_investigation: 'Police investigate (not an emergency)',
  police_standard: 'Police, standard response (outside RCRP scope)',
  ambulance: 'Ambulance',
  triage_car: 'Street triage car',
  nurse_advice: 'Mental-health nurse advises the officer',
  health_referral: 'Health referral',
  no_police_action: 'No police action: advise the caller',
};
const RESPONDERS = {
  police: 'Police', triage_car: 'Street triage car', mh_nurse: 'Mental-health nurse',
  ambulance: 'Ambulance', nhs_111: 'NHS 111', health_provider: 'Health provider',
};
const FLAGS = { under_18: 'Under 18', share_crisis_plan: 'Share the crisis plan' };
const INCIDENT_STATUS = { open: 'Open', dispatched: 'Dispatched', on_scene: 'On scene', closed: 'Closed' };

// Risk and context questions, in the order a handler asks them. `short` names them in "Not asked".
const QUESTIONS = [
  ['risk.crime_in_progress', 'Is a crime in progress?', 'crime in progress'],
  ['risk.crime_committed', 'Has a crime been committed?', 'crime committed'],
  ['risk.weapon', 'Is there a weapon?', 'weapon'],
  ['risk.violence_to_others', 'Violence to others?', 'violence to others'],
  ['risk.immediate_risk_to_life', 'Real and immediate risk to life?', 'risk to life'],
  ['risk.serious_harm', 'Risk of serious harm?', 'serious harm'],
  ['risk.self_harm', 'Self-harm?', 'self-harm'],
  ['risk.suicidal', 'Suicidal thoughts or intent?', 'suicidal'],
  ['risk.intoxicated', 'Intoxicated (drink or drugs)?', 'intoxicated'],
  ['risk.medical_emergency', 'Medical emergency?', 'medical emergency'],
  ['context.known_to_mh_services', 'Known to mental-health services?', 'known to MH services'],
  ['context.crisis_plan', 'Has a crisis plan?', 'crisis plan'],
  ['context.liable_to_detention_under_mha', 'Liable to be detained under the Mental Health Act?', 'liable to detention'],
  ['context.health_setting_checks_done', 'Health setting has done its own checks?', 'health setting checks'],
  ['context.caller_is_health_professional', 'Caller is a health professional?', 'caller is health professional'],
].map(([path, label, short]) => ({ path, label, short }));
const SHORT_NAME = Object.fromEntries(QUESTIONS.map((q) => [q.path, q.short]));

// What the decision needs before the rules can run, and how to name it to the handler.
const NEEDED = { 'location.description': 'location', 'location.kind': 'kind of place',
  source: 'how the call came in', category: 'category' };

// Per assignment status: how it reads, and how far along it is (updates never go backwards).
const ASSIGNMENT = {
  offered: { label: 'Offered', rank: 0, active: true },
  accepted: { label: 'Accepted', rank: 1, active: true },
  declined: { label: 'Declined', rank: 1 },
  expired: { label: 'No answer (expired)', rank: 1 },
  en_route: { label: 'On the way', rank: 2, active: true },
  on_scene: { label: 'On scene', rank: 3, active: true },
  cancelled: { label: 'Cancelled', rank: 4 },
  withdrawn: { label: 'Withdrawn (no longer needed)', rank: 4 },
  cleared: { label: 'Cleared', rank: 4 },
};
const INCIDENT_RANK = { open: 0, dispatched: 1, on_scene: 2, closed: 3 };
// Which outcomes need a unit from this service (mirrors the server's dispatch rules).
const UNIT_FOR_RESPONDER = { triage_car: 'triage car', mh_nurse: 'nurse desk' };
const UNIT_FOR_OUTCOME = { police_and_triage: 'triage car', triage_car: 'triage car', nurse_advice: 'nurse desk' };

// The desk's task for an incident that sends none of our units (next_step.action).
const DESK_TASKS = {
  handoff: { button: 'Hand off…', title: 'Hand off incident', submit: 'Record hand-off' },
  close: { button: 'Close…', title: 'Close incident', submit: 'Close incident' },
};
const HANDOFF_TO = {
  nhs_111: 'NHS 111 (mental health option)', ambulance_service: 'the ambulance service',
  health_provider: 'the health provider', police: 'police', other: 'another agency',
};
const CLOSE_REASONS = {
  referred: 'referred', advice_given: 'advice given', duplicate: 'a duplicate',
  no_further_action: 'no further action', resolved_on_scene: 'resolved on scene', other: 'other',
};

const pad2 = (n) => String(n).padStart(2, '0');
const hhmm = (time) => (time ? new Date(time).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' }) : '—');

function debounce(fn, ms) {
  let timer;
  const run = () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  run.cancel = () => clearTimeout(timer);
  return run;
}

/** A v4 UUID; crypto.randomUUID exists only in secure contexts (https or localhost). */
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The user id (JWT `sub`), to recognise our own incidents in live events. */
function tokenUserId(token) {
  try {
    return String(JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).sub);
  } catch {
    return null;
  }
}

/** A local date-time for <input type="datetime-local">, to the minute. */
function localInputValue(date) {
  const p = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}`;
}

// ---------------------------------------------------------------- state
const app = {
  session: null,
  userId: null,
  stream: null,
  timers: [],
  formKey: null,        // Idempotency-Key of the call being taken; renewed only by "New call"
  reportedAt: null,     // exact time the form was opened (the input shows it to the minute)
  submitting: false,
  submittedId: null,    // incident id once this form is recorded
  currentId: null,      // the incident shown in the result panel
  previewSeq: 0,
  incidents: new Map(), // id → incident (REST shape, kept current from events)
  orphanEvents: new Map(), // incident id → assignment data that arrived before the incident
  listLoadSeq: 0,
  task: null,           // the desk task being worked on: {incidentId, kind, atTouched, sending}
};

// ---------------------------------------------------------------- building the form
function buildQuestions() {
  for (const q of QUESTIONS) {
    const id = `q-${q.path.replace('.', '-')}`;
    const row = el('div', 'tri');
    row.setAttribute('role', 'radiogroup');
    row.setAttribute('aria-labelledby', `${id}-label`);
    row.dataset.question = q.path;
    row.dataset.answer = '';
    const head = el('div', 'tri-head');
    head.append(el('span', 'tri-label', q.label));
    head.lastChild.id = `${id}-label`;
    const error = el('p', 'field-error');
    Object.assign(error.dataset, { testid: 'field-error', field: q.path });
    error.hidden = true;
    head.append(error);
    const options = el('div', 'tri-options');
    for (const [value, text, cls] of [['true', 'Yes', 'yes'], ['false', 'No', 'no'], ['', 'Not asked', 'unasked']]) {
      const label = el('label', `opt opt-${cls}`);
      const input = el('input');
      // defaultChecked, so that form.reset() ("New call") goes back to Not asked.
      Object.assign(input, { type: 'radio', name: q.path, value, defaultChecked: value === '' });
      input.dataset.type = 'tri';
      input.dataset.testid = `${q.path}-${cls}`;
      label.append(input, el('span', '', text));
      options.append(label);
    }
    row.append(head, options);
    byId(q.path.startsWith('risk.') ? 'risk-questions' : 'context-questions').append(row);
  }
  const select = byId('override-outcome');
  select.append(new Option('Choose…', ''), ...Object.entries(OUTCOMES).map(([v, t]) => new Option(t, v)));
}

// ---------------------------------------------------------------- reading the form
/** The request body from the form. Empty fields are left out (the server treats them as not
 *  given); text that is not a number is sent as typed so the server can say what is wrong. */
function readForm() {
  const body = { location: {}, person: {}, caller: {}, risk: {}, context: {} };
  const form = byId('intake-form');
  for (const input of form.querySelectorAll('[name]')) {
    if (input.dataset.type === 'tri') {
      if (input.checked) setPath(body, input.name, input.value === '' ? null : input.value === 'true');
      continue;
    }
    const raw = input.value.trim();
    if (raw === '') continue;
    let value = raw;
    if (input.dataset.type === 'int' && /^\d+$/.test(raw)) value = Number(raw);
    if (input.dataset.type === 'number' && /^-?\d+(\.\d+)?$/.test(raw)) value = Number(raw);
    if (input.dataset.type === 'datetime') {
      // Unchanged from the default: send the exact time the call was opened.
      value = raw === localInputValue(app.reportedAt) ? app.reportedAt.toISOString() : new Date(raw).toISOString();
    }
    setPath(body, input.name, value);
  }
  return body;
}

function setPath(target, path, value) {
  const parts = path.split('.');
  const leaf = parts.pop();
  for (const part of parts) target = target[part];
  target[leaf] = value;
}

function getPath(source, path) {
  return path.split('.').reduce((v, part) => (v == null ? undefined : v[part]), source);
}

/** True once the handler has typed or answered anything. */
function formTouched(body) {
  const sections = ['location', 'person', 'caller'].some((k) => Object.keys(body[k]).length > 0);
  const answers = [...Object.values(body.risk), ...Object.values(body.context)].some((v) => v !== null);
  return sections || answers || Boolean(body.source || body.category || body.circumstances);
}

// ---------------------------------------------------------------- field errors
/** The error slot for a server path. Unknown tails (e.g. "location.lat.float" from a union
 *  type) fall back to the nearest known field. */
function errorSlot(scope, path) {
  const parts = String(path).split('.');
  while (parts.length) {
    const slot = scope.querySelector(`.field-error[data-field="${parts.join('.')}"]`);
    if (slot) return slot;
    parts.pop();
  }
  return null;
}

// Shorter wording for the server's common validation messages (the full one stays in title).
const MESSAGE_REWRITES = [
  [/^Field required$/, () => 'Required'],
  [/^Input should be less than or equal to (.+)$/, (m) => `Must be ${m[1]} or less`],
  [/^Input should be greater than or equal to (.+)$/, (m) => `Must be ${m[1]} or more`],
  [/^Input should be a valid integer/, () => 'Enter a whole number'],
  [/^Input should be a valid number/, () => 'Enter a number'],
  [/^String should have at most (\d+) characters?$/, (m) => `At most ${m[1]} characters`],
  [/^String should have at least 1 character$/, () => 'Required'],
  [/^Input should be (.+)$/, (m) => `Choose ${m[1].replace(/'/g, '')}`],
];
function friendly(message) {
  for (const [pattern, rewrite] of MESSAGE_REWRITES) {
    const m = String(message).match(pattern);
    if (m) return rewrite(m);
  }
  return String(message);
}

function clearErrors(scope) {
  for (const slot of scope.querySelectorAll('.field-error')) {
    slot.hidden = true;
    slot.textContent = '';
    slot.title = '';
  }
  for (const input of scope.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  for (const row of scope.querySelectorAll('.tri.invalid')) row.classList.remove('invalid');
}

/** Show each `details[]` message next to its field; returns the slots used (in form order). */
function showErrors(scope, details, { skip = () => false } = {}) {
  clearErrors(scope);
  const used = [];
  for (const { field, message } of details) {
    if (skip(field, message)) continue;
    const slot = errorSlot(scope, field);
    if (!slot || used.includes(slot)) continue; // first message per field is enough
    slot.textContent = friendly(message);
    slot.title = message;
    slot.hidden = false;
    used.push(slot);
    const name = slot.dataset.field;
    const inputs = scope.querySelectorAll(`[name="${name}"]`);
    for (const input of inputs) {
      if (input.dataset.type !== 'tri') input.setAttribute('aria-invalid', 'true');
      if (!input.getAttribute('aria-describedby') && input.dataset.type !== 'tri') {
        // Two forms share field names (the override's and the task's `reason`): ids per form.
        slot.id ||= `err-${scope.id}-${name.replace(/\W/g, '-')}`;
        input.setAttribute('aria-describedby', slot.id);
      }
    }
    slot.closest('.tri')?.classList.add('invalid');
  }
  return used.sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
}

function focusField(slot) {
  const name = slot.dataset.field;
  const form = slot.closest('form');
  (form.querySelector(`[name="${name}"]:checked`) ?? form.querySelector(`[name="${name}"]`))?.focus();
}

// ---------------------------------------------------------------- preview
const schedulePreview = debounce(runPreview, PREVIEW_DEBOUNCE_MS);

async function runPreview() {
  if (!app.session || app.submittedId) return;
  const body = readForm();
  const seq = ++app.previewSeq;
  if (!formTouched(body)) {
    clearErrors(byId('intake-form'));
    return showDecisionHint('empty', 'Complete where/what to see the decision');
  }
  const missing = Object.keys(NEEDED).filter((path) => getPath(body, path) === undefined);
  byId('decision').dataset.loading = 'true';
  try {
    const decision = await api('/api/v1/triage/preview', { method: 'POST', body, token: app.session.token });
    if (seq !== app.previewSeq || app.submittedId) return;
    clearErrors(byId('intake-form'));
    renderDecision(decision, 'preview');
  } catch (err) {
    if (seq !== app.previewSeq || app.submittedId) return;
    if (err.status === 401) return signOut('Your session has ended. Please sign in again.');
    if (err.status !== 422) return showDecisionHint('error', `Decision not available: ${err.message}`);
    // Missing required answers are expected while the call is being taken: no red for them.
    const used = showErrors(byId('intake-form'), err.details, {
      skip: (field, message) => message === 'Field required',
    });
    if (missing.length) {
      showDecisionHint('incomplete', `Complete where/what to see the decision (still needed: ${missing.map((p) => NEEDED[p]).join(', ')})`);
    } else {
      showDecisionHint('invalid', `Correct the ${used.length === 1 ? 'marked field' : `${used.length} marked fields`} to see the decision`);
    }
  } finally {
    if (seq === app.previewSeq) delete byId('decision').dataset.loading;
  }
}

/** No decision to show: say why, in the police box, and blank the rest (same sizes). */
function showDecisionHint(state, text) {
  const panel = byId('decision');
  panel.dataset.state = state;
  panel.dataset.overridden = 'false';
  byId('police').dataset.police = '';
  setText(byId('preview-police'), '');
  setText(byId('police-icon'), '');
  setText(byId('decision-hint'), text);
  const outcome = byId('preview-outcome');
  outcome.dataset.outcome = '';
  setText(outcome, '—');
  setText(byId('preview-responders'), '—');
  setText(byId('preview-advice'), '—');
  byId('preview-reasons').replaceChildren();
  byId('preview-flags').replaceChildren();
  setText(byId('preview-unanswered'), '—');
}

/** Show a decision (preview, or the stored one after submitting). */
function renderDecision(decision, kind) {
  const panel = byId('decision');
  panel.dataset.state = kind;
  panel.dataset.overridden = 'false';
  setText(byId('decision-note'), kind === 'preview' ? 'Preview · nothing stored' : 'Recorded decision');
  const police = Boolean(decision.police_attendance);
  byId('police').dataset.police = String(police);
  setText(byId('police-icon'), police ? '▲' : '●');
  setText(byId('preview-police'), police ? 'Police attend' : 'Police do not attend');
  setText(byId('decision-hint'), decision.outcome === 'nurse_advice' ? 'An officer is already on scene' : '');
  const outcome = byId('preview-outcome');
  outcome.dataset.outcome = decision.outcome;
  setText(outcome, OUTCOMES[decision.outcome] ?? humanize(decision.outcome));
  setText(byId('preview-responders'),
    decision.responders.length ? decision.responders.map((r) => RESPONDERS[r] ?? humanize(r)).join(', ') : 'None');
  setText(byId('preview-advice'), `“${decision.caller_advice}”`);
  byId('preview-reasons').replaceChildren(...decision.reasons.map((reason) => {
    const li = el('li');
    li.dataset.rule = reason.rule;
    li.append(el('b', 'rule', reason.rule), ` — ${reason.text}`);
    return li;
  }));
  byId('preview-flags').replaceChildren(...(decision.flags.length
    ? decision.flags.map((f) => el('li', 'flag', FLAGS[f] ?? humanize(f)))
    : [el('li', 'none muted', 'None')]));
  const unanswered = decision.unanswered.map((p) => SHORT_NAME[p] ?? p);
  setText(byId('preview-unanswered'), unanswered.length ? `Not asked: ${unanswered.join(', ')}` : 'Every question answered');
  byId('preview-unanswered').dataset.count = String(unanswered.length);
}

// ---------------------------------------------------------------- submitting
async function onSubmit(event) {
  event.preventDefault();
  // The flag (not only the disabled button) stops a second submit: Ctrl+Enter bypasses buttons.
  if (app.submitting || app.submittedId || !app.session) return;
  app.submitting = true;
  schedulePreview.cancel();
  app.previewSeq += 1; // any preview still in flight is now stale
  const button = byId('submit');
  const status = byId('submit-status');
  button.disabled = true;
  setText(button, 'Submitting…');
  status.className = 'submit-status';
  setText(status, '');
  try {
    const incident = await api('/api/v1/incidents', {
      method: 'POST', body: readForm(), token: app.session.token,
      headers: { 'Idempotency-Key': app.formKey },
    });
    onRecorded(incident);
  } catch (err) {
    onSubmitFailed(err);
  } finally {
    app.submitting = false;
    if (!app.submittedId) {
      button.disabled = false;
      setText(button, 'Submit call');
    }
  }
}

function onRecorded(incident) {
  app.submittedId = incident.id;
  byId('form-body').disabled = true; // the record is made; changes go through an override
  setText(byId('submit'), 'Recorded');
  clearErrors(byId('intake-form'));
  showSubmitStatus('ok', `Recorded as incident ${incident.id}. Press New call for the next call.`);
  upsertIncident(incident, { fromRest: true });
  showIncident(incident.id);
  byId('new-call').classList.add('primary');
  byId('result').scrollIntoView({ block: 'nearest' });
  // The focused control is now disabled; the next thing a handler does is start the next call.
  byId('new-call').focus();
}

function onSubmitFailed(err) {
  if (err.status === 401) return signOut('Your session has ended. Please sign in again. The call was not recorded.');
  if (err.status === 422) {
    const used = showErrors(byId('intake-form'), err.details);
    showSubmitStatus('error', used.length
      ? `Not recorded: correct the ${used.length === 1 ? 'marked field' : `${used.length} marked fields`}.`
      : `Not recorded: ${err.message}`);
    if (used[0]) focusField(used[0]);
    return;
  }
  if (err.code === 'idempotency_key_reused') {
    return showSubmitStatus('error', 'This call was already recorded with different details. Check My open incidents before going on; New call starts a fresh record.');
  }
  if (err.status === 0 || err.status >= 500) {
    // The request may have reached the server. The same key makes a retry safe.
    return showSubmitStatus('error', 'No answer from the server: the call may not be recorded. Press Submit again; it cannot create a duplicate.');
  }
  return showSubmitStatus('error', `Not recorded: ${err.message}`);
}

function showSubmitStatus(kind, text) {
  const status = byId('submit-status');
  status.className = `submit-status ${kind}`;
  setText(status, text);
}

/** Clear the form for the next call, with a new Idempotency-Key. */
function newCall({ confirmFirst = true } = {}) {
  if (confirmFirst && !app.submittedId && formTouched(readForm())
      && !window.confirm('Clear this call? It has not been recorded.')) return;
  const form = byId('intake-form');
  form.reset(); // radios go back to their default: Not asked
  byId('form-body').disabled = false;
  clearErrors(form);
  Object.assign(app, { formKey: newKey(), reportedAt: new Date(), submittedId: null, submitting: false });
  app.previewSeq += 1;
  byId('f-reported_at').value = localInputValue(app.reportedAt);
  for (const row of form.querySelectorAll('.tri')) row.dataset.answer = '';
  const button = byId('submit');
  button.disabled = false;
  setText(button, 'Submit call');
  byId('new-call').classList.remove('primary');
  showSubmitStatus('', '');
  showDecisionHint('empty', 'Complete where/what to see the decision');
  setText(byId('decision-note'), 'Preview · nothing stored');
  byId('f-location-description').focus();
}

// ---------------------------------------------------------------- the incident panel
function showIncident(id) {
  app.currentId = id;
  const details = byId('override-details');
  details.open = false;
  byId('override-form').reset();
  clearErrors(byId('override-form'));
  setText(byId('override-status'), '');
  renderResult();
  for (const row of byId('open-incidents').children) row.classList.toggle('current', row.dataset.incidentId === String(id));
}

function renderResult() {
  const incident = app.incidents.get(app.currentId);
  const box = byId('incident-result');
  byId('result-empty').hidden = Boolean(incident);
  box.hidden = !incident;
  byId('result-status').hidden = !incident;
  if (!incident) return;
  box.dataset.incidentId = String(incident.id);
  setText(byId('result-title'), `Incident ${incident.id}`);
  const badge = byId('result-status');
  badge.dataset.state = incident.status;
  setText(badge, INCIDENT_STATUS[incident.status] ?? humanize(incident.status));
  setText(byId('result-id-text'),
    `${incident.location?.description ?? ''} · received ${hhmm(incident.reported_at)}${incident.created_by ? ` · by ${incident.created_by}` : ''}`);
  const d = incident.decision;
  setText(byId('result-rules'), `${OUTCOMES[d.outcome] ?? humanize(d.outcome)} (${d.reasons.map((r) => r.rule).join(', ')})`
    + ` · ${d.police_attendance ? 'police attend' : 'police do not attend'}`);
  const o = incident.override;
  const overrideLine = byId('result-override');
  overrideLine.classList.toggle('is-overridden', Boolean(o) || incident.effective_outcome !== d.outcome);
  if (o) {
    setText(overrideLine, `${OUTCOMES[o.outcome] ?? humanize(o.outcome)} · ${o.police_attendance ? 'police attend' : 'police do not attend'}`
      + ` · ${o.by} at ${hhmm(o.at)}${o.reason ? `: “${o.reason}”` : ''}`);
  } else if (incident.effective_outcome && incident.effective_outcome !== d.outcome) {
    setText(overrideLine, `${OUTCOMES[incident.effective_outcome] ?? humanize(incident.effective_outcome)} (details loading)`);
  } else {
    setText(overrideLine, 'None');
  }
  // What to say now: the incident's sentence, which follows an override (the rules' one does not).
  const advice = incident.caller_advice ?? d.caller_advice;
  setText(byId('result-advice'), `“${advice}”`);
  if (app.submittedId === incident.id && d) {
    renderDecision(d, 'recorded');
    setText(byId('preview-advice'), `“${advice}”`);
    if (incident.effective_outcome && incident.effective_outcome !== d.outcome) {
      // The rules' decision stays on screen, marked as no longer in force; the sentence is the
      // override's.
      byId('decision').dataset.overridden = 'true';
      setText(byId('decision-note'), 'Rules’ decision · overridden');
      setText(byId('decision-hint'), 'Overridden: see the incident below');
    }
  }
  renderNextStep(incident, {
    box: byId('result-next'), text: byId('result-next-text'), due: byId('result-next-due'),
    button: byId('result-next-action'),
  });
  // No unit of ours involved: the next step says what happens, the dispatch line would not.
  byId('result-dispatch-line').hidden = !showsDispatch(incident);
  renderDispatch(incident, byId('dispatch-status'));
  announceDispatch(incident);
  const history = [...(incident.assignments ?? [])].sort((a, b) => a.id - b.id);
  byId('dispatch-history').replaceChildren(...history.map((a) => {
    const li = el('li', `hist hist-${a.status}`, assignmentText(a));
    li.dataset.assignmentId = String(a.id);
    li.dataset.status = a.status;
    return li;
  }));
}

/** The dispatch line: latest unit and its state; escalated when nobody has it. */
function dispatchState(incident) {
  const list = [...(incident.assignments ?? [])].sort((a, b) => a.id - b.id);
  const latest = list.at(-1) ?? null;
  const pending = list.some((a) => ASSIGNMENT[a.status]?.active);
  const needed = unitNeeded(incident);
  const escalated = !pending && incident.status !== 'closed' && Boolean(needed)
    && (!latest || latest.status === 'declined' || latest.status === 'expired');
  return { latest, escalated, needed };
}

function unitNeeded(incident) {
  const d = incident.decision;
  if (!d) return null;
  if (incident.effective_outcome && incident.effective_outcome !== d.outcome) {
    return UNIT_FOR_OUTCOME[incident.effective_outcome] ?? null;
  }
  const r = d.responders.find((x) => UNIT_FOR_RESPONDER[x]);
  return r ? UNIT_FOR_RESPONDER[r] : null;
}

function assignmentText(a, now = Date.now()) {
  const label = ASSIGNMENT[a.status]?.label ?? humanize(a.status);
  if (a.status === 'offered') {
    const left = Math.max(0, Math.round((Date.parse(a.expires_at) - now) / 1000));
    return `${a.unit} · ${label} · ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left to accept`;
  }
  if (a.status === 'declined') return `${a.unit} · ${label}${a.decline_reason ? `: “${a.decline_reason}”` : ''}`;
  return `${a.unit} · ${label}`;
}

/** Say a dispatch change once (the visible line also ticks a countdown every second). */
function announceDispatch(incident) {
  const { latest, escalated, needed } = dispatchState(incident);
  const key = `${incident.id}:${latest?.id}:${latest?.status}:${escalated}`;
  if (key === app.announced) return;
  app.announced = key;
  const region = byId('dispatch-announce');
  if (escalated) setText(region, `Incident ${incident.id}: no ${needed} has accepted. Supervisors are alerted.`);
  else if (latest) setText(region, `Incident ${incident.id}: ${latest.unit} ${ASSIGNMENT[latest.status]?.label ?? latest.status}.`);
}

function renderDispatch(incident, node) {
  const { latest, escalated, needed } = dispatchState(incident);
  node.dataset.unit = latest?.unit ?? '';
  node.dataset.status = latest?.status ?? '';
  node.dataset.escalated = String(escalated);
  let text;
  if (escalated) {
    text = latest
      ? `${assignmentText(latest)}. No ${needed} has accepted: supervisors are alerted. Tell the caller there may be a delay.`
      : `No ${needed} available: supervisors are alerted. Tell the caller there may be a delay.`;
  } else if (latest) {
    text = assignmentText(latest);
  } else {
    text = needed ? `Finding a ${needed}…` : 'No unit from this service for this outcome';
  }
  setText(node, text);
}

// ---------------------------------------------------------------- override
async function onOverride(event) {
  event.preventDefault();
  const form = byId('override-form');
  const id = app.currentId;
  const outcome = byId('override-outcome').value;
  const reason = byId('override-reason').value.trim();
  const local = [];
  if (!outcome) local.push({ field: 'outcome', message: 'Choose the outcome you decide on' });
  if (!reason) local.push({ field: 'reason', message: 'Give a reason: it is kept beside the rules’ decision' });
  if (local.length) return focusField(showErrors(form, local)[0]);
  clearErrors(form);
  const button = byId('override-submit');
  button.disabled = true;
  setText(byId('override-status'), 'Recording…');
  try {
    const incident = await api(`/api/v1/incidents/${id}/override`, {
      method: 'POST', body: { outcome, reason }, token: app.session.token,
    });
    upsertIncident(incident, { fromRest: true });
    byId('override-details').open = false;
    form.reset();
    setText(byId('override-status'), 'Override recorded.');
  } catch (err) {
    if (err.status === 401) return signOut('Your session has ended. Please sign in again.');
    const used = showErrors(form, err.details);
    setText(byId('override-status'), used.length ? 'Not recorded: see the marked field.' : `Not recorded: ${err.message}`);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- my open incidents
function isMine(incident) {
  return incident.created_by === app.session?.username || String(incident.created_by_id) === app.userId;
}

/** Merge assignment states without going backwards (a REST answer may be older than an event). */
function mergeAssignment(incident, data) {
  const list = (incident.assignments ??= []);
  const id = data.id ?? data.assignment_id;
  const existing = list.find((a) => a.id === id);
  const incoming = { ...data, id };
  delete incoming.assignment_id;
  delete incoming.incident;
  if (!existing) list.push(incoming);
  else if ((ASSIGNMENT[incoming.status]?.rank ?? 0) >= (ASSIGNMENT[existing.status]?.rank ?? 0)) Object.assign(existing, incoming);
}

function upsertIncident(incoming, { fromRest = false } = {}) {
  if (!incoming || (!isMine(incoming) && incoming.id !== app.submittedId)) return;
  const known = app.incidents.get(incoming.id);
  let incident = incoming;
  if (known) {
    const keepStatus = INCIDENT_RANK[known.status] > INCIDENT_RANK[incoming.status];
    const assignments = known.assignments ?? [];
    incident = Object.assign(known, incoming, { assignments });
    if (keepStatus) incident.status = known.status;
    for (const a of incoming.assignments ?? []) mergeAssignment(incident, a);
  }
  incident.seenAt = fromRest ? Date.now() : (incident.seenAt ?? Date.now());
  for (const data of app.orphanEvents.get(incident.id) ?? []) mergeAssignment(incident, data);
  app.orphanEvents.delete(incident.id);
  app.incidents.set(incident.id, incident);
  renderIncidents();
  if (incident.id === app.currentId) renderResult();
}

async function loadOpenIncidents() {
  if (!app.session) return;
  const seq = ++app.listLoadSeq;
  const started = Date.now();
  const token = app.session.token;
  try {
    const pages = await Promise.all(OPEN_STATUSES.map((s) => api(`/api/v1/incidents?status=${s}&limit=50`, { token })));
    if (seq !== app.listLoadSeq || token !== app.session?.token) return;
    const fresh = new Set();
    for (const item of pages.flatMap((p) => p.items)) {
      if (!isMine(item)) continue;
      fresh.add(item.id);
      upsertIncident(item, { fromRest: true });
    }
    // Gone from the server's open lists (closed while we were away), unless newer than this load.
    for (const [id, incident] of app.incidents) {
      if (!fresh.has(id) && incident.seenAt < started && incident.status !== 'closed') incident.status = 'closed';
    }
    setText(byId('incidents-error'), '');
    renderIncidents();
    if (app.currentId) renderResult();
  } catch (err) {
    if (err.status === 401) return signOut('Your session has ended. Please sign in again.');
    if (seq === app.listLoadSeq) setText(byId('incidents-error'), `Not updated: ${err.message}`);
  }
}

async function fetchIncident(id) {
  try {
    upsertIncident(await api(`/api/v1/incidents/${id}`, { token: app.session.token }), { fromRest: true });
  } catch (err) {
    if (err.status === 401) signOut('Your session has ended. Please sign in again.');
  }
}

function renderIncidents() {
  const list = byId('open-incidents');
  const open = [...app.incidents.values()].filter((i) => i.status !== 'closed').sort((a, b) => b.id - a.id);
  // Closed elsewhere while its task form is open: the form goes back to the holder first. (While
  // our own request is in flight, its answer does that, even if the event comes first.)
  if (app.task && !app.task.sending && !open.some((i) => i.id === app.task.incidentId)) {
    const gone = app.incidents.get(app.task.incidentId);
    closeTask({ focusBack: false });
    if (gone) announceTask(closedText(gone));
  }
  const rows = open.map((incident) => {
    let li = list.querySelector(`[data-testid="incident-row"][data-incident-id="${incident.id}"]`);
    if (!li) li = buildIncidentRow(incident);
    updateIncidentRow(li, incident);
    return li;
  });
  // Move nodes only when the order really changed (keeps focus and hover in place).
  rows.forEach((li, i) => { if (list.children[i] !== li) list.insertBefore(li, list.children[i] ?? null); });
  while (list.children.length > rows.length) {
    const gone = list.lastElementChild;
    // The task form is never removed with a row (its request may still be answering).
    if (gone.contains(byId('task-form'))) byId('task-holder').append(byId('task-form'));
    gone.remove();
  }
  byId('incidents-empty').hidden = rows.length > 0;
  const escalated = open.filter((i) => dispatchState(i).escalated).length;
  const overdue = open.filter((i) => deskTask(i) && dueState(i.next_step.due_at).overdue).length;
  setText(byId('incidents-count'), `${open.length} open${escalated ? ` · ${escalated} need attention` : ''}`
    + `${overdue ? ` · ${overdue} overdue` : ''}`);
}

function buildIncidentRow(incident) {
  const li = el('li', 'incident-row');
  li.dataset.testid = 'incident-row';
  li.dataset.incidentId = String(incident.id);
  const button = el('button', 'row-button');
  button.type = 'button';
  button.addEventListener('click', () => showIncident(incident.id));
  const top = el('span', 'row-top');
  top.append(el('span', 'row-id'), el('span', 'row-time'), el('span', 'badge status-badge'));
  button.append(top, el('span', 'row-place'), el('span', 'row-outcome'), el('span', 'row-dispatch'));
  // What it needs next, and the desk's one action, beside (not inside) the row's button.
  const next = el('div', 'row-next');
  const meta = el('div', 'next-meta');
  const action = el('button', 'next-action');
  action.type = 'button';
  action.dataset.testid = 'next-action';
  action.addEventListener('click', () => openTask(incident.id, deskTask(app.incidents.get(incident.id))));
  const text = el('p', 'next-text');
  text.dataset.testid = 'next-text';
  const due = el('span', 'next-due');
  due.dataset.testid = 'next-due';
  meta.append(due, action);
  next.append(text, meta);
  li.append(button, next);
  return li;
}

function updateIncidentRow(li, incident) {
  const { escalated } = dispatchState(incident);
  li.dataset.status = incident.status;
  li.dataset.escalated = String(escalated);
  li.classList.toggle('current', incident.id === app.currentId);
  const button = li.firstChild;
  const [id, time, badge] = button.firstChild.children;
  setText(id, `#${incident.id}`);
  setText(time, hhmm(incident.reported_at ?? incident.created_at));
  badge.dataset.state = incident.status;
  setText(badge, INCIDENT_STATUS[incident.status] ?? humanize(incident.status));
  setText(button.children[1], incident.location?.description ?? '');
  const effective = incident.effective_outcome ?? incident.decision?.outcome;
  const overridden = incident.decision && effective !== incident.decision.outcome;
  setText(button.children[2], `${OUTCOMES[effective] ?? humanize(effective)}${overridden ? ' (override)' : ''}`);
  // The dispatch line only when one of our units is involved; otherwise the next step says it all.
  const dispatchLine = button.children[3];
  dispatchLine.hidden = !showsDispatch(incident);
  renderDispatch(incident, dispatchLine);
  const next = li.querySelector('.row-next');
  renderNextStep(incident, {
    box: next, text: next.querySelector('.next-text'), due: next.querySelector('.next-due'),
    button: next.querySelector('.next-action'),
  });
  li.dataset.nextAction = incident.next_step?.action ?? '';
  button.setAttribute('aria-label', [`Incident ${incident.id}`, `received ${time.textContent}`, badge.textContent,
    button.children[1].textContent, button.children[2].textContent,
    dispatchLine.hidden ? '' : dispatchLine.textContent].filter(Boolean).join(', '));
}

/** Whether the dispatch line says anything the next step does not: a unit is (or was) involved. */
function showsDispatch(incident) {
  return Boolean(unitNeeded(incident) || (incident.assignments ?? []).length || !incident.next_step);
}

// ---------------------------------------------------------------- the desk's task
/** 'handoff' or 'close' when the desk owes this incident that action, else null. */
function deskTask(incident) {
  const action = incident?.next_step?.action;
  return action in DESK_TASKS ? action : null;
}

/** Time left to a due time, as the handler reads it: "Due in 7:42" or "Overdue by 1:03". */
function dueState(dueAt, now = Date.now()) {
  if (!dueAt) return { text: '', overdue: false };
  const ms = new Date(dueAt).getTime() - now;
  const overdue = ms <= 0;
  const seconds = overdue ? Math.floor(-ms / 1000) : Math.ceil(ms / 1000);
  const hours = Math.floor(seconds / 3600);
  const clock = `${hours ? `${hours}:${pad2(Math.floor(seconds / 60) % 60)}` : Math.floor(seconds / 60)}:${pad2(seconds % 60)}`;
  return { text: overdue ? `Overdue by ${clock}` : `Due in ${clock} (by ${hhmm(dueAt)})`, overdue };
}

/** The next step's sentence, its countdown, and the desk's action button (when it owes one). */
function renderNextStep(incident, { box, text, due, button }) {
  const step = incident.next_step;
  box.hidden = !step;
  if (!step) return;
  box.dataset.action = step.action;
  setText(text, step.text);
  renderDue(step, due, box);
  const task = deskTask(incident);
  button.hidden = !task;
  if (task) {
    setText(button, DESK_TASKS[task].button);
    button.setAttribute('aria-label', `${DESK_TASKS[task].title} ${incident.id}`);
  }
}

function renderDue(step, due, box) {
  const { text, overdue } = dueState(step.due_at);
  due.hidden = !text;
  setText(due, text);
  box.dataset.overdue = String(overdue);
}

const rowOf = (id) => byId('open-incidents').querySelector(`[data-testid="incident-row"][data-incident-id="${id}"]`);

const closedText = (incident) => `Incident ${incident.id} closed`
  + `${incident.close_reason ? ` as ${CLOSE_REASONS[incident.close_reason] ?? humanize(incident.close_reason)}` : ''}.`;

function announceTask(text) {
  setText(byId('task-announce'), text);
}

/** Open the task form in the incident's row, filled from what the next step suggests. */
function openTask(id, kind) {
  const incident = app.incidents.get(id);
  const li = rowOf(id);
  if (!incident || !li || !kind) return;
  if (app.task && app.task.incidentId !== id) closeTask({ focusBack: false });
  const form = byId('task-form');
  form.reset();
  clearErrors(form);
  setText(byId('task-status'), '');
  app.task = { incidentId: id, kind, atTouched: false, sending: false };
  const handoff = kind === 'handoff';
  form.dataset.kind = kind;
  for (const [part, shown] of [['task-handoff', handoff], ['task-close', !handoff]]) {
    byId(part).hidden = !shown;
    byId(part).disabled = !shown; // a hidden part is neither tabbed to nor sent
  }
  byId('task-switch').hidden = !handoff;
  setText(byId('task-title'), `${DESK_TASKS[kind].title} ${id}`);
  setText(byId('task-submit'), DESK_TASKS[kind].submit);
  const step = incident.next_step ?? {};
  byId('task-to').value = step.suggested_handoff ?? '';
  byId('task-at').value = localInputValue(new Date());
  byId('task-reason').value = handoff ? '' : (step.suggested_close_reason ?? '');
  updateNoteHint();
  li.classList.add('working');
  li.append(form);
  (handoff ? byId('task-to') : byId('task-reason')).focus();
  li.scrollIntoView({ block: 'nearest' });
}

/** Put the form away; focus goes back to the row's action (or its row) unless told otherwise. */
function closeTask({ focusBack = true } = {}) {
  const id = app.task?.incidentId;
  app.task = null;
  byId('task-holder').append(byId('task-form'));
  const li = id === undefined ? null : rowOf(id);
  li?.classList.remove('working');
  if (focusBack && li) {
    const action = li.querySelector('.next-action');
    (action.hidden ? li.querySelector('.row-button') : action).focus();
  }
}

function updateNoteHint() {
  const required = byId('task-reason').value === 'other';
  setText(byId('task-note-hint'), required ? 'required for Other' : 'optional');
  byId('task-note').required = required;
}

async function onTaskSubmit(event) {
  event.preventDefault();
  const task = app.task;
  if (!task || task.sending || !app.session) return;
  const form = byId('task-form');
  const id = task.incidentId;
  const local = [];
  let body;
  if (task.kind === 'handoff') {
    const to = byId('task-to').value;
    const reference = byId('task-reference').value.trim();
    const at = byId('task-at').value;
    if (!to) local.push({ field: 'to', message: 'Choose who it was passed to' });
    body = { to, reference: reference || null };
    // Untouched, "when" is now (the field follows the clock); cleared, the server takes now.
    if (!task.atTouched) body.at = new Date().toISOString();
    else if (at) body.at = new Date(at).toISOString();
  } else {
    const reason = byId('task-reason').value;
    const note = byId('task-note').value.trim();
    if (!reason) local.push({ field: 'reason', message: 'Choose a reason' });
    if (reason === 'other' && !note) local.push({ field: 'note', message: 'Required for Other: say why it is closed' });
    body = { reason, note: note || null };
  }
  if (local.length) return focusField(showErrors(form, local)[0]);
  clearErrors(form);
  task.sending = true;
  const button = byId('task-submit');
  button.disabled = true;
  setText(byId('task-status'), 'Recording…');
  // Where focus goes if this closes the incident and its row leaves the list.
  const rows = [...byId('open-incidents').children];
  const index = rows.indexOf(rowOf(id));
  const neighbour = rows[index + 1] ?? rows[index - 1] ?? null;
  try {
    const incident = await api(`/api/v1/incidents/${id}/${task.kind}`, {
      method: 'POST', body, token: app.session.token,
    });
    task.sending = false;
    if (app.task !== task) return upsertIncident(incident, { fromRest: true }); // form reused meanwhile
    closeTask({ focusBack: false });
    upsertIncident(incident, { fromRest: true });
    if (incident.status === 'closed') {
      announceTask(closedText(incident));
      const target = neighbour && neighbour.isConnected ? neighbour : null;
      const action = target?.querySelector('.next-action');
      (target ? (action && !action.hidden ? action : target.querySelector('.row-button')) : byId('new-call')).focus();
    } else {
      announceTask(`Incident ${id} passed to ${HANDOFF_TO[body.to] ?? body.to}. ${incident.next_step?.text ?? ''}`);
      const li = rowOf(id);
      const action = li?.querySelector('.next-action');
      (action && !action.hidden ? action : li?.querySelector('.row-button'))?.focus();
    }
  } catch (err) {
    task.sending = false;
    if (err.status === 401) return signOut('Your session has ended. Please sign in again.');
    if (app.task !== task) return;
    const used = showErrors(form, err.details);
    setText(byId('task-status'), used.length ? 'Not recorded: see the marked field.' : `Not recorded: ${err.message}`);
    if (used[0]) focusField(used[0]);
    // The incident may have moved on (e.g. a unit took it): read it again.
    if (err.status === 409) fetchIncident(id);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- live events
const refetchCurrentSoon = debounce(() => app.currentId && fetchIncident(app.currentId), 300);

function onEvent(event) {
  const data = event.data || {};
  if (event.type === 'incident.updated') {
    const known = app.incidents.get(data.incident_id);
    if (!known) {
      // Ours but not on screen (e.g. taken on another screen); while our own POST is in flight
      // its answer will bring it.
      if (String(data.created_by_id) === app.userId && data.status !== 'closed' && !app.submitting) {
        fetchIncident(data.incident_id);
      }
      return;
    }
    const carried = {};
    for (const key of ['next_step', 'caller_advice', 'risk_level', 'task_due_at', 'closed_at', 'close_reason']) {
      if (key in data) carried[key] = data[key];
    }
    upsertIncident({ ...known, ...carried, status: data.status, decision: data.decision ?? known.decision,
      effective_outcome: data.effective_outcome ?? known.effective_outcome, assignments: [] });
    // The event has no override details (who, why): read them when the shown incident changed.
    if (data.incident_id === app.currentId && data.effective_outcome !== known.override?.outcome
        && data.effective_outcome !== known.decision?.outcome) refetchCurrentSoon();
  } else if (event.type.startsWith('assignment.')) {
    const incident = app.incidents.get(data.incident_id);
    if (!incident) {
      // Our own POST may not have answered yet: keep it for when the incident arrives.
      const queue = app.orphanEvents.get(data.incident_id) ?? [];
      queue.push(data);
      app.orphanEvents.set(data.incident_id, queue.slice(-20));
      if (app.orphanEvents.size > 200) app.orphanEvents.delete(app.orphanEvents.keys().next().value);
      return;
    }
    mergeAssignment(incident, data);
    renderIncidents();
    if (incident.id === app.currentId) renderResult();
    // A unit's answer changes what the incident needs next without an incident event (its
    // status may stay the same): read it again, once for a burst of events.
    refreshSoon(incident.id);
  }
}

const refreshTimers = new Map();
function refreshSoon(id) {
  clearTimeout(refreshTimers.get(id));
  refreshTimers.set(id, setTimeout(() => {
    refreshTimers.delete(id);
    if (app.session && app.incidents.get(id)?.status !== 'closed') fetchIncident(id);
  }, 300));
}

function onStatus(status) {
  setText(byId('connection-status'), status);
  byId('conn').dataset.state = status;
  // (Re)connected: read the open list again, as events may have been missed meanwhile.
  if (status === 'live') loadOpenIncidents();
}

/** Once a second: offer countdowns, the desk's due times, and "when" following the clock. */
function tick() {
  let overdueChanged = false;
  for (const incident of app.incidents.values()) {
    const step = incident.next_step;
    if (step?.due_at && incident.status !== 'closed') {
      const row = rowOf(incident.id)?.querySelector('.row-next');
      if (row) {
        const was = row.dataset.overdue;
        renderDue(step, row.querySelector('.next-due'), row);
        overdueChanged ||= was !== row.dataset.overdue;
      }
      if (incident.id === app.currentId) renderDue(step, byId('result-next-due'), byId('result-next'));
    }
    if (!(incident.assignments ?? []).some((a) => a.status === 'offered')) continue;
    if (incident.id === app.currentId) renderDispatch(incident, byId('dispatch-status'));
    const row = byId('open-incidents').querySelector(`[data-incident-id="${incident.id}"] .row-dispatch`);
    if (row) renderDispatch(incident, row);
  }
  if (overdueChanged) renderIncidents(); // the header counts overdue tasks
  if (app.task && !app.task.atTouched) {
    const now = localInputValue(new Date());
    if (byId('task-at').value !== now) byId('task-at').value = now;
  }
}

// ---------------------------------------------------------------- keyboard
/** In a Yes/No/Not asked group: Y, N or U (also 0, ? or Delete) answer and move to the next. */
function onFormKeydown(event) {
  const target = event.target;
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    byId('intake-form').requestSubmit();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (target.dataset?.type === 'tri') {
    const value = { y: 'true', n: 'false', u: '', 0: '', '?': '', Delete: '', Backspace: '' }[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (value === undefined) return;
    event.preventDefault();
    const radio = byId('intake-form').querySelector(`[name="${target.name}"][value="${value}"]`);
    radio.checked = true;
    radio.dispatchEvent(new Event('change', { bubbles: true }));
    focusNextQuestion(target.name);
    return;
  }
  // Enter in a one-line field moves on instead of submitting half a call.
  if (event.key === 'Enter' && target.tagName === 'INPUT') {
    event.preventDefault();
    focusNextControl(target);
  }
}

function focusNextQuestion(name) {
  const rows = [...byId('intake-form').querySelectorAll('.tri')];
  const next = rows[rows.findIndex((r) => r.dataset.question === name) + 1];
  if (next) next.querySelector('input:checked').focus();
  else byId('submit').focus();
}

function focusNextControl(from) {
  const controls = [...byId('intake-form').querySelectorAll('input, select, textarea, button')]
    .filter((c) => !c.disabled && (c.type !== 'radio' || c.checked));
  controls[controls.indexOf(from) + 1]?.focus();
}

function onFormChange(event) {
  const row = event.target.closest?.('.tri');
  if (row) row.dataset.answer = event.target.value;
  schedulePreview();
}

// ---------------------------------------------------------------- sign in / out
function startIntake(session) {
  app.session = session;
  app.userId = tokenUserId(session.token);
  byId('login').hidden = true;
  byId('app').hidden = false;
  setText(byId('signed-in-user'), `${session.username || 'Signed in'} · call handler`);
  const stream = new LiveStream({ token: session.token, cursorKey: `intake.${session.username || app.userId}` });
  stream.onEvent(onEvent);
  stream.onStatus(onStatus);
  stream.onResync(() => loadOpenIncidents());
  stream.onUnauthenticated(() => signOut('Your session has ended. Please sign in again.'));
  app.stream = stream;
  onStatus('connecting');
  newCall({ confirmFirst: false });
  stream.start();
  app.timers = [setInterval(tick, 1000)];
}

function signOut(notice = '') {
  if (!app.session) return;
  app.stream?.stop();
  app.timers.forEach(clearInterval);
  if (app.task) closeTask({ focusBack: false });
  byId('task-form').reset();
  clearSession();
  Object.assign(app, { session: null, userId: null, stream: null, timers: [], submittedId: null,
    currentId: null, incidents: new Map(), orphanEvents: new Map() });
  // Do not leave a caller's details on screen behind the login form.
  byId('intake-form').reset();
  byId('open-incidents').replaceChildren();
  renderResult();
  byId('app').hidden = true;
  byId('login').hidden = false;
  setText(byId('login-notice'), notice);
  byId('password').value = '';
  byId('username').focus();
}

buildQuestions();
wireSignInForm({
  start: startIntake,
  refusal: (answer, username) => (answer.role === 'call_handler' ? '' : `This screen is for call handlers. ${username} is signed in as ${humanize(answer.role).toLowerCase()}; use the screen for that role.`),
});
const form = byId('intake-form');
form.addEventListener('submit', onSubmit);
form.addEventListener('input', schedulePreview);
form.addEventListener('change', onFormChange);
form.addEventListener('keydown', onFormKeydown);
byId('new-call').addEventListener('click', () => newCall());
byId('override-form').addEventListener('submit', onOverride);
byId('task-form').addEventListener('submit', onTaskSubmit);
byId('task-reason').addEventListener('change', updateNoteHint);
byId('task-at').addEventListener('input', () => { if (app.task) app.task.atTouched = true; });
byId('task-cancel').addEventListener('click', () => closeTask());
byId('task-switch').addEventListener('click', () => app.task && openTask(app.task.incidentId, 'close'));
byId('task-form').addEventListener('keydown', (event) => {
  if (event.key === 'Escape') {
    event.preventDefault();
    closeTask();
  }
});
byId('result-next-action').addEventListener('click', () => {
  const incident = app.incidents.get(app.currentId);
  openTask(app.currentId, deskTask(incident));
});
byId('sign-out').addEventListener('click', () => {
  app.stream?.forgetCursor(); // a deliberate sign-out starts the next session afresh
  signOut();
});
// Closing the tab mid-call would lose the caller's details.
window.addEventListener('beforeunload', (event) => {
  if (app.session && !app.submittedId && formTouched(readForm())) {
    event.preventDefault();
    event.returnValue = ''; // older browsers want this as well
  }
});
const saved = loadSession();
if (saved && saved.role === 'call_handler') startIntake(saved);
else byId('username').focus();
