/**
 * One worker host as the supervisor sees it: its workdir layout, the bare mirror per repo, per-task
 * worktrees on `ns/<id>`, launching an executor attempt in tmux through the runner script, reading
 * progress back, salvaging and killing, and fetching the branch home. The worker never receives,
 * fetches or pushes `main`: only the base commit travels, as refs/nightshift/base/<id>.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import { isTaskId } from '../core/ids.js';
import { envFileText, quoteArgv } from './quote.js';
import { LocalRunner, type CommandRunner } from './runner.js';
import { withRepoLock } from '../git/repo.js';
import { KeyedSerial } from '../lib/serial.js';
import { executorSocketPath, TMUX_DIR } from './layout.js';
import { checkMoved, type MovedRef } from './ref-guard.js';
import { EXIT_CHANNEL, REAP_SH, refGuardHook, RUN_SH } from './scripts.js';
import {
  foreignServerVariables,
  SERVER_ENV_OK_ERE,
  NO_SERVER,
  PANE_FORMAT,
  parsePanes,
  newSessionArgs,
  sessionName,
  Tmux,
  TMUX_CONF,
  TMUX_SH,
  type PaneInfo,
} from './tmux.js';

export interface HostFacts {
  home: string;
  path: string;
  uid: number;
  cores: number;
  workdir: string;
}

export interface ExitRecord {
  attempt: number;
  exitCode: number;
  startedAt: string;
  endedAt: string;
  /** Whether the attempt moved HEAD (absent in records of runner scripts older than this field). */
  committed?: boolean;
  /** The runner failed before the executor started (no worktree, no command): the worker's fault. */
  runnerFailed?: boolean;
}

export interface AttemptStatus {
  pane: PaneInfo | null;
  exit: ExitRecord | null;
  logBytes: number;
  /** Tip of ns/<id> in the host's mirror (new commits = progress). */
  head: string | null;
}

export interface LaunchSpec {
  taskId: string;
  attempt: number;
  repo: string;
  /** Executor argv (may hold the prompt tokens; never secrets, never spec text). */
  argv: string[];
  /** Executor environment, secrets included: shipped in a 0600 file the runner deletes. */
  env: Record<string, string>;
  /** Names of the `env` entries whose values are secrets: the runner redacts them from the output. */
  secretKeys?: readonly string[];
  stdin: 'null' | 'prompt';
  prompt: string;
}

const GIT_ID = ['-c', 'user.name=nightshift', '-c', 'user.email=nightshift@localhost'];

/**
 * usage: sh -c WORKTREE_SH sh <mirror> <worktree> <id> <always|descendant>. Removes whatever is at
 * <worktree>, then adds it on ns/<id>, continuing the branch when the mirror has it and either `always`
 * is given (a review round: the branch is the task's work, whatever its base) or it descends from
 * refs/nightshift/base/<id>. Otherwise ns/<id> starts anew at the base: a branch that does not descend
 * from the base the supervisor records is stale (left by a worktree prepared ahead on an older main, say)
 * and would fail the descent check at collection.
 */
const WORKTREE_SH = `mirror=$1 wt=$2 id=$3 keep=$4
if [ -e "$wt" ]; then
  git --git-dir "$mirror" worktree remove --force "$wt" >/dev/null 2>&1
  rm -rf "$wt"
fi
git --git-dir "$mirror" worktree prune
if git --git-dir "$mirror" rev-parse --verify -q "refs/heads/ns/$id" >/dev/null; then
  if [ "$keep" = always ] || git --git-dir "$mirror" merge-base --is-ancestor "refs/nightshift/base/$id" "refs/heads/ns/$id"; then
    exec git --git-dir "$mirror" worktree add -q "$wt" "ns/$id"
  fi
fi
exec git --git-dir "$mirror" worktree add -q -B "ns/$id" "$wt" "refs/nightshift/base/$id"
`;

/** How many scrollback lines captureScreen keeps above the visible pane. */
const SCREEN_LINES = 500;

/** How many times fetchBranch tries the fetch. */
const FETCH_TRIES = 3;

