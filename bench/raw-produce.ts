/**
 * The broker's own produce ceiling, without kcat: one connection sends prebuilt ~1 MB
 * Produce requests (one uncompressed batch of `records` x `size` B, acks=1, partition 0)
 * with `inflight` requests outstanding, and prints payload MB/s and the broker's CPU.
 * kcat's figures are bounded by kcat itself on a 2-core machine (bench/README.md, produce);
 * this separates the broker's cost from the client's. Against a running broker:
 *   node dist/bench/raw-produce.js --port=9092 [--pid=BROKER_PID] [--requests=256]
 *     [--records=1000] [--size=1024] [--inflight=8] [--partitions=1] [--topic=raw-produce-<time>]
 * Requests go to the topic's partitions in turn. With a pid, the broker's CPU is given in
 * total and for its main thread (the event loop) alone: the rest is the thread pool
 * (writes in the background) and V8's helper threads.
 * Each request carries its own fresh copy of a batch, as a client's would.
 * --requests=0 sends until SIGTERM (the latency bench's full-speed neighbour), then prints
 * the same line for what it sent.
 */
import * as fs from 'fs';
import { WireClient } from './wire';
import { encodeRecordBatch, LogRecord } from '../src/coordinator/group/batch-codec';

function arg(name: string, dflt: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
}

/** utime + stime in clock ticks (100/s on Linux) of a process, or of its main thread (the event loop); NaN without a pid. */
function cpuTicks(pid: number, mainThreadOnly = false): number {
  if (!pid) return NaN;
  const file = mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`;
  const fields = fs.readFileSync(file, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function main(): Promise<void> {
  const port = Number(arg('port', '9092'));
  const pid = Number(arg('pid', '0'));
  const requests = Number(arg('requests', '256'));
  const perBatch = Number(arg('records', '1000'));
  const size = Number(arg('size', '1024'));
  const inflight = Number(arg('inflight', '8'));
  const partitions = Number(arg('partitions', '1'));
  const topic = arg('topic', `raw-produce-${Date.now()}`);
  const client = await WireClient.connect(port);
  await client.request(19, 5, {
    topics: [{ name: topic, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  const records: LogRecord[] = [];
  for (let i = 0; i < perBatch; i++) records.push({ key: null, value: Buffer.alloc(size, 0x61 + (i % 26)) });
  const batch = encodeRecordBatch(records, { timestamp: Date.now() });
  const untilSignal = requests === 0;
  let sent = 0;
  let done = 0;
  let stopping = false;
  const cpu0 = cpuTicks(pid);
  const loop0 = cpuTicks(pid, true);
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    if (untilSignal) {
      for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => {
        stopping = true;
        if (done === sent) resolve();
      });
    }
    const next = (): void => {
      if (stopping) {
        if (done === sent) resolve();
        return;
      }
      if (!untilSignal && sent >= requests) return;
      sent++;
      const body = { transactionalId: null, acks: 1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: sent % partitions, records: Buffer.from(batch) }] }] };
      client.request(0, 9, body).then((r) => {
        const code = r.responses[0].partitionResponses[0].errorCode;
        if (code !== 0) return reject(new Error(`produce error ${code}`));
        if (++done === requests) resolve();
        else next();
      }, reject);
    };
    for (let i = 0; i < inflight; i++) next();
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = (cpuTicks(pid) - cpu0) / 100;
  const loop = (cpuTicks(pid, true) - loop0) / 100;
  const payload = done * perBatch * size;
  const share = (t: number): string => `${((t / seconds) * 100).toFixed(0)}%`;
  const cpuNote = Number.isNaN(cpu) ? '' : `, broker CPU ${share(cpu)} (${cpu.toFixed(2)} s; event loop thread ${share(loop)}, other threads ${share(cpu - loop)})`;
  console.log(`${done} x ${batch.length} B in ${seconds.toFixed(3)} s: ${(payload / seconds / 1e6).toFixed(0)} MB/s payload, ${Math.round((done * perBatch) / seconds).toLocaleString('en-US')} records/s${cpuNote}`);
  client.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
