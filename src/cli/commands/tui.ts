/**
 * The full-screen TUI for a workspace (`nightshift` with no arguments). Loaded on demand so the other
 * commands never pay for React and Ink. Resolves when the person quits; the daemon keeps running.
 */
import { existsSync } from 'node:fs';
import nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';
import type { startTui } from '../../tui/app/run.js';
import type { CommandContext } from '../context.js';

type TuiModule = { startTui: typeof startTui };

/**
 * The TUI bundled in one file by `npm run build` (scripts/bundle-tui.js): one file to load instead of
 * ~1,100 modules, and Ink's output stage swapped for src/tui/ink/. Built for production only.
 */
const BUNDLE = new URL('../../tui-bundle/run.js', import.meta.url);

export async function runTui(ctx: CommandContext, opts: { readOnly: boolean }): Promise<void> {
  const { startTui } = await loadTui();
  await startTui({
    root: ctx.workspaceRoot(),
    clock: ctx.io.clock,
    env: ctx.io.env,
    readOnly: opts.readOnly,
  });
}

/**
 * Loads the TUI with the environment its libraries read once, at load time, set for a person at a
 * terminal; the variables are restored right after, so the daemon, tmux and pagers the TUI starts never
 * inherit the change.
 * - NODE_ENV: React and its reconciler choose their build from it, and left unset they load the
 *   development build, which since React 19.2 records every component render with performance.measure():
 *   Node keeps those entries until someone clears them, about 90 KiB a frame, hundreds of MiB an hour while
 *   the Executor tab streams. Set to `production` unless the person set it.
 * - CI and CONTINUOUS_INTEGRATION: with either set, Ink (through is-in-ci) draws nothing until the app
 *   exits, so a TUI started from a CI job, or from a shell that exported CI=true, shows a blank screen.
 *   The TUI only runs on a terminal (startTui refuses otherwise), so Ink's CI mode is never wanted here.
 * The bundle is loaded when NODE_ENV is production (by default, then) and it has been built; otherwise
 * (a development NODE_ENV, tests run from src/) the modules as compiled, with Ink as it ships.
 */
export async function loadTui(): Promise<TuiModule> {
  const saved = new Map<string, string | undefined>();
  const set = (name: string, value: string | undefined) => {
    saved.set(name, process.env[name]);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  if (process.env['NODE_ENV'] === undefined) set('NODE_ENV', 'production');
  for (const name of ['CI', 'CONTINUOUS_INTEGRATION']) if (name in process.env) set(name, undefined);
  // Node 22.1+ keeps compiled code on disk for the next start (the bundle's compile is ~0.1 s of the
  // first frame); Node 20 has no such call.
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  try {
    if (process.env['NODE_ENV'] === 'production' && existsSync(fileURLToPath(BUNDLE)))
      return (await import(BUNDLE.href)) as TuiModule;
    return await import('../../tui/app/run.js');
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
