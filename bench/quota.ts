/**
 * How closely a producer tracks producer_byte_rate: a real broker process, one kafkajs
 * producer per quota value (its own client id, so each starts with a fresh rate), sending
 * 64 KiB messages one at a time with acks=1 as fast as the broker lets it.
 *
 *   npm run build && node dist/bench/quota.js [--seconds=20] [--quotas=262144,1048576,4194304,16777216]
 *
 * Printed per quota: the rate over the whole run, the rate after the first 10 s (Kafka's
 * padded window lets a fresh client send about quota x (quota.window.num - 1) windows
 * up front, so the whole-run figure overshoots by that burst), and the largest 1 s rate.
 * A first row gives the same producer without a quota, for scale.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import { connectLoop, freePort, killAllChildren, killChild, startChild, waitExit } from './proc';
import { WireClient } from './wire';

const CLI = path.resolve(__dirname, '..', 'src', 'cli', 'main.js');
const MiB = 1024 * 1024;
const MESSAGE = Buffer.alloc(64 * 1024, 0x61);
const BURST_MS = 10_000;

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

interface Run {
  total: number;
  afterBurst: number;
  peakSecond: number;
}

async function produce(port: number, clientId: string, ms: number): Promise<Run> {
  const kafka = new Kafka({ clientId, brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  // Metadata and topic creation before the clock starts.
  await producer.send({ topic: 'quota-bench', acks: 1, messages: [{ value: 'warm-up' }] });
  const start = Date.now();
  const perSecond: number[] = [];
  let sent = 0;
  let sentAfterBurst = 0;
  while (Date.now() - start < ms) {
    await producer.send({ topic: 'quota-bench', acks: 1, messages: [{ value: MESSAGE }] });
    const at = Date.now() - start;
    sent += MESSAGE.length;
    if (at >= BURST_MS) sentAfterBurst += MESSAGE.length;
    const second = Math.floor(at / 1000);
    perSecond[second] = (perSecond[second] ?? 0) + MESSAGE.length;
  }
  const elapsed = Date.now() - start;
  await producer.disconnect();
  return {
    total: sent / (elapsed / 1000),
    afterBurst: elapsed > BURST_MS ? sentAfterBurst / ((elapsed - BURST_MS) / 1000) : NaN,
    peakSecond: Math.max(...perSecond.filter((x) => x !== undefined)),
  };
}

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '20'));
  const quotas = arg('quotas', `${256 * 1024},${MiB},${4 * MiB},${16 * MiB}`).split(',').map(Number);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-quota-bench-'));
  const port = await freePort();
  const broker = startChild(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir], ['ignore', 'ignore', 'ignore']);
  process.on('exit', () => killAllChildren());
  try {
    await connectLoop(port, 15_000, () => broker.exitCode === null);
    const admin = await WireClient.connect(port);
    const mib = (x: number) => (x / MiB).toFixed(2).padStart(7);
    console.log(`producer_byte_rate tracking, ${seconds} s per quota, 64 KiB messages, kafkajs, acks=1`);
    console.log('quota MiB/s | whole run MiB/s (ratio) | after first 10 s MiB/s (ratio) | peak 1 s MiB/s');
    const free = await produce(port, 'bench-free', Math.min(seconds, 10) * 1000);
    console.log(`   no quota | ${mib(free.total)}                  |                                | ${mib(free.peakSecond)}`);
    for (const [i, quota] of quotas.entries()) {
      const clientId = `bench-quota-${i}`;
      const res = await admin.request(49, 1, {
        entries: [{ entity: [{ entityType: 'client-id', entityName: clientId }], ops: [{ key: 'producer_byte_rate', value: quota, remove: false }] }],
        validateOnly: false,
      });
      if (res.entries[0].errorCode !== 0) throw new Error(`AlterClientQuotas failed: ${res.entries[0].errorMessage}`);
      const r = await produce(port, clientId, seconds * 1000);
      const ratio = (x: number) => `(${(x / quota).toFixed(2)})`;
      console.log(`    ${mib(quota)} | ${mib(r.total)} ${ratio(r.total).padEnd(14)} | ${mib(r.afterBurst)} ${ratio(r.afterBurst).padEnd(22)} | ${mib(r.peakSecond)}`);
    }
    admin.socket.destroy();
  } finally {
    killChild(broker, 'SIGTERM');
    await waitExit(broker, 10_000);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
