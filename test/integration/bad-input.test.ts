/**
 * Bad input against a real broker process: every case must end in a Kafka error code or a
 * clean disconnect of that one connection, while the broker keeps serving everyone else
 * and stored data stays intact.
 */
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { buildBatch, withPayload } from '../helpers/record-batch-builder';
import { ErrorCode } from '../../src/protocol/errors';
import { compress } from '../../src/compression/codecs';
import { RECORDS_OFFSET } from '../../src/protocol/record-batch';
import { compressionBombs } from '../../bench/fuzz/batch-fuzzer';

const API_VERSIONS = 18;
const PRODUCE = 0;
const FETCH = 1;
const METADATA = 3;

async function expectStillServing(broker: BrokerProcess) {
  const c = await RawClient.connect(broker.port);
  try {
    const res = await c.request(API_VERSIONS, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
    expect(res.body.errorCode).toBe(0);
  } finally {
    c.close();
  }
}

async function expectClosed(c: RawClient) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('connection not closed')), 5000)));
  try {
    await Promise.race([c.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('bad input', () => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--max-request-bytes', String(1024 * 1024)] });
  });
  afterAll(async () => broker?.stop());

  test('a frame over max-request-bytes closes that connection only', async () => {
    const c = await RawClient.connect(broker.port);
    const header = Buffer.alloc(4);
    header.writeInt32BE(1024 * 1024 + 1);
    c.writeRaw(header);
    await expectClosed(c);
    await expectStillServing(broker);
  });

  test('a negative frame size closes the connection', async () => {
    const c = await RawClient.connect(broker.port);
    c.writeRaw(Buffer.from([0xff, 0xff, 0xff, 0xf0]));
    await expectClosed(c);
    await expectStillServing(broker);
  });

  test('a truncated frame followed by a hang-up does no harm', async () => {
    const c = await RawClient.connect(broker.port);
    const full = c.encodeRequest(METADATA, 9, { topics: null });
    c.writeRaw(full.subarray(0, full.length - 3));
    c.close();
    await expectStillServing(broker);
  });

  test('garbage inside a well-sized frame closes the connection', async () => {
    const c = await RawClient.connect(broker.port);
    // ApiKey Metadata v9 header followed by a truncated body.
    const body = Buffer.from([0x00, 0x03, 0x00, 0x09, 0x00, 0x00, 0x00, 0x07, 0x00, 0x01, 0x41, 0x00, 0xff, 0xff]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    c.writeRaw(Buffer.concat([size, body]));
    await expectClosed(c);
    await expectStillServing(broker);
  });

  test('an unknown API key closes the connection', async () => {
    const c = await RawClient.connect(broker.port);
    const body = Buffer.from([0x03, 0xe7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    c.writeRaw(Buffer.concat([size, body]));
    await expectClosed(c);
    await expectStillServing(broker);
  });

  test('an unsupported Metadata version closes the connection', async () => {
    const c = await RawClient.connect(broker.port);
    const body = Buffer.from([0x00, 0x03, 0x00, 0x63, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    c.writeRaw(Buffer.concat([size, body]));
    await expectClosed(c);
    await expectStillServing(broker);
  });

  test('ApiVersions newer than served gets the v0-form UNSUPPORTED_VERSION answer with our ranges', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      // ApiVersions v99: header v2 (flexible), empty tagged fields and a body we cannot know.
      const body = Buffer.from([0x00, 0x12, 0x00, 0x63, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x03, 0x61, 0x62, 0x63, 0x00, 0x01, 0x02]);
      const size = Buffer.alloc(4);
      size.writeInt32BE(body.length);
      const frame = c.nextFrame();
      c.writeRaw(Buffer.concat([size, body]));
      const res = await frame;
      expect(res.readInt32BE(0)).toBe(42); // correlation id, header v0
      expect(res.readInt16BE(4)).toBe(ErrorCode.UNSUPPORTED_VERSION);
      const count = res.readInt32BE(6);
      const keys = [];
      for (let i = 0; i < count; i++) {
        const at = 10 + i * 6;
        keys.push([res.readInt16BE(at), res.readInt16BE(at + 2), res.readInt16BE(at + 4)]);
      }
      expect(keys).toContainEqual([18, 0, 4]);
      expect(keys).toContainEqual([0, 0, 13]);
      expect(res.length).toBe(10 + count * 6);
    } finally {
      c.close();
    }
  });

  test('a batch with a bad CRC gets CORRUPT_MESSAGE and stores nothing', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      await c.request(METADATA, 9, { topics: [{ name: 'crc-topic' }], allowAutoTopicCreation: true });
      const good = buildBatch([{ key: 'k', value: 'good' }]);
      const bad = Buffer.from(good);
      bad[bad.length - 1] ^= 0xff; // flip a payload byte: the CRC no longer matches
      const produce = (records: Buffer) =>
        c.request(PRODUCE, 9, { acks: -1, timeoutMs: 1000, topicData: [{ name: 'crc-topic', partitionData: [{ index: 0, records }] }] });
      const rejected = await produce(bad);
      expect(rejected.body.responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
      const accepted = await produce(good);
      expect(accepted.body.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 0 });
      const fetched = await c.request(FETCH, 12, {
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        sessionEpoch: -1,
        topics: [{ topic: 'crc-topic', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
      });
      const p = fetched.body.responses[0].partitions[0];
      expect(p.highWatermark).toBe(1);
      // Stored bytes are the good batch exactly, except the partition leader epoch the
      // broker writes (outside the CRC): producers send -1, the leader stamps its epoch 0.
      const expected = Buffer.from(good);
      expected.writeInt32BE(0, 12);
      expect(good.readInt32BE(12)).toBe(-1);
      expect(Buffer.compare(p.records, expected)).toBe(0);
    } finally {
      c.close();
    }
  });

  test('Metadata naming no topic gets a well-formed answer at every version (found by the fuzzer)', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      // v9 has no topic ids: "" is an invalid name. Its answer's names are not nullable.
      const v9 = await c.request(METADATA, 9, { topics: [{ name: '' }], allowAutoTopicCreation: true });
      expect(v9.body.topics).toEqual([expect.objectContaining({ name: '', errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION })]);
      // v10-11 take topic ids but answer names non-nullable; v12+ answer an unknown id with a null name.
      for (const version of [10, 11, 12]) {
        const res = await c.request(METADATA, version, { topics: [{ name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' }], allowAutoTopicCreation: false });
        expect([version, res.body.topics]).toEqual([version, [expect.objectContaining({ name: version >= 12 ? null : '', errorCode: ErrorCode.UNKNOWN_TOPIC_ID })]]);
      }
    } finally {
      c.close();
    }
  });

  test('a request for millions of partitions is refused with POLICY_VIOLATION, not attempted', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      const topic = (name: string, numPartitions: number) => ({ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] });
      const created = await c.request(19, 5, { topics: [topic('huge-a', 2147483647), topic('huge-b', 1)], timeoutMs: 5000, validateOnly: false });
      expect(created.body.topics.map((t: { errorCode: number }) => t.errorCode)).toEqual([ErrorCode.POLICY_VIOLATION, ErrorCode.POLICY_VIOLATION]);
      // 10,000 in total is still allowed (validate only: nothing is created).
      const allowed = await c.request(19, 5, { topics: [topic('huge-a', 9999), topic('huge-b', 1)], timeoutMs: 5000, validateOnly: true });
      expect(allowed.body.topics.map((t: { errorCode: number }) => t.errorCode)).toEqual([0, 0]);
      const small = await c.request(19, 5, { topics: [topic('grow-me', 1)], timeoutMs: 5000, validateOnly: false });
      expect(small.body.topics[0].errorCode).toBe(0);
      const grown = await c.request(37, 3, { topics: [{ name: 'grow-me', count: 2147483647, assignments: null }], timeoutMs: 5000, validateOnly: false });
      expect(grown.body.results[0].errorCode).toBe(ErrorCode.POLICY_VIOLATION);
      const meta = await c.request(METADATA, 12, { topics: [{ name: 'grow-me', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }, { name: 'huge-a', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: false });
      expect(meta.body.topics.map((t: { partitions: unknown[]; errorCode: number }) => [t.partitions.length, t.errorCode])).toEqual([
        [1, 0],
        [0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ]);
    } finally {
      c.close();
    }
  });

  test('a produce to an unknown topic gets UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      const res = await c.request(PRODUCE, 7, {
        acks: 1,
        timeoutMs: 1000,
        topicData: [{ name: 'no-such-topic', partitionData: [{ index: 0, records: buildBatch([{ value: 'x' }]) }] }],
      });
      expect(res.body.responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    } finally {
      c.close();
    }
  });

  test('clients cannot produce to internal topics; a user topic named __x is an ordinary topic', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      // FindCoordinator creates __consumer_offsets.
      await c.request(10, 3, { key: 'g', keyType: 0 });
      const produce = (name: string) =>
        c.request(PRODUCE, 9, { acks: 1, timeoutMs: 1000, topicData: [{ name, partitionData: [{ index: 0, records: buildBatch([{ key: 'k', value: 'x' }]) }] }] });
      const internal = await produce('__consumer_offsets');
      expect(internal.body.responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
      await c.request(METADATA, 9, { topics: [{ name: '__mine' }], allowAutoTopicCreation: true });
      const user = await produce('__mine');
      expect(user.body.responses[0].partitionResponses[0].errorCode).toBe(0);
      const meta = await c.request(METADATA, 9, { topics: [{ name: '__mine' }, { name: '__consumer_offsets' }], allowAutoTopicCreation: false });
      expect(meta.body.topics.map((t: { name: string; isInternal: boolean }) => [t.name, t.isInternal])).toEqual([
        ['__mine', false],
        ['__consumer_offsets', true],
      ]);
    } finally {
      c.close();
    }
  });

  test('fetch out of range gets OFFSET_OUT_OF_RANGE', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      await c.request(METADATA, 9, { topics: [{ name: 'range-topic' }], allowAutoTopicCreation: true });
      const res = await c.request(FETCH, 11, {
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        sessionEpoch: -1,
        topics: [{ topic: 'range-topic', partitions: [{ partition: 0, fetchOffset: 5, partitionMaxBytes: 1 << 20 }] }],
      });
      expect(res.body.responses[0].partitions[0].errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
      // An empty record set, never null: librdkafka cannot parse a null one and never sees the error.
      expect(res.body.responses[0].partitions[0].records).toEqual(Buffer.alloc(0));
    } finally {
      c.close();
    }
  });

  test('acks=0 produce gets no response, and later requests are still answered in order', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      await c.request(METADATA, 9, { topics: [{ name: 'acks0' }], allowAutoTopicCreation: true });
      c.writeRaw(
        c.encodeRequest(PRODUCE, 9, { acks: 0, timeoutMs: 1000, topicData: [{ name: 'acks0', partitionData: [{ index: 0, records: buildBatch([{ value: 'fire' }]) }] }] }, 500),
      );
      const res = await c.request(API_VERSIONS, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
      expect(res.correlationId).not.toBe(500);
      const list = await c.request(2, 7, { replicaId: -1, topics: [{ name: 'acks0', partitions: [{ partitionIndex: 0, timestamp: -1 }] }] });
      expect(list.body.topics[0].partitions[0].offset).toBe(1);
    } finally {
      c.close();
    }
  });

  describe('compressed batches on the paths that decompress', () => {
    const CODECS = [1, 2, 3, 4];
    const records = () => buildBatch([{ key: 'k', value: 'v', timestamp: Date.now() }]);
    let c: RawClient;

    beforeAll(async () => {
      c = await RawClient.connect(broker.port);
      const topic = (name: string, configs: Record<string, string>) => ({
        name,
        numPartitions: 1,
        replicationFactor: 1,
        assignments: [],
        configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
      });
      const res = await c.request(19, 5, {
        topics: [
          topic('bomb-to-zstd', { 'compression.type': 'zstd' }),
          topic('bomb-to-gzip', { 'compression.type': 'gzip' }),
          topic('bomb-compact', { 'cleanup.policy': 'compact' }),
          topic('bomb-plain', {}),
        ],
        timeoutMs: 5000,
        validateOnly: false,
      });
      for (const t of res.body.topics) expect(t.errorCode).toBe(0);
    });
    afterAll(() => c?.close());

    const produce = async (topic: string, batch: Buffer) => {
      const res = await c.request(PRODUCE, 9, { acks: -1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] });
      return res.body.responses[0].partitionResponses[0] as { errorCode: number; errorMessage: string | null; baseOffset: number };
    };

    test('compression bombs are refused with MESSAGE_TOO_LARGE where Produce recompresses or checks keys', async () => {
      const { byCodec } = await compressionBombs();
      for (const codec of CODECS) {
        const bomb = withPayload(records(), codec, byCodec.get(codec) as Buffer);
        expect(bomb.length).toBeLessThan(1024 * 1024);
        const recompressed = await produce(codec === 4 ? 'bomb-to-gzip' : 'bomb-to-zstd', bomb);
        expect([codec, recompressed.errorCode, recompressed.errorMessage]).toEqual([codec, ErrorCode.MESSAGE_TOO_LARGE, expect.stringContaining('exceeds')]);
        const compacted = await produce('bomb-compact', bomb);
        expect([codec, compacted.errorCode]).toEqual([codec, ErrorCode.MESSAGE_TOO_LARGE]);
      }
      await expectStillServing(broker);
    });

    test('truncated compressed payloads get CORRUPT_MESSAGE where Produce decompresses', async () => {
      for (const codec of CODECS) {
        const plain = records();
        const packed = await compress(codec, plain.subarray(RECORDS_OFFSET));
        const cut = withPayload(plain, codec, packed.subarray(0, Math.floor(packed.length / 2)));
        const res = await produce(codec === 4 ? 'bomb-to-gzip' : 'bomb-to-zstd', cut);
        expect([codec, res.errorCode]).toEqual([codec, ErrorCode.CORRUPT_MESSAGE]);
      }
    });

    test('a timestamp lookup landing on a bomb stored as sent answers at batch precision', async () => {
      const { byCodec } = await compressionBombs();
      const ts = Date.now();
      const first = await produce('bomb-plain', buildBatch([{ key: 'a', value: 'before', timestamp: ts - 1000 }]));
      expect(first.errorCode).toBe(0);
      // The fast path stores batches as sent (it never decompresses): the bomb is in the log.
      const bomb = withPayload(buildBatch([{ key: 'b', value: 'x', timestamp: ts }]), 1, byCodec.get(1) as Buffer);
      const stored = await produce('bomb-plain', bomb);
      expect(stored.errorCode).toBe(0);
      const list = await c.request(2, 7, { replicaId: -1, topics: [{ name: 'bomb-plain', partitions: [{ partitionIndex: 0, timestamp: ts - 10 }] }] });
      expect(list.body.topics[0].partitions[0]).toMatchObject({ errorCode: 0, offset: stored.baseOffset, timestamp: ts });
      await expectStillServing(broker);
    });
  });
});
