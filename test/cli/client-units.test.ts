/**
 * Pieces of the client and CLI that need no broker: the key hash against kafkajs's
 * Java-compatible one, client.properties and JAAS parsing, connection settings precedence,
 * record batch encode/decode round trip, and kcat-style templates.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { connectionOptions, jaasCredentials, parseClientProperties } from '../../src/cli/common';
import { templateFormatter } from '../../src/cli/consume';
import { murmur2 } from '../../src/client/producer';
import { decodeBatches, encodeBatch } from '../../src/client/records';

const kafkajsMurmur2: (key: Buffer) => number = require('kafkajs/src/producer/partitioners/default/murmur2');

test('murmur2 matches kafkajs (Java-compatible) for keys of every length mod 4', () => {
  for (let i = 0; i < 500; i++) {
    const key = crypto.randomBytes(i % 37);
    expect(murmur2(key)).toBe(kafkajsMurmur2(key));
  }
});

test('client.properties: continuations, JAAS credentials, and flags over the file', () => {
  const props = parseClientProperties('# comment\nsecurity.protocol = SASL_SSL\nsasl.mechanism:SCRAM-SHA-512\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n   username="al\\"ice" password="p=w;d";\n');
  expect(props['security.protocol']).toBe('SASL_SSL');
  expect(props['sasl.mechanism']).toBe('SCRAM-SHA-512');
  expect(jaasCredentials(props['sasl.jaas.config'])).toEqual({ username: 'al"ice', password: 'p=w;d' });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-props-'));
  const file = path.join(dir, 'client.properties');
  fs.writeFileSync(path.join(dir, 'ca.pem'), 'PEM');
  fs.writeFileSync(file, `security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=x required username="u" password="p";\nssl.ca.location=${path.join(dir, 'ca.pem')}\n`);
  const fromFile = connectionOptions({ 'bootstrap-server': 'x:1', 'command-config': file });
  expect(fromFile.sasl).toEqual({ mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' });
  expect(fromFile.tls?.ca?.toString()).toBe('PEM');
  const overridden = connectionOptions({ 'bootstrap-server': 'x:1', 'command-config': file, 'sasl-mechanism': 'PLAIN', 'sasl-password': 'other' });
  expect(overridden.sasl).toEqual({ mechanism: 'PLAIN', username: 'u', password: 'other' });
  expect(connectionOptions({ 'bootstrap-server': 'x:1' })).toMatchObject({ tls: null, sasl: null });
  expect(() => connectionOptions({ 'bootstrap-server': 'x:1', 'sasl-mechanism': 'SCRAM-SHA-256' })).toThrow(/needs a user name and password/);
});

test('a batch encoded with every codec decodes to the same records, from any offset inside it', async () => {
  const records = Array.from({ length: 20 }, (_, i) => ({
    key: i % 3 === 0 ? null : Buffer.from(`k${i}`),
    value: i === 5 ? null : Buffer.from(`value-${i}-${'z'.repeat(i * 10)}`),
    headers: i % 2 ? [{ key: 'h', value: Buffer.from(String(i)) }, { key: 'n', value: null }] : [],
    timestamp: 1_700_000_000_000 + i,
  }));
  for (let codec = 0; codec <= 4; codec++) {
    const batch = await encodeBatch(records, codec);
    // The broker assigns offsets; put this batch at 100.
    batch.writeInt32BE(0, 0);
    batch.writeInt32BE(100, 4);
    const { records: out, nextOffset } = await decodeBatches(Buffer.concat([batch, batch.subarray(0, 30)]), 107);
    expect(nextOffset).toBe(120);
    expect(out.map((r) => r.offset)).toEqual(Array.from({ length: 13 }, (_, i) => 107 + i));
    for (const r of out) {
      const want = records[r.offset - 100];
      expect([r.key, r.value, r.timestamp]).toEqual([want.key, want.value, want.timestamp]);
      expect(r.headers).toEqual(want.headers);
    }
  }
});

test('--format templates', () => {
  const f = templateFormatter('%t|%p|%o|%k|%s|%K|%S|%T|%h|%%\\t\\n');
  const rec = { offset: 7, timestamp: 42, timestampType: 0, key: null, value: Buffer.from('v'), headers: [{ key: 'a', value: Buffer.from('1') }] };
  expect(f('t', 2, rec)).toBe('t|2|7||v|-1|1|42|a=1|%\t\n');
});
