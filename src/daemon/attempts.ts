/**
 * Running attempts on hosts: launch one, watch its liveness signals (pane alive, log growth, new
 * commits), mirror its log to logs/<id>/attempt-<n>.log, keep its last screen before a kill
 * (logs/<id>/attempt-<n>.screen.txt), and read how it ended.
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
import type { TaskRecord } from '../core/task.js';
import type { WorkspacePaths } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { StreamRedactor, type Redactor } from '../lib/redact.js';
import { capShape, compactLog, type CapShape, type CutState } from './log-cap.js';
import { resumeSessionFor } from './resume.js';
import type { AttemptStatus, ExitRecord } from '../hosts/worker.js';
import type { LaunchSpec } from '../hosts/worker-types.js';
import { executorOutput } from '../hosts/hooks.js';
import type { HostPort } from './host-port.js';
import { fitPrompt, profileFor, readAttempt, resolveSecrets } from '../providers/index.js';
import { lastLine } from '../providers/failures.js';
import { ensureScriptedAgent, launchContext } from '../providers/probe.js';
import type { OutputReading } from '../providers/types.js';

export interface LiveAttempt {
  taskId: TaskId;
  attempt: number;
  provider: string;
  host: string;
  repo: string;
  /** Monotonic ms when the attempt started (or was adopted). */
  startedMono: number;
  /** Monotonic ms of the last sign of progress. */
  progressMono: number;
  logBytes: number;
  /** Bytes of the host's log read so far (written to logs/, or held back in `mirror`). */
  mirroredBytes: number;
  /** The log's redaction as it streams: holds back a tail that may be the start of a secret. */
  mirror?: StreamRedactor;
  head: string | null;
  /** Consecutive polls that found neither a session nor exit.json. */
  missing: number;
  /** A kill is under way; ignore further signals. */
  ending: boolean;
  /** The mirrored output's last line while it is incomplete (for the provider's live check). */
  partialLine?: string;
  /** The log was cut to defaults.logCap: what was left out, and the marker's length (log-cap.ts). */
  cut?: CutState | null;
  /** The mirror under way, if any: the next one waits for it (mirrorLog). */
  mirroring?: Promise<void>;
}

/** The liveness record of an attempt that starts (or is adopted) now: nothing read or seen yet. */
export function newLiveAttempt(
  at: Pick<LiveAttempt, 'taskId' | 'attempt' | 'provider' | 'host' | 'repo'>,
  startedMono: number,
  nowMono: number,
): LiveAttempt {
  return {
    ...at,
    startedMono,
    progressMono: nowMono,
    logBytes: 0,
    mirroredBytes: 0,
    head: null,
    missing: 0,
    ending: false,
  };
}

/**
 * The prompt the executor reads: the spec, plus review notes on later rounds. A gate failure's evidence
 * is shown once, under "Failed gates", though the review also carries it as a finding.
 */
export function promptFor(task: TaskRecord, specText: string): string {
  const parts = [specText.trimEnd()];
  const failed = task.gates.filter((g) => !g.passed);
  const gateFinding = new Set(failed.map((g) => `${g.name}: ${g.evidence}`));
  if (task.review && task.round > 0) {
    parts.push(
      '',
      `## Review notes (round ${task.round} of ${task.spec.reviewRounds})`,
      'Continue on this branch; do not start over. Address these findings:',
      task.review.summary,
      ...task.review.findings
        .filter((f) => !(f.file === '(gate)' && gateFinding.has(f.text)))
        .map((f) => `- ${f.file}${f.line ? `:${f.line}` : ''} [${f.severity}] ${f.text}`),
    );
  }
  if (failed.length) {
    parts.push('', '## Failed gates', ...failed.map((g) => `- ${g.name}: ${g.evidence}`));
  }
  return `${parts.join('\n')}\n`;
}

export interface LaunchDeps {
  config: Config;
  env: NodeJS.ProcessEnv;
  /** Where earlier attempts' logs are: a later review round resumes their session (resume.ts). */
  paths?: WorkspacePaths;
  /** The repo's worker-side setup hooks for a launch on `host` (SetupHooks.launchHooks). */
  hooks?: (host: string, repo: string) => LaunchSpec['hooks'];
}

/**
 * The host side of an attempt: the mirror, the base ref and the worktree on ns/<id> (continuing the
 * branch on a later round). launchAttempt does it, or the supervisor ahead of time (PreparedLaunch).
 */
export async function prepareWorktree(
  deps: LaunchDeps,
  worker: HostPort,
  task: TaskRecord,
  localRepo: string,
  baseSha: string,
): Promise<void> {
  const repoCfg = deps.config.repos[task.spec.repo];
  await worker.ensureMirror(task.spec.repo, repoCfg?.main ?? 'main');
  await worker.pushBase(localRepo, task.spec.repo, task.id, baseSha);
  if (task.round > 0) await worker.pushBranch(localRepo, task.spec.repo, task.id);
  await worker.createWorktree(task.spec.repo, task.id, task.round > 0);
}

