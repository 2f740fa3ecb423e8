/**
 * `--compare FILE`: the figures of this run next to those of an earlier run saved with
 * `--json FILE` (bench/run.ts rows, or bench/scale.ts figures). Rows match by section and
 * name. Both raw values and, where the row has one, the ratio to its limit measured in the
 * same run are compared: on a shared machine the ratio moves less with the load.
 */
import * as fs from 'fs';

export interface ComparableRow {
  section?: string;
  name: string;
  value: number | null;
  unit: string;
  /** value / the row's limit measured in the same run (run.ts), when it has one. */
  vsLimit?: number | null;
}

/** Reads an earlier run's JSON (either bench's shape); throws with a readable message. */
export function loadRun(file: string): ComparableRow[] {
  let data: { rows?: ComparableRow[]; figures?: ComparableRow[] };
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--compare: cannot read ${file}: ${(err as Error).message}`);
  }
  const rows = data.rows ?? data.figures;
  if (!Array.isArray(rows)) throw new Error(`--compare: ${file} holds no bench figures (rows or figures)`);
  return rows;
}

/** Units where a larger value is better; for the others (ms, MiB, KiB) smaller is better. */
const HIGHER_IS_BETTER = new Set(['MB/s', 'records/s', 'msg/s']);

function fmt(v: number): string {
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Verdict for now vs before: changes under 10% read as noise on a loaded machine. */
function verdict(before: number, now: number, higherIsBetter: boolean): string {
  if (before === 0 || !Number.isFinite(before) || !Number.isFinite(now)) return '';
  const change = now / before - 1;
  const pct = `${change >= 0 ? '+' : ''}${(change * 100).toFixed(0)}%`;
  if (Math.abs(change) < 0.1) return `${pct} ~`;
  return `${pct} ${change > 0 === higherIsBetter ? 'better' : 'worse'}`;
}

/** A markdown table: every figure of either run, matched by section and name. */
export function compareTable(before: ComparableRow[], now: ComparableRow[]): string {
  const key = (r: ComparableRow) => `${r.section ?? ''}\u0000${r.name}`;
  const old = new Map(before.map((r) => [key(r), r]));
  const seen = new Set<string>();
  const body: string[][] = [];
  const cell = (r: ComparableRow | undefined) => (!r ? '-' : r.value === null ? 'FAILED' : `${fmt(r.value)} ${r.unit}`);
  const ratio = (r: ComparableRow | undefined) => (r?.vsLimit == null ? '' : `${r.vsLimit.toFixed(2)}x`);
  for (const r of now) {
    const k = key(r);
    seen.add(k);
    const b = old.get(k);
    const better = HIGHER_IS_BETTER.has(r.unit);
    const change = b && b.value !== null && r.value !== null ? verdict(b.value, r.value, better) : '';
    const ratioChange = b?.vsLimit != null && r.vsLimit != null ? verdict(b.vsLimit, r.vsLimit, better) : '';
    body.push([r.section ?? '', r.name, cell(b), cell(r), change, ratio(b), ratio(r), ratioChange]);
  }
  for (const b of before) if (!seen.has(key(b))) body.push([b.section ?? '', b.name, cell(b), '-', 'not measured now', ratio(b), '', '']);
  let header = ['section', 'figure', 'before', 'now', 'change', 'vs limit before', 'vs limit now', 'change'];
  // Columns no row fills (the scale bench has neither sections nor limits) are left out.
  const used = header.map((_, i) => i === 1 || body.some((row) => row[i] !== ''));
  header = header.filter((_, i) => used[i]);
  for (let j = 0; j < body.length; j++) body[j] = body[j].filter((_, i) => used[i]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)].join('\n');
}
