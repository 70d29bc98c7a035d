/**
 * The per-attempt log cap (`defaults.logCap`): logs/<id>/attempt-<n>.log keeps the first half of the cap
 * and the last half of the attempt's (redacted) output, with one marker line between them saying how
 * many bytes were left out. While the attempt runs the file may grow a little past the cap (the slack)
 * before it is compacted again, so the live view keeps following the output; at the end it is compacted
 * to the cap exactly. The decisions are pure (capShape, compaction, cutMarker); compactLog does the file
 * work in bounded chunks, so memory never grows with the output.
 */
import { closeSync, fsyncSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';

export interface CapShape {
  /** Bytes kept from the start of the output. */
  head: number;
  /** Bytes kept from the end of the output. */
  tail: number;
  /** How far past the cap the file may grow while the attempt runs, before it is compacted again. */
  slack: number;
}

/** What has been cut so far, as the file holds it: the marker sits right after the head. */
export interface CutState {
  /** Bytes of output left out. */
  cutBytes: number;
  /** Length of the marker line in the file. */
  markerBytes: number;
}

export const MIN_LOG_CAP = 64 * 1024;

export function capShape(cap: number): CapShape {
  const head = Math.floor(cap / 2);
  const tail = cap - head;
  return { head, tail, slack: Math.max(64 * 1024, Math.floor(tail / 4)) };
}

/**
 * Whether a log of `size` bytes must be compacted now, and if so from which byte of the file the kept
 * tail starts and how many bytes of output are then left out in all. `final`: the attempt has ended,
 * compact to the cap exactly. Null: leave the file alone.
 */
export function compaction(
  size: number,
  shape: CapShape,
  cut: CutState | null,
  final: boolean,
): { keepFrom: number; cutBytes: number } | null {
  const bodyStart = shape.head + (cut?.markerBytes ?? 0);
  const excess = size - bodyStart - shape.tail;
  if (excess <= 0 || (!final && excess <= shape.slack)) return null;
  const keepFrom = size - shape.tail;
  return { keepFrom, cutBytes: (cut?.cutBytes ?? 0) + (keepFrom - bodyStart) };
}

const bytes = (n: number) => n.toLocaleString('en-US');

/** The line between head and tail. It starts with a newline so it is a line of its own. */
export function cutMarker(cutBytes: number, shape: CapShape): string {
  return (
    `\n[… nightshift left out ${bytes(cutBytes)} bytes of this attempt's output here: the log keeps the ` +
    `first ${bytes(shape.head)} and the last ${bytes(shape.tail)} bytes (defaults.logCap) …]\n`
  );
}

/** How many bytes at the start of `buf` continue a UTF-8 character begun before it (at most 3). */
export function continuationBytes(buf: Uint8Array): number {
  let n = 0;
  while (n < 3 && n < buf.length && (buf[n]! & 0xc0) === 0x80) n++;
  return n;
}

const CHUNK = 1 << 20;

function copyRange(from: number, to: number, src: number, dst: number, buf: Buffer): void {
  for (let at = from; at < to;) {
    const n = readSync(src, buf, 0, Math.min(buf.length, to - at), at);
    if (n <= 0) break;
    writeSync(dst, buf, 0, n);
    at += n;
  }
}

/**
 * Compacts `file` if compaction() says so: head, the marker, and the tail, written to `file.cut` in
 * chunks of 1 MiB and renamed over the log (a crash leaves the old log whole). Returns the new cut state,
 * or the old one when nothing was done.
 */
export function compactLog(
  file: string,
  shape: CapShape,
  cut: CutState | null,
  final: boolean,
): CutState | null {
  const size = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  const plan = compaction(size, shape, cut, final);
  if (!plan) return cut;
  const buf = Buffer.alloc(CHUNK);
  const src = openSync(file, 'r');
  const tmp = `${file}.cut`;
  const dst = openSync(tmp, 'w', 0o600);
  try {
    // The tail starts on a whole character.
    const peek = readSync(src, buf, 0, 3, plan.keepFrom);
    const skip = continuationBytes(buf.subarray(0, peek));
    const cutBytes = plan.cutBytes + skip;
    const marker = Buffer.from(cutMarker(cutBytes, shape));
    copyRange(0, shape.head, src, dst, buf);
    writeSync(dst, marker);
    copyRange(plan.keepFrom + skip, size, src, dst, buf);
    fsyncSync(dst);
    renameSync(tmp, file);
    return { cutBytes, markerBytes: marker.length };
  } finally {
    closeSync(dst);
    closeSync(src);
  }
}
