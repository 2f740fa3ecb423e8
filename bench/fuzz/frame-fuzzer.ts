/**
 * Structure-aware request frames for the fuzzer. Each frame starts as a valid request of
 * one API version, sampled from the message definitions (protocol/*.def through
 * test/helpers/codec-samples.ts), then:
 *   - field values may be replaced by edge values (limits, -1, empty and long strings, the
 *     fuzz topics' names, path-like names, records from batch-fuzzer.ts on Produce);
 *   - the encoded bytes may be mutated where the structure says it hurts: string, bytes and
 *     array length prefixes set huge or negative, varints made overlong, tagged-field
 *     sections filled with bad tags and sizes, the frame truncated, bytes flipped or
 *     inserted, the header written in the wrong version, unknown API keys and versions,
 *     bad frame sizes.
 * The frame's size prefix is always right except in the 'frame-size' mutation (a too-short
 * prefix would be indistinguishable from a slow client).
 */
import { ApiDef, FieldDef, inRange } from '../../scripts/protocol-def';
import { API_CODECS } from '../../src/protocol/generated';
import { isFlexible, readHeaderRest, readHeaderStart } from '../../src/protocol/headers';
import { Reader } from '../../src/protocol/reader';
import { RecordsPayload, Writer } from '../../src/protocol/writer';
import { DEFS, MODES, Rng, sampleMessage } from '../../test/helpers/codec-samples';
import { BatchMutation, FUZZ_T0, fuzzBatch } from './batch-fuzzer';

export interface AdvertisedApi {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export interface FuzzFrame {
  /** The whole frame, size prefix included. */
  bytes: Buffer;
  /** Header fields as the broker will read them (after mutation). */
  apiKey: number;
  version: number;
  correlationId: number;
  /** What was done, e.g. "Produce v9 fields+huge-length" (for the report). */
  mutation: string;
  batchMutation: BatchMutation | null;
  /** The broker answers nothing by design (Produce with acks=0 that decodes). */
  silent: boolean;
}

/** Length prefixes seen while encoding: where, and in which form. */
interface LengthSite {
  pos: number;
  form: 'int16' | 'int32' | 'uvarint';
}

class TracingWriter extends Writer {
  readonly sites: LengthSite[] = [];

  override string(v: string | null | undefined, compact: boolean): void {
    this.sites.push({ pos: this.length, form: compact ? 'uvarint' : 'int16' });
    super.string(v, compact);
  }

  override bytes(v: Buffer | RecordsPayload | null | undefined, compact: boolean, nullable: boolean): void {
    this.sites.push({ pos: this.length, form: compact ? 'uvarint' : 'int32' });
    super.bytes(v, compact, nullable);
  }

  override arrayLength(n: number | null, compact: boolean): void {
    this.sites.push({ pos: this.length, form: compact ? 'uvarint' : 'int32' });
    super.arrayLength(n, compact);
  }
}

export const FRAME_MUTATIONS = [
  'none',
  'huge-length',
  'bad-varint',
  'bad-tagged-fields',
  'truncate',
  'flip',
  'insert',
  'header-version',
  'unknown-api',
  'bad-version',
  'frame-size',
] as const;
export type FrameMutation = (typeof FRAME_MUTATIONS)[number];

/** APIs whose target names are not substituted: the fuzz topics must survive the run. */
const NO_TARGETS = new Set([20, 21, 33, 37, 44]);
const WAIT_FIELD = /timeout|wait|delay|backoff|lingerMs|intervalMs/i;
const PATHLIKE = ['..', '.', '../../escape', 'a/b', '/tmp/x', '\u0000', ' ', 'x'.repeat(249), 'x'.repeat(300), '__consumer_offsets', '__transaction_state'];

export interface FrameFuzzerOptions {
  seed: number;
  /** APIs and versions from the broker's ApiVersions answer. */
  advertised: AdvertisedApi[];
  /** Topic names worth hitting (created by the runner); never the canary. */
  targets: string[];
  /** Their topic ids (base64url), for the versions that name topics by id. */
  targetIds: string[];
  /** The broker's max request size (frames over it must close the connection). */
  maxRequestBytes: number;
}

export class FrameFuzzer {
  private readonly rng: Rng;
  private readonly defs = new Map<number, ApiDef>();
  private correlationId = 1;

  constructor(private readonly opts: FrameFuzzerOptions) {
    this.rng = new Rng(opts.seed);
    for (const d of DEFS) this.defs.set(d.key, d);
  }

