/**
 * The npm package as users get it: `npm pack` (prepack builds dist/ and the prebuilt addons),
 * the tarball installed into an empty folder outside this repo (its dependencies from the
 * registry, no TypeScript, no compiling), then:
 *   - `npx samsa serve --ephemeral` starts, kcat produces and consumes, Ctrl-C removes the data;
 *   - the Jest, Vitest and node:test recipes of docs/testing/ pass there against the package;
 *   - a TypeScript program using the package's types compiles (strict) and runs startBroker;
 * and the same broker and Jest recipe on an install made with SAMSA_SKIP_NATIVE=1 (no addon:
 * the copy path). kcat missing skips its part, or fails under SAMSA_REQUIRE_CLIENTS=1 (CI).
 */
import { ChildProcess, spawn, spawnSync, SpawnSyncOptions } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { freePort, hasCommand } from './package-helpers';

const ROOT = path.resolve(__dirname, '../..');
const REQUIRE_CLIENTS = process.env.SAMSA_REQUIRE_CLIENTS === '1';
const REQUIRE_PREBUILDS = process.env.SAMSA_REQUIRE_PREBUILDS === '1';
const HAS_KCAT = hasCommand('kcat');
const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** This process's environment minus npm's (npm_config_* from an outer `npm test` would steer the inner npm). */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  return { ...env, ...extra };
}