/**
 * Starts the executor of attempt `attempt` in tmux, after prepareWorktree (pass `prepared: true` when
 * it already ran for this task, host and round).
 */
export async function launchAttempt(
  deps: LaunchDeps,
  worker: HostPort,
  task: TaskRecord,
  provider: string,
  attempt: number,
  specText: string,
  localRepo: string,
  baseSha: string,
  prepared = false,
): Promise<void> {
  const cfg = deps.config.providers[provider];
  if (!cfg) throw new Error(`unknown provider ${provider}`);
  const profile = profileFor(cfg.kind);
  const secrets = resolveSecrets(provider, cfg, deps.env);
  const ctx = launchContext(worker, provider, task.id, attempt, worker.worktree(task.id));
  const { paths } = deps;
  const resume = paths
    ? resumeSessionFor(task, provider, worker.name, (n) => {
        const exit = task.attempts.find((a) => a.n === n)?.exitCode ?? 0;
        return profile.readOutput(localLog(paths, task.id, n), exit).sessionId ?? null;
      })
    : null;
  const cmd = profile.buildRun(cfg, resume ? { ...ctx, resumeSessionId: resume } : ctx, secrets);
  const prompt = promptFor(task, specText);
  // Before the host is touched: a prompt no input of this executor can take is refused here.
  const { argv, stdin } = fitPrompt(cmd, prompt, { taskId: task.id, provider });
  if (!prepared) await prepareWorktree(deps, worker, task, localRepo, baseSha);
  if (cfg.kind === 'scripted') await ensureScriptedAgent(worker);
  await worker.ensureDir(ctx.stateDir);
  await worker.launch({
    taskId: task.id,
    attempt,
    repo: task.spec.repo,
    argv,
    env: cmd.env,
    secretKeys: cmd.secretKeys,
    stdin,
    prompt,
    hooks: deps.hooks?.(worker.name, task.spec.repo),
  });
}

/** Folds a status poll into the attempt's liveness record. Returns true if it made progress. */
export function noteProgress(live: LiveAttempt, status: AttemptStatus, nowMono: number): boolean {
  const grew = status.logBytes > live.logBytes;
  const committed = status.head !== null && status.head !== live.head;
  if (grew || committed) {
    live.progressMono = nowMono;
    live.logBytes = Math.max(live.logBytes, status.logBytes);
    live.head = status.head;
  }
  return grew || committed;
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
  live: LiveAttempt,
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
  live: LiveAttempt,
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
  live: LiveAttempt,
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
function writeMark(paths: WorkspacePaths, live: LiveAttempt): void {
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
 * What the provider makes of a running attempt's newly mirrored output: a failure that waiting cannot fix
 * (see ProviderProfile.liveFailure), or null. Only complete lines are judged; a partial one waits.
 */
export function liveFailure(config: Config, live: LiveAttempt, chunk: string): OutputReading['failure'] {
  const cfg = config.providers[live.provider];
  const profile = cfg ? profileFor(cfg.kind) : undefined;
  if (!profile?.liveFailure) return null;
  const text = (live.partialLine ?? '') + chunk;
  const end = text.lastIndexOf('\n') + 1;
  // A line that never ends is not kept without bound: past 64 KiB it is judged as it is.
  const cut = end === 0 && text.length > 65_536 ? text.length : end;
  live.partialLine = text.slice(cut);
  return cut > 0 ? profile.liveFailure(text.slice(0, cut)) : null;
}

/**
 * Captures the attempt's pane (visible screen and scrollback tail) into paths.attemptScreen, redacted, before
 * the session is killed. Returns the file's path relative to the workspace, or null when there was no
 * screen to keep (no session, or the link is down).
 */
export async function saveScreen(
  paths: WorkspacePaths,
  worker: HostPort,
  live: LiveAttempt,
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

/** Reads how an attempt ended, from its log and exit record (crash-on-start needs its times). */
export function readAttemptOutput(
  config: Config,
  provider: string,
  log: string,
  exit: Pick<ExitRecord, 'exitCode'> & Partial<ExitRecord>,
): OutputReading {
  const cfg = config.providers[provider];
  if (!cfg) return { completed: false, result: null, usage: null, failure: null };
  if (exit.runnerFailed === true) {
    // The executor never ran: whatever its exit looks like, neither the provider nor the spec is at fault.
    const why = lastLine(log);
    return {
      completed: false,
      result: null,
      usage: null,
      failure: {
        code: 'launch-failed',
        attribution: 'worker',
        reason: why || 'the runner failed before the executor started',
      },
    };
  }
  const started = Date.parse(exit.startedAt ?? '');
  const ended = Date.parse(exit.endedAt ?? '');
  // The setup hooks' output is not the executor's: its reading starts after them.
  return readAttempt(cfg, executorOutput(log), {
    exitCode: exit.exitCode,
    durationMs: Number.isFinite(started) && Number.isFinite(ended) ? Math.max(0, ended - started) : null,
    committed: typeof exit.committed === 'boolean' ? exit.committed : null,
  });
}
