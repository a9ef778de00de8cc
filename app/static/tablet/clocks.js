// Which of a detention's clocks the crew is shown, and how each reads. Pure: `now` (ms) is
// passed in. A detention holds one handover clock per place of safety (a transfer stops one and
// starts the next), and a stopped handover clock is a handover only when it stopped for one.

export const CLOCK_FIELDS = ['state', 'started_at', 'deadline_at', 'elapsed_minutes', 'goal_minutes', 'warning_minutes',
  'agreed', 'stopped_at', 'within_goal', 'outcome', 'stop_reason', 'place_of_safety_id'];

const sameInstant = (a, b) => a != null && b != null && Date.parse(a) === Date.parse(b);
const isStopped = (c) => c.stopped_at != null || c.state === 'handed_over' || c.state === 'stopped';

/** When the person arrived at the place they are at now: the last transfer, else the first arrival. */
export function currentSince(d) {
  const transfers = d.transfers || [];
  return transfers.length ? transfers[transfers.length - 1].at : d.arrived_at;
}

/**
 * The handover clock of the place the person is at now: the running one; else the one that
 * started on arriving there (stopped by a handover or by the outcome). Null when that place has
 * no handover goal (no clock started there), never the clock of a place already left.
 */
export function currentHandoverClock(d) {
  const handover = (d.clocks || []).filter((c) => c.kind === 'handover');
  const running = handover.filter((c) => !isStopped(c));
  if (running.length) return running[running.length - 1];
  const since = currentSince(d);
  const here = handover.filter((c) => sameInstant(c.started_at, since) && c.stop_reason !== 'transferred');
  return here.length ? here[here.length - 1] : null;
}

/** The running clock of a kind (assessment, detention, welfare_check), else the latest one. */
export function clockOf(d, kind) {
  const list = (d.clocks || []).filter((c) => c.kind === kind);
  return list.filter((c) => !isStopped(c)).pop() || list[list.length - 1] || null;
}

/**
 * How a clock reads now: waiting | warning | breached from the recorded times (the server's
 * state can only make it more severe); once stopped, handed_over only when it stopped for a
 * handover, else not_handed_over (an outcome first, a transfer).
 */
export function clockState(clock, now) {
  if (isStopped(clock)) {
    return clock.state === 'handed_over' || clock.stop_reason === 'handed_over' ? 'handed_over' : 'not_handed_over';
  }
  const minutes = (now - Date.parse(clock.started_at)) / 60000;
  let state = 'waiting';
  if (clock.goal_minutes != null && minutes > clock.goal_minutes) state = 'breached';
  else if (clock.warning_minutes != null && minutes >= clock.warning_minutes) state = 'warning';
  const rank = { waiting: 0, warning: 1, breached: 2 };
  return (rank[clock.state] ?? 0) > rank[state] ? clock.state : state;
}

/**
 * A clock event's data merged into the detention's clocks: the clock it is about is found by
 * kind, start and place (events carry no clock id), else added.
 */
export function mergeClockEvent(clocks, data) {
  const update = Object.fromEntries(CLOCK_FIELDS.filter((f) => f in data).map((f) => [f, data[f]]));
  const same = (c) => c.kind === data.clock && sameInstant(c.started_at, data.started_at)
    && (c.place_of_safety_id == null || data.place_of_safety_id == null || c.place_of_safety_id === data.place_of_safety_id);
  const clock = clocks.find(same);
  if (clock) Object.assign(clock, update);
  else clocks.push({ kind: data.clock, ...update });
  return clocks;
}

/** How far a record has got, so an answer that left before a later step cannot undo it:
 *  [created, arrived, transfers, handed over here, ended], compared in order. */
export function progress(d) {
  if (!d) return [0, 0, 0, 0, 0];
  return [1, d.arrived_at ? 1 : 0, (d.transfers || []).length, d.handover_at ? 1 : 0, d.outcome ? 1 : 0];
}

export function isBehind(next, current) {
  const a = progress(next);
  const b = progress(current);
  for (let i = 0; i < a.length; i += 1) {
    if (a[i] !== b[i]) return a[i] < b[i];
  }
  return false;
}
