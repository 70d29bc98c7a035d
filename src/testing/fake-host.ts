/**
 * An in-memory worker host for unit tests of the daemon's modules (src/daemon/host-port.ts): a fake
 * only at the host boundary. Each attempt's status is scripted (a running pane, an exit record, a dead
 * pane, vanished); launches, kills, closed sessions and fetches are recorded; the link can be made to
 * fail with the real LinkError, for every command or for one member; mainTouched, mainMoved and
 * fetchBranch answer what the test says.
 */
import type { TaskId } from '../core/ids.js';
import type { HostPort } from '../daemon/host-port.js';
import type { AttemptRef } from '../hosts/attempt-status.js';
import { LinkError } from '../hosts/runner.js';
import { sessionName } from '../hosts/session-names.js';
import type { PaneInfo } from '../hosts/tmux.js';
import { parseWorkspaceId, type WorkspaceId } from '../core/workspace-id.js';
import type { AttemptStatus, ExitRecord, HostFacts, LaunchSpec, MovedRef } from '../hosts/worker.js';

/** What a status read finds for one attempt. */
export type FakeAttemptState =
  | { kind: 'running' }
  | { kind: 'exited'; exit: ExitRecord }
  | { kind: 'dead'; exitStatus: number | null }
  | { kind: 'vanished' };

/** One call the daemon made, with its arguments (a launch's spec, a kill's task and attempt, …). */
export interface FakeCall {
  member: keyof HostPort;
  args: unknown[];
}

const key = (id: string, attempt: number) => `${id}#${attempt}`;

export class FakeHost implements HostPort {
  readonly info: HostFacts;
  /** Every member called, in order. */
  readonly calls: FakeCall[] = [];
  /** What each launch was asked to start. */
  readonly launches: LaunchSpec[] = [];
  /** Attempts killed, as `<id>#<attempt>`. */
  readonly kills: string[] = [];
  /** What mainTouched answers (the guard hook's refused updates). */
  touched: string[] = [];
  /** What mainMoved answers (protected refs that moved, already put back). */
  moved: MovedRef[] = [];
  /** What fetchBranch answers: the branch's tip, or the error it throws. */
  fetchResult: { sha: string } | { error: Error } = { sha: 'f'.repeat(40) };
  /** The screen captureScreen returns ('' is no session). */
  screen = '';
  private readonly states = new Map<string, FakeAttemptState>();
  /** The task of each scripted attempt (for tmux.list). */
  private readonly taskOf = new Map<string, TaskId>();
  private readonly logs = new Map<string, Buffer>();
  private readonly heads = new Map<string, string>();
  private readonly started = new Set<string>();
  private linkFailure: string | null = null;
  private readonly failures = new Map<keyof HostPort, Error>();
  private readonly holds = new Map<keyof HostPort, Promise<void>>();
  private exitWaiters: ((woke: 'signalled' | 'timeout' | 'failed') => void)[] = [];

  readonly tmux = {
    list: (): Promise<PaneInfo[]> =>
      this.remote('tmux', [], () =>
        [...this.states].flatMap(([k, s]) => {
          const id = this.taskOf.get(k);
          return id && (s.kind === 'running' || s.kind === 'dead') ? [this.pane(id, s)] : [];
        }),
      ),
  };

  /** The workspace this host works for (a fixed id unless the test gives one). */
  readonly workspace: WorkspaceId;

  constructor(
    readonly name: string,
    workspace = 'feedf00d',
  ) {
    this.workspace = parseWorkspaceId(workspace);
    this.info = {
      home: `/home/${name}`,
      path: '/usr/bin:/bin',
      uid: 1000,
      cores: 2,
      workdir: `/work/${name}`,
    };
  }

  // ---- scripting -----------------------------------------------------------------------------

