/**
 * Scale figures: one broker with many partitions, and many concurrent connections.
 * Measured with the bench's own wire client (wire.ts); run.ts turns the results into rows.
 */
import * as fs from 'fs';
import { readMem } from './proc';
import { encodeRequest, WireClient } from './wire';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function rssMiB(pid: number): number {
  return (readMem(pid)?.rssKb ?? NaN) / 1024;
}

/** Round trips of a small request every `everyMs` until stop() — the broker's responsiveness. */
export class Pinger {
  private readonly rtts: number[] = [];
  private running = true;
  private done: Promise<void>;

  constructor(client: WireClient, everyMs: number) {
    this.done = (async () => {
      while (this.running) {
        const t0 = process.hrtime.bigint();
        try {
          await client.request(18, 3, { clientSoftwareName: 'samsa-bench', clientSoftwareVersion: '1' });
        } catch {
          return;
        }
        this.rtts.push(Number(process.hrtime.bigint() - t0) / 1e6);
        await sleep(everyMs);
      }
    })();
  }

  async stop(): Promise<{ count: number; p50: number; p99: number; max: number }> {
    this.running = false;
    await this.done;
    const s = [...this.rtts].sort((a, b) => a - b);
    return { count: s.length, p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s[s.length - 1] ?? NaN };
  }
}

export interface PartitionsResult {
  partitions: number;
  createMs: number;
  errors: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  /** Median time of a Metadata request for the topic (all partitions). */
  metadataMs: number;
  metadataBytes: number;
  openFds: number;
}

/** Creates one topic with `partitions` partitions and measures memory and Metadata. */
export async function manyPartitions(port: number, pid: number, topic: string, partitions: number): Promise<PartitionsResult> {
  const c = await WireClient.connect(port);
  try {
    await sleep(300);
    const rssBeforeMiB = rssMiB(pid);
    const t0 = process.hrtime.bigint();
    const res = await c.request(19, 4, {
      topics: [{ name: topic, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 600_000,
      validateOnly: false,
    });
    const createMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const errors = (res.topics as { errorCode: number }[]).filter((t) => t.errorCode !== 0).length;
    await sleep(1000);
    const rssAfterMiB = rssMiB(pid);
    const times: number[] = [];
    let metadataBytes = 0;
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      const frame = await c.requestRaw(
        encodeRequest(3, 12, { topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, 1000 + i),
      );
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
      metadataBytes = frame.length;
    }
    times.sort((a, b) => a - b);
    let openFds = NaN;
    try {
      openFds = fs.readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      // not Linux
    }
    return { partitions, createMs, errors, rssBeforeMiB, rssAfterMiB, metadataMs: percentile(times, 0.5), metadataBytes, openFds };
  } finally {
    c.close();
  }
}

export interface ConnectionsResult {
  connections: number;
  /** Time to open every connection and get its ApiVersions answer. */
  connectMs: number;
  failed: number;
  rssBeforeMiB: number;
  rssOpenMiB: number;
  /** Every connection sends one Metadata request at the same moment. */
  roundMs: number;
  p50: number;
  p99: number;
  max: number;
}

/** Opens `n` connections (as clients do: ApiVersions first), then one Metadata each at once. */
export async function manyConnections(port: number, pid: number, n: number): Promise<ConnectionsResult> {
  await sleep(300);
  const rssBeforeMiB = rssMiB(pid);
  const clients: WireClient[] = [];
  let failed = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.allSettled(
      Array.from({ length: Math.min(100, n - i) }, async () => {
        const c = await WireClient.connect(port);
        clients.push(c);
        await c.request(18, 3, { clientSoftwareName: 'samsa-bench', clientSoftwareVersion: '1' });
      }),
    );
    failed += batch.filter((r) => r.status === 'rejected').length;
  }
  const connectMs = Number(process.hrtime.bigint() - t0) / 1e6;
  await sleep(500);
  const rssOpenMiB = rssMiB(pid);
  const lat: number[] = [];
  const r0 = process.hrtime.bigint();
  await Promise.allSettled(
    clients.map(async (c) => {
      const t = process.hrtime.bigint();
      await c.request(3, 12, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }),
  );
  const roundMs = Number(process.hrtime.bigint() - r0) / 1e6;
  failed += clients.length - lat.length;
  for (const c of clients) c.close();
  lat.sort((a, b) => a - b);
  return {
    connections: n,
    connectMs,
    failed,
    rssBeforeMiB,
    rssOpenMiB,
    roundMs,
    p50: percentile(lat, 0.5),
    p99: percentile(lat, 0.99),
    max: lat[lat.length - 1] ?? NaN,
  };
}
