/**
 * Synchronous positional file I/O helpers shared by the storage modules. No on-disk format
 * of its own. Short reads/writes are retried until done; a read that hits end of file
 * returns the bytes actually read.
 */
import * as fs from 'fs';
import * as path from 'path';

/** Reads up to `length` bytes at `position` into buf[offset..]; returns the bytes read (short only at EOF). */
export function readFully(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Writes all of buf[offset, offset+length) at `position`. */
export function writeFully(fd: number, buf: Buffer, offset: number, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    done += fs.writeSync(fd, buf, offset + done, length - done, position + done);
  }
}

/** fsync a directory so that creations, renames and unlinks in it are durable (no-op where unsupported). */
export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some platforms refuse to open or fsync directories; durability of the entry is best effort there.
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** Writes `data` to `file` (created or replaced in place) and fsyncs it. */
export function writeFileSynced(file: string, data: Buffer): void {
  const fd = fs.openSync(file, 'w', 0o644);
  try {
    writeFully(fd, data, 0, data.length, 0);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** fsyncs an existing file by name (no-op when it is gone). */
export function fsyncFile(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Index-file update: writes `data` at `position` (the entries not yet on disk), then sets the
 * file length to `totalSize` (dropping stale or preallocated bytes), optionally fsyncs.
 */
export function writeFileTail(path: string, data: Buffer, position: number, totalSize: number, fsync: boolean): void {
  const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644);
  try {
    if (data.length > 0) writeFully(fd, data, 0, data.length, position);
    fs.ftruncateSync(fd, totalSize);
    if (fsync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Replaces `file` with `text` atomically and durably: write a temporary file, fsync it,
 * rename it over the old one, then fsync the directory so the rename survives a crash.
 * A `mode` (e.g. 0o600 for private keys) is set on the temporary file before any byte is
 * written, so the content is never readable with looser permissions.
 */
export function writeFileAtomic(file: string, text: string, mode?: number): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', mode ?? 0o644);
  try {
    // A leftover temporary file keeps its old mode through open(); force the requested one.
    if (mode !== undefined) fs.fchmodSync(fd, mode);
    const bytes = Buffer.from(text);
    writeFully(fd, bytes, 0, bytes.length, 0);
    fs.fsyncSync(fd);
  } catch (err) {
    // A full disk: the old file stays as it was, and no half-written temporary is left.
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}
