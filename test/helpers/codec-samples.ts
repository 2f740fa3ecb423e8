/**
 * Test helpers for the generated protocol codecs: walks the message definitions in
 * protocol/*.def (through scripts/protocol-def.ts) to build populated messages of any
 * API version, together with the object the decoder is expected to return.
 *
 * The expectations are derived from the definitions and protocol/README.md only, never
 * from the generator, so that the round-trip tests check the generator rather than
 * restate it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ApiDef, FieldDef, inRange, loadDefs } from '../../scripts/protocol-def';
import { API_CODECS, ApiCodec } from '../../src/protocol/generated';
import { Reader } from '../../src/protocol/reader';
import { RecordsPayload, Writer } from '../../src/protocol/writer';

/** The repository root: two levels up from the source, three from its compiled copy in dist/ (the fuzzer's). */
export const ROOT = [path.resolve(__dirname, '..', '..'), path.resolve(__dirname, '..', '..', '..')].find((d) => fs.existsSync(path.join(d, 'protocol'))) ?? path.resolve(__dirname, '..', '..');
export const DEFS: ApiDef[] = loadDefs(path.join(ROOT, 'protocol'));

export type Kind = 'request' | 'response';
export const KINDS: Kind[] = ['request', 'response'];

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** Kafka's Long.MAX_VALUE as the nearest double, the value our int64 decoder yields for it. */
export const INT64_MAX_AS_NUMBER = 2 ** 63;

export function versionsOf(api: { minVersion: number; maxVersion: number }): number[] {
  const out: number[] = [];
  for (let v = api.minVersion; v <= api.maxVersion; v++) out.push(v);
  return out;
}

export function isFlexibleVersion(api: { flexibleFrom: number | null }, version: number): boolean {
  return api.flexibleFrom !== null && version >= api.flexibleFrom;
}

/** Whether a field is on the wire in a version (tagged fields only exist in flexible versions). */
export function isPresent(f: FieldDef, version: number, flexible: boolean): boolean {
  return inRange(f.versions, version) && (f.tag === null || flexible);
}

export function isNullableAt(f: FieldDef, version: number): boolean {
  return inRange(f.nullable, version);
}

function primArrayItem(type: string): string | null {
  const m = /^\[(\w+)\]$/.exec(type);
  return m ? m[1] : null;
}

/**
 * The value a decoder fills in for a field absent from a version (protocol/README.md):
 * the explicit `default`, else 0, false, "", empty array, the zero UUID, null for
 * nullable strings/bytes/records and for structs.
 */
export function defaultOf(f: FieldDef): unknown {
  const nullable = f.nullable !== null;
  const d = f.defaultValue === 'null' && !nullable ? null : f.defaultValue;
  if (f.type === '{}') return null;
  if (f.type === '[]' || primArrayItem(f.type)) return d === 'null' ? null : [];
  if (d === 'null') return null;
  switch (f.type) {
    case 'bool':
      return d === 'true';
    case 'string':
      return d ?? (nullable ? null : '');
    case 'uuid':
      return d ?? ZERO_UUID;
    case 'bytes':
    case 'records':
      return nullable ? null : Buffer.alloc(0);
    default:
      return d === null ? 0 : Number(d);
  }
}

/** Deterministic PRNG (mulberry32), so a failing case can be replayed from its seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0);
  }
  /** Integer in [min, max] (both within +-2^32). */
  int(min: number, max: number): number {
    return min + Math.floor((this.u32() / 4294967296) * (max - min + 1));
  }
  bool(): boolean {
    return (this.u32() & 1) === 1;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)];
  }
}