/** STAGE_SH's exit status when the session's executor is still running. */
const STAGE_BUSY = 75;
/** STAGE_SH's exit status when the files are staged but tmux could not start the session. */
const STAGE_NO_SESSION = 76;
/** STAGE_SH's exit status when it could not record the mirror's protected refs (nothing was started). */
const STAGE_NO_RECORD = 77;
/** STAGE_SH's exit status when the tmux server holds variables nightshift did not give it (nothing staged). */
const STAGE_FOREIGN_SERVER = 78;

/**
 * usage: sh -c STAGE_SH sh <task-dir> <prompt-bytes> <env-bytes> <session> <TS> <TC> <mirror> <attempt>
 *          <protected refs, space-separated> <new-session args...>
 * stdin: the prompt, the env file and the argv file, back to back. Refuses (75) while the session's pane
 * is alive, without writing anything; otherwise kills a dead session, writes the three files, 0600,
 * records the mirror's protected refs in main-refs-<attempt> (a line "# <ref names>", then "<ref> <sha>"
 * for those that exist; mainMoved compares them at collection), and starts the session: staging and
 * starting are one round trip. When the refs cannot be read it removes the env file and exits 77
 * (STAGE_NO_RECORD) without starting anything: no attempt runs unguarded. TS and TC spell the tmux base
 * (TMUX_SH). The refs are full ref names, which git forbids to hold spaces or glob characters. A
 * new-session that fails without making the session (the server was exiting as it connected) is tried
 * once more. Before anything else it refuses (78, STAGE_FOREIGN_SERVER, printing the server's `show-environment -g`
 * lines that SERVER_ENV_OK_ERE does not allow) a running server whose global environment holds anything
 * but what TMUX_SH gives it: every executor on that server could read it.
 */
const STAGE_SH = `dir=$1 plen=$2 elen=$3 session=$4 TS=$5 TC=$6 mirror=$7 att=$8 refs=$9
shift 9
if genv=$(${TMUX_SH} show-environment -g 2>/dev/null); then
  foreign=$(printf '%s\n' "$genv" | grep -Ev '${SERVER_ENV_OK_ERE}')
  if [ -n "$foreign" ]; then
    cat > /dev/null
    printf '%s\n' "$foreign" | cut -d= -f1
    exit ${STAGE_FOREIGN_SERVER}
  fi
fi
if ${TMUX_SH} has-session -t "=$session" 2>/dev/null; then
  if [ "$(${TMUX_SH} display-message -p -t "=$session:" '#{pane_dead}' 2>/dev/null || echo 1)" != 1 ]; then
    cat > /dev/null
    exit ${STAGE_BUSY}
  fi
  ${TMUX_SH} kill-session -t "=$session"
fi
set -e
umask 077
mkdir -p "$dir"
cd "$dir"
cat > .stage
head -c "$plen" .stage > prompt.md
tail -c +"$((plen + 1))" .stage | head -c "$elen" > env
tail -c +"$((plen + elen + 1))" .stage > argv
rm -f .stage
chmod 600 prompt.md env argv
set -f
if ! { printf '# %s\\n' "$refs" && git --git-dir "$mirror" for-each-ref --format='%(refname) %(objectname)' $refs; } > main-refs.tmp; then
  rm -f env main-refs.tmp
  exit ${STAGE_NO_RECORD}
fi
mv -f main-refs.tmp "main-refs-$att"
# A server whose last session just ended exits (exit-empty): a new-session that reached it then fails
# with "server exited unexpectedly" and made no session. Once more, on a new server, in that case only.
if ! ${TMUX_SH} "$@"; then
  if ${TMUX_SH} has-session -t "=$session" 2>/dev/null || ! ${TMUX_SH} "$@"; then rm -f env; exit ${STAGE_NO_SESSION}; fi
fi
`;

/**
 * usage: sh -c STATUS_SH sh <TS> <TC> <n> <m> <task-dir>×n <mirror>×m <log>×n
 * Prints four sections, each ended by a line ".": a line "panes" and every pane on the socket (PANE_FORMAT,
 * each line after "pane<TAB>"); n lines, each attempt's exit.json (empty if none); for each mirror a line "mirror <k>"
 * and its ns/ branches ("<sha> refs/heads/ns/<id>"); then `wc -c` of the logs that exist. A fixed number
 * of processes whatever n: tmux, one git per mirror, one wc (exit.json is read by the shell itself).
 * The panes come first, the files after: the runner writes exit.json before it exits, so a dead pane
 * seen before a missing exit.json really is a runner that died without recording its end. Exit 3 with
 * tmux's message when list-panes fails for another reason than there being no server.
 */
