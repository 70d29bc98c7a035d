// Bundles the TUI (dist/tui/app/run.js, compiled by tsc) into dist/tui-bundle/ (`npm run build` runs
// this after tsc). Why: unbundled, starting the TUI means Node resolving, reading and compiling ~1,100
// modules (~0.9 s of CPU before the first frame); one file with tree-shaking (Ink's `es-toolkit/compat`
// barrel alone is 415 files) takes ~0.3 s. src/cli/commands/tui.ts loads the bundle when it exists and
// NODE_ENV is production (what the TUI runs with by default), else the modules as compiled.
// Four of the modules Ink 6.8 imports are swapped for src/tui/ink/ (see there): its output stage, with
// caches that last across frames; its two text caches, bounded; and widest-line, cached.
// Some packages stay imports of node_modules (see `external`). The Executor tab's live view (node-pty,
// @xterm/headless) is a separate chunk, loaded when a live view first opens.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(DIST, 'tui-bundle');
const INK_BUILD = `${path.sep}node_modules${path.sep}ink${path.sep}build${path.sep}`;
const SWAPS = {
  './output.js': path.join(DIST, 'tui', 'ink', 'output.js'),
  './measure-text.js': path.join(DIST, 'tui', 'ink', 'measure-text.js'),
  './wrap-text.js': path.join(DIST, 'tui', 'ink', 'wrap-text.js'),
  'widest-line': path.join(DIST, 'tui', 'ink', 'widest-line.js'),
};

const swapInkInternals = {
  name: 'nightshift-ink-internals',
  resolveId(source, importer) {
    if (importer?.includes(INK_BUILD) && Object.hasOwn(SWAPS, source)) return SWAPS[source];
    return null;
  },
};

/**
 * yoga-layout's Emscripten loader fetches its embedded wasm with fetch() of a data: URL when fetch
 * exists, which loads Node's undici (~45 ms of the first frame). Its own fallback decodes the same
 * base64 without fetch; this makes it take that path. Fails the build if yoga's loader changes.
 */
const YOGA_WASM = `${path.sep}node_modules${path.sep}yoga-layout${path.sep}dist${path.sep}binaries${path.sep}`;
const YOGA_FETCH = 'function ya(){return w||"function"!=typeof fetch?';
const yogaWithoutFetch = {
  name: 'nightshift-yoga-without-fetch',
  transform(code, id) {
    if (!id.includes(YOGA_WASM)) return null;
    if (code.split(YOGA_FETCH).length !== 2)
      throw new Error(`bundle-tui: yoga-layout's wasm loader changed (${id})`);
    return { code: code.replace(YOGA_FETCH, 'function ya(){return w||!0?'), map: null };
  },
};

rmSync(OUT, { recursive: true, force: true });
await build({
  input: { run: path.join(DIST, 'tui', 'app', 'run.js') },
  platform: 'node',
  // Left to Node: node-pty (native); is-in-ci, which Ink reads once as it loads (loadTui hides CI
  // meanwhile, test/e2e/tui-load.test.ts checks it). React, its reconciler and scheduler are bundled:
  // with NODE_ENV defined as production below only their production builds are included (the same test
  // checks the bundle for it), and Node no longer compiles and scans their CommonJS (~0.1 s).
  external: ['node-pty', 'react-devtools-core', 'is-in-ci'],
  plugins: [swapInkInternals, yogaWithoutFetch],
  // The bundle is only loaded with NODE_ENV=production: Ink's own checks of it are settled here.
  transform: { define: { 'process.env.NODE_ENV': '"production"' } },
  logLevel: 'warn',
  // Minified: less for V8 to parse and compile before the first frame.
  output: {
    minify: true,
    dir: OUT,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
  },
});
