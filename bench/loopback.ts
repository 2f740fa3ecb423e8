/**
 * Loopback TCP limit: two node processes push bytes through 127.0.0.1.
 *
 *   node dist/bench/loopback.js sink BYTES          listens on a free port, prints "port N",
 *                                                   then "bytes B ms T" once BYTES arrived
 *                                                   (timed from accept to the last byte)
 *   node dist/bench/loopback.js source PORT BYTES   writes BYTES in 1 MiB chunks, honouring
 *                                                   backpressure, then closes
 *
 * run.ts starts both; each is a separate process so that sender and receiver get a core each,
 * as kcat and the broker do.
 */
import * as net from 'net';

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

const [mode, a, b] = process.argv.slice(2);
if (mode === 'sink') sink(Number(a));
else if (mode === 'source') source(Number(a), Number(b));
else {
  process.stderr.write('usage: loopback.js sink BYTES | source PORT BYTES\n');
  process.exit(1);
}
