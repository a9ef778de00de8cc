// Sending what a crew or nurse did, in order, to a server that may not be reachable right now.
// Every action is idempotent on the server (accept, status, s136 steps, advice), so sending one
// twice is harmless; losing one is not. The queue itself lives in the app's state and
// localStorage; this is the policy for sending it, shared by the tablet and the nurse desk.
import { api } from './live.js';

export const RETRY_MIN_MS = 2_000;
export const RETRY_MAX_MS = 15_000;

/** A failure worth trying again later (not reached, or the server struggling), as opposed to
 *  the server refusing the action for good. */
export function worthRetrying(err) {
  return err.status === 0 || err.status >= 500 || err.status === 408 || err.status === 429;
}

/**
 * Send `state.queue` oldest first until it is empty or an action cannot be sent now.
 * `state` is the app's own object (views read `sendFailing`; the timer reads `nextFlushAt`).
 * Callbacks: `remove(action)` drops it from the queue, `onSent(action, result)` and
 * `onRefused(action, err)` tell the user, `onSessionEnded()` signs out (the queue is kept).
 */
export async function sendInOrder(state, { remove, onSent, onRefused, onSessionEnded }) {
  while (state.queue.length && state.session) {
    const action = state.queue[0];
    let result;
    try {
      result = await api(action.path, {
        method: action.method ?? 'POST', body: action.body, token: state.session.token,
      });
    } catch (err) {
      if (worthRetrying(err)) {
        state.sendFailing = err.status === 0;
        state.nextFlushAt = Date.now() + state.retryMs;
        state.retryMs = Math.min(RETRY_MAX_MS, state.retryMs * 2);
        return;
      }
      if (err.status === 401) {
        onSessionEnded();
        return;
      }
      remove(action);
      onRefused(action, err);
      continue;
    }
    state.sendFailing = false;
    state.retryMs = RETRY_MIN_MS;
    remove(action);
    onSent(action, result);
  }
}

/** What a screen's connection light shows: offline as soon as the browser, the event stream or
 *  the last send says so. */
export function connectionShown(stream, sendFailing) {
  const status = stream?.status || 'offline';
  if (navigator.onLine === false || status === 'offline' || (sendFailing && status !== 'live')) return 'offline';
  return status;
}
