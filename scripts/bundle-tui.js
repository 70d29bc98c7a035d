// Bundles the TUI (dist/tui/app/run.js, compiled by tsc, through scripts/tui-entry.js) into
// dist/tui-bundle/ (`npm run build` runs this after tsc). Why: unbundled, starting the TUI means Node
// resolving, reading and compiling ~1,100 modules (~0.9 s of CPU before the first frame); one file with
// tree-shaking (Ink's `es-toolkit/compat` barrel alone is 415 files) takes ~0.3 s. src/cli/commands/tui.ts
// loads the bundle when it exists and NODE_ENV is production (what the TUI runs with by default), else the
// modules as compiled.
// The bundle is CommonJS so that loadTui can compile it as a vm.Script with V8's code cache (Node 20 has
// no code cache for ES modules): CommonJS has no top-level await, so the two that Ink's modules have are
// patched out (see noTopLevelAwait).
// Four of the modules Ink 6.8 imports are swapped for src/tui/ink/ (see there): its output stage, with
// caches that last across frames; its two text caches, bounded; and widest-line, cached.
// Some packages stay imports of node_modules (see `external`). The Executor tab's live view (node-pty,
// @xterm/headless) is a separate chunk, loaded when a live view first opens.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
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

/**
 * The two top-level awaits in what the bundle holds, gone (the build fails if either file changes):
 * - yoga-layout awaits its WebAssembly as it loads. Here it starts loading it and exports `yogaReady`,
 *   which scripts/tui-entry.js awaits before starting the TUI; Ink only calls yoga from then on.
 * - Ink's reconciler awaits React DevTools and its own package.json when DEV=true. The bundle is a
 *   production build: that debugging hook is left to the unbundled modules (NODE_ENV=development).
 */
const YOGA_INDEX = `${path.sep}node_modules${path.sep}yoga-layout${path.sep}dist${path.sep}src${path.sep}index.js`;
const YOGA_AWAIT = 'const Yoga = wrapAssembly(await loadYoga());\nexport default Yoga;';
const YOGA_READY = [
  'let Yoga;',
  'export const yogaReady = loadYoga().then((assembly) => {',
  '  Yoga = wrapAssembly(assembly);',
  '});',
  'export { Yoga as default };',
].join('\n');
const INK_DEVTOOLS =
  /^if \(isDev\(\)\) \{\n {4}try \{\n {8}await import\('\.\/devtools\.js'\);[\s\S]*?\n\}\n(?=const diff = )/m;
const INK_PACKAGE_JSON =
  'const packageJson = isDev()\n    ? await loadPackageJson()\n    : { name: undefined, version: undefined };';
const patched = new Set();
const noTopLevelAwait = {
  name: 'nightshift-no-top-level-await',
  buildEnd() {
    if (patched.size !== 2)
      throw new Error(`bundle-tui: patched ${[...patched].join(', ')}, not yoga and ink`);
  },
  transform(code, id) {
    const patch = (from, to) => {
      if (typeof from === 'string' ? code.split(from).length !== 2 : !from.test(code))
        throw new Error(`bundle-tui: ${id} changed; its top-level await cannot be patched out`);
      return code.replace(from, to);
    };
    if (id.endsWith(YOGA_INDEX)) {
      patched.add('yoga');
      return { code: patch(YOGA_AWAIT, YOGA_READY), map: null };
    }
    if (id.endsWith(`${INK_BUILD}reconciler.js`)) {
      patched.add('ink');
      code = patch(INK_DEVTOOLS, '');
      return {
        code: patch(INK_PACKAGE_JSON, 'const packageJson = { name: undefined, version: undefined };'),
        map: null,
      };
    }
    return null;
  },
};

/**
 * node-pty stays outside the bundle and rolldown keeps `import('node-pty')` for it. loadTui runs the
 * bundle as a vm.Script, and a vm.Script compiled from V8's code cache loses its dynamic-import hook in
 * Node 20 ("A dynamic import callback was not specified"): node-pty, a CommonJS package, is required
 * instead. The build fails if the import is not found, or if any other import() is left.
 */
const requireNodePty = {
  name: 'nightshift-require-node-pty',
  renderChunk(code, chunk) {
    const from = /\bimport\((["'`])node-pty\1\)/g;
    const to = 'Promise.resolve().then(() => require("node-pty"))';
    const found = code.match(from)?.length ?? 0;
    if (chunk.name === 'run' && found !== 1)
      throw new Error(`bundle-tui: expected one import of node-pty in the bundle, found ${found}`);
    const out = code.replace(from, to);
    return { code: out, map: null };
  },
};

rmSync(OUT, { recursive: true, force: true });
await build({
  input: { run: path.join(ROOT, 'scripts', 'tui-entry.js') },
  platform: 'node',
  // Left to Node: node-pty (native). React, its reconciler and scheduler are bundled: with NODE_ENV
  // defined as production below only their production builds are included (test/e2e/tui-load.test.ts
  // checks the bundle for it), and Node no longer compiles and scans their CommonJS (~0.1 s). is-in-ci,
  // which Ink reads once as the bundle loads, is bundled too (loadTui hides CI meanwhile).
  external: ['node-pty', 'react-devtools-core'],
  plugins: [swapInkInternals, yogaWithoutFetch, noTopLevelAwait, requireNodePty],
  // The bundle is only loaded with NODE_ENV=production: Ink's own checks of it are settled here.
  transform: { define: { 'process.env.NODE_ENV': '"production"' } },
  logLevel: 'warn',
  // Minified: less for V8 to parse and compile before the first frame.
  output: {
    minify: true,
    dir: OUT,
    format: 'cjs',
    entryFileNames: '[name].cjs',
    chunkFileNames: '[name]-[hash].cjs',
  },
});

// The written (minified, comment-free) bundle may hold no other import(): see requireNodePty.
for (const file of readdirSync(OUT)) {
  const left = /(?<![\w$.])import\(.{0,60}/.exec(readFileSync(path.join(OUT, file), 'utf8'));
  if (left) {
    rmSync(OUT, { recursive: true, force: true });
    throw new Error(
      `bundle-tui: ${file} has a dynamic import(), which fails in loadTui's vm.Script: ${left[0]}`,
    );
  }
}
