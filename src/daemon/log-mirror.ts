/**
 * An attempt's output on the supervisor's side: the host's log mirrored to logs/<id>/attempt-<n>.log
 * (redacted, capped, with a mark of how far it got so an adopting daemon reads on from there), the last
 * screen kept before a kill (logs/<id>/attempt-<n>.screen.txt), and the mirrored log read back.
 */
import {
  appendFileSync,
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { TaskId } from '../core/ids.js';
import type { WorkspacePaths } from '../config/paths.js';
import { StreamRedactor, type Redactor } from '../lib/redact.js';
import { capShape, compactLog, type CapShape, type CutState } from './log-cap.js';
import type { HostPort } from './host-port.js';

/** What mirroring an attempt's log keeps between reads (part of the daemon's LiveAttempt). */
export interface MirroredLog {
  taskId: TaskId;
  attempt: number;
  /** The host's log size at the last poll. */
  logBytes: number;
  /** Bytes of the host's log read so far (written to logs/, or held back in `mirror`). */
  mirroredBytes: number;
  /** The log's redaction as it streams: holds back a tail that may be the start of a secret. */
  mirror?: StreamRedactor;
  /** The log was cut to defaults.logCap: what was left out, and the marker's length (log-cap.ts). */
  cut?: CutState | null;
  /** The mirror under way, if any: the next one waits for it (mirrorLog). */
  mirroring?: Promise<void>;
}

/** One read of the host's log: the mirror's memory is bounded by this, whatever the output's size. */
export const MIRROR_CHUNK = 1 << 20;
const MAX_READS = 32;
const MAX_FORCED_READS = 4096;

export interface MirrorOptions {
  /** Read even if the last status showed no growth, and write what is held back (the attempt has ended). */
  force?: boolean;
  /** defaults.logCap: the log keeps the head and the tail of the output within it (log-cap.ts). */
  cap?: number;
  /** Each piece of text appended, in order (for the provider's live check). */
  onText?: (text: string) => void;
  /** The log was cut (again): how many bytes of output are left out in all. */
  onCut?: (cutBytes: number) => void;
}

/**
 * Copies new log bytes from the host to logs/<id>/attempt-<n>.log, redacted, in chunks of MIRROR_CHUNK.
 * A tail that could be the start of a secret (or of a UTF-8 character) waits for the next read; `force`
 * (at exit or kill) writes it too. With a cap the log keeps the head and the tail of the output and says
 * how much was left out (log-cap.ts). Returns the number of bytes appended.
 */
export function mirrorLog(
  paths: WorkspacePaths,
  worker: HostPort,
  live: MirroredLog,
  redact: Redactor,
  opts: MirrorOptions = {},
): Promise<number> {
  // One mirror of an attempt at a time: two reading from the same offset would write bytes twice.
  const run = (live.mirroring ?? Promise.resolve()).then(() => mirrorOnce(paths, worker, live, redact, opts));
  live.mirroring = run.then(
    () => undefined,
    () => undefined,
  );
  return run;
}

async function mirrorOnce(
  paths: WorkspacePaths,
  worker: HostPort,
  live: MirroredLog,
  redact: Redactor,
  opts: MirrorOptions,
): Promise<number> {
  const force = opts.force === true;
  if (!force && live.logBytes <= live.mirroredBytes && live.mirroredBytes > 0) return 0;
  const file = paths.attemptLog(live.taskId, live.attempt);
  const shape = opts.cap === undefined ? null : capShape(opts.cap);
  let appended = 0;
  // A running attempt gets a bounded share of each call (the rest waits for the next poll); an ended
  // one is read to its end.
  for (let reads = 1; ; reads++) {
    const bytes = await worker.readLogBytes(live.taskId, live.attempt, live.mirroredBytes, MIRROR_CHUNK);
    const last = bytes.length < MIRROR_CHUNK;
    live.mirroredBytes += bytes.length;
    live.mirror ??= new StreamRedactor(redact);
    const out = live.mirror.push(bytes, force && last);
    if (out.length > 0) {
      mkdirSync(path.dirname(file), { recursive: true });
      appendFileSync(file, out, { mode: 0o600 });
      appended += out.length;
      opts.onText?.(out.toString('utf8'));
      if (shape) recut(file, shape, live, false, opts);
    }
    if (out.length > 0 || bytes.length > 0) writeMark(paths, live);
    if (last || reads >= (force ? MAX_FORCED_READS : MAX_READS)) break;
  }
  if (shape && force && recut(file, shape, live, true, opts)) writeMark(paths, live);
  return appended;
}

/** Compacts the log when the cap says so; true when it did. */
function recut(
  file: string,
  shape: CapShape,
  live: MirroredLog,
  final: boolean,
  opts: MirrorOptions,
): boolean {
  const before = live.cut ?? null;
  const after = compactLog(file, shape, before, final);
  if (after === before || !after) return false;
  live.cut = after;
  opts.onCut?.(after.cutBytes);
  return true;
}

/**
 * attempt-<n>.mirrored: the bytes of the host's log written to logs/ (after the append: a crash between
 * the two repeats bytes at adoption rather than losing them), and the cut so far when the log was cut.
 */
function writeMark(paths: WorkspacePaths, live: MirroredLog): void {
  const held = live.mirror?.pending ?? 0;
  const cut = live.cut ? `cut ${live.cut.cutBytes} ${live.cut.markerBytes}\n` : '';
  writeFileSync(paths.attemptMirrored(live.taskId, live.attempt), `${live.mirroredBytes - held}\n${cut}`, {
    mode: 0o600,
  });
}

function readMark(paths: WorkspacePaths, taskId: TaskId, attempt: number): string[] | null {
  try {
    return readFileSync(paths.attemptMirrored(taskId, attempt), 'utf8').split('\n');
  } catch {
    return null;
  }
}

/**
 * Where mirroring an adopted attempt reads on from: the bytes of the host's log already written to
 * logs/ (held-back bytes are read again). A mirror without its mark (an older daemon's) counts its size.
 */
export function mirroredOffset(paths: WorkspacePaths, taskId: TaskId, attempt: number): number {
  const mark = readMark(paths, taskId, attempt);
  const n = mark ? Number(mark[0]?.trim()) : NaN;
  if (Number.isSafeInteger(n) && n >= 0) return n;
  return statSync(paths.attemptLog(taskId, attempt), { throwIfNoEntry: false })?.size ?? 0;
}

/** The cut an adopted attempt's log already has (from its mark), or null. */
export function mirroredCut(paths: WorkspacePaths, taskId: TaskId, attempt: number): CutState | null {
  const m = /^cut (\d+) (\d+)$/.exec(readMark(paths, taskId, attempt)?.[1]?.trim() ?? '');
  return m ? { cutBytes: Number(m[1]), markerBytes: Number(m[2]) } : null;
}

/**
 * Captures the attempt's pane (visible screen and scrollback tail) into paths.attemptScreen, redacted, before
 * the session is killed. Returns the file's path relative to the workspace, or null when there was no
 * screen to keep (no session, or the link is down).
 */
export async function saveScreen(
  paths: WorkspacePaths,
  worker: HostPort,
  live: MirroredLog,
  redact: Redactor,
): Promise<string | null> {
  const text = await worker.captureScreen(live.taskId).catch(() => '');
  if (!text.trim()) return null;
  const file = paths.attemptScreen(live.taskId, live.attempt);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, redact(text), { mode: 0o600 });
  return path.relative(paths.root, file);
}

/** Up to this much of a mirrored log is read whole; a longer one is read as its head and tail. */
const LOCAL_LOG_WHOLE = 2 * MIRROR_CHUNK;
const LOCAL_LOG_HEAD = MIRROR_CHUNK / 2;

/**
 * The mirrored log, for reading how the attempt ended. A long log is read as its first 512 KiB and its
 * last 1.5 MiB (providers look at the end: result lines, the last line), so this never holds the output.
 */
export function localLog(paths: WorkspacePaths, taskId: TaskId, attempt: number): string {
  const file = paths.attemptLog(taskId, attempt);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const read = (from: number, length: number) => {
      const buf = Buffer.alloc(length);
      return buf.subarray(0, readSync(fd, buf, 0, length, from));
    };
    if (size <= LOCAL_LOG_WHOLE) return read(0, size).toString('utf8');
    const tail = LOCAL_LOG_WHOLE - LOCAL_LOG_HEAD;
    return `${read(0, LOCAL_LOG_HEAD).toString('utf8')}\n[… ${size - LOCAL_LOG_WHOLE} bytes not read …]\n${read(size - tail, tail).toString('utf8')}`;
  } finally {
    closeSync(fd);
  }
}
