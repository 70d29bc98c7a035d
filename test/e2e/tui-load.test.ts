/**
 * How the built CLI loads the TUI: React's production build and Ink out of its CI mode, with the
 * environment given back afterwards. Each case runs in a fresh node process, since both choices are made
 * once, when the libraries are first loaded. By default the TUI comes from the bundle, which carries
 * React inside it: that React must be the production build.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const TUI = fileURLToPath(new URL('../../dist/cli/commands/tui.js', import.meta.url));
const BUNDLE_DIR = fileURLToPath(new URL('../../dist/tui-bundle/', import.meta.url));

interface Loaded {
  /** React's CommonJS builds that were loaded from node_modules (package/cjs/file). */
  builds: string[];
  /** Files of dist/tui-bundle/ that were loaded. */
  bundle: string[];
  /** is-in-ci as Ink saw it. */
  inkInCi: boolean;
  /** The environment after loadTui returned. */
  env: Record<string, string | null>;
}

function load(env: Record<string, string | undefined>): Loaded {
  const script = `
    import { createRequire } from 'node:module';
    const { loadTui } = await import(${JSON.stringify(TUI)});
    const tui = await loadTui();
    const require = createRequire(${JSON.stringify(TUI)});
    // Node's ESM loader puts unloaded entries in the cache when it scans index.js for exports: only loaded ones count.
    const builds = Object.entries(require.cache)
      .filter(([f, m]) => m.loaded && /react[^/]*[.](production|development)[.]js$/.test(f))
      .map(([f]) => f.split('/').slice(-3).join('/'));
    // ES modules are not in require.cache: the bundle was what loadTui loaded if importing it now gives
    // the same module (a fresh load would give another startTui).
    const { existsSync } = await import('node:fs');
    const run = ${JSON.stringify(BUNDLE_DIR)} + 'run.js';
    const bundle = existsSync(run) && (await import(run)).startTui === tui.startTui ? ['run.js'] : [];
    const { default: inkInCi } = await import(require.resolve('is-in-ci', { paths: [require.resolve('ink')] }));
    const pick = (n) => process.env[n] ?? null;
    console.log(JSON.stringify({ builds, bundle, inkInCi, env: { NODE_ENV: pick('NODE_ENV'), CI: pick('CI'),
      CONTINUOUS_INTEGRATION: pick('CONTINUOUS_INTEGRATION') } }));
  `;
  const base = { ...process.env };
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
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(path.join(BUNDLE_DIR, f), 'utf8'))
    .join('\n');
}

describe('loading the TUI', () => {
  it('loads the bundle with React in production and Ink outside CI mode on a CI runner, then restores the environment', () => {
    const loaded = load({ CI: 'true', CONTINUOUS_INTEGRATION: '1' });
    // The bundled TUI, with its own React: none from node_modules.
    expect(loaded.bundle).toEqual(['run.js']);
    expect(loaded.builds).toEqual([]);
    expect(loaded.inkInCi).toBe(false);
    expect(loaded.env).toEqual({ NODE_ENV: null, CI: 'true', CONTINUOUS_INTEGRATION: '1' });
  });

  it('keeps a NODE_ENV the person set', () => {
    const loaded = load({ NODE_ENV: 'development' });
    expect(loaded.bundle).toEqual([]);
    expect(loaded.builds.some((b) => b.includes('.development.'))).toBe(true);
    expect(loaded.env.NODE_ENV).toBe('development');
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
});
