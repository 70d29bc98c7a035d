/**
 * One worker host as the supervisor sees it: its workdir layout, the bare mirror per repo, per-task
 * worktrees on `ns/<id>`, launching an executor attempt in tmux through the runner script, reading
 * progress back, salvaging and killing, and fetching the branch home. The worker never receives,
 * fetches or pushes `main`: only the base commit travels, as refs/nightshift/base/<id>.
 */
import { createHash } from 'node:crypto';
import type { TaskId } from '../core/ids.js';
import path from 'node:path';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import { KeyedSerial } from '../lib/serial.js';
import { readStatuses, type AttemptRef } from './attempt-status.js';
import { fetchBranch, pushFromLocal } from './branch-transfer.js';
import { launchAttempt } from './launch.js';
import { parseWorkspaceId, type WorkspaceId } from '../core/workspace-id.js';
import { executorSocketPath, TMUX_DIR, WORKSPACES_DIR, workspaceDir } from './layout.js';
import { mainMoved, mainTouched } from './protected-refs.js';
import { LocalRunner, type CommandRunner } from './runner.js';
import { closeSession, runAfterRun, salvage, type AfterRunHook } from './salvage.js';
import { EXIT_CHANNEL, refGuardHook, RUN_SH, WORKTREE_SH } from './scripts.js';
import { sessionName } from './session-names.js';
import { Tmux, TMUX_CONF } from './tmux.js';
import {
  hostError,
  must,
  type AttemptStatus,
  type HostContext,
  type HostFacts,
  type LaunchSpec,
  type MovedRef,
} from './worker-types.js';

export {
  BranchError,
  type AttemptStatus,
  type ExitRecord,
  type HostContext,
  type HostFacts,
  type LaunchSpec,
  type MovedRef,
} from './worker-types.js';

/** How many scrollback lines captureScreen keeps above the visible pane. */
const SCREEN_LINES = 500;

export class WorkerHost implements HostContext {
  readonly tmux: Tmux;
  /** The id of the workspace this host object works for: its sessions' names and its directory. */
  readonly workspace: WorkspaceId;
  private facts: HostFacts | null = null;
  /**
   * What this process has already set up on the host, so a launch does not check it again: files by
   * their sha256, mirrors, directories. forgetSetup() clears it (after a failed launch, say).
   */
  private readonly installed = new Map<string, string>();
  private readonly mirrorsReady = new Map<string, Promise<void>>();
  /** The refs each repo's mirror guards (ensureMirror), by repo. */
  private readonly guarded = new Map<string, string[]>();
  private readonly dirsMade = new Set<string>();
  /**
   * Changes to one mirror's refs and worktrees, one at a time: `worktree prune` would drop a worktree
   * being added, and a push's receive-pack refuses a worktree's half-made HEAD (pushFromLocal).
   */
  private readonly worktreeOps = new KeyedSerial();

  constructor(
    readonly name: string,
    readonly runner: CommandRunner,
    /** Configured workdir; may start with `~/`. */
    private readonly configuredWorkdir: string,
    /** The workspace's id (config/workspace-identity.ts), 8 hex digits. */
    workspace: string,
    /** The executors' tmux socket's name: the socket is `<workdir>/tmux/<name>` (executorSocketPath). */
    readonly tmuxSocket = 'nightshift',
    /** Runs git in the supervisor's own repos. */
    private readonly local: CommandRunner = new LocalRunner(),
  ) {
    this.workspace = parseWorkspaceId(workspace, { host: name });
    this.tmux = new Tmux(runner, null, '/dev/null');
  }

