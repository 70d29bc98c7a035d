/**
 * The tests render with the Ink that ships: node_modules/ink patched by scripts/patch-ink.js (npm's
 * postinstall; test/setup/ink.ts before every run), from which the TUI's bundle is built too. These fail
 * if the tests run a stock Ink, and check the patch itself on a copy of Ink's files.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Text } from 'ink';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import {
  INK_VERSION,
  OURS,
  PatchInkError,
  STAMP,
  UPSTREAM,
  UPSTREAM_DIR,
  inkBuildDir,
  patchInk,
  sha256,
  unpatched,
} from '../../scripts/patch-ink.js';

/** ink/build/ as the tests' own `import 'ink'` resolves it (and ink-testing-library's, beside it). */
const require = createRequire(import.meta.url);
const BUILD = path.dirname(require.resolve('ink'));
const FROM_TESTING_LIBRARY = path.dirname(
  createRequire(require.resolve('ink-testing-library')).resolve('ink'),
);

describe('the Ink the tests run', () => {
  it('is the patched one, from the current src/tui/ink/', async () => {
    expect(FROM_TESTING_LIBRARY).toBe(BUILD);
    expect(inkBuildDir()).toBe(BUILD);
    expect(await unpatched(BUILD)).toEqual([]);
    const stamp = JSON.parse(readFileSync(path.join(BUILD, STAMP), 'utf8')) as { ink: string };
    expect(stamp.ink).toBe(INK_VERSION);
  });

  it("renders through nightshift's output stage, whose caches are bounded", async () => {
    // The very module instance Ink's renderer imports (node_modules is loaded by Node, not vitest).
    const output = (await import(pathToFileURL(path.join(BUILD, 'output.js')).href)) as {
      cacheSizes?: () => { widths: number; lines: number };
      LINE_CACHE_LIMIT?: number;
    };
    expect(typeof output.cacheSizes).toBe('function');
    const before = output.cacheSizes!().lines;
    const unique = `a line no frame has drawn yet ${process.hrtime.bigint()}`;
    const app = render(<Text color="green">{unique}</Text>);
    try {
      expect(app.lastFrame()).toContain(unique);
    } finally {
      app.unmount();
    }
    // Our output stage cached the new line's cells (Ink's own keeps no cache across frames).
    const after = output.cacheSizes!().lines;
    expect(after === before + 1 || after === 1).toBe(true);
    expect(output.LINE_CACHE_LIMIT).toBeGreaterThan(0);
  });

  it('has a reconciler without top-level await (what the CommonJS bundle needs)', () => {
    const reconciler = readFileSync(path.join(BUILD, 'reconciler.js'), 'utf8');
    expect(reconciler).not.toContain("await import('./devtools.js')");
    expect(reconciler).not.toContain('await loadPackageJson()');
    expect(readFileSync(path.join(BUILD, 'render-node-to-output.js'), 'utf8')).toContain(
      "import widestLine from './widest-line.js';",
    );
  });
});

describe('scripts/patch-ink.js', () => {
  let dir: string | null = null;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  /** A copy of the parts of Ink 6.8.0 the patch reads, unpatched. */
  function stockInk(): string {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ns-patch-ink-'));
    const build = path.join(dir, 'node_modules', 'ink', 'build');
    mkdirSync(build, { recursive: true });
    copyFileSync(path.join(BUILD, '..', 'package.json'), path.join(build, '..', 'package.json'));
    for (const file of Object.keys(UPSTREAM))
      copyFileSync(path.join(BUILD, UPSTREAM_DIR, file), path.join(build, file));
    return build;
  }

  it('patches a stock Ink once, then finds nothing to do', async () => {
    const build = stockInk();
    expect((await unpatched(build)).length).toBeGreaterThan(0);
    const written = await patchInk(build);
    for (const name of OURS) expect(written).toContain(`${name}.js`);
    expect(written).toContain('reconciler.js');
    expect(await unpatched(build)).toEqual([]);
    expect(await patchInk(build)).toEqual([]);
    // The same files as the Ink the tests run.
    for (const name of OURS)
      expect(readFileSync(path.join(build, `${name}.js`), 'utf8')).toBe(
        readFileSync(path.join(BUILD, `${name}.js`), 'utf8'),
      );
    expect(sha256(readFileSync(path.join(build, UPSTREAM_DIR, 'output.js'), 'utf8'))).toBe(
      UPSTREAM['output.js'],
    );
  });

  it('refuses an Ink file it does not know, naming it', async () => {
    const build = stockInk();
    writeFileSync(path.join(build, 'reconciler.js'), '// another Ink\n');
    const error = await patchInk(build).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PatchInkError);
    expect((error as Error).message).toContain(path.join(build, 'reconciler.js'));
    expect((error as Error).message).toContain(`Ink ${INK_VERSION}`);
  });

  it('refuses another version of Ink', async () => {
    const build = stockInk();
    const pkg = path.join(build, '..', 'package.json');
    writeFileSync(pkg, JSON.stringify({ name: 'ink', version: '6.9.0' }));
    await expect(patchInk(build)).rejects.toThrow(/is Ink 6\.9\.0; nightshift's patch is for Ink 6\.8\.0/);
  });
});
