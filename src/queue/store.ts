/**
 * The filesystem queue (DESIGN.md §2). One directory per task, `queue/<state>/<id>/` holding an
 * immutable `spec.md` and `task.json`. A transition writes the new task.json (temp file in queue/tmp,
 * fsync, rename, fsync) and then renames the task directory into its new state directory, so a task
 * is in exactly one state directory at every instant. A crash between those two renames leaves a
 * task.json whose state disagrees with its directory; recover() finishes the move.
 *
 * Callers hold the workspace lock (see lock.ts) while mutating.
 */
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  type Dirent,
} from 'node:fs';
import path from 'node:path';
import { checkNewSpecs, graphOf } from '../core/dependencies.js';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import type { NightshiftEvent } from '../core/events.js';
import { isTaskId, type TaskId } from '../core/ids.js';
import {
  TASK_STATES,
  isActive,
  newTask,
  type TaskRecord,
  type TaskState,
  type Transition,
} from '../core/task.js';
import type { Clock } from '../lib/clock.js';
import { redactDeep, type Redactor } from '../lib/redact.js';
import type { WorkspacePaths } from '../config/paths.js';
import type { ParsedSpec } from '../spec/parse.js';
import {
  checkRealDir,
  ensureDir,
  entryKind,
  existsNoFollow,
  fsyncDir,
  readRegularFile,
  renameDurable,
  uniqueSuffix,
  writeFileDurable,
  writeNewFileSync,
} from './fsx.js';
import { nullSink, type EventSink } from './eventlog.js';
import { parseTaskFile } from './task-file.js';
import { stampOf, TaskIndex, writerOf, type IndexEntry, type LoadedIndex } from './task-index.js';

const MAX_TASK_JSON = 16 * 1024 * 1024;

export interface RecoveryReport {
  sweptTmp: string[];
  completedMoves: { id: string; from: TaskState; to: TaskState }[];
  refused: { path: string; reason: string }[];
}

export interface StoreOptions {
  /**
   * Keep every record in memory after the first full read and update it on each mutation. Right for the
   * single writer (the daemon, a CLI command under the lock); wrong for a long-lived reader beside a
   * daemon (the TUI), which must read the disk each time.
   */
  cache?: boolean;
  /**
   * Applied to every string of a record before it is written (config/secrets.ts): a secret pasted into
   * a spec's title, or quoted in a reason, never reaches task.json, `ls`, `show` or the TUI.
   */
  redact?: Redactor;
}

export class QueueStore {
  private dedup: Map<string, { id: TaskId; state: TaskState }> | null = null;
  private cache: Map<TaskId, TaskRecord> | null = null;
  private readonly caching: boolean;
  /** The task index (task-index.ts): read by every listing, kept by writers. */
  private readonly index: TaskIndex;
  /** Every task's index entry, once recover() has seen them all: what a rewrite of the index holds. */
  private indexed: Map<TaskId, IndexEntry> | null = null;
  readonly redact: Redactor;

  constructor(
    readonly paths: WorkspacePaths,
    private readonly clock: Clock,
    private readonly events: EventSink = nullSink,
    opts: StoreOptions = {},
  ) {
    this.caching = opts.cache ?? true;
    this.redact = opts.redact ?? ((text) => text);
    this.index = new TaskIndex(paths.taskIndex, paths.tmp);
  }

  /**
   * Creates the queue directories (idempotent). Each of the queue's and the inbox's own directories must
   * be a real directory: a symlink (or a FIFO, a file) in their place is refused with an error naming it,
   * before anything is read, moved or deleted through it.
   */
  ensureLayout(): void {
    for (const dir of [
      this.paths.queue,
      this.paths.specs,
      this.paths.tmp,
      ...TASK_STATES.map((s) => this.paths.stateDir(s)),
      this.paths.requests,
    ]) {
      ensureDir(dir);
    }
    ensureDir(this.paths.stateStore, 0o700);
    for (const dir of [
      this.paths.accepted,
      this.paths.rejected,
      this.paths.requestsApplied,
      this.paths.requestsRejected,
    ]) {
      checkRealDir(dir);
    }
    // logs/ is not part of the queue: it may live elsewhere through a link.
    if (!existsSync(this.paths.logs)) mkdirSync(this.paths.logs, { recursive: true });
  }

