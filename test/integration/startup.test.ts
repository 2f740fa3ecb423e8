/**
 * A broker process answers requests that arrive the moment it listens exactly as later ones:
 * handler modules load on first use (and in the background after listening), so requests
 * pipelined on a connection opened as soon as the port accepts exercise that path. The
 * client connects in a loop from the spawn on, as a restarted broker's clients do.
 */
import { spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import { tempDataDir } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { decodeBatchValues, simpleBatch } from '../helpers/record-batch-builder';
import { API_CODECS } from '../../src/protocol/generated';
import { isFlexible } from '../../src/protocol/headers';
import { Reader } from '../../src/protocol/reader';
import { ErrorCode } from '../../src/protocol/errors';

const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

async function connectAsSoonAsListening(port: number, alive: () => boolean): Promise<RawClient> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await RawClient.connect(port);
    } catch (err) {
      if (!alive() || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

function decode(frame: Buffer, apiKey: number, version: number): { correlationId: number; body: any } {
  const codec = API_CODECS[apiKey]!;
  const r = new Reader(frame);
  const correlationId = r.int32();
  if (isFlexible(codec, version) && apiKey !== 18) r.skipTaggedFields();
  return { correlationId, body: codec.decodeResponse[version]!(r) };
}

test('requests pipelined on the first accepted connection are all answered as usual', async () => {
  const port = await freePort();
  const dataDir = tempDataDir();
  const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', String(port), '--http-port', 'none', '--data-dir', dataDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const c = await connectAsSoonAsListening(port, () => child.exitCode === null);
    const requests: [number, number, object][] = [
      [18, 3, { clientSoftwareName: 'startup-test', clientSoftwareVersion: '1' }],
      [3, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }],
      [19, 7, { topics: [{ name: 'early', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false }],
      [0, 9, { transactionalId: null, acks: -1, timeoutMs: 10_000, topicData: [{ name: 'early', partitionData: [{ index: 1, records: simpleBatch(3, { prefix: 'early' }) }] }] }],
      [
        1,
        12,
        {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{ topic: 'early', partitions: [{ partition: 1, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
          forgottenTopicsData: [],
          rackId: '',
        },
      ],
      [10, 4, { key: '', keyType: 0, coordinatorKeys: ['early-group'] }],
      [16, 5, { statesFilter: [], typesFilter: [] }],
    ];
    // One write: every request is in the broker's first read of the connection.
    const frames = requests.map(() => c.nextFrame());
    c.writeRaw(Buffer.concat(requests.map(([key, version, body], i) => c.encodeRequest(key, version, body, i + 1))));
    const answers = await Promise.all(frames.map(async (f, i) => decode(await f, requests[i][0], requests[i][1])));
    expect(answers.map((a) => a.correlationId)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const [apiVersions, metadata, create, produce, fetch, findCoordinator, listGroups] = answers.map((a) => a.body);
    expect(apiVersions.errorCode).toBe(ErrorCode.NONE);
    expect(metadata.topics).toEqual([]);
    expect(create.topics[0]).toMatchObject({ name: 'early', errorCode: ErrorCode.NONE, numPartitions: 2 });
    expect(produce.responses[0].partitionResponses[0]).toMatchObject({ index: 1, errorCode: ErrorCode.NONE, baseOffset: 0 });
    const fp = fetch.responses[0].partitions[0];
    expect(fp.errorCode).toBe(ErrorCode.NONE);
    expect(fp.highWatermark).toBe(3);
    expect(decodeBatchValues(fp.records).map((r) => r.value)).toEqual(['early-0', 'early-1', 'early-2']);
    expect(findCoordinator.coordinators[0]).toMatchObject({ key: 'early-group', errorCode: ErrorCode.NONE, port });
    expect(listGroups).toMatchObject({ errorCode: ErrorCode.NONE, groups: [] });

    // A later connection is told the same API versions.
    await new Promise((r) => setTimeout(r, 500));
    const later = await RawClient.connect(port);
    const again = await later.request(18, 3, { clientSoftwareName: 'startup-test', clientSoftwareVersion: '1' });
    expect(again.body.apiKeys).toEqual(apiVersions.apiKeys);
    later.close();
    c.close();

    // And a real client's consumer group works on it.
    const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: 'early-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'early', fromBeginning: true });
    const values: string[] = [];
    const got = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          values.push(message.value!.toString());
          if (values.length === 3) resolve();
        },
      });
    });
    await got;
    await consumer.disconnect();
    expect(values).toEqual(['early-0', 'early-1', 'early-2']);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nbroker stderr:\n${stderr}`);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});
