/**
 * The committed src/protocol/generated/ must be exactly what scripts/gen-protocol.ts
 * produces from protocol/*.def. When this fails, run `npm run gen` and commit the result.
 */
import * as fs from 'fs';
import * as path from 'path';
import { generate } from '../../scripts/gen-protocol';

const root = path.resolve(__dirname, '..', '..');
const generatedDir = path.join(root, 'src', 'protocol', 'generated');
const HINT = 'src/protocol/generated/ is stale relative to protocol/*.def: run `npm run gen`';

describe('generated protocol code is fresh', () => {
  const expected = generate(path.join(root, 'protocol'));

  it('produces an index and one file per API', () => {
    expect(expected.has('index.ts')).toBe(true);
    expect(expected.size).toBeGreaterThan(1);
  });

  it('has no extra files in src/protocol/generated/', () => {
    const extra = fs.readdirSync(generatedDir).filter((f) => !expected.has(f));
    if (extra.length) throw new Error(`${HINT} (unexpected files: ${extra.join(', ')})`);
  });

  it('has every generated file committed with identical content', () => {
    const stale: string[] = [];
    for (const [file, text] of expected) {
      const p = path.join(generatedDir, file);
      if (!fs.existsSync(p)) stale.push(`${file} (missing)`);
      else if (fs.readFileSync(p, 'utf8') !== text) stale.push(file);
    }
    if (stale.length) throw new Error(`${HINT} (differs: ${stale.join(', ')})`);
  });
});