function run(cmd: string, args: string[], opts: SpawnSyncOptions & { env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20, ...opts, env: cleanEnv(opts.env) });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal} ${r.error ?? ''}\n--- stdout\n${String(r.stdout).slice(-4000)}\n--- stderr\n${String(r.stderr).slice(-4000)}`);
  }
  return String(r.stdout);
}

function duBytes(dir: string): number {
  return Number(run('du', ['-sb', dir]).split('\t')[0]);
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

interface Served {
  child: ChildProcess;
  port: number;
  dataDir: string;
  stderr: () => string;
  /** From spawning `npx samsa serve` to the first TCP connection the broker accepted. */
  firstConnectMs: number;
  /** Ctrl-C: SIGINT to the process group (npx and the broker under it), as a terminal sends it. */
  stop(): Promise<void>;
}

/** `npx samsa serve --ephemeral` in `app`, on a free port, until it accepts a connection and prints its ready line. */
async function npxServe(app: string, extraArgs: string[] = []): Promise<Served> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn('npx', ['--no-install', 'samsa', 'serve', '--ephemeral', '--port', String(port), '--http-port', '0', ...extraArgs], {
    cwd: app,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so that stop() reaches the broker under npx
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let firstConnectMs = -1;
  const deadline = Date.now() + 60_000;
  while (firstConnectMs < 0) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npx samsa serve did not start\n${out}\n${err}`);
    if (await connects(port)) firstConnectMs = performance.now() - started;
    else await new Promise((r) => setTimeout(r, 10));
  }
  while (!out.includes('\n')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no ready line\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const dataDir = /data-dir=(\S+)/.exec(out)?.[1] ?? '';
  return {
    child,
    port,
    dataDir,
    stderr: () => err,
    firstConnectMs,
    stop: async () => {
      try {
        process.kill(-child.pid!, 'SIGINT');
      } catch {
        // already gone
      }
      await exited;
      // The broker (npx's child) is done when its port is closed.
      const until = Date.now() + 15_000;
      while (await connects(port)) {
        if (Date.now() > until) {
          process.kill(-child.pid!, 'SIGKILL');
          throw new Error('the broker did not stop within 15 s of SIGINT');
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** Waits for `text` on the broker's stderr (log lines arrive through a pipe, a little later). */
async function logged(served: Served, text: string): Promise<void> {
  const until = Date.now() + 10_000;
  while (!served.stderr().includes(text)) {
    if (Date.now() > until) throw new Error(`the broker did not log "${text}":\n${served.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** kcat produces three records and reads them back. */
function kcatRoundTrip(port: number, topic: string): void {
  const b = `127.0.0.1:${port}`;
  run('kcat', ['-b', b, '-P', '-t', topic, '-K', ':'], { input: 'k1:one\nk2:two\nk3:three\n', timeout: 60_000 });
  const out = run('kcat', ['-b', b, '-C', '-t', topic, '-o', 'beginning', '-e', '-c', '3', '-f', '%k=%s\n'], { timeout: 60_000 });
  expect(out.trim().split('\n')).toEqual(['k1=one', 'k2=two', 'k3=three']);
}

/** A folder under the OS temp dir (no node_modules above it), with a package.json. */
function newApp(parent: string, name: string): string {
  const app = path.join(parent, name);
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, private: true, version: '1.0.0' }));
  return app;
}

/** docs/testing/<name> copied to <app>/<name> (it resolves `samsa` from app/node_modules); returns that folder. */
function copyRecipe(name: string, app: string): string {
  const dir = path.join(app, name);
  fs.cpSync(path.join(ROOT, 'docs', 'testing', name), dir, { recursive: true });
  return dir;
}

/** Runs `fn` with TMPDIR set to a fresh folder and checks it holds no samsa-* data dir afterwards. */
function leavesNoDataDir(parent: string, fn: (env: NodeJS.ProcessEnv) => void): void {
  const tmp = fs.mkdtempSync(path.join(parent, 'tmpdir-'));
  fn({ TMPDIR: tmp });
  expect(fs.readdirSync(tmp).filter((f) => f.startsWith('samsa-'))).toEqual([]);
}

/**
 * `npx samsa serve --ephemeral` in `dir`: kcat round trip, `expectLog` on its stderr after
 * the first fetch, then Ctrl-C must stop it and remove its data. Returns the time to the
 * first accepted connection.
 */
async function serveAndRoundTrip(dir: string, expectLog: string | null): Promise<number> {
  const served = await npxServe(dir, ['--log-level', 'info']);
  try {
    expect(fs.existsSync(path.join(served.dataDir, 'meta.properties'))).toBe(true);
    if (HAS_KCAT) {
      kcatRoundTrip(served.port, 'npx-serve');
      if (expectLog) await logged(served, expectLog);
    } else if (REQUIRE_CLIENTS) throw new Error('kcat is missing and SAMSA_REQUIRE_CLIENTS=1');
    else console.warn('npm-package.test.ts: kcat missing, round trip skipped (apt-get install kcat)');
  } finally {
    await served.stop();
  }
  expect(fs.existsSync(served.dataDir)).toBe(false);
  return served.firstConnectMs;
}

/** docs/testing/jest run by Jest (this repo's, only the runner) in `app`, leaving no data dir. */
function runJestRecipe(app: string): void {
  const dir = copyRecipe('jest', app);
  leavesNoDataDir(WORK, (env) => run(process.execPath, [JEST, '--ci', '--rootDir', dir, '--config', path.join(dir, 'jest.config.js')], { cwd: dir, env, timeout: 120_000 }));
}

const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-package-test-'));
let tarball = '';
let packInfo: { size: number; unpackedSize: number; files: { path: string }[] };
let app = '';

beforeAll(() => {
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', WORK], { cwd: ROOT }));
  packInfo = packed[0];
  tarball = path.join(WORK, packed[0].filename);
  app = newApp(WORK, 'app');
  // A user's project: the package, a Kafka client and the test runners the recipes use
  // (Jest comes from this repo: it is only the runner, the package resolves from app/).
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, 'kafkajs@2.2.4', 'vitest@4.1.12'], { cwd: app });
}, 600_000);

afterAll(() => {
  fs.rmSync(WORK, { recursive: true, force: true });
});

test('the tarball holds the compiled package, its declarations and prebuilt addons, nothing else', () => {
  const files = packInfo.files.map((f) => f.path);
  for (const f of ['package.json', 'README.md', 'dist/src/cli/main.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'src/http/static/index.html', 'native/sendfile/build.js', 'native/sendfile/src/sendfile.c']) {
    expect(files).toContain(f);
  }
  expect(files.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
  expect(files.filter((f) => f.endsWith('.map') || /^(test|bench|compat-tests|protocol|scripts|dist\/bench|dist\/scripts)\//.test(f))).toEqual([]);
  const prebuilds = files.filter((f) => f.startsWith('native/sendfile/prebuilds/'));
  if (os.arch() === 'x64') expect(prebuilds).toContain('native/sendfile/prebuilds/linux-x64/samsa_sendfile.glibc.node');
  const arm64 = 'native/sendfile/prebuilds/linux-arm64/samsa_sendfile.glibc.node';
  if (prebuilds.includes(arm64)) {
    // An aarch64 ELF shared object: e_machine 183 at offset 18.
    const elf = fs.readFileSync(path.join(app, 'node_modules', 'samsa', arm64));
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf.readUInt16LE(18)).toBe(183);
  } else if (REQUIRE_PREBUILDS) {
    throw new Error(`${arm64} missing from the tarball and SAMSA_REQUIRE_PREBUILDS=1`);
  } else {
    console.warn('npm-package.test.ts: no linux-arm64 prebuild (apt-get install g++-aarch64-linux-gnu; SAMSA_REQUIRE_PREBUILDS=1 makes this a failure)');
  }
  const installed = duBytes(path.join(app, 'node_modules', 'samsa'));
  console.log(`package figures: tarball ${packInfo.size} bytes, unpacked ${packInfo.unpackedSize} bytes, ${files.length} files; ` + `installed samsa ${installed} bytes, with all its dependencies and the test app's ${duBytes(path.join(app, 'node_modules'))} bytes`);
});

test('the install needs no TypeScript and compiles nothing where a prebuild fits', () => {
  expect(fs.existsSync(path.join(app, 'node_modules', 'typescript'))).toBe(false);
  expect(fs.existsSync(path.join(app, 'node_modules', 'ts-node'))).toBe(false);
  if (os.arch() === 'x64' || os.arch() === 'arm64') {
    expect(fs.existsSync(path.join(app, 'node_modules', 'samsa', 'native', 'sendfile', 'build'))).toBe(false);
  }
});

test('npx samsa serve --ephemeral: kcat produces and consumes; Ctrl-C stops it and removes its data', async () => {
  // Logged at the first fetch: the shipped prebuild serves it, nothing was compiled.
  const firstConnectMs = await serveAndRoundTrip(app, os.arch() === 'x64' ? 'sendfile addon loaded (prebuilt)' : null);
  console.log(`package figures: npx samsa serve to first accepted connection: ${firstConnectMs.toFixed(0)} ms (warm npm cache, loaded machine)`);
}, 120_000);

test('the Jest recipe (globalSetup/globalTeardown) passes against the installed package', () => {
  runJestRecipe(app);
}, 180_000);

test('the Vitest recipe (globalSetup with provide/inject) passes against the installed package', () => {
  const dir = copyRecipe('vitest', app);
  leavesNoDataDir(WORK, (env) => run('npx', ['--no-install', 'vitest', 'run', '--config', 'vitest.config.mjs'], { cwd: dir, env, timeout: 120_000 }));
}, 180_000);

test("the node:test recipe passes against the installed package", () => {
  const dir = copyRecipe('node-test', app);
  leavesNoDataDir(WORK, (env) => run(process.execPath, ['--test', path.join(dir, 'kafka.test.mjs')], { cwd: app, env, timeout: 120_000 }));
}, 180_000);

test('TypeScript: the package types check under strict and startBroker runs from the compiled program', () => {
  const src = path.join(app, 'typed.ts');
  fs.writeFileSync(
    src,
    `import { startBroker, startEphemeralBroker, Broker, StartOptions } from 'samsa';
import * as net from 'net';

async function main(): Promise<void> {
  const options: StartOptions = { port: 0, dataDir: process.argv[2], numPartitions: 2 };
  const broker: Broker = await startBroker(options);
  const port: number = broker.port;
  await new Promise<void>((resolve, reject) => net.connect(port, broker.config.host, resolve).once('error', reject).unref());
  await broker.close();
  // @ts-expect-error the ephemeral broker picks its own data dir
  await startEphemeralBroker({ dataDir: 'nope' }).catch(() => undefined);
  console.log('typed ok ' + port);
}
main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
`,
  );
  // @types/node from this repo: a user's project has its own.
  run(process.execPath, [TSC, '--strict', '--module', 'commonjs', '--moduleResolution', 'node', '--target', 'ES2022', '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), '--outDir', path.join(app, 'typed-out'), src], { cwd: app });
  const data = fs.mkdtempSync(path.join(WORK, 'typed-data-'));
  expect(run(process.execPath, [path.join(app, 'typed-out', 'typed.js'), data], { cwd: app, timeout: 60_000 })).toMatch(/^typed ok \d+/);
}, 120_000);

describe('installed with SAMSA_SKIP_NATIVE=1 (no addon: the copy path)', () => {
  let plain = '';
  beforeAll(() => {
    plain = newApp(WORK, 'app-copy-path');
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, 'kafkajs@2.2.4'], { cwd: plain, env: { SAMSA_SKIP_NATIVE: '1' } });
  }, 600_000);

  test('the package has no addon; npx samsa serve uses the copy path and kcat round-trips', async () => {
    const native = path.join(plain, 'node_modules', 'samsa', 'native', 'sendfile');
    expect(fs.existsSync(path.join(native, 'build'))).toBe(false);
    expect(fs.existsSync(path.join(native, 'prebuilds'))).toBe(false);
    await serveAndRoundTrip(plain, 'using the copy path');
  }, 120_000);

  test('the Jest recipe passes on the copy path', () => {
    runJestRecipe(plain);
  }, 180_000);
});
