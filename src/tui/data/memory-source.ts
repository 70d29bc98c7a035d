/**
 * An in-memory source: the screen without a workspace. Tests drive it (set tasks, answer requests,
 * record every argv it is asked for); it also renders a screen for docs and demos.
 */
import type {
  ArchitectStarted,
  LiveFrame,
  LiveTarget,
  LiveView,
  Request,
  SubmitOutcome,
  TuiSnapshot,
  TuiSource,
} from '../../client/live/source.js';
import {
  enterDone,
  enterFailed,
  enterReview,
  enterRunning,
  newTask,
  updateTask,
  type TaskRecord,
  type TaskState,
} from '../../core/task.js';
import { ManualClock, type Clock } from '../../lib/clock.js';
import { parseTaskId, type TaskId } from '../../core/ids.js';

/** A task walked through the real state machine to `state`, started at `t0` on provider@host. */
export function sampleTask(
  id: string,
  state: TaskState,
  opts: { t0?: number; provider?: string; host?: string; grade?: string; title?: string } = {},
): TaskRecord {
  const t0 = opts.t0 ?? Date.UTC(2026, 10, 26, 22);
  const spec = {
    title: opts.title ?? `Title of ${id}`,
    repo: 'app',
    base: 'main',
    provider: null,
    priority: 0,
    dependsOn: [],
    timeoutMs: 7_200_000,
    idleMs: 1_200_000,
    attempts: 3,
    reviewRounds: 2,
    tests: [],
    stop: null,
    gates: null,
    source: `${id}.md`,
  };
  let t = newTask({ id: parseTaskId(id), dedupKey: id, spec, now: t0 }).task;
  if (state === 'pending') return t;
  t = enterRunning(t, { now: t0 + 60_000, provider: opts.provider ?? 'glm', host: opts.host ?? 'oci' }).task;
  if (state === 'running') return t;
  if (state === 'failed') {
    return enterFailed(t, {
      now: t0 + 120_000,
      code: 'crash-on-start',
      attribution: 'provider',
      reason: 'the executor crashed',
    }).task;
  }
  t = enterReview(t, { now: t0 + 120_000, exitCode: 0 }).task;
  if (opts.grade) {
    t = updateTask(t, t0 + 150_000, 'graded', {
      review: { grade: opts.grade, verdict: 'approve', summary: 'fine', findings: [], approvedBy: null },
    }).task;
  }
  if (state === 'review') return t;
  const approved = t.review?.verdict === 'approve';
  if (!approved) {
    t = updateTask(t, t0 + 150_000, 'approved', {
      review: { grade: null, verdict: 'approve', summary: '', findings: [], approvedBy: 'human' },
    }).task;
  }
  return enterDone(t, { now: t0 + 180_000, sha: 'abcdef1234567890' }).task;
}

function describe(r: Request): string {
  if ('task' in r) return `${r.kind} ${r.task}`;
  if ('provider' in r) return `${r.kind} ${r.provider ?? 'all'}`;
  if (r.kind === 'gate') return `gate ${r.gate} ${r.enabled ? 'on' : 'off'}`;
  return r.kind;
}

export function emptySnapshot(patch: Partial<TuiSnapshot> = {}): TuiSnapshot {
  return {
    version: 0,
    workspace: '/work/night',
    tasks: [],
    toggles: { frozen: false, frozenProviders: [], gates: {} },
    daemon: null,
    daemonState: null,
    providers: [],
    hosts: [],
    gates: [],
    events: [],
    error: null,
    ...patch,
  };
}

/** A live view that shows fixed lines (or lines pushed later). */
export class StaticLiveView implements LiveView {
  private readonly listeners = new Set<() => void>();
  disposed = false;
  constructor(private current: LiveFrame) {}
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  frame(): LiveFrame {
    return this.current;
  }
  push(frame: Partial<LiveFrame>): void {
    this.current = { ...this.current, ...frame };
    for (const l of this.listeners) l();
  }
  resize(): void {}
  dispose(): void {
    this.disposed = true;
  }
}