  /** Startup recovery: sweep queue/tmp, finish interrupted moves, report what cannot be trusted. */
  recover(): RecoveryReport {
    this.ensureLayout();
    const report: RecoveryReport = { sweptTmp: [], completedMoves: [], refused: [] };
    const seen = new Map<TaskId, TaskRecord>();
    for (const name of readdirSync(this.paths.tmp)) {
      rmSync(path.join(this.paths.tmp, name), { recursive: true, force: true });
      report.sweptTmp.push(name);
    }
    if (report.sweptTmp.length) fsyncDir(this.paths.tmp);
    const loaded = this.index.loadChecked(this.paths.lock);
    // The caller holds the lock: an open session is a writer that died (or this process's own, left
    // open by a failed commit), never one to trust.
    loaded.trusted &&= loaded.last?.open === false;
    const current = new Map<TaskId, IndexEntry>();
    let stale = false;
    for (const dirState of TASK_STATES) {
      for (const entry of this.scanStateDir(dirState, report)) {
        let found: IndexEntry;
        try {
          found = this.readIndexed(dirState, entry, loaded);
        } catch (err) {
          report.refused.push({ path: this.paths.taskDir(dirState, entry), reason: (err as Error).message });
          continue;
        }
        const task = found.task;
        if (found !== loaded.entries.get(entry)) stale = true;
        if (task.state !== dirState) {
          const target = this.paths.taskDir(task.state, entry);
          if (existsNoFollow(target)) {
            report.refused.push({
              path: target,
              reason: `task ${entry} exists in both ${dirState} and ${task.state}`,
            });
            continue;
          }
          renameDurable(this.paths.taskDir(dirState, entry), target);
          report.completedMoves.push({ id: entry, from: dirState, to: task.state });
          found = { ...found, dir: task.state };
          stale = true;
        }
        seen.set(entry, task);
        current.set(entry, found);
      }
    }
    // Entries read afresh, moved or gone (or lines long superseded): the index is written anew.
    if (stale || !loaded.trusted || current.size !== loaded.entries.size || this.index.bloated(current.size))
      this.index.rewrite(current.values(), writerOf(this.paths.lock));
    this.indexed = current;
    const time = new Date(this.clock.now()).toISOString();
    for (const move of report.completedMoves) {
      this.events.emit({
        type: 'queue.recovered',
        time,
        task: move.id,
        reason: `finished move ${move.from} → ${move.to}`,
      });
    }
    for (const refused of report.refused)
      this.events.emit({ type: 'queue.refused', time, file: refused.path, reason: refused.reason });
    this.dedup = null;
    this.cache = this.caching ? seen : null;
    return report;
  }

  /** Every task, read from disk. Entries that are not plain task directories are skipped. */
  list(): TaskRecord[] {
    if (this.cache) return [...this.cache.values()];
    const tasks: TaskRecord[] = [];
    // Read-only: a listing (perhaps beside a daemon, without the lock) uses the index, never writes it.
    const loaded = this.index.loadChecked(this.paths.lock);
    for (const state of TASK_STATES) {
      for (const id of this.scanStateDir(state)) {
        try {
          tasks.push(this.readIndexed(state, id, loaded).task);
        } catch {
          /* refused entries are reported by recover(); a listing shows what can be trusted */
        }
      }
    }
    if (this.caching) this.cache = new Map(tasks.map((t) => [t.id, t]));
    return tasks;
  }

  /** Where a task is, or null. */
  locate(id: TaskId): TaskState | null {
    for (const state of TASK_STATES) {
      if (isTaskDir(this.paths.taskDir(state, id))) return state;
    }
    return null;
  }

  get(id: TaskId): TaskRecord {
    const state = this.locate(id);
    if (!state) {
      throw new NightshiftError(ErrorCode.unknownTask, `no task "${id}"`, {
        taskId: id,
        hint: 'see `nightshift ls` for the task ids',
      });
    }
    // task.json is the commit point: if a move was interrupted, its state is the truth.
    return this.readTask(state, id);
  }

