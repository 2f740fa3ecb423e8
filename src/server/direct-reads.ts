/**
 * Socket reads into buffers we choose.
 *
 * By default Node reads every chunk into a fresh 64 KiB allocation. Under a producer sending
 * 1 MB requests that is hundreds of MB/s of short-lived external memory, and V8 answers it with
 * a mark-compact every few tens of milliseconds (a third of the broker's busy time in the
 * produce bench, and pauses every other client waits through). Node can read into a caller's
 * buffer instead (`net.connect({ onread })`, a documented option for client sockets), and the
 * buffer may change after every read; Node does not offer it for accepted sockets, so this
 * module switches an accepted socket to that mode through the same internal fields the option
 * sets. A connection switches when its first large frame arrives (src/server/connection.ts),
 * so connections that only send small requests keep Node's reads and cost nothing more; from
 * then on it reads a frame's header into a small area of its own and the rest of a frame
 * straight into that frame's buffer.
 *
 * Used only when the fields are found, the socket is plain TCP (TLS decrypts in its own
 * buffers) and holds no unread data; otherwise, or with SAMSA_DIRECT_READS=0, the connection
 * keeps Node's 'data' events.
 */
import * as net from 'net';

interface UserBufferFields {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

let fields: UserBufferFields | null | undefined;

/** Sockets switched to direct reads (tests, the bench). */
export const directReadStats = { sockets: 0 };

/** The internal fields behind `onread`, found on a probe socket (null when this Node has other ones). */
function userBufferFields(): UserBufferFields | null {
  if (fields !== undefined) return fields;
  fields = null;
  if (process.env.SAMSA_DIRECT_READS === '0') return fields;
  try {
    const onread = { buffer: () => Buffer.alloc(1), callback: () => true };
    const probe = new net.Socket({ onread } as net.SocketConstructorOpts);
    const symbols = Object.getOwnPropertySymbols(probe);
    const find = (name: string) => symbols.find((s) => s.description === name);
    const buffer = find('kBuffer');
    const callback = find('kBufferCb');
    const generator = find('kBufferGen');
    probe.destroy();
    if (buffer && callback && generator) fields = { buffer, callback, generator };
  } catch {
    fields = null;
  }
  return fields;
}

type SocketHandle = { useUserBuffer?: (b: Buffer) => void };

/** Whether readInto() would succeed now: the fields exist, the socket is plain TCP and holds no unread data. */
export function canReadInto(socket: net.Socket): boolean {
  if (!userBufferFields()) return false;
  const handle = (socket as unknown as { _handle?: SocketHandle })._handle;
  return (socket as net.Socket & { encrypted?: boolean }).encrypted !== true && !!handle && typeof handle.useUserBuffer === 'function' && socket.readableLength === 0;
}

/**
 * Makes `socket` read into `next()`'s buffer, asked for at once and again after every read,
 * and hand each read to `onRead(bytes, buffer)` instead of emitting 'data'. Works on a socket
 * that has been emitting 'data' too, from inside a 'data' listener (the reads after it go to
 * the new buffers); the caller removes its listener. False (and nothing changed) when
 * canReadInto() is false.
 */
export function readInto(socket: net.Socket, next: () => Buffer, onRead: (bytes: number, buffer: Buffer) => void): boolean {
  const f = userBufferFields();
  if (!f || !canReadInto(socket)) return false;
  const handle = (socket as unknown as { _handle: Required<SocketHandle> })._handle;
  const s = socket as unknown as Record<symbol, unknown>;
  s[f.generator] = next;
  s[f.callback] = (bytes: number, buffer: Buffer) => {
    onRead(bytes, buffer);
    return true; // pausing goes through socket.pause(), which stops reads in this mode too
  };
  const first = next();
  s[f.buffer] = first;
  handle.useUserBuffer(first);
  directReadStats.sockets++;
  // Flowing, so that the peer's end still ends the socket; no 'data' is emitted in this mode.
  socket.resume();
  return true;
}