const STATUS_SH = `TS=$1 TC=$2 n=$3 m=$4
shift 4
echo panes
if ! panes=$(${TMUX_SH} list-panes -a -F 'pane	${PANE_FORMAT}' 2>&1); then
  if printf '%s' "$panes" | grep -Eqi '${NO_SERVER.source}'; then panes=; else printf '%s\n' "$panes" >&2; exit 3; fi
fi
if [ -n "$panes" ]; then printf '%s\n' "$panes"; fi
echo .
i=0
while [ "$i" -lt "$n" ]; do
  x=
  if [ -r "$1/exit.json" ]; then IFS= read -r x < "$1/exit.json" || :; fi
  printf '%s\n' "$x"
  shift
  i=$((i + 1))
done
echo .
i=0
while [ "$i" -lt "$m" ]; do
  echo "mirror $i"
  git --git-dir "$1" for-each-ref --format='%(objectname) %(refname)' refs/heads/ns/
  shift
  i=$((i + 1))
done
echo .
wc -c -- "$@" 2>/dev/null
exit 0
`;

export type { MovedRef } from './ref-guard.js';

export class WorkerHost {
  readonly tmux: Tmux;
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
  /** A mirror's worktree operations, one at a time: `worktree prune` would drop a worktree being added. */
  private readonly worktreeOps = new KeyedSerial();

  constructor(
    readonly name: string,
    readonly runner: CommandRunner,
    /** Configured workdir; may start with `~/`. */
    private readonly configuredWorkdir: string,
    /** The executors' tmux socket's name: the socket is `<workdir>/tmux/<name>` (executorSocketPath). */
    readonly tmuxSocket = 'nightshift',
    /** Runs git in the supervisor's own repos. */
    private readonly local: CommandRunner = new LocalRunner(),
  ) {
    this.tmux = new Tmux(runner, null, '/dev/null');
  }

