/**
 * Reader: decodes Kafka primitive types from one request frame.
 *
 * Byte strings (bytes, records) are returned as subarrays of the frame, never copied:
 * a Produce request's records stay where the socket put them until storage appends them.
 * Every read checks bounds and throws ProtocolError, which the connection turns into a
 * clean disconnect (a malformed frame never reaches a handler half-decoded).
 */

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

const TWO_POW_32 = 4294967296;

export class Reader {
  pos: number;
  readonly end: number;

  constructor(readonly buf: Buffer, pos = 0, end = buf.length) {
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): number {
    const at = this.pos;
    if (n < 0 || at + n > this.end) {
      throw new ProtocolError(`truncated: need ${n} bytes at ${at}, have ${this.end - at}`);
    }
    this.pos = at + n;
    return at;
  }

  skip(n: number): void {
    this.need(n);
  }

  bool(): boolean {
    return this.buf[this.need(1)] !== 0;
  }

  int8(): number {
    return this.buf.readInt8(this.need(1));
  }

  int16(): number {
    return this.buf.readInt16BE(this.need(2));
  }

  uint16(): number {
    return this.buf.readUInt16BE(this.need(2));
  }

  int32(): number {
    return this.buf.readInt32BE(this.need(4));
  }

  uint32(): number {
    return this.buf.readUInt32BE(this.need(4));
  }

  /** int64 as a number: exact within +-2^53, the nearest double beyond (see protocol/README.md). */
  int64(): number {
    const at = this.need(8);
    return this.buf.readInt32BE(at) * TWO_POW_32 + this.buf.readUInt32BE(at + 4);
  }

  float64(): number {
    return this.buf.readDoubleBE(this.need(8));
  }

  uvarint(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (shift > 28) throw new ProtocolError('uvarint longer than 5 bytes');
      const b = this.buf[this.need(1)];
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
      shift += 7;
    }
  }

  uuid(): string {
    const at = this.need(16);
    return this.buf.toString('base64url', at, at + 16);
  }

  private utf8(len: number): string {
    const at = this.need(len);
    return this.buf.toString('utf8', at, at + len);
  }

  string(): string {
    const len = this.int16();
    if (len < 0) throw new ProtocolError('null in a non-nullable string');
    return this.utf8(len);
  }

  nullableString(): string | null {
    const len = this.int16();
    return len < 0 ? null : this.utf8(len);
  }

  compactString(): string {
    const len = this.uvarint() - 1;
    if (len < 0) throw new ProtocolError('null in a non-nullable compact string');
    return this.utf8(len);
  }

  compactNullableString(): string | null {
    const len = this.uvarint() - 1;
    return len < 0 ? null : this.utf8(len);
  }

  private slice(len: number): Buffer {
    const at = this.need(len);
    return this.buf.subarray(at, at + len);
  }

  bytes(): Buffer {
    const len = this.int32();
    if (len < 0) throw new ProtocolError('null in non-nullable bytes');
    return this.slice(len);
  }

  nullableBytes(): Buffer | null {
    const len = this.int32();
    return len < 0 ? null : this.slice(len);
  }

  compactBytes(): Buffer {
    const len = this.uvarint() - 1;
    if (len < 0) throw new ProtocolError('null in non-nullable compact bytes');
    return this.slice(len);
  }

  compactNullableBytes(): Buffer | null {
    const len = this.uvarint() - 1;
    return len < 0 ? null : this.slice(len);
  }

  /** Array count: -1 means null. A count larger than the bytes left is rejected before any allocation. */
  arrayLength(compact: boolean): number {
    const n = compact ? this.uvarint() - 1 : this.int32();
    if (n < -1) throw new ProtocolError(`negative array length ${n}`);
    if (n > this.end - this.pos) throw new ProtocolError(`array length ${n} exceeds frame`);
    return n;
  }

  /** Skips a tagged-field section whose tags this version does not know. */
  skipTaggedFields(): void {
    for (let n = this.uvarint(); n > 0; n--) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }

  /** Ends one known tagged field: its value must have used exactly `size` bytes or fewer. */
  endTaggedField(tag: number, end: number): void {
    if (this.pos > end || end > this.end) throw new ProtocolError(`tagged field ${tag} does not match its size`);
    this.pos = end;
  }

  primitiveArray<T>(compact: boolean, nullable: boolean, item: (r: Reader) => T): T[] | null {
    const n = this.arrayLength(compact);
    if (n < 0) {
      if (nullable) return null;
      throw new ProtocolError('null in a non-nullable array');
    }
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = item(this);
    return out;
  }
}
