/**
 * Error answers built from the message shapes, for every API and version: a populated
 * request (from the definitions, test/helpers/codec-samples.ts) refused whole gives a
 * response that encodes, decodes back, and carries the error; split and merge keep every
 * entry exactly once.
 */
import { DEFS, decodeMessage, encodeMessage, sampleMessage, versionsOf } from '../helpers/codec-samples';
import { mergeError, mirrorError, splitRequest } from '../../src/faults/error-answer';

const CODE = 6;

/** Every value of an error field anywhere in a decoded message. */
function errorValues(m: unknown, out: number[] = []): number[] {
  if (Array.isArray(m)) m.forEach((x) => errorValues(x, out));
  else if (m && typeof m === 'object' && !Buffer.isBuffer(m)) {
    for (const [k, v] of Object.entries(m)) {
      if ((k === 'errorCode' || k.endsWith('ErrorCode')) && typeof v === 'number') out.push(v);
      else errorValues(v, out);
    }
  }
  return out;
}

function decodedRequest(key: number, version: number): Record<string, unknown> {
  const api = DEFS.find((d) => d.key === key)!;
  const { input: msg } = sampleMessage(api, 'request', version, 'full');
  return decodeMessage(key, 'request', version, encodeMessage(key, 'request', version, msg)).msg as Record<string, unknown>;
}

const CASES = DEFS.flatMap((api) => versionsOf(api).map((v) => [api.name, api.key, v] as const));

describe('mirrorError', () => {
  it.each(CASES)('%s (key %i) v%i: the refused request answers an encodable response carrying the error', (_name, key, version) => {
    const answer = mirrorError(key, version, decodedRequest(key, version), CODE);
    const decoded = decodeMessage(key, 'response', version, encodeMessage(key, 'response', version, answer)).msg;
    const errors = errorValues(decoded);
    const hasErrorField = JSON.stringify(DEFS.find((d) => d.key === key)!.response).match(/"name":"(errorCode|\w+ErrorCode)"/);
    if (hasErrorField) expect(errors).toContain(CODE);
  });
});

describe('splitRequest and mergeError', () => {
  it('Produce: topics and partitions split by a filter, merged back without duplicates', () => {
    const request = {
      acks: -1,
      timeoutMs: 1000,
      transactionalId: null,
      topicData: [
        { name: 'a', partitionData: [{ index: 0, records: Buffer.from('x') }, { index: 1, records: Buffer.from('y') }] },
        { name: 'b', partitionData: [{ index: 0, records: Buffer.from('z') }] },
      ],
    };
    expect(splitRequest(0, 9, request, () => false, () => undefined)).toBeNull();
    const split = splitRequest(0, 9, request, (id) => id.topic === 'a' && id.partition === 1, () => undefined)!;
    expect(split.left).toBe(2);
    expect(split.rest.topicData).toEqual([
      { name: 'a', partitionData: [{ index: 0, records: Buffer.from('x') }] },
      { name: 'b', partitionData: [{ index: 0, records: Buffer.from('z') }] },
    ]);
    expect(split.refused.topicData).toEqual([{ name: 'a', partitionData: [{ index: 1, records: Buffer.from('y') }] }]);
    expect(request.topicData[0].partitionData).toHaveLength(2); // the request itself is not modified

    const handled = { responses: [{ name: 'a', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 5 }] }, { name: 'b', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 7 }] }] };
    const merged = mergeError(0, 9, handled, split.refused, CODE) as typeof handled;
    expect(merged.responses.map((t) => [t.name, t.partitionResponses.map((p) => [p.index, p.errorCode])])).toEqual([
      ['a', [[0, 0], [1, CODE]]],
      ['b', [[0, 0]]],
    ]);
    expect(handled.responses[0].partitionResponses).toHaveLength(1); // the handler's answer is not modified
  });

  it('a topic whose partitions are all refused leaves the rest; topic ids resolve to names', () => {
    const request = { topics: [{ topicId: 'ID-A', partitions: [{ partition: 0 }] }, { topicId: 'ID-B', partitions: [{ partition: 0 }] }], maxWaitMs: 500 };
    const split = splitRequest(1, 13, request, (id) => id.topic === 'a', (id) => ({ 'ID-A': 'a', 'ID-B': 'b' })[id])!;
    expect(split.rest.topics).toEqual([{ topicId: 'ID-B', partitions: [{ partition: 0 }] }]);
    expect(split.refused.topics).toEqual([{ topicId: 'ID-A', partitions: [{ partition: 0 }] }]);
    const merged = mergeError(1, 13, { responses: [] }, split.refused, CODE) as { responses: { topicId: string; partitions: { partitionIndex: number; errorCode: number; records: Buffer }[] }[] };
    expect(merged.responses).toEqual([{ topicId: 'ID-A', partitions: [{ partitionIndex: 0, errorCode: CODE, records: Buffer.alloc(0) }] }]);
  });

  it('primitive lists (OffsetFetch partitionIndexes, DescribeGroups ids) are split and mirrored too', () => {
    const of = { groups: [{ groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 't', partitionIndexes: [0, 1, 2] }] }], requireStable: false };
    const split = splitRequest(9, 8, of, (id) => id.partition === 1, () => undefined)!;
    expect((split.rest.groups as any)[0].topics[0].partitionIndexes).toEqual([0, 2]);
    const answer = mirrorError(9, 8, split.refused, CODE) as any;
    expect(answer.groups[0].groupId).toBe('g');
    expect(answer.groups[0].errorCode).toBeUndefined(); // the partition carries it
    expect(answer.groups[0].topics[0].partitions).toEqual([{ partitionIndex: 1, errorCode: CODE }]);
    expect(mirrorError(15, 5, { groups: ['x', 'y'], includeAuthorizedOperations: false }, 16)).toEqual({
      groups: [
        { groupId: 'x', errorCode: 16 },
        { groupId: 'y', errorCode: 16 },
      ],
    });
  });
});
