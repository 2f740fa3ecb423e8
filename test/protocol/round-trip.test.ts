/**
 * Round trip of every generated codec: for every API in API_CODECS, every version, request
 * and response, a message built generically from protocol/*.def (test/helpers/codec-samples.ts)
 * is encoded and decoded. Fields on the wire in that version must come back exactly, fields
 * not on the wire must decode to their defaults, the decoder must consume every byte, and
 * re-encoding the decoded message must give the same bytes.
 */
import { API_CODECS } from '../../src/protocol/generated';
import {
  DEFS,
  KINDS,
  MODES,
  codecOf,
  decodeMessage,
  encodeMessage,
  isFlexibleVersion,
  leftOutExpected,
  sampleMessage,
  versionsOf,
} from '../helpers/codec-samples';

describe('API_CODECS matches protocol/*.def', () => {
  it('has one entry per definition, with the same versions', () => {
    const defined = DEFS.map((a) => ({
      key: a.key,
      name: a.name,
      minVersion: a.minVersion,
      maxVersion: a.maxVersion,
      flexibleFrom: a.flexibleFrom,
    }));
    const tabled = API_CODECS.flatMap((c) =>
      c ? [{ key: c.key, name: c.name, minVersion: c.minVersion, maxVersion: c.maxVersion, flexibleFrom: c.flexibleFrom }] : [],
    );
    expect(tabled).toEqual(defined);
    API_CODECS.forEach((c, i) => c && expect(c.key).toBe(i));
  });

  it.each(DEFS.map((a) => [`${a.key} ${a.name}`, a] as const))('%s has a codec for exactly its versions', (_, api) => {
    const c = codecOf(api.key);
    for (const table of [c.decodeRequest, c.encodeRequest, c.decodeResponse, c.encodeResponse]) {
      expect(table.length).toBe(api.maxVersion + 1);
      for (let v = 0; v <= api.maxVersion; v++) {
        expect(typeof table[v]).toBe(v < api.minVersion ? 'undefined' : 'function');
      }
    }
  });
});

for (const api of DEFS) {
  describe(`${api.key} ${api.name}`, () => {
    const cases = versionsOf(api).flatMap((v) => KINDS.map((kind) => [kind, v] as const));
    it.each(cases)('%s v%d round-trips', (kind, version) => {
      for (const mode of MODES) {
        const where = `${api.name} ${kind} v${version} (${isFlexibleVersion(api, version) ? 'flexible' : 'non-flexible'}), mode ${mode}`;
        const { input, expected } = sampleMessage(api, kind, version, mode);
        const bytes = encodeMessage(api.key, kind, version, input);
        let decoded: { msg: unknown; consumed: number };
        try {
          decoded = decodeMessage(api.key, kind, version, bytes);
        } catch (e) {
          throw new Error(`${where}: decoding our own encoding failed: ${(e as Error).message}\n${bytes.toString('hex')}`);
        }
        if (decoded.consumed !== bytes.length) {
          throw new Error(`${where}: decoder consumed ${decoded.consumed} of ${bytes.length} bytes`);
        }
        try {
          expect(decoded.msg).toStrictEqual(expected);
        } catch (e) {
          throw new Error(`${where}: decoded message differs\n${(e as Error).message}`);
        }
        const again = encodeMessage(api.key, kind, version, decoded.msg);
        if (!again.equals(bytes)) {
          throw new Error(`${where}: re-encoding the decoded message changed the bytes\n${bytes.toString('hex')}\n${again.toString('hex')}`);
        }
      }
    });
  });
}

describe('large byte strings (zero-copy chunks in the Writer)', () => {
  const produce = DEFS.find((a) => a.key === 0)!;
  it.each([8, 9])('Produce request v%d with 10 kB records, as a Buffer and as chunks', (version) => {
    const records = Buffer.alloc(10_000);
    for (let i = 0; i < records.length; i++) records[i] = (i * 31) & 0xff;
    const msg = (r: unknown) => ({ transactionalId: null, acks: 1, timeoutMs: 1, topicData: [{ name: 't', partitionData: [{ index: 0, records: r }] }] });
    const asBuffer = encodeMessage(produce.key, 'request', version, msg(records));
    const asChunks = encodeMessage(produce.key, 'request', version, msg({ length: records.length, chunks: [records.subarray(0, 4096), records.subarray(4096, 4100), records.subarray(4100)] }));
    expect(asChunks.equals(asBuffer)).toBe(true);
    const { msg: decoded, consumed } = decodeMessage(produce.key, 'request', version, asBuffer);
    expect(consumed).toBe(asBuffer.length);
    expect((decoded as { topicData: { partitionData: { records: Buffer }[] }[] }).topicData[0].partitionData[0].records.equals(records)).toBe(true);
  });
});

/**
 * src/protocol/encodable.ts promises that "every field may be left out (the encoder writes
 * its default)": the bytes must decode, to the declared defaults.
 */
describe('encoding a message with every field left out', () => {
  const all = DEFS.flatMap((api) => KINDS.flatMap((kind) => versionsOf(api).map((v) => ({ api, kind, v }))));

  it('always gives bytes the decoder accepts', () => {
    const bad: string[] = [];
    for (const { api, kind, v } of all) {
      const bytes = encodeMessage(api.key, kind, v, {});
      try {
        decodeMessage(api.key, kind, v, bytes);
      } catch (e) {
        bad.push(`${api.name} ${kind} v${v}: ${(e as Error).message}`);
      }
    }
    if (bad.length) throw new Error(`${bad.length} message versions:\n${bad.join('\n')}`);
  });

  it('decodes to the declared defaults', () => {
    const bad: string[] = [];
    for (const { api, kind, v } of all) {
      const fields = kind === 'request' ? api.request : api.response;
      const bytes = encodeMessage(api.key, kind, v, {});
      let msg: unknown;
      try {
        msg = decodeMessage(api.key, kind, v, bytes).msg;
      } catch {
        continue; // the test above
      }
      const want = leftOutExpected(fields, v, isFlexibleVersion(api, v));
      const got = msg as Record<string, unknown>;
      const diffs = fields
        .filter((f) => JSON.stringify(got[f.name]) !== JSON.stringify(want[f.name]))
        .map((f) => `${f.name}: ${JSON.stringify(got[f.name])} instead of ${JSON.stringify(want[f.name])}`);
      if (diffs.length) bad.push(`${api.name} ${kind} v${v}: ${diffs.join(', ')}`);
    }
    if (bad.length) throw new Error(`${bad.length} message versions:\n${bad.join('\n')}`);
  });
});
