/**
 * The broker's security state: listeners and their protocols, TLS settings, SASL
 * mechanisms and users, SCRAM credentials, delegation tokens. Handlers reach it as
 * `ctx.cluster.security`; connections ask it for TLS options and SASL servers.
 *
 * Settings are Kafka's keys, per listener with the `listener.name.<name>.` prefix first
 * (and `listener.name.<name>.<mechanism>.sasl.jaas.config` for JAAS), as Kafka reads them.
 * Everything is checked at start-up so that a bad keystore or JAAS line stops the broker
 * with a clear message instead of failing the first client.
 */
import type * as tls from 'tls';
import type { X509Certificate } from 'crypto';
import type { BrokerConfig } from '../config';
import type { Logger } from '../logging';
import type { BrokerConfigStore } from '../cluster/broker-config';
import { ListenerSpec, resolveListeners, SecurityProtocol } from '../server/listeners';
import { KafkaPrincipal, userPrincipal } from './principal';
import { SaslServer, SUPPORTED_MECHANISMS } from './sasl/mechanism';
import { ScramCredentialStore, ScramMechanism } from './scram-credentials';
import { DelegationTokenStore } from './delegation-tokens';
import { parseAddScram } from './scram-credentials';
import { parseListeners, parseProtocolMap } from '../server/listeners';
import * as fs from 'fs';

export type { SecurityProtocol };

export const isSaslProtocol = (p: SecurityProtocol) => p === 'SASL_PLAINTEXT' || p === 'SASL_SSL';
export const isTlsProtocol = (p: SecurityProtocol) => p === 'SSL' || p === 'SASL_SSL';

interface JaasEntry {
  loginModule: string;
  options: Record<string, string>;
}

export class Security {
  readonly listeners: ListenerSpec[];
  /** SCRAM credentials of users (AlterUserScramCredentials, --add-scram). */
  readonly scram: ScramCredentialStore;
  /** Delegation tokens (CreateDelegationToken ...), enabled by delegation.token.secret.key. */
  readonly tokens: DelegationTokenStore;
  private readonly tlsByListener = new Map<string, tls.TlsOptions>();
  private readonly plainUsers = new Map<string, Map<string, string>>();
  /** The development CA file clients should trust (--tls-dev), or null. */
  readonly devCaFile: string | null = null;

  readonly config: BrokerConfig;

  constructor(
    config: BrokerConfig,
    readonly settings: BrokerConfigStore,
    readonly log: Logger,
  ) {
    this.config = config;
    this.devCaFile = config.tlsDev ? devCaFile(config.dataDir) : null;
    this.listeners = resolveListeners(config);
    this.scram = new ScramCredentialStore(config.dataDir, log.child({ component: 'scram-credentials' }));
    for (const arg of config.addScram ?? []) {
      const { user, mechanism, credential } = parseAddScram(arg);
      this.scram.upsert(user, mechanism, credential);
      log.info('SCRAM credential set from --add-scram', { user, mechanism });
    }
    this.tokens = new DelegationTokenStore(config.dataDir, settings, log.child({ component: 'delegation-tokens' }));
    for (const l of this.listeners) this.checkListener(l);
  }

  /**
   * A setting for one listener: `listener.name.<name>.<key>` (dynamic or static), then `<key>` at
   * any level, then Kafka's default. Read on each use, so dynamic SASL settings apply to the next
   * authentication; TLS contexts are built at start-up, so TLS settings apply at the next start.
   */
  setting(listenerName: string, key: string): string | null {
    const prefixed = this.settings.get(`listener.name.${listenerName.toLowerCase()}.${key}`);
    return prefixed !== null ? prefixed : this.settings.get(key);
  }

  /** TLS server options of an SSL or SASL_SSL listener (built and checked at start-up). */
  tlsOptions(listenerName: string): tls.TlsOptions {
    const opts = this.tlsByListener.get(listenerName);
    if (!opts) throw new Error(`listener ${listenerName} has no TLS settings`);
    return opts;
  }