  async next(): Promise<FuzzFrame> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.generate();
      } catch (err) {
        // An edge value the encoder cannot write (a fuzzer limitation, not a finding): draw again.
        if (attempt > 20) throw err;
      }
    }
  }

  private async generate(): Promise<FuzzFrame> {
    const rng = this.rng;
    // Produce (record batches, the decompressing paths) and ListOffsets (timestamp lookups) get extra weight.
    const boosted = rng.int(0, 9);
    const pickKey = boosted < 2 ? 0 : boosted === 2 ? 2 : -1;
    const adv = this.opts.advertised.find((a) => a.apiKey === pickKey) ?? rng.pick(this.opts.advertised);
    const def = this.defs.get(adv.apiKey);
    const codec = API_CODECS[adv.apiKey];
    const version = rng.int(adv.minVersion, adv.maxVersion);
    if (!def || !codec?.encodeRequest[version]) throw new Error(`no definition for advertised API ${adv.apiKey} v${version}`);
    const sample = sampleMessage(def, 'request', version, rng.pick(MODES), rng.u32()).input;
    const changed = rng.int(0, 2) !== 0 ? this.mutateFields(def.request, sample, version, adv.apiKey) : 0;
    let batchMutation: BatchMutation | null = null;
    if (adv.apiKey === 0) batchMutation = await this.produceRecords(sample, version);
    clampWaits(def.request, sample, version);

    const flexible = isFlexible(codec, version);
    const correlationId = this.correlationId++ & 0x7fffffff;
    const w = new TracingWriter();
    w.int32(0);
    w.int16(adv.apiKey);
    w.int16(version);
    w.int32(correlationId);
    w.string(rng.int(0, 20) === 0 ? null : 'samsa-fuzz', false);
    const headerTags = w.length;
    if (flexible) w.uvarint(0);
    const bodyStart = w.length;
    codec.encodeRequest[version]!(w, sample);
    let bytes = w.toBuffer();

    // Half the frames stay well-formed so that handlers see them; the rest mostly end in a close.
    const mutation: FrameMutation = rng.bool() ? 'none' : rng.pick(FRAME_MUTATIONS);
    bytes = this.mutateBytes(mutation, bytes, w.sites, flexible, headerTags, bodyStart, adv);
    if (mutation !== 'frame-size') bytes.writeInt32BE(bytes.length - 4, 0);
    const read = readHeader(bytes);
    return {
      bytes,
      apiKey: read.apiKey,
      version: read.version,
      correlationId: read.correlationId,
      mutation: `${codec.name} v${version}${changed > 0 ? ' fields' : ''}${batchMutation ? ` batch:${batchMutation}` : ''} ${mutation}`,
      batchMutation,
      silent: isSilentProduce(bytes),
    };
  }

  // ---- field values ----

  /** Replaces some field values by edge values; returns how many. */
  private mutateFields(fields: FieldDef[], obj: Record<string, unknown>, version: number, apiKey: number): number {
    let n = 0;
    const rate = this.rng.pick([2, 4, 8]);
    for (const f of fields) {
      if (!inRange(f.versions, version)) continue;
      const v = obj[f.name];
      if (f.type === '{}') {
        if (v && typeof v === 'object') n += this.mutateFields(f.fields, v as Record<string, unknown>, version, apiKey);
        continue;
      }
      if (f.type === '[]') {
        if (!Array.isArray(v)) continue;
        if (this.rng.int(0, rate * 2) === 0) {
          // Emptied, or the same element many times (duplicate topics, partitions, members).
          obj[f.name] = this.rng.bool() || v.length === 0 ? [] : Array.from({ length: this.rng.int(2, 64) }, () => v[0]);
          n++;
        }
        for (const item of obj[f.name] as Record<string, unknown>[]) n += this.mutateFields(f.fields, item, version, apiKey);
        continue;
      }
      if (this.rng.int(0, rate) !== 0) continue;
      const item = /^\[(\w+)\]$/.exec(f.type)?.[1];
      if (item) {
        obj[f.name] = this.rng.bool() ? [] : Array.from({ length: this.rng.int(1, 40) }, () => this.edgeValue(item, f.name, apiKey));
      } else {
        obj[f.name] = this.edgeValue(f.type, f.name, apiKey);
      }
      n++;
    }
    return n;
  }

  private edgeValue(type: string, name: string, apiKey: number): unknown {
    const rng = this.rng;
    const targets = this.opts.targets;
    switch (type) {
      case 'bool':
        return rng.bool();
      case 'int8':
        return rng.pick([-128, -1, 0, 1, 127]);
      case 'int16':
        return rng.pick([-32768, -2, -1, 0, 1, 32767]);
      case 'uint16':
        return rng.pick([0, 1, 65535]);
      case 'int32':
        if (/partition|index/i.test(name)) return rng.pick([0, 0, 1, -1, 2147483647]);
        return rng.pick([-2147483648, -2, -1, 0, 1, 2147483647, rng.int(0, 1 << 20)]);
      case 'uint32':
        return rng.pick([0, 1, 4294967295]);
      case 'int64':
        if (/timestamp/i.test(name)) return rng.pick([-1, -2, -3, -4, -5, 0, FUZZ_T0, FUZZ_T0 + rng.int(0, 120_000), 2 ** 62]);
        return rng.pick([-(2 ** 63), -2, -1, 0, 1, 2 ** 53, 2 ** 63, rng.int(0, 1 << 30)]);
      case 'float64':
        return rng.pick([NaN, Infinity, -Infinity, -0, 1e308, 0.5]);
      case 'uuid':
        if (/topic/i.test(name) && !NO_TARGETS.has(apiKey) && rng.bool()) return rng.pick(this.opts.targetIds);
        return rng.pick(['AAAAAAAAAAAAAAAAAAAAAA', '_____________________w', rng.bytes(16).toString('base64url')]);
      case 'string':
        if (/topic|name/i.test(name) && !NO_TARGETS.has(apiKey) && rng.bool()) return rng.pick(targets);
        return rng.pick([...PATHLIKE, '', 'é漢😀', rng.bytes(8).toString('latin1')]);
      case 'bytes':
        return rng.pick([Buffer.alloc(0), rng.bytes(rng.int(1, 64)), Buffer.alloc(rng.int(1, 70_000), 0x41)]);
      case 'records':
        return rng.pick([Buffer.alloc(0), rng.bytes(rng.int(1, 100))]);
      default:
        return null;
    }
  }

  /** Produce: most frames carry a fuzzed batch for one of the fuzz topics. */
  private async produceRecords(sample: Record<string, unknown>, version: number): Promise<BatchMutation | null> {
    if (this.rng.int(0, 4) === 0) return null;
    const { records, mutation } = await fuzzBatch(this.rng);
    const t = this.rng.int(0, this.opts.targets.length - 1);
    sample.topicData = [{ name: this.opts.targets[t], topicId: this.opts.targetIds[t], partitionData: [{ index: this.rng.int(0, 9) === 0 ? 1 : 0, records }] }];
    if (sample.acks === undefined || this.rng.int(0, 3) !== 0) sample.acks = this.rng.pick([-1, 1]);
    if (version >= 3 && this.rng.int(0, 5) !== 0) sample.transactionalId = null;
    return mutation;
  }

  // ---- bytes ----

  private mutateBytes(m: FrameMutation, b: Buffer, sites: LengthSite[], flexible: boolean, headerTags: number, bodyStart: number, adv: AdvertisedApi): Buffer {
    const rng = this.rng;
    switch (m) {
      case 'none':
        return b;
      case 'huge-length': {
        const body = sites.filter((s) => s.pos >= bodyStart);
        if (body.length === 0) return b;
        const s = rng.pick(body);
        if (s.form === 'int16') {
          b.writeInt16BE(rng.pick([32767, -2, -32768, b.readInt16BE(s.pos) + 1]), s.pos);
          return b;
        }
        if (s.form === 'int32') {
          b.writeInt32BE(rng.pick([2147483647, -2, -2147483648, 1 << 24, b.readInt32BE(s.pos) + 1]), s.pos);
          return b;
        }
        const huge = rng.pick([[0xff, 0xff, 0xff, 0xff, 0x0f], [0xff, 0xff, 0xff, 0xff, 0x07], [0x80, 0x80, 0x80, 0x80, 0x08], [0xff, 0xff, 0x03]]);
        return splice(b, s.pos, varintLength(b, s.pos), Buffer.from(huge));
      }
      case 'bad-varint': {
        const vs = sites.filter((s) => s.form === 'uvarint' && s.pos >= bodyStart);
        if (vs.length === 0) return flexible ? splice(b, headerTags, 1, Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80])) : b;
        const s = rng.pick(vs);
        // Overlong (6+ bytes), or cut after a continuation byte.
        if (rng.bool()) return splice(b, s.pos, varintLength(b, s.pos), Buffer.alloc(rng.int(6, 12), 0x81));
        return Buffer.concat([b.subarray(0, s.pos), Buffer.from([0xff, 0xff])]);
      }
      case 'bad-tagged-fields': {
        if (!flexible) return b;
        const bad = rng.pick([
          [0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f], // one field, size 4 GiB
          [0x02, 0x05, 0x01, 0x00], // two fields announced, one present
          [0x01, 0x00, 0x03, 0x01], // size past the end
          [0xff, 0xff, 0xff, 0xff, 0x0f], // 4 billion fields
          [0x02, 0x07, 0x00, 0x07, 0x00], // duplicate tag
          [0x02, 0x09, 0x00, 0x03, 0x00], // tags out of order
          [0x01, 0x00, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff], // a known tag (0) with junk of the right size
          [0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00], // tag 2^32-1
        ]);
        // The header's section, or the body's last (top-level) section when it is empty.
        if (rng.bool() || b[b.length - 1] !== 0) return splice(b, headerTags, 1, Buffer.from(bad));
        return Buffer.concat([b.subarray(0, b.length - 1), Buffer.from(bad)]);
      }
      case 'truncate':
        return b.subarray(0, rng.int(4, b.length - 1));
      case 'flip': {
        const out = Buffer.from(b);
        for (let i = rng.int(1, 8); i > 0; i--) {
          const at = rng.int(bodyStart, Math.max(bodyStart, out.length - 1));
          if (at < out.length) out[at] ^= 1 << rng.int(0, 7);
        }
        return out;
      }
      case 'insert': {
        const at = rng.int(bodyStart, b.length);
        return splice(b, at, 0, rng.pick([rng.bytes(rng.int(1, 16)), Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from([0x00])]));
      }
      case 'header-version':
        // A flexible API without its header tag section, or a non-flexible one with an extra byte there.
        return flexible ? splice(b, headerTags, 1, Buffer.alloc(0)) : splice(b, headerTags, 0, Buffer.from([rng.pick([0, 1, 0x80])]));
      case 'unknown-api': {
        const known = new Set(this.opts.advertised.map((a) => a.apiKey));
        let key = rng.pick([-1, -32768, 32767, 1000, rng.int(0, 120)]);
        while (known.has(key)) key = rng.int(100, 30000);
        b.writeInt16BE(key, 4);
        return b;
      }
      case 'bad-version':
        b.writeInt16BE(rng.pick([-1, -32768, 32767, adv.maxVersion + 1, adv.maxVersion + rng.int(2, 20), Math.max(-1, adv.minVersion - 1)]), 6);
        return b;
      case 'frame-size':
        b.writeInt32BE(rng.pick([-1, -2147483648, this.opts.maxRequestBytes + 1, 2147483647]), 0);
        return b;
    }
  }
}