  /** Resolves the workdir, creates its layout and installs the runner script and tmux config. */
  async prepare(): Promise<HostFacts> {
    const r = await this.runner.run([
      'sh',
      '-c',
      'printf "%s\\n%s\\n%s\\n" "$HOME" "$PATH" "$(id -u)"; getconf _NPROCESSORS_ONLN',
    ]);
    if (r.exitCode !== 0) throw hostError(this, `could not read the host's environment: ${r.stderr.trim()}`);
    const [home = '', hostPath = '', uid = '0', cores = '1'] = r.stdout.split('\n');
    const workdir = this.configuredWorkdir.startsWith('~/')
      ? path.posix.join(home, this.configuredWorkdir.slice(2))
      : this.configuredWorkdir;
    if (!path.posix.isAbsolute(workdir))
      throw hostError(this, `workdir must be absolute or start with ~/; found ${workdir}`);
    this.facts = { home, path: hostPath, uid: Number(uid), cores: Number(cores) || 1, workdir };
    const socket = executorSocketPath(workdir, this.tmuxSocket, this.configuredWorkdir);
    await must(this, [
      'mkdir',
      '-p',
      '-m',
      '700',
      workdir,
      this.shared(TMUX_DIR),
      this.shared(WORKSPACES_DIR),
      this.dir(),
      this.dir('repos'),
      this.dir('tasks'),
      this.dir('worktrees'),
      this.dir('bin'),
      this.dir('state'),
    ]);
    // mkdir -m applies to directories it creates only: a socket directory made otherwise is tightened.
    await must(this, ['chmod', '700', this.shared(TMUX_DIR)]);
    const socketDir = path.posix.dirname(socket);
    if (socketDir !== this.shared(TMUX_DIR)) {
      // The short directory under /tmp (a workdir too long for a socket path): ours, or refused.
      const r = await this.runner.run([
        'sh',
        '-c',
        'mkdir -p -m 700 "$1" && [ -O "$1" ] && [ ! -L "$1" ] && chmod 700 "$1"',
        'sh',
        socketDir,
      ]);
      if (r.exitCode !== 0) {
        throw hostError(
          this,
          `the tmux socket directory ${socketDir} (used because ${this.shared(TMUX_DIR)} makes too long a socket path) is not a directory of this user's: ${r.stderr.trim() || `exit ${r.exitCode}`}`,
        );
      }
    }
    await this.installFile(this.dir('run.sh'), RUN_SH, '755');
    await this.installFile(this.dir('tmux.conf'), TMUX_CONF, '644');
    (this as { tmux: Tmux }).tmux = new Tmux(this.runner, socket, this.dir('tmux.conf'), {
      path: hostPath,
      home,
    });
    return this.facts;
  }

  get info(): HostFacts {
    if (!this.facts) throw new NightshiftError(ErrorCode.internal, 'host not prepared', { host: this.name });
    return this.facts;
  }

  /** A path in this workspace's own directory on the host, `<workdir>/ws/<workspace id>/` (layout.ts). */
  dir(...parts: string[]): string {
    return path.posix.join(workspaceDir(this.info.workdir, this.workspace), ...parts);
  }
  /** A path in the workdir itself, shared by every workspace using the host (the tmux socket's directory). */
  shared(...parts: string[]): string {
    return path.posix.join(this.info.workdir, ...parts);
  }
  /** This workspace's session of task `id` (session-names.ts). */
  session(id: TaskId): string {
    return sessionName(this.workspace, id);
  }
  mirror(repo: string): string {
    return this.dir('repos', `${repo}.git`);
  }
  taskDir(id: TaskId): string {
    return this.dir('tasks', id);
  }
  worktree(id: TaskId): string {
    return this.dir('worktrees', id);
  }
  logPath(id: TaskId, attempt: number): string {
    return path.posix.join(this.taskDir(id), `attempt-${attempt}.log`);
  }

  /** Writes a file on the host through stdin (never through a command line). */
  async writeFile(file: string, data: string | Uint8Array, mode = '600'): Promise<void> {
    await must(this, ['sh', '-c', 'umask 077 && cat > "$1" && chmod "$2" "$1"', 'sh', file, mode], {
      input: data,
    });
  }

  /** Writes a file only when its content differs (hash check, once per process), to keep launches cheap. */
  async installFile(file: string, data: string | Uint8Array, mode: string): Promise<void> {
    const want = createHash('sha256').update(data).digest('hex');
    if (this.installed.get(file) === want) return;
    const r = await this.runner.run(['sha256sum', file]);
    if (!(r.exitCode === 0 && r.stdout.startsWith(want))) await this.writeFile(file, data, mode);
    this.installed.set(file, want);
  }

  /** `mkdir -p -m 700 dir`, once per process. */
  async ensureDir(dir: string): Promise<void> {
    if (this.dirsMade.has(dir)) return;
    await must(this, ['mkdir', '-p', '-m', '700', dir]);
    this.dirsMade.add(dir);
  }

  /** Forgets what ensureMirror, installFile and ensureDir have set up: the next calls check again. */
  forgetSetup(): void {
    this.installed.clear();
    this.mirrorsReady.clear();
    this.dirsMade.clear();
  }

  /** Creates the bare mirror of `repo` and its main-branch guard; checked once per process. */
  ensureMirror(repo: string, mainBranch: string): Promise<void> {
    this.guarded.set(
      repo,
      [...new Set([mainBranch, 'main', 'master'])].map((b) => `refs/heads/${b}`),
    );
    const key = `${repo}\0${mainBranch}`;
    let ready = this.mirrorsReady.get(key);
    if (!ready) {
      ready = this.setUpMirror(repo);
      this.mirrorsReady.set(key, ready);
      ready.catch(() => this.mirrorsReady.delete(key));
    }
    return ready;
  }

