/**
 * The optional sendfile addon (native/sendfile/, built by `npm run build`, or prebuilt in the
 * npm package): loading it once, and waiting for socket writability through its epoll set.
 *
 * Whether zero-copy is on is decided once per process: SAMSA_ZERO_COPY=0 turns it off; on any
 * platform but Linux, or when the addon did not build or does not load, it is off and one log
 * line says why. Off means the copy path of ResponseSender (bounded positional reads and
 * socket.write), which serves every socket correctly; on, plain TCP sockets send large file
 * regions with sendfile(2) (see response-sender.ts for the rules that keep framing intact).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Logger } from '../logging';

/** The addon's functions (native/sendfile/src/sendfile.c); errors are negative errno values. */
export interface SendfileAddon {
  init(onWritable: (ids: number[]) => void): number;
  dup(fd: number): number;
  close(fd: number): number;
  watch(fd: number, id: number): number;
  sendfile(outFd: number, inFd: number, position: number, length: number): number;
  /** sendfile() on the thread pool; 0 when queued, then done(bytes or -errno). Absent in builds before it. */
  sendfileAsync?(outFd: number, inFd: number, position: number, length: number, done: (result: number) => void): number;
  writev(fd: number, buffers: Buffer[], skip: number): number;
  resident(fd: number, position: number, length: number): number;
  preadNoWait(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  prefetch(fd: number, position: number, length: number, done: (rc: number) => void): number;
}

export const EAGAIN = 11;
export const EINTR = 4;

const ADDON_DIR = path.join('native', 'sendfile');

interface LoadState {
  addon: SendfileAddon | null;
  reason: string;
  logged: boolean;
}

const SHARED_DISPATCH = Symbol.for('samsa.sendfile.dispatch');

let state: LoadState | null = null;
const waiters = new Map<number, () => void>();

/** native/sendfile under the package root: this file runs from src/server (ts-jest) or dist/src/server. */
function addonDir(): string | undefined {
  const dirs = [path.resolve(__dirname, '..', '..', ADDON_DIR), path.resolve(__dirname, '..', '..', '..', ADDON_DIR)];
  return dirs.find((d) => fs.existsSync(path.join(d, 'binding.gyp')));
}

/** The addon file: a local build (build/Release) first, else a shipped prebuild for this platform. */
function addonFile(): string | null {
  const dir = addonDir();
  if (!dir) return null;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return (require('node-gyp-build') as { path(dir: string): string }).path(dir);
  } catch {
    return null;
  }
}

function load(): LoadState {
  const setting = process.env.SAMSA_ZERO_COPY;
  if (setting === '0' || setting === 'false' || setting === 'off') {
    return { addon: null, reason: 'SAMSA_ZERO_COPY=0', logged: false };
  }
  if (process.platform !== 'linux') return { addon: null, reason: `sendfile addon is Linux-only (${process.platform})`, logged: false };
  const file = addonFile();
  if (!file) return { addon: null, reason: 'sendfile addon not built and no prebuild for this platform (native/sendfile; see npm run build output)', logged: false };
  const kind = file.includes(`${path.sep}prebuilds${path.sep}`) ? 'prebuilt' : 'built here';
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const addon = require(file) as SendfileAddon & { [SHARED_DISPATCH]?: { target: (ids: number[]) => void } };
    // A native module loads once per process and its init() may run once, but this file can
    // be evaluated again in the same process (test runners give each test file its own module
    // registry, and their own \`process\` object): the wake-up target lives on the addon's
    // exports, which are shared, and the latest copy of this module takes the wake-ups.
    const shared = addon[SHARED_DISPATCH];
    if (shared) {
      shared.target = onWritable;
      return { addon, reason: `sendfile addon loaded (${kind})`, logged: false };
    }
    const holder = { target: onWritable };
    const rc = addon.init((ids) => holder.target(ids));
    if (rc !== 0) return { addon: null, reason: `sendfile addon init failed (errno ${-rc})`, logged: false };
    addon[SHARED_DISPATCH] = holder;
    return { addon, reason: `sendfile addon loaded (${kind})`, logged: false };
  } catch (err) {
    return { addon: null, reason: `sendfile addon did not load: ${(err as Error).message}`, logged: false };
  }
}

/**
 * The addon, or null for the copy path. The first call logs the outcome once: a warning when
 * the addon is missing or broken, info when it is loaded or turned off on purpose.
 */
export function zeroCopyAddon(log?: Logger): SendfileAddon | null {
  if (!state) state = load();
  if (log && !state.logged) {
    state.logged = true;
    if (state.addon) log.info('zero-copy fetch: on', { reason: state.reason });
    else if (state.reason.startsWith('SAMSA_ZERO_COPY')) log.info('zero-copy fetch: off, using the copy path', { reason: state.reason });
    else log.warn('zero-copy fetch unavailable, using the copy path', { reason: state.reason });
  }
  return state.addon;
}

/** Why zero-copy is on or off (for the ready line and tests). */
export function zeroCopyStatus(): { enabled: boolean; reason: string } {
  if (!state) state = load();
  return { enabled: state.addon !== null, reason: state.reason };
}

let nextWaitId = 1;

/** A fresh id for watch(): in-flight operations are keyed by id, never by fd number. */
export function newWaitId(): number {
  const id = nextWaitId;
  nextWaitId = nextWaitId >= 0x7fffffff ? 1 : nextWaitId + 1;
  return id;
}

/**
 * Resolves when `fd` (a dup of a socket, owned by the caller) can take more bytes, or when
 * cancelWait(id) is called. The fd must stay open until then.
 */
export function waitWritable(addon: SendfileAddon, fd: number, id: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const rc = addon.watch(fd, id);
    if (rc !== 0) {
      reject(Object.assign(new Error(`epoll_ctl failed (errno ${-rc})`), { errno: -rc }));
      return;
    }
    waiters.set(id, resolve);
  });
}

/** Wakes a pending waitWritable (socket closed meanwhile); its fd is closed by the caller next. */
export function cancelWait(id: number): void {
  const w = waiters.get(id);
  if (w) {
    waiters.delete(id);
    w();
  }
}

function onWritable(ids: number[]): void {
  for (const id of ids) {
    const w = waiters.get(id);
    if (w) {
      waiters.delete(id);
      w();
    }
  }
}

/**
 * Brings a file range into the page cache on libuv's thread pool (readahead, then waiting for
 * each page); resolves with 0 or -errno. Never rejects: a failed prefetch only means that
 * the sendfile after it may block or fail and report the error itself.
 */
export function prefetch(addon: SendfileAddon, fd: number, position: number, length: number): Promise<number> {
  return new Promise((resolve) => {
    const rc = addon.prefetch(fd, position, length, resolve);
    if (rc !== 0) resolve(rc);
  });
}

/** Pending writability waits (tests check that closed sockets leave none behind). */
export function pendingWaits(): number {
  return waiters.size;
}
