/**
 * A full disk against a real broker process whose data dir is a 24 MiB tmpfs (mounted here;
 * the suite is skipped with a message where mount is not permitted), with kafkajs:
 *   - once the filesystem is full, produce is answered KAFKA_STORAGE_ERROR for that partition;
 *   - reads keep working and see exactly the acknowledged records, and no file holds a
 *     partial batch or an index entry past its log (checked on disk, then by a restart after
 *     SIGKILL that must find nothing to repair);
 *   - writes resume, without a restart, as soon as space returns;
 *   - after a restart the log is intact.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { readPartition } from '../helpers/read-partition';
import { checkBatchCrc, LOG_OVERHEAD } from '../../src/protocol/record-batch';

const MOUNT = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-full-disk-'));
let mounted = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', MOUNT], { stdio: 'pipe' });
  mounted = true;
} catch (err) {
  // eslint-disable-next-line no-console
  console.warn(`full-disk tests skipped: cannot mount a tmpfs at ${MOUNT} (${String((err as Error).message).split('\n')[0]}); they need root or CAP_SYS_ADMIN`);
}

const maybe = mounted ? describe : describe.skip;

/** Every .log file is whole batches with valid CRCs; every .index entry points inside its log. */
function checkPartitionFiles(dir: string): { batches: number } {
  let batches = 0;
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.log'))) {
    const buf = fs.readFileSync(path.join(dir, name));
    let p = 0;
    while (p < buf.length) {
      expect(buf.length - p).toBeGreaterThanOrEqual(LOG_OVERHEAD);
      const size = LOG_OVERHEAD + buf.readInt32BE(p + 8);
      expect(p + size).toBeLessThanOrEqual(buf.length);
      expect(checkBatchCrc(buf.subarray(p, p + size), 0)).toBe(true);
      p += size;
      batches++;
    }
    const index = fs.readFileSync(path.join(dir, name.replace(/\.log$/, '.index')));
    expect(index.length % 8).toBe(0);
    for (let i = 0; i < index.length; i += 8) expect(index.readInt32BE(i + 4)).toBeLessThan(buf.length);
  }
  return { batches };
}

maybe('full disk (tmpfs)', () => {
  const dataDir = path.join(MOUNT, 'data');
  const ballast = path.join(MOUNT, 'ballast');
  let broker: BrokerProcess;

  afterAll(async () => {
    await broker?.kill();
    try {
      execFileSync('umount', [MOUNT]);
      fs.rmdirSync(MOUNT);
    } catch {
      // Left for the OS to clean.
    }
  });

  test('KAFKA_STORAGE_ERROR when full, reads keep working, writes resume when space returns, the log survives restarts', async () => {
    broker = await startBrokerProcess({ dataDir });
    const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    // Small segments: rolls (new files, index writes) happen while the disk fills up too.
    await admin.createTopics({ topics: [{ topic: 'disk', numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '262144' }] }] });
    await admin.disconnect();
    const producer = kafka.producer({ retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 300 } });
    await producer.connect();

    // Leave about 2 MiB free, then produce 40 KiB records until the disk refuses.
    const { bavail, bsize } = fs.statfsSync(MOUNT);
    fs.writeFileSync(ballast, Buffer.alloc(Math.max(0, bavail * bsize - 2 * 1024 * 1024)));
    const acked: string[] = [];
    let failure: { name?: string; type?: string; message: string; originalType?: string } | null = null;
    for (let i = 0; i < 200 && !failure; i++) {
      const value = `${String(i).padStart(6, '0')}:${'x'.repeat(40 * 1024)}`;
      try {
        await producer.send({ topic: 'disk', messages: [{ value }] });
        acked.push(value);
      } catch (err) {
        const e = err as { name?: string; type?: string; message: string; cause?: { type?: string } };
        failure = { name: e.name, type: e.type, message: e.message, originalType: e.cause?.type };
      }
    }
    expect(acked.length).toBeGreaterThan(10);
    expect(failure).not.toBeNull();
    // kafkajs retried KAFKA_STORAGE_ERROR (retriable) and then gave up with it.
    expect(failure).toMatchObject({ name: 'KafkaJSNumberOfRetriesExceeded', originalType: 'KAFKA_STORAGE_ERROR', message: 'Disk error when trying to access log file on the disk' });
    expect(broker.stderr()).toMatch(/"append failed; the partition refuses writes until the disk accepts them".*"code":"ENOSPC"/);

    // Reads: exactly what was acknowledged, nothing of the failed sends.
    const read = await readPartition(kafka, 'disk', 0, 0, acked.length + 10);
    expect(read.errorCode).toBe(0);
    expect(read.messages.map((m) => m.value!.toString())).toEqual(acked);
    expect(checkPartitionFiles(path.join(dataDir, 'disk-0')).batches).toBe(acked.length);

    // Space returns: the same producer, no restart.
    fs.rmSync(ballast);
    const after = 'after-space-returned';
    const [res] = await producer.send({ topic: 'disk', messages: [{ value: after }] });
    expect(res.errorCode).toBe(0);
    expect(Number(res.baseOffset)).toBe(acked.length);
    expect(broker.stderr()).toMatch(/"appends resumed"/);
    await producer.disconnect();

    // A crash now must find nothing to repair: no torn tail, no index past its log.
    await broker.kill();
    broker = await startBrokerProcess({ dataDir });
    expect(broker.stderr()).not.toMatch(/truncated invalid bytes|segment needs recovery/);
    const again = await readPartition(new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }), 'disk', 0, 0, acked.length + 10);
    expect(again.messages.map((m) => m.value!.toString())).toEqual([...acked, after]);
    await broker.stop();
    expect(await broker.exited).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'disk-0', '.clean-shutdown'))).toBe(true);
  });

  test('creating a topic on a full disk fails with KAFKA_STORAGE_ERROR and leaves nothing behind', async () => {
    await broker?.kill();
    broker = await startBrokerProcess({ dataDir });
    const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = kafka.admin();
    await admin.connect();
    // Fill every block.
    const fd = fs.openSync(ballast, 'w');
    try {
      const chunk = Buffer.alloc(1024 * 1024);
      for (;;) fs.writeSync(fd, chunk);
    } catch {
      // ENOSPC: full.
    } finally {
      fs.closeSync(fd);
    }
    const before = fs.readdirSync(dataDir).sort();
    const err = await admin
      .createTopics({ topics: [{ topic: 'no-room', numPartitions: 4 }] })
      .then(() => null, (e: { errors?: { type: string }[]; type?: string; message: string }) => e);
    // Empty segment files fit in a full tmpfs; topics.json does not: the creation is undone.
    expect(err).not.toBeNull();
    expect(JSON.stringify(err)).toMatch(/KAFKA_STORAGE_ERROR/);
    expect(fs.readdirSync(dataDir).sort()).toEqual(before);
    fs.rmSync(ballast);
    // Reads and writes of the old topic work again.
    const producer = kafka.producer();
    await producer.connect();
    const [res] = await producer.send({ topic: 'disk', messages: [{ value: 'later' }] });
    expect(res.errorCode).toBe(0);
    await producer.disconnect();
    await admin.disconnect();
    await broker.stop();
    expect(await broker.exited).toBe(0);
  });
});
