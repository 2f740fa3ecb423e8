/**
 * A fetch client that costs almost nothing per byte, to measure what the broker's fetch path
 * delivers when the client is not the bound (kcat parses every record; at 1 KiB records
 * librdkafka's per-record work limits it well below the socket's speed):
 *
 *   node dist/bench/fetch-client.js PORT TOPIC [PARTITION_MAX_BYTES] [--tls-ca FILE] [--repeat]
 *
 * With --repeat it is a backlog-reading neighbour (the latency bench's noisy phase): at the
 * end of the topic it starts again from offset 0, until SIGTERM; then it prints the totals
 * line below (B counts every pass) plus " passes P".
 *
 * With --tls-ca it speaks TLS (an SSL listener, trusting the CA in FILE): the same client over
 * PLAINTEXT and SSL shows what TLS costs the broker without a client's per-record work.
 *
 * Reads partition 0 from offset 0 to its end with Fetch v11 requests, one at a time as
 * librdkafka does, each for up to PARTITION_MAX_BYTES (default 16 MiB). Responses are read
 * into one reused 4 MiB buffer (socket onread) and never assembled: only the response
 * fields before the records and the 27-byte head of each batch are looked at, to find the
 * next offset. Prints "bytes B ms T fetches N wire W": B counts whole batches once (a response
 * cut inside a batch is read again from that batch by the next fetch); W is every records byte.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as tls from 'tls';
import { encodeRequest } from './wire';

const argv = process.argv.slice(2);
const caAt = argv.indexOf('--tls-ca');
const tlsCa = caAt >= 0 ? fs.readFileSync(argv.splice(caAt, 2)[1]) : null;
const repeatAt = argv.indexOf('--repeat');
const repeat = repeatAt >= 0;
if (repeat) argv.splice(repeatAt, 1);
const [port, topic, maxArg] = [Number(argv[0]), argv[1], argv[2]];
const partitionMaxBytes = maxArg ? Number(maxArg) : 16 * 1024 * 1024;

/** A byte range of the current frame that the parser waits for. */
interface Want {
  at: number;
  len: number;
  buf: Buffer;
  filled: number;
  then: (b: Buffer) => void;
}

let offset = 0;
let fetches = 0;
let bytes = 0;
let wireBytes = 0;
let t0 = 0n;
let correlation = 1;
let passes = 0;

// Frame state.
let sizeBuf = Buffer.alloc(4);
let sizeFilled = 0;
let frameSize = -1;
let framePos = 0;
let want: Want | null = null;
let recordsEnd = 0;
let recordsLen = 0;
let nextOffset = 0;

function ask(at: number, len: number, then: (b: Buffer) => void): void {
  want = { at, len, buf: Buffer.allocUnsafe(len), filled: 0, then };
}

function startFrame(): void {
  nextOffset = offset;
  // correlation(4) throttle(4) error(2) session(4) topics(4) | topic name int16 length...
  ask(0, 20, (b) => {
    const nameLen = b.readInt16BE(18);
    // ...name, partitions(4) partition(4) error(2) hw(8) lso(8) logStart(8) aborted(4: null) replica(4) records length(4)
    ask(20, nameLen + 46, (c) => {
      const aborted = c.readInt32BE(nameLen + 34);
      if (aborted > 0) throw new Error('aborted transactions in a read_uncommitted fetch');
      recordsLen = c.readInt32BE(nameLen + 42);
      const start = 20 + nameLen + 46;
      recordsEnd = start + Math.max(0, recordsLen);
      wireBytes += Math.max(0, recordsLen);
      walkBatch(start);
    });
  });
}

/** Batch header: baseOffset(8) batchLength(4) epoch(4) magic(1) crc(4) attributes(2) lastOffsetDelta(4). */
function walkBatch(at: number): void {
  if (at + 27 > recordsEnd) {
    want = null;
    return;
  }
  ask(at, 27, (h) => {
    const base = Number(h.readBigInt64BE(0));
    const end = at + 12 + h.readInt32BE(8);
    if (end > recordsEnd) {
      want = null; // a partial batch at the end of the response
      return;
    }
    nextOffset = base + h.readInt32BE(23) + 1;
    bytes += end - at;
    walkBatch(end);
  });
}

function feed(chunk: Buffer): void {
  let p = 0;
  while (p < chunk.length) {
    if (frameSize < 0) {
      const k = Math.min(4 - sizeFilled, chunk.length - p);
      chunk.copy(sizeBuf, sizeFilled, p, p + k);
      sizeFilled += k;
      p += k;
      if (sizeFilled === 4) {
        frameSize = sizeBuf.readInt32BE(0);
        framePos = 0;
        startFrame();
      }
      continue;
    }
    const k = Math.min(frameSize - framePos, chunk.length - p);
    // Copy only the bytes some Want covers.
    while (want && want.at + want.filled < framePos + k) {
      const w: Want = want;
      const from = Math.max(w.at + w.filled, framePos);
      const to = Math.min(w.at + w.len, framePos + k);
      if (to <= from) break;
      chunk.copy(w.buf, w.filled, p + (from - framePos), p + (to - framePos));
      w.filled += to - from;
      if (w.filled < w.len) break;
      want = null;
      w.then(w.buf);
    }
    framePos += k;
    p += k;
    if (framePos === frameSize) {
      frameSize = -1;
      sizeFilled = 0;
      sizeBuf = Buffer.alloc(4);
      endFrame();
    }
  }
}

function report(): void {
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const extra = repeat ? ` passes ${passes}` : '';
  process.stdout.write(`bytes ${bytes} ms ${ms.toFixed(3)} fetches ${fetches} wire ${wireBytes}${extra}\n`, () => process.exit(0));
}

function endFrame(): void {
  if (recordsLen <= 0 || nextOffset === offset) {
    if (!repeat) return report();
    // At the end: read the topic again from the start.
    passes++;
    offset = 0;
    sendFetch();
    return;
  }
  offset = nextOffset;
  sendFetch();
}

if (repeat) for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, report);

function sendFetch(): void {
  fetches++;
  socket.write(
    encodeRequest(
      1,
      11,
      {
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: partitionMaxBytes,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1, partitionMaxBytes }] }],
        forgottenTopicsData: [],
        rackId: '',
      },
      correlation++,
    ),
  );
}

const onread = {
  buffer: Buffer.allocUnsafe(4 * 1024 * 1024),
  callback: (n: number, buf: Uint8Array) => {
    feed(Buffer.from(buf.buffer, buf.byteOffset, n));
    return true;
  },
};
// tls.connect takes onread as well: decrypted bytes land in the same reused buffer.
const socket: net.Socket = tlsCa
  ? tls.connect({ port, host: '127.0.0.1', ca: tlsCa, onread } as tls.ConnectionOptions)
  : net.connect({ port, host: '127.0.0.1', onread });
socket.setNoDelay(true);
socket.once(tlsCa ? 'secureConnect' : 'connect', () => {
  t0 = process.hrtime.bigint();
  sendFetch();
});
socket.on('error', (err) => {
  process.stderr.write(`fetch client: ${err.message}\n`);
  process.exit(2);
});
