/**
 * Summary of a V8 .cpuprofile (written by `node --cpu-prof`): self time per function, top N,
 * plus the share of idle, GC and "(program)" (native code outside JS frames).
 */
import * as fs from 'fs';
import * as path from 'path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function summarizeProfile(file: string, top = 15): string {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of prof.nodes) byId.set(n.id, n);
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    const node = byId.get(prof.samples[i]);
    if (!node) continue;
    const cf = node.callFrame;
    const where = cf.url ? ` ${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'}${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  const idle = self.get('(idle)') ?? 0;
  const busy = total - idle;
  const lines = [
    `profile ${file}`,
    `  sampled ${(total / 1e6).toFixed(2)} s, idle ${pct(idle, total)}, busy ${(busy / 1e6).toFixed(2)} s; top self time (share of busy):`,
  ];
  const rows = [...self.entries()].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [k, v] of rows) lines.push(`  ${pct(v, busy).padStart(6)}  ${(v / 1e3).toFixed(0).padStart(7)} ms  ${k}`);
  return lines.join('\n');
}

function pct(v: number, of: number): string {
  return of > 0 ? `${((100 * v) / of).toFixed(1)}%` : '-';
}

function shortUrl(url: string): string {
  const i = url.indexOf('/dist/');
  if (i >= 0) return url.slice(i + 1);
  if (url.startsWith('node:')) return url;
  return path.basename(url);
}