function splice(b: Buffer, at: number, remove: number, insert: Buffer): Buffer {
  return Buffer.concat([b.subarray(0, at), insert, b.subarray(Math.min(b.length, at + remove))]);
}

function varintLength(b: Buffer, pos: number): number {
  let n = 0;
  while (pos + n < b.length && (b[pos + n] & 0x80) !== 0) n++;
  return n + 1;
}

/** Timeouts and waits are kept under 2 s so that a correct broker answers within the run's timeout. */
function clampWaits(fields: FieldDef[], obj: Record<string, unknown>, version: number): void {
  for (const f of fields) {
    if (!inRange(f.versions, version)) continue;
    const v = obj[f.name];
    if (f.type === '{}' && v && typeof v === 'object') clampWaits(f.fields, v as Record<string, unknown>, version);
    else if (f.type === '[]' && Array.isArray(v)) for (const x of v) clampWaits(f.fields, x as Record<string, unknown>, version);
    else if (typeof v === 'number' && WAIT_FIELD.test(f.name) && v > 2000) obj[f.name] = v % 2000;
  }
}

function readHeader(bytes: Buffer): { apiKey: number; version: number; correlationId: number } {
  if (bytes.length < 12) return { apiKey: -1, version: -1, correlationId: -1 };
  return { apiKey: bytes.readInt16BE(4), version: bytes.readInt16BE(6), correlationId: bytes.readInt32BE(8) };
}

/** Whether the broker will decode this frame as a Produce with acks=0 (it then sends nothing). */
function isSilentProduce(bytes: Buffer): boolean {
  if (bytes.length < 12 || bytes.readInt32BE(0) !== bytes.length - 4) return false;
  try {
    const r = new Reader(bytes, 4);
    const { apiKey, apiVersion } = readHeaderStart(r);
    if (apiKey !== 0) return false;
    const codec = API_CODECS[0]!;
    const decode = codec.decodeRequest[apiVersion];
    if (!decode) return false;
    readHeaderRest(r, isFlexible(codec, apiVersion));
    return (decode(r) as { acks: number }).acks === 0;
  } catch {
    return false;
  }
}