  /** The principal of a verified client certificate, after ssl.principal.mapping.rules. */
  certificatePrincipal(listenerName: string, cert: X509Certificate): KafkaPrincipal {
    return userPrincipal(sslPrincipals().sslPrincipal(cert, this.setting(listenerName, 'ssl.principal.mapping.rules')));
  }

  /** sasl.enabled.mechanisms of a listener, upper-case, as configured. */
  enabledMechanisms(listenerName: string): string[] {
    return (this.setting(listenerName, 'sasl.enabled.mechanisms') ?? '')
      .split(',')
      .map((m) => m.trim().toUpperCase())
      .filter((m) => m !== '');
  }

  /** connections.max.reauth.ms of a listener (0: sessions never expire). */
  reauthMs(listenerName: string): number {
    const v = Number(this.setting(listenerName, 'connections.max.reauth.ms') ?? 0);
    return Number.isFinite(v) && v > 0 ? v : 0;
  }

  /** A fresh server side for one SASL exchange, or null for a mechanism Samsa lacks (GSSAPI). */
  newSaslServer(listenerName: string, mechanism: string): SaslServer | null {
    switch (mechanism) {
      case 'PLAIN': {
        const users = this.plainUsersOf(listenerName);
        const { PlainServer, plainUserVerifier } = saslPlain();
        return new PlainServer(plainUserVerifier(users));
      }
      case 'SCRAM-SHA-256':
      case 'SCRAM-SHA-512': {
        const mech = mechanism as ScramMechanism;
        return new (saslScram().ScramServer)(mech, (username, tokenAuth) => {
          if (tokenAuth) {
            const t = this.tokens.scramCredentialForToken(username, mech);
            if (!t) return null;
            const { owner, expiresAtMs, ...credential } = t;
            return { credential, principal: userPrincipal(owner.name, username), expiresAtMs };
          }
          const credential = this.scram.get(username, mech);
          return credential ? { credential, principal: userPrincipal(username), expiresAtMs: null } : null;
        });
      }
      case 'OAUTHBEARER': {
        const jaas = this.jaas(listenerName, mechanism);
        const o = jaas?.options ?? {};
        const list = (v: string | undefined) => (v ?? '').split(/[\s,]+/).filter((x) => x !== '');
        return new (saslOAuthBearer().OAuthBearerUnsecuredServer)({
          principalClaimName: o.unsecuredValidatorPrincipalClaimName || undefined,
          scopeClaimName: o.unsecuredValidatorScopeClaimName || undefined,
          requiredScope: list(o.unsecuredValidatorRequiredScope),
          allowableClockSkewMs: o.unsecuredValidatorAllowableClockSkewMs ? Number(o.unsecuredValidatorAllowableClockSkewMs) : undefined,
        });
      }
      default:
        return null;
    }
  }

  close(): void {
    this.tokens.close();
  }

  private checkListener(l: ListenerSpec): void {
    if (isTlsProtocol(l.securityProtocol)) {
      const lookup = (key: string) => this.setting(l.name, key);
      try {
        this.tlsByListener.set(l.name, tlsOptions().tlsServerOptions(lookup, l.name));
        sslPrincipals().validatePrincipalMappingRules(lookup('ssl.principal.mapping.rules'));
      } catch (err) {
        const message = (err as Error).message;
        throw new Error(message.startsWith(`listener ${l.name}`) ? message : `listener ${l.name}: ${message}`);
      }
    }
    if (isSaslProtocol(l.securityProtocol)) {
      const enabled = this.enabledMechanisms(l.name);
      const usable = enabled.filter((m) => (SUPPORTED_MECHANISMS as readonly string[]).includes(m));
      if (usable.length === 0) {
        this.log.warn('SASL listener has no usable mechanism: set sasl.enabled.mechanisms (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER)', {
          listener: l.name,
          enabled,
        });
      }
      // Parse JAAS lines now so that a typo stops the start-up.
      for (const m of usable) this.jaas(l.name, m);
      if (usable.includes('PLAIN')) this.plainUsersOf(l.name);
    }
  }

