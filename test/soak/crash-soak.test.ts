/**
 * The crash soak's short form (bench/soak/soak.ts; the long one is `npm run soak -- --kills 20`):
 * kafkajs and librdkafka idempotent and transactional producers and group consumers run while
 * a real broker process is killed with SIGKILL three times and restarted on the same data dir
 * and port; then every acknowledged record must be in the log once at its acknowledged offset,
 * transactions all-or-nothing to a read_committed reader, committed offsets never backwards,
 * and the data dir consistent for the offline checker, which is itself shown to catch damage.
 * The same again in power-loss mode (log.flush.interval.messages=1, unsynced bytes dropped).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import { runSoak } from '../../bench/soak/soak';
import { checkDataDir } from '../../bench/soak/check-data-dir';
import { startBrokerProcess, tempDataDir } from '../helpers/broker-process';

function hasConfluentKafka(): boolean {
  try {
    execFileSync(process.env.SAMSA_PYTHON ?? '/usr/bin/python3', ['-c', 'import confluent_kafka'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const librdkafka = hasConfluentKafka();
if (!librdkafka && process.env.SAMSA_REQUIRE_CLIENTS === '1') throw new Error('confluent_kafka for /usr/bin/python3 is required (SAMSA_REQUIRE_CLIENTS=1)');

test('crash soak, short form: 3 SIGKILLs under idempotent and transactional producers and group consumers', async () => {
  if (!librdkafka) console.warn('crash soak: confluent_kafka not installed, running the kafkajs clients only');
  const report = await runSoak({ kills: 3, minUpMs: 1500, maxUpMs: 3000, librdkafka, log: () => undefined });
  expect(report.failures).toEqual([]);
  expect(report.rounds).toBe(3);
  for (const p of report.producers) expect(p.acknowledged).toBeGreaterThan(0);
  for (const t of report.transactions) expect(t.committed + t.aborted).toBeGreaterThan(0);
  for (const c of report.consumers) expect(c.commits).toBeGreaterThan(0);
}, 240_000);

test('crash soak, power-loss mode: fsync on every append, files cut to their fsynced length after each of 3 SIGKILLs', async () => {
  const report = await runSoak({ kills: 3, minUpMs: 1500, maxUpMs: 3000, librdkafka, powerLoss: true, log: () => undefined });
  expect(report.failures).toEqual([]);
  for (const p of report.producers) expect(p.acknowledged).toBeGreaterThan(0);
}, 240_000);

test('the data dir checker finds a bad CRC, a wrong index entry, a missing txnindex entry and a damaged snapshot', async () => {
  const dataDir = tempDataDir();
  const broker = await startBrokerProcess({ dataDir });
  const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'chk', numPartitions: 1, configEntries: [{ name: 'index.interval.bytes', value: '1' }] }] });
  await admin.disconnect();
  const producer = kafka.producer({ transactionalId: 'chk-txn', idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < 3; i++) {
    const txn = await producer.transaction();
    await txn.send({ topic: 'chk', messages: [{ value: `v${i}` }, { value: `w${i}` }] });
    await (i === 1 ? txn.abort() : txn.commit());
  }
  await producer.disconnect();
  await broker.stop();

  const clean = await checkDataDir(dataDir, { cleanShutdown: true });
  expect(clean.errors).toEqual([]);
  const part = clean.partitions.find((p) => p.topic === 'chk')!;
  expect(part.records.map((r) => `${r.value}:${r.txn}`)).toEqual(['v0:committed', 'w0:committed', 'v1:aborted', 'w1:aborted', 'v2:committed', 'w2:committed']);

  const dir = path.join(dataDir, 'chk-0');
  const base = '00000000000000000000';
  const log = fs.readFileSync(path.join(dir, `${base}.log`));
  log[log.length - 1] ^= 0xff; // last byte of the last batch: its CRC no longer matches
  fs.writeFileSync(path.join(dir, `${base}.log`), log);
  const index = fs.readFileSync(path.join(dir, `${base}.index`));
  expect(index.length).toBeGreaterThanOrEqual(16);
  index.writeInt32BE(index.readInt32BE(8) + 1, 8); // second entry names the wrong offset
  fs.writeFileSync(path.join(dir, `${base}.index`), index);
  fs.rmSync(path.join(dir, `${base}.txnindex`));
  const snapshots = fs.readdirSync(dir).filter((n) => n.endsWith('.snapshot'));
  expect(snapshots.length).toBeGreaterThan(0);
  fs.appendFileSync(path.join(dir, snapshots[0]), 'x');
  const damaged = await checkDataDir(dataDir, { cleanShutdown: true });
  const text = damaged.errors.join('\n');
  expect(text).toMatch(/CRC mismatch/);
  expect(text).toMatch(/index 0: entry 1 says offset/);
  expect(text).toMatch(/ABORT marker at \d+ .* has no txnindex entry/);
  expect(text).toMatch(/snapshot \d+: damaged/);
  fs.rmSync(dataDir, { recursive: true, force: true });
});
