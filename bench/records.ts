/**
 * Record files for kcat -P -l: `count` lines of exactly `size` bytes plus '\n'.
 *
 * Content is text from a fixed vocabulary of random words (deterministic PRNG), so lz4 finds
 * some but not unrealistic redundancy; every record starts with its decimal sequence number,
 * so no two records are equal. Written once per run into the bench's temp dir.
 */
import * as fs from 'fs';

function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export function generateRecordFile(file: string, count: number, size: number, seed = 12345): void {
  if (size < 12) throw new Error('record size must be at least 12 bytes');
  const rnd = xorshift(seed);
  const words: string[] = [];
  for (let i = 0; i < 2048; i++) {
    const len = 2 + (rnd() % 9);
    let w = '';
    for (let j = 0; j < len; j++) w += String.fromCharCode(97 + (rnd() % 26));
    words.push(w);
  }
  // A pool of distinct bodies, cycled; the sequence-number prefix makes each record unique.
  const poolSize = Math.max(1, Math.min(count, Math.ceil((8 * 1024 * 1024) / size)));
  const line = size + 1;
  const pool = Buffer.alloc(poolSize * line);
  for (let r = 0; r < poolSize; r++) {
    let s = '';
    while (s.length < size) s += words[rnd() % words.length] + ' ';
    pool.write(s.slice(0, size), r * line, 'latin1');
    pool[r * line + size] = 0x0a;
  }
  const perChunk = Math.max(1, Math.floor((4 * 1024 * 1024) / line));
  const chunk = Buffer.alloc(perChunk * line);
  const fd = fs.openSync(file, 'w');
  try {
    let written = 0;
    while (written < count) {
      const n = Math.min(perChunk, count - written);
      for (let k = 0; k < n; k++) {
        const seq = written + k;
        const src = (seq % poolSize) * line;
        pool.copy(chunk, k * line, src, src + line);
        chunk.write(String(seq).padStart(10, '0'), k * line, 'latin1');
      }
      fs.writeSync(fd, chunk, 0, n * line);
      written += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}
