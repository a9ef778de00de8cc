/**
 * live.js: shared client helpers for the street-triage screens (supervisor dashboard,
 * intake screen, crew tablet, nurse desk). Plain ES module, no dependencies.
 *
 *   api(path, {method, body, token, headers})  JSON over fetch; throws ApiError on non-2xx
 *   signIn(username, password)                 POST /api/v1/auth/token (form-encoded)
 *   saveSession / loadSession / clearSession   the signed-in session, in sessionStorage;
 *                                              clearSession also ends it on the server
 *   signOutOnServer(token)                     POST /api/v1/auth/logout, best effort
 *   wireSignInForm({refusal, start})           the sign-in form every screen shares
 *   humanize(code)                             'on_scene' → 'On scene'
 *   LiveStream                                 the /ws event stream: tickets, resume, backoff,
 *                                              heartbeat
 */

/** An API failure. `status` is the HTTP status (0 when the server could not be reached);
 *  `code`, `message` and `details` ([{field, message}]) come from the server's error body. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || (status ? `The server answered ${status}.` : 'Cannot reach the server.'));
    this.name = 'ApiError';
    this.status = status;
    this.code = error.code || (status ? `http_${status}` : 'network_error');
    this.details = Array.isArray(error.details) ? error.details : [];
    this.body = body;
  }
}

/**
 * Call the API and return the parsed JSON (null for an empty body).
 * `body`: a plain object is sent as JSON; URLSearchParams/FormData are sent as they are.
 */
export async function api(path, { method = 'GET', body, token, headers = {} } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body instanceof URLSearchParams || body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  let response;
  let text = '';
  try {
    response = await fetch(path, init);
    text = await response.text();
  } catch {
    throw new ApiError(0, null);
  }
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Sign in; resolves to {access_token, token_type, role, expires_in, unit}. */
export function signIn(username, password) {
  return api('/api/v1/auth/token', {
    method: 'POST',
    body: new URLSearchParams({ username, password }),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
}

/** 'on_scene' → 'On scene'. */
export const humanize = (code) => String(code ?? '').replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

/**
 * Wire the sign-in form every screen has (#login-form, #username, #password, #login-submit,
 * #login-error, #login-notice). `refusal(answer, username)` says why this account may not use
 * this screen ('' when it may); `start(session)` opens the screen; `beforeSubmit()` runs first
 * (the sign-in tap is what lets a screen play sound later).
 */
export function wireSignInForm({ refusal, start, beforeSubmit = () => {} }) {
  const byId = (id) => document.getElementById(id);
  const showError = (message) => {
    byId('login-error').textContent = message;
    byId('login-error').hidden = false;
    byId('password').focus();
  };
  byId('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    beforeSubmit();
    const button = byId('login-submit');
    const username = byId('username').value.trim();
    const password = byId('password').value;
    byId('login-error').hidden = true;
    byId('login-notice').textContent = '';
    if (!username || !password) return showError('Enter your username and password.');
    button.disabled = true;
    try {
      const answer = await signIn(username, password);
      const refused = refusal(answer, username);
      if (refused) {
        signOutOnServer(answer.access_token); // this screen will not use the session
        return showError(refused);
      }
      byId('password').value = '';
      return start(saveSession(answer, username));
    } catch (err) {
      return showError(err.status === 0 ? 'No connection: signing in needs the network.' : err.message);
    } finally {
      button.disabled = false;
    }
  });
}

const SESSION_KEY = 'triage.session';

/** Store a sign-in answer; returns the session {token, role, unit, username, expiresAt (ms)}. */
export function saveSession(answer, username = '') {
  const session = {
    token: answer.access_token,
    role: answer.role,
    unit: answer.unit ?? null,
    username,
    expiresAt: Date.now() + (Number(answer.expires_in) || 0) * 1000,
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/** The stored session, or null when there is none or it has expired. */
export function loadSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(SESSION_KEY));
    if (session && session.token && session.expiresAt > Date.now()) return session;
  } catch { /* corrupt entry: treat as signed out */ }
  return null;
}

/** Forget the stored session and end it on the server (every screen's sign-out calls this, on
 *  purpose or because the session already ended, when the server just answers 204 again). */
export function clearSession() {
  let token = null;
  try { token = JSON.parse(sessionStorage.getItem(SESSION_KEY))?.token ?? null; } catch { /* corrupt */ }
  sessionStorage.removeItem(SESSION_KEY);
  if (token) signOutOnServer(token);
}

/** End a session on the server, best effort: offline, it ends anyway when unused for the idle
 *  limit. `keepalive` lets the request outlive the page if it is being closed. */
export function signOutOnServer(token) {
  fetch('/api/v1/auth/logout', {
    method: 'POST', headers: { Authorization: `Bearer ${token}` }, keepalive: true,
  }).catch(() => { /* offline: the session ends by itself */ });
}

/** The `sub` claim of a JWT (the user id), used to keep one event cursor per user. */
function tokenSubject(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return String(JSON.parse(atob(payload)).sub ?? 'default');
  } catch {
    return 'default';
  }
}

