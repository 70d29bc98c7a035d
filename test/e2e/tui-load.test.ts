/**
 * How the built CLI loads the TUI: React's production build and Ink out of its CI mode, with the
 * environment given back afterwards. Each case runs in a fresh node process, since both choices are made
 * once, when the libraries are first loaded. By default the TUI comes from the bundle, which carries
 * React inside it: that React must be the production build. The bundle is compiled with V8's code
 * cache, kept in the user's cache directory: written once, used after, rewritten when V8 refuses it.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { OURS, UPSTREAM, UPSTREAM_DIR, patchInk } from '../../scripts/patch-ink.js';

const TUI = fileURLToPath(new URL('../../dist/cli/commands/tui.js', import.meta.url));
const BUNDLE_DIR = fileURLToPath(new URL('../../dist/tui-bundle/', import.meta.url));
/** ink/build/ as the tests resolve it: patched (test/setup/ink.ts), with Ink's originals beside it. */
const INK_BUILD = path.dirname(createRequire(import.meta.url).resolve('ink'));

interface Loaded {
  /** React's CommonJS builds that were loaded from node_modules (package/cjs/file). */
  builds: string[];
  /** Where loadTui took the TUI from. */
  from: 'bundle' | 'modules';
  /** The bundle's code cache, as loadTui found it. */
  cache: 'used' | 'rejected' | 'none' | 'off';
  /** Whether startTui is a function. */
  started: boolean;
  /** is-in-ci as Ink saw it. */
  inkInCi: boolean;
  /** The environment after loadTui returned. */
  env: Record<string, string | null>;
}

/** A cache directory of the test's own (XDG_CACHE_HOME), so no test reads or writes the real one. */
const CACHE_HOME = mkdtempSync(path.join(os.tmpdir(), 'ns-tui-cache-'));
afterAll(() => rmSync(CACHE_HOME, { recursive: true, force: true }));

function load(env: Record<string, string | undefined>, { save = false } = {}): Loaded {
  const script = `
    import { createRequire } from 'node:module';
    const { loadTui } = await import(${JSON.stringify(TUI)});
    const tui = await loadTui();
    if (${save}) tui.saveCache();
    const require = createRequire(${JSON.stringify(TUI)});
    // Node's ESM loader puts unloaded entries in the cache when it scans index.js for exports: only loaded ones count.
    const builds = Object.entries(require.cache)
      .filter(([f, m]) => m.loaded && /react[^/]*[.](production|development)[.]js$/.test(f))
      .map(([f]) => f.split('/').slice(-3).join('/'));
    // The bundle carries its own is-in-ci; the modules use Ink's.
    const inkInCi = tui.inkInCi ?? (await import(require.resolve('is-in-ci', { paths: [require.resolve('ink')] }))).default;
    const pick = (n) => process.env[n] ?? null;
    console.log(JSON.stringify({ builds, from: tui.from, cache: tui.cache, started: typeof tui.startTui === 'function',
      inkInCi, env: { NODE_ENV: pick('NODE_ENV'), CI: pick('CI'), CONTINUOUS_INTEGRATION: pick('CONTINUOUS_INTEGRATION') } }));
  `;
  const base: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: CACHE_HOME };
  for (const name of ['NODE_ENV', 'CI', 'CONTINUOUS_INTEGRATION']) delete base[name];
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...base, ...env },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Loaded;
}

/** The bundle's JavaScript (every chunk). */
function bundleText(): string {
  return readdirSync(BUNDLE_DIR)
    .filter((f) => f.endsWith('.cjs'))
    .map((f) => readFileSync(path.join(BUNDLE_DIR, f), 'utf8'))
    .join('\n');
}

describe('loading the TUI', () => {
  it('loads the bundle with React in production and Ink outside CI mode on a CI runner, then restores the environment', () => {
    const loaded = load({ CI: 'true', CONTINUOUS_INTEGRATION: '1' });
    // The bundled TUI, with its own React: none from node_modules.
    expect(loaded.from).toBe('bundle');
    expect(loaded.started).toBe(true);
    expect(loaded.builds).toEqual([]);
    expect(loaded.inkInCi).toBe(false);
    expect(loaded.env).toEqual({ NODE_ENV: null, CI: 'true', CONTINUOUS_INTEGRATION: '1' });
  });

  it('keeps a NODE_ENV the person set', () => {
    const loaded = load({ NODE_ENV: 'development' });
    expect(loaded.from).toBe('modules');
    expect(loaded.inkInCi).toBe(false);
    expect(loaded.builds.some((b) => b.includes('.development.'))).toBe(true);
    expect(loaded.env.NODE_ENV).toBe('development');
  });
});

