/**
 * The broker's security state: listeners and their protocols, SASL mechanisms and users,
 * SCRAM credentials, delegation tokens. Handlers reach it as `ctx.broker.security`.
 */
import type { BrokerConfig } from '../config';
import type { Logger } from '../logging';
import type { BrokerConfigStore } from '../cluster/broker-config';
import { ScramCredentialStore } from './scram-credentials';

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

export class Security {
  /** SCRAM credentials, durable in <dataDir>/scram-credentials.json. */
  readonly scram: ScramCredentialStore;

  constructor(
    readonly config: BrokerConfig,
    readonly settings: BrokerConfigStore,
    readonly log: Logger,
  ) {
    this.scram = new ScramCredentialStore(config.dataDir, log.child({ component: 'scram' }));
  }

  close(): void {}
}
