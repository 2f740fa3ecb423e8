/**
 * Decoder robustness: a connection hands the decoders whatever a peer sent, so for any
 * input a decoder must either return a message or throw ProtocolError (which the
 * connection turns into a clean disconnect) — never another error type, never hang, and
 * never allocate in proportion to a length or count it has not yet checked against the
 * bytes actually left in the frame.
 *
 * For a sample of API versions (first and last version, and both sides of the
 * flexible boundary; requests and responses) valid encodings are truncated at every byte,
 * mutated at random, and have each length prefix replaced by a huge one.
 */
import * as vm from 'vm';
import { ApiDef } from '../../scripts/protocol-def';
import { ProtocolError, Reader } from '../../src/protocol/reader';
import { RecordsPayload, Writer } from '../../src/protocol/writer';
import { DEFS, KINDS, Kind, Rng, codecOf, decodeMessage, encodeMessage, hashSeed, sampleMessage } from '../helpers/codec-samples';
import { hex } from '../helpers/codec-hex';

/** Per message; a decoder that loops forever is stopped and reported instead of hanging jest. */
const HANG_TIMEOUT_MS = 10_000;
const MUTATIONS_PER_MESSAGE = 150;

function sampledVersions(api: ApiDef): number[] {
  const vs = new Set([api.minVersion, api.maxVersion]);
  if (api.flexibleFrom !== null) {
    vs.add(api.flexibleFrom);
    if (api.flexibleFrom - 1 >= api.minVersion) vs.add(api.flexibleFrom - 1);
  }
  return [...vs].filter((v) => v >= api.minVersion && v <= api.maxVersion).sort((a, b) => a - b);
}

const CASES = DEFS.flatMap((api) =>
  sampledVersions(api).flatMap((version) => KINDS.map((kind) => ({ api, kind, version, name: `${api.key} ${api.name} ${kind} v${version}` }))),
);

/** Runs fn with a watchdog: an infinite loop in a decoder surfaces as a test failure. */
const watchdog = { box: { fn: (): unknown => undefined, out: undefined as unknown } };
const watchdogContext = vm.createContext(watchdog);
const watchdogScript = new vm.Script('box.out = box.fn()');

function withoutHanging<T>(what: string, fn: () => T, timeoutMs = HANG_TIMEOUT_MS): T {
  const box = { fn: fn as () => unknown, out: undefined as unknown };
  watchdog.box = box;
  try {
    watchdogScript.runInContext(watchdogContext, { timeout: timeoutMs });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new Error(`${what}: decoding did not finish within ${timeoutMs} ms`);
    }
    throw e;
  }
  return box.out as T;
}

type Outcome = { ok: true; msg: unknown } | { ok: false; error: unknown };

