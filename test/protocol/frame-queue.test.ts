/** The client-side frame reassembler: frames come out whole however the bytes are split. */
import { FrameQueue } from '../../src/protocol/frame-queue';

function framed(bodies: Buffer[]): Buffer {
  return Buffer.concat(
    bodies.flatMap((b) => {
      const size = Buffer.alloc(4);
      size.writeInt32BE(b.length);
      return [size, b];
    }),
  );
}

describe('FrameQueue', () => {
  const bodies = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from('x')];
  const stream = framed(bodies);

  test.each([1, 2, 3, 4, 5, 13, 4096, stream.length])('chunks of %i bytes', (n) => {
    const q = new FrameQueue();
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i += n) q.push(stream.subarray(i, i + n), (f) => out.push(Buffer.from(f)));
    expect(out).toEqual(bodies);
    expect(q.bufferedBytes).toBe(0);
  });

  test('a partial frame stays buffered until its last byte', () => {
    const q = new FrameQueue();
    const out: Buffer[] = [];
    q.push(stream.subarray(0, 8), (f) => out.push(f));
    expect(out).toEqual([]);
    expect(q.bufferedBytes).toBe(4);
    q.push(stream.subarray(8, 9), (f) => out.push(f));
    expect(out).toEqual([Buffer.from('first')]);
  });

  test('a negative size is an error', () => {
    expect(() => new FrameQueue().push(Buffer.from([0xff, 0xff, 0xff, 0xfe]), () => undefined)).toThrow(/negative frame size/);
  });
});
