/**
 * Runs the built `samsa` command (dist/src/cli/main.js) and the kcat binary as child
 * processes, for CLI tests that check one tool against the other.
 */
import { spawn } from 'child_process';
import * as path from 'path';

const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

export function samsa(args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args], opts);
}

/** Runs samsa and fails the test with its stderr unless it exits 0. */
export async function samsaOk(args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<string> {
  const r = await samsa(args, opts);
  if (r.code !== 0) throw new Error(`samsa ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

export async function kcat(args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<string> {
  const r = await run('kcat', args, opts);
  if (r.code !== 0) throw new Error(`kcat ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}
