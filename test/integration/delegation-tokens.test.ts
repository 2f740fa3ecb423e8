/**
 * Delegation token APIs against a real broker process started with a secret key: the broker
 * advertises them, refuses them on its PLAINTEXT listener at every version (as Kafka does,
 * whatever the secret), accepts the delegation.token.* settings, and never reveals the secret
 * in DescribeConfigs or its log. The SASL path (create/renew/describe/expire as a user) is
 * covered at handler level in test/security/delegation-token-handlers.test.ts until a SASL
 * listener exists.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { ErrorCode } from '../../src/protocol/errors';
import { TOKEN_FILE } from '../../src/security/delegation-tokens';

const SECRET = 'integration-token-secret-5b1f';
const BROKER = 4;

describe('delegation tokens through a real broker', () => {
  let broker: BrokerProcess;
  let raw: RawClient;

  beforeAll(async () => {
    broker = await startBrokerProcess({
      args: [
        '--override', 'node.id=3',
        '--override', `delegation.token.secret.key=${SECRET}`,
        '--override', 'delegation.token.max.lifetime.ms=7200000',
        '--log-level', 'debug',
      ],
    });
    raw = await RawClient.connect(broker.port);
  });

  afterAll(async () => {
    raw?.close();
    await broker?.stop();
    if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
  });

  test('ApiVersions advertises the four token APIs at their versions', async () => {
    const res = await raw.request(18, 3, { clientSoftwareName: 'samsa-test', clientSoftwareVersion: '1.0' });
    const keys = res.body.apiKeys.filter((k: { apiKey: number }) => k.apiKey >= 38 && k.apiKey <= 41);
    expect(keys).toEqual([
      { apiKey: 38, minVersion: 1, maxVersion: 3 },
      { apiKey: 39, minVersion: 1, maxVersion: 2 },
      { apiKey: 40, minVersion: 1, maxVersion: 2 },
      { apiKey: 41, minVersion: 1, maxVersion: 3 },
    ]);
  });

  test('CreateDelegationToken on PLAINTEXT is DELEGATION_TOKEN_REQUEST_NOT_ALLOWED at every version', async () => {
    for (let v = 1; v <= 3; v++) {
      const res = await raw.request(38, v, { ownerPrincipalType: 'User', ownerPrincipalName: 'bob', renewers: [], maxLifetimeMs: -1 });
      expect(res.body).toMatchObject({
        errorCode: ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED,
        principalType: 'User',
        principalName: v >= 3 ? 'bob' : 'ANONYMOUS',
        issueTimestampMs: -1,
        expiryTimestampMs: -1,
        maxTimestampMs: -1,
        tokenId: '',
        throttleTimeMs: 0,
      });
      expect(res.body.hmac).toHaveLength(0);
      if (v >= 3) expect(res.body).toMatchObject({ tokenRequesterPrincipalType: 'User', tokenRequesterPrincipalName: 'ANONYMOUS' });
    }
    expect(fs.existsSync(path.join(broker.dataDir, TOKEN_FILE))).toBe(false);
  });

  test('Renew, Expire and Describe on PLAINTEXT are refused at every version', async () => {
    const hmac = crypto.randomBytes(64);
    for (let v = 1; v <= 2; v++) {
      expect((await raw.request(39, v, { hmac, renewPeriodMs: -1 })).body).toEqual({ errorCode: ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, expiryTimestampMs: -1, throttleTimeMs: 0 });
      expect((await raw.request(40, v, { hmac, expiryTimePeriodMs: -1 })).body).toEqual({ errorCode: ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, expiryTimestampMs: -1, throttleTimeMs: 0 });
    }
    for (let v = 1; v <= 3; v++) {
      for (const owners of [null, [{ principalType: 'User', principalName: 'alice' }]]) {
        expect((await raw.request(41, v, { owners })).body).toEqual({ errorCode: ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, tokens: [], throttleTimeMs: 0 });
      }
    }
  });

  test('the settings are accepted; DescribeConfigs shows them but never the secret', async () => {
    const res = await raw.request(32, 4, {
      resources: [
        {
          resourceType: BROKER,
          resourceName: '3',
          configurationKeys: ['delegation.token.secret.key', 'delegation.token.max.lifetime.ms', 'delegation.token.expiry.time.ms', 'delegation.token.expiry.check.interval.ms'],
        },
      ],
      includeSynonyms: true,
      includeDocumentation: false,
    });
    const configs = Object.fromEntries(res.body.results[0].configs.map((c: { name: string }) => [c.name, c]));
    expect(configs['delegation.token.secret.key']).toMatchObject({ value: null, isSensitive: true, synonyms: [{ name: 'delegation.token.secret.key', source: 4, value: null }] });
    expect(configs['delegation.token.max.lifetime.ms']).toMatchObject({ value: '7200000', isSensitive: false });
    expect(configs['delegation.token.expiry.time.ms']).toMatchObject({ value: '86400000' });
    expect(configs['delegation.token.expiry.check.interval.ms']).toMatchObject({ value: '3600000' });
    expect(broker.stderr()).not.toContain('unknown broker setting');
    expect(broker.stderr()).not.toContain(SECRET);
  });
});
