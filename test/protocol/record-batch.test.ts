import { crc32c } from '@node-rs/crc32';
import {
  BATCH_HEADER_SIZE,
  checkBatchCrc,
  readBatchHeader,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  validateProducedRecords,
} from '../../src/protocol/record-batch';
import { ErrorCode } from '../../src/protocol/errors';
import { buildBatch, decodeBatchValues, simpleBatch } from '../helpers/record-batch-builder';

const MAX = 1024 * 1024;

function recrc(b: Buffer): Buffer {
  b.writeUInt32BE(crc32c(b.subarray(21)), 17);
  return b;
}

describe('record batch header', () => {
  test('reads every header field', () => {
    const b = buildBatch(
      [
        { key: 'a', value: 'x', timestamp: 1000 },
        { key: 'b', value: 'y', timestamp: 1005 },
        { key: 'c', value: 'z', timestamp: 1002 },
      ],
      { producerId: 77, producerEpoch: 3, baseSequence: 10, attributes: 0x10, partitionLeaderEpoch: 5 },
    );
    const h = readBatchHeader(b, 0);
    expect(h).toMatchObject({
      baseOffset: 0,
      batchLength: b.length - 12,
      partitionLeaderEpoch: 5,
      magic: 2,
      compression: 0,
      timestampType: 0,
      isTransactional: true,
      isControl: false,
      lastOffsetDelta: 2,
      baseTimestamp: 1000,
      maxTimestamp: 1005,
      producerId: 77,
      producerEpoch: 3,
      baseSequence: 10,
      recordCount: 3,
    });
    expect(BATCH_HEADER_SIZE).toBe(61);
    expect(checkBatchCrc(b, 0)).toBe(true);
  });

  test('reads a header at a non-zero position and 64-bit values', () => {
    const b = simpleBatch(2);
    const buf = Buffer.concat([Buffer.alloc(7), b]);
    setBaseOffset(buf, 7, 2 ** 40 + 3);
    expect(readBatchHeader(buf, 7).baseOffset).toBe(2 ** 40 + 3);
    expect(checkBatchCrc(buf, 7)).toBe(true);
  });

  test('setBaseOffset and setPartitionLeaderEpoch keep the CRC valid', () => {
    const b = simpleBatch(3);
    setBaseOffset(b, 0, 123456);
    setPartitionLeaderEpoch(b, 0, 9);
    const h = readBatchHeader(b, 0);
    expect(h.baseOffset).toBe(123456);
    expect(h.partitionLeaderEpoch).toBe(9);
    expect(checkBatchCrc(b, 0)).toBe(true);
    expect(decodeBatchValues(b).map((r) => r.offset)).toEqual([123456, 123457, 123458]);
  });

  test('checkBatchCrc detects a flipped record byte', () => {
    const b = simpleBatch(3);
    b[b.length - 3] ^= 0xff;
    expect(checkBatchCrc(b, 0)).toBe(false);
  });

  test('setLogAppendTime sets the type bit and maxTimestamp and re-CRCs', () => {
    const b = simpleBatch(2);
    setLogAppendTime(b, 0, 42_000);
    const h = readBatchHeader(b, 0);
    expect(h.timestampType).toBe(1);
    expect(h.maxTimestamp).toBe(42_000);
    expect(checkBatchCrc(b, 0)).toBe(true);
  });
});

