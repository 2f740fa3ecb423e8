#!/usr/bin/env node
/*
 * Builds the optional sendfile addon (build/Release/samsa_sendfile.node) with node-gyp
 * against the running Node's headers. Run by `npm run build` and by npm's `install` of this
 * package. It never fails the caller: when the addon cannot be built (no compiler, no
 * node-gyp, not Linux) it says so on stderr and exits 0, and Samsa serves fetches on its copy
 * path (src/server/zero-copy.ts logs that once at start).
 *
 * The npm package ships prebuilt addons (prebuilds/linux-x64, prebuilds/linux-arm64, made by
 * prebuild.js at `npm pack`). At install, one that loads here is used as it is and nothing
 * is compiled; without one (another platform, or a build that does not load) the addon is
 * built from source as above. src/server/zero-copy.ts loads build/Release first, then a
 * prebuild (node-gyp-build's order).
 *
 * Environment:
 *   SAMSA_SKIP_NATIVE=1        no addon at all: nothing is built, and a previous build and the
 *                              shipped prebuilds are removed, e.g. to try the copy path
 *   SAMSA_BUILD_FROM_SOURCE=1  at install, compile even when a prebuild loads
 *   npm_config_nodedir         headers to build against (npm passes its `nodedir` setting); without
 *                              it, <prefix>/include/node of the running node when present, else
 *                              node-gyp's own download
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { findNodeGyp, findNodeDir } = require('./toolchain');

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

function loads(file = OUTPUT) {
  try {
    // A child process: a loaded addon cannot be unloaded, and a crash must not take us down.
    const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'pipe', timeout: 20000 });
    return r.status === 0;
  } catch {
    return false;
  }
}

/** The shipped prebuild node-gyp-build would pick for this machine, or null. */
function prebuildForHere() {
  try {
    const file = require('node-gyp-build').path(HERE);
    return file.startsWith(path.join(HERE, 'prebuilds') + path.sep) ? file : null;
  } catch {
    return null; // none for this platform, or node-gyp-build missing (a checkout before npm install)
  }
}

function main() {
  if (process.env.SAMSA_SKIP_NATIVE === '1') {
    fs.rmSync(path.join(HERE, 'build'), { recursive: true, force: true });
    fs.rmSync(path.join(HERE, 'prebuilds'), { recursive: true, force: true });
    say('SAMSA_SKIP_NATIVE=1: sendfile addon not built; fetches use the copy path');
    return;
  }
  if (process.platform !== 'linux') {
    say(`sendfile addon is Linux-only (this is ${process.platform}); fetches use the copy path`);
    return;
  }
  if (upToDate() && loads()) return;
  if (process.env.npm_lifecycle_event === 'install' && process.env.SAMSA_BUILD_FROM_SOURCE !== '1') {
    const prebuild = prebuildForHere();
    if (prebuild && loads(prebuild)) return; // node-gyp-build loads it at run time: nothing to compile
    if (prebuild) say(`prebuilt addon ${path.relative(HERE, prebuild)} does not load here; building from source`);
  }
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