  private async setUpMirror(repo: string): Promise<void> {
    const mirror = this.mirror(repo);
    const head = await this.runner.run(['git', '--git-dir', mirror, 'rev-parse', '--git-dir']);
    if (head.exitCode !== 0) {
      await must(this, ['git', 'init', '-q', '--bare', mirror]);
      // Worktrees see this mirror as `origin`: a push to origin main lands on the guard below.
      await must(this, ['git', '--git-dir', mirror, 'config', 'remote.origin.url', mirror]);
      await must(this, [
        'git',
        '--git-dir',
        mirror,
        'config',
        'core.hooksPath',
        path.posix.join(mirror, 'hooks'),
      ]);
    }
    // Reflogs for every ref (a bare repo keeps none by default): mainMoved blames a task for a protected
    // ref moved to any commit its branch ever held, an amended or reset one included.
    await must(this, ['git', '--git-dir', mirror, 'config', 'core.logAllRefUpdates', 'always']);
    const guarded = this.protectedRefs(repo).map((r) => r.slice('refs/heads/'.length));
    await this.installFile(
      path.posix.join(mirror, 'hooks', 'reference-transaction'),
      refGuardHook(mirror, guarded),
      '755',
    );
  }

  /** Pushes one commit of the supervisor's repo to the mirror as refs/nightshift/base/<id>. */
  async pushBase(localRepo: string, repo: string, id: TaskId, sha: string): Promise<void> {
    if (!/^[0-9a-f]{40}$/.test(sha)) throw hostError(this, `not a commit sha: ${sha}`);
    await this.pushFromLocal(localRepo, repo, [`+${sha}:refs/nightshift/base/${id}`]);
  }

  /** Pushes the supervisor's ns/<id> to the mirror (a later round continues the same branch). */
  async pushBranch(localRepo: string, repo: string, id: TaskId): Promise<void> {
    await this.pushFromLocal(localRepo, repo, [`+refs/heads/ns/${id}:refs/heads/ns/${id}`]);
  }

  /**
   * One push into the mirror at a time, and never beside a worktree being added there: receive-pack
   * checks every ref of the mirror, a half-made `worktrees/<id>/HEAD` included, and refuses the push
   * ("bad object worktrees/<id>/HEAD") when it meets one.
   */
  private pushFromLocal(localRepo: string, repo: string, refspecs: string[]): Promise<void> {
    return this.worktreeOps.run(repo, () => pushFromLocal(this, this.local, localRepo, repo, refspecs));
  }

  /**
   * Fetches ns/<id> from the mirror into the supervisor's repo and checks it descends from `base`
   * (branch-transfer.ts): LinkError when the link is down, BranchError when the branch is the executor's
   * fault, another NightshiftError otherwise.
   */
  fetchBranch(localRepo: string, repo: string, id: TaskId, base: string): Promise<string> {
    return fetchBranch(this, this.local, localRepo, repo, id, base);
  }

  /** Refs the guard refused for this task (protected-refs.ts). */
  mainTouched(repo: string, id: TaskId): Promise<string[]> {
    return mainTouched(this, repo, id);
  }

  /**
   * The refs the mirror of `repo` guards: its main branch (from ensureMirror), main and master. Only a
   * launch uses it; collection reads the names from the launch's record (a restarted supervisor that has
   * not called ensureMirror yet would not know the repo's main branch).
   */
  protectedRefs(repo: string): string[] {
    return this.guarded.get(repo) ?? ['refs/heads/main', 'refs/heads/master'];
  }

  /** Protected refs moved during an attempt, put back as recorded (protected-refs.ts). */
  mainMoved(repo: string, id: TaskId, attempt: number): Promise<MovedRef[]> {
    return mainMoved(this, repo, id, attempt);
  }

  /**
   * Creates (or recreates) the worktree on ns/<id>. The mirror's branch is continued when it descends
   * from the task's base, or always with `keepBranch` (a later review round, whose branch may need a
   * rebase onto a new base); otherwise ns/<id> starts at the base.
   */
  async createWorktree(repo: string, id: TaskId, keepBranch = false): Promise<void> {
    const r = await this.worktreeOps.run(repo, () =>
      this.runner.run([
        'sh',
        '-c',
        WORKTREE_SH,
        'sh',
        this.mirror(repo),
        this.worktree(id),
        id,
        keepBranch ? 'always' : 'descendant',
      ]),
    );
    if (r.exitCode !== 0)
      throw hostError(this, `could not create the worktree of ${id}: ${r.stderr.trim()}`, id);
  }

  async removeWorktree(repo: string, id: TaskId): Promise<void> {
    await this.worktreeOps.run(repo, async () => {
      await this.runner.run([
        'git',
        '--git-dir',
        this.mirror(repo),
        'worktree',
        'remove',
        '--force',
        this.worktree(id),
      ]);
      await this.runner.run(['git', '--git-dir', this.mirror(repo), 'worktree', 'prune']);
    });
  }

