/**
 * ResponseSender over a real loopback socket pair, in-process, on each of its paths:
 * sendfile (the addon on a plain socket), copy with RWF_NOWAIT reads (the addon, as for TLS
 * sockets) and copy with thread-pool reads only (no addon). Byte streams are compared with
 * what the chunk lists describe; the edge cases are a file shorter than its region, a region
 * not in the page cache, a slow reader, and a reader that goes away mid-region.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { ResponseSender, SENDFILE_MIN, sendStats } from '../../src/server/response-sender';
import { SendfileAddon, pendingWaits, zeroCopyAddon } from '../../src/server/zero-copy';
import type { Chunk } from '../../src/protocol/writer';
import { createLogger } from '../../src/logging';

const log = createLogger('silent');
const addon = zeroCopyAddon();
const requireZeroCopy = process.env.SAMSA_REQUIRE_ZERO_COPY === '1';

if (!addon) {
  if (requireZeroCopy) throw new Error('the sendfile addon does not load and SAMSA_REQUIRE_ZERO_COPY=1');
  console.warn('sendfile addon not available: only the copy paths are tested');
}

type Mode = { name: string; addon: SendfileAddon | null; direct: boolean };
const modes: Mode[] = [{ name: 'copy, thread-pool reads', addon: null, direct: false }];
if (addon) {
  modes.unshift({ name: 'sendfile', addon, direct: true });
  modes.push({ name: 'copy, RWF_NOWAIT reads', addon, direct: false });
}

let dir: string;
let file: string;
let fd: number;
const FILE_SIZE = 8 << 20;
let content: Buffer;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-sender-'));
  file = path.join(dir, 'data.log');
  content = Buffer.allocUnsafe(FILE_SIZE);
  for (let i = 0; i < FILE_SIZE; i += 4) content.writeUInt32LE((i * 2654435761) >>> 0, i);
  fs.writeFileSync(file, content);
  fd = fs.openSync(file, 'r');
});

afterAll(() => {
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function socketPair(): Promise<{ server: net.Socket; client: net.Socket; close: () => Promise<void> }> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', () => resolve()));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  const server = await accepted;
  listener.close();
  client.on('error', () => undefined);
  server.on('error', () => undefined);
  return {
    server,
    client,
    close: async () => {
      client.destroy();
      server.destroy();
      await new Promise((r) => setImmediate(r));
    },
  };
}

/** Collects everything the client receives until `total` bytes arrived. */
function collect(client: net.Socket, total: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  return new Promise((resolve, reject) => {
    if (total === 0) return resolve(Buffer.alloc(0));
    client.on('data', (d: Buffer) => {
      parts.push(d);
      got += d.length;
      if (got >= total) resolve(Buffer.concat(parts));
    });
    client.once('close', () => reject(new Error(`closed after ${got} of ${total} bytes`)));
  });
}

function expectedBytes(chunks: Chunk[]): Buffer {
  return Buffer.concat(chunks.map((c) => (Buffer.isBuffer(c) ? c : content.subarray(c.position, c.position + c.length))));
}

