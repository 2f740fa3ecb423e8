/**
 * Parser for the message definition files in protocol/ (grammar in protocol/README.md).
 * Kept apart from the code generator so tests can load definitions directly.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface VersionRange {
  min: number;
  max: number; // Infinity for "N+"
}

export interface FieldDef {
  name: string;
  /** Primitive name, '[]' (array of structs), '{}' (struct) or '[prim]' (array of a primitive). */
  type: string;
  versions: VersionRange;
  nullable: VersionRange | null;
  tag: number | null;
  defaultValue: string | null;
  fields: FieldDef[];
  line: number;
}

export interface ApiDef {
  file: string;
  key: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  flexibleFrom: number | null;
  request: FieldDef[];
  response: FieldDef[];
}

export const PRIMITIVES = new Set([
  'bool', 'int8', 'int16', 'int32', 'int64', 'uint16', 'uint32', 'float64', 'uuid', 'string', 'bytes', 'records',
]);

const NULLABLE_TYPES = new Set(['string', 'bytes', 'records', '[]', '{}']);

export function inRange(r: VersionRange | null, v: number): boolean {
  return r !== null && v >= r.min && v <= r.max;
}

function parseRange(tok: string, where: string): VersionRange {
  const m = /^v(\d+)(\+|-(\d+))?$/.exec(tok);
  if (!m) throw new Error(`${where}: bad version range '${tok}'`);
  const min = Number(m[1]);
  if (m[2] === '+') return { min, max: Infinity };
  if (m[3] !== undefined) return { min, max: Number(m[3]) };
  return { min, max: min };
}

export function parseDef(text: string, file: string): ApiDef {
  const lines = text.split('\n');
  let key = -1;
  let name = '';
  let minVersion = -1;
  let maxVersion = -1;
  let flexibleFrom: number | null | undefined;
  const sections: Record<'request' | 'response', FieldDef[]> = { request: [], response: [] };
  let section: FieldDef[] | null = null;
  // stack[i] holds the children list at indent level i (level 1 = 2 spaces)
  let stack: FieldDef[][] = [];
  let lastAtLevel: FieldDef[] = [];

  lines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    const where = `${file}:${lineNo}`;
    const noComment = raw.replace(/#.*$/, '').replace(/\s+$/, '');
    if (noComment.trim() === '') return;
    const indent = noComment.length - noComment.trimStart().length;
    const toks = noComment.trim().split(/\s+/);
    if (indent === 0) {
      switch (toks[0]) {
        case 'api':
          if (toks.length !== 3) throw new Error(`${where}: expected 'api KEY Name'`);
          key = Number(toks[1]);
          name = toks[2];
          return;
        case 'versions': {
          const m = /^(\d+)-(\d+)$/.exec(toks[1] ?? '');
          if (!m) throw new Error(`${where}: expected 'versions MIN-MAX'`);
          minVersion = Number(m[1]);
          maxVersion = Number(m[2]);
          return;
        }
        case 'flexible':
          if (toks[1] === 'none') flexibleFrom = null;
          else {
            const m = /^v?(\d+)\+$/.exec(toks[1] ?? '');
            if (!m) throw new Error(`${where}: expected 'flexible N+' or 'flexible none'`);
            flexibleFrom = Number(m[1]);
          }
          return;
        case 'request':
        case 'response':
          section = sections[toks[0]];
          stack = [section];
          lastAtLevel = [];
          return;
        default:
          throw new Error(`${where}: unexpected '${toks[0]}'`);
      }
    }
    if (!section) throw new Error(`${where}: field outside request/response`);
    if (indent % 2 !== 0) throw new Error(`${where}: indentation must be a multiple of 2`);
    const level = indent / 2;
    if (level > stack.length) throw new Error(`${where}: indented too far`);
    if (level > 1) {
      const parent = lastAtLevel[level - 1];
      if (!parent || (parent.type !== '[]' && parent.type !== '{}')) {
        throw new Error(`${where}: nested field under a field that is not a struct or struct array`);
      }
    }
    const [fname, ftype, ...attrs] = toks;
    if (!ftype) throw new Error(`${where}: field needs a type`);
    const primArray = /^\[(\w+)\]$/.exec(ftype);
    if (!(PRIMITIVES.has(ftype) || ftype === '[]' || ftype === '{}' || (primArray && PRIMITIVES.has(primArray[1])))) {
      throw new Error(`${where}: unknown type '${ftype}'`);
    }
    const field: FieldDef = {
      name: fname,
      type: ftype,
      versions: { min: 0, max: Infinity },
      nullable: null,
      tag: null,
      defaultValue: null,
      fields: [],
      line: lineNo,
    };
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs[i];
      if (a.startsWith('v')) field.versions = parseRange(a, where);
      else if (a === 'nullable') {
        if (attrs[i + 1]?.startsWith('v')) field.nullable = parseRange(attrs[++i], where);
        else field.nullable = { min: 0, max: Infinity };
      } else if (a === 'tag') field.tag = Number(attrs[++i]);
      else if (a === 'default') {
        if (attrs[i + 1] === undefined) throw new Error(`${where}: default needs a value`);
        field.defaultValue = attrs[++i];
      } else throw new Error(`${where}: unknown attribute '${a}'`);
    }
    if (field.nullable && !NULLABLE_TYPES.has(ftype) && !primArray) {
      throw new Error(`${where}: type ${ftype} cannot be nullable`);
    }
    if (field.tag !== null && !Number.isInteger(field.tag)) throw new Error(`${where}: bad tag`);
    stack.length = level;
    stack[level - 1].push(field);
    stack.push(field.fields);
    lastAtLevel.length = level;
    lastAtLevel[level] = field;
  });

  if (key < 0 || !name || minVersion < 0 || flexibleFrom === undefined) {
    throw new Error(`${file}: missing api/versions/flexible header`);
  }
  return { file, key, name, minVersion, maxVersion, flexibleFrom, request: sections.request, response: sections.response };
}

export function loadDefs(dir: string): ApiDef[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.def'))
    .sort()
    .map((f) => parseDef(fs.readFileSync(path.join(dir, f), 'utf8'), f))
    .sort((a, b) => a.key - b.key);
}
