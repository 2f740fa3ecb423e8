/**
 * Durable share-group state: what Kafka keeps in the compacted topic __share_group_state.
 *
 * File `<dataDir>/share-group-state.log`, one JSON object per line, later lines win:
 *   {"k":"p","g":"<group>","t":"<topic id>","p":0,"s":{"stateEpoch":1,"startOffset":42,"stateBatches":[...]}}
 *   {"k":"p","g":"<group>","t":"<topic id>","p":0,"s":null}           state deleted
 *   {"k":"g","g":"<group>","e":3}                                    a share group and its epoch
 *   {"k":"g","g":"<group>","e":null}                                 group deleted
 * Each partition line holds the whole state of that share partition (SPSO and the in-flight
 * runs, bounded by group.share.partition.max.record.locks), like Kafka's ShareSnapshot records,
 * so replay keeps only the last line per key. When dead lines outnumber live ones the file is
 * rewritten with the live lines only (atomically, as compaction would).
 *
 * Why a file and not an internal topic: this state changes on every acknowledgement and is
 * read only by this broker's share coordinator; a line journal in the data dir gives the same
 * last-value-per-key replay as a compacted topic without exposing a topic clients could read,
 * delete or alter. Writes go to the page cache, like log appends (no fsync per line); a torn
 * last line after a crash is skipped at load.
 *
 * Keyed by topic id, so a topic deleted and created again under the same name starts afresh.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../../storage/file-io';
import type { Logger } from '../../logging';
import type { PersistedShareState } from './share-partition';

export const SHARE_STATE_FILE = 'share-group-state.log';

const MIN_LINES_BEFORE_COMPACTION = 1000;

export function partitionKey(groupId: string, topicId: string, partition: number): string {
  return JSON.stringify([groupId, topicId, partition]);
}

export interface StoredPartition {
  groupId: string;
  topicId: string;
  partition: number;
  state: PersistedShareState;
}

export class ShareStateStore {
  private readonly file: string;
  private fd: number;
  private lines = 0;
  readonly partitions = new Map<string, StoredPartition>();
  readonly groups = new Map<string, number>();

  constructor(
    dataDir: string,
    private readonly log: Logger,
  ) {
    this.file = path.join(dataDir, SHARE_STATE_FILE);
    this.load();
    this.fd = fs.openSync(this.file, 'a');
  }

  private load(): void {
    if (!fs.existsSync(this.file)) return;
    const text = fs.readFileSync(this.file, 'utf8');
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      this.lines++;
      let r: any;
      try {
        r = JSON.parse(line);
      } catch {
        skipped++;
        continue;
      }
      if (r.k === 'g' && typeof r.g === 'string') {
        if (r.e === null) this.groups.delete(r.g);
        else this.groups.set(r.g, Number(r.e));
      } else if (r.k === 'p' && typeof r.g === 'string' && typeof r.t === 'string' && Number.isInteger(r.p)) {
        const key = partitionKey(r.g, r.t, r.p);
        if (r.s === null) this.partitions.delete(key);
        else this.partitions.set(key, { groupId: r.g, topicId: r.t, partition: r.p, state: r.s });
      } else skipped++;
    }
    if (skipped > 0) this.log.warn('skipped unreadable share state lines', { file: this.file, skipped });
  }

  get(groupId: string, topicId: string, partition: number): PersistedShareState | undefined {
    return this.partitions.get(partitionKey(groupId, topicId, partition))?.state;
  }

  /** The stored partitions of a group. */
  ofGroup(groupId: string): StoredPartition[] {
    return [...this.partitions.values()].filter((p) => p.groupId === groupId);
  }

  putPartition(groupId: string, topicId: string, partition: number, state: PersistedShareState | null): void {
    const key = partitionKey(groupId, topicId, partition);
    if (state === null) {
      if (!this.partitions.delete(key)) return;
    } else this.partitions.set(key, { groupId, topicId, partition, state });
    this.append({ k: 'p', g: groupId, t: topicId, p: partition, s: state });
  }

  putGroup(groupId: string, epoch: number | null): void {
    if (epoch === null) {
      if (!this.groups.delete(groupId)) return;
    } else {
      if (this.groups.get(groupId) === epoch) return;
      this.groups.set(groupId, epoch);
    }
    this.append({ k: 'g', g: groupId, e: epoch });
  }

  close(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  private append(record: object): void {
    if (this.fd < 0) throw new Error('share state store is closed');
    fs.writeSync(this.fd, JSON.stringify(record) + '\n');
    this.lines++;
    const live = this.partitions.size + this.groups.size;
    if (this.lines > MIN_LINES_BEFORE_COMPACTION && this.lines > 2 * live) this.compact();
  }

  /** Rewrites the file with one line per live key. */
  private compact(): void {
    const out: string[] = [];
    for (const [g, e] of this.groups) out.push(JSON.stringify({ k: 'g', g, e }));
    for (const p of this.partitions.values()) out.push(JSON.stringify({ k: 'p', g: p.groupId, t: p.topicId, p: p.partition, s: p.state }));
    fs.closeSync(this.fd);
    writeFileAtomic(this.file, out.length > 0 ? out.join('\n') + '\n' : '');
    this.fd = fs.openSync(this.file, 'a');
    this.lines = out.length;
  }
}
