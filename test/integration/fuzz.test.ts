/**
 * The fuzzer's short run (bench/fuzz/): a few thousand structure-aware fuzzed frames of every
 * advertised API and version, with fuzzed record batches on Produce, against a real broker
 * process. `npm run fuzz -- --frames 1000000` is the long run.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BrokerProcess, startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { formatReport, fuzzBrokerArgs, runFuzz } from '../../bench/fuzz/fuzz-runner';

const MAX_REQUEST_BYTES = 8 * 1024 * 1024;

describe('fuzzing', () => {
  let broker: BrokerProcess;
  // The data dir sits alone in its own folder: the fuzzer checks nothing is created beside it.
  const parent = tempDataDir('samsa-fuzz-');

  beforeAll(async () => {
    broker = await startBrokerProcess({ dataDir: path.join(parent, 'data'), args: fuzzBrokerArgs(MAX_REQUEST_BYTES) });
  });
  afterAll(async () => {
    await broker?.stop();
    fs.rmSync(parent, { recursive: true, force: true });
  });

  test('fuzzed frames end in a well-formed answer or a close; the broker survives with its data intact', async () => {
    const report = await runFuzz(
      { port: broker.port, pid: broker.pid, dataDir: broker.dataDir, maxRequestBytes: MAX_REQUEST_BYTES, logs: broker.stderr },
      { frames: 3000, seed: 20261204, connections: 8, responseTimeoutMs: 30_000, maxRssBytes: 1024 * 2 ** 20, cleanerWaitMs: 5000 },
    );
    const text = formatReport(report);
    expect({ failures: report.failures, handlerErrors: report.handlerErrors, text }).toEqual({ failures: [], handlerErrors: {}, text });
    expect(report.frames).toBe(3000);
    // Every kind of mutation ran, and the broker both answered and closed connections.
    expect(Object.keys(report.mutations).length).toBeGreaterThanOrEqual(10);
    expect(report.responses).toBeGreaterThan(500);
    expect(report.closes).toBeGreaterThan(100);
    expect(report.batchMutations.bomb).toBeGreaterThan(0);
  });
});
