/**
 * The KRaft metadata quorum as clients see it (DescribeQuorum, AddRaftVoter, RemoveRaftVoter,
 * the finalized features epoch): a dynamic quorum (kraft.version 1) with one voter, the
 * cluster's controller, which leads partition 0 of `__cluster_metadata`. Samsa keeps its
 * metadata in files, not in a Raft log, so this object keeps only what the quorum reports:
 *
 * - the leader epoch: a single voter elects itself at every start, so it goes up by one each time;
 * - the high watermark: the log end offset of the metadata log. Kafka's active controller
 *   appends a NoOpRecord every metadata.max.idle.interval.ms (500 ms) and a record for each
 *   metadata change, so the offset counts both: it grows by two a second, and by one per
 *   change recorded with `append()`;
 * - a directory id per node (Kafka keeps one in each log dir's meta.properties).
 *
 * On disk: `<data dir>/quorum-state.json`,
 * `{"version":1,"leaderEpoch":N,"highWatermark":N,"directoryIds":{"<node id>":"<uuid>"}}`,
 * written atomically at start, on every append and at close, so the epoch and the offset never
 * go back (a crash loses at most the idle records counted since the last write).
 *
 * Concurrency: JS thread only.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../storage/file-io';
import { ErrorCode } from '../protocol/errors';
import { readJson } from './features';

export const METADATA_TOPIC = '__cluster_metadata';
/** The listener name voters are reached on (Kafka's first controller.listener.names entry). */
export const CONTROLLER_LISTENER = 'CONTROLLER';
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export interface VoterChangeResult {
  errorCode: number;
  errorMessage: string | null;
}
/** metadata.max.idle.interval.ms: how often an idle active controller appends a NoOpRecord. */
const IDLE_RECORD_INTERVAL_MS = 500;

interface StoredQuorum {
  version: 1;
  leaderEpoch: number;
  highWatermark: number;
  directoryIds: Record<string, string>;
}

export class MetadataQuorum {
  private readonly file: string;
  private readonly state: StoredQuorum;
  /** The offset at start plus the records appended since (idle records come from the clock). */
  private baseOffset: number;
  private readonly startedAt = Date.now();

  constructor(
    dataDir: string,
    /** The one voter: the controller of the cluster. */
    readonly leaderId: number,
  ) {
    this.file = path.join(dataDir, 'quorum-state.json');
    let stored: Partial<StoredQuorum> = {};
    if (fs.existsSync(this.file)) stored = readJson(this.file) as Partial<StoredQuorum>;
    // A new leader epoch per start; its LeaderChangeMessage is the first record of the epoch.
    this.state = {
      version: 1,
      leaderEpoch: (stored.leaderEpoch ?? 0) + 1,
      highWatermark: (stored.highWatermark ?? 0) + 1,
      directoryIds: { ...(stored.directoryIds ?? {}) },
    };
    this.baseOffset = this.state.highWatermark;
    this.directoryId(leaderId);
    this.save();
  }

  get leaderEpoch(): number {
    return this.state.leaderEpoch;
  }

  /** The next offset of the metadata log: every record up to it is committed (one voter). */
  highWatermark(now = Date.now()): number {
    return this.baseOffset + Math.floor(Math.max(0, now - this.startedAt) / IDLE_RECORD_INTERVAL_MS);
  }

  /** The offset of the last record applied: Kafka's finalized features epoch. */
  lastOffset(now = Date.now()): number {
    return this.highWatermark(now) - 1;
  }

  /** A metadata change was recorded (a feature update): one more record in the log. */
  append(): void {
    this.baseOffset += 1;
    this.save();
  }

  /** The directory id of a node's metadata log dir (base64url uuid), made on first use. */
  directoryId(nodeId: number): string {
    let id = this.state.directoryIds[String(nodeId)];
    if (!id) {
      const bytes = crypto.randomBytes(16);
      bytes[6] = (bytes[6] & 0x0f) | 0x40; // a version 4 uuid, as Kafka's Uuid.randomUuid
      bytes[8] = (bytes[8] & 0x3f) | 0x80;
      id = bytes.toString('base64url');
      this.state.directoryIds[String(nodeId)] = id;
      if (this.baseOffset !== undefined) this.save();
    }
    return id;
  }

  /**
   * AddRaftVoter, answered as Kafka's leader answers it (KafkaRaftClient, AddVoterHandler):
   * the voter needs a directory id and an endpoint on the controller listener; an id already
   * voting is DUPLICATE_VOTER; any other node would have to be an observer that answers
   * ApiVersions, and no other process can join this quorum, so it is never ready.
   */
  addVoter(voterId: number, directoryId: string, listenerNames: string[]): VoterChangeResult {
    const key = replicaKey(voterId, directoryId);
    if (directoryId === ZERO_UUID) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "Add voter request didn't include a valid voter" };
    if (!listenerNames.includes(CONTROLLER_LISTENER)) {
      return {
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `Add voter request didn't include the endpoint (${listenerNames.join(', ')}) for the default listener ${CONTROLLER_LISTENER}`,
      };
    }
    if (voterId === this.leaderId) {
      return { errorCode: ErrorCode.DUPLICATE_VOTER, errorMessage: `The voter id for ${key} is already part of the set of voters [${this.leaderKey()}].` };
    }
    return { errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: `New voter ${key} is not ready to receive requests` };
  }

  /** RemoveRaftVoter: the last voter cannot be removed, and any other key is not a voter; both VOTER_NOT_FOUND, as in Kafka. */
  removeVoter(voterId: number, directoryId: string): VoterChangeResult {
    return {
      errorCode: ErrorCode.VOTER_NOT_FOUND,
      errorMessage: `Cannot remove voter ${replicaKey(voterId, directoryId)} from the set of voters [${this.leaderKey()}]`,
    };
  }

  private leaderKey(): string {
    return replicaKey(this.leaderId, this.directoryId(this.leaderId));
  }

  close(): void {
    this.save();
  }

  private save(): void {
    this.state.highWatermark = this.highWatermark();
    writeFileAtomic(this.file, JSON.stringify(this.state) + '\n');
  }
}

/** Kafka's ReplicaKey.toString, which its voter error messages quote. */
function replicaKey(id: number, directoryId: string): string {
  return `ReplicaKey(id=${id}, directoryId=${directoryId === ZERO_UUID ? 'Optional.empty' : `Optional[${directoryId}]`})`;
}
