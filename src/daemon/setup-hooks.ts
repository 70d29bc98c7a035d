/**
 * The repos' setup hooks as the daemon sees them (docs/integrations.md#setup-hooks): what a runner's exit
 * record says of them becomes a failure blamed on the repo's setup or the worker (hook-failed,
 * hook-timeout: no attempt of the spec is used), a repo whose hooks fail again and again has its tasks
 * held back (`hook-failing`) until the config is reloaded, and the afterCreate cache entry each host
 * last stored is remembered, so a runner restores only that very tree.
 */
import type { Clock } from '../lib/clock.js';
import type { Config } from '../config/schema.js';
import type { FailureCode } from '../core/failures.js';
import { cacheNoteOf, hookExitOf, type HookExit } from '../hosts/hooks.js';
import type { ExitRecord } from '../hosts/worker-types.js';

/** This many hook failures in a row for one repo, with no attempt between that got past its hooks. */
export const HOOK_FAILING_AFTER = 3;

/** A repo's run of hook failures. */
export interface HookStreak {
  failures: number;
  /** Wall-clock ms of the first failure of the run. */
  since: number;
  last: string;
}

/** The streak after one attempt: a hook failure lengthens it, an attempt past its hooks ends it. */
export function noteHookOutcome(
  streak: HookStreak | null,
  outcome: { ok: true } | { ok: false; reason: string; now: number },
): HookStreak | null {
  if (outcome.ok) return null;
  return {
    failures: (streak?.failures ?? 0) + 1,
    since: streak?.since ?? outcome.now,
    last: outcome.reason,
  };
}

/**
 * Why `repo`'s tasks wait, or null: after `limit` hook failures in a row its tasks would only burn the
 * night on a setup that does not work, so none starts until the config is reloaded (time alone does not
 * lift it: nothing about the hook changed).
 */
export function hookFailingReason(
  repo: string,
  streak: HookStreak | null,
  limit = HOOK_FAILING_AFTER,
): string | null {
  if (!streak || streak.failures < limit) return null;
  return `hook-failing: the setup hooks of repo ${repo} failed ${streak.failures} times in a row since ${new Date(streak.since).toISOString()} (last: ${streak.last}); fix repos.${repo}.hooks in nightshift.config.yaml or the worker, then \`nightshift reload\``;
}

/** The failure a hook's exit record stands for, its reason naming the repo, the hook, the host and the fix. */
export function hookFailure(
  hook: HookExit,
  at: { repo: string; host: string; taskId: string; attempt: number },
  config: Config,
): { code: FailureCode; reason: string } {
  const cfg = config.repos[at.repo]?.hooks[hook.name];
  const what =
    hook.outcome === 'timeout'
      ? `timed out after ${cfg?.timeout ?? 'its timeout'}`
      : `failed with exit ${hook.exitCode}`;
  return {
    code: hook.outcome === 'timeout' ? 'hook-timeout' : 'hook-failed',
    reason: `the ${hook.name} hook of repo ${at.repo} ${what} on ${at.host}, so the executor did not start (no attempt used): see logs/${at.taskId}/attempt-${at.attempt}.log, and fix repos.${at.repo}.hooks.${hook.name} or the host`,
  };
}

export class SetupHooks {
  private readonly streaks = new Map<string, HookStreak>();
  /** "<host>\0<repo>" → the cache entry ("<key>:<digest>") a runner there last stored or restored. */
  private readonly caches = new Map<string, string>();

  constructor(private readonly deps: { config: Config; clock: Clock; log: (line: string) => void }) {}

  /** What a runner with the repo's hooks needs: the config and the cache entry trusted on `host`. */
  launchHooks(host: string, repo: string) {
    const config = this.deps.config.repos[repo]?.hooks;
    if (!config || (!config.afterCreate && !config.beforeRun && !config.afterRun)) return undefined;
    return { config, cacheExpect: this.caches.get(`${host}\0${repo}`) ?? null };
  }

  /**
   * Reads the hooks' part of an exit record: remembers the cache entry, moves the repo's streak, and
   * returns the failure when a hook stopped the attempt.
   */
  collected(
    at: { repo: string; host: string; taskId: string; attempt: number },
    exit: ExitRecord,
  ): { code: FailureCode; reason: string } | null {
    const cache = cacheNoteOf(exit.cache);
    if (cache) this.caches.set(`${at.host}\0${at.repo}`, cache.entry);
    const hook = hookExitOf(exit.hook);
    if (!this.launchHooks(at.host, at.repo) && !hook) return null;
    const failure = hook ? hookFailure(hook, at, this.deps.config) : null;
    const before = this.streaks.get(at.repo) ?? null;
    const after = noteHookOutcome(
      before,
      failure ? { ok: false, reason: failure.reason, now: this.deps.clock.now() } : { ok: true },
    );
    if (after) this.streaks.set(at.repo, after);
    else this.streaks.delete(at.repo);
    const held = hookFailingReason(at.repo, after);
    if (held && !hookFailingReason(at.repo, before)) this.deps.log(held);
    return failure;
  }

  /** Why the tasks of `repo` wait, or null. */
  held(repo: string): string | null {
    return hookFailingReason(repo, this.streaks.get(repo) ?? null);
  }

  /** A reload: the hooks may be fixed, so every repo gets its chance again. */
  reset(): void {
    this.streaks.clear();
  }
}
