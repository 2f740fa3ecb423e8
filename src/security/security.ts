/**
 * The broker's security state: listeners and their protocols, SASL mechanisms and users,
 * SCRAM credentials, delegation tokens. Handlers reach it as `ctx.broker.security`.
 */
import type { BrokerConfig } from '../config';
import type { Logger } from '../logging';
import type { BrokerConfigStore } from '../cluster/broker-config';
import { DelegationTokenStore } from './delegation-tokens';

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

export class Security {
  /** Delegation tokens: the token APIs and SCRAM authentication with a token. */
  readonly tokens: DelegationTokenStore;

  constructor(
    readonly config: BrokerConfig,
    readonly settings: BrokerConfigStore,
    readonly log: Logger,
  ) {
    this.tokens = new DelegationTokenStore(config.dataDir, settings, log.child({ component: 'delegation-tokens' }));
  }

  close(): void {
    this.tokens.close();
  }
}