  /** Deletes ns/<id> and refs/nightshift/base/<id> from the mirror (a merged branch past its retention). */
  async deleteTaskRefs(repo: string, id: TaskId): Promise<void> {
    const r = await this.runner.run(['git', '--git-dir', this.mirror(repo), 'update-ref', '--stdin'], {
      input: `delete refs/heads/ns/${id}\ndelete refs/nightshift/base/${id}\n`,
    });
    if (r.exitCode !== 0) throw hostError(this, `could not delete the refs of ${id}: ${r.stderr.trim()}`, id);
  }

  /** Starts attempt `n` of a task in its tmux session, in one round trip (launch.ts). */
  launch(spec: LaunchSpec): Promise<void> {
    return launchAttempt(this, spec);
  }

  /**
   * Waits until some runner on this host signals its end (EXIT_CHANNEL), up to `timeoutMs`. 'failed'
   * covers a tmux server that is not running (no sessions) or is gone, and a dropped link: the caller
   * falls back to polling. Runners launched before the signal existed never send it.
   */
  async waitForExit(timeoutMs: number): Promise<'signalled' | 'timeout' | 'failed'> {
    return this.tmux.waitFor(EXIT_CHANNEL, timeoutMs).catch(() => 'failed' as const);
  }

  /** Wakes whoever waits in waitForExit (the supervisor, as it stops). */
  async wakeExitWaiters(): Promise<void> {
    await this.tmux.signal(EXIT_CHANNEL).catch(() => false);
  }

  /** Everything the supervisor needs to judge an attempt's liveness (see statuses). */
  async status(repo: string, id: TaskId, attempt: number): Promise<AttemptStatus> {
    const [one] = await this.statuses([{ repo, id, attempt }]);
    if (!one) throw new NightshiftError(ErrorCode.internal, `no status for ${id}`, { host: this.name });
    return one;
  }

  /** The liveness of several attempts in one round trip (attempt-status.ts), in the order asked. */
  statuses(attempts: readonly AttemptRef[]): Promise<AttemptStatus[]> {
    return readStatuses(this, attempts);
  }

  /** Whether attempt `n` ever started its executor: the runner script creates the attempt's log as it does. */
  async attemptStarted(id: TaskId, attempt: number): Promise<boolean> {
    const r = await this.runner.run(['test', '-e', this.logPath(id, attempt)]);
    return r.exitCode !== 1;
  }

  /** Reads the attempt log from byte `from`, decoded as UTF-8. */
  async readLog(id: TaskId, attempt: number, from = 0): Promise<string> {
    return (await this.readLogBytes(id, attempt, from)).toString('utf8');
  }

  /**
   * Reads the attempt log's bytes from byte `from`, as they are (for mirroring it to the supervisor's
   * logs/: the next read starts where this one ended, even mid-character or in output that is not UTF-8).
   * `max` bounds one read (the mirror reads in chunks, so no read holds an attempt's whole output).
   */
  async readLogBytes(id: TaskId, attempt: number, from = 0, max?: number): Promise<Buffer> {
    const file = this.logPath(id, attempt);
    const argv =
      max === undefined
        ? ['tail', '-c', `+${from + 1}`, file]
        : ['sh', '-c', 'tail -c "+$1" "$2" | head -c "$3"', 'sh', String(from + 1), file, String(max)];
    const r = await this.runner.run(argv, { binary: true });
    return r.exitCode === 0 && r.stdoutBytes ? r.stdoutBytes : Buffer.alloc(0);
  }

  /** Commits the worktree's uncommitted changes to refs/nightshift/salvage/<id>/<attempt> (salvage.ts). */
  salvage(repo: string, id: TaskId, attempt: number): Promise<string | null> {
    return salvage(this, repo, id, attempt);
  }

  /**
   * The session's last screen as text: its visible pane and up to `lines` lines of scrollback before it
   * ('' when there is no such session). Taken before a kill, so a person can see where the executor was.
   */
  async captureScreen(id: TaskId, lines = SCREEN_LINES): Promise<string> {
    return this.tmux.capture(this.session(id), lines);
  }

  /**
   * Salvages, then kills the session and every process the attempt started. Salvage first, so what the
   * repo's `afterRun` hook (afterRun, next) changes is never the attempt's work. Returns the salvage
   * commit, if any.
   */
  async kill(repo: string, id: TaskId, attempt: number): Promise<string | null> {
    const salvaged = await this.salvage(repo, id, attempt).catch(() => null);
    await this.closeSession(id, attempt);
    return salvaged;
  }

  /** Kills the attempt's session and every process it started (salvage.ts). */
  closeSession(id: TaskId, attempt: number): Promise<void> {
    return closeSession(this, id, attempt);
  }

  /** The repo's afterRun hook for a killed attempt, unless its runner ran it (salvage.ts). */
  afterRun(id: TaskId, attempt: number, hook: AfterRunHook): Promise<void> {
    return runAfterRun(this, id, attempt, hook);
  }
}
