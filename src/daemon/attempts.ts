/**
 * Running attempts on hosts: launch one, watch its liveness signals (pane alive, log growth, new
 * commits), mirror its log to logs/<id>/attempt-<n>.log, keep its last screen before a kill
 * (logs/<id>/attempt-<n>.screen.txt), and read how it ended.
 */
import { appendFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TaskRecord } from '../core/task.js';
import type { WorkspacePaths } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { StreamRedactor, type Redactor } from '../lib/redact.js';
import type { AttemptStatus, ExitRecord, WorkerHost } from '../hosts/worker.js';
import { fitPrompt, profileFor, readAttempt, resolveSecrets } from '../providers/index.js';
import { lastLine } from '../providers/failures.js';
import { ensureScriptedAgent, launchContext } from '../providers/probe.js';
import type { OutputReading } from '../providers/types.js';

export interface LiveAttempt {
  taskId: string;
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
}

/**
 * The host side of an attempt: the mirror, the base ref and the worktree on ns/<id> (continuing the
 * branch on a later round). launchAttempt does it, or the supervisor ahead of time (PreparedLaunch).
 */
export async function prepareWorktree(
  deps: LaunchDeps,
  worker: WorkerHost,
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
  worker: WorkerHost,
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
  const cmd = profile.buildRun(cfg, ctx, secrets);
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

/**
 * Copies new log bytes from the host to logs/<id>/attempt-<n>.log, redacted. A tail that could be the
 * start of a secret (or of a UTF-8 character) waits for the next read; `force` (at exit or kill) writes
 * it too. Returns the text appended, or null when nothing was.
 */
export async function mirrorLog(
  paths: WorkspacePaths,
  worker: WorkerHost,
  live: LiveAttempt,
  redact: Redactor,
  /** Read even if the last status showed no growth, and write what is held back (the attempt has ended). */
  force = false,
): Promise<string | null> {
  if (!force && live.logBytes <= live.mirroredBytes && live.mirroredBytes > 0) return null;
  const bytes = await worker.readLogBytes(live.taskId, live.attempt, live.mirroredBytes);
  live.mirroredBytes += bytes.length;
  live.mirror ??= new StreamRedactor(redact);
  const out = live.mirror.push(bytes, force);
  if (out.length === 0) return null;
  const file = paths.attemptLog(live.taskId, live.attempt);
  mkdirSync(path.dirname(file), { recursive: true });
  appendFileSync(file, out, { mode: 0o600 });
  // After the append: a crash between the two repeats bytes at adoption rather than losing them.
  const held = live.mirror.pending;
  writeFileSync(paths.attemptMirrored(live.taskId, live.attempt), `${live.mirroredBytes - held}\n`, {
    mode: 0o600,
  });
  return out.toString('utf8');
}

/**
 * Where mirroring an adopted attempt reads on from: the bytes of the host's log already written to
 * logs/ (held-back bytes are read again). A mirror without its mark (an older daemon's) counts its size.
 */
export function mirroredOffset(paths: WorkspacePaths, taskId: string, attempt: number): number {
  try {
    const n = Number(readFileSync(paths.attemptMirrored(taskId, attempt), 'utf8').trim());
    if (Number.isSafeInteger(n) && n >= 0) return n;
  } catch {
    // no mark: fall through to the mirror's size
  }
  return statSync(paths.attemptLog(taskId, attempt), { throwIfNoEntry: false })?.size ?? 0;
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
  worker: WorkerHost,
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

export function localLog(paths: WorkspacePaths, taskId: string, attempt: number): string {
  try {
    return readFileSync(paths.attemptLog(taskId, attempt), 'utf8');
  } catch {
    return '';
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
  return readAttempt(cfg, log, {
    exitCode: exit.exitCode,
    durationMs: Number.isFinite(started) && Number.isFinite(ended) ? Math.max(0, ended - started) : null,
    committed: typeof exit.committed === 'boolean' ? exit.committed : null,
  });
}
