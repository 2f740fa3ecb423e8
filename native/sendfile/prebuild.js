#!/usr/bin/env node
/*
 * Makes the prebuilt sendfile addons the npm package ships: prebuilds/linux-x64 and
 * prebuilds/linux-arm64, each an N-API build (one file serves every Node >= 20) tagged glibc,
 * named as node-gyp-build looks them up. Run by `npm pack` / `npm publish` (prepack).
 * Not kept in git: they are made from src/sendfile.c at every pack, on this machine's
 * compilers (Debian: g++ for x64, g++-aarch64-linux-gnu for arm64; .ci/run installs both).
 *
 * A target whose compiler is missing is skipped with a message (a local `npm pack` without
 * the cross compiler still works); SAMSA_REQUIRE_PREBUILDS=1 (CI, releases) makes that an
 * error. The build runs in a temporary copy of this folder, so build/ (the addon `npm run
 * build` made for this machine) is left alone.
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { findNodeGyp, findNodeDir } = require('./toolchain');

const HERE = __dirname;
const OUT = path.join(HERE, 'prebuilds');
const REQUIRE = process.env.SAMSA_REQUIRE_PREBUILDS === '1';

/** node's arch name -> the GNU toolchain prefix that compiles for it on another host. */
const CROSS = { x64: 'x86_64-linux-gnu-', arm64: 'aarch64-linux-gnu-' };
const TARGETS = ['x64', 'arm64'];

function say(msg) {
  process.stderr.write(`[samsa prebuild] ${msg}\n`);
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Compiler environment for `arch`: the native one on its own host, else the cross toolchain. */
function toolchain(arch) {
  if (arch === os.arch()) return has('cc') || has('gcc') ? { env: {}, strip: 'strip' } : null;
  const p = CROSS[arch];
  if (!has(`${p}gcc`) || !has(`${p}g++`)) return null;
  return { env: { CC: `${p}gcc`, CXX: `${p}g++`, LINK: `${p}g++`, AR: `${p}ar` }, strip: `${p}strip` };
}

function build(arch, nodeGyp, nodedir) {
  const tc = toolchain(arch);
  if (!tc) return `no compiler for linux-${arch}${CROSS[arch] && arch !== os.arch() ? ` (${CROSS[arch]}g++)` : ''}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `samsa-prebuild-${arch}-`));
  try {
    fs.cpSync(path.join(HERE, 'binding.gyp'), path.join(work, 'binding.gyp'));
    fs.cpSync(path.join(HERE, 'src'), path.join(work, 'src'), { recursive: true });
    const args = [
      require.resolve('prebuildify/bin.js'),
      '--napi',
      '--strip',
      '--tag-libc',
      '--name=samsa_sendfile',
      `--arch=${arch}`,
      `--out=${HERE}`,
      `--node-gyp=${nodeGyp}`,
      `--strip-bin=${tc.strip}`,
      '--quiet',
      work,
    ];
    const env = { ...process.env, ...tc.env, ...(nodedir ? { npm_config_nodedir: nodedir } : {}) };
    const r = spawnSync(process.execPath, args, { cwd: work, env, stdio: 'pipe', encoding: 'utf8', timeout: 300000 });
    if (r.status !== 0) return `prebuildify failed (${r.error ? r.error.message : `exit ${r.status}`})\n${`${r.stdout}${r.stderr}`.trim().split('\n').slice(-15).join('\n')}`;
    return null;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function main() {
  if (process.platform !== 'linux') {
    say(`prebuilds are made on Linux (this is ${process.platform}); none made`);
    return REQUIRE ? 1 : 0;
  }
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) {
    say('node-gyp not found; no prebuilds made');
    return REQUIRE ? 1 : 0;
  }
  const nodedir = findNodeDir();
  fs.rmSync(OUT, { recursive: true, force: true });
  let failed = 0;
  for (const arch of TARGETS) {
    const started = Date.now();
    const error = build(arch, nodeGyp, nodedir);
    if (error) {
      failed++;
      say(`linux-${arch}: not made: ${error}`);
    } else {
      const dir = path.join(OUT, `linux-${arch}`);
      const files = fs.readdirSync(dir).map((f) => `${f} (${fs.statSync(path.join(dir, f)).size} bytes)`);
      say(`linux-${arch}: ${files.join(', ')} in ${Date.now() - started} ms`);
    }
  }
  if (failed && REQUIRE) {
    say('SAMSA_REQUIRE_PREBUILDS=1 and a prebuild is missing');
    return 1;
  }
  return 0;
}

process.exitCode = main();
