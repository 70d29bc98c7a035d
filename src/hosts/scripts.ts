/**
 * The fixed shell scripts nightshift runs on a host. They are files in ./sh/ (`*.sh`, `*.awk`), checked
 * by shellcheck in `npm run lint` and copied next to the compiled code by `npm run build`; their usage,
 * arguments and exit statuses are documented at the top of each. A script is always sent as a constant:
 * `sh -c <script> sh <args...>`, the data as positional parameters (quoted for ssh by hosts/quote.ts),
 * or, for the files nightshift installs (run.sh, the mirror's hook), written through stdin. No spec text
 * and no config value is ever put into a script's text, except the hook's two parameters, and those only
 * through quoteWord (fillParams).
 *
 * Loading a file:
 * - its header (the comment lines at the top, after a `#!` line, up to the first line that is not a
 *   comment) is dropped: it is documentation, not worth sending on every poll;
 * - a line `. ./<name>.sh # nightshift:include` is replaced by that file, loaded the same way (shellcheck
 *   reads the include as the source it is);
 * - a line `NAME= # nightshift:param` is left for fillParams, which sets NAME to a quoted value.
 */
import { readFileSync } from 'node:fs';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import { HOOKS_DONE_LINE } from './hooks.js';
import { quoteWord } from './quote.js';

const SH_DIR = new URL('./sh/', import.meta.url);

const INCLUDE = /^\. \.\/([a-z0-9-]+\.sh) # nightshift:include$/gm;
const PARAM = /^(\s*)([A-Za-z_][A-Za-z0-9_]*)= # nightshift:param$/gm;

/** Drops the header comment (the shebang stays). */
export function stripHeader(text: string): string {
  const lines = text.split('\n');
  const shebang = lines[0]?.startsWith('#!') ? [lines.shift() ?? ''] : [];
  let i = 0;
  while (i < lines.length && lines[i]?.startsWith('#')) i++;
  return [...shebang, ...lines.slice(i)].join('\n');
}

/** A script file of ./sh/ as it runs: header dropped, includes resolved. */
export function loadScript(name: string, read = readScriptFile, seen: readonly string[] = []): string {
  if (seen.includes(name)) {
    throw new NightshiftError(
      ErrorCode.internal,
      `host script ${name} includes itself (${seen.join(' → ')})`,
    );
  }
  return stripHeader(read(name)).replace(INCLUDE, (_line, inner: string) =>
    loadScript(inner, read, [...seen, name]).replace(/\n$/, ''),
  );
}

function readScriptFile(name: string): string {
  try {
    return readFileSync(new URL(name, SH_DIR), 'utf8');
  } catch (error) {
    throw new NightshiftError(
      ErrorCode.internal,
      `cannot read the host script ${name} in ${SH_DIR.pathname}: ${(error as Error).message}`,
      {
        hint: 'reinstall nightshift, or run `npm run build` in a checkout (it copies src/hosts/sh/ to dist/)',
      },
    );
  }
}

/**
 * Sets every `NAME= # nightshift:param` line of `script` to `NAME='<value>'` (quoteWord): the one way a
 * value reaches a script's text. Each parameter must be given, and each given one must exist.
 */
export function fillParams(script: string, params: Readonly<Record<string, string>>): string {
  const used = new Set<string>();
  const filled = script.replace(PARAM, (_line, indent: string, name: string) => {
    const value = params[name];
    if (value === undefined) {
      throw new NightshiftError(ErrorCode.internal, `host script parameter ${name} was not given`);
    }
    used.add(name);
    return `${indent}${name}=${quoteWord(value)}`;
  });
  const unknown = Object.keys(params).filter((k) => !used.has(k));
  if (unknown.length > 0) {
    throw new NightshiftError(ErrorCode.internal, `host script has no parameter ${unknown.join(', ')}`);
  }
  return filled;
}

/** The tmux wait-for channel every runner signals as it ends (run.sh; WorkerHost.waitForExit). */
export const EXIT_CHANNEL = 'nightshift-exit';

/** The runner's output filter (sh/redact.awk): replaces the values of the secret variables. */
export const REDACT_AWK = loadScript('redact.awk');

/** The runner (sh/run.sh), installed as <workdir>/run.sh: starts one executor attempt inside tmux. */
export const RUN_SH = fillParams(loadScript('run.sh'), {
  NS_REDACT_AWK: REDACT_AWK,
  HOOKS_DONE: HOOKS_DONE_LINE,
});

/** ns_reap and its helpers (sh/reap-fn.sh), as run.sh and REAP_SH include them. */
export const REAP_FN = loadScript('reap-fn.sh');

/** `sh -c REAP_SH sh <task-dir> <attempt>` (sh/reap.sh): kills what an attempt left alive. */
export const REAP_SH = loadScript('reap.sh');

/** ns_tmux (sh/tmux-fn.sh): Tmux.base() spelled in shell, for the scripts that run tmux. */
export const TMUX_FN = loadScript('tmux-fn.sh');

/**
 * `sh -c AFTER_RUN_SH sh <task-dir> <worktree> <attempt> <hook words> <seconds>` (sh/after-run.sh): the
 * repo's afterRun hook for an attempt the supervisor ended, after its session is killed.
 */
export const AFTER_RUN_SH = loadScript('after-run.sh');

/** `sh -c WORKTREE_SH sh <mirror> <worktree> <id> <always|descendant>` (sh/worktree.sh). */
export const WORKTREE_SH = loadScript('worktree.sh');

/** Stages an attempt's files and starts its tmux session in one round trip (sh/stage.sh). */
export const STAGE_SH = loadScript('stage.sh');
/** STAGE_SH's exit status when the session's executor is still running. */
export const STAGE_BUSY = 75;
/** STAGE_SH's exit status when the files are staged but tmux could not start the session. */
export const STAGE_NO_SESSION = 76;
/** STAGE_SH's exit status when it could not record the mirror's protected refs (nothing was started). */
export const STAGE_NO_RECORD = 77;
/** STAGE_SH's exit status when the tmux server holds variables nightshift did not give it (nothing staged). */
export const STAGE_FOREIGN_SERVER = 78;

/** The liveness of several attempts in one round trip (sh/status.sh). */
export const STATUS_SH = loadScript('status.sh');

/** Checks and restores the mirror's protected refs after an attempt (sh/moved.sh). */
export const MOVED_SH = loadScript('moved.sh');

/** `sh -c LOAD_SH sh <workdir>`: load average, cores, MemAvailable, free disk (sh/load.sh). */
export const LOAD_SH = loadScript('load.sh');

const REF_GUARD = loadScript('ref-guard.sh');

/**
 * The reference-transaction hook for the host's bare mirror (sh/ref-guard.sh): refuses any update of the
 * protected refs and records who tried, so the supervisor can fail the task as main-touched.
 */
export function refGuardHook(mirror: string, mainBranches: readonly string[]): string {
  const bad = mainBranches.find((b) => /\s/.test(b) || b === '');
  if (bad !== undefined) {
    throw new NightshiftError(ErrorCode.invalidConfig, `not a branch name: ${JSON.stringify(bad)}`);
  }
  return fillParams(REF_GUARD, {
    MIRROR: mirror,
    PROTECTED: mainBranches.map((b) => `refs/heads/${b}`).join(' '),
  });
}
