/**
 * The samsa client over TLS and SASL listeners (flags and a Kafka client.properties file),
 * SCRAM users made by `samsa users` and used for a login by kcat, and ACLs made by
 * `samsa acls` enforced on another user.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { kcat, run, samsa, samsaOk } from '../helpers/cli-process';

const ARGS = [
  '--tls-dev',
  '--override',
  'listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0',
  '--override',
  'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
  '--override',
  'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-pw" user_alice="alice-pw";',
  '--override',
  'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  '--override',
  'super.users=User:admin;User:ANONYMOUS',
];

let broker: BrokerProcess;
let dir: string;

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ARGS });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-cli-sec-'));
});

afterAll(async () => {
  await broker?.stop();
});

const at = (listener: string) => ['-b', `127.0.0.1:${broker.listenerPorts[listener]}`];
const admin = (listener = 'SASL_PLAINTEXT') => [...at(listener), '--sasl-mechanism', 'PLAIN', '--sasl-username', 'admin', '--sasl-password', 'admin-pw'];

test('TLS with --tls-ca, and SASL_SSL from a client.properties file', async () => {
  await samsaOk(['topics', 'create', 'secure', '--partitions', '1', ...at('SSL'), '--tls-ca', broker.devCaFile!]);
  const props = path.join(dir, 'client.properties');
  fs.writeFileSync(
    props,
    [
      'security.protocol=SASL_SSL',
      'sasl.mechanism=PLAIN',
      'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\',
      '  username="admin" password="admin-pw";',
      `ssl.truststore.location=${broker.devCaFile}`,
      'ssl.truststore.type=PEM',
      '',
    ].join('\n'),
  );
  await samsaOk(['produce', 'secure', ...at('SASL_SSL'), '--command-config', props], { input: 'over tls\n' });
  expect(await samsaOk(['consume', 'secure', '-o', 'beginning', '-e', ...at('SSL'), '--tls-ca', broker.devCaFile!])).toBe('over tls\n');

  // Without the CA the certificate is refused: one line, exit 1.
  const untrusted = await samsa(['topics', 'list', ...at('SSL'), '--tls']);
  expect(untrusted.code).toBe(1);
  expect(untrusted.stderr).toMatch(/^samsa: error: cannot reach 127\.0\.0\.1:\d+: .*certificate.*\n$/);
});

test('samsa users add makes a SCRAM login kcat and samsa can use; wrong passwords fail with the Kafka code', async () => {
  await samsaOk(['users', 'add', 'carol', '--password', 'carol-pw', '--mechanism', 'SCRAM-SHA-512', ...admin()]);
  await samsaOk(['users', 'add', 'carol', '--password', 'carol-pw', '--iterations', '4096', ...admin()]);
  const users = JSON.parse(await samsaOk(['users', 'list', '--json', ...admin()]));
  expect(users.find((u: any) => u.user === 'carol').credentials).toEqual(
    expect.arrayContaining([{ mechanism: 'SCRAM-SHA-512', iterations: 8192 }, { mechanism: 'SCRAM-SHA-256', iterations: 4096 }]),
  );
  const kcatScram = ['-b', `127.0.0.1:${broker.listenerPorts.SASL_PLAINTEXT}`, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanism=SCRAM-SHA-512', '-X', 'sasl.username=carol', '-X', 'sasl.password=carol-pw'];
  const md = JSON.parse(await kcat([...kcatScram, '-L', '-J']));
  expect(md.brokers).toHaveLength(1);
  for (const mech of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
    const r = await samsa(['cluster', '--json', ...at('SASL_PLAINTEXT'), '--sasl-mechanism', mech, '--sasl-username', 'carol', '--sasl-password', 'carol-pw']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).brokers).toHaveLength(1);
  }
  const wrong = await samsa(['topics', 'list', ...at('SASL_PLAINTEXT'), '--sasl-mechanism', 'SCRAM-SHA-256', '--sasl-username', 'carol', '--sasl-password', 'nope']);
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toMatch(/^samsa: error: SASL authentication failed: SASL_AUTHENTICATION_FAILED \(58\).*; check --sasl-username.*\n$/);

  await samsaOk(['users', 'remove', 'carol', '--mechanism', 'SCRAM-SHA-512', ...admin()]);
  const gone = await run('kcat', [...kcatScram, '-L', '-m', '3']);
  expect(gone.code).not.toBe(0);
});

test('samsa acls add/list/remove, enforced on a PLAIN user', async () => {
  await samsaOk(['topics', 'create', 'guarded', '--partitions', '1', ...admin()]);
  await samsaOk(['produce', 'guarded', ...admin()], { input: 'secret\n' });
  const alice = [...at('SASL_PLAINTEXT'), '--sasl-username', 'alice', '--sasl-password', 'alice-pw'];
  const denied = await samsa(['consume', 'guarded', '-o', 'beginning', '-e', ...alice]);
  expect(denied.code).toBe(1);
  expect(denied.stderr).toMatch(/TOPIC_AUTHORIZATION_FAILED \(29\)|UNKNOWN_TOPIC_OR_PARTITION \(3\)/);

  expect(await samsaOk(['acls', 'add', '--allow-principal', 'User:alice', '--operation', 'read', '--operation', 'describe', '--topic', 'guarded', ...admin()])).toBe('Added 2 ACL(s).\n');
  const listed = JSON.parse(await samsaOk(['acls', 'list', '--topic', 'guarded', '--json', ...admin()]));
  expect(listed.map((a: any) => `${a.principal} ${a.operation} ${a.permission} ${a.patternType}`).sort()).toEqual(['User:alice describe allow literal', 'User:alice read allow literal']);
  expect(await samsaOk(['consume', 'guarded', '-o', 'beginning', '-e', ...alice])).toBe('secret\n');

  expect(await samsaOk(['acls', 'remove', '--allow-principal', 'User:alice', '--topic', 'guarded', ...admin()])).toBe('Removed 2 ACL(s).\n');
  expect(JSON.parse(await samsaOk(['acls', 'list', '--topic', 'guarded', '--json', ...admin()]))).toEqual([]);
  expect((await samsa(['consume', 'guarded', '-o', 'beginning', '-e', ...alice])).code).toBe(1);
});