  /** Sets what the next status reads find for an attempt. */
  script(id: TaskId, attempt: number, state: FakeAttemptState): void {
    this.states.set(key(id, attempt), state);
    this.taskOf.set(key(id, attempt), id);
    if (state.kind !== 'vanished') this.started.add(key(id, attempt));
  }

  /** The attempt's exit: its runner wrote exit.json (endedAt as given). */
  exit(id: TaskId, attempt: number, exit: Partial<ExitRecord> & { endedAt: string }): void {
    this.script(id, attempt, {
      kind: 'exited',
      exit: { attempt, exitCode: 0, startedAt: exit.endedAt, committed: true, ...exit },
    });
  }

  /** Output the attempt wrote (the log grows). */
  write(id: TaskId, attempt: number, text: string): void {
    const k = key(id, attempt);
    this.logs.set(k, Buffer.concat([this.logs.get(k) ?? Buffer.alloc(0), Buffer.from(text)]));
  }

  /** A link that fails: every command (with `member` omitted) or only that member throws LinkError. */
  linkDown(
    reason = `ssh: connect to host ${this.name} port 22: Connection refused`,
    member?: keyof HostPort,
  ): void {
    if (member) this.failures.set(member, new LinkError(reason, { host: this.name }));
    else this.linkFailure = reason;
  }

  /** The link answers again (everywhere, and for every member made to fail). */
  linkUp(): void {
    this.linkFailure = null;
    this.failures.clear();
  }

  /** Makes one member throw `err` (any error: a BranchError, a CommandError) until linkUp. */
  failOn(member: keyof HostPort, err: Error): void {
    this.failures.set(member, err);
  }

  /**
   * Calls of `member` wait (after being recorded) until the returned function is called: a test sees
   * the state the daemon is in while that command is under way.
   */
  hold(member: keyof HostPort): () => void {
    let release = (): void => undefined;
    this.holds.set(
      member,
      new Promise<void>((resolve) => {
        release = () => {
          this.holds.delete(member);
          resolve();
        };
      }),
    );
    return () => release();
  }

  /** Names of the members called, in order. */
  called(): string[] {
    return this.calls.map((c) => c.member);
  }

  // ---- HostPort ------------------------------------------------------------------------------

  dir(...parts: string[]): string {
    return [this.info.workdir, ...parts].join('/');
  }

  session(id: TaskId): string {
    return sessionName(this.workspace, id);
  }

  worktree(id: TaskId): string {
    return this.dir('tasks', id, 'wt');
  }

  installFile(file: string, _data: string | Uint8Array, mode: string): Promise<void> {
    return this.remote('installFile', [file, mode], () => undefined);
  }

  ensureDir(dir: string): Promise<void> {
    return this.remote('ensureDir', [dir], () => undefined);
  }

  ensureMirror(repo: string, mainBranch: string): Promise<void> {
    return this.remote('ensureMirror', [repo, mainBranch], () => undefined);
  }

  pushBase(localRepo: string, repo: string, id: TaskId, sha: string): Promise<void> {
    return this.remote('pushBase', [localRepo, repo, id, sha], () => undefined);
  }

  pushBranch(localRepo: string, repo: string, id: TaskId): Promise<void> {
    return this.remote('pushBranch', [localRepo, repo, id], () => undefined);
  }

  createWorktree(repo: string, id: TaskId, keepBranch = false): Promise<void> {
    return this.remote('createWorktree', [repo, id, keepBranch], () => undefined);
  }

  forgetSetup(): void {
    this.calls.push({ member: 'forgetSetup', args: [] });
  }

  launch(spec: LaunchSpec): Promise<void> {
    return this.remote('launch', [spec], () => {
      this.launches.push(spec);
      this.script(spec.taskId, spec.attempt, { kind: 'running' });
    });
  }

