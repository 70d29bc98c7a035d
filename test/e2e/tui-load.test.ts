/**
 * How the built CLI loads the TUI: React's production build and Ink out of its CI mode, with the
 * environment given back afterwards. Each case runs in a fresh node process, since both choices are made
 * once, when the libraries are first loaded.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const TUI = fileURLToPath(new URL('../../dist/cli/commands/tui.js', import.meta.url));

interface Loaded {
  /** React's CommonJS builds that were loaded (package/cjs/file). */
  builds: string[];
  /** is-in-ci as Ink saw it. */
  inkInCi: boolean;
  /** The environment after loadTui returned. */
  env: Record<string, string | null>;
}

function load(env: Record<string, string | undefined>): Loaded {
  const script = `
    import { createRequire } from 'node:module';
    const { loadTui } = await import(${JSON.stringify(TUI)});
    await loadTui();
    const require = createRequire(${JSON.stringify(TUI)});
    // Node's ESM loader puts unloaded entries in the cache when it scans index.js for exports: only loaded ones count.
    const builds = Object.entries(require.cache)
      .filter(([f, m]) => m.loaded && /react[^/]*[.](production|development)[.]js$/.test(f))
      .map(([f]) => f.split('/').slice(-3).join('/'));
    const { default: inkInCi } = await import(require.resolve('is-in-ci', { paths: [require.resolve('ink')] }));
    const pick = (n) => process.env[n] ?? null;
    console.log(JSON.stringify({ builds, inkInCi, env: { NODE_ENV: pick('NODE_ENV'), CI: pick('CI'),
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

describe('loading the TUI', () => {
  it('loads React in production and Ink outside CI mode on a CI runner, then restores the environment', () => {
    const loaded = load({ CI: 'true', CONTINUOUS_INTEGRATION: '1' });
    expect(loaded.builds.length).toBeGreaterThan(0);
    expect(loaded.builds.every((b) => b.includes('.production.'))).toBe(true);
    expect(loaded.inkInCi).toBe(false);
    expect(loaded.env).toEqual({ NODE_ENV: null, CI: 'true', CONTINUOUS_INTEGRATION: '1' });
  });

  it('keeps a NODE_ENV the person set', () => {
    const loaded = load({ NODE_ENV: 'development' });
    expect(loaded.builds.some((b) => b.includes('.development.'))).toBe(true);
    expect(loaded.env.NODE_ENV).toBe('development');
  });
});
