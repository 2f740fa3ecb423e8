/**
 * Loopback TCP limit: two node processes push bytes through 127.0.0.1.
 *
 *   node dist/bench/loopback.js sink BYTES          listens on a free port, prints "port N",
 *                                                   then "bytes B ms T" once BYTES arrived
 *                                                   (timed from accept to the last byte)
 *   node dist/bench/loopback.js source PORT BYTES   writes BYTES in 1 MiB chunks, honouring
 *                                                   backpressure, then closes
 *   node dist/bench/loopback.js sendfile-server FILE...  listens on a free port, prints "port N";
 *                                                   sends the files to the first connection with
 *                                                   sendfile(2) through Samsa's addon (non-blocking,
 *                                                   waiting for writability on EAGAIN, as the
 *                                                   broker does), then closes; exit 4 without addon
 *   node dist/bench/loopback.js sink-connect PORT BYTES  connects and reads into one reused 4 MiB
 *                                                   buffer (socket onread: no allocation per read,
 *                                                   like a C client such as librdkafka); prints
 *                                                   "bytes B ms T" (from connect to the last byte)
 *
 * run.ts starts both; each is a separate process so that sender and receiver get a core each,
 * as kcat and the broker do.
 */
import * as fs from 'fs';
import * as net from 'net';
import { EAGAIN, newWaitId, waitWritable, zeroCopyAddon } from '../src/server/zero-copy';

const CHUNK = 1024 * 1024;

function sink(total: number): void {
  const server = net.createServer((socket) => {
    const t0 = process.hrtime.bigint();
    let got = 0;
    socket.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= total) {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        process.stdout.write(`bytes ${got} ms ${ms.toFixed(3)}\n`, () => process.exit(0));
      }
    });
    socket.on('error', () => process.exit(2));
    socket.on('end', () => {
      if (got < total) {
        process.stdout.write(`short ${got}\n`, () => process.exit(3));
      }
    });
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`port ${(server.address() as net.AddressInfo).port}\n`);
  });
}

function source(port: number, total: number): void {
  const buf = Buffer.alloc(CHUNK, 0x5a);
  const socket = net.connect({ port, host: '127.0.0.1' }, () => {
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const n = Math.min(CHUNK, total - sent);
        sent += n;
        if (!socket.write(n === CHUNK ? buf : buf.subarray(0, n))) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end();
    };
    pump();
  });
  socket.on('error', () => process.exit(2));
}

/** Page cache -> socket with sendfile(2): the ceiling of a zero-copy fetch. */
function sendfileServer(files: string[]): void {
  const addon = zeroCopyAddon();
  if (!addon) {
    process.stderr.write('sendfile addon not available\n');
    process.exit(4);
  }
  const server = net.createServer(async (socket) => {
    server.close();
    socket.on('error', () => process.exit(2));
    const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
    const id = newWaitId();
    for (const f of files) {
      const ffd = fs.openSync(f, 'r');
      const size = fs.fstatSync(ffd).size;
      for (let pos = 0; pos < size; ) {
        const n = addon.sendfile(fd, ffd, pos, size - pos);
        if (n > 0) pos += n;
        else if (n === -EAGAIN) await waitWritable(addon, fd, id);
        else {
          process.stderr.write(`sendfile failed: errno ${-n}\n`);
          process.exit(2);
        }
      }
      fs.closeSync(ffd);
    }
    socket.end();
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`port ${(server.address() as net.AddressInfo).port}\n`);
  });
}

function sinkConnect(port: number, total: number): void {
  let got = 0;
  let t0 = 0n;
  const socket = net.connect({
    port,
    host: '127.0.0.1',
    onread: {
      buffer: Buffer.allocUnsafe(4 * 1024 * 1024),
      callback: (n: number) => {
        got += n;
        if (got >= total) {
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          process.stdout.write(`bytes ${got} ms ${ms.toFixed(3)}\n`, () => process.exit(0));
        }
        return true;
      },
    },
  });
  socket.once('connect', () => (t0 = process.hrtime.bigint()));
  socket.on('error', () => process.exit(2));
  socket.on('end', () => {
    if (got < total) process.stdout.write(`short ${got}\n`, () => process.exit(3));
  });
}

const [mode, a, b, ...rest] = process.argv.slice(2);
if (mode === 'sink') sink(Number(a));
else if (mode === 'source') source(Number(a), Number(b));
else if (mode === 'sendfile-server') sendfileServer([a, b, ...rest].filter((x) => x !== undefined));
else if (mode === 'sink-connect') sinkConnect(Number(a), Number(b));
else {
  process.stderr.write('usage: loopback.js sink BYTES | source PORT BYTES | sendfile-server FILE... | sink-connect PORT BYTES\n');
  process.exit(1);
}
