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

rmSync(OUT, { recursive: true, force: true });
await build({
  input: { run: path.join(DIST, 'tui', 'app', 'run.js') },
  platform: 'node',
  // Left to Node: node-pty (native); React, its reconciler and scheduler, which pick their build from
  // NODE_ENV as they load (loadTui sets it; test/e2e/tui-load.test.ts checks which build was loaded);
  // is-in-ci, which Ink reads once as it loads (loadTui hides CI meanwhile, the same test checks it).
  external: [
    'node-pty',
    'react-devtools-core',
    /^react(\/.*)?$/,
    /^react-reconciler(\/.*)?$/,
    /^scheduler(\/.*)?$/,
    'is-in-ci',
  ],
  plugins: [swapInkInternals],
  // The bundle is only loaded with NODE_ENV=production: Ink's own checks of it are settled here.
  transform: { define: { 'process.env.NODE_ENV': '"production"' } },
  logLevel: 'warn',
  output: { dir: OUT, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
});