export class MemorySource implements TuiSource {
  readonly clock: Clock;
  private snap: TuiSnapshot;
  private readonly listeners = new Set<() => void>();
  readonly submitted: Request[] = [];
  readonly liveOpened: LiveTarget[] = [];
  readonly lives: StaticLiveView[] = [];
  specs = new Map<string, string>();
  diffs = new Map<string, string>();
  logs = new Set<string>();
  daemonStarts = 0;
  answer: (r: Request) => SubmitOutcome = (r) => ({ ok: true, message: `applied ${describe(r)}` });

  constructor(
    snapshot: Partial<TuiSnapshot> = {},
    clock: Clock = new ManualClock(Date.UTC(2026, 10, 26, 23)),
  ) {
    this.clock = clock;
    this.snap = emptySnapshot(snapshot);
  }

  getSnapshot = (): TuiSnapshot => this.snap;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Replaces part of the snapshot and tells the screen. */
  update(patch: Partial<TuiSnapshot>): void {
    this.snap = { ...this.snap, ...patch, version: this.snap.version + 1 };
    for (const l of this.listeners) l();
  }

  setTasks(tasks: readonly TaskRecord[]): void {
    this.update({ tasks });
  }

  refresh(): void {}

  specText(taskId: TaskId): string | null {
    return this.specs.get(taskId) ?? null;
  }

  diff(taskId: string, round: number): { label: string; text: string | null } {
    return {
      label: `logs/${taskId}/diff-round-${round}.patch`,
      text: this.diffs.get(`${taskId}#${round}`) ?? null,
    };
  }

  attemptLog(taskId: string, attempt: number): string | null {
    return this.logs.has(`${taskId}#${attempt}`) ? `/work/night/logs/${taskId}/attempt-${attempt}.log` : null;
  }

  submit(request: Request): Promise<SubmitOutcome> {
    this.submitted.push(request);
    return Promise.resolve(this.answer(request));
  }

  attachArgv(target: LiveTarget, readOnly: boolean): string[] {
    return [
      'tmux',
      '-L',
      'nightshift',
      'attach-session',
      ...(readOnly ? ['-r'] : []),
      '-t',
      `=ns-${target.taskId}`,
    ];
  }

  startDaemon(): { ok: boolean; message: string } {
    this.daemonStarts++;
    return { ok: true, message: 'daemon starting' };
  }

  /** How many times the morning report was asked for. */
  reportsWritten = 0;

  morningReport(): Promise<{ path: string; summary: string }> {
    this.reportsWritten++;
    return Promise.resolve({
      path: '/work/night/reports/report-2026-11-27T06-00-00-000Z.md',
      summary: `${this.snap.tasks.filter((t) => t.state === 'done').length} merged`,
    });
  }

  openLive(target: LiveTarget): LiveView {
    this.liveOpened.push(target);
    const view = new StaticLiveView({
      mode: target.running ? 'tmux' : 'log',
      title: target.running
        ? `tmux ns-${target.taskId} on ${target.host} (read-only)`
        : `log of attempt ${target.attempt}`,
      note: null,
      lines: [`live output of ${target.taskId}`],
    });
    this.lives.push(view);
    return view;
  }

  readonly architectOpened: ArchitectStarted[] = [];

  openArchitectLive(started: ArchitectStarted): LiveView {
    this.architectOpened.push(started);
    const view = new StaticLiveView({
      mode: started.session ? 'tmux' : 'log',
      title: started.session ? `tmux ${started.session} (the architect, read-only)` : (started.stream ?? ''),
      note: null,
      lines: this.architectLines.get(started.task) ?? [`the architect reviews ${started.task}`],
    });
    this.lives.push(view);
    return view;
  }

  /** What the architect's live view of a task shows (tests set it). */
  architectLines = new Map<string, string[]>();

  architectAttachArgv(session: string, readOnly: boolean): string[] {
    return ['tmux', '-L', 'nightshift', 'attach-session', ...(readOnly ? ['-r'] : []), '-t', `=${session}`];
  }

  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }
}
