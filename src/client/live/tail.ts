/** Reading the end of a growing file (a mirrored log, the event log) without reading all of it. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface Tail {
  size: number;
  /** The last `maxBytes` of the file; when cut, starts after the first line break. */
  text: string;
}

/** The end of `file`, or null when it cannot be read. */
export function readTail(file: string, maxBytes: number): Tail | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    let read = 0;
    while (read < buf.length) {
      const n = readSync(fd, buf, read, buf.length - read, start + read);
      if (n === 0) break;
      read += n;
    }
    let text = buf.subarray(0, read).toString('utf8');
    if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    return { size, text };
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
