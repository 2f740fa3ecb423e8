/**
 * Fault injection over HTTP (JSON), so that tests in any language can script it:
 *
 *   POST   /admin/faults                  a fault spec (src/faults/fault-spec.ts) -> 201, the rule
 *   GET    /admin/faults                  {rules: [...], brokers: [{brokerId, latencyMs, paused}]}
 *   DELETE /admin/faults                  removes every rule, latency and pause
 *   DELETE /admin/faults/{id}             removes one rule (404 if unknown)
 *   POST   /admin/brokers/{id}/latency    {"ms": D}: every request of that broker waits D ms (0: off)
 *   POST   /admin/brokers/{id}/pause      accepts and reads, answers nothing until resumed
 *   POST   /admin/brokers/{id}/resume
 *
 * An invalid spec, an unknown API or error name, or bad JSON is a 400 with the reason;
 * an unknown broker id a 404.
 */
import { HttpError, allow } from './console-api';
import { FaultSpecError } from '../faults/fault-spec';
import { FaultEngine, UnknownBrokerError } from '../faults/fault-engine';

export interface AdminAnswer {
  status: number;
  body: unknown;
}

/**
 * Answers a request under /admin/ if it is a fault route (`parts`: the path after /admin/,
 * decoded); undefined when it is not, so other admin modules can take it.
 */
export async function faultAdminRoute(faults: FaultEngine, method: string | undefined, parts: string[], body: () => Promise<unknown>): Promise<AdminAnswer | undefined> {
  const [a, b, c] = parts;
  const n = parts.length;
  try {
    if (a === 'faults' && n === 1) {
      allow(method, ['GET', 'POST', 'DELETE']);
      if (method === 'GET') return { status: 200, body: faults.list() };
      if (method === 'DELETE') {
        faults.clear();
        return { status: 200, body: faults.list() };
      }
      return { status: 201, body: faults.inject(await body()) };
    }
    if (a === 'faults' && n === 2) {
      allow(method, ['DELETE']);
      const id = positiveInt(b, 'fault id');
      if (!faults.clear(id)) throw new HttpError(404, `no fault rule with id ${id}`);
      return { status: 200, body: { removed: id } };
    }
    if (a === 'brokers' && n === 3 && (c === 'latency' || c === 'pause' || c === 'resume')) {
      allow(method, ['POST']);
      const nodeId = positiveInt(b, 'broker id', true);
      if (c === 'latency') {
        const ms = ((await body()) as { ms?: unknown } | null)?.ms;
        if (typeof ms !== 'number') throw new HttpError(400, 'body must be {"ms": MILLISECONDS}');
        faults.setLatency(nodeId, ms);
      } else if (c === 'pause') faults.pause(nodeId);
      else faults.resume(nodeId);
      return { status: 200, body: faults.list().brokers.find((x) => x.brokerId === nodeId) ?? { brokerId: nodeId, latencyMs: 0, paused: false } };
    }
  } catch (err) {
    if (err instanceof UnknownBrokerError) throw new HttpError(404, err.message);
    if (err instanceof FaultSpecError) throw new HttpError(400, err.message);
    throw err;
  }
  return undefined;
}

function positiveInt(s: string, what: string, zeroOk = false): number {
  if (!/^\d+$/.test(s) || (!zeroOk && Number(s) === 0)) throw new HttpError(400, `${what} must be ${zeroOk ? 'a non-negative' : 'a positive'} integer, got "${s}"`);
  return Number(s);
}