export function hashSeed(...parts: (string | number)[]): number {
  let h = 2166136261;
  for (const ch of parts.join('|')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

/**
 * full:  every field populated with a non-default value, arrays of 2 elements.
 * nulls: like full, but every field nullable in this version is null.
 * edge:  extreme integers, long (multi-byte, >=128 byte) strings and bytes, 130-element
 *        primitive arrays (uvarint counts of 2 bytes), 1-element struct arrays.
 * empty: zeros, empty strings, bytes and arrays.
 */
export type Mode = 'full' | 'nulls' | 'edge' | 'empty';
export const MODES: Mode[] = ['full', 'nulls', 'edge', 'empty'];

const ALPHABET = ['a', 'b', 'z', 'Q', '0', '9', '-', '_', '.', ' ', 'é', 'ß', '漢', '字', '😀', '\u0000', '\n'];

interface Sampled {
  input: unknown;
  expected: unknown;
}

class Sampler {
  constructor(
    private readonly rng: Rng,
    private readonly mode: Mode,
    private readonly version: number,
    private readonly flexible: boolean,
  ) {}

  struct(fields: FieldDef[]): { input: Record<string, unknown>; expected: Record<string, unknown> } {
    const input: Record<string, unknown> = {};
    const expected: Record<string, unknown> = {};
    for (const f of fields) {
      const present = isPresent(f, this.version, this.flexible);
      if (present && this.mode === 'nulls' && isNullableAt(f, this.version)) {
        input[f.name] = null;
        expected[f.name] = null;
        continue;
      }
      // Fields absent from this version are still given a value: the encoder must ignore it.
      const s = this.field(f);
      input[f.name] = s.input;
      expected[f.name] = present ? s.expected : defaultOf(f);
    }
    return { input, expected };
  }

  private field(f: FieldDef): Sampled {
    const item = primArrayItem(f.type);
    if (f.type === '{}') return this.struct(f.fields);
    if (f.type === '[]') {
      const n = this.mode === 'empty' ? 0 : this.mode === 'edge' ? 1 : 2;
      const items = Array.from({ length: n }, () => this.struct(f.fields));
      return { input: items.map((s) => s.input), expected: items.map((s) => s.expected) };
    }
    if (item) {
      const n = this.mode === 'empty' ? 0 : this.mode === 'edge' ? 130 : 2;
      const xs = Array.from({ length: n }, () => this.prim(item, undefined));
      return { input: xs.map((s) => s.input), expected: xs.map((s) => s.expected) };
    }
    return this.prim(f.type, defaultOf(f));
  }

  private prim(type: string, dflt: unknown): Sampled {
    for (let attempt = 0; ; attempt++) {
      const s = this.primOnce(type);
      // Non-default values, so a decoder that skips a field is caught (the empty mode
      // deliberately uses zero values, which often are the defaults).
      const same = Buffer.isBuffer(s.expected) && Buffer.isBuffer(dflt) ? s.expected.equals(dflt) : s.expected === dflt;
      if (!same || this.mode === 'empty' || attempt > 20) return s;
    }
  }

  private int(min: number, max: number): number {
    if (this.mode === 'empty') return 0;
    if (this.mode === 'edge') return this.rng.pick([min, max, min + 1, max - 1]);
    return this.rng.int(min, max);
  }

  private string(): string {
    if (this.mode === 'empty') return '';
    if (this.mode === 'edge') {
      // 200+ UTF-8 bytes: compact lengths need two uvarint bytes.
      let s = '';
      while (Buffer.byteLength(s) < 200) s += this.rng.pick(ALPHABET);
      return s;
    }
    const n = this.rng.int(1, 12);
    let s = '';
    for (let i = 0; i < n; i++) s += this.rng.pick(ALPHABET);
    return s;
  }

  private primOnce(type: string): Sampled {
    const same = (v: unknown): Sampled => ({ input: v, expected: v });
    switch (type) {
      case 'bool':
        return same(this.mode === 'empty' ? false : this.rng.bool());
      case 'int8':
        return same(this.int(-128, 127));
      case 'int16':
        return same(this.int(-32768, 32767));
      case 'int32':
        return same(this.int(-2147483648, 2147483647));
      case 'uint16':
        return same(this.int(0, 65535));
      case 'uint32':
        return same(this.int(0, 4294967295));
      case 'int64': {
        if (this.mode === 'empty') return same(0);
        if (this.mode === 'edge') {
          return same(this.rng.pick([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, -1, 2 ** 32, -(2 ** 32) - 1]));
        }
        const v = this.rng.int(0, 2 ** 21 - 1) * 4294967296 + this.rng.u32();
        return same(this.rng.bool() ? v : -v);
      }
      case 'float64': {
        if (this.mode === 'empty') return same(0);
        if (this.mode === 'edge') return same(this.rng.pick([Number.MAX_VALUE, -Number.MIN_VALUE, Infinity, -Infinity, 2 ** 60]));
        return same((this.rng.int(-2147483648, 2147483647) + this.rng.u32() / 4294967296) * 1.5);
      }
      case 'uuid': {
        if (this.mode === 'empty') return same(ZERO_UUID);
        let b = this.rng.bytes(16);
        if (this.mode === 'edge') b = this.rng.pick([Buffer.alloc(16, 0xff), Buffer.from('00000000000000000000000000000001', 'hex')]);
        return same(b.toString('base64url'));
      }
      case 'string':
        return same(this.string());
      case 'bytes':
      case 'records': {
        if (this.mode === 'empty') return same(Buffer.alloc(0));
        const b = this.rng.bytes(this.mode === 'edge' ? 300 : this.rng.int(1, 24));
        if (type === 'records' && this.rng.bool()) {
          // The encode side also takes records as a list of chunks.
          const cut = this.rng.int(0, b.length);
          const payload: RecordsPayload = { length: b.length, chunks: [b.subarray(0, cut), b.subarray(cut)] };
          return { input: payload, expected: b };
        }
        return same(b);
      }
      default:
        throw new Error(`unknown primitive ${type}`);
    }
  }
}

export interface Sample {
  input: Record<string, unknown>;
  expected: Record<string, unknown>;
}

export function sampleMessage(api: ApiDef, kind: Kind, version: number, mode: Mode, seed?: number): Sample {
  const rng = new Rng(seed ?? hashSeed(api.key, kind, version, mode));
  const fields = kind === 'request' ? api.request : api.response;
  return new Sampler(rng, mode, version, isFlexibleVersion(api, version)).struct(fields);
}

export function codecOf(key: number): ApiCodec {
  const c = API_CODECS[key];
  if (!c) throw new Error(`no codec for API key ${key}`);
  return c;
}

export function encodeMessage(key: number, kind: Kind, version: number, msg: unknown, w: Writer = new Writer()): Buffer {
  const c = codecOf(key);
  const enc = (kind === 'request' ? c.encodeRequest : c.encodeResponse)[version];
  if (!enc) throw new Error(`no ${kind} encoder for API ${key} v${version}`);
  enc(w, msg);
  return w.toBuffer();
}

export function decodeMessage(key: number, kind: Kind, version: number, buf: Buffer): { msg: unknown; consumed: number } {
  const c = codecOf(key);
  const dec = (kind === 'request' ? c.decodeRequest : c.decodeResponse)[version];
  if (!dec) throw new Error(`no ${kind} decoder for API ${key} v${version}`);
  const r = new Reader(buf);
  const msg = dec(r);
  return { msg, consumed: r.pos };
}

/**
 * What decoding a message encoded from `{}` (every field left out) should give, per
 * src/protocol/encodable.ts ("every field may be left out (the encoder writes its
 * default)"): the defaults of protocol/README.md, with present non-nullable, untagged
 * structs filled in recursively.
 */
export function leftOutExpected(fields: FieldDef[], version: number, flexible: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const present = isPresent(f, version, flexible);
    if (present && f.type === '{}' && f.tag === null && !isNullableAt(f, version)) {
      out[f.name] = leftOutExpected(f.fields, version, flexible);
    } else if (present && f.type === 'string' && defaultOf(f) === null && !isNullableAt(f, version)) {
      // A null default cannot go on the wire where the field is not nullable: it is sent empty.
      out[f.name] = '';
    } else out[f.name] = defaultOf(f);
  }
  return out;
}