const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_BAD_REQUEST = 4400;

/**
 * Websocket client for `GET /ws?ticket=…[&after=<last id>]`.
 *
 * - Before each (re)connect asks for a fresh single-use ticket (`POST /api/v1/auth/ws-ticket`
 *   with the token), so the access token itself never appears in a URL.
 * - Remembers the last event id (sessionStorage, per user) and resumes after it, so neither a
 *   reconnect nor a page reload loses or repeats events; ids ≤ the last one are ignored.
 * - Reconnects with exponential backoff (0.5 s → 10 s, jittered so a restarted server is not
 *   hit by every screen at once).
 * - Sends {"type":"ping"} every 15 s; if nothing at all arrives within 10 s of a ping the
 *   connection is taken as dead (a half-open TCP connection never fires `close` by itself).
 * - Close 4401 (session ended, revoked, or the account changed), or a 401 when asking for a
 *   ticket, stops it and calls onUnauthenticated; any other close (4008 too slow, 1012 restart,
 *   network loss…) or a failed ticket request reconnects.
 *
 * - 'live' only once the server says `ready`: it has subscribed this socket (and counted a crew
 *   as connected), so state read over REST from then on misses no event.
 *
 * Status: 'connecting' (first attempt, or retrying right after a drop), 'live', or 'offline'
 * (an attempt failed; still retrying in the background until stop()).
 */
export class LiveStream {
  #token; #path; #cursorKey; #ws = null; #stopped = true; #attempt = 0; #connecting = null;
  #status = 'offline'; #lastId = 0; #timers = {};
  #onlineListener = () => this.#onOnline();
  #handlers = { event: [], status: [], resync: [], unauthenticated: [], message: [] };

  constructor({ token, path = '/ws', cursorKey, pingEveryMs = 15000, deadAfterMs = 10000,
    minDelayMs = 500, maxDelayMs = 10000 } = {}) {
    this.#token = token;
    this.#path = path;
    this.#cursorKey = `triage.lastEventId.${cursorKey ?? tokenSubject(token)}`;
    this.options = { pingEveryMs, deadAfterMs, minDelayMs, maxDelayMs };
    this.#lastId = Number(sessionStorage.getItem(this.#cursorKey)) || 0;
  }

