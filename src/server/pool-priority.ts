/**
 * libuv's thread pool below the event loop in CPU priority (`samsa serve` only).
 *
 * The pool does the broker's bulk copying: large segment writes (PartitionLog.appendInBackground)
 * and large sendfiles (response-sender.ts). On a machine with more runnable threads than cores,
 * those threads and the event loop share the CPUs equally, so a client reading a large backlog
 * or a producer at full speed makes the event loop wait for a CPU behind the broker's own
 * copies, and a small request waits with it. With the pool threads at a higher nice value the
 * scheduler runs the event loop first; the copies still get every idle cycle.
 *
 * SAMSA_POOL_NICE sets the nice value (default 10; 0 leaves the pool as it is). Not done for
 * brokers started in-process (startBroker): the pool is the host process's too.
 */
import type { Logger } from '../logging';
import { nativeAddon } from './zero-copy';

const DEFAULT_NICE = 10;
let requested = false;

/** Asks every pool thread to lower its priority (once per process); `done` gets how many did. */
export function lowerThreadPoolPriority(log: Logger, done?: (niced: number) => void): void {
  if (requested) return;
  requested = true;
  const setting = process.env.SAMSA_POOL_NICE;
  const nice = setting === undefined || setting === '' ? DEFAULT_NICE : Math.min(19, Math.trunc(Number(setting)));
  if (!(nice > 0)) return;
  const addon = nativeAddon();
  if (!addon?.lowerPoolPriority) return;
  const threads = Math.max(1, Math.trunc(Number(process.env.UV_THREADPOOL_SIZE)) || 4);
  const rc = addon.lowerPoolPriority(threads, nice, (niced) => {
    log.debug('thread pool below the event loop in priority', { threads, niced, nice });
    done?.(niced);
  });
  if (rc !== 0) log.debug('could not lower the thread pool priority', { errno: -rc });
}
