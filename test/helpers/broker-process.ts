/**
 * Runs the compiled broker (`dist/src/cli/main.js serve`) as a real child process on a
 * free port, as users run it. `npm test` builds first (pretest).
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');

export interface BrokerProcess {
  readonly pid: number;
  readonly port: number;
  readonly dataDir: string;
  readonly address: string;
  /** Bound port of every listener by name (PLAINTEXT, SSL, SASL_PLAINTEXT, ...). */
  readonly listenerPorts: Record<string, number>;
  /** Port of the console / metrics HTTP server (`http=` on the startup line); null when off. */
  readonly httpPort: number | null;
  /** Every broker of a simulated cluster (`brokers=id@host:port,...` with --brokers N); one entry otherwise. */
  readonly brokers: { id: number; host: string; port: number }[];
  /** bootstrap.servers listing every broker. */
  readonly bootstrap: string;
  /** The development CA file (--tls-dev), if the broker printed one. */
  readonly devCaFile: string | null;
  readonly stderr: () => string;
  /** Graceful stop (SIGTERM) and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  readonly exited: Promise<number | null>;
}

/** --node-id from the arguments given, else the CLI's default (1). */
function nodeIdArg(args: string[]): number {
  const i = args.findIndex((a) => a === '--node-id' || a.startsWith('--node-id='));
  if (i < 0) return 1;
  return Number(args[i].includes('=') ? args[i].split('=')[1] : args[i + 1]);
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

export function tempDataDir(prefix = 'samsa-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startBrokerProcess(
  /** httpPort: --http-port to pass (default 0, a free port); null passes none (the CLI default or a config file decides). */
  opts: {
    dataDir?: string;
    port?: number;
    httpPort?: number | 'none' | null;
    args?: string[];
    env?: NodeJS.ProcessEnv;
    /** Run the broker under `ulimit -n` of this many file descriptors. */
    maxOpenFiles?: number;
  } = {},
): Promise<BrokerProcess> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const dataDir = opts.dataDir ?? tempDataDir();
  // A free HTTP port unless the test picks one: the CLI's fixed 9644 would collide between brokers.
  const httpArgs = opts.httpPort === null || (opts.args ?? []).some((a) => a.startsWith('--http-port')) ? [] : ['--http-port', String(opts.httpPort ?? 0)];
  const argv = [CLI, 'serve', '--host', '127.0.0.1', '--port', String(opts.port ?? 0), '--data-dir', dataDir, ...httpArgs, ...(opts.args ?? [])];
  // With a descriptor limit, a shell sets it and execs node (same pid).
  const [cmd, cmdArgs] =
    opts.maxOpenFiles === undefined
      ? [process.execPath, argv]
      : ['/bin/sh', ['-c', `ulimit -n ${opts.maxOpenFiles} && exec "$0" "$@"`, process.execPath, ...argv]];
  const child: ChildProcess = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let err = '';
  child.stderr!.on('data', (d) => (err += d.toString()));
  const exitCode = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const exited = exitCode.then(() => undefined);
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start: ${err}`)), 15000);
    child.stdout!.on('data', (d) => {
      out += d.toString();
      const m = /listening on [^:]+:(\d+)[^\n]*\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with ${code}: ${err}`));
    });
  });
  const line = out.split('\n').find((l) => l.includes('listening on')) ?? '';
  const listenerPorts: Record<string, number> = {};
  const first = /listening on \S+:(\d+) \(([A-Z0-9_]+)\)/.exec(line);
  if (first) listenerPorts[first[2]] = Number(first[1]);
  for (const m of line.matchAll(/ ([A-Z0-9_]+)=\S*:(\d+)/g)) listenerPorts[m[1]] = Number(m[2]);
  const brokers = / brokers=(\S+)/.test(line)
    ? / brokers=(\S+)/.exec(line)![1].split(',').map((b) => {
        const m = /^(-?\d+)@(.*):(\d+)$/.exec(b)!;
        return { id: Number(m[1]), host: m[2], port: Number(m[3]) };
      })
    : [{ id: nodeIdArg(opts.args ?? []), host: '127.0.0.1', port }];
  return {
    pid: child.pid as number,
    port,
    brokers,
    bootstrap: brokers.map((b) => `${b.host}:${b.port}`).join(','),
    dataDir,
    address: `127.0.0.1:${port}`,
    listenerPorts,
    devCaFile: /tls-dev-ca=(\S+)/.exec(line)?.[1] ?? null,
    httpPort: / http=\S*:(\d+)/.test(line) ? Number(/ http=\S*:(\d+)/.exec(line)![1]) : null,
    stderr: () => err,
    exited: exitCode,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
