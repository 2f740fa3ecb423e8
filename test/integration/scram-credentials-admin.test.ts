/**
 * DescribeUserScramCredentials / AlterUserScramCredentials against a real broker process:
 * Kafka's error codes and messages, and credentials surviving a restart without the
 * salted password ever reaching the data directory.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { BrokerProcess, startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { ErrorCode } from '../../src/protocol/errors';
import { createLogger } from '../../src/logging';
import {
  ScramCredentialStore,
  ScramMechanism,
  scramCredentialFromSaltedPassword,
  scramSaltedPassword,
} from '../../src/security/scram-credentials';

const DESCRIBE = 50;
const ALTER = 51;
const SHA256 = 1;
const SHA512 = 2;

interface Upsertion {
  name: string;
  mechanism: number;
  iterations: number;
  salt: Buffer;
  saltedPassword: Buffer;
}

/** What an admin client sends: it salts the password itself. */
function upsertion(name: string, mechanism: number, password: string, iterations = 4096): Upsertion {
  const mech: ScramMechanism = mechanism === SHA512 ? 'SCRAM-SHA-512' : 'SCRAM-SHA-256';
  const salt = crypto.randomBytes(24);
  return { name, mechanism, iterations, salt, saltedPassword: scramSaltedPassword(mech, password, salt, iterations) };
}

function byUser(results: { user: string }[]): Record<string, any> {
  return Object.fromEntries(results.map((r) => [r.user, r]));
}

describe('SCRAM credential administration through a real broker', () => {
  const dataDir = tempDataDir();
  let broker: BrokerProcess;
  let raw: RawClient;
  const aliceUpsert = upsertion('alice', SHA256, 'alice-secret');

  async function start(): Promise<void> {
    broker = await startBrokerProcess({ dataDir });
    raw = await RawClient.connect(broker.port);
  }

  async function describe(users: string[] | null) {
    const res = await raw.request(DESCRIBE, 0, { users: users === null ? null : users.map((name) => ({ name })) });
    expect(res.body.errorCode).toBe(ErrorCode.NONE);
    return res.body;
  }

  async function alter(deletions: { name: string; mechanism: number }[], upsertions: Upsertion[]) {
    const res = await raw.request(ALTER, 0, { deletions, upsertions });
    return byUser(res.body.results);
  }

  beforeAll(start);
  afterAll(async () => {
    raw?.close();
    await broker?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('no credentials at first', async () => {
    expect((await describe(null)).results).toEqual([]);
    expect((await describe([])).results).toEqual([]);
  });

  test('upserts, then describe all and by name', async () => {
    const r = await alter([], [aliceUpsert, upsertion('bob', SHA512, 'bob-secret', 8192)]);
    expect(r.alice).toEqual({ user: 'alice', errorCode: ErrorCode.NONE, errorMessage: null });
    expect(r.bob.errorCode).toBe(ErrorCode.NONE);
    expect(Object.keys(r).sort()).toEqual(['alice', 'bob']);

    const all = byUser((await describe(null)).results);
    expect(all.alice).toEqual({ user: 'alice', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: SHA256, iterations: 4096 }] });
    expect(all.bob.credentialInfos).toEqual([{ mechanism: SHA512, iterations: 8192 }]);

    const named = byUser((await describe(['bob', 'nobody', 'alice', 'alice'])).results);
    expect(Object.keys(named).sort()).toEqual(['alice', 'bob', 'nobody']);
    expect(named.bob.credentialInfos).toEqual([{ mechanism: SHA512, iterations: 8192 }]);
    expect(named.nobody).toEqual({
      user: 'nobody',
      errorCode: ErrorCode.RESOURCE_NOT_FOUND,
      errorMessage: 'Attempt to describe a user credential that does not exist: nobody',
      credentialInfos: [],
    });
    expect(named.alice).toMatchObject({
      errorCode: ErrorCode.DUPLICATE_RESOURCE,
      errorMessage: 'Cannot describe SCRAM credentials for the same user twice in a single request: alice',
      credentialInfos: [],
    });
  });

  test('invalid alterations get Kafka codes and change nothing', async () => {
    const r = await alter(
      [
        { name: 'carol', mechanism: SHA256 },
        { name: 'dave', mechanism: SHA256 },
        { name: 'bob', mechanism: SHA256 },
        { name: 'frank', mechanism: 0 },
      ],
      [
        upsertion('few', SHA256, 'p', 100),
        upsertion('many', SHA512, 'p', 16385),
        upsertion('', SHA256, 'p'),
        upsertion('weird', 3, 'p'),
        upsertion('dave', SHA256, 'p'),
        upsertion('erin', SHA256, 'p'),
        upsertion('erin', SHA512, 'p'),
        { ...upsertion('nosalt', SHA256, 'p'), salt: Buffer.alloc(0) },
      ],
    );
    const code = (u: string) => [r[u].errorCode, r[u].errorMessage];
    expect(code('carol')).toEqual([ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist']);
    expect(code('bob')).toEqual([ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist']);
    expect(code('frank')).toEqual([ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism']);
    expect(code('few')).toEqual([ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations']);
    expect(code('many')).toEqual([ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too many iterations']);
    expect(code('')).toEqual([ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty']);
    expect(code('weird')).toEqual([ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism']);
    // dave: deletion of a missing credential fails first, so the upsertion is not looked at.
    expect(code('dave')).toEqual([ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist']);
    expect(code('erin')).toEqual([ErrorCode.DUPLICATE_RESOURCE, 'A user credential cannot be altered twice in the same request']);
    expect(code('nosalt')[0]).toBe(ErrorCode.UNACCEPTABLE_CREDENTIAL);
    expect(Object.keys(r)).toHaveLength(10);

    expect((await describe(null)).results.map((x: { user: string }) => x.user).sort()).toEqual(['alice', 'bob']);
  });

  test('a user both deleted and upserted is DUPLICATE_RESOURCE and keeps its credential', async () => {
    const r = await alter([{ name: 'bob', mechanism: SHA512 }], [upsertion('bob', SHA256, 'p')]);
    expect(r.bob).toEqual({ user: 'bob', errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: 'A user credential cannot be altered twice in the same request' });
    expect(byUser((await describe(['bob'])).results).bob.credentialInfos).toEqual([{ mechanism: SHA512, iterations: 8192 }]);
  });

  test('delete, then credentials survive a restart and the data directory holds no salted password', async () => {
    expect((await alter([{ name: 'bob', mechanism: SHA512 }], [])).bob.errorCode).toBe(ErrorCode.NONE);
    raw.close();
    await broker.stop();

    const file = path.join(dataDir, 'scram-credentials.json');
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain(aliceUpsert.saltedPassword.toString('base64'));
    expect(text).not.toContain('alice-secret');
    const stored = new ScramCredentialStore(dataDir, createLogger('silent')).get('alice', 'SCRAM-SHA-256');
    expect(stored).toEqual(scramCredentialFromSaltedPassword('SCRAM-SHA-256', aliceUpsert.saltedPassword, aliceUpsert.salt, 4096));

    await start();
    const all = (await describe(null)).results;
    expect(all).toEqual([{ user: 'alice', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: SHA256, iterations: 4096 }] }]);
    expect(broker.stderr()).not.toContain(aliceUpsert.saltedPassword.toString('base64'));
  });
});
