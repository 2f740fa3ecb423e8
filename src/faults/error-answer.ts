/**
 * Error answers built from the message shapes (src/protocol/generated/shapes.ts), for any
 * API and version, without per-API code.
 *
 * Most Kafka responses mirror their request: the request's topics / partitions (or group
 * ids, coordinator keys, resources) come back as response entries, each with its own error
 * code. From the shapes we pair each response array that carries an error code somewhere
 * below it with the request array it answers (same name, else the first request array at
 * that level: topicData -> responses, partitionData -> partitionResponses, coordinatorKeys
 * -> coordinators), and copy the entries' identity (topic name or id, partition index,
 * group id, key) across. That gives three operations:
 *
 *   mirror: the whole request refused, as a broker that does no work answers it: every
 *           innermost entry gets the error; a level with no entries below it (JoinGroup,
 *           FindCoordinator v0-3, InitProducerId, ...) takes it in its own errorCode;
 *   split:  the request cut in two by a topic/partition filter: the refused entries and the
 *           rest (parents left empty by the cut are dropped from the rest);
 *   merge:  the answer of the handler that ran on the rest, plus error entries for the
 *           refused part.
 *
 * Records fields are never looked at, so a Fetch answer keeps its file regions (zero-copy).
 */
import type { ApiShape, FieldShape } from '../protocol/generated/shapes';

/** The shapes module is large: required when a fault first needs it, not at broker startup. */
let shapes: ReadonlyArray<ApiShape | undefined> | null = null;

type Obj = Record<string, unknown>;

/** A request array paired with the response array that answers it. */
interface Pair {
  reqName: string;
  respName: string;
  /** The item type when the request array holds primitives ([int32], [string]); null for structs. */
  reqPrim: string | null;
  /** The level of one item (request item fields -> response item fields). */
  item: Level;
}

interface Level {
  pairs: Pair[];
  /** Response fields of this level present in the version (identity copy, error field). */
  respFields: FieldShape[];
  /** Where this level's error code goes, if it has one. */
  errorField: string | null;
}

/** What a request entry says about itself, for topic/partition filters. */
export interface EntryIdentity {
  topic?: string;
  partition?: number;
}

export interface Split {
  /** The request without the refused entries (what the handler still runs on). */
  rest: Obj;
  /** The refused entries, in the request's own shape. */
  refused: Obj;
  /** Entries left in `rest` (0: nothing for the handler to do). */
  left: number;
}

const TOPIC_FIELDS = new Set(['name', 'topic', 'topicName']);
const PARTITION_FIELDS = new Set(['index', 'partition', 'partitionIndex', 'partitionId']);
const IDENTITY_TYPES = new Set(['string', 'uuid', 'int8', 'int16', 'int32']);
const EMPTY = Buffer.alloc(0);

function present(f: FieldShape, v: number): boolean {
  return v >= f[2] && (f[3] < 0 || v <= f[3]);
}

function isArray(f: FieldShape): boolean {
  return f[1] === '[]' || (f[1].startsWith('[') && f[1].length > 2);
}

function errorFieldOf(fields: FieldShape[]): string | null {
  if (fields.some((f) => f[0] === 'errorCode' && f[1] === 'int16')) return 'errorCode';
  // AddPartitionsToTxn names it partitionErrorCode; CreateTopics' topicConfigErrorCode sits next to an errorCode.
  const named = fields.filter((f) => f[1] === 'int16' && f[0].endsWith('ErrorCode'));
  return named.length === 1 ? named[0][0] : null;
}

function carriesError(f: FieldShape, v: number): boolean {
  if (f[1] !== '[]') return false;
  const children = (f[4] ?? []).filter((c) => present(c, v));
  return errorFieldOf(children) !== null || children.some((c) => carriesError(c, v));
}