  /** cb(event) for each new event {id, type, at, data}. Each on* returns an unsubscribe. */
  onEvent(cb) { return this.#on('event', cb); }
  /** cb('connecting' | 'live' | 'offline'). */
  onStatus(cb) { return this.#on('status', cb); }
  /** cb(data): events were missed (cursor too old): reload state over REST. */
  onResync(cb) { return this.#on('resync', cb); }
  /** cb(reason): the session was refused; the stream has stopped. */
  onUnauthenticated(cb) { return this.#on('unauthenticated', cb); }
  /** cb(message) for control messages other than pong (error, *.result, resync). */
  onMessage(cb) { return this.#on('message', cb); }

  get status() { return this.#status; }
  get lastId() { return this.#lastId; }

  start() {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#attempt = 0;
    window.addEventListener('online', this.#onlineListener);
    this.#setStatus('connecting');
    this.#connect();
  }

  stop() {
    this.#stopped = true;
    window.removeEventListener('online', this.#onlineListener);
    this.#dropSocket();
    this.#clearTimer('retry');
    this.#setStatus('offline');
  }

  /** Send a message (e.g. {type: 'assignment.accept', assignment_id}); false if not connected. */
  send(message) {
    if (!this.#ws || this.#ws.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(message));
    return true;
  }

  /** Forget the cursor (e.g. after signing out for good). */
  forgetCursor() {
    this.#lastId = 0;
    sessionStorage.removeItem(this.#cursorKey);
  }

  #on(name, cb) {
    this.#handlers[name].push(cb);
    return () => { this.#handlers[name] = this.#handlers[name].filter((h) => h !== cb); };
  }

  // One failing handler must not stop the others or the stream.
  #emit(name, value) {
    for (const cb of this.#handlers[name]) {
      try { cb(value); } catch (err) { console.error(`LiveStream ${name} handler failed`, err); }
    }
  }

  #setStatus(status) {
    if (status === this.#status) return;
    this.#status = status;
    this.#emit('status', status);
  }

  #url(ticket) {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const query = new URLSearchParams({ ticket });
    if (this.#lastId > 0) query.set('after', String(this.#lastId));
    return `${scheme}//${location.host}${this.#path}?${query}`;
  }

  /** One attempt: a fresh ticket, then the socket. */
  #connect() {
    this.#clearTimer('retry');
    const attempt = Symbol('connect');
    this.#connecting = attempt;
    // An attempt that hangs (e.g. a black-holed network) counts as failed.
    this.#setTimer('open', this.options.deadAfterMs, () => this.#attemptFailed(attempt));
    api('/api/v1/auth/ws-ticket', { method: 'POST', token: this.#token }).then(
      (answer) => { if (this.#connecting === attempt) this.#open(answer.ticket); },
      (err) => {
        if (this.#connecting !== attempt) return; // stopped or given up meanwhile
        if (err.status === 401) this.#signedOut(err.message);
        else this.#attemptFailed(attempt);
      },
    );
  }

  #open(ticket) {
    const ws = new WebSocket(this.#url(ticket));
    this.#ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.#connecting = null;
      this.#clearTimer('open');
      this.#attempt = 0;
      this.#timers.ping = setInterval(() => this.#ping(ws), this.options.pingEveryMs);
    };
    ws.onmessage = (message) => this.#receive(message.data);
    ws.onclose = (close) => {
      if (ws !== this.#ws) return; // an old socket we already gave up on
      if (close.code === CLOSE_UNAUTHENTICATED) {
        this.#signedOut(close.reason || 'unauthenticated');
        return;
      }
      if (close.code === CLOSE_BAD_REQUEST) {
        // Our cursor was refused: start afresh, and have the app reload what it may have missed.
        this.forgetCursor();
        this.#emit('resync', { reason: 'bad_cursor' });
      }
      this.#lost(ws, opened);
    };
  }

  #ping(ws) {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ type: 'ping' }));
    // Any message (pong or event) clears this; silence means the connection is dead.
    if (!this.#timers.dead) {
      this.#setTimer('dead', this.options.deadAfterMs, () => this.#lost(ws, true));
    }
  }

  #receive(raw) {
    this.#clearTimer('dead');
    let message;
    try { message = JSON.parse(raw); } catch { return; }
    if (!message || typeof message !== 'object') return;
    if (typeof message.id === 'number') {
      if (message.id <= this.#lastId) return; // already seen (replay overlap)
      this.#lastId = message.id;
      sessionStorage.setItem(this.#cursorKey, String(message.id));
      this.#emit('event', message);
      return;
    }
    if (message.type === 'pong') return;
    if (message.type === 'ready') {
      this.#setStatus('live');
      return;
    }
    if (message.type === 'resync') this.#emit('resync', message.data || {});
    this.#emit('message', message);
  }

  #signedOut(reason) {
    this.stop();
    this.#emit('unauthenticated', reason);
  }

  /** The attempt `attempt` failed (no ticket, or no socket in time): retry later. */
  #attemptFailed(attempt) {
    if (this.#connecting !== attempt) return;
    this.#dropSocket();
    this.#retryLater(false);
  }

  /** The socket `ws` is gone (closed, dead or never opened): drop it and retry later. */
  #lost(ws, wasOpen) {
    if (ws !== this.#ws) return;
    this.#dropSocket();
    this.#retryLater(wasOpen);
  }

  #retryLater(wasOpen) {
    if (this.#stopped) return;
    // Right after a drop we show 'connecting'; once an attempt itself fails, 'offline'.
    this.#setStatus(wasOpen ? 'connecting' : 'offline');
    const { minDelayMs, maxDelayMs } = this.options;
    const base = Math.min(maxDelayMs, minDelayMs * 2 ** this.#attempt);
    const delay = Math.min(maxDelayMs, base * (0.8 + Math.random() * 0.4));
    this.#attempt += 1;
    this.#setTimer('retry', delay, () => this.#connect());
  }

  #dropSocket() {
    const ws = this.#ws;
    this.#ws = null;
    this.#connecting = null; // a ticket still on its way is for an attempt given up
    for (const name of ['open', 'dead']) this.#clearTimer(name);
    clearInterval(this.#timers.ping);
    delete this.#timers.ping;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) {
      try { ws.close(4000, 'client reconnecting'); } catch { /* already closing */ }
    }
  }

  // The network came back: retry now instead of waiting out the backoff.
  #onOnline() {
    if (!this.#stopped && !this.#ws && !this.#connecting) {
      this.#attempt = 0;
      this.#connect();
    }
  }

  #setTimer(name, ms, fn) {
    this.#clearTimer(name);
    this.#timers[name] = setTimeout(() => { delete this.#timers[name]; fn(); }, ms);
  }

  #clearTimer(name) {
    clearTimeout(this.#timers[name]);
    delete this.#timers[name];
  }
}