/** A deterministic mix: headers, tiny and small regions, sendfile-sized regions up to 1 MiB. */
function randomResponses(count: number, seed: number): Chunk[][] {
  let x = seed >>> 0 || 1;
  const rnd = (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
  const out: Chunk[][] = [];
  for (let i = 0; i < count; i++) {
    const chunks: Chunk[] = [];
    const header = Buffer.alloc(4 + rnd(40), i & 0xff);
    header.writeInt32BE(i, 0);
    chunks.push(header);
    const parts = 1 + rnd(4);
    for (let p = 0; p < parts; p++) {
      const kind = rnd(10);
      const length = kind < 5 ? 1 + rnd(2000) : kind < 8 ? 2000 + rnd(SENDFILE_MIN) : SENDFILE_MIN + rnd(1 << 20);
      chunks.push({ fd, position: rnd(FILE_SIZE - length), length });
      if (rnd(2)) chunks.push(Buffer.alloc(1 + rnd(30), 0xab));
    }
    out.push(chunks);
  }
  return out;
}

describe.each(modes.map((m) => [m.name, m] as const))('ResponseSender, %s', (_name, mode) => {
  test('a long mixed sequence of responses arrives byte-exact and in order', async () => {
    const { server, client, close } = await socketPair();
    const sender = new ResponseSender(server, log, mode.addon, mode.direct);
    const responses = randomResponses(400, 7);
    const want = Buffer.concat(responses.map(expectedBytes));
    const received = collect(client, want.length);
    const before = { ...sendStats };
    for (const r of responses) await sender.send(r);
    const got = await received;
    expect(got.length).toBe(want.length);
    expect(got.equals(want)).toBe(true);
    if (mode.direct) {
      expect(sendStats.sendfileBytes).toBeGreaterThan(before.sendfileBytes);
      // Regions of 256 KiB and more went through the thread pool's sendfile.
      expect(sendStats.sendfileThreadBytes).toBeGreaterThan(before.sendfileThreadBytes);
      expect(sender.directBytes).toBeGreaterThan(0);
    } else {
      expect(sendStats.sendfileBytes).toBe(before.sendfileBytes);
      expect(sender.directBytes).toBe(0);
    }
    await close();
  });

  test('a region past the end of its file is padded with zeros, keeping the frame length', async () => {
    const { server, client, close } = await socketPair();
    const sender = new ResponseSender(server, log, mode.addon, mode.direct);
    const tail = 100 * 1024;
    const chunks: Chunk[] = [Buffer.from('head'), { fd, position: FILE_SIZE - tail, length: tail + 300 * 1024 }, Buffer.from('tail')];
    const received = collect(client, 8 + tail + 300 * 1024);
    const padded = sendStats.paddedRegions;
    await sender.send(chunks);
    const got = await received;
    expect(got.subarray(0, 4).toString()).toBe('head');
    expect(got.subarray(4, 4 + tail).equals(content.subarray(FILE_SIZE - tail))).toBe(true);
    expect(got.subarray(4 + tail, 4 + tail + 300 * 1024).every((b) => b === 0)).toBe(true);
    expect(got.subarray(got.length - 4).toString()).toBe('tail');
    expect(sendStats.paddedRegions).toBeGreaterThan(padded);
    await close();
  });

  test('a slow reader gets every byte (partial writes, EAGAIN)', async () => {
    const { server, client, close } = await socketPair();
    const sender = new ResponseSender(server, log, mode.addon, mode.direct);
    const chunks: Chunk[] = [Buffer.from('x'), { fd, position: 0, length: FILE_SIZE }, Buffer.from('y')];
    client.pause();
    const parts: Buffer[] = [];
    let got = 0;
    const timer = setInterval(() => {
      let d: Buffer | null;
      let n = 0;
      while (n < 128 * 1024 && (d = client.read()) !== null) {
        parts.push(d);
        n += d.length;
        got += d.length;
      }
    }, 1);
    const waits = sendStats.writableWaits;
    await sender.send(chunks);
    while (got < FILE_SIZE + 2) await new Promise((r) => setTimeout(r, 5));
    clearInterval(timer);
    expect(Buffer.concat(parts).equals(expectedBytes(chunks))).toBe(true);
    if (mode.direct) expect(sendStats.writableWaits).toBeGreaterThan(waits);
    await close();
  });

  test('a reader that goes away mid-region: send resolves, no waits or descriptors are left', async () => {
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    const baseline = fds();
    for (let i = 0; i < 20; i++) {
      const { server, client, close } = await socketPair();
      const sender = new ResponseSender(server, log, mode.addon, mode.direct);
      client.pause();
      const sending = sender.send([Buffer.from('h'), { fd, position: 0, length: FILE_SIZE }, { fd, position: 0, length: FILE_SIZE }]);
      await new Promise((r) => setTimeout(r, i % 2 ? 0 : 20));
      // The peer resets, the peer closes, or our own side is destroyed (broker shutdown).
      if (i % 3 === 0) client.resetAndDestroy();
      else if (i % 3 === 1) client.destroy();
      else server.destroy();
      await sending;
      expect(sender.isBusy).toBe(false);
      // A later send on the dead socket is a no-op.
      await sender.send([{ fd, position: 0, length: SENDFILE_MIN * 2 }]);
      await close();
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(pendingWaits()).toBe(0);
    expect(fds()).toBeLessThanOrEqual(baseline + 1);
  });
});

if (addon) {
  test('a region not in the page cache is paged in on the thread pool, then sent with sendfile', async () => {
    // A sparse file: its holes are not in the page cache, so mincore reports them missing.
    const sparse = path.join(dir, 'sparse.log');
    const sfd = fs.openSync(sparse, 'w+');
    fs.ftruncateSync(sfd, 4 << 20);
    expect(addon.resident(sfd, 0, 4 << 20)).toBe(0);
    const { server, client, close } = await socketPair();
    const sender = new ResponseSender(server, log, addon, true);
    const before = { ...sendStats };
    const received = collect(client, 2 + (4 << 20));
    await sender.send([Buffer.from('a'), { fd: sfd, position: 0, length: 4 << 20 }, Buffer.from('b')]);
    const got = await received;
    expect(sendStats.prefetchedChunks).toBe(before.prefetchedChunks + 4);
    expect(sendStats.sendfileBytes).toBe(before.sendfileBytes + (4 << 20));
    expect(got[0]).toBe(0x61);
    expect(got.subarray(1, got.length - 1).every((b) => b === 0)).toBe(true);
    expect(got[got.length - 1]).toBe(0x62);
    fs.closeSync(sfd);
    await close();
  });

  test('addon calls report errors as negative errno values', () => {
    expect(addon.sendfile(-1, fd, 0, 10)).toBeLessThan(0);
    expect(addon.dup(-1)).toBeLessThan(0);
    expect(addon.watch(-1, 1)).toBeLessThan(0);
    expect(addon.resident(fd, 0, 4096)).toBe(1);
    const b = Buffer.alloc(16);
    expect(addon.preadNoWait(fd, b, 0, 16, 0)).toBe(16);
    expect(b.equals(content.subarray(0, 16))).toBe(true);
    return new Promise<void>((resolve) => addon.prefetch(fd, 0, 1 << 20, (rc) => (expect(rc).toBe(0), resolve())));
    expect(addon.preadNoWait(fd, b, 8, 16, 0)).toBeLessThan(0); // out of the buffer's bounds
  });
}
