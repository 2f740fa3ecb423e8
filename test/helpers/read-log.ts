/**
 * Test-side reader of a whole PartitionLog through its public read() path: every batch from
 * the log start to the end, decompressed and decoded into records (offset, key, value,
 * timestamp), as a consumer would see them.
 */
import * as fs from 'fs';
import type { PartitionLog } from '../../src/storage/partition-log';
import { BatchHeader, LOG_OVERHEAD, readBatchHeader, checkBatchCrc } from '../../src/protocol/record-batch';
import { decompress } from '../../src/compression/codecs';
import { parseRecords } from '../../src/storage/batch-records';

export interface ReadRecord {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

export interface ReadBatch {
  header: BatchHeader;
  records: ReadRecord[];
}

/** All batches readable from `from` (default the log start) to the log end, CRC-checked. */
export async function readAllBatches(log: PartitionLog, from = log.logStartOffset): Promise<ReadBatch[]> {
  const out: ReadBatch[] = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const r = log.read(offset, 1024 * 1024);
    if (r.errorCode !== 0) throw new Error(`read at ${offset}: error ${r.errorCode}`);
    if (r.length === 0) break;
    const buf = Buffer.allocUnsafe(r.length);
    let at = 0;
    for (const region of r.regions) {
      fs.readSync(region.fd, buf, at, region.length, region.position);
      at += region.length;
    }
    let pos = 0;
    let advanced = false;
    while (pos + 61 <= buf.length) {
      const size = LOG_OVERHEAD + buf.readInt32BE(pos + 8);
      if (pos + size > buf.length) break;
      const batch = buf.subarray(pos, pos + size);
      if (!checkBatchCrc(batch, 0)) throw new Error(`CRC mismatch in batch at offset ${readBatchHeader(batch, 0).baseOffset}`);
      const h = readBatchHeader(batch, 0);
      const payload = await decompress(h.compression, batch.subarray(61), 2 ** 30);
      const records = parseRecords(payload, h.recordCount).map((rec) => ({
        offset: h.baseOffset + rec.offsetDelta,
        key: rec.keyStart < 0 ? null : payload.toString('utf8', rec.keyStart, rec.keyStart + rec.keyLength),
        value: rec.valueStart < 0 ? null : payload.toString('utf8', rec.valueStart, rec.valueStart + rec.valueLength),
        timestamp: (h.attributes & 0x08) !== 0 ? h.maxTimestamp : h.baseTimestamp + rec.timestampDelta,
      }));
      const last = h.baseOffset + h.lastOffsetDelta;
      if (last >= offset) {
        out.push({ header: h, records: records.filter((x) => x.offset >= from) });
        offset = last + 1;
        advanced = true;
      }
      pos += size;
    }
    if (!advanced) throw new Error(`no progress reading at ${offset}`);
  }
  return out;
}

export async function readAllRecords(log: PartitionLog, from?: number): Promise<ReadRecord[]> {
  return (await readAllBatches(log, from)).flatMap((b) => b.records);
}
