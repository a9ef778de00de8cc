// Alert sounds for the screens, generated (nothing to download). Browsers let a page play sound
// only after the user has interacted with it, so `unlock()` must be called from a click or key
// press (signing in counts). Each call to `play` sounds once: nothing here loops, so a sound
// never outlives what it announced; repeats come from the server's repeated announcements.

const PATTERNS = {
  // Breaches and risk to life: three loud, high beeps.
  alarm: { type: 'square', gain: 0.35, notes: [[988, 0], [1319, 0.28], [988, 0.56]], length: 0.22 },
  // Anything else that needs someone: two softer tones.
  alert: { type: 'sine', gain: 0.3, notes: [[660, 0], [880, 0.3]], length: 0.35 },
};

export class AlertSound {
  #ctx = null;
  #storageKey;
  #muted;
  #lastAt = 0;
  #listeners = [];

  /** `storageKey`: where the mute choice is remembered (per screen), in localStorage. */
  constructor({ storageKey = 'triage.sound.muted', minGapMs = 2500 } = {}) {
    this.#storageKey = storageKey;
    this.minGapMs = minGapMs;
    this.#muted = localStorage.getItem(storageKey) === '1';
  }

  /** Call from a user gesture: creates or resumes the audio context. */
  unlock() {
    try {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      this.#ctx = this.#ctx || new Ctx();
      if (this.#ctx.state === 'suspended') this.#ctx.resume().then(() => this.#changed(), () => {});
    } catch { /* no audio on this device: alerts stay visual */ }
    this.#changed();
  }

  get muted() { return this.#muted; }

  setMuted(muted) {
    this.#muted = Boolean(muted);
    localStorage.setItem(this.#storageKey, this.#muted ? '1' : '0');
    this.#changed();
  }

  /** 'muted' | 'on' | 'blocked' (the browser has not allowed sound yet: a click will). */
  get state() {
    if (this.#muted) return 'muted';
    return this.#ctx && this.#ctx.state === 'running' ? 'on' : 'blocked';
  }

  /** cb(state) whenever the state changes. */
  onChange(cb) { this.#listeners.push(cb); }

  /**
   * Sound `pattern` once. Returns what happened: 'sound', 'muted', 'blocked', or 'merged' (a
   * sound played moments ago already covers it: alerts arriving together beep once).
   */
  play(pattern = 'alert') {
    if (this.#muted) return 'muted';
    const ctx = this.#ctx;
    if (!ctx || ctx.state !== 'running') return 'blocked';
    const now = Date.now();
    if (now - this.#lastAt < this.minGapMs) return 'merged';
    this.#lastAt = now;
    const { type, gain: peak, notes, length } = PATTERNS[pattern] ?? PATTERNS.alert;
    const start = ctx.currentTime + 0.02;
    for (const [frequency, offset] of notes) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = type;
      osc.frequency.value = frequency;
      const t = start + offset;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(peak, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + length);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + length + 0.02);
    }
    return 'sound';
  }

  /** Forget the audio context (signing out): the next session needs its own gesture. */
  close() {
    const ctx = this.#ctx;
    this.#ctx = null;
    if (ctx) ctx.close().catch(() => {});
    this.#changed();
  }

  #changed() {
    for (const cb of this.#listeners) cb(this.state);
  }
}
