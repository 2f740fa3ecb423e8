/**
 * Swapping functions of Node's fs module for a test (injected disk errors, held writes).
 * The CommonJS module object is what the code under test calls through, so its functions can
 * be replaced (an ES namespace import cannot); restoreAll() puts the real ones back.
 */
import type * as fs from 'fs';

type FsFunction = 'write' | 'writeSync' | 'fsyncSync' | 'openSync';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeFs = require('fs') as Record<string, unknown>;
const restores: (() => void)[] = [];

export function inject<K extends FsFunction>(name: K, impl: (typeof fs)[K]): void {
  const real = nodeFs[name];
  nodeFs[name] = impl;
  restores.push(() => (nodeFs[name] = real));
}

export function restoreAll(): void {
  for (const r of restores.splice(0).reverse()) r();
}
