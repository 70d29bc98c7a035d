/**
 * Durable file primitives (REFERENCE.md "Durable files"): write to a temp file, fsync it, rename it
 * into place, fsync the directory. An fsync error is fatal: the page cache may have dropped the data,
 * so it is never retried. Reads refuse symlinks, FIFOs and other non-regular files, and the queue's
 * and the inbox's own directories must be real directories: a link there is refused, never followed.
 */
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ErrorCode, NightshiftError } from '../core/errors.js';

/** Thrown when the disk may have lost data. The process must stop, not retry. */
export class FatalIoError extends NightshiftError {
  override readonly name = 'FatalIoError';
}

/** `file` is what the message names (once): the file being written, or where its data is headed. */
function fsyncFd(fd: number, file: string, what = 'fsync failed'): void {
  try {
    fsyncSync(fd);
  } catch (err) {
    throw new FatalIoError(ErrorCode.io, `${what}: ${(err as Error).message}`, {
      file,
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

/**
 * Writes a complete file and fsyncs it. The file must not exist yet. `dest`, when the file is staged
 * to be renamed elsewhere, is the path an fsync error names instead of the staging one.
 */
export function writeNewFileSync(file: string, data: string | Uint8Array, mode = 0o644, dest?: string): void {
  const fd = openSync(
    file,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    mode,
  );
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (dest) fsyncFd(fd, dest, 'fsync of its new contents failed, it was not written');
    else fsyncFd(fd, file);
  } catch (err) {
    // A full disk (or any failed write) leaves no half-written file behind: it is ours (O_EXCL).
    closeSync(fd);
    rmSync(file, { force: true });
    throw err;
  }
  closeSync(fd);
}

/** Atomically replaces `file` with `data`: temp file in `tmpDir`, fsync, rename, fsync the directory. */
export function writeFileDurable(
  file: string,
  data: string | Uint8Array,
  tmpDir: string,
  mode = 0o644,
): void {
  const tmp = path.join(tmpDir, `${path.basename(file)}.${uniqueSuffix()}.tmp`);
  writeNewFileSync(tmp, data, mode, file);
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(path.dirname(file));
  if (path.resolve(tmpDir) !== path.resolve(path.dirname(file))) fsyncDir(tmpDir);
}

/** Renames and fsyncs both parent directories. */
export function renameDurable(from: string, to: string): void {
  renameSync(from, to);
  fsyncDir(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) fsyncDir(path.dirname(from));
}

/** Whether anything (a link included) is at `p`, without following it. */
export function existsNoFollow(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** What a directory entry is, for messages (a Dirent or a Stats from lstat). */
export function entryKind(entry: {
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isBlockDevice(): boolean;
  isCharacterDevice(): boolean;
  isDirectory(): boolean;
  isFile(): boolean;
}): string {
  if (entry.isSymbolicLink()) return 'a symbolic link';
  if (entry.isFIFO()) return 'a FIFO';
  if (entry.isSocket()) return 'a socket';
  if (entry.isBlockDevice() || entry.isCharacterDevice()) return 'a device';
  if (entry.isDirectory()) return 'a directory';
  if (entry.isFile()) return 'a regular file';
  return 'not a regular file';
}

/**
 * Checks, without following it, that one of the queue's or the inbox's own directories is a real
 * directory. Returns false when it does not exist; throws an `unsafe-file` error naming the path when it
 * is a symlink, a FIFO or a file, so nothing is ever read, moved or deleted through it.
 */
export function checkRealDir(dir: string): boolean {
  let st;
  try {
    st = lstatSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (st.isDirectory()) return true;
  throw new NightshiftError(
    ErrorCode.unsafeFile,
    st.isSymbolicLink()
      ? 'is a symbolic link, not a directory; nightshift never follows links in the queue or the inbox'
      : `is ${entryKind(st)}, not a directory`,
    {
      file: dir,
      hint: st.isSymbolicLink()
        ? `nothing was read or deleted through it. Remove the link (\`rm ${dir}\` leaves its target alone) and run nightshift again: it creates a real directory; move the target's contents into it if they belong to this workspace`
        : 'nothing was read or deleted. Move it out of the way and run nightshift again: it creates a real directory',
    },
  );
}

/** Creates a directory (and parents) unless it is already there; refuses one that is not a real directory. */
export function ensureDir(dir: string, mode = 0o755): void {
  if (!checkRealDir(dir)) mkdirSync(dir, { recursive: true, mode });
}

/**
 * Moves an entry into `dir` durably, never overwriting: a clash gets a numeric suffix (`name.1.md`).
 * rename(2) moves a symlink or a FIFO itself, never what it points to. Returns the new path.
 */
export function moveAside(file: string, dir: string, name: string): string {
  ensureDir(dir);
  const ext = path.extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let n = 0; ; n++) {
    const target = path.join(dir, n === 0 ? name : `${stem}.${n}${ext}`);
    if (!existsNoFollow(target)) {
      renameDurable(file, target);
      return target;
    }
  }
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