function tryDecode(key: number, kind: Kind, version: number, buf: Buffer): Outcome {
  try {
    return { ok: true, msg: decodeMessage(key, kind, version, buf).msg };
  } catch (error) {
    return { ok: false, error };
  }
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.constructor.name}: ${e.message}\n${e.stack}` : String(e);
}

/**
 * Replaces the global Array constructor while fn runs, recording every `new Array(n)` whose
 * length exceeds `limit` (the generated decoders preallocate arrays with `new Array(count)`).
 */
function bigArrayAllocations(limit: number, fn: () => void): number[] {
  const seen: number[] = [];
  const original = globalThis.Array;
  globalThis.Array = new Proxy(original, {
    construct(target, args, newTarget) {
      if (args.length === 1 && typeof args[0] === 'number' && args[0] > limit) seen.push(args[0]);
      return Reflect.construct(target, args, newTarget);
    },
  });
  try {
    fn();
  } finally {
    globalThis.Array = original;
  }
  return seen;
}

interface LengthPrefix {
  what: 'array' | 'string' | 'bytes';
  compact: boolean;
  at: number;
  size: number;
}

/** A Writer that remembers where each top-level length prefix (array count, string or bytes length) went. */
class TrackingWriter extends Writer {
  readonly prefixes: LengthPrefix[] = [];
  private track(what: LengthPrefix['what'], compact: boolean, isNull: boolean, write: () => void): void {
    const at = this.length;
    write();
    if (!isNull) this.prefixes.push({ what, compact, at, size: -1 });
  }
  override arrayLength(n: number | null, compact: boolean): void {
    this.track('array', compact, n === null, () => super.arrayLength(n, compact));
  }
  override string(v: string | null | undefined, compact: boolean): void {
    this.track('string', compact, v == null, () => super.string(v, compact));
  }
  override bytes(v: Buffer | RecordsPayload | null | undefined, compact: boolean, nullable: boolean): void {
    this.track('bytes', compact, v == null && nullable, () => super.bytes(v, compact, nullable));
  }
}

function prefixSize(buf: Buffer, p: LengthPrefix): number {
  if (!p.compact) return p.what === 'string' ? 2 : 4;
  let i = p.at;
  while (buf[i] & 0x80) i++;
  return i - p.at + 1;
}

function hugePrefix(p: LengthPrefix): Buffer[] {
  if (p.compact) return [hex`ffffffff0f`, hex`ffffffff7f`, hex`8080808008`]; // 2^32-1, 2^35-1, 2^31
  if (p.what === 'string') return [hex`7fff`];
  return [hex`7fffffff`, hex`40000000`];
}

describe('decoder robustness', () => {
  it('ProtocolError is a distinct Error subclass', () => {
    const e = new ProtocolError('x');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ProtocolError');
  });

  describe.each(CASES)('$name', ({ api, kind, version, name }) => {
    const { input } = sampleMessage(api, kind, version, 'full');
    const tracking = new TrackingWriter();
    const valid = encodeMessage(api.key, kind, version, input, tracking);

    it('rejects every truncation with ProtocolError', () => {
      withoutHanging(name, () => {
        for (let cut = 0; cut < valid.length; cut++) {
          const out = tryDecode(api.key, kind, version, valid.subarray(0, cut));
          if (out.ok) throw new Error(`${name}: decoded ${cut} of ${valid.length} bytes without error`);
          if (!(out.error instanceof ProtocolError)) {
            throw new Error(`${name}: truncated at ${cut} of ${valid.length}: ${describeError(out.error)}\n${valid.toString('hex')}`);
          }
        }
      });
    });

    it('decodes random mutations or throws ProtocolError, and what decodes re-encodes', () => {
      const rng = new Rng(hashSeed('mutate', name));
      withoutHanging(name, () => {
        for (let i = 0; i < MUTATIONS_PER_MESSAGE; i++) {
          const buf = Buffer.from(valid);
          const flips = rng.int(1, 3);
          for (let j = 0; j < flips && buf.length; j++) {
            const at = rng.int(0, buf.length - 1);
            buf[at] = rng.bool() ? buf[at] ^ (1 << rng.int(0, 7)) : rng.pick([0x00, 0x01, 0x7f, 0x80, 0xff, rng.int(0, 255)]);
          }
          const out = tryDecode(api.key, kind, version, buf);
          if (!out.ok && !(out.error instanceof ProtocolError)) {
            throw new Error(`${name}: mutated input: ${describeError(out.error)}\n${buf.toString('hex')}`);
          }
          if (out.ok) {
            try {
              encodeMessage(api.key, kind, version, out.msg);
            } catch (e) {
              throw new Error(`${name}: a decoded message does not re-encode: ${describeError(e)}\n${buf.toString('hex')}`);
            }
          }
        }
      });
    });

    it('rejects huge counts and lengths without allocating for them', () => {
      const prefixes = tracking.prefixes.map((p) => ({ ...p, size: prefixSize(valid, p) }));
      for (const p of prefixes) {
        for (const huge of hugePrefix(p)) {
          const buf = Buffer.concat([valid.subarray(0, p.at), huge, valid.subarray(p.at + p.size)]);
          const what = `${name}: ${p.compact ? 'compact ' : ''}${p.what} length at byte ${p.at} set to ${huge.toString('hex')}`;
          let out: Outcome | undefined;
          const big = bigArrayAllocations(buf.length, () => {
            out = withoutHanging(what, () => tryDecode(api.key, kind, version, buf));
          });
          if (big.length) throw new Error(`${what}: allocated arrays of ${big.join(', ')} elements`);
          if (out!.ok) throw new Error(`${what}: decoded without error`);
          if (!(out as { error: unknown }).error || !((out as { error: unknown }).error instanceof ProtocolError)) {
            throw new Error(`${what}: ${describeError((out as { error: unknown }).error)}`);
          }
        }
      }
    });
  });

  it('random garbage decodes or throws ProtocolError', () => {
    const rng = new Rng(12345);
    withoutHanging('garbage', () => {
      for (const api of DEFS) {
        for (const kind of KINDS) {
          for (let v = api.minVersion; v <= api.maxVersion; v++) {
            for (let i = 0; i < 4; i++) {
              const buf = rng.bytes(rng.int(0, 64));
              const out = tryDecode(api.key, kind, v, buf);
              if (!out.ok && !(out.error instanceof ProtocolError)) {
                throw new Error(`${api.name} ${kind} v${v}: ${describeError(out.error)}\n${buf.toString('hex')}`);
              }
            }
          }
        }
      }
    });
  });

  describe('hand-made hostile frames', () => {
    const cases: [string, number, Kind, number, Buffer][] = [
      ['int32 array count 2^31-1 (Metadata request v8)', 3, 'request', 8, hex`7fffffff 01 00 00`],
      ['int32 array count -2 (Metadata request v8)', 3, 'request', 8, hex`fffffffe 01 00 00`],
      ['null in a non-nullable array (Metadata request v0)', 3, 'request', 0, hex`ffffffff`],
      ['uvarint array count 2^32-2 (Metadata request v9)', 3, 'request', 9, hex`ffffffff0f 01 00 00 00`],
      ['uvarint longer than 5 bytes (Metadata request v9)', 3, 'request', 9, hex`ffffffffff01 01 00 00 00`],
      ['primitive array count 2^31-1 (CreateTopics request v4 broker_ids)', 19, 'request', 4,
        hex`00000001 0003 666f6f 00000001 0001 00000001 00000000 7fffffff`],
      ['tagged-field count 2^32-1 (ApiVersions request v3)', 18, 'request', 3, hex`01 01 ffffffff0f`],
      ['tagged-field size 2^32-1 (ApiVersions request v3)', 18, 'request', 3, hex`01 01 01 05 ffffffff0f 00`],
      ['known tagged field overrunning its size (ApiVersions response v3)', 18, 'response', 3,
        hex`0000 01 00000000 01 01 04 0000000000000005`],
      ['string length 32767 in a 10-byte frame (Produce request v8)', 0, 'request', 8, hex`7fff 0000 00000000 00`],
      ['null in a non-nullable string (Metadata request v8 topic name)', 3, 'request', 8, hex`00000001 ffff 01 00 00`],
      ['null in non-nullable compact string (ApiVersions request v3)', 18, 'request', 3, hex`00 01 00`],
      ['bytes length 2^31-1 (Produce request v8 records)', 0, 'request', 8,
        hex`ffff ffff 00007530 00000001 0003 666f6f 00000001 00000000 7fffffff deadbeef`],
    ];
    it.each(cases)('%s', (what, key, kind, version, buf) => {
      let out: Outcome | undefined;
      const big = bigArrayAllocations(buf.length, () => {
        out = withoutHanging(what, () => tryDecode(key, kind, version, buf));
      });
      expect(big).toEqual([]);
      expect(out!.ok).toBe(false);
      expect((out as { error: unknown }).error).toBeInstanceOf(ProtocolError);
    });
  });

  it('the watchdog stops a decoder that loops forever (guards the hang checks above)', () => {
    expect(() =>
      withoutHanging(
        'spin',
        () => {
          for (;;);
        },
        50,
      ),
    ).toThrow('spin: decoding did not finish within 50 ms');
    expect(withoutHanging('value', () => 42)).toBe(42);
  });

  it('the TrackingWriter finds every length prefix (guards the huge-length checks above)', () => {
    const w = new TrackingWriter();
    const bytes = encodeMessage(19, 'request', 5, {
      topics: [{ name: 'foo', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [{ name: 'x', value: null }] }],
      timeoutMs: 0,
      validateOnly: false,
    }, w);
    // 02 | 04 666f6f | ffffffff ffff | 01 | 02 | 02 78 | 00 | 00 | 00 | 00000000 00 00
    expect(bytes.toString('hex')).toBe('0204666f6f' + 'ffffffffffff' + '01' + '02' + '0278' + '00' + '00' + '00' + '00000000' + '00' + '00');
    expect(w.prefixes.map((p) => [p.what, p.at])).toEqual([
      ['array', 0],
      ['string', 1],
      ['array', 11],
      ['array', 12],
      ['string', 13],
    ]);
  });

  it('the Array spy sees the decoders preallocating arrays (guards the allocation checks above)', () => {
    const buf = hex`00000003 0001 61 0001 62 0001 63 01 00 00`; // Metadata request v8: 3 topics
    const big = bigArrayAllocations(2, () => decodeMessage(3, 'request', 8, buf));
    expect(big).toEqual([3]);
  });

  it('a Reader never reads past its end, even inside a larger buffer', () => {
    const bytes = hex`0003 666f6f ffff`;
    const r = new Reader(bytes, 0, 4); // frame ends inside the string
    expect(() => r.string()).toThrow(ProtocolError);
    expect(() => codecOf(3).decodeRequest[8]!(new Reader(hex`00000001 0003 666f6f 01 00 00`, 0, 9))).toThrow(ProtocolError);
  });
});
