/**
 * Durable file primitives (REFERENCE.md "Durable files"): write to a temp file, fsync it, rename it
 * into place, fsync the directory. An fsync error is fatal: the page cache may have dropped the data,
 * so it is never retried. Reads refuse symlinks, FIFOs and other non-regular files.
 */
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ErrorCode, NightshiftError } from '../core/errors.js';

/** Thrown when the disk may have lost data. The process must stop, not retry. */
export class FatalIoError extends NightshiftError {
  override readonly name = 'FatalIoError';
}

function fsyncFd(fd: number, what: string): void {
  try {
    fsyncSync(fd);
  } catch (err) {
    throw new FatalIoError(ErrorCode.io, `fsync of ${what} failed: ${(err as Error).message}`, {
      file: what,
      hint: 'the disk may have lost data; check it (dmesg, df) before restarting nightshift',
    });
  }
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncFd(fd, dir);
  } finally {
    closeSync(fd);
  }
}

export function uniqueSuffix(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Writes a complete file and fsyncs it. The file must not exist yet. */
export function writeNewFileSync(file: string, data: string | Uint8Array, mode = 0o644): void {
  const fd = openSync(
    file,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    mode,
  );
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncFd(fd, file);
  } finally {
    closeSync(fd);
  }
}

/** Atomically replaces `file` with `data`: temp file in `tmpDir`, fsync, rename, fsync the directory. */
export function writeFileDurable(
  file: string,
  data: string | Uint8Array,
  tmpDir: string,
  mode = 0o644,
): void {
  const tmp = path.join(tmpDir, `${path.basename(file)}.${uniqueSuffix()}.tmp`);
  writeNewFileSync(tmp, data, mode);
  renameSync(tmp, file);
  fsyncDir(path.dirname(file));
  if (path.resolve(tmpDir) !== path.resolve(path.dirname(file))) fsyncDir(tmpDir);
}

/** Renames and fsyncs both parent directories. */
export function renameDurable(from: string, to: string): void {
  renameSync(from, to);
  fsyncDir(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) fsyncDir(path.dirname(from));
}

/** Creates a directory (and parents) unless it is already there. */
export function ensureDir(dir: string, mode = 0o755): void {
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true, mode });
}

/**
 * Reads a regular file without following symlinks or blocking on FIFOs.
 * Throws an `unsafe-file` error for anything that is not a plain file, and for files over `maxBytes`.
 */
export function readRegularFile(file: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new NightshiftError(ErrorCode.unsafeFile, 'is a symbolic link; nightshift never follows links', {
        file,
        hint: 'copy the real file here instead of linking it',
      });
    }
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new NightshiftError(
        ErrorCode.unsafeFile,
        'is not a regular file (a FIFO, device or directory?)',
        {
          file,
          hint: 'only plain files are read',
        },
      );
    }
    if (st.size > maxBytes) {
      throw new NightshiftError(ErrorCode.invalidSpec, `is ${st.size} bytes; the limit is ${maxBytes}`, {
        file,
      });
    }
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === st.size ? buf : buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}