  /** Resolves when wakeExitWaiters is called, or with 'failed' while the link is down; never by time. */
  waitForExit(timeoutMs: number): Promise<'signalled' | 'timeout' | 'failed'> {
    this.calls.push({ member: 'waitForExit', args: [timeoutMs] });
    if (this.linkFailure !== null) return Promise.resolve('failed');
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  wakeExitWaiters(): Promise<void> {
    this.calls.push({ member: 'wakeExitWaiters', args: [] });
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    for (const w of waiters) w('signalled');
    return Promise.resolve();
  }

  async status(repo: string, id: TaskId, attempt: number): Promise<AttemptStatus> {
    const [one] = await this.statuses([{ repo, id, attempt }]);
    if (!one) throw new Error(`fake host ${this.name}: no status for ${id}`);
    return one;
  }

  statuses(attempts: readonly AttemptRef[]): Promise<AttemptStatus[]> {
    return this.remote('statuses', [attempts], () =>
      attempts.map((a) => {
        const k = key(a.id, a.attempt);
        const s = this.states.get(k) ?? { kind: 'vanished' };
        return {
          pane: s.kind === 'running' || s.kind === 'dead' ? this.pane(a.id, s) : null,
          exit: s.kind === 'exited' ? s.exit : null,
          logBytes: this.logs.get(k)?.length ?? 0,
          head: this.heads.get(k) ?? null,
        };
      }),
    );
  }

  attemptStarted(id: TaskId, attempt: number): Promise<boolean> {
    return this.remote('attemptStarted', [id, attempt], () => this.started.has(key(id, attempt)));
  }

  readLogBytes(id: TaskId, attempt: number, from = 0, max?: number): Promise<Buffer> {
    return this.remote('readLogBytes', [id, attempt, from, max], () => {
      const log = this.logs.get(key(id, attempt)) ?? Buffer.alloc(0);
      return log.subarray(from, max === undefined ? undefined : from + max);
    });
  }

  captureScreen(id: TaskId): Promise<string> {
    return this.remote('captureScreen', [id], () => this.screen);
  }

  kill(repo: string, id: TaskId, attempt: number): Promise<string | null> {
    return this.remote('kill', [repo, id, attempt], () => {
      this.kills.push(key(id, attempt));
      this.states.set(key(id, attempt), { kind: 'vanished' });
      return null;
    });
  }

  closeSession(id: TaskId, attempt: number): Promise<void> {
    return this.remote('closeSession', [id, attempt], () => undefined);
  }

  afterRun(id: TaskId, attempt: number): Promise<void> {
    return this.remote('afterRun', [id, attempt], () => undefined);
  }

  mainTouched(repo: string, id: TaskId): Promise<string[]> {
    return this.remote('mainTouched', [repo, id], () => [...this.touched]);
  }

  mainMoved(repo: string, id: TaskId, attempt: number): Promise<MovedRef[]> {
    return this.remote('mainMoved', [repo, id, attempt], () => [...this.moved]);
  }

  fetchBranch(localRepo: string, repo: string, id: TaskId, base: string): Promise<string> {
    return this.remote('fetchBranch', [localRepo, repo, id, base], () => {
      if ('error' in this.fetchResult) throw this.fetchResult.error;
      return this.fetchResult.sha;
    });
  }

  // ---- internals ----------------------------------------------------------------------------

  private pane(id: TaskId, s: { kind: 'running' } | { kind: 'dead'; exitStatus: number | null }): PaneInfo {
    const dead = s.kind === 'dead';
    return {
      session: this.session(id),
      dead,
      exitStatus: dead ? s.exitStatus : null,
      pid: dead ? null : 4242,
    };
  }

  /** Records the call, then fails it as the link or the test says, else answers (asynchronously). */
  private async remote<T>(member: keyof HostPort, args: unknown[], answer: () => T): Promise<T> {
    this.calls.push({ member, args });
    await (this.holds.get(member) ?? Promise.resolve());
    if (this.linkFailure !== null) throw new LinkError(this.linkFailure, { host: this.name });
    const failure = this.failures.get(member);
    if (failure) throw failure;
    return answer();
  }
}
