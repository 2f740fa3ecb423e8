/**
 * A client that sends many large fetches and never reads the answers must not make the
 * broker buffer without bound: the broker stops processing that connection while the
 * socket is full, and stops reading it once enough requests are queued.
 */
import { BrokerProcess, rssBytes, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { buildBatch } from '../helpers/record-batch-builder';

describe('backpressure', () => {
  let broker: BrokerProcess;
  beforeAll(async () => {
    broker = await startBrokerProcess();
  });
  afterAll(async () => broker?.stop());

  test('a slow reader does not grow broker memory with its unread responses', async () => {
    const c = await RawClient.connect(broker.port);
    await c.request(3, 9, { topics: [{ name: 'big' }], allowAutoTopicCreation: true });
    // 8 MiB of data in 1 MiB batches.
    for (let i = 0; i < 8; i++) {
      const batch = buildBatch([{ value: Buffer.alloc(1024 * 1024 - 100, i) }]);
      const res = await c.request(0, 9, { acks: 1, timeoutMs: 1000, topicData: [{ name: 'big', partitionData: [{ index: 0, records: batch }] }] });
      expect(res.body.responses[0].partitionResponses[0].errorCode).toBe(0);
    }
    const before = rssBytes(broker.pid);
    const slow = await RawClient.connect(broker.port);
    slow.socket.pause(); // never read
    const fetch = slow.encodeRequest(1, 11, {
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 64 << 20,
      sessionEpoch: -1,
      topics: [{ topic: 'big', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 64 << 20 }] }],
      rackId: '',
    });
    // 400 requests for 8 MiB each: 3.2 GB of answers if the broker buffered them all.
    for (let i = 0; i < 400; i++) slow.writeRaw(fetch);
    await new Promise((r) => setTimeout(r, 3000));
    const after = rssBytes(broker.pid);
    expect(after - before).toBeLessThan(256 * 1024 * 1024);
    // Everyone else is still served.
    const res = await c.request(18, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
    expect(res.body.errorCode).toBe(0);
    slow.close();
    c.close();
  });
});