describe("the bundle's code cache", () => {
  it('is written once, used by the next start, and rewritten when V8 refuses it', () => {
    const dir = path.join(CACHE_HOME, 'nightshift');
    rmSync(dir, { recursive: true, force: true });
    const caches = () => readdirSync(dir).filter((f) => f.endsWith('.v8cache'));
    expect(load({}, { save: true })).toMatchObject({ from: 'bundle', cache: 'none', started: true });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(caches()).toHaveLength(1);
    const file = path.join(dir, caches()[0]!);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(load({})).toMatchObject({ from: 'bundle', cache: 'used', started: true });
    // A cache that is not V8's (a torn write, another build's): refused, the TUI loads all the same,
    // and the next save replaces it.
    writeFileSync(file, Buffer.alloc(4096, 7));
    expect(load({}, { save: true })).toMatchObject({ from: 'bundle', cache: 'rejected', started: true });
    expect(load({})).toMatchObject({ cache: 'used' });
  });

  it('is not kept in a cache directory that others can write to', () => {
    const dir = path.join(CACHE_HOME, 'nightshift');
    chmodSync(dir, 0o777);
    try {
      expect(load({}, { save: true })).toMatchObject({ from: 'bundle', cache: 'off', started: true });
    } finally {
      chmodSync(dir, 0o700);
    }
  });
});

describe('the bundle', () => {
  // Strings only React's production builds carry (their minified errors link to react.dev/errors), and
  // strings only the development builds carry (warnings, and the per-render performance tracks).
  it('carries the production builds of React and its reconciler, not the development ones', () => {
    const text = bundleText();
    expect(text).toContain('https://react.dev/errors/');
    expect(text).not.toContain('should have a unique "key" prop');
    expect(text).not.toContain('performance.measure(');
    expect(text).not.toMatch(/react(-reconciler)?[.]development/);
  });

  // A vm.Script compiled from V8's code cache has no dynamic-import hook in Node 20: the Executor tab's
  // live view would fail to load node-pty ("A dynamic import callback was not specified").
  it('has no import(): node-pty is required', () => {
    const text = bundleText();
    expect(text).not.toMatch(/(?<![\w$.])import\(/);
    expect(text).toMatch(/require\((["'`])node-pty\1\)/);
  });
});

describe('the patched Ink of an installed package', () => {
  // Installed from the registry or by npx, nightshift has dist/ but neither src/ nor typescript: its
  // postinstall patches Ink from dist/tui/ink/. The result must be the Ink the tests run (from src/).
  it('is made from dist/ the same as from src/ in a checkout', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'ns-installed-'));
    try {
      const inkDir = path.join(root, 'node_modules', 'ink');
      const build = path.join(inkDir, 'build');
      mkdirSync(path.join(root, 'dist', 'tui'), { recursive: true });
      mkdirSync(build, { recursive: true });
      cpSync(
        fileURLToPath(new URL('../../dist/tui/ink', import.meta.url)),
        path.join(root, 'dist', 'tui', 'ink'),
        {
          recursive: true,
        },
      );
      copyFileSync(path.join(INK_BUILD, '..', 'package.json'), path.join(inkDir, 'package.json'));
      for (const file of Object.keys(UPSTREAM))
        copyFileSync(path.join(INK_BUILD, UPSTREAM_DIR, file), path.join(build, file));
      expect(existsSync(path.join(root, 'src'))).toBe(false);
      await patchInk(build, root);
      for (const name of [...OURS, 'reconciler', 'render-node-to-output'])
        expect(readFileSync(path.join(build, `${name}.js`), 'utf8'), name).toBe(
          readFileSync(path.join(INK_BUILD, `${name}.js`), 'utf8'),
        );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
