/**
 * The repo's worker-side setup hooks as the runner reads them (sh/hooks-fn.sh): a file of NS_H_* lines
 * staged beside the argv file, from the supervisor's config only (never from the branch). Every value
 * goes through quoteWord; a hook's argv is quoteArgv words, which the runner evals back into words.
 */
import { parseDuration } from '../core/duration.js';
import type { HooksConfig } from '../config/schema.js';
import { envFileText, quoteArgv } from './quote.js';

/**
 * The line run.sh writes to the attempt's log after the setup hooks, as the executor starts: how an
 * attempt ended is read from what follows it (executorOutput), its hooks' output aside.
 */
export const HOOKS_DONE_LINE = 'nightshift: setup hooks done; the executor starts';

/** The executor's part of an attempt's log: after the first HOOKS_DONE_LINE, or all of it without one. */
export function executorOutput(log: string): string {
  const at = log.indexOf(`${HOOKS_DONE_LINE}\n`);
  return at < 0 ? log : log.slice(at + HOOKS_DONE_LINE.length + 1);
}

/** A hook's argv: a string is the operator's own shell line (`sh -c`), as with the gate commands. */
export function hookArgv(command: string | readonly string[]): string[] {
  return typeof command === 'string' ? ['sh', '-c', command] : [...command];
}

/** A hook's timeout in whole seconds (at least 1), as the runner counts it. */
export function hookSeconds(timeout: string): number {
  return Math.max(1, Math.ceil((parseDuration(timeout) ?? 600_000) / 1000));
}

/**
 * The text of <task-dir>/hooks, or null when the repo has no worker-side hook. `cacheDir` is this repo's
 * afterCreate cache on the host; `cacheExpect` the "<key>:<digest>" the supervisor last heard a runner
 * store there (a cache that is not that tree is never restored).
 */
export function hooksFileText(
  hooks: HooksConfig | undefined,
  cache: { dir: string; expect: string | null },
): string | null {
  const vars: Record<string, string> = {};
  const { afterCreate, beforeRun, afterRun } = hooks ?? {};
  if (afterCreate) {
    vars['NS_H_AFTER_CREATE'] = quoteArgv(hookArgv(afterCreate.command));
    vars['NS_H_AFTER_CREATE_T'] = String(hookSeconds(afterCreate.timeout));
    if (afterCreate.cacheKey && afterCreate.cachePaths) {
      vars['NS_H_KEY_FILES'] = quoteArgv(afterCreate.cacheKey);
      vars['NS_H_CACHE_PATHS'] = quoteArgv(afterCreate.cachePaths);
      vars['NS_H_CACHE_DIR'] = cache.dir;
      vars['NS_H_CACHE_EXPECT'] = cache.expect ?? '';
    }
  }
  if (beforeRun) {
    vars['NS_H_BEFORE_RUN'] = quoteArgv(hookArgv(beforeRun.command));
    vars['NS_H_BEFORE_RUN_T'] = String(hookSeconds(beforeRun.timeout));
  }
  if (afterRun) {
    vars['NS_H_AFTER_RUN'] = quoteArgv(hookArgv(afterRun.command));
    vars['NS_H_AFTER_RUN_T'] = String(hookSeconds(afterRun.timeout));
  }
  return Object.keys(vars).length > 0 ? envFileText(vars) : null;
}

/** How a runner's exit record reports a setup hook that stopped the attempt (sh/run.sh). */
export interface HookExit {
  name: 'afterCreate' | 'beforeRun';
  outcome: 'failed' | 'timeout';
  exitCode: number;
}

/** The record's `hook`, checked: a runner's file is read as untrusted text. */
export function hookExitOf(value: unknown): HookExit | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const name = v['name'];
  const outcome = v['outcome'];
  const exitCode = v['exitCode'];
  if (name !== 'afterCreate' && name !== 'beforeRun') return null;
  if (outcome !== 'failed' && outcome !== 'timeout') return null;
  return { name, outcome, exitCode: typeof exitCode === 'number' ? exitCode : -1 };
}

const CACHE_NOTE = /^(stored|restored):([0-9a-f]{64}:[0-9a-f]{64})$/;

/** The record's `cache`, checked: what the runner stored (or restored) as "<key>:<digest>". */
export function cacheNoteOf(value: unknown): { how: 'stored' | 'restored'; entry: string } | null {
  const m = typeof value === 'string' ? CACHE_NOTE.exec(value) : null;
  return m ? { how: m[1] as 'stored' | 'restored', entry: m[2]! } : null;
}
