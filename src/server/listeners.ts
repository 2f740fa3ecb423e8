/**
 * Listeners as Kafka configures them: `listeners` (NAME://host:port,...),
 * `advertised.listeners` and `listener.security.protocol.map`, with samsa's --host/--port
 * (and --advertised-host/--advertised-port) standing for the PLAINTEXT listener.
 *
 * One broker, so there is no inter-broker listener to pick; controller listeners
 * (`controller.listener.names`) are skipped. Settings of one listener are looked up under
 * `listener.name.<name>.<key>` first, then `<key>`, as Kafka does.
 */
import * as os from 'os';
import type { BrokerConfig } from '../config';

/** Kafka's security protocols: what a listener speaks. */
export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

export interface ListenerSpec {
  /** Upper-case listener name, e.g. PLAINTEXT, SASL_SSL, or a custom name like CLIENT. */
  name: string;
  securityProtocol: SecurityProtocol;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** What clients that came in on this listener are told to connect to (null port: the bound one). */
  advertisedHost: string;
  advertisedPort: number | null;
}

const PROTOCOLS: SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

/** Parses `NAME://host:port,...` (host '' means every interface; IPv6 hosts in brackets). */
export function parseListeners(value: string): { name: string; host: string; port: number }[] {
  const out = value
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '')
    .map((x) => {
      const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(x);
      if (!m) throw new Error(`Invalid listener ${x}: expected NAME://host:port`);
      return { name: m[1].toUpperCase(), host: m[2].replace(/^\[|\]$/g, ''), port: Number(m[3]) };
    });
  const names = new Set<string>();
  for (const l of out) {
    if (names.has(l.name)) throw new Error(`Each listener must have a different name, ${l.name} appears twice in ${value}`);
    names.add(l.name);
  }
  return out;
}

/** `listener.security.protocol.map`: NAME:PROTOCOL pairs; the standard names map to themselves. */
export function parseProtocolMap(value: string | undefined | null): Map<string, SecurityProtocol> {
  const map = new Map<string, SecurityProtocol>(PROTOCOLS.map((p) => [p, p]));
  for (const pair of (value ?? '').split(',')) {
    if (pair.trim() === '') continue;
    const [n, p] = pair.split(':').map((x) => x?.trim().toUpperCase());
    if (!n || !p || !(PROTOCOLS as string[]).includes(p)) {
      throw new Error(`Invalid listener.security.protocol.map entry '${pair.trim()}': expected NAME:PROTOCOL with PROTOCOL one of ${PROTOCOLS.join(', ')}`);
    }
    map.set(n, p as SecurityProtocol);
  }
  return map;
}

function defaultAdvertisedHost(host: string): string {
  // Kafka advertises the machine's host name for a wildcard listener.
  return host === '' || host === '0.0.0.0' || host === '::' ? os.hostname() : host;
}

/**
 * The listeners this broker opens. Without `listeners`, one PLAINTEXT listener on
 * --host/--port. With it, every non-controller listener; the first PLAINTEXT one takes
 * --host/--port (which the CLI already set from it unless given as flags).
 */
export function resolveListeners(config: BrokerConfig): ListenerSpec[] {
  const props = config.brokerProperties ?? {};
  const protocols = parseProtocolMap(props['listener.security.protocol.map']);
  const controllers = new Set((props['controller.listener.names'] ?? '').split(',').map((x) => x.trim().toUpperCase()));
  const declared = props['listeners'] !== undefined ? parseListeners(props['listeners']).filter((l) => !controllers.has(l.name)) : null;
  const advertised = props['advertised.listeners'] !== undefined ? parseListeners(props['advertised.listeners']) : [];
  if (declared === null || declared.length === 0) {
    if (declared !== null) throw new Error(`listeners=${props['listeners']} has no listener for clients`);
    return [
      {
        name: 'PLAINTEXT',
        securityProtocol: 'PLAINTEXT',
        host: config.host,
        port: config.port,
        advertisedHost: config.advertisedHost || defaultAdvertisedHost(config.host),
        advertisedPort: config.advertisedPort,
      },
    ];
  }
  let plaintextSeen = false;
  const ports = new Map<number, string>();
  return declared.map((l) => {
    const securityProtocol = protocols.get(l.name);
    if (!securityProtocol) {
      throw new Error(`No security protocol defined for listener ${l.name}: add it to listener.security.protocol.map`);
    }
    let { host, port } = l;
    const adv = advertised.find((a) => a.name === l.name);
    let advertisedHost = adv ? adv.host || defaultAdvertisedHost(host) : '';
    let advertisedPort: number | null = adv ? adv.port : null;
    if (securityProtocol === 'PLAINTEXT' && !plaintextSeen) {
      plaintextSeen = true;
      host = config.host;
      port = config.port;
      if (config.advertisedHost) advertisedHost = config.advertisedHost;
      if (config.advertisedPort !== null) advertisedPort = config.advertisedPort;
    }
    if (port !== 0) {
      const other = ports.get(port);
      if (other) throw new Error(`Listeners ${other} and ${l.name} both use port ${port}`);
      ports.set(port, l.name);
    }
    return { name: l.name, securityProtocol, host, port, advertisedHost: advertisedHost || defaultAdvertisedHost(host), advertisedPort };
  });
}
