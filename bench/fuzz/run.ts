/**
 * The fuzzer on demand: `npm run fuzz -- --frames 1000000 [--seed N] [--connections N]
 * [--timeout-ms N] [--max-rss-mb N]`. Starts a broker from dist/ in a fresh temp dir, runs
 * fuzz-runner.ts against it, prints the report and exits 1 on any failure. The jest suite
 * runs a short version (test/integration/fuzz.test.ts).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn } from 'child_process';
import { formatReport, fuzzBrokerArgs, runFuzz } from './fuzz-runner';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  const v = eq ? eq.slice(name.length + 3) : i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} needs a number, got ${v}`);
  return n;
}

async function main(): Promise<number> {
  const frames = arg('frames', 20_000);
  const seed = arg('seed', Date.now() % 2 ** 31);
  const connections = arg('connections', 16);
  const timeoutMs = arg('timeout-ms', 30_000);
  const maxRssMb = arg('max-rss-mb', 1024);
  const maxRequestBytes = 8 * 1024 * 1024;
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-fuzz-'));
  const dataDir = path.join(parent, 'data');
  const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--data-dir', dataDir, ...fuzzBrokerArgs(maxRequestBytes)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Bad frames are logged at warn, one line each: keep only the lines the report uses.
  let kept = '';
  let partial = '';
  let lines = 0;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    const all = (partial + d).split('\n');
    partial = all.pop() ?? '';
    for (const l of all) {
      lines++;
      if (/request failed|batches kept whole|uncaught|unhandled|fatal/i.test(l) && kept.length < 4 * 2 ** 20) kept += l + '\n';
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => {
        out += d;
        const m = /listening on [^:]+:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`broker exited with ${code}: ${kept}`)));
    });
    process.stderr.write(`[fuzz] broker pid ${child.pid} port ${port}, ${frames} frames, seed ${seed}, ${connections} connections\n`);
    const report = await runFuzz(
      { port, pid: child.pid as number, dataDir, maxRequestBytes, logs: () => kept },
      { frames, seed, connections, responseTimeoutMs: timeoutMs, maxRssBytes: maxRssMb * 2 ** 20, progress: (l) => process.stderr.write(`[fuzz] ${l}\n`) },
    );
    process.stdout.write(`${formatReport(report)}\nbroker log lines: ${lines}\nseed: ${seed}\n`);
    return report.failures.length === 0 ? 0 : 1;
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(parent, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`fuzz failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
