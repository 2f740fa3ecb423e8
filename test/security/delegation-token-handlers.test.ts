/**
 * The delegation token handlers (keys 38-41) against a real in-process Broker, called with a
 * request context as the connection layer builds it: which connections may use the token
 * APIs, create/renew/describe/expire for a SASL user, tokens created for another owner,
 * Kafka's codes, responses that encode at every version, and the disabled broker.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Broker, startBroker } from '../../src/broker';
import { createLogger } from '../../src/logging';
import { ErrorCode } from '../../src/protocol/errors';
import { API_CODECS } from '../../src/protocol/generated';
import { Reader } from '../../src/protocol/reader';
import { Writer } from '../../src/protocol/writer';
import { ConnectionInfo, RequestContext } from '../../src/server/handler-registry';
import { ANONYMOUS, KafkaPrincipal, userPrincipal } from '../../src/security/principal';
import type { SecurityProtocol } from '../../src/security/security';
import { describeResource } from '../../src/cluster/config-admin';
import { createDelegationTokenHandler } from '../../src/handlers/38-create-delegation-token';
import { renewDelegationTokenHandler } from '../../src/handlers/39-renew-delegation-token';
import { expireDelegationTokenHandler } from '../../src/handlers/40-expire-delegation-token';
import { describeDelegationTokenHandler } from '../../src/handlers/41-describe-delegation-token';

const SECRET = 'handler-test-secret';
const quiet = createLogger('silent');
const alice = userPrincipal('alice');
const bob = userPrincipal('bob');

function connection(securityProtocol: SecurityProtocol, principal: KafkaPrincipal): ConnectionInfo {
  return { id: 1, remoteAddress: '127.0.0.1', isClosed: false, listenerName: securityProtocol, securityProtocol, principal, close: () => undefined };
}

/** Encodes a response at `version` and decodes it again, as a client would read it. */
function roundTrip(apiKey: number, version: number, body: object): any {
  const codec = API_CODECS[apiKey]!;
  const w = new Writer();
  codec.encodeResponse[version]!(w, body);
  return codec.decodeResponse[version]!(new Reader(w.toBuffer()));
}

