/**
 * queue/state/task-index.jsonl: every task record as last written, so that listing 10,000 tasks reads one
 * file and the state directories' names instead of opening, parsing and checking 10,000 task.json files.
 * docs/architecture.md, "The task index", has the durability argument; in short:
 *
 * - It is a cache, never the truth. Each entry names the state directory the task was in and the stamp
 *   of its task.json (inode, size, mtime, ctime: a task.json is always replaced by a rename, and the
 *   kernel sets ctime on every change). An entry is used only for a task in that directory.
 * - Writers (under the workspace lock) append one entry after each commit. Before the first commit of a
 *   session a writer appends an `open` line naming itself, fsynced; a clean end appends `close`. So a
 *   commit whose entry may be missing (kill -9 between the two) always lies between an `open` and no
 *   `close`.
 * - A reader trusts the entries as they are (checking only the directory) when the last session line is
 *   a `close`, or an `open` by the live holder of the lock (which appends each entry right after its
 *   commit). Otherwise (a writer that died, a file that is no index) it checks every entry's stamp and
 *   reads task.json for each one that differs; a torn or garbled line is no entry at all.
 */
import { closeSync, fsyncSync, lstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { isTaskId, type TaskId } from '../core/ids.js';
import { isTaskState, type TaskRecord, type TaskState } from '../core/task.js';
import { readRegularFile, uniqueSuffix } from './fsx.js';
import { liveHolder, readLock, type LockInfo } from './lock.js';

const HEADER = '{"taskIndex":1}';
/** Larger than this, the file is not read (and is rewritten by the next recovery). */
const MAX_INDEX_BYTES = 1024 * 1024 * 1024;

export interface IndexEntry {
  /** The state directory the task was in. */
  dir: TaskState;
  /** Its task.json's stampOf. */
  stamp: string;
  task: TaskRecord;
}

/** Who wrote a session: the lock it held (pid, host, since), or null when it held none. */
type Writer = Pick<LockInfo, 'pid' | 'host' | 'since'> | null;

export interface LoadedIndex {
  entries: Map<TaskId, IndexEntry>;
  /** The last session line: a `close`, an `open` by `writer`, or none. */
  last: { open: false } | { open: true; writer: Writer } | null;
  /** Whether the entries can be used as they are (set by loadChecked; see the header). */
  trusted: boolean;
}

/** What identifies one version of a file without reading it; null when it is not a plain file. */
export function stampOf(file: string): string | null {
  const st = lstatSync(file, { throwIfNoEntry: false });
  return st?.isFile() ? `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}` : null;
}

/** This process as the lock names it when it holds the lock; else null (its session is never trusted). */
export function writerOf(lockFile: string): Writer {
  try {
    const info = readLock(lockFile);
    return info && info.pid === process.pid && info.host === hostname()
      ? { pid: info.pid, host: info.host, since: info.since }
      : null;
  } catch {
    return null;
  }
}

/** Whether the loaded entries can be used as they are (see the header): closed, or open by `holder`. */
function trusted(index: LoadedIndex, holder: LockInfo | null): boolean {
  const last = index.last;
  if (!last) return false;
  if (!last.open) return true;
  const w = last.writer;
  return !!w && !!holder && w.pid === holder.pid && w.host === holder.host && w.since === holder.since;
}

export class TaskIndex {
  /** Entry lines in the file (live entries and superseded ones). */
  private lines = 0;
  private session = false;
  /** A commit began and its entry is not appended yet: the session must not be closed. */
  private inFlight = false;

  constructor(
    readonly file: string,
    private readonly tmpDir: string,
  ) {}

  /** The entries, the last one for each task; a missing or foreign file is an empty index. */
  load(): LoadedIndex {
    const index: LoadedIndex = { entries: new Map(), last: null, trusted: false };
    this.lines = 0;
    let text: string;
    try {
      text = readRegularFile(this.file, MAX_INDEX_BYTES).toString('utf8');
    } catch {
      return index;
    }
    if (!text.startsWith(`${HEADER}\n`)) return index;
    let at = HEADER.length + 1;
    while (at < text.length) {
      const end = text.indexOf('\n', at);
      if (end === -1) break; // a torn last line
      const value = parseLine(text.slice(at, end));
      at = end + 1;
      if (value && 'task' in value) {
        this.lines++;
        index.entries.set(value.task.id, value);
      } else if (value) index.last = value;
    }
    return index;
  }

  /** load(), and whether the entries are trusted: the lock's live holder is asked (`lockFile`). */
  loadChecked(lockFile: string): LoadedIndex {
    const index = this.load();
    let holder: LockInfo | null = null;
    try {
      holder = liveHolder(lockFile);
    } catch {
      /* a lock nightshift cannot read: no writer is known to be live */
    }
    index.trusted = trusted(index, holder);
    return index;
  }

  /**
   * Before each commit. The first of a session writes the writer's `open` line, fsynced (`writer` is
   * asked only then); if that cannot be written the file is removed (readers then read every task.json);
   * if neither works, this throws and the commit must not happen.
   */
  open(writer: () => Writer): void {
    this.inFlight = true;
    if (this.session) return;
    try {
      this.write(`${JSON.stringify({ open: writer() })}\n`, true);
    } catch {
      rmSync(this.file, { force: true });
    }
    this.session = true;
  }

  /** After each commit: the task's entry (a failure is absorbed: readers of an open session check). */
  append(entry: IndexEntry): void {
    this.inFlight = false;
    try {
      this.write(line(entry), false);
      this.lines++;
    } catch {
      /* the session stays open: readers check stamps */
    }
  }

  /**
   * A clean end of the session, unless a commit of it failed half-way (then it stays open). Its entries
   * are fsynced first, so no power loss can keep the `close` line and lose an entry before it.
   */
  close(): void {
    if (!this.session || this.inFlight) return;
    this.session = false;
    try {
      const fd = openSync(this.file, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.write(`${JSON.stringify({ close: true })}\n`, false);
    } catch {
      /* left open: readers check stamps */
    }
  }

  /** Whether the file holds more superseded lines than live ones (worth a rewrite). */
  bloated(live: number): boolean {
    return this.lines > 2 * live + 64;
  }

  /**
   * Replaces the file with exactly these entries, which the caller (holding the lock) has checked against
   * the disk: closed if no session is open, else still open by `writer` (temp file, fsync, rename).
   */
  rewrite(entries: Iterable<IndexEntry>, writer: Writer): void {
    const tmp = path.join(this.tmpDir, `task-index.${uniqueSuffix()}`);
    try {
      const body: string[] = [`${HEADER}\n`];
      let count = 0;
      for (const e of entries) {
        body.push(line(e));
        count++;
      }
      body.push(`${JSON.stringify(this.session ? { open: writer } : { close: true })}\n`);
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        writeSync(fd, body.join(''));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.file);
      this.lines = count;
      this.inFlight = false; // a commit's entry may be among them (the writer rewrites instead of appending)
    } catch {
      rmSync(tmp, { force: true });
    }
  }

  private write(text: string, sync: boolean): void {
    const fd = openSync(this.file, 'a', 0o600);
    try {
      writeSync(fd, text);
      if (sync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

function line(e: IndexEntry): string {
  return `${JSON.stringify({ dir: e.dir, stamp: e.stamp, task: e.task })}\n`;
}

/** An entry, a session line, or null for anything else (a torn or garbled line). */
function parseLine(text: string): IndexEntry | NonNullable<LoadedIndex['last']> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  if (v['close'] === true) return { open: false };
  if ('open' in v) {
    const w = v['open'] as Record<string, unknown> | null;
    const ok = w && typeof w['pid'] === 'number' && typeof w['host'] === 'string';
    return {
      open: true,
      writer: ok ? { pid: w['pid'] as number, host: w['host'] as string, since: String(w['since']) } : null,
    };
  }
  const { dir, stamp, task } = v;
  if (typeof dir !== 'string' || !isTaskState(dir) || typeof stamp !== 'string') return null;
  if (!task || typeof task !== 'object') return null;
  const { id, state } = task as Record<string, unknown>;
  if (typeof id !== 'string' || !isTaskId(id) || typeof state !== 'string' || !isTaskState(state))
    return null;
  return { dir, stamp, task: task as TaskRecord };
}
