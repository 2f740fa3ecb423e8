/** Helpers shared by the delegation token API handlers (keys 38-41). */
import type { ConnectionInfo } from '../server/handler-registry';
import { ANONYMOUS } from '../security/principal';

/**
 * Kafka's rule for every token API: refused on PLAINTEXT, on SSL without a client
 * certificate (the principal is ANONYMOUS) and on connections that authenticated with a
 * token, so a token can never be used to obtain, extend or reveal tokens.
 */
export function tokenRequestsAllowed(conn: ConnectionInfo): boolean {
  const p = conn.principal;
  if (p.tokenId !== undefined) return false;
  if (conn.securityProtocol === 'PLAINTEXT') return false;
  if (conn.securityProtocol === 'SSL' && p.type === ANONYMOUS.type && p.name === ANONYMOUS.name) return false;
  return true;
}
