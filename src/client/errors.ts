/**
 * Client-side failures carry the Kafka error code (when there is one) and a hint saying
 * what to do, so the CLI can print one actionable line.
 */
import { errorName } from '../protocol/errors';

/** Hints for the codes people meet most; the CLI prints them after the error. */
const HINTS: Record<number, string> = {
  3: 'check the topic name (samsa topics list) or create it (samsa topics create)',
  36: 'pick another name, or delete the existing topic first',
  37: 'give a partition count of at least 1 (and more than the current count when adding)',
  38: 'the replication factor cannot exceed the number of brokers',
  40: 'check the config name and value (samsa configs describe shows the current ones)',
  29: 'the principal lacks an ACL for this topic (samsa acls list)',
  30: 'the principal lacks an ACL for this group (samsa acls list)',
  31: 'the principal lacks a cluster ACL (samsa acls list)',
  58: 'check the user name, password and mechanism',
  68: 'stop the group\'s consumers first; offsets can only change while the group is empty',
  69: 'check the group id (samsa groups list)',
  35: 'the broker does not speak a version of this request the client knows',
  54: 'the broker has no authorizer (set authorizer.class.name in its config)',
};

/** Names for codes Samsa's own table lacks (Kafka's numbering). */
const EXTRA_NAMES: Record<number, string> = {
  8: 'REPLICA_NOT_AVAILABLE',
  9: 'BROKER_NOT_AVAILABLE',
  13: 'NETWORK_EXCEPTION',
  19: 'NOT_ENOUGH_REPLICAS',
  20: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  60: 'REASSIGNMENT_IN_PROGRESS',
};

export function errorLabel(code: number): string {
  const name = EXTRA_NAMES[code] ?? errorName(code);
  return `${name} (${code})`;
}

export class ClientError extends Error {
  readonly code: number | null;
  readonly hint: string | null;
  constructor(message: string, opts: { code?: number; hint?: string } = {}) {
    super(message);
    this.name = 'ClientError';
    this.code = opts.code ?? null;
    this.hint = opts.hint ?? (opts.code !== undefined ? HINTS[opts.code] ?? null : null);
  }
}

/** Throws a ClientError naming `what` when `code` is not 0. */
export function check(code: number, what: string, message?: string | null): void {
  if (code !== 0) throw new ClientError(`${what}: ${errorLabel(code)}${message ? ` - ${message}` : ''}`, { code });
}

/** Codes after which a retry (after a metadata refresh) can succeed. */
export function isRetriable(code: number): boolean {
  return [5, 6, 7, 13, 14, 15, 16, 19, 20, 74, 75].includes(code);
}
