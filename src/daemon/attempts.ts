/**
 * Running attempts on hosts: launch one, watch its liveness signals (pane alive, log growth, new
 * commits), and read how it ended. Its output on our side (the mirrored log, the last screen) is
 * log-mirror.ts.
 */
import type { TaskRecord } from '../core/task.js';
import type { WorkspacePaths } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { resumeSessionFor } from './resume.js';
import { localLog, type MirroredLog } from './log-mirror.js';
import type { AttemptStatus, ExitRecord } from '../hosts/worker.js';
import type { LaunchSpec } from '../hosts/worker-types.js';
import { executorOutput } from '../hosts/hooks.js';
import type { HostPort } from './host-port.js';
import { fitPrompt, profileFor, readAttempt, resolveSecrets } from '../providers/index.js';
import { lastLine } from '../providers/failures.js';
import { ensureScriptedAgent, launchContext } from '../providers/probe.js';
import type { OutputReading } from '../providers/types.js';

export interface LiveAttempt extends MirroredLog {
  provider: string;
  host: string;
  repo: string;
  /** Monotonic ms when the attempt started (or was adopted). */
  startedMono: number;
  /** Monotonic ms of the last sign of progress. */
  progressMono: number;
  head: string | null;
  /** Consecutive polls that found neither a session nor exit.json. */
  missing: number;
  /** A kill is under way; ignore further signals. */
  ending: boolean;
  /** The mirrored output's last line while it is incomplete (for the provider's live check). */
  partialLine?: string;
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