function buildLevel(reqFields: ReadonlyArray<FieldShape>, respFields: ReadonlyArray<FieldShape>, v: number): Level {
  const resp = respFields.filter((f) => present(f, v));
  const candidates = reqFields.filter((f) => present(f, v) && isArray(f));
  const used = new Set<FieldShape>();
  const pairs: Pair[] = [];
  for (const rf of resp) {
    if (!carriesError(rf, v)) continue;
    const partner = candidates.find((c) => !used.has(c) && c[0] === rf[0]) ?? candidates.find((c) => !used.has(c));
    if (!partner) continue;
    used.add(partner);
    const prim = partner[1] === '[]' ? null : partner[1].slice(1, -1);
    pairs.push({ reqName: partner[0], respName: rf[0], reqPrim: prim, item: buildLevel(prim === null ? (partner[4] ?? []) : [], rf[4] ?? [], v) });
  }
  return { pairs, respFields: resp, errorField: errorFieldOf(resp) };
}

const levels = new Map<number, Level>();

function levelOf(apiKey: number, version: number): Level {
  const k = apiKey * 1000 + version;
  let l = levels.get(k);
  if (!l) {
    shapes ??= (require('../protocol/generated/shapes') as typeof import('../protocol/generated/shapes')).API_SHAPES;
    const shape = shapes[apiKey];
    if (!shape) throw new Error(`no message shape for API key ${apiKey}`);
    l = buildLevel(shape.request, shape.response, version);
    levels.set(k, l);
  }
  return l;
}

function isLeaf(p: Pair): boolean {
  return p.reqPrim !== null || p.item.pairs.length === 0;
}

function identityOf(item: unknown, p: Pair, outer: EntryIdentity, topicById: (id: string) => string | undefined): EntryIdentity {
  if (p.reqPrim !== null) {
    if (p.reqPrim === 'int32' && /partition/i.test(p.reqName)) return { ...outer, partition: item as number };
    if (p.reqPrim === 'string' && /topic/i.test(p.reqName)) return { ...outer, topic: item as string };
    return outer;
  }
  const o = item as Obj;
  let id = outer;
  for (const [k, val] of Object.entries(o)) {
    if (TOPIC_FIELDS.has(k) && typeof val === 'string' && val !== '') id = { ...id, topic: val };
    else if (k === 'topicId' && typeof val === 'string' && id.topic === undefined) {
      const name = topicById(val);
      if (name !== undefined) id = { ...id, topic: name };
    } else if (PARTITION_FIELDS.has(k) && typeof val === 'number') id = { ...id, partition: val };
  }
  return id;
}

/**
 * Cuts a request into the entries `refuse` selects and the rest. Returns null when no entry
 * is selected. The request object is not modified.
 */
export function splitRequest(
  apiKey: number,
  version: number,
  request: Obj,
  refuse: (id: EntryIdentity) => boolean,
  topicById: (id: string) => string | undefined,
): Split | null {
  const r = splitLevel(request, levelOf(apiKey, version), {}, refuse, topicById);
  return r.refused ? { rest: r.rest, refused: r.refused, left: r.left } : null;
}

function splitLevel(
  obj: Obj,
  level: Level,
  id: EntryIdentity,
  refuse: (id: EntryIdentity) => boolean,
  topicById: (id: string) => string | undefined,
): { rest: Obj; refused: Obj | null; left: number } {
  let rest: Obj | null = null;
  let refused: Obj | null = null;
  let left = 0;
  for (const p of level.pairs) {
    const arr = obj[p.reqName];
    if (!Array.isArray(arr)) {
      // A null list ("all topics", "all groups"): the handler has work, no entry is named.
      if (arr === null) left++;
      continue;
    }
    const keep: unknown[] = [];
    const out: unknown[] = [];
    for (const item of arr) {
      const itemId = identityOf(item, p, id, topicById);
      if (isLeaf(p)) {
        if (refuse(itemId)) out.push(item);
        else {
          keep.push(item);
          left++;
        }
        continue;
      }
      const sub = splitLevel(item as Obj, p.item, itemId, refuse, topicById);
      if (sub.refused) out.push(sub.refused);
      // A parent whose entries were all refused leaves the rest; one that had none stays as it was.
      if (sub.left > 0 || !sub.refused) keep.push(sub.rest);
      left += sub.left;
    }
    if (out.length > 0) {
      rest ??= { ...obj };
      refused ??= { ...obj };
      rest[p.reqName] = keep;
      refused[p.reqName] = out;
    }
  }
  // Lists of the refused copy that were not cut still point at the request's: empty them.
  if (refused) for (const p of level.pairs) if (!(p.reqName in refused) || refused[p.reqName] === obj[p.reqName]) refused[p.reqName] = [];
  return { rest: rest ?? obj, refused, left };
}

