/**
 * Reads the OpenTelemetry metrics payload clients push (KIP-714: an OTLP `MetricsData`
 * protobuf message) into flat data points: metric name, value and attributes. Only what the
 * broker shows is read (gauges, sums, histogram counts and sums); other fields are skipped
 * by their wire type. Malformed input throws, and the caller answers INVALID_RECORD.
 */

export interface MetricPoint {
  name: string;
  value: number;
  attributes: Record<string, string>;
}

class ProtoReader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      if (shift < 53) result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 70) throw new Error('varint too long');
    }
  }

  bytes(): Buffer {
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw new Error('length beyond message');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  fixed64(): Buffer {
    if (this.pos + 8 > this.buf.length) throw new Error('truncated fixed64');
    const out = this.buf.subarray(this.pos, this.pos + 8);
    this.pos += 8;
    return out;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.fixed64();
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        if (this.pos + 4 > this.buf.length) throw new Error('truncated fixed32');
        this.pos += 4;
        return;
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
  }

  /** Calls `field` for each field; it returns false for fields it did not consume. */
  fields(field: (no: number, wireType: number) => boolean): void {
    while (!this.done) {
      const key = this.varint();
      const no = Math.floor(key / 8);
      const wireType = key & 7;
      if (!field(no, wireType)) this.skip(wireType);
    }
  }
}

/** Decodes a MetricsData message. */
export function decodeMetricsData(payload: Buffer): MetricPoint[] {
  const out: MetricPoint[] = [];
  const r = new ProtoReader(payload);
  r.fields((no, wt) => {
    if (no !== 1 || wt !== 2) return false;
    readResourceMetrics(new ProtoReader(r.bytes()), out);
    return true;
  });
  return out;
}

function readResourceMetrics(r: ProtoReader, out: MetricPoint[]): void {
  r.fields((no, wt) => {
    if (no === 2 && wt === 2) {
      readScopeMetrics(new ProtoReader(r.bytes()), out);
      return true;
    }
    return false;
  });
}

function readScopeMetrics(r: ProtoReader, out: MetricPoint[]): void {
  r.fields((no, wt) => {
    if (no === 2 && wt === 2) {
      readMetric(new ProtoReader(r.bytes()), out);
      return true;
    }
    return false;
  });
}

function readMetric(r: ProtoReader, out: MetricPoint[]): void {
  let name = '';
  const bodies: [number, Buffer][] = [];
  r.fields((no, wt) => {
    if (no === 1 && wt === 2) {
      name = r.bytes().toString('utf8');
      return true;
    }
    // 5 gauge, 7 sum, 9 histogram: each holds repeated data points in field 1.
    if ((no === 5 || no === 7 || no === 9) && wt === 2) {
      bodies.push([no, r.bytes()]);
      return true;
    }
    return false;
  });
  for (const [kind, body] of bodies) {
    const br = new ProtoReader(body);
    br.fields((no, wt) => {
      if (no !== 1 || wt !== 2) return false;
      const point = new ProtoReader(br.bytes());
      if (kind === 9) readHistogramPoint(point, name, out);
      else readNumberPoint(point, name, out);
      return true;
    });
  }
}

function readNumberPoint(r: ProtoReader, name: string, out: MetricPoint[]): void {
  let value = 0;
  const attributes: Record<string, string> = {};
  r.fields((no, wt) => {
    if (no === 4 && wt === 1) value = r.fixed64().readDoubleLE(0);
    else if (no === 6 && wt === 1) value = Number(r.fixed64().readBigInt64LE(0));
    else if (no === 7 && wt === 2) readAttribute(new ProtoReader(r.bytes()), attributes);
    else return false;
    return true;
  });
  out.push({ name, value, attributes });
}

function readHistogramPoint(r: ProtoReader, name: string, out: MetricPoint[]): void {
  let count = 0;
  let sum = 0;
  const attributes: Record<string, string> = {};
  r.fields((no, wt) => {
    if (no === 4 && wt === 1) count = Number(r.fixed64().readBigUInt64LE(0));
    else if (no === 5 && wt === 1) sum = r.fixed64().readDoubleLE(0);
    else if (no === 9 && wt === 2) readAttribute(new ProtoReader(r.bytes()), attributes);
    else return false;
    return true;
  });
  out.push({ name: `${name}.count`, value: count, attributes }, { name: `${name}.sum`, value: sum, attributes });
}

/** A KeyValue: attribute values of any scalar kind become strings. */
function readAttribute(r: ProtoReader, into: Record<string, string>): void {
  let key = '';
  let value = '';
  r.fields((no, wt) => {
    if (no === 1 && wt === 2) {
      key = r.bytes().toString('utf8');
      return true;
    }
    if (no === 2 && wt === 2) {
      const v = new ProtoReader(r.bytes());
      v.fields((vno, vwt) => {
        if (vno === 1 && vwt === 2) value = v.bytes().toString('utf8');
        else if ((vno === 2 || vno === 3) && vwt === 0) value = String(vno === 2 ? v.varint() !== 0 : v.varint());
        else if (vno === 4 && vwt === 1) value = String(v.fixed64().readDoubleLE(0));
        else return false;
        return true;
      });
      return true;
    }
    return false;
  });
  if (key !== '') into[key] = value;
}
