/**
 * Producer id allocation. Kafka's controller hands brokers blocks of 1000 ids and records
 * each block in its metadata log; here the broker records the end of its current block in a
 * file before using any id of it, so an id is never handed out twice, even after a crash
 * (a restart skips the rest of the block, as a Kafka broker does).
 *
 * File `<dataDir>/producer-ids.json`: {"version":1,"nextBlockStart":N}, replaced atomically.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../../storage/file-io';

export const PRODUCER_ID_BLOCK_SIZE = 1000;

export class ProducerIdManager {
  private readonly file: string;
  private next: number;
  private blockEnd: number;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'producer-ids.json');
    let start = 0;
    if (fs.existsSync(this.file)) {
      const stored = JSON.parse(fs.readFileSync(this.file, 'utf8')) as { nextBlockStart?: unknown };
      if (typeof stored.nextBlockStart !== 'number' || !Number.isSafeInteger(stored.nextBlockStart) || stored.nextBlockStart < 0) {
        throw new Error(`${this.file}: invalid nextBlockStart`);
      }
      start = stored.nextBlockStart;
    }
    this.next = start;
    this.blockEnd = start; // nothing reserved yet: the first id reserves a block
  }

  generate(): number {
    if (this.next >= this.blockEnd) {
      const end = this.next + PRODUCER_ID_BLOCK_SIZE;
      writeFileAtomic(this.file, JSON.stringify({ version: 1, nextBlockStart: end }));
      this.blockEnd = end;
    }
    return this.next++;
  }
}
