/**
 * Listeners, TLS and SASL against a real broker process with kafkajs: SSL with the --tls-dev
 * CA, SASL PLAIN / SCRAM-SHA-256 / SCRAM-SHA-512 on SASL_PLAINTEXT and SASL_SSL, SCRAM users
 * created and deleted at run time, delegation tokens, KIP-368 re-authentication, and bad
 * input (requests before authentication, malformed SCRAM, TLS garbage) that must fail
 * cleanly while other clients keep being served.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { Kafka, logLevel, SASLOptions } from 'kafkajs';
import { BrokerProcess, startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { testPki, WrittenPki, writeTestPki } from '../helpers/certs';
import { RawClient } from '../helpers/raw-client';
import { authenticate, handshake, plainLogin, saltedPassword, scramLogin } from '../helpers/sasl-client';

const METADATA = 3;
const API_VERSIONS = 18;
const ALTER_SCRAM = 51;
const CREATE_TOKEN = 38;
const SASL_AUTHENTICATION_FAILED = 58;
const UNSUPPORTED_SASL_MECHANISM = 33;
const ILLEGAL_SASL_STATE = 34;

const SECURE_ARGS = [
  '--tls-dev',
  '--override',
  'listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0',
  '--override',
  'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
  '--override',
  'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret" user_carol="carol-secret";',
  '--override',
  'delegation.token.secret.key=integration-test-secret',
  '--add-scram',
  'SCRAM-SHA-256=[name=alice,password=alice-secret]',
  '--add-scram',
  'SCRAM-SHA-512=[name=alice,password=alice-secret,iterations=8192]',
  '--log-level',
  'info',
];

function kafkaFor(port: number, opts: { ca?: Buffer; sasl?: SASLOptions; reauthenticationThreshold?: number } = {}): Kafka {
  return new Kafka({
    clientId: 'security-test',
    brokers: [`127.0.0.1:${port}`],
    ssl: opts.ca ? { ca: [opts.ca] } : undefined,
    sasl: opts.sasl,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 5000,
    ...(opts.reauthenticationThreshold !== undefined ? { reauthenticationThreshold: opts.reauthenticationThreshold } : {}),
  } as ConstructorParameters<typeof Kafka>[0]);
}

async function roundTrip(kafka: Kafka, topic: string, count = 20): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `${topic}-group` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed ${seen.length} of ${count}`)), 20000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(String(message.value));
        if (seen.length === count) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return seen;
}

const expected = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);

/** The broker's stderr is a pipe: a log line may trail the client's answer by a moment. */
async function expectLogged(broker: BrokerProcess, text: string): Promise<void> {
  for (let i = 0; i < 50 && !broker.stderr().includes(text); i++) await new Promise((r) => setTimeout(r, 100));
  expect(broker.stderr()).toContain(text);
}