  /**
   * The spec's text, redacted, for every reader but the executor. `raw` is the spec as written (the
   * immutable spec.md), which only the executor's prompt gets.
   */
  specText(id: TaskId, opts: { raw?: boolean } = {}): string {
    const state = this.locate(id);
    if (!state) throw new NightshiftError(ErrorCode.unknownTask, `no task "${id}"`, { taskId: id });
    const text = readRegularFile(
      path.join(this.paths.taskDir(state, id), 'spec.md'),
      2 * 1024 * 1024,
    ).toString('utf8');
    return opts.raw ? text : this.redact(text);
  }

  /** The task an active or done task with this dedup key, if any. */
  findDuplicate(key: string): { id: TaskId; state: TaskState } | null {
    const hit = this.dedupIndex().get(key);
    return hit && (isActive(hit.state) || hit.state === 'done') ? hit : null;
  }

  /** Adds a parsed spec as a pending task. Refuses taken ids and (unless forced) duplicates. */
  /**
   * Queues a spec. Refused: a taken id, a duplicate (unless `force`), a `dependsOn` that closes a cycle
   * through queued tasks, and a dependency on an id that is not queued (unless `allowUnknownDeps`: the
   * task then waits for it; docs/daemon.md).
   */
  enqueue(parsed: ParsedSpec, opts: { force?: boolean; allowUnknownDeps?: boolean } = {}): TaskRecord {
    const existing = this.locate(parsed.id);
    if (existing) {
      throw new NightshiftError(
        ErrorCode.idTaken,
        `task id "${parsed.id}" is already used by a ${existing} task`,
        {
          file: parsed.spec.source,
          field: 'id',
          hint: 'ids stay reserved once used; set a different `id:` in the front matter',
        },
      );
    }
    const dup = this.findDuplicate(parsed.dedupKey);
    if (dup && !opts.force) {
      throw new NightshiftError(
        ErrorCode.duplicateSpec,
        `duplicates task ${dup.id} (${dup.state}): same repo, base, body and tests`,
        {
          file: parsed.spec.source,
          hint: 'use --force to queue it anyway',
        },
      );
    }
    const problems = checkNewSpecs(
      [{ id: parsed.id, dependsOn: parsed.spec.dependsOn }],
      graphOf(this.list()),
      {
        allowUnknown: opts.allowUnknownDeps === true,
      },
    );
    if (problems.length) {
      throw new NightshiftError(ErrorCode.invalidSpec, problems.map((p) => p.message).join('; '), {
        file: parsed.spec.source,
        field: 'dependsOn',
      });
    }
    const fresh = newTask({
      id: parsed.id,
      dedupKey: parsed.dedupKey,
      spec: parsed.spec,
      now: this.clock.now(),
    });
    const task = redactDeep(fresh.task, this.redact);
    const event = fresh.event;
    this.index.open(this.writer);
    const staging = path.join(this.paths.tmp, `${parsed.id}.${uniqueSuffix()}`);
    ensureDir(staging);
    const specFile = path.join(staging, 'spec.md');
    const dest = this.paths.taskDir('pending', parsed.id);
    writeNewFileSync(specFile, parsed.text, 0o444, path.join(dest, 'spec.md'));
    chmodSync(specFile, 0o444);
    writeNewFileSync(path.join(staging, 'task.json'), serialize(task), 0o644, path.join(dest, 'task.json'));
    fsyncDir(staging);
    renameDurable(staging, dest);
    this.noteWritten(task);
    this.dedupIndex().set(parsed.dedupKey, { id: parsed.id, state: 'pending' });
    this.cache?.set(task.id, task);
    this.emit(event);
    return task;
  }

  /**
   * Applies a transition: `step` gets the current record and returns the next one and its event.
   * The new task.json lands first, then the directory moves (when the state changed).
   */
  transition(id: TaskId, step: (task: TaskRecord) => Transition): TaskRecord {
    let from = this.locate(id);
    if (!from) throw new NightshiftError(ErrorCode.unknownTask, `no task "${id}"`, { taskId: id });
    const current = this.readTask(from, id);
    if (current.state !== from) {
      // An earlier move was interrupted between its two renames: finish it first.
      renameDurable(this.paths.taskDir(from, id), this.paths.taskDir(current.state, id));
      from = current.state;
    }
    const next = step(current);
    const task = redactDeep(next.task, this.redact);
    const event = next.event;
    const dir = this.paths.taskDir(from, id);
    this.index.open(this.writer);
    writeFileDurable(path.join(dir, 'task.json'), serialize(task), this.paths.tmp);
    if (task.state !== from) renameDurable(dir, this.paths.taskDir(task.state, id));
    this.noteWritten(task);
    if (this.dedup) this.dedup.set(task.dedupKey, { id, state: task.state });
    this.cache?.set(id, task);
    this.emit(event);
    return task;
  }

