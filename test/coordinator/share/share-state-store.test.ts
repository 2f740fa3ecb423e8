/** The share-group state file: last line per key wins, torn lines are skipped, compaction keeps the live state. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SHARE_STATE_FILE, ShareStateStore } from '../../../src/coordinator/share/share-state-store';
import { createLogger } from '../../../src/logging';

const quiet = createLogger('silent');
const state = (startOffset: number) => ({ stateEpoch: 1, startOffset, stateBatches: [{ firstOffset: startOffset, lastOffset: startOffset, deliveryState: 2, deliveryCount: 1 }] });

describe('ShareStateStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-share-state-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('reloads the last state per partition and group; deletions stick; a torn last line is skipped', () => {
    const a = new ShareStateStore(dir, quiet);
    a.putGroup('g', 1);
    a.putGroup('gone', 1);
    a.putPartition('g', 'topicA', 0, state(5));
    a.putPartition('g', 'topicA', 0, state(7));
    a.putPartition('g', 'topicA', 1, state(1));
    a.putPartition('g', 'topicA', 1, null);
    a.putGroup('gone', null);
    a.close();
    fs.appendFileSync(path.join(dir, SHARE_STATE_FILE), '{"k":"p","g":"g","t":"topicA","p":0,"s":{"stateEp');

    const b = new ShareStateStore(dir, quiet);
    expect(b.get('g', 'topicA', 0)).toEqual(state(7));
    expect(b.get('g', 'topicA', 1)).toBeUndefined();
    expect([...b.groups]).toEqual([['g', 1]]);
    b.close();
  });

  test('rewrites the file with the live lines once most lines are stale', () => {
    const a = new ShareStateStore(dir, quiet);
    for (let i = 0; i < 1500; i++) a.putPartition('g', 't', i % 3, state(i));
    const lines = fs.readFileSync(path.join(dir, SHARE_STATE_FILE), 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThan(1000);
    a.putPartition('g', 't', 0, state(9999));
    a.close();
    const b = new ShareStateStore(dir, quiet);
    expect(b.get('g', 't', 0)).toEqual(state(9999));
    expect(b.get('g', 't', 1)).toEqual(state(1498));
    expect(b.get('g', 't', 2)).toEqual(state(1499));
    b.close();
  });
});
