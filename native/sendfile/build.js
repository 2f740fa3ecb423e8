#!/usr/bin/env node
/*
 * Builds the optional sendfile addon (build/Release/samsa_sendfile.node) with node-gyp
 * against the running Node's headers. Run by `npm run build` and by npm's `install` of this
 * package. It never fails the caller: when the addon cannot be built (no compiler, no
 * node-gyp, not Linux) it says so on stderr and exits 0, and Samsa serves fetches on its copy
 * path (src/server/zero-copy.ts logs that once at start).
 *
 * Environment:
 *   SAMSA_SKIP_NATIVE=1   do not build (and remove a previous build), e.g. to try the copy path
 *   npm_config_nodedir    headers to build against (npm passes its `nodedir` setting); without
 *                         it, <prefix>/include/node of the running node when present, else
 *                         node-gyp's own download
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const HERE = __dirname;
const OUTPUT = path.join(HERE, 'build', 'Release', 'samsa_sendfile.node');
const SOURCES = ['binding.gyp', 'src/sendfile.c', 'build.js'].map((f) => path.join(HERE, f));

function say(msg) {
  process.stderr.write(`[samsa native] ${msg}\n`);
}

function upToDate() {
  try {
    const built = fs.statSync(OUTPUT).mtimeMs;
    return SOURCES.every((f) => fs.statSync(f).mtimeMs <= built);
  } catch {
    return false;
  }
}

function loads() {
  try {
    // A child process: a loaded addon cannot be unloaded, and a crash must not take us down.
    const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(OUTPUT)})`], { stdio: 'pipe', timeout: 20000 });
    return r.status === 0;
  } catch {
    return false;
  }
}

function findNodeGyp() {
  const candidates = [];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not a local dependency */
  }
  if (process.env.npm_execpath) {
    // npm's own copy: <npm>/bin/npm-cli.js -> <npm>/node_modules/node-gyp
    candidates.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  candidates.push(path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(path.join(prefix, 'lib', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => fs.existsSync(c)) ?? null;
}

function findNodeDir() {
  const fromNpm = process.env.npm_config_nodedir;
  if (fromNpm && fs.existsSync(path.join(fromNpm, 'include', 'node', 'node_api.h'))) return fromNpm;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  return null;
}

function main() {
  if (process.env.SAMSA_SKIP_NATIVE === '1') {
    fs.rmSync(path.join(HERE, 'build'), { recursive: true, force: true });
    say('SAMSA_SKIP_NATIVE=1: sendfile addon not built; fetches use the copy path');
    return;
  }
  if (process.platform !== 'linux') {
    say(`sendfile addon is Linux-only (this is ${process.platform}); fetches use the copy path`);
    return;
  }
  if (upToDate() && loads()) return;
  const gyp = findNodeGyp();
  if (!gyp) {
    say('node-gyp not found: sendfile addon not built; fetches use the copy path');
    return;
  }
  const args = [gyp, 'rebuild', '--loglevel=warn'];
  const nodedir = findNodeDir();
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  const started = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: HERE, stdio: 'pipe', timeout: 180000, encoding: 'utf8' });
  if (r.status !== 0 || !fs.existsSync(OUTPUT)) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-12).join('\n');
    say(`sendfile addon did not build (${r.error ? r.error.message : `exit ${r.status}`}); fetches use the copy path\n${out}`);
    fs.rmSync(OUTPUT, { force: true });
    return;
  }
  if (!loads()) {
    say('sendfile addon built but does not load; removed; fetches use the copy path');
    fs.rmSync(OUTPUT, { force: true });
    return;
  }
  say(`sendfile addon built in ${Date.now() - started} ms`);
}

try {
  main();
} catch (err) {
  say(`sendfile addon build skipped: ${err && err.message ? err.message : err}`);
}
process.exitCode = 0;
