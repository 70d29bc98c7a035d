/**
 * Preflight probes: the exact executor command and environment the provider would run with, given a
 * tiny prompt that must come back within a short timeout. Run through the same runner script as a
 * real attempt (so PATH, HOME, the env file and token substitution are identical), synchronously,
 * under coreutils `timeout` on the host so a hung agent dies there too. The agent works in a temporary
 * git repository the probe creates and removes, never in a directory some other repository encloses.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { coerceError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import type { ProviderConfig } from '../config/schema.js';
import { envFileText } from '../hosts/quote.js';
import type { WorkerHost } from '../hosts/worker.js';
import { newNonce, probePrompt, profileFor, resolveSecrets } from './index.js';
import type { LaunchContext, ProbeVerdict } from './types.js';

export interface ProbeOutcome extends ProbeVerdict {
  provider: string;
  host: string;
  durationMs: number;
}

/**
 * The scripted agent's name on a host, under <workdir>/bin. It is an ES module copied there alone (no
 * package.json beside it): `.mjs` makes node read it as one on any version, without module detection.
 */
export const SCRIPTED_AGENT_FILE = 'scripted-agent.mjs';

/** The scripted agent shipped with nightshift (one self-contained file). */
export function scriptedAgentSource(): string {
  return readFileSync(new URL('../../dist/providers/scripted-agent.js', import.meta.url), 'utf8');
}

/** Installs the scripted agent on a host that lacks it (or has an older copy). */
export async function ensureScriptedAgent(worker: Pick<WorkerHost, 'dir' | 'installFile'>): Promise<string> {
  const file = worker.dir('bin', SCRIPTED_AGENT_FILE);
  await worker.installFile(file, scriptedAgentSource(), '755');
  return file;
}

export function launchContext(
  worker: Pick<WorkerHost, 'dir' | 'info'>,
  provider: string,
  taskId: string,
  attempt: number,
  dir: string,
): LaunchContext {
  return {
    taskId,
    attempt,
    worktree: dir,
    stateDir: worker.dir('state', provider),
    sessionId: randomUUID(),
    scriptedAgent: worker.dir('bin', SCRIPTED_AGENT_FILE),
    root: worker.info.uid === 0,
  };
}

export async function runProbe(
  worker: WorkerHost,
  provider: string,
  cfg: ProviderConfig,
  env: NodeJS.ProcessEnv,
): Promise<ProbeOutcome> {
  const started = performance.now();
  const done = (v: ProbeVerdict): ProbeOutcome => ({
    ...v,
    provider,
    host: worker.name,
    durationMs: performance.now() - started,
  });
  const timeoutMs = parseDuration(cfg.probeTimeout) ?? 60_000;
  const dir = worker.dir('tasks', `.probe-${provider}-${randomBytes(4).toString('hex')}`);
  try {
    const profile = profileFor(cfg.kind);
    const secrets = resolveSecrets(provider, cfg, env);
    if (cfg.kind === 'scripted') await ensureScriptedAgent(worker);
    const nonce = newNonce();
    // The probe's worktree is a throw-away repository of its own (removed with `dir`): the runner
    // commits what an agent leaves behind, and it must never find the repository that encloses the
    // workspace (a user's clone) instead.
    const worktree = path.posix.join(dir, 'worktree');
    const ctx = launchContext(worker, provider, 'probe', 1, worktree);
    const cmd = profile.buildProbe(cfg, ctx, secrets, nonce);
    await worker.runner.run(['mkdir', '-p', '-m', '700', dir, ctx.stateDir], { check: true });
    await worker.runner.run(['git', 'init', '-q', worktree], { check: true });
    await worker.writeFile(path.posix.join(dir, 'prompt.md'), `${cmd.prompt ?? probePrompt(nonce)}\n`);
    await worker.writeFile(path.posix.join(dir, 'env'), envFileText(cmd.env, cmd.secretKeys));
    const seconds = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
    const facts = worker.info;
    const r = await worker.runner.run(
      [
        'timeout',
        '-k',
        '5',
        seconds,
        'env',
        '-i',
        `PATH=${facts.path}`,
        `HOME=${facts.home}`,
        'LANG=C.UTF-8',
        'sh',
        worker.dir('run.sh'),
        dir,
        worktree,
        '1',
        cmd.stdin,
        '--',
        ...cmd.argv,
      ],
      { timeoutMs: timeoutMs + 15_000 },
    );
    const timedOut = r.timedOut || r.exitCode === 124 || r.exitCode === 137;
    return done(
      profile.judgeProbe(
        { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, timedOut, timeoutMs },
        nonce,
      ),
    );
  } catch (err) {
    return done({ ok: false, reason: coerceError(err).describe() });
  } finally {
    await worker.runner.run(['rm', '-rf', dir]).catch(() => undefined);
  }
}
