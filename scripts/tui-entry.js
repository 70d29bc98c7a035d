// The entry of the TUI's bundle (scripts/bundle-tui.js), not used unbundled. The bundle is CommonJS, which
// has no top-level await: yoga-layout is patched there to start loading its WebAssembly as the bundle
// loads and to export `yogaReady`, and startTui waits for it before Ink lays anything out.
import { yogaReady } from 'yoga-layout';
import { startTui as start } from '../dist/tui/app/run.js';

/** @param {import('../dist/tui/app/run.js').StartTuiOptions} opts */
export async function startTui(opts) {
  await yogaReady;
  return start(opts);
}

/** Whether Ink, as bundled, thinks it runs in CI (it then draws nothing): for test/e2e/tui-load.test.ts. */
export { default as inkInCi } from 'is-in-ci';
