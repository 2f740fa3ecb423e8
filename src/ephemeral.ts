/**
 * Throw-away brokers for test runs: a fresh data dir under the OS temp folder, removed when
 * the broker closes. Used by `samsa serve --ephemeral` and by test-framework global setups
 * (README: "Samsa in your tests").
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Broker, startBroker, StartOptions } from './broker';

/** A new empty folder for one broker's data, `<tmp>/samsa-XXXXXX`. */
export function makeEphemeralDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-'));
}

/** Removes an ephemeral data dir; never throws (a shutdown must not fail on cleanup). */
export function removeEphemeralDataDir(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    // a folder we cannot remove is left in the temp folder, where the OS cleans up
  }
}

/**
 * Starts a broker on a free port (unless `port` is given) with a fresh data dir; its close()
 * also removes that dir. The bootstrap address is `${broker.config.host}:${broker.port}`.
 */
export async function startEphemeralBroker(options: Omit<StartOptions, 'dataDir'> = {}): Promise<Broker> {
  const dataDir = makeEphemeralDataDir();
  let broker: Broker;
  try {
    broker = await startBroker({ port: 0, ...options, dataDir });
  } catch (err) {
    removeEphemeralDataDir(dataDir);
    throw err;
  }
  const close = broker.close.bind(broker);
  broker.close = async () => {
    try {
      await close();
    } finally {
      removeEphemeralDataDir(dataDir);
    }
  };
  return broker;
}