describe('validateProducedRecords', () => {
  test('accepts a valid batch and summarises it', () => {
    const b = simpleBatch(5, { timestamp: 5000, producerId: 1, producerEpoch: 0, baseSequence: 0 });
    const r = validateProducedRecords(b, MAX);
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(r.message).toBeNull();
    expect(r.batchCount).toBe(1);
    expect(r.recordCount).toBe(5);
    expect(r.maxTimestamp).toBe(5004);
    expect(r.firstBatch?.producerId).toBe(1);
  });

  test('empty or null records -> INVALID_RECORD', () => {
    expect(validateProducedRecords(Buffer.alloc(0), MAX).errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(validateProducedRecords(null, MAX).errorCode).toBe(ErrorCode.INVALID_RECORD);
  });

  test('trailing partial bytes -> CORRUPT_MESSAGE', () => {
    const b = simpleBatch(2);
    expect(validateProducedRecords(Buffer.concat([b, Buffer.alloc(5)]), MAX).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(validateProducedRecords(Buffer.concat([b, b.subarray(0, 30)]), MAX, { allowMultipleBatches: true }).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(validateProducedRecords(b.subarray(0, b.length - 1), MAX).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
  });

  test('tiny batchLength -> CORRUPT_MESSAGE', () => {
    const b = simpleBatch(1);
    b.writeInt32BE(10, 8);
    expect(validateProducedRecords(b, MAX).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    const c = simpleBatch(1);
    c.writeInt32BE(30, 8); // >= 14 but smaller than a v2 header
    expect(validateProducedRecords(c.subarray(0, 42), MAX).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
  });

  test('magic 0/1 -> UNSUPPORTED_FOR_MESSAGE_FORMAT, or INVALID_RECORD for Produce v3+', () => {
    const b = simpleBatch(1, { magic: 1 });
    expect(validateProducedRecords(b, MAX).errorCode).toBe(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
    expect(validateProducedRecords(b, MAX, { produceVersion: 2 }).errorCode).toBe(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
    expect(validateProducedRecords(b, MAX, { produceVersion: 9 }).errorCode).toBe(ErrorCode.INVALID_RECORD);
  });

  test('magic > 2 -> CORRUPT_MESSAGE', () => {
    expect(validateProducedRecords(simpleBatch(1, { magic: 3 }), MAX).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
  });

  test('bad CRC -> CORRUPT_MESSAGE', () => {
    const b = simpleBatch(3);
    b[b.length - 1] ^= 1;
    const r = validateProducedRecords(b, MAX);
    expect(r.errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(r.message).toMatch(/crc/);
  });

  test('batch larger than max.message.bytes -> MESSAGE_TOO_LARGE', () => {
    const b = simpleBatch(2, { valueSize: 500 });
    expect(validateProducedRecords(b, b.length - 1).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect(validateProducedRecords(b, b.length).errorCode).toBe(ErrorCode.NONE);
  });

  test('record count mismatches -> INVALID_RECORD', () => {
    expect(validateProducedRecords(simpleBatch(3, { lastOffsetDelta: 1 }), MAX).errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(validateProducedRecords(simpleBatch(3, { recordCount: 0, lastOffsetDelta: -1 }), MAX).errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(validateProducedRecords(simpleBatch(3, { recordCount: 4 }), MAX).errorCode).toBe(ErrorCode.INVALID_RECORD);
  });

  test('non-zero baseOffset -> INVALID_RECORD', () => {
    expect(validateProducedRecords(simpleBatch(1, { baseOffset: 5 }), MAX).errorCode).toBe(ErrorCode.INVALID_RECORD);
  });

  test('several batches -> INVALID_RECORD unless allowed', () => {
    const two = Buffer.concat([simpleBatch(2), simpleBatch(3)]);
    expect(validateProducedRecords(two, MAX).errorCode).toBe(ErrorCode.INVALID_RECORD);
    const r = validateProducedRecords(two, MAX, { allowMultipleBatches: true });
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(r.batchCount).toBe(2);
    expect(r.recordCount).toBe(5);
  });

  test('unknown compression codec -> CORRUPT_MESSAGE; zstd before Produce v7 -> UNSUPPORTED_COMPRESSION_TYPE', () => {
    expect(validateProducedRecords(simpleBatch(1, { attributes: 5 }), MAX).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    // The records of this batch are not really zstd-compressed; the header check does not look.
    const zstd = simpleBatch(1, { attributes: 4 });
    expect(validateProducedRecords(zstd, MAX, { produceVersion: 6 }).errorCode).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
    expect(validateProducedRecords(zstd, MAX, { produceVersion: 7 }).errorCode).toBe(ErrorCode.NONE);
  });

  test('control batch, bad sequence, LogAppendTime from a client -> rejected', () => {
    expect(validateProducedRecords(simpleBatch(1, { attributes: 0x20 }), MAX).errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(validateProducedRecords(simpleBatch(1, { producerId: 4, baseSequence: -1 }), MAX).errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(validateProducedRecords(simpleBatch(1, { attributes: 0x08 }), MAX).errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
  });

  test('timestamp bounds', () => {
    const now = 1_700_000_000_000;
    const future = simpleBatch(1, { timestamp: now + 10_000 });
    const past = simpleBatch(1, { timestamp: now - 10_000 });
    const opts = { now, timestampAfterMaxMs: 5000, timestampBeforeMaxMs: 5000 };
    expect(validateProducedRecords(future, MAX, opts).errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(validateProducedRecords(past, MAX, opts).errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(validateProducedRecords(simpleBatch(1, { timestamp: now }), MAX, opts).errorCode).toBe(ErrorCode.NONE);
  });

  test('does not modify the input', () => {
    const b = simpleBatch(4);
    const copy = Buffer.from(b);
    validateProducedRecords(b, MAX);
    expect(b.equals(copy)).toBe(true);
    // recrc helper sanity: recomputing on an unmodified batch is a no-op
    expect(recrc(Buffer.from(b)).equals(b)).toBe(true);
  });
});