describe('listeners, TLS and SASL', () => {
  let broker: BrokerProcess;
  let ca: Buffer;

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: SECURE_ARGS });
    expect(Object.keys(broker.listenerPorts).sort()).toEqual(['PLAINTEXT', 'SASL_PLAINTEXT', 'SASL_SSL', 'SSL']);
    expect(broker.devCaFile).not.toBeNull();
    ca = fs.readFileSync(broker.devCaFile as string);
  });

  afterAll(async () => {
    await broker?.stop();
  });

  test('Metadata advertises the listener the request came in on', async () => {
    for (const name of ['PLAINTEXT', 'SASL_PLAINTEXT']) {
      const c = await RawClient.connect(broker.listenerPorts[name]);
      if (name === 'SASL_PLAINTEXT') expect((await plainLogin(c, 'alice', 'alice-secret')).errorCode).toBe(0);
      const md = (await c.request(METADATA, 12, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })).body;
      expect(md.brokers).toEqual([expect.objectContaining({ host: '127.0.0.1', port: broker.listenerPorts[name] })]);
      c.close();
    }
  });

  test('SSL with the development CA', async () => {
    expect(await roundTrip(kafkaFor(broker.listenerPorts.SSL, { ca }), 'ssl-topic')).toEqual(expected(20));
  });

  test.each([
    ['plain', 'SASL_PLAINTEXT'],
    ['scram-sha-256', 'SASL_PLAINTEXT'],
    ['scram-sha-512', 'SASL_PLAINTEXT'],
    ['scram-sha-512', 'SASL_SSL'],
    ['plain', 'SASL_SSL'],
  ])('%s over %s', async (mechanism, listener) => {
    const sasl = { mechanism, username: 'alice', password: 'alice-secret' } as SASLOptions;
    const kafka = kafkaFor(broker.listenerPorts[listener], { sasl, ca: listener === 'SASL_SSL' ? ca : undefined });
    const topic = `sasl-${mechanism}-${listener}`.toLowerCase();
    expect(await roundTrip(kafka, topic)).toEqual(expected(20));
    await expectLogged(broker, '"principal":"User:alice"');
  });

  test('OAUTHBEARER with an unsecured token names its subject; an expired token is refused', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const token = (expSeconds: number) => `${b64({ alg: 'none' })}.${b64({ sub: 'dave', iat: Math.floor(Date.now() / 1000), exp: expSeconds })}.`;
    const valid = Math.floor(Date.now() / 1000) + 3600;
    const kafka = kafkaFor(broker.listenerPorts.SASL_SSL, {
      ca,
      sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token(valid) }) },
    });
    expect(await roundTrip(kafka, 'oauth-topic', 5)).toEqual(expected(5));
    await expectLogged(broker, '"principal":"User:dave"');
    const expired = kafkaFor(broker.listenerPorts.SASL_PLAINTEXT, {
      sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token(Math.floor(Date.now() / 1000) - 600) }) },
    }).admin();
    // RFC 7628: the refusal is an error challenge, not an error code; kafkajs takes it for
    // success and its next request finds the connection closed, as it would with Kafka.
    await expect(expired.connect().then(() => expired.listTopics())).rejects.toThrow();
    await expired.disconnect();
    // The broker's log line may trail the client's error by a moment (stderr is a pipe).
    const refusal = /SASL authentication failed|unexpected request \(API key 3\) during SASL authentication/;
    for (let i = 0; i < 50 && !refusal.test(broker.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(broker.stderr()).toMatch(refusal);
  });

  test.each(['plain', 'scram-sha-256', 'scram-sha-512'])('a wrong %s password is refused with the authentication error', async (mechanism) => {
    const kafka = kafkaFor(broker.listenerPorts.SASL_PLAINTEXT, { sasl: { mechanism, username: 'alice', password: 'wrong' } as SASLOptions });
    const admin = kafka.admin();
    await expect(admin.connect()).rejects.toThrow(/SASL|[Aa]uthentication/);
    await admin.disconnect();
    expect(broker.stderr()).not.toContain('"wrong"');
  });

  test('nothing but ApiVersions and SaslHandshake is answered before authentication', async () => {
    const c = await RawClient.connect(broker.listenerPorts.SASL_PLAINTEXT);
    const versions = (await c.request(API_VERSIONS, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' })).body;
    expect(versions.errorCode).toBe(0);
    const answer = c.nextFrame();
    c.writeRaw(c.encodeRequest(METADATA, 12, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }));
    const outcome = await Promise.race([answer.then(() => 'answered'), c.closed.then(() => 'closed')]);
    expect(outcome).toBe('closed');
  });

  test('an unsupported mechanism lists the enabled ones, then the connection closes', async () => {
    const c = await RawClient.connect(broker.listenerPorts.SASL_PLAINTEXT);
    const h = await handshake(c, 'GSSAPI');
    expect(h.errorCode).toBe(UNSUPPORTED_SASL_MECHANISM);
    expect(h.mechanisms).toEqual(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']);
    await c.closed;
  });

  test('SaslHandshake on a PLAINTEXT listener is ILLEGAL_SASL_STATE', async () => {
    const c = await RawClient.connect(broker.port);
    expect((await handshake(c, 'PLAIN')).errorCode).toBe(ILLEGAL_SASL_STATE);
    c.close();
  });

  test.each([
    ['client-first without a gs2 header', 'n=alice,r=abc'],
    ['client-first with bad attributes', 'n,,x=1'],
    ['client-first that is empty', ''],
  ])('malformed SCRAM: %s', async (_what, message) => {
    const c = await RawClient.connect(broker.listenerPorts.SASL_PLAINTEXT);
    expect((await handshake(c, 'SCRAM-SHA-256')).errorCode).toBe(0);
    const a = await authenticate(c, Buffer.from(message));
    expect(a.errorCode).toBe(SASL_AUTHENTICATION_FAILED);
    expect(a.errorMessage).toBeTruthy();
    await c.closed;
  });

  test.each([
    ['a wrong nonce', (final: string) => final.replace(/r=[^,]+/, 'r=not-the-nonce')],
    ['a proof that is not base64', (final: string) => final.replace(/p=.*/, 'p=***not base64***')],
    ['no proof', (final: string) => final.replace(/,p=.*/, '')],
  ])('malformed SCRAM client-final: %s', async (_what, mangle) => {
    const c = await RawClient.connect(broker.listenerPorts.SASL_PLAINTEXT);
    expect((await handshake(c, 'SCRAM-SHA-256')).errorCode).toBe(0);
    const first = await authenticate(c, Buffer.from('n,,n=alice,r=clientnonce'));
    expect(first.errorCode).toBe(0);
    const serverNonce = /r=([^,]+)/.exec(first.authBytes.toString())![1];
    const a = await authenticate(c, Buffer.from(mangle(`c=biws,r=${serverNonce},p=${Buffer.alloc(32).toString('base64')}`)));
    expect(a.errorCode).toBe(SASL_AUTHENTICATION_FAILED);
    await c.closed;
  });

  test('SaslHandshake v0 then bare tokens (the pre-KIP-152 flow)', async () => {
    const c = await RawClient.connect(broker.listenerPorts.SASL_PLAINTEXT);
    expect((await handshake(c, 'PLAIN', 0)).errorCode).toBe(0);
    const token = Buffer.from('\0alice\0alice-secret');
    const size = Buffer.alloc(4);
    size.writeInt32BE(token.length);
    const reply = c.nextFrame();
    c.writeRaw(Buffer.concat([size, token]));
    expect((await reply).length).toBe(0);
    const md = (await c.request(METADATA, 1, { topics: [] })).body;
    expect(md.brokers[0].port).toBe(broker.listenerPorts.SASL_PLAINTEXT);
    c.close();
  });

  test('TLS garbage and plaintext on a TLS port end only that connection', async () => {
    const s = net.connect(broker.listenerPorts.SSL, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    // Fixed bytes: random ones that happen to look like an SSLv2 ClientHello header (high bit set,
    // third byte 1) make OpenSSL wait for the rest of a long record instead of failing.
    s.write(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: samsa\r\n\r\n'), Buffer.alloc(260, 0x41)]));
    await new Promise((r) => s.once('close', r));
    const s2 = await RawClient.connect(broker.listenerPorts.SASL_SSL);
    s2.writeRaw(s2.encodeRequest(API_VERSIONS, 0, {}));
    await s2.closed;
    // Still serving on TLS.
    const c = await RawClient.connectTls(broker.listenerPorts.SSL, { ca });
    expect((await c.request(API_VERSIONS, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' })).body.errorCode).toBe(0);
    c.close();
  });

  test('AlterUserScramCredentials adds a user who can then log in, and deleting them locks them out', async () => {
    const admin = await RawClient.connect(broker.port);
    const salt = crypto.randomBytes(16);
    const upsert = (await admin.request(ALTER_SCRAM, 0, {
      deletions: [],
      upsertions: [{ name: 'bob', mechanism: 1, iterations: 4096, salt, saltedPassword: saltedPassword('SCRAM-SHA-256', 'bob-secret', salt, 4096) }],
    })).body;
    expect(upsert.results).toEqual([expect.objectContaining({ user: 'bob', errorCode: 0 })]);
    const sasl = { mechanism: 'scram-sha-256', username: 'bob', password: 'bob-secret' } as SASLOptions;
    expect(await roundTrip(kafkaFor(broker.listenerPorts.SASL_PLAINTEXT, { sasl }), 'bob-topic', 5)).toEqual(expected(5));
    const del = (await admin.request(ALTER_SCRAM, 0, { deletions: [{ name: 'bob', mechanism: 1 }], upsertions: [] })).body;
    expect(del.results).toEqual([expect.objectContaining({ user: 'bob', errorCode: 0 })]);
    const again = kafkaFor(broker.listenerPorts.SASL_PLAINTEXT, { sasl }).admin();
    await expect(again.connect()).rejects.toThrow(/SASL|[Aa]uthentication/);
    await again.disconnect();
    admin.close();
  });

  test('a delegation token authenticates with SCRAM as its owner', async () => {
    const c = await RawClient.connect(broker.listenerPorts.SASL_PLAINTEXT);
    expect((await scramLogin(c, 'SCRAM-SHA-256', 'alice', 'alice-secret')).errorCode).toBe(0);
    const token = (await c.request(CREATE_TOKEN, 2, { renewers: [], maxLifetimeMs: -1 })).body;
    expect(token.errorCode).toBe(0);
    expect(token.principalName).toBe('alice');
    c.close();
    const t = await RawClient.connect(broker.listenerPorts.SASL_PLAINTEXT);
    const done = await scramLogin(t, 'SCRAM-SHA-512', token.tokenId, Buffer.from(token.hmac).toString('base64'), { tokenAuth: true });
    expect(done.errorCode).toBe(0);
    const md = (await t.request(METADATA, 1, { topics: [] })).body;
    expect(md.brokers.length).toBe(1);
    // A token cannot be used to create more tokens.
    const refused = (await t.request(CREATE_TOKEN, 2, { renewers: [], maxLifetimeMs: -1 })).body;
    expect(refused.errorCode).toBe(64);
    t.close();
    // The wrong HMAC fails.
    const w = await RawClient.connect(broker.listenerPorts.SASL_PLAINTEXT);
    expect((await scramLogin(w, 'SCRAM-SHA-512', token.tokenId, 'd3Jvbmc=', { tokenAuth: true })).errorCode).toBe(SASL_AUTHENTICATION_FAILED);
    w.close();
  });
});

describe('KIP-368 re-authentication', () => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    broker = await startBrokerProcess({
      args: [
        '--override',
        'listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
        '--override',
        'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256',
        '--override',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret" user_carol="carol-secret";',
        '--override',
        'connections.max.reauth.ms=2000',
        '--add-scram',
        'SCRAM-SHA-256=[name=alice,password=alice-secret]',
        '--log-level',
        'info',
      ],
    });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  test('SaslAuthenticate v1+ tells the session lifetime; a request after it without re-authentication closes the connection', async () => {
    const c = await RawClient.connect(broker.listenerPorts.SASL_PLAINTEXT);
    const a = await plainLogin(c, 'alice', 'alice-secret', 1);
    expect(a.errorCode).toBe(0);
    expect(a.sessionLifetimeMs).toBe(2000);
    expect((await c.request(METADATA, 1, { topics: [] })).body.brokers.length).toBe(1);
    await new Promise((r) => setTimeout(r, 2200));
    const answer = c.nextFrame();
    c.writeRaw(c.encodeRequest(METADATA, 1, { topics: [] }));
    expect(await Promise.race([answer.then(() => 'answered'), c.closed.then(() => 'closed')])).toBe('closed');
  });

  test('re-authenticating in place keeps the connection; another principal or mechanism is refused', async () => {
    const c = await RawClient.connect(broker.listenerPorts.SASL_PLAINTEXT);
    expect((await plainLogin(c, 'alice', 'alice-secret')).errorCode).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await plainLogin(c, 'alice', 'alice-secret')).sessionLifetimeMs).toBe(2000);
    await new Promise((r) => setTimeout(r, 1000));
    // 2.5 s after the first login, inside the second session.
    expect((await c.request(METADATA, 1, { topics: [] })).body.brokers.length).toBe(1);
    c.close();

    const other = await RawClient.connect(broker.listenerPorts.SASL_PLAINTEXT);
    expect((await plainLogin(other, 'alice', 'alice-secret')).errorCode).toBe(0);
    const changed = await plainLogin(other, 'carol', 'carol-secret');
    expect(changed.errorCode).toBe(SASL_AUTHENTICATION_FAILED);
    await other.closed;

    const mech = await RawClient.connect(broker.listenerPorts.SASL_PLAINTEXT);
    expect((await plainLogin(mech, 'alice', 'alice-secret')).errorCode).toBe(0);
    expect((await handshake(mech, 'SCRAM-SHA-256')).errorCode).not.toBe(0);
    await mech.closed;
  });

  test('kafkajs keeps one connection working across several session lifetimes', async () => {
    const kafka = kafkaFor(broker.listenerPorts.SASL_PLAINTEXT, {
      sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' },
      reauthenticationThreshold: 1000,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'reauth', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const count = (re: RegExp) => (broker.stderr().match(re) ?? []).length;
    const before = count(/SASL authentication succeeded/g);
    const expiredBefore = count(/SASL session expired/g);
    for (let i = 0; i < 12; i++) {
      await producer.send({ topic: 'reauth', messages: [{ value: `m${i}` }] });
      await new Promise((r) => setTimeout(r, 500));
    }
    await producer.disconnect();
    expect(count(/SASL authentication succeeded/g) - before).toBeGreaterThanOrEqual(3);
    expect(count(/SASL session expired/g)).toBe(expiredBefore);
  });
});

describe('mutual TLS', () => {
  let broker: BrokerProcess;
  let pki: WrittenPki;

  beforeAll(async () => {
    const dir = tempDataDir('samsa-mtls-');
    pki = writeTestPki(path.join(dir, 'pki'));
    const props = [
      'listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,MAPPED://127.0.0.1:0',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,MAPPED:SSL',
      // SSL: PKCS12 key store and trust store (listener-prefixed, so MAPPED does not inherit them).
      'listener.name.ssl.ssl.keystore.type=PKCS12',
      `listener.name.ssl.ssl.keystore.location=${pki.serverP12}`,
      `listener.name.ssl.ssl.keystore.password=${pki.storePassword}`,
      `listener.name.ssl.ssl.key.password=${pki.storePassword}`,
      'listener.name.ssl.ssl.truststore.type=PKCS12',
      `listener.name.ssl.ssl.truststore.location=${pki.truststoreP12}`,
      `listener.name.ssl.ssl.truststore.password=${pki.storePassword}`,
      'ssl.client.auth=required',
      // MAPPED: PEM stores and a principal mapping rule; ssl.client.auth is inherited.
      'listener.name.mapped.ssl.keystore.type=PEM',
      `listener.name.mapped.ssl.keystore.location=${pki.serverPemKeystore}`,
      'listener.name.mapped.ssl.truststore.type=PEM',
      `listener.name.mapped.ssl.truststore.location=${pki.caCert}`,
      'listener.name.mapped.ssl.principal.mapping.rules=RULE:^CN=([^,]*),OU=([^,]*),.*$/$1@$2/U,DEFAULT',
    ];
    const file = path.join(dir, 'server.properties');
    fs.writeFileSync(file, props.join('\n') + '\n');
    broker = await startBrokerProcess({ dataDir: path.join(dir, 'data'), args: ['--config', file, '--log-level', 'info'] });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  const clientSsl = (p: WrittenPki, other = false) => ({
    ca: [fs.readFileSync(p.caCert)],
    cert: other ? testPki().otherClient.cert : fs.readFileSync(p.clientCert, 'utf8'),
    key: other ? testPki().otherClient.key : fs.readFileSync(p.clientKey, 'utf8'),
  });

  test('a client certificate from the trusted CA produces and consumes; its subject is the principal', async () => {
    const kafka = new Kafka({ clientId: 'mtls', brokers: [`127.0.0.1:${broker.listenerPorts.SSL}`], ssl: clientSsl(pki), logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    expect(await roundTrip(kafka, 'mtls-topic', 10)).toEqual(expected(10));
    await expectLogged(broker, '"principal":"User:CN=alice,OU=eng,O=Samsa Test"');
  });

  test('ssl.principal.mapping.rules shape the principal per listener', async () => {
    const c = await RawClient.connectTls(broker.listenerPorts.MAPPED, clientSsl(pki));
    const md = (await c.request(METADATA, 1, { topics: [] })).body;
    expect(md.brokers[0].port).toBe(broker.listenerPorts.MAPPED);
    c.close();
    await expectLogged(broker, '"principal":"User:ALICE@ENG"');
  });

  test('no client certificate, or one from another CA, is refused; the broker keeps serving', async () => {
    // With TLS 1.3 the server's refusal arrives after the client's handshake completes.
    const bare = await RawClient.connectTls(broker.listenerPorts.SSL, { ca: [fs.readFileSync(pki.caCert)] }).catch(() => null);
    if (bare) {
      const outcome = await Promise.race([bare.request(API_VERSIONS, 0, {}).then(() => 'answered'), bare.closed.then(() => 'closed')]);
      expect(outcome).toBe('closed');
    }
    const other = new Kafka({ clientId: 'mallory', brokers: [`127.0.0.1:${broker.listenerPorts.SSL}`], ssl: clientSsl(pki, true), logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = other.admin();
    await expect(admin.connect()).rejects.toThrow();
    await admin.disconnect();
    const good = await RawClient.connectTls(broker.listenerPorts.SSL, clientSsl(pki));
    expect((await good.request(API_VERSIONS, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' })).body.errorCode).toBe(0);
    good.close();
  });
});