  /** Resolves the workdir, creates its layout and installs the runner script and tmux config. */
  async prepare(): Promise<HostFacts> {
    const r = await this.runner.run([
      'sh',
      '-c',
      'printf "%s\\n%s\\n%s\\n" "$HOME" "$PATH" "$(id -u)"; getconf _NPROCESSORS_ONLN',
    ]);
    if (r.exitCode !== 0) throw this.hostError(`could not read the host's environment: ${r.stderr.trim()}`);
    const [home = '', hostPath = '', uid = '0', cores = '1'] = r.stdout.split('\n');
    const workdir = this.configuredWorkdir.startsWith('~/')
      ? path.posix.join(home, this.configuredWorkdir.slice(2))
      : this.configuredWorkdir;
    if (!path.posix.isAbsolute(workdir))
      throw this.hostError(`workdir must be absolute or start with ~/; found ${workdir}`);
    this.facts = { home, path: hostPath, uid: Number(uid), cores: Number(cores) || 1, workdir };
    const socket = executorSocketPath(workdir, this.tmuxSocket, this.configuredWorkdir);
    await this.must([
      'mkdir',
      '-p',
      '-m',
      '700',
      workdir,
      this.dir('repos'),
      this.dir('tasks'),
      this.dir('worktrees'),
      this.dir('bin'),
      this.dir('state'),
      this.dir(TMUX_DIR),
    ]);
    // mkdir -m applies to directories it creates only: a socket directory made otherwise is tightened.
    await this.must(['chmod', '700', this.dir(TMUX_DIR)]);
    const socketDir = path.posix.dirname(socket);
    if (socketDir !== this.dir(TMUX_DIR)) {
      // The short directory under /tmp (a workdir too long for a socket path): ours, or refused.
      const r = await this.runner.run([
        'sh',
        '-c',
        'mkdir -p -m 700 "$1" && [ -O "$1" ] && [ ! -L "$1" ] && chmod 700 "$1"',
        'sh',
        socketDir,
      ]);
      if (r.exitCode !== 0) {
        throw this.hostError(
          `the tmux socket directory ${socketDir} (used because ${this.dir(TMUX_DIR)} makes too long a socket path) is not a directory of this user's: ${r.stderr.trim() || `exit ${r.exitCode}`}`,
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

  dir(...parts: string[]): string {
    return path.posix.join(this.info.workdir, ...parts);
  }
  mirror(repo: string): string {
    return this.dir('repos', `${repo}.git`);
  }
  taskDir(id: string): string {
    return this.dir('tasks', checkId(id));
  }
  worktree(id: string): string {
    return this.dir('worktrees', checkId(id));
  }
  logPath(id: string, attempt: number): string {
    return path.posix.join(this.taskDir(id), `attempt-${attempt}.log`);
  }

  /** Writes a file on the host through stdin (never through a command line). */
  async writeFile(file: string, data: string | Uint8Array, mode = '600'): Promise<void> {
    await this.must(['sh', '-c', 'umask 077 && cat > "$1" && chmod "$2" "$1"', 'sh', file, mode], {
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
    await this.must(['mkdir', '-p', '-m', '700', dir]);
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
      await this.must(['git', 'init', '-q', '--bare', mirror]);
      // Worktrees see this mirror as `origin`: a push to origin main lands on the guard below.
      await this.must(['git', '--git-dir', mirror, 'config', 'remote.origin.url', mirror]);
      await this.must([
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
    await this.must(['git', '--git-dir', mirror, 'config', 'core.logAllRefUpdates', 'always']);
    const guarded = this.protectedRefs(repo).map((r) => r.slice('refs/heads/'.length));
    await this.installFile(
      path.posix.join(mirror, 'hooks', 'reference-transaction'),
      refGuardHook(mirror, guarded),
      '755',
    );
  }

  /** Pushes one commit of the supervisor's repo to the mirror as refs/nightshift/base/<id>. */
  async pushBase(localRepo: string, repo: string, id: string, sha: string): Promise<void> {
    if (!/^[0-9a-f]{40}$/.test(sha)) throw this.hostError(`not a commit sha: ${sha}`);
    await this.pushFromLocal(localRepo, repo, [`+${sha}:refs/nightshift/base/${checkId(id)}`]);
  }

  /** Pushes the supervisor's ns/<id> to the mirror (a later round continues the same branch). */
  async pushBranch(localRepo: string, repo: string, id: string): Promise<void> {
    await this.pushFromLocal(localRepo, repo, [`+refs/heads/ns/${checkId(id)}:refs/heads/ns/${id}`]);
  }

  private async pushFromLocal(localRepo: string, repo: string, refspecs: string[]): Promise<void> {
    const transport = this.runner.gitTransport();
    await this.local.run(
      ['git', '-C', localRepo, 'push', '-q', '--no-verify', transport.urlFor(this.mirror(repo)), ...refspecs],
      {
        env: transport.env,
        reject: false,
      },
    );
  }

  /**
   * Fetches ns/<id> from the mirror into the supervisor's repo and checks it descends from `base`.
   * Throws LinkError when the link to the host is down (the branch waits on the host: try again later),
   * BranchError when the branch is the executor's fault (gone from the mirror, or not descending from
   * its base), and another NightshiftError when the fetch fails for some other reason.
   */
  async fetchBranch(localRepo: string, repo: string, id: string, base: string): Promise<string> {
    const transport = this.runner.gitTransport();
    const fetch = [
      'git',
      '-C',
      localRepo,
      'fetch',
      '-q',
      '--no-tags',
      transport.urlFor(this.mirror(repo)),
      `+refs/heads/ns/${checkId(id)}:refs/heads/ns/${id}`,
    ];
    // A fetch can fail for a moment for reasons that are not the branch's: a dropped link, or a worktree
    // being added in the supervisor's repo just then (its HEAD briefly names no commit, and the fetch's
    // connectivity check reads every worktree's HEAD). This process's own worktree changes wait for the
    // fetch (withRepoLock); another process's (a person's git) is why it still tries again before failing.
    for (let tries = 1; ; tries++) {
      const r = await withRepoLock(localRepo, () => this.local.run(fetch, { env: transport.env }));
      if (r.exitCode === 0) break;
      // git runs ssh itself, and exits 128 whatever ssh's trouble was: ask the host through our own
      // runner, which throws LinkError when the link is down (ssh exit 255).
      await this.runner.run(['true']);
      if (tries === FETCH_TRIES) {
        const has = await this.runner.run([
          'git',
          '--git-dir',
          this.mirror(repo),
          'rev-parse',
          '--verify',
          '-q',
          `refs/heads/ns/${id}`,
        ]);
        if (has.exitCode === 1) {
          throw new BranchError(ErrorCode.io, `branch ns/${id} is gone from the mirror on ${this.name}`, {
            taskId: id,
            host: this.name,
          });
        }
        throw new NightshiftError(
          ErrorCode.io,
          `could not fetch ns/${id} from ${this.name}: ${(r.stderr || r.stdout).trim().slice(0, 500)}`,
          { taskId: id, host: this.name, hint: `check that \`git fetch\` from ${localRepo} works` },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250 * tries));
    }
    const tip = (
      await this.local.run(['git', '-C', localRepo, 'rev-parse', `refs/heads/ns/${id}`], { reject: false })
    ).stdout.trim();
    const ok = await this.local.run(['git', '-C', localRepo, 'merge-base', '--is-ancestor', base, tip]);
    if (ok.exitCode !== 0) {
      throw new BranchError(
        ErrorCode.io,
        `branch ns/${id} does not descend from its base ${base.slice(0, 12)}`,
        {
          taskId: id,
          host: this.name,
        },
      );
    }
    return tip;
  }

  /**
   * Refs the guard refused for this task (non-empty means the executor tried to move main). Empty when
   * the hook never recorded the task; a record that exists but cannot be read is a host error.
   */
  async mainTouched(repo: string, id: string): Promise<string[]> {
    const file = path.posix.join(this.mirror(repo), 'nightshift-touched', checkId(id));
    const r = await this.runner.run(['sh', '-c', '[ -e "$1" ] || exit 3; exec cat -- "$1"', 'sh', file]);
    if (r.exitCode === 3) return [];
    if (r.exitCode !== 0) {
      throw this.hostError(
        `could not read ${file}, the main guard's record of refused updates: ${r.stderr.trim()}`,
        id,
      );
    }
    return r.stdout.split('\n').filter(Boolean);
  }

  /**
   * The refs the mirror of `repo` guards: its main branch (from ensureMirror), main and master. Only a
   * launch uses it; collection reads the names from the launch's record (a restarted supervisor that has
   * not called ensureMirror yet would not know the repo's main branch).
   */
  protectedRefs(repo: string): string[] {
    return this.guarded.get(repo) ?? ['refs/heads/main', 'refs/heads/master'];
  }

  /**
   * Protected refs of the mirror that changed during attempt `attempt` of `id`, compared with the record
   * its launch made, whatever hooks ran (an executor can switch the guard off with
   * `git -c core.hooksPath=…`). Nothing legitimate writes these refs in a mirror, so every change is put
   * back as recorded (a ref created since the launch is deleted, one deleted is recreated) in the same
   * round trip (MOVED_SH). A change is `attributed` to this task when the new value is reachable from any
   * value its branch ever had (its reflogs: `git branch -f main HEAD` followed by `commit --amend` is
   * still the task's); otherwise (a commit made with `commit-tree`, another task's move) it is restored
   * and returned unattributed, for the caller to report. Empty when nothing changed or the attempt has no
   * record. Attempts sharing the mirror restore a move once and blame its mover once (ref-guard.ts).
   */
  async mainMoved(repo: string, id: string, attempt: number): Promise<MovedRef[]> {
    const r = await checkMoved(this.runner, this.name, {
      taskDir: this.taskDir(id),
      mirror: this.mirror(repo),
      attempt,
      id: checkId(id),
      fallback: this.protectedRefs(repo),
    });
    if (r.exitCode === 3) return [];
    if (r.exitCode !== 0) {
      throw this.hostError(
        `could not check the protected refs of ${repo} in ${this.mirror(repo)}: ${r.stderr.trim()}`,
        id,
      );
    }
    return r.moved;
  }

  /**
   * Creates (or recreates) the worktree on ns/<id>. The mirror's branch is continued when it descends
   * from the task's base, or always with `keepBranch` (a later review round, whose branch may need a
   * rebase onto a new base); otherwise ns/<id> starts at the base.
   */
  async createWorktree(repo: string, id: string, keepBranch = false): Promise<void> {
    const r = await this.worktreeOps.run(repo, () =>
      this.runner.run([
        'sh',
        '-c',
        WORKTREE_SH,
        'sh',
        this.mirror(repo),
        this.worktree(id),
        checkId(id),
        keepBranch ? 'always' : 'descendant',
      ]),
    );
    if (r.exitCode !== 0)
      throw this.hostError(`could not create the worktree of ${id}: ${r.stderr.trim()}`, id);
  }

  async removeWorktree(repo: string, id: string): Promise<void> {
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
  async deleteTaskRefs(repo: string, id: string): Promise<void> {
    const r = await this.runner.run(['git', '--git-dir', this.mirror(repo), 'update-ref', '--stdin'], {
      input: `delete refs/heads/ns/${checkId(id)}\ndelete refs/nightshift/base/${id}\n`,
    });
    if (r.exitCode !== 0) throw this.hostError(`could not delete the refs of ${id}: ${r.stderr.trim()}`, id);
  }

  /**
   * Starts attempt `n` of a task in a detached tmux session `ns-<id>`, in one round trip (STAGE_SH): it
   * stages the prompt, the env file and the argv file (refusing while the session's executor still runs)
   * and starts the session. The argv travels in a file because tmux refuses command lines over ~16 KB.
   */
  async launch(spec: LaunchSpec): Promise<void> {
    const id = checkId(spec.taskId);
    const taskDir = this.taskDir(id);
    const session = sessionName(id);
    const prompt = Buffer.from(spec.prompt);
    const env = Buffer.from(envFileText({ ...spec.env, NIGHTSHIFT_TASK: id }, spec.secretKeys));
    const argv = Buffer.from(quoteArgv(spec.argv));
    const facts = this.info;
    const runner = [
      'env',
      '-i',
      `PATH=${facts.path}`,
      `HOME=${facts.home}`,
      'LANG=C.UTF-8',
      `NIGHTSHIFT_EXIT_SOCKET=${this.tmux.socket}`,
      'sh',
      this.dir('run.sh'),
      taskDir,
      this.worktree(id),
      String(spec.attempt),
      spec.stdin,
      '--argv-file',
    ];
    const staged = await this.runner.run(
      [
        'sh',
        '-c',
        STAGE_SH,
        'sh',
        taskDir,
        String(prompt.length),
        String(env.length),
        session,
        ...this.tmux.shellBase(),
        this.mirror(spec.repo),
        String(spec.attempt),
        this.protectedRefs(spec.repo).join(' '),
        ...newSessionArgs(session, this.worktree(id), runner),
      ],
      { input: Buffer.concat([prompt, env, argv]) },
    );
    if (staged.exitCode === STAGE_BUSY) throw this.hostError(`session ${session} is already running`, id);
    if (staged.exitCode === STAGE_FOREIGN_SERVER) {
      const names = foreignServerVariables(staged.stdout);
      throw new NightshiftError(
        ErrorCode.io,
        `the tmux server on ${this.tmux.socket} holds variables nightshift did not give it (${names.join(', ')}), so every executor on it could read them: it was started by something else, and nothing was launched on it`,
        {
          host: this.name,
          taskId: id,
          hint: `stop it on ${this.name} with \`tmux -S ${this.tmux.socket} kill-server\` (this ends its sessions); nightshift starts a clean one at the next launch`,
        },
      );
    }
    if (staged.exitCode === STAGE_NO_RECORD) {
      throw this.hostError(
        `could not record the protected refs of ${spec.repo} in ${this.mirror(spec.repo)} before attempt ${spec.attempt}, so nothing was started: ${staged.stderr.trim()}`,
        id,
      );
    }
    if (staged.exitCode === STAGE_NO_SESSION) {
      throw this.hostError(`could not start session ${session}: ${staged.stderr.trim()}`, id);
    }
    if (staged.exitCode !== 0) {
      throw this.hostError(`could not stage attempt ${spec.attempt}: ${staged.stderr.trim()}`, id);
    }
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
  async status(repo: string, id: string, attempt: number): Promise<AttemptStatus> {
    const [one] = await this.statuses([{ repo, id, attempt }]);
    if (!one) throw new NightshiftError(ErrorCode.internal, `no status for ${id}`, { host: this.name });
    return one;
  }

  /**
   * The liveness of several attempts on this host in one round trip, whatever their number (STATUS_SH):
   * every pane, then each attempt's exit.json, log size and branch tip. Results are in the order asked.
   * A pane is as seen just before the files: with an exit record it may still be alive for an instant,
   * the runner's last (it signals the exit channel and ends).
   */
  async statuses(
    attempts: readonly { repo: string; id: string; attempt: number }[],
  ): Promise<AttemptStatus[]> {
    if (attempts.length === 0) return [];
    const mirrors = [...new Set(attempts.map((a) => this.mirror(a.repo)))];
    const logs = attempts.map((a) => this.logPath(a.id, a.attempt));
    const r = await this.runner.run([
      'sh',
      '-c',
      STATUS_SH,
      'sh',
      ...this.tmux.shellBase(),
      String(attempts.length),
      String(mirrors.length),
      ...attempts.map((a) => this.taskDir(a.id)),
      ...mirrors,
      ...logs,
    ]);
    const sections = r.stdout.split('\n.\n');
    if (r.exitCode !== 0 || sections.length < 4) {
      throw new NightshiftError(
        ErrorCode.io,
        `could not read the attempts' status: ${r.stderr.trim() || `exit ${r.exitCode}`}`,
        { host: this.name },
      );
    }
    const [paneText = '', exitText = '', refText = '', sizeText = ''] = sections;
    const panes = parsePanes(
      paneText
        .split('\n')
        .filter((l) => l.startsWith('pane\t'))
        .map((l) => l.slice('pane\t'.length))
        .join('\n'),
    );
    const exits = exitText.split('\n');
    // "<sha> refs/heads/ns/<id>" lines under "mirror <k>": tips by mirror, then id.
    const tips = new Map<string, string>();
    let mirror = '';
    for (const line of refText.split('\n')) {
      const header = /^mirror (\d+)$/.exec(line);
      if (header) mirror = mirrors[Number(header[1])] ?? '';
      const ref = /^([0-9a-f]{40,64}) refs\/heads\/ns\/(.+)$/.exec(line);
      if (ref?.[1] && ref[2]) tips.set(`${mirror}\n${ref[2]}`, ref[1]);
    }
    // `wc -c` lines: "<bytes> <path>", plus a "total" line when there are several files.
    const sizes = new Map<string, number>();
    for (const line of sizeText.split('\n')) {
      const m = /^\s*(\d+) (.*)$/.exec(line);
      if (m?.[1] && m[2] !== undefined) sizes.set(m[2], Number(m[1]));
    }
    const paneOf = (id: string) => panes.find((p) => p.session === sessionName(id)) ?? null;
    return attempts.map((a, i) => {
      let exit: ExitRecord | null = null;
      try {
        const parsed = JSON.parse(exits[i] ?? '') as ExitRecord;
        if (parsed.attempt === a.attempt) exit = parsed;
      } catch {
        exit = null;
      }
      return {
        pane: paneOf(a.id),
        exit,
        logBytes: sizes.get(logs[i] ?? '') ?? 0,
        head: tips.get(`${this.mirror(a.repo)}\n${a.id}`) ?? null,
      };
    });
  }

  /** Whether attempt `n` ever started its executor: the runner script creates the attempt's log as it does. */
  async attemptStarted(id: string, attempt: number): Promise<boolean> {
    const r = await this.runner.run(['test', '-e', this.logPath(id, attempt)]);
    return r.exitCode !== 1;
  }

  /** Reads the attempt log from byte `from`, decoded as UTF-8. */
  async readLog(id: string, attempt: number, from = 0): Promise<string> {
    return (await this.readLogBytes(id, attempt, from)).toString('utf8');
  }

  /**
   * Reads the attempt log's bytes from byte `from`, as they are (for mirroring it to the supervisor's
   * logs/: the next read starts where this one ended, even mid-character or in output that is not UTF-8).
   * `max` bounds one read (the mirror reads in chunks, so no read holds an attempt's whole output).
   */
  async readLogBytes(id: string, attempt: number, from = 0, max?: number): Promise<Buffer> {
    const file = this.logPath(id, attempt);
    const argv =
      max === undefined
        ? ['tail', '-c', `+${from + 1}`, file]
        : ['sh', '-c', 'tail -c "+$1" "$2" | head -c "$3"', 'sh', String(from + 1), file, String(max)];
    const r = await this.runner.run(argv, { binary: true });
    return r.exitCode === 0 && r.stdoutBytes ? r.stdoutBytes : Buffer.alloc(0);
  }

  /** Commits the worktree's uncommitted changes to refs/nightshift/salvage/<id>/<attempt>. Null if clean. */
  async salvage(repo: string, id: string, attempt: number): Promise<string | null> {
    const wt = this.worktree(id);
    const git = (...args: string[]) => this.runner.run(['git', '-C', wt, ...args]);
    const dirty = await git('status', '--porcelain');
    if (dirty.exitCode !== 0 || dirty.stdout.trim() === '') return null;
    const index = path.posix.join(this.taskDir(id), `salvage-${attempt}.index`);
    const withIndex = (...args: string[]) =>
      this.runner.run(['env', `GIT_INDEX_FILE=${index}`, 'git', '-C', wt, ...args]);
    await withIndex('read-tree', 'HEAD');
    await withIndex('add', '-A');
    const tree = (await withIndex('write-tree')).stdout.trim();
    const head = (await git('rev-parse', 'HEAD')).stdout.trim();
    const commit = (
      await this.runner.run([
        'git',
        ...GIT_ID,
        '-C',
        wt,
        'commit-tree',
        tree,
        '-p',
        head,
        '-m',
        `nightshift: salvage of ${id} attempt ${attempt}`,
      ])
    ).stdout.trim();
    await this.runner.run(['rm', '-f', index]);
    if (!/^[0-9a-f]{40}$/.test(commit)) return null;
    await this.must([
      'git',
      '--git-dir',
      this.mirror(repo),
      'update-ref',
      `refs/nightshift/salvage/${id}/${attempt}`,
      commit,
    ]);
    return commit;
  }

  /**
   * The session's last screen as text: its visible pane and up to `lines` lines of scrollback before it
   * ('' when there is no such session). Taken before a kill, so a person can see where the executor was.
   */
  async captureScreen(id: string, lines = SCREEN_LINES): Promise<string> {
    return this.tmux.capture(sessionName(checkId(id)), lines);
  }

  /** Salvages, then kills the session and every process the attempt started. Returns the salvage commit, if any. */
  async kill(repo: string, id: string, attempt: number): Promise<string | null> {
    const salvaged = await this.salvage(repo, id, attempt).catch(() => null);
    await this.closeSession(id, attempt);
    return salvaged;
  }

  /**
   * Kills the session of attempt `attempt` of `id`, then every process the attempt started that is still
   * alive (REAP_SH: those carrying its marker, and those left in the runner's session), TERM then KILL.
   * Throws LinkError when the link is down; a failed reap is otherwise not an error (it says why on
   * stderr, which is dropped: the runner reaps at its own end too).
   */
  async closeSession(id: string, attempt: number): Promise<void> {
    await this.tmux.kill(sessionName(checkId(id)));
    await this.runner.run(['sh', '-c', REAP_SH, 'sh', this.taskDir(id), String(attempt)]);
  }

  private async must(argv: string[], opts: { input?: string | Uint8Array } = {}) {
    return this.runner.run(argv, { ...opts, reject: false });
  }

  private hostError(message: string, taskId?: string): NightshiftError {
    return new NightshiftError(ErrorCode.io, message, { host: this.name, ...(taskId ? { taskId } : {}) });
  }
}

/** The task's branch is unusable through the executor's doing: gone from the mirror, or not on its base. */
export class BranchError extends NightshiftError {
  override readonly name = 'BranchError';
}

function checkId(id: string): string {
  if (!isTaskId(id)) throw new NightshiftError(ErrorCode.internal, `not a task id: ${JSON.stringify(id)}`);
  return id;
}
