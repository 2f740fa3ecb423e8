/**
 * Walks the records of one (decompressed) v2 batch payload, reading only each record's
 * length, timestamp delta and offset delta. Used off the hot path, where Kafka also looks
 * inside batches (ListOffsets by timestamp finds the exact record).
 *
 * Record layout: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
 * key, value, headers — all lengths as zigzag varints.
 */
export interface RecordPosition {
  offsetDelta: number;
  timestampDelta: number;
}

function readZigzag(buf: Buffer, pos: number): [number, number] {
  let raw = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    raw += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift > 63) throw new Error('varint too long');
  }
  // zigzag decode on a non-negative double (exact within 2^53)
  const value = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  return [value, pos];
}

export function* recordPositions(payload: Buffer, count: number): Generator<RecordPosition> {
  let pos = 0;
  for (let i = 0; i < count && pos < payload.length; i++) {
    const [length, afterLength] = readZigzag(payload, pos);
    const end = afterLength + length;
    let p = afterLength + 1; // attributes
    const [timestampDelta, afterTs] = readZigzag(payload, p);
    p = afterTs;
    const [offsetDelta] = readZigzag(payload, p);
    yield { offsetDelta, timestampDelta };
    pos = end;
  }
}
