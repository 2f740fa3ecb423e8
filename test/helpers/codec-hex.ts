/**
 * Annotated hex for hand-written wire vectors:
 *
 *   hex`
 *     0003        # api_key 3
 *     ${'61'.repeat(200)}  # 200 x 'a'
 *   `
 *
 * Everything from '#' to the end of a line is a comment; whitespace is ignored.
 */
export function hex(strings: TemplateStringsArray, ...values: unknown[]): Buffer {
  let text = strings[0];
  values.forEach((v, i) => (text += String(v) + strings[i + 1]));
  const digits = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').replace(/\s+/g, ''))
    .join('');
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw new Error(`bad hex vector: ${digits}`);
  return Buffer.from(digits, 'hex');
}

/** Hex of a string's UTF-8 bytes (for long repeated payloads; short ones are spelled out). */
export function utf8Hex(s: string): string {
  return Buffer.from(s, 'utf8').toString('hex');
}
