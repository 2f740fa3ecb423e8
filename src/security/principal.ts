/**
 * The authenticated identity of a connection, as Kafka's KafkaPrincipal: a type ("User")
 * and a name. PLAINTEXT and SSL-without-client-certificate connections are User:ANONYMOUS.
 */
export interface KafkaPrincipal {
  readonly type: string;
  readonly name: string;
  /** Set when the connection authenticated with a delegation token (SCRAM tokenauth). */
  readonly tokenId?: string;
}

export const ANONYMOUS: KafkaPrincipal = Object.freeze({ type: 'User', name: 'ANONYMOUS' });

export function userPrincipal(name: string, tokenId?: string): KafkaPrincipal {
  return tokenId === undefined ? { type: 'User', name } : { type: 'User', name, tokenId };
}

/** "User:alice", as Kafka prints principals (ACLs, logs, token owners). */
export function principalString(p: KafkaPrincipal): string {
  return `${p.type}:${p.name}`;
}

/** Parses "User:alice" (the type is everything before the first colon). */
export function parsePrincipal(s: string): KafkaPrincipal | null {
  const i = s.indexOf(':');
  if (i <= 0) return null;
  return { type: s.slice(0, i), name: s.slice(i + 1) };
}