  emit(event: NightshiftEvent): void {
    this.events.emit(redactDeep(event, this.redact));
  }

  private dedupIndex(): Map<string, { id: TaskId; state: TaskState }> {
    if (!this.dedup) {
      this.dedup = new Map();
      for (const task of this.list()) {
        const prev = this.dedup.get(task.dedupKey);
        // An active or done task wins over a failed one with the same key.
        if (!prev || isActive(task.state) || task.state === 'done')
          this.dedup.set(task.dedupKey, { id: task.id, state: task.state });
      }
    }
    return this.dedup;
  }

  /** The directory listing is a boundary: its names become TaskIds here, or are refused. */
  private scanStateDir(state: TaskState, report?: RecoveryReport): TaskId[] {
    const dir = this.paths.stateDir(state);
    if (!checkRealDir(dir)) return [];
    const entries = readdirSync(dir, { withFileTypes: true });
    const ids: TaskId[] = [];
    for (const entry of entries) {
      if (entry.isDirectory() && isTaskId(entry.name)) ids.push(entry.name);
      else report?.refused.push({ path: path.join(dir, entry.name), reason: describeStray(entry) });
    }
    return ids;
  }

  /**
   * The task in `state`'s directory: its index entry when that is for this directory and its task.json's
   * current stamp, else read from task.json (stamped before the read: a change during it only makes the
   * entry look older than it is).
   */
  private readIndexed(state: TaskState, id: TaskId, loaded: LoadedIndex): IndexEntry {
    const hit = loaded.entries.get(id);
    if (hit && hit.dir === state && loaded.trusted) return hit;
    const stamp = stampOf(path.join(this.paths.taskDir(state, id), 'task.json'));
    if (hit && stamp !== null && hit.dir === state && hit.stamp === stamp) return hit;
    return { dir: state, stamp: stamp ?? '', task: this.readTask(state, id) };
  }

  /** The end of this writer's session: every commit it made has its index entry (call before unlocking). */
  closeIndex(): void {
    this.index.close();
  }

  /** After a commit (under the lock): the task's new entry, appended, or the index rewritten when bloated. */
  private noteWritten(task: TaskRecord): void {
    const stamp = stampOf(path.join(this.paths.taskDir(task.state, task.id), 'task.json'));
    const entry: IndexEntry = { dir: task.state, stamp: stamp ?? '', task };
    this.indexed?.set(task.id, entry);
    if (this.indexed && this.index.bloated(this.indexed.size))
      this.index.rewrite(this.indexed.values(), writerOf(this.paths.lock));
    else this.index.append(entry);
  }

  /** Who this writer is, read from the lock only when a session opens (not on every commit). */
  private readonly writer = () => writerOf(this.paths.lock);

  private readTask(state: TaskState, id: TaskId): TaskRecord {
    const file = path.join(this.paths.taskDir(state, id), 'task.json');
    return parseTaskFile(readRegularFile(file, MAX_TASK_JSON).toString('utf8'), file, id);
  }
}

function serialize(task: TaskRecord): string {
  return `${JSON.stringify(task, null, 2)}\n`;
}

function isTaskDir(p: string): boolean {
  try {
    return lstatSync(p).isDirectory() && statSync(path.join(p, 'task.json')).isFile();
  } catch {
    return false;
  }
}

function describeStray(entry: Dirent): string {
  if (entry.isSymbolicLink()) return 'a symbolic link in the queue; refused, never followed';
  if (entry.isDirectory()) return `"${entry.name}" is not a valid task id; refused`;
  if (entry.isFile()) return 'a stray file in a state directory; refused';
  return `${entryKind(entry)} in the queue; refused`;
}
