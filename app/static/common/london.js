// Times as the control room reads them: in Europe/London, whatever zone the browser is set to
// (a wall screen or a laptop left on another zone must not move "today" or the clock).

export const LONDON = 'Europe/London';

const DATE = new Intl.DateTimeFormat('en-GB', { timeZone: LONDON, year: 'numeric', month: '2-digit', day: '2-digit' });
const HOURS_MINUTES = new Intl.DateTimeFormat('en-GB', { timeZone: LONDON, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const WITH_SECONDS = new Intl.DateTimeFormat('en-GB', {
  timeZone: LONDON, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});
const WEEKDAY = new Intl.DateTimeFormat('en-GB', { timeZone: LONDON, weekday: 'short' });
const DAY_NAME = new Intl.DateTimeFormat('en-GB', { timeZone: LONDON, weekday: 'short', day: 'numeric', month: 'short' });

const valid = (at) => at != null && at !== '' && !Number.isNaN(new Date(at).getTime());

/** The London calendar date of `at` (default now) as YYYY-MM-DD: the API's "today". */
export function londonDate(at = new Date()) {
  const parts = Object.fromEntries(DATE.formatToParts(new Date(at)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/** 14:05 (or 14:05:09) in London; '—' for no time. */
export function londonTime(at, { seconds = false } = {}) {
  if (!valid(at)) return '—';
  return (seconds ? WITH_SECONDS : HOURS_MINUTES).format(new Date(at));
}

/** 14:05 when `at` is today in London, else "Thu 14:05": a 24-hour limit is often tomorrow. */
export function londonDayTime(at, now = new Date()) {
  if (!valid(at)) return '—';
  const time = londonTime(at);
  return londonDate(at) === londonDate(now) ? time : `${WEEKDAY.format(new Date(at))} ${time}`;
}

/** "Tue 12 May" in London. */
export const londonDay = (at = new Date()) => DAY_NAME.format(new Date(at));

/** A length of time as a clock reads: 754 s → "12:34"; 3754 s → "1:02:34" (never negative). */
export function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${String(m).padStart(2, '0')}:${s}`;
}
