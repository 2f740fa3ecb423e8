/**
 * A rate measured over sliding sample windows, with Kafka's arithmetic (its Rate over a
 * WindowedSum), so that throttle times match what a Kafka broker would compute:
 *
 *   - `samples` windows of `windowMs` each; a window starts at its first event, not on a
 *     clock boundary, and one extra slot is kept for the window overlapping the oldest one;
 *   - a window whose last event is older than samples × windowMs is forgotten;
 *   - the rate is the sum of the kept windows divided by the time since the oldest kept
 *     window started, padded up to (samples − 1) whole windows. The padding makes a fresh
 *     client look like it had idle windows before it, so a first burst is not over quota
 *     at once, and bursts are averaged over the full span.
 *
 * Throttle time (Kafka's QuotaUtils.throttleTime): with observed rate O, bound T and window
 * span W, a delay X brings the average back to T when O·W / (W + X) = T, so X = (O − T) / T · W.
 */
export interface RateConfig {
  /** quota.window.num */
  samples: number;
  /** quota.window.size.seconds, in ms */
  windowMs: number;
}

interface Sample {
  value: number;
  startMs: number;
  lastEventMs: number;
  events: number;
}

export class WindowedRate {
  private readonly slots: Sample[] = [];
  private current = 0;
  /** Last time anything was recorded (for expiring idle rates). */
  lastUsedMs = 0;

  constructor(readonly config: RateConfig) {}

  record(value: number, nowMs: number): void {
    this.lastUsedMs = nowMs;
    let s = this.currentSample(nowMs);
    if (nowMs - s.startMs >= this.config.windowMs) s = this.advance(nowMs);
    s.value += value;
    s.events += 1;
    s.lastEventMs = nowMs;
  }

  /** Units per second over the kept windows. */
  measure(nowMs: number): number {
    this.purge(nowMs);
    let sum = 0;
    for (const s of this.slots) sum += s.value;
    return sum / (this.windowSizeMs(nowMs) / 1000);
  }

  /** The span the rate is averaged over (Kafka's Rate.windowSize). */
  windowSizeMs(nowMs: number): number {
    this.purge(nowMs);
    let oldest = this.currentSample(nowMs).startMs;
    for (const s of this.slots) if (s.startMs < oldest) oldest = s.startMs;
    let elapsed = nowMs - oldest;
    const full = Math.floor(elapsed / this.config.windowMs);
    const minFull = this.config.samples - 1;
    if (full < minFull) elapsed += (minFull - full) * this.config.windowMs;
    return elapsed;
  }

  private currentSample(nowMs: number): Sample {
    if (this.slots.length === 0) this.slots.push({ value: 0, startMs: nowMs, lastEventMs: nowMs, events: 0 });
    return this.slots[this.current];
  }

  private advance(nowMs: number): Sample {
    const max = this.config.samples + 1;
    this.current = (this.current + 1) % max;
    if (this.current >= this.slots.length) {
      const s = { value: 0, startMs: nowMs, lastEventMs: nowMs, events: 0 };
      this.slots.push(s);
      return s;
    }
    const s = this.slots[this.current];
    reset(s, nowMs);
    return s;
  }

  private purge(nowMs: number): void {
    const expireAge = this.config.samples * this.config.windowMs;
    for (const s of this.slots) if (nowMs - s.lastEventMs >= expireAge) reset(s, nowMs);
  }
}

function reset(s: Sample, nowMs: number): void {
  s.value = 0;
  s.events = 0;
  s.startMs = nowMs;
  s.lastEventMs = nowMs;
}

/**
 * Records `value` and checks the bound, as Kafka's quota sensors do (record first, then
 * measure): 0 when the rate stays within `bound`, else the delay that brings it back.
 */
export function recordAndThrottle(rate: WindowedRate, bound: number, value: number, nowMs: number): number {
  rate.record(value, nowMs);
  const observed = rate.measure(nowMs);
  if (observed <= bound) return 0;
  return throttleTimeMs(observed, bound, rate.windowSizeMs(nowMs));
}

/** X = (O − T) / T · W, rounded as Kafka rounds it. */
export function throttleTimeMs(observed: number, bound: number, windowMs: number): number {
  return Math.round(((observed - bound) / bound) * windowMs);
}