  private plainUsersOf(listenerName: string): Map<string, string> {
    let users = this.plainUsers.get(listenerName);
    if (!users) {
      const jaas = this.jaas(listenerName, 'PLAIN');
      users = jaas && /plain/i.test(jaas.loginModule) ? jaasModule().plainUsersFromJaas(jaas.options) : new Map<string, string>();
      if (users.size === 0) this.log.warn('PLAIN is enabled but no user is defined (user_<name>="<password>" in sasl.jaas.config)', { listener: listenerName });
      this.plainUsers.set(listenerName, users);
    }
    return users;
  }

  /** The JAAS entry for a listener and mechanism, Kafka's lookup order. */
  private jaas(listenerName: string, mechanism: string): JaasEntry | null {
    const props = this.config.brokerProperties ?? {};
    const l = listenerName.toLowerCase();
    const text =
      props[`listener.name.${l}.${mechanism.toLowerCase()}.sasl.jaas.config`] ??
      props[`listener.name.${l}.sasl.jaas.config`] ??
      props['sasl.jaas.config'];
    if (text === undefined) return null;
    try {
      return jaasModule().parseJaasConfig(text);
    } catch (err) {
      throw new Error(`listener ${listenerName}: sasl.jaas.config for ${mechanism}: ${(err as Error).message}`);
    }
  }
}

/**
 * --tls-dev: TLS listeners without a key store get the development certificate (created in
 * <dataDir>/tls-dev on first start, reused afterwards), and an SSL listener is added on
 * tlsDevPort when none of the listeners uses TLS. Applied to the configuration before the
 * broker reads its settings.
 */
// Key stores and development certificates need node-forge (about a megabyte of JavaScript):
// required only when a TLS listener or --tls-dev asks for them, not on every start. So are
// the SASL mechanisms, JAAS and certificate principals, when a listener or connection uses them.
const tlsOptions = () => require('./tls-options') as typeof import('./tls-options');
const devCerts = () => require('./dev-certs') as typeof import('./dev-certs');
const sslPrincipals = () => require('./ssl-principal') as typeof import('./ssl-principal');
const jaasModule = () => require('./jaas') as typeof import('./jaas');
const saslPlain = () => require('./sasl/plain') as typeof import('./sasl/plain');
const saslScram = () => require('./sasl/scram') as typeof import('./sasl/scram');
const saslOAuthBearer = () => require('./sasl/oauthbearer') as typeof import('./sasl/oauthbearer');

export function withDevTls(config: BrokerConfig): BrokerConfig {
  if (!config.tlsDev) return config;
  const dev = devCerts().ensureDevCertificates(config.dataDir);
  const props = { ...(config.brokerProperties ?? {}) };
  const protocols = parseProtocolMap(props['listener.security.protocol.map']);
  const declared = props['listeners'] !== undefined ? parseListeners(props['listeners']) : [];
  const tlsListeners = declared.filter((l) => {
    const p = protocols.get(l.name);
    return p === 'SSL' || p === 'SASL_SSL';
  });
  if (tlsListeners.length === 0) {
    const plain = declared.length > 0 ? props['listeners'] : `PLAINTEXT://${config.host}:${config.port}`;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    props['listeners'] = `${plain},SSL://${host}:${config.tlsDevPort}`;
  }
  const hasKeystore = (prefix: string) => props[`${prefix}ssl.keystore.location`] !== undefined || props[`${prefix}ssl.keystore.key`] !== undefined;
  if (!hasKeystore('')) {
    props['ssl.keystore.type'] = 'PEM';
    props['ssl.keystore.key'] = fs.readFileSync(dev.keyFile, 'utf8');
    props['ssl.keystore.certificate.chain'] = fs.readFileSync(dev.certFile, 'utf8');
    for (const l of tlsListeners) {
      const prefix = `listener.name.${l.name.toLowerCase()}.`;
      if (props[`${prefix}ssl.keystore.type`] !== undefined && !hasKeystore(prefix)) props[`${prefix}ssl.keystore.type`] = 'PEM';
    }
  }
  return { ...config, brokerProperties: props };
}

function devCaFile(dataDir: string): string {
  return devCerts().ensureDevCertificates(dataDir).caFile;
}
