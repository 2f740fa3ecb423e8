/**
 * kafkajs clients of the crash soak (see soak.ts), one role per process:
 *
 *   node kafkajs-client.js ROLE BOOTSTRAP TOPIC OUT_FILE NAME
 *
 * Same roles and output lines as librdkafka_client.py (idempotent, transactional, consumer).
 * Runs until SIGTERM, then finishes what is in flight and exits. While the broker is down
 * calls fail: the error is counted, the client backs off and goes on (a producer that keeps
 * failing is replaced by a new one, as an application would).
 */
import * as fs from 'fs';
import { Kafka, logLevel, Producer } from 'kafkajs';

const [role, bootstrap, topic, outFile, name] = process.argv.slice(2);
let stopping = false;
process.on('SIGTERM', () => (stopping = true));
const out = fs.openSync(outFile, 'a');
const emit = (obj: object): void => {
  fs.writeSync(out, JSON.stringify(obj) + '\n');
};
let errors = 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const kafka = new Kafka({
  clientId: `soak-${name}`,
  brokers: [bootstrap],
  logLevel: logLevel.NOTHING,
  retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 1000 },
  connectionTimeout: 3000,
  requestTimeout: 10000,
});

async function partitionsOf(): Promise<number[]> {
  for (;;) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      return md.topics[0].partitions.map((p) => p.partitionId).sort((a, b) => a - b);
    } catch {
      await sleep(500);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

async function connected(make: () => Producer): Promise<Producer> {
  for (;;) {
    const p = make();
    try {
      await p.connect();
      return p;
    } catch {
      errors++;
      await p.disconnect().catch(() => undefined);
      await sleep(500);
    }
  }
}

async function idempotent(): Promise<void> {
  const partitions = await partitionsOf();
  const make = (): Producer => kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  let producer = await connected(make);
  let n = 0;
  let failures = 0;
  while (!stopping) {
    const partition = partitions[n % partitions.length];
    const values = Array.from({ length: 10 }, (_, i) => `${name}/${n + i}`);
    n += values.length;
    try {
      const [res] = await producer.send({ topic, acks: -1, messages: values.map((value) => ({ partition, value })) });
      const base = Number(res.baseOffset);
      values.forEach((v, i) => emit({ v, p: partition, o: base + i }));
      failures = 0;
    } catch {
      errors++;
      if (++failures >= 3) {
        await producer.disconnect().catch(() => undefined);
        producer = await connected(make);
        failures = 0;
      } else {
        await sleep(300);
      }
    }
  }
  await producer.disconnect().catch(() => undefined);
  emit({ sent: n, errors });
}

async function transactional(): Promise<void> {
  const partitions = await partitionsOf();
  const make = (): Producer => kafka.producer({ transactionalId: `soak-${name}`, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 20000 });
  let producer = await connected(make);
  let txnId = 0;
  while (!stopping) {
    txnId++;
    const commit = Math.random() < 0.8;
    const values = Array.from({ length: 2 + Math.floor(Math.random() * 7) }, (_, i) => `${name}/t${txnId}/${i}`);
    let status: 'committed' | 'aborted' | 'unknown' = 'unknown';
    let txn: Awaited<ReturnType<Producer['transaction']>> | null = null;
    try {
      txn = await producer.transaction();
      for (let i = 0; i < values.length; i++) {
        await txn.send({ topic, acks: -1, messages: [{ partition: partitions[i % partitions.length], value: values[i] }] });
      }
      if (commit) {
        await txn.commit();
        status = 'committed';
      } else {
        await txn.abort();
        status = 'aborted';
      }
    } catch {
      errors++;
      // A failed commit may have happened; an abort that succeeds settles it.
      if (txn && txn.isActive()) {
        try {
          await txn.abort();
          status = 'aborted';
        } catch {
          errors++;
        }
      }
      if (status === 'unknown') {
        // A new instance with the same transactional id fences this one and aborts any open transaction.
        await producer.disconnect().catch(() => undefined);
        await sleep(300);
        producer = await connected(make);
      }
    }
    emit({ txn: txnId, status, values });
  }
  await producer.disconnect().catch(() => undefined);
  emit({ transactions: txnId, errors });
}

async function consumer(): Promise<void> {
  while (!stopping) {
    const c = kafka.consumer({ groupId: name, sessionTimeout: 10000, heartbeatInterval: 1000, retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 1000 } });
    let crashed = false;
    c.on(c.events.CRASH, () => {
      crashed = true;
    });
    try {
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat }) => {
          if (batch.isEmpty()) return;
          const offset = String(Number(batch.lastOffset()) + 1);
          await c.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset }]);
          emit({ g: name, p: batch.partition, o: Number(offset) });
          await heartbeat();
        },
      });
      while (!stopping && !crashed) await sleep(200);
    } catch {
      errors++;
    }
    await c.disconnect().catch(() => undefined);
    if (!stopping) await sleep(500);
  }
  emit({ consumerErrors: errors });
}

const roles: Record<string, () => Promise<void>> = { idempotent, transactional, consumer };
roles[role]()
  .then(() => {
    fs.closeSync(out);
    process.exit(0);
  })
  .catch((err: Error) => {
    emit({ fatal: err.message });
    process.exit(1);
  });