/**
 * The response a broker that refused the whole request would send: entries mirrored from
 * the request, the error on the innermost ones (or on the level itself where none exist).
 */
export function mirrorError(apiKey: number, version: number, request: Obj, errorCode: number): Obj {
  return mirrorLevel(request, levelOf(apiKey, version), errorCode, false).obj;
}

function mirrorLevel(req: Obj, level: Level, errorCode: number, copyIdentity: boolean): { obj: Obj; carried: boolean } {
  const obj: Obj = {};
  let carried = false;
  for (const p of level.pairs) {
    const arr = req[p.reqName];
    const items: Obj[] = [];
    if (Array.isArray(arr)) {
      for (const x of arr) {
        const m = p.reqPrim === null ? mirrorLevel(x as Obj, p.item, errorCode, true) : mirrorPrimitive(x, p, errorCode);
        items.push(m.obj);
        carried ||= m.carried;
      }
    }
    obj[p.respName] = items;
  }
  // Top-level fields that share a name with the request (memberId, sessionId, ...) are not echoed.
  if (copyIdentity) copyIdentityFields(req, obj, level);
  // An entry in error carries empty records, as Kafka's do (clients refuse a null record set).
  for (const f of level.respFields) if (f[1] === 'records') obj[f[0]] = EMPTY;
  if (!carried && level.errorField) {
    obj[level.errorField] = errorCode;
    carried = true;
  }
  return { obj, carried };
}

function mirrorPrimitive(value: unknown, p: Pair, errorCode: number): { obj: Obj; carried: boolean } {
  const obj: Obj = {};
  const key = p.item.respFields.find((f) => f[1] === p.reqPrim && f[0] !== p.item.errorField);
  if (key) obj[key[0]] = value;
  if (p.item.errorField) obj[p.item.errorField] = errorCode;
  return { obj, carried: p.item.errorField !== null };
}

function copyIdentityFields(req: Obj, obj: Obj, level: Level): void {
  for (const f of level.respFields) {
    const name = f[0];
    if (!IDENTITY_TYPES.has(f[1]) || name === level.errorField) continue;
    let src: unknown = req[name];
    if (src === undefined) {
      const group = TOPIC_FIELDS.has(name) ? TOPIC_FIELDS : PARTITION_FIELDS.has(name) ? PARTITION_FIELDS : null;
      if (group) for (const alt of group) if (req[alt] !== undefined) src = req[alt];
    }
    if (src !== undefined) obj[name] = src;
  }
}

/**
 * Adds the error answer for the refused part (`refused`, from splitRequest) to the handler's
 * answer for the rest. Entries are matched on their identity; the handler's answer object is
 * copied along the way, never modified (handlers may share parts of answers).
 */
export function mergeError(apiKey: number, version: number, answer: Obj, refused: Obj, errorCode: number): Obj {
  const level = levelOf(apiKey, version);
  const add = mirrorLevel(refused, level, errorCode, false).obj;
  return mergeLevel(answer, add, level);
}

function mergeLevel(target: Obj, add: Obj, level: Level): Obj {
  const out: Obj = { ...target };
  for (const p of level.pairs) {
    const extra = add[p.respName] as Obj[] | undefined;
    if (!extra || extra.length === 0) continue;
    const list = Array.isArray(out[p.respName]) ? [...(out[p.respName] as Obj[])] : [];
    for (const x of extra) {
      const i = list.findIndex((y) => sameEntry(x, y, p.item));
      if (i < 0) list.push(x);
      else if (isLeaf(p)) list[i] = x;
      else list[i] = mergeLevel(list[i], x, p.item);
    }
    out[p.respName] = list;
  }
  return out;
}

function sameEntry(x: Obj, y: Obj, level: Level): boolean {
  let compared = false;
  for (const f of level.respFields) {
    const name = f[0];
    if (!IDENTITY_TYPES.has(f[1]) || name === level.errorField || x[name] === undefined) continue;
    compared = true;
    if (x[name] !== y[name]) return false;
  }
  return compared;
}
