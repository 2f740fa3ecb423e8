/**
 * Child processes for the bench: every process started here is tracked and killed (whole
 * process group) when the bench exits, however it exits. Also /proc readers for RSS and CPU.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

const children = new Set<ChildProcess>();

/** Starts a tracked child in its own process group (so kcat under bash dies with it). */
export function startChild(
  cmd: string,
  args: string[],
  stdio: ('pipe' | 'ignore')[] = ['ignore', 'pipe', 'pipe'],
  env: NodeJS.ProcessEnv = process.env,
): ChildProcess {
  const child = spawn(cmd, args, { stdio: stdio as ('pipe' | 'ignore')[], detached: true, env });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));
  return child;
}

/** Sends `signal` to the child's process group (falls back to the child itself). */
export function killChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Synchronous: safe inside process.on('exit'). */
export function killAllChildren(): void {
  for (const c of children) killChild(c, 'SIGKILL');
  children.clear();
}

export function waitExit(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: string | null; timedOut: boolean }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode, timedOut: false });
      return;
    }
    const timer = setTimeout(() => {
      killChild(child, 'SIGKILL');
      resolve({ code: null, signal: 'SIGKILL', timedOut: true });
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut: false });
    });
  });
}

export interface RunResult {
  code: number | null;
  timedOut: boolean;
  ms: number;
  stdout: string;
  stderr: string;
  /** CPU seconds of the command (bash `times`), null if not reported. */
  cpu: Cpu | null;
}

/** CPU seconds in user and kernel mode. */
export interface Cpu {
  user: number;
  sys: number;
}

export function cpuDelta(a: Cpu | null, b: Cpu | null): Cpu | null {
  return a && b ? { user: b.user - a.user, sys: b.sys - a.sys } : null;
}

/** Keeps the last `max` characters of a stream. */
function collect(stream: NodeJS.ReadableStream | null, max = 64 * 1024): () => string {
  let s = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (d: string) => {
    s += d;
    if (s.length > 2 * max) s = s.slice(-max);
  });
  return () => s.slice(-max);
}

/**
 * Runs `cmd args` under bash so that bash's `times` reports the command's CPU time, with a
 * hard time limit. Wall time is measured from spawn to exit.
 */
export async function runTimed(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  const script = '"$@"; rc=$?; echo; times >&2; exit $rc';
  const t0 = process.hrtime.bigint();
  const child = startChild('bash', ['-c', script, 'bench', cmd, ...args]);
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  const { code, timedOut } = await waitExit(child, timeoutMs);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const stderr = err();
  let cpu: Cpu | null = null;
  // `times`: shell user/sys on one line, children user/sys on the next (the last line).
  const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(stderr);
  if (m) cpu = { user: Number(m[1]) * 60 + Number(m[2]), sys: Number(m[3]) * 60 + Number(m[4]) };
  return { code, timedOut, ms, stdout: out(), stderr, cpu };
}

export interface MemInfo {
  rssKb: number;
  hwmKb: number;
}

export function readMem(pid: number): MemInfo | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(s);
    const hwm = /VmHWM:\s+(\d+) kB/.exec(s);
    if (!rss || !hwm) return null;
    return { rssKb: Number(rss[1]), hwmKb: Number(hwm[1]) };
  } catch {
    return null;
  }
}

let clkTck = 0;
function ticksPerSecond(): number {
  if (clkTck === 0) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** User and system CPU seconds of a live process (all its threads), from /proc/PID/stat. */
export function readCpu(pid: number): Cpu | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { user: Number(rest[11]) / ticksPerSecond(), sys: Number(rest[12]) / ticksPerSecond() };
  } catch {
    return null;
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Connects to 127.0.0.1:port in a tight retry loop until a connection is accepted; resolves
 * with the hrtime of the 'connect' event. Gives up at the deadline or when `alive()` is false.
 */
export function connectLoop(port: number, deadlineMs: number, alive: () => boolean): Promise<bigint> {
  const deadline = Date.now() + deadlineMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.once('connect', () => {
        const t = process.hrtime.bigint();
        s.destroy();
        resolve(t);
      });
      s.once('error', (err) => {
        s.destroy();
        if (!alive()) reject(new Error('process exited before accepting a connection'));
        else if (Date.now() > deadline) reject(new Error(`no connection accepted within ${deadlineMs} ms (${err.message})`));
        else setImmediate(attempt);
      });
    };
    attempt();
  });
}

/** fsyncs every file under `dir`: a bench's freshly written data must not be written back during a measured run. */
export function fsyncTree(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) fsyncTree(p);
    else if (e.isFile()) {
      const fd = fs.openSync(p, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  }
}
