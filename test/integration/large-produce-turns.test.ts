/**
 * Large Produce requests (DEFER_APPEND_BYTES and more) are appended one event-loop turn
 * later (src/handlers/00-produce.ts). Against a real broker process over raw sockets: large
 * and small requests pipelined on one connection are still appended and answered in request
 * order, acks=0 large requests are appended too, a second connection's small produce is
 * served while the first has large requests queued, and the log reads back contiguous.
 */
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { simpleBatch } from '../helpers/record-batch-builder';
import { DEFER_APPEND_BYTES } from '../../src/handlers/00-produce';
import { API_CODECS } from '../../src/protocol/generated';
import { Reader } from '../../src/protocol/reader';

const TOPIC = 'large-turns';

/** Produce v9 response frame (flexible: header tagged fields after the correlation id). */
function decodeProduceV9(frame: Buffer): any {
  const r = new Reader(frame);
  r.int32();
  r.skipTaggedFields();
  return API_CODECS[0]!.decodeResponse[9]!(r);
}

function produceBody(records: Buffer, acks = 1) {
  return { transactionalId: null, acks, timeoutMs: 30_000, topicData: [{ name: TOPIC, partitionData: [{ index: 0, records }] }] };
}

describe('large produce requests appended a turn later', () => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    broker = await startBrokerProcess();
    const admin = await RawClient.connect(broker.port);
    const r = await admin.request(19, 4, { topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
    expect(r.body.topics[0].errorCode).toBe(0);
    admin.close();
  });

  afterAll(async () => {
    await broker?.stop();
  });

  test('pipelined large and small requests keep their order; acks=0 large ones are appended', async () => {
    // 700 records of 1000 B: well over the deferral threshold.
    const large = (prefix: string) => simpleBatch(700, { valueSize: 1000, prefix });
    expect(large('x').length).toBeGreaterThan(DEFER_APPEND_BYTES);
    const small = (n: number) => simpleBatch(n, { prefix: 's' });
    // Sent back to back without waiting, in one write: the broker has them all queued at once.
    // counts: 700, 3, 700, (acks=0) 700, 2, 700
    const plan: { records: Buffer; acks: number; count: number }[] = [
      { records: large('a'), acks: 1, count: 700 },
      { records: small(3), acks: 1, count: 3 },
      { records: large('b'), acks: -1, count: 700 },
      { records: large('c'), acks: 0, count: 700 },
      { records: small(2), acks: 1, count: 2 },
      { records: large('d'), acks: 1, count: 700 },
    ];
    const c = await RawClient.connect(broker.port);
    const answered = plan.filter((p) => p.acks !== 0);
    const frames = answered.map(() => c.nextFrame());
    const ids = plan.map((_, i) => 100 + i);
    c.writeRaw(Buffer.concat(plan.map((p, i) => c.encodeRequest(0, 9, produceBody(p.records, p.acks), ids[i]))));

    // Meanwhile another connection's small produce is answered too.
    const other = await RawClient.connect(broker.port);
    const o = await other.request(0, 9, produceBody(small(1)));
    expect(o.body.responses[0].partitionResponses[0].errorCode).toBe(0);
    other.close();

    const got = await Promise.all(frames);
    const expectedIds = plan.map((p, i) => (p.acks !== 0 ? ids[i] : -1)).filter((id) => id >= 0);
    expect(got.map((f) => f.readInt32BE(0))).toEqual(expectedIds);
    const bases = got.map((f) => {
      const r = decodeProduceV9(f);
      expect(r.responses[0].partitionResponses[0].errorCode).toBe(0);
      return Number(r.responses[0].partitionResponses[0].baseOffset);
    });
    // In request order: each base is above the previous answered one by at least its count.
    for (let i = 1; i < bases.length; i++) expect(bases[i]).toBeGreaterThanOrEqual(bases[i - 1] + answered[i - 1].count);
    // Between large('b') and small(2) lies the acks=0 large('c'); the other connection's one
    // record may land anywhere.
    expect(bases[3] - bases[2]).toBeGreaterThanOrEqual(700 + 700);
    expect(bases[3] - bases[2]).toBeLessThanOrEqual(700 + 700 + 1);

    const end = await c.request(2, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }] });
    const total = plan.reduce((s, p) => s + p.count, 0) + 1;
    expect(Number(end.body.topics[0].partitions[0].offset)).toBe(total);
    c.close();
  }, 60_000);
});
