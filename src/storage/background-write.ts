/**
 * The state of one PartitionLog.appendInBackground(): batches stamped with their offsets,
 * their bytes being written on the thread pool (LogSegment.writeInBackground), and the
 * promise the caller waits on. The rules (one per log, settled by synchronous writers,
 * committed in log order) are PartitionLog's; see its module comment.
 */
import type { LogSegment } from './segment';
import type { AppendResult, PreparedAppend } from './append-batches';

/**
 * Buffers a thread-pool write may still be reading although their append is settled (by
 * PartitionLog.settleWrites, which writes the same bytes on the JS thread and lets the request
 * be answered): whoever recycles request buffers (src/server/frame-pool.ts) must not reuse
 * these, or the late write would put other bytes in the log.
 */
export const ioPinned = new WeakSet<ArrayBufferLike>();

/** Appends smaller than this are written on the JS thread (see appendInBackground). */
export const BACKGROUND_WRITE_MIN_BYTES = 64 * 1024;

/** An appendInBackground() whose bytes are being written on the thread pool. */
export interface BackgroundWrite {
  seg: LogSegment;
  records: Buffer;
  prepared: PreparedAppend;
  onCommit: (result: AppendResult) => void;
  resolve: (result: AppendResult) => void;
  reject: (err: Error) => void;
  /** Committed or failed (by its own completion or by settleWrites()). */
  done: boolean;
  /** settleWrites() could not write it: only the thread pool's write decides it, and the log waits. */
  stuck: boolean;
}
