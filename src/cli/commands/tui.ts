/**
 * The full-screen TUI for a workspace (`nightshift` with no arguments). Loaded on demand so the other
 * commands never pay for React and Ink. Resolves when the person quits; the daemon keeps running.
 */
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import nodeModule, { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import type { startTui } from '../../tui/app/run.js';
import type { CommandContext } from '../context.js';

export interface LoadedTui {
  startTui: typeof startTui;
  /** Where the TUI came from: the bundle, or the modules as compiled. */
  from: 'bundle' | 'modules';
  /** The bundle's code cache: used, rejected by V8 (stale), absent, or not kept (no cache directory). */
  cache: 'used' | 'rejected' | 'none' | 'off';
  /** Writes the code cache for the next start, if this one had none that V8 took. */
  saveCache(): void;
  /** Whether Ink, as loaded, thinks it runs in CI (the bundle's own copy; null for the modules). */
  inkInCi: boolean | null;
}

/**
 * The TUI bundled in one CommonJS file by `npm run build` (scripts/bundle-tui.js): one file to load instead
 * of ~1,100 modules, built from the installed Ink that scripts/patch-ink.js patched (as the unbundled
 * modules use it). Built for production only.
 */
const BUNDLE = fileURLToPath(new URL('../../tui-bundle/run.cjs', import.meta.url));

/**
 * When the code cache is written: this long after start, once the first frames have compiled what they
 * need, or at quit if that comes first.
 */
const SAVE_CACHE_AFTER_MS = 2000;

export async function runTui(ctx: CommandContext, opts: { readOnly: boolean }): Promise<void> {
  const loading = { at: performance.now(), cpu: process.cpuUsage() };
  const tui = await loadTui();
  const logFile = ctx.io.env['NIGHTSHIFT_TUI_LOG'];
  if (logFile) {
    try {
      // performance.now() counts from the process's start, process.cpuUsage() is the CPU time since then.
      const cpu = (u: NodeJS.CpuUsage) => Math.round((u.user + u.system) / 1000);
      const now = performance.now();
      appendFileSync(
        logFile,
        `${new Date().toISOString()} tui from the ${tui.from}, code cache ${tui.cache} (loaded from ${Math.round(loading.at)} ms to ${Math.round(now)} ms after the process started; CPU ${cpu(loading.cpu)} ms before, ${cpu(process.cpuUsage(loading.cpu))} ms loading)\n`,
      );
    } catch {
      /* a debug log must never stop the TUI */
    }
  }
  const timer = setTimeout(() => tui.saveCache(), SAVE_CACHE_AFTER_MS);
  timer.unref();
  try {
    await tui.startTui({
      root: ctx.workspaceRoot(),
      clock: ctx.io.clock,
      env: ctx.io.env,
      readOnly: opts.readOnly,
    });
  } finally {
    clearTimeout(timer);
    tui.saveCache();
  }
}

/**
 * Where the bundle's code cache lives: $XDG_CACHE_HOME/nightshift, else ~/.cache/nightshift, made 0700.
 * Null when there is no such directory to be had (the cache is an optimisation, never a requirement).
 */
function cacheDir(env: NodeJS.ProcessEnv): string | null {
  const base = env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
  const dir = path.join(base, 'nightshift');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    // Code from the cache runs as this user: only a directory of this user's that no one else can write.
    if (st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) return null;
    return dir;
  } catch {
    return null;
  }
}

/**
 * Loads the bundle as a vm.Script with V8's code cache: with the cache, V8 skips parsing and compiling
 * what the last start compiled (Node 20 keeps no code cache for ES modules, hence a CommonJS bundle).
 * The cache is named by the bundle's hash, Node's version and the platform, so a new build or Node never
 * meets an old cache; V8 also checks it, and a cache it rejects is rewritten.
 */
function loadBundle(): LoadedTui {
  const source = readFileSync(BUNDLE, 'utf8');
  const dir = cacheDir(process.env);
  const key = createHash('sha256')
    .update(`${process.version} ${process.arch} ${process.platform}\n`)
    .update(source)
    .digest('hex')
    .slice(0, 24);
  const file = dir ? path.join(dir, `tui-${key}.v8cache`) : null;
  let cachedData: Buffer | undefined;
  try {
    if (file) cachedData = readFileSync(file);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: BUNDLE,
    // No importModuleDynamically: compiled from the cache, a script loses it in Node 20, so the bundle
    // has no import() (scripts/bundle-tui.js checks) and loads node-pty with require().
    ...(cachedData ? { cachedData } : {}),
  });
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} as Record<string, unknown> };
  wrapper.call(module.exports, module.exports, createRequire(BUNDLE), module, BUNDLE, path.dirname(BUNDLE));
  const cache = !file ? 'off' : !cachedData ? 'none' : script.cachedDataRejected ? 'rejected' : 'used';
  let saved = cache === 'used' || cache === 'off';
  return {
    startTui: module.exports['startTui'] as typeof startTui,
    from: 'bundle',
    cache,
    inkInCi: module.exports['inkInCi'] === true,
    saveCache() {
      if (saved || !file || !dir) return;
      saved = true;
      try {
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        chmodSync(tmp, 0o600);
        renameSync(tmp, file);
        // Caches of other builds or Node versions are of no more use.
        for (const other of readdirSync(dir))
          if (/^tui-[0-9a-f]+\.v8cache$/.test(other) && path.join(dir, other) !== file)
            rmSync(path.join(dir, other), { force: true });
      } catch {
        /* an optimisation: the next start compiles the bundle again */
      }
    },
  };
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
export async function loadTui(): Promise<LoadedTui> {
  const saved = new Map<string, string | undefined>();
  const set = (name: string, value: string | undefined) => {
    saved.set(name, process.env[name]);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  if (process.env['NODE_ENV'] === undefined) set('NODE_ENV', 'production');
  for (const name of ['CI', 'CONTINUOUS_INTEGRATION']) if (name in process.env) set(name, undefined);
  // Node 22.1+ keeps compiled code of the modules on disk for the next start; Node 20 has no such call
  // (the bundle has its own cache, see loadBundle).
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  try {
    if (process.env['NODE_ENV'] === 'production' && existsSync(BUNDLE)) return loadBundle();
    const { startTui } = await import('../../tui/app/run.js');
    return { startTui, from: 'modules', cache: 'off', saveCache: () => undefined, inkInCi: null };
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
