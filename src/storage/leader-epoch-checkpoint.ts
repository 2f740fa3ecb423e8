/**
 * The leader epoch history of one partition: which leader epoch started at which offset, as
 * Kafka keeps it to answer OffsetForLeaderEpoch (KIP-101/279) and to truncate followers.
 *
 * On disk, `<partition dir>/leader-epoch-checkpoint`, Kafka's text layout:
 *   line 1   format version (0)
 *   line 2   number of entries
 *   then     one "<epoch> <start offset>" line per entry, epochs increasing
 * Written atomically (tmp + rename) when an epoch is assigned. A partition that never changed
 * leader has no file: its history is epoch 0 from offset 0 (a one-broker cluster never
 * writes one, so it pays nothing for this).
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from './file-io';

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint';

export class LeaderEpochCheckpoint {
  private constructor(
    private readonly file: string,
    private entries: EpochEntry[],
  ) {}

  static load(dir: string): LeaderEpochCheckpoint {
    const file = path.join(dir, LEADER_EPOCH_CHECKPOINT);
    let entries: EpochEntry[] = [{ epoch: 0, startOffset: 0 }];
    try {
      const lines = fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim());
      const count = Number(lines[1]);
      const parsed: EpochEntry[] = [];
      for (let i = 0; i < count; i++) {
        const [e, o] = (lines[2 + i] ?? '').split(/\s+/).map(Number);
        if (!Number.isInteger(e) || !Number.isInteger(o)) throw new Error(`bad entry ${lines[2 + i]}`);
        parsed.push({ epoch: e, startOffset: o });
      }
      if (parsed.length > 0) entries = parsed;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`unreadable ${file}: ${(err as Error).message}`);
    }
    return new LeaderEpochCheckpoint(file, entries);
  }

  get history(): readonly EpochEntry[] {
    return this.entries;
  }

  get latestEpoch(): number {
    return this.entries[this.entries.length - 1].epoch;
  }

  /** Records that `epoch` starts at `startOffset` (a new leader's log end), as Kafka's makeLeader does. */
  assign(epoch: number, startOffset: number): void {
    if (epoch <= this.latestEpoch) return;
    // Epochs that led no record end where the new one starts: Kafka drops them the same way,
    // keeping start offsets strictly increasing.
    this.entries = this.entries.filter((x) => x.startOffset < startOffset);
    this.entries.push({ epoch, startOffset });
    this.save();
  }

  /**
   * Kafka's answer to "where does epoch `requested` end": the latest epoch gives the log end;
   * an older one the start of the next epoch, with the largest known epoch <= requested.
   * An epoch newer than any known, or -1, is undefined (-1, -1).
   */
  endOffsetFor(requested: number, logEndOffset: number): { epoch: number; endOffset: number } {
    const e = this.entries;
    if (requested < 0) return { epoch: -1, endOffset: -1 };
    if (requested === e[e.length - 1].epoch) return { epoch: requested, endOffset: logEndOffset };
    let higher = -1;
    for (let i = 0; i < e.length; i++) {
      if (e[i].epoch > requested) {
        higher = i;
        break;
      }
    }
    if (higher === -1) return { epoch: -1, endOffset: -1 };
    if (higher === 0) return { epoch: requested, endOffset: e[0].startOffset };
    return { epoch: e[higher - 1].epoch, endOffset: e[higher].startOffset };
  }

  private save(): void {
    const body = `0\n${this.entries.length}\n${this.entries.map((x) => `${x.epoch} ${x.startOffset}`).join('\n')}\n`;
    writeFileAtomic(this.file, body);
  }
}
