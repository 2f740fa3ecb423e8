/*
 * Where node-gyp and Node's headers are on this machine: shared by build.js (the addon for
 * this machine) and prebuild.js (the prebuilt addons shipped in the npm package).
 */
'use strict';
const fs = require('fs');
const path = require('path');

/** node-gyp's entry script: a local dependency, npm's bundled copy, or a global install. */
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

/**
 * Headers to build against, so that node-gyp never downloads them: npm's `nodedir` setting,
 * else <prefix>/include/node of the running node; null lets node-gyp fetch its own.
 */
function findNodeDir() {
  const fromNpm = process.env.npm_config_nodedir;
  if (fromNpm && fs.existsSync(path.join(fromNpm, 'include', 'node', 'node_api.h'))) return fromNpm;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  return null;
}

module.exports = { findNodeGyp, findNodeDir };