describe('delegation token handlers', () => {
  let dir: string;
  let broker: Broker;

  function ctx(apiKey: number, version: number, conn: ConnectionInfo): RequestContext {
    return { header: { apiKey, apiVersion: version, correlationId: 7, clientId: 'handler-test' }, requestBytes: 0, cluster: broker.cluster, node: broker.node, connection: conn };
  }
  const sasl = (p: KafkaPrincipal = alice) => connection('SASL_PLAINTEXT', p);

  async function create(conn: ConnectionInfo, body: Partial<{ ownerPrincipalType: string | null; ownerPrincipalName: string | null; renewers: { principalType: string; principalName: string }[]; maxLifetimeMs: number }> = {}, version = 3): Promise<any> {
    const req = { ownerPrincipalType: null, ownerPrincipalName: null, renewers: [], maxLifetimeMs: -1, ...body };
    return createDelegationTokenHandler.handle(ctx(38, version, conn), req);
  }
  async function renew(conn: ConnectionInfo, hmac: Buffer, renewPeriodMs: number): Promise<any> {
    return renewDelegationTokenHandler.handle(ctx(39, 2, conn), { hmac, renewPeriodMs });
  }
  async function expire(conn: ConnectionInfo, hmac: Buffer, expiryTimePeriodMs: number): Promise<any> {
    return expireDelegationTokenHandler.handle(ctx(40, 2, conn), { hmac, expiryTimePeriodMs });
  }
  async function describeTokens(conn: ConnectionInfo, owners: { principalType: string; principalName: string }[] | null = null, version = 3): Promise<any> {
    return describeDelegationTokenHandler.handle(ctx(41, version, conn), { owners });
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-token-handlers-'));
    broker = await startBroker({ port: 0, host: '127.0.0.1', dataDir: dir, logger: quiet, brokerProperties: { 'delegation.token.secret.key': SECRET } });
  });

  afterAll(async () => {
    await broker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('are registered at Kafka 4 versions (v0 removed)', () => {
    const advertised = broker.node.registry.versions().filter((v) => v.apiKey >= 38 && v.apiKey <= 41);
    expect(advertised).toEqual([
      { apiKey: 38, minVersion: 1, maxVersion: 3 },
      { apiKey: 39, minVersion: 1, maxVersion: 2 },
      { apiKey: 40, minVersion: 1, maxVersion: 2 },
      { apiKey: 41, minVersion: 1, maxVersion: 3 },
    ]);
  });

  describe('connections that may not use token APIs get DELEGATION_TOKEN_REQUEST_NOT_ALLOWED', () => {
    const refused: [string, ConnectionInfo][] = [
      ['PLAINTEXT', connection('PLAINTEXT', ANONYMOUS)],
      ['SSL without a client certificate', connection('SSL', ANONYMOUS)],
      ['SASL authenticated with a token', connection('SASL_SSL', userPrincipal('alice', 'tok-1'))],
    ];
    test.each(refused)('%s', async (_name, conn) => {
      const before = broker.security.tokens.describe(null, alice, () => true).tokens.length;
      const c = await create(conn);
      expect(c).toMatchObject({ errorCode: ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, issueTimestampMs: -1, expiryTimestampMs: -1, maxTimestampMs: -1, tokenId: '' });
      expect(c.hmac).toHaveLength(0);
      expect(broker.security.tokens.describe(null, alice, () => true).tokens.length).toBe(before);
      const hmac = crypto.randomBytes(64);
      expect(await renew(conn, hmac, -1)).toEqual({ errorCode: ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, expiryTimestampMs: -1, throttleTimeMs: 0 });
      expect(await expire(conn, hmac, -1)).toEqual({ errorCode: ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, expiryTimestampMs: -1, throttleTimeMs: 0 });
      expect(await describeTokens(conn)).toEqual({ errorCode: ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, tokens: [], throttleTimeMs: 0 });
    });

    test('a token-authenticated connection cannot even see the HMAC of its own token', async () => {
      const made = await create(sasl());
      expect(made.errorCode).toBe(ErrorCode.NONE);
      const viaToken = sasl(userPrincipal('alice', made.tokenId));
      expect((await describeTokens(viaToken)).tokens).toEqual([]);
      expect((await renew(viaToken, made.hmac, -1)).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED);
      expect((await expire(sasl(), made.hmac, -1)).errorCode).toBe(ErrorCode.NONE);
    });
  });

  test('SSL with a client certificate principal may create tokens, as Kafka allows', async () => {
    const cert = userPrincipal('CN=client,O=test');
    const r = await create(connection('SSL', cert));
    expect(r).toMatchObject({ errorCode: ErrorCode.NONE, principalType: 'User', principalName: 'CN=client,O=test' });
    expect((await expire(connection('SSL', cert), r.hmac, -1)).errorCode).toBe(ErrorCode.NONE);
  });

  test('a SASL user creates, describes, renews and expires its token', async () => {
    const t0 = Date.now();
    const made = await create(sasl(), { renewers: [{ principalType: 'User', principalName: 'bob' }], maxLifetimeMs: 3_600_000 });
    const t1 = Date.now();
    expect(made).toMatchObject({
      errorCode: ErrorCode.NONE,
      principalType: 'User',
      principalName: 'alice',
      tokenRequesterPrincipalType: 'User',
      tokenRequesterPrincipalName: 'alice',
      throttleTimeMs: 0,
    });
    expect(made.issueTimestampMs).toBeGreaterThanOrEqual(t0);
    expect(made.issueTimestampMs).toBeLessThanOrEqual(t1);
    expect(made.maxTimestampMs).toBe(made.issueTimestampMs + 3_600_000);
    expect(made.expiryTimestampMs).toBe(made.maxTimestampMs);
    expect(Buffer.compare(made.hmac, crypto.createHmac('sha512', SECRET).update(made.tokenId).digest())).toBe(0);
    expect(broker.security.tokens.scramCredentialForToken(made.tokenId, 'SCRAM-SHA-512')!.owner).toEqual(alice);

    const listed = await describeTokens(sasl(), [{ principalType: 'User', principalName: 'alice' }]);
    expect(listed.errorCode).toBe(ErrorCode.NONE);
    const mine = listed.tokens.find((t: any) => t.tokenId === made.tokenId);
    expect(mine).toMatchObject({
      principalType: 'User',
      principalName: 'alice',
      tokenRequesterPrincipalType: 'User',
      tokenRequesterPrincipalName: 'alice',
      issueTimestamp: made.issueTimestampMs,
      expiryTimestamp: made.expiryTimestampMs,
      maxTimestamp: made.maxTimestampMs,
      renewers: [{ principalType: 'User', principalName: 'bob' }],
    });
    expect(Buffer.compare(mine.hmac, made.hmac)).toBe(0);

    const renewed = await renew(sasl(bob), made.hmac, 60_000);
    expect(renewed.errorCode).toBe(ErrorCode.NONE);
    expect(renewed.expiryTimestampMs).toBeGreaterThanOrEqual(t1 + 60_000);
    expect(renewed.expiryTimestampMs).toBeLessThanOrEqual(Date.now() + 60_000);
    expect((await renew(sasl(userPrincipal('mallory')), made.hmac, 60_000)).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_OWNER_MISMATCH);
    expect((await renew(sasl(), crypto.randomBytes(64), 60_000)).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_NOT_FOUND);

    expect(await expire(sasl(), made.hmac, -1)).toEqual({ errorCode: ErrorCode.NONE, expiryTimestampMs: -1, throttleTimeMs: 0 });
    expect((await describeTokens(sasl())).tokens.map((t: any) => t.tokenId)).not.toContain(made.tokenId);
    expect(broker.security.tokens.scramCredentialForToken(made.tokenId, 'SCRAM-SHA-512')).toBeNull();
    expect((await expire(sasl(), made.hmac, -1)).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_NOT_FOUND);
  });

  test('v3 creates a token for another owner; the owner may renew it, the requester may not', async () => {
    const made = await create(sasl(userPrincipal('svc')), { ownerPrincipalType: 'User', ownerPrincipalName: 'bob' });
    expect(made).toMatchObject({ errorCode: ErrorCode.NONE, principalName: 'bob', tokenRequesterPrincipalName: 'svc' });
    expect((await renew(sasl(userPrincipal('svc')), made.hmac, -1)).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_OWNER_MISMATCH);
    expect((await renew(sasl(bob), made.hmac, -1)).errorCode).toBe(ErrorCode.NONE);
    const bySvc = await describeTokens(sasl(userPrincipal('svc')), [{ principalType: 'User', principalName: 'svc' }]);
    expect(bySvc.tokens.map((t: any) => t.tokenId)).toEqual([made.tokenId]);
    expect((await expire(sasl(bob), made.hmac, -1)).errorCode).toBe(ErrorCode.NONE);
  });

  test('before v3 the owner is always the caller', async () => {
    const made = await create(sasl(), {}, 1);
    expect(made).toMatchObject({ errorCode: ErrorCode.NONE, principalName: 'alice' });
    const wire = roundTrip(38, 1, made);
    expect(wire).toMatchObject({ errorCode: 0, principalType: 'User', principalName: 'alice', tokenId: made.tokenId, expiryTimestampMs: made.expiryTimestampMs });
    expect(Buffer.compare(wire.hmac, made.hmac)).toBe(0);
    expect((await expire(sasl(), made.hmac, -1)).errorCode).toBe(ErrorCode.NONE);
  });

  test('renewers must be users; an owner needs a type', async () => {
    expect((await create(sasl(), { renewers: [{ principalType: 'Group', principalName: 'ops' }] })).errorCode).toBe(ErrorCode.INVALID_PRINCIPAL_TYPE);
    expect((await create(sasl(), { ownerPrincipalType: null, ownerPrincipalName: 'bob' })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  test('an empty owners list describes nothing', async () => {
    const made = await create(sasl());
    expect(await describeTokens(sasl(), [])).toEqual({ errorCode: ErrorCode.NONE, tokens: [], throttleTimeMs: 0 });
    expect((await describeTokens(sasl(), null)).tokens.length).toBeGreaterThan(0);
    await expire(sasl(), made.hmac, -1);
  });

  test('responses encode at every version', async () => {
    const made = await create(sasl(), { renewers: [{ principalType: 'User', principalName: 'bob' }] });
    for (let v = 0; v <= 3; v++) expect(roundTrip(38, v, made).tokenId).toBe(made.tokenId);
    const listed = await describeTokens(sasl(), [{ principalType: 'User', principalName: 'alice' }]);
    for (let v = 0; v <= 3; v++) {
      const wire = roundTrip(41, v, listed);
      const t = wire.tokens.find((x: any) => x.tokenId === made.tokenId);
      expect(t.renewers).toEqual([{ principalType: 'User', principalName: 'bob' }]);
      expect(t.tokenRequesterPrincipalName).toBe(v >= 3 ? 'alice' : '');
    }
    const renewed = await renew(sasl(), made.hmac, -1);
    for (let v = 0; v <= 2; v++) expect(roundTrip(39, v, renewed)).toEqual(renewed);
    const expired = await expire(sasl(), made.hmac, -1);
    for (let v = 0; v <= 2; v++) expect(roundTrip(40, v, expired)).toEqual(expired);
  });

  test('DescribeConfigs never returns the secret key', () => {
    const r = describeResource(broker.cluster, broker.node.id, 4, String(broker.node.id), ['delegation.token.secret.key', 'delegation.token.max.lifetime.ms']);
    const byName = Object.fromEntries(r.configs.map((c) => [c.name, c]));
    expect(byName['delegation.token.secret.key']).toMatchObject({ value: null, isSensitive: true, synonyms: [{ name: 'delegation.token.secret.key', source: 4, value: null }] });
    expect(byName['delegation.token.max.lifetime.ms']).toMatchObject({ value: '604800000', isSensitive: false });
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  test('a broker without the secret key answers DELEGATION_TOKEN_AUTH_DISABLED', async () => {
    const otherDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-token-handlers-off-'));
    const plain = await startBroker({ port: 0, host: '127.0.0.1', dataDir: otherDir, logger: quiet });
    try {
      const c = (k: number, v: number): RequestContext => ({ header: { apiKey: k, apiVersion: v, correlationId: 1, clientId: null }, requestBytes: 0, cluster: plain.cluster, node: plain.node, connection: sasl() });
      const made: any = await createDelegationTokenHandler.handle(c(38, 3), { ownerPrincipalType: null, ownerPrincipalName: null, renewers: [], maxLifetimeMs: -1 });
      expect(made).toMatchObject({ errorCode: ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED, principalName: 'alice', tokenId: '', issueTimestampMs: -1 });
      const hmac = crypto.randomBytes(64);
      expect(await renewDelegationTokenHandler.handle(c(39, 2), { hmac, renewPeriodMs: -1 })).toMatchObject({ errorCode: ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED, expiryTimestampMs: -1 });
      expect(await expireDelegationTokenHandler.handle(c(40, 2), { hmac, expiryTimePeriodMs: -1 })).toMatchObject({ errorCode: ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED, expiryTimestampMs: -1 });
      expect(await describeDelegationTokenHandler.handle(c(41, 3), { owners: null })).toEqual({ errorCode: ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED, tokens: [], throttleTimeMs: 0 });
    } finally {
      await plain.close();
      fs.rmSync(otherDir, { recursive: true, force: true });
    }
  });
});
