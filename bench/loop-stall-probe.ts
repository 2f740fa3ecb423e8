/**
 * Event-loop stall log of a broker process, for the latency bench: preloaded into the broker
 * with `node -r dist/bench/loop-stall-probe.js`, it writes to the file named by
 * SAMSA_BENCH_STALL_LOG (nothing happens without it; src/ knows nothing of this file).
 *
 * A 2 ms interval timer notes how late each tick is. A tick late by STALL_MS or more is one
 * line: `stall <end ns> <late ms> <run ms> <wait ms>`, where run and wait come from the main
 * thread's /proc schedstat over the gap: run = time on a CPU (the broker's own work: JS, GC,
 * syscalls that burn CPU), wait = time runnable but not running (other processes had the
 * CPU: the machine's or the clients' load), and the rest of the gap is time blocked in the
 * kernel (disk, page faults, a throttled write). Garbage collections of 1 ms or more are
 * lines `gc <end ns> <ms> <kind>`. Times are process.hrtime (CLOCK_MONOTONIC), the clock of
 * bench/latency.py's stamps, so both logs line up.
 */
import * as fs from 'fs';
import { PerformanceObserver, constants } from 'perf_hooks';

const INTERVAL_MS = 2;
const STALL_MS = 3;

function start(file: string): void {
  const fd = fs.openSync(file, 'a');
  // A line that cannot be written (disk full) is dropped: the probe must never take the broker down.
  const log = (line: string): void => {
    try {
      fs.writeSync(fd, line);
    } catch {
      // dropped
    }
  };
  let sched = -1;
  try {
    sched = fs.openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    // Not Linux, or schedstat off: stalls are still logged, with run and wait as -1.
  }
  const buf = Buffer.alloc(128);
  // schedstat: "<ns on cpu> <ns waiting on a runqueue> <timeslices>"
  const readSched = (): [number, number] => {
    if (sched < 0) return [NaN, NaN];
    const n = fs.readSync(sched, buf, 0, buf.length, 0);
    const f = buf.toString('latin1', 0, n).split(' ');
    return [Number(f[0]), Number(f[1])];
  };
  let last = process.hrtime.bigint();
  let [lastRun, lastWait] = readSched();
  const timer = setInterval(() => {
    const now = process.hrtime.bigint();
    const [run, wait] = readSched();
    const late = Number(now - last) / 1e6 - INTERVAL_MS;
    if (late >= STALL_MS) {
      const r = Number.isNaN(run) ? -1 : (run - lastRun) / 1e6;
      const w = Number.isNaN(wait) ? -1 : (wait - lastWait) / 1e6;
      log(`stall ${now} ${late.toFixed(2)} ${r.toFixed(2)} ${w.toFixed(2)}\n`);
    }
    last = now;
    lastRun = run;
    lastWait = wait;
  }, INTERVAL_MS);
  timer.unref();
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  const origin = process.hrtime.bigint() - BigInt(Math.round(performance.now() * 1e6));
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.duration < 1) continue;
      const kind = kinds[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? '?';
      const end = origin + BigInt(Math.round((e.startTime + e.duration) * 1e6));
      log(`gc ${end} ${e.duration.toFixed(2)} ${kind}\n`);
    }
  }).observe({ entryTypes: ['gc'] });
}

const file = process.env.SAMSA_BENCH_STALL_LOG;
if (file) start(file);

/** One phase's summary of a stall log: lines whose end falls in [from, to) (hrtime ns). */
export interface StallSummary {
  stalls: number;
  /** Sum of the late times, ms. */
  lateMs: number;
  maxMs: number;
  /** The longest stall's split: on CPU, waiting for a CPU (ms). */
  maxRunMs: number;
  maxWaitMs: number;
  /** Of lateMs: on CPU, waiting for a CPU, blocked in the kernel (the rest). */
  runMs: number;
  waitMs: number;
  blockedMs: number;
  /** Stalls of at least 5 ms, and how many of them were mostly (> half) waiting for a CPU. */
  over5: number;
  over5Waiting: number;
  /** Stalls with at least 5 ms on CPU (the broker's own work, whatever else was late), and the most. */
  run5: number;
  maxRunOnlyMs: number;
  gcCount: number;
  gcMs: number;
  gcMaxMs: number;
}

export function summarizeStalls(text: string, from: bigint, to: bigint): StallSummary {
  const s: StallSummary = { stalls: 0, lateMs: 0, maxMs: 0, maxRunMs: 0, maxWaitMs: 0, runMs: 0, waitMs: 0, blockedMs: 0, over5: 0, over5Waiting: 0, run5: 0, maxRunOnlyMs: 0, gcCount: 0, gcMs: 0, gcMaxMs: 0 };
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 3) continue;
    const t = BigInt(f[1]);
    if (t < from || t >= to) continue;
    if (f[0] === 'stall') {
      const late = Number(f[2]);
      // The gap is late + the interval; run and wait cover the whole gap.
      const run = Math.max(0, Number(f[3]));
      const wait = Math.max(0, Number(f[4]));
      s.stalls++;
      s.lateMs += late;
      if (late > s.maxMs) {
        s.maxMs = late;
        s.maxRunMs = run;
        s.maxWaitMs = wait;
      }
      s.runMs += run;
      s.waitMs += wait;
      s.blockedMs += Math.max(0, late + INTERVAL_MS - run - wait);
      if (run >= 5) s.run5++;
      s.maxRunOnlyMs = Math.max(s.maxRunOnlyMs, run);
      if (late >= 5) {
        s.over5++;
        if (wait > (late + INTERVAL_MS) / 2) s.over5Waiting++;
      }
    } else if (f[0] === 'gc') {
      const ms = Number(f[2]);
      s.gcCount++;
      s.gcMs += ms;
      s.gcMaxMs = Math.max(s.gcMaxMs, ms);
    }
  }
  return s;
}
