// "Or it happened at": a typed clock time beside a Now button. A time that is not simply today's
// (it would be ahead of now, so it is read as yesterday's) is shown with its date and used only
// once the crew confirms it; "No" clears it for correcting. Nothing reads an unconfirmed time.
import { confirmQuestion, readTypedTime } from '/static/common/typed-time.js';
import { el } from '/static/common/dom.js';

const confirmed = new Map(); // input id → {value, at, reading}: what the crew said yes to

/**
 * What a time input holds: {empty} | {invalid} | {at, reading} (usable) |
 * {unconfirmed: reading} (shown with its date, waiting for a yes).
 */
export function readTimeInput(input, now = Date.now()) {
  const { value } = input;
  if (!value) return { empty: true };
  const kept = confirmed.get(input.id);
  if (kept && kept.value === value) return { at: kept.at, reading: kept.reading };
  const reading = readTypedTime(value, now);
  if (!reading) return { invalid: true };
  if (reading.needsConfirm) return { unconfirmed: reading };
  return { at: reading.at, reading };
}

/**
 * Show (or take away) the question beside a time input. `onSettled(at | null)` runs after the
 * crew answers: the confirmed time, or null after "No" (the input is cleared for correcting).
 * Returns what readTimeInput returns.
 */
export function renderTimeConfirm(input, onSettled, now = Date.now()) {
  const host = input.closest('[data-time-host]') || input.parentElement;
  let box = host.querySelector(':scope > .time-confirm');
  const state = readTimeInput(input, now);
  if (!state.unconfirmed) {
    box?.remove();
    return state;
  }
  const reading = state.unconfirmed;
  const key = `${input.value}|${reading.at}`;
  if (box && box.dataset.key === key) return state;
  box?.remove();
  box = el('div', 'time-confirm');
  box.dataset.testid = 'time-confirm';
  box.dataset.key = key;
  box.dataset.for = input.id;
  box.dataset.at = reading.at;
  box.setAttribute('role', 'alert');
  const question = el('p', 'time-question', confirmQuestion(reading));
  question.dataset.testid = 'time-confirm-question';
  const yes = el('button', 'yes', `Yes: ${reading.label}`);
  yes.type = 'button';
  yes.dataset.testid = 'time-confirm-yes';
  const no = el('button', 'no', 'No: change the time');
  no.type = 'button';
  no.dataset.testid = 'time-confirm-no';
  yes.addEventListener('click', () => {
    confirmed.set(input.id, { value: input.value, at: reading.at, reading });
    box.remove();
    onSettled(reading.at);
  });
  no.addEventListener('click', () => {
    confirmed.delete(input.id);
    input.value = '';
    box.remove();
    input.focus();
    onSettled(null);
  });
  const actions = el('div', 'time-confirm-actions');
  actions.append(yes, no);
  box.append(question, actions);
  host.append(box);
  return state;
}

/** Empty a time input and forget its confirmation (after the time was used, or a new form). */
export function clearTimeInput(input) {
  confirmed.delete(input.id);
  input.value = '';
  const host = input.closest('[data-time-host]') || input.parentElement;
  host.querySelector(':scope > .time-confirm')?.remove();
}

/** The field error for a time input that cannot be used yet, else null. */
export function timeInputProblem(state) {
  if (state.unconfirmed) {
    return `Confirm the date first: ${state.unconfirmed.label}? Or correct the time.`;
  }
  if (state.invalid) return 'That is not a time: enter it as hh:mm.';
  return null;
}
