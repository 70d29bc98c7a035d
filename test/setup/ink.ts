/**
 * vitest's globalSetup: makes node_modules/ink nightshift's Ink before any test runs (npm's postinstall
 * did it at install; this brings in an edit of src/tui/ink/ since then), so the tests render with the
 * Ink the product ships. test/unit/tui-ink-package.test.tsx checks that they do.
 */
import { inkBuildDir, patchInk } from '../../scripts/patch-ink.js';

export default async function setup(): Promise<void> {
  const written = await patchInk();
  if (written.length > 0) console.log(`test/setup/ink.ts: patched ${inkBuildDir()} (${written.join(', ')})`);
}
