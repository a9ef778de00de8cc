// A clock time typed on a screen that records what already happened ("it happened at 14:02"),
// read against the device's now. It is never moved to another day silently: a time that would
// be ahead of now is read as yesterday's and must be confirmed, showing its date. Pure: `now`
// (ms since the epoch) is passed in; local time is the device's (Europe/London on our tablets).

// The server refuses times more than 2 minutes ahead; a typed time within that is today's.
export const MAX_SKEW_MS = 2 * 60 * 1000;

const pad = (n) => String(n).padStart(2, '0');
const hhmm = (date) => `${pad(date.getHours())}:${pad(date.getMinutes())}`;
const sameDay = (a, b) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth()
  && a.getDate() === b.getDate();

/** "Tue 1 Dec" in the device's time zone. */
export function dayName(date) {
  return new Date(date).toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short' })
    .replace(',', '');
}

/**
 * A moment as a person reads it, against now: "14:02" today, "yesterday, Mon 30 Nov 23:50",
 * "tomorrow, Wed 2 Dec 14:02", else "Tue 1 Dec 23:50". `seconds` adds them to the time.
 */
export function dayTimeLabel(at, now, { seconds = false } = {}) {
  const date = new Date(at);
  const time = seconds ? `${hhmm(date)}:${pad(date.getSeconds())}` : hhmm(date);
  const today = new Date(now);
  if (sameDay(date, today)) return time;
  const yesterday = new Date(today);
  yesterday.setDate(today.getDate() - 1);
  const tomorrow = new Date(today);
  tomorrow.setDate(today.getDate() + 1);
  const prefix = sameDay(date, yesterday) ? 'yesterday, ' : sameDay(date, tomorrow) ? 'tomorrow, ' : '';
  return `${prefix}${dayName(date)} ${time}`;
}

/** 95 min → "1 h 35 min"; 30 → "30 min". */
export function durationLabel(ms) {
  const minutes = Math.round(Math.abs(ms) / 60000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (!h) return `${m} min`;
  return m ? `${h} h ${m} min` : `${h} h`;
}

/**
 * Read an <input type="time"> value ("14:02") as the moment it names.
 * → null when it is not a time; else {
 *   at: ISO string of the moment proposed,
 *   typed: "14:02",
 *   day: 'today' | 'yesterday',
 *   needsConfirm: true when the moment is not simply today's (yesterday's, or a time the clock
 *     change moved), so the person sees its date and says yes before it is used,
 *   aheadMs: how far today's time would be ahead of now (0 when it is not),
 *   label: the moment with its date when it is not today ("yesterday, Mon 30 Nov 23:50"),
 *   todayLabel: today's date and the typed time ("Tue 1 Dec 00:35"),
 * }
 */
export function readTypedTime(value, now, skewMs = MAX_SKEW_MS) {
  const match = /^(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$/.exec(value || '');
  if (!match) return null;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (hours > 23 || minutes > 59) return null;
  const today = new Date(now);
  today.setHours(hours, minutes, 0, 0);
  const aheadMs = Math.max(0, today.getTime() - now);
  const at = new Date(today);
  let day = 'today';
  if (aheadMs > skewMs) {
    // A late entry just after midnight (or a slip of the finger): yesterday's, to be confirmed.
    at.setDate(at.getDate() - 1);
    at.setHours(hours, minutes, 0, 0);
    day = 'yesterday';
  }
  // A time the clock change skips (01:30 on the spring morning) lands on another hour.
  const moved = at.getHours() !== hours || at.getMinutes() !== minutes;
  return {
    at: at.toISOString(),
    typed: `${pad(hours)}:${pad(minutes)}`,
    day,
    needsConfirm: day !== 'today' || moved,
    aheadMs: aheadMs > skewMs ? aheadMs : 0,
    label: dayTimeLabel(at, now),
    todayLabel: `${dayName(today)} ${pad(hours)}:${pad(minutes)}`,
  };
}

/** The question to put to the person for a reading that needs confirming. */
export function confirmQuestion(reading) {
  if (reading.aheadMs) {
    return `${reading.typed} today (${reading.todayLabel}) would be ${durationLabel(reading.aheadMs)} from now. `
      + `Did you mean ${reading.label}?`;
  }
  return `The clock change skips ${reading.typed} today: it is read as ${reading.label}. Is that right?`;
}
