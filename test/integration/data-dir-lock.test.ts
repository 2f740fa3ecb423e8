/**
 * One broker per data directory: a second `samsa serve` on a folder in use refuses to start
 * with a clear message and leaves the first one serving; a lock left by a killed broker is
 * taken over at the next start; in-process, a second broker on the same folder is refused.
 */
import { Kafka, logLevel } from 'kafkajs';
import { startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { startBroker } from '../../src/broker';
import { createLogger } from '../../src/logging';

test('a second serve on the same data dir is refused; the first keeps serving', async () => {
  const dataDir = tempDataDir();
  const first = await startBrokerProcess({ dataDir });
  try {
    await expect(startBrokerProcess({ dataDir })).rejects.toThrow(/data dir .* is in use by another samsa process \(pid \d+\)/);
    const producer = new Kafka({ brokers: [first.address], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: 'still-here', messages: [{ value: 'x' }] });
    await producer.disconnect();
  } finally {
    await first.stop();
  }
  // Stopped cleanly: the folder is free again.
  const again = await startBrokerProcess({ dataDir });
  await again.stop();
});

test('a lock left by a killed broker is taken over', async () => {
  const dataDir = tempDataDir();
  const first = await startBrokerProcess({ dataDir });
  await first.kill();
  const second = await startBrokerProcess({ dataDir });
  await second.stop();
});

test('in-process: a second broker on the same folder is refused until the first closes', async () => {
  const dataDir = tempDataDir();
  const quiet = createLogger('silent');
  const a = await startBroker({ port: 0, dataDir, logger: quiet });
  await expect(startBroker({ port: 0, dataDir, logger: quiet })).rejects.toThrow(/already in use by a broker in this process/);
  await a.close();
  const b = await startBroker({ port: 0, dataDir, logger: quiet });
  await b.close();
});

test('after a power cut the lock may be torn or name a pid of the new boot: it is taken over', async () => {
  const fs = await import('fs');
  const path = await import('path');
  const dataDir = tempDataDir();
  const first = await startBrokerProcess({ dataDir });
  await first.kill();
  const lock = path.join(dataDir, '.lock');
  const line = fs.readFileSync(lock, 'utf8');
  expect(line).toMatch(/^\d+ \S+ \S+\n$/);
  // A torn line whose prefix is the pid of a running process (1, init) ...
  fs.writeFileSync(lock, '1');
  await (await startBrokerProcess({ dataDir })).kill();
  // ... and a whole line of an earlier boot naming a running process.
  fs.writeFileSync(lock, `${process.pid} 00000000-0000-0000-0000-000000000000 1\n`);
  const again = await startBrokerProcess({ dataDir });
  await again.stop();
});
