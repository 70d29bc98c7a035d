// Bundles the TUI (dist/tui/app/run.js, compiled by tsc, through scripts/tui-entry.js) into
// dist/tui-bundle/ (`npm run build` runs this after tsc and scripts/patch-ink.js). Why: unbundled,
// starting the TUI means Node resolving, reading and compiling ~1,100 modules (~0.9 s of CPU before the
// first frame); one file with tree-shaking (Ink's `es-toolkit/compat` barrel alone is 415 files) takes
// ~0.3 s. src/cli/commands/tui.ts loads the bundle when it exists and NODE_ENV is production (what the
// TUI runs with by default), else the modules as compiled.
// The bundle is CommonJS so that loadTui can compile it as a vm.Script with V8's code cache (Node 20 has
// no code cache for ES modules): CommonJS has no top-level await, so yoga-layout's is patched out here
// (see noTopLevelAwait); Ink's two are gone from the patched Ink already.
// Ink is bundled as installed, which scripts/patch-ink.js has made nightshift's Ink (src/tui/ink/ in
// place of four of its modules, its reconciler without top-level awaits): the same Ink the tests and an
// unbundled run use. The build stops if node_modules/ink is not patched (see inkIsPatched).
// Some packages stay imports of node_modules (see `external`). The Executor tab's live view (node-pty,
// @xterm/headless) is a separate chunk, loaded when a live view first opens.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';
import { inkBuildDir, unpatched } from './patch-ink.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(DIST, 'tui-bundle');
/** Refuses to bundle an Ink that scripts/patch-ink.js has not made nightshift's (see there). */
const INK = inkBuildDir();
const inkIsPatched = {
  name: 'nightshift-ink-is-patched',
  async buildStart() {
    const wrong = await unpatched(INK);
    if (wrong.length > 0)
      throw new Error(
        `bundle-tui: ${INK} is not patched (${wrong.join(', ')}): run \`node scripts/patch-ink.js\``,
      );
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
 * yoga-layout awaits its WebAssembly as it loads, at top level (the build fails if that file changes).
 * Here it starts loading it and exports `yogaReady`, which scripts/tui-entry.js awaits before starting
 * the TUI; Ink only calls yoga from then on. (Ink's reconciler had two top-level awaits too, for React
 * DevTools with DEV=true: scripts/patch-ink.js removes them from the installed Ink, for every run.)
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
let yogaPatched = false;
const noTopLevelAwait = {
  name: 'nightshift-no-top-level-await',
  buildEnd() {
    if (!yogaPatched) throw new Error('bundle-tui: yoga-layout was not bundled from where it was expected');
  },
  transform(code, id) {
    if (!id.endsWith(YOGA_INDEX)) return null;
    if (code.split(YOGA_AWAIT).length !== 2)
      throw new Error(`bundle-tui: ${id} changed; its top-level await cannot be patched out`);
    yogaPatched = true;
    return { code: code.replace(YOGA_AWAIT, YOGA_READY), map: null };
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
  plugins: [inkIsPatched, yogaWithoutFetch, noTopLevelAwait, requireNodePty],
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
