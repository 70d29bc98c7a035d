/** The TUI's Drafts view on a real workspace: list, read, edit (hand-over), accept into the inbox, discard. */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { render } from 'ink-testing-library';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { WorkspaceSource } from '../../src/client/live/workspace-source.js';
import { ManualClock } from '../../src/lib/clock.js';
import { writeDraft } from '../../src/queue/drafts.js';
import { waitFor } from '../../src/testing/wait.js';
import { makeWorkspace, specText, type TestWorkspace } from '../../src/testing/workspace.js';
import { App } from '../../src/tui/app/App.js';

let ws: TestWorkspace;
let source: WorkspaceSource | null = null;
beforeEach(() => {
  ws = makeWorkspace();
  writeDraft(ws.paths, 'cart-discount', specText({ id: 'cart-discount', title: 'Discounts in total()' }));
  writeDraft(
    ws.paths,
    'cart-coupon',
    specText({ id: 'cart-coupon', title: 'Coupons in total()', extra: 'followUpOf: cart-discount' }),
  );
});
afterEach(async () => {
  await source?.close();
  source = null;
  ws.cleanup();
});

async function app() {
  source = await WorkspaceSource.open({ root: ws.root, clock: new ManualClock(), env: {}, watch: false });
  const handed: string[][] = [];
  const r = render(
    <App
      source={source}
      readOnly={false}
      env={{ EDITOR: 'nano -w' }}
      terminal={{
        handOver: (argv) => {
          handed.push([...argv]);
          return { ok: true, code: 0, message: 'exit 0' };
        },
      }}
      size={{ rows: 30, cols: 120 }}
    />,
  );
  const frame = () => r.lastFrame() ?? '';
  const until = (what: string, test: (f: string) => boolean) =>
    waitFor(what, () => test(frame()), 5000, 10).catch((err: Error) => {
      throw new Error(`${err.message}; the last frame:\n${frame()}`);
    });
  return { r, frame, until, handed, press: (k: string) => r.stdin.write(k) };
}

it('lists drafts, reads one, edits it in $EDITOR, accepts one and discards the other', async () => {
  const t = await app();
  try {
    await t.until('the board', (f) => f.includes('Board') || f.includes('board'));
    t.press('d');
    await t.until('the drafts', (f) => f.includes('Drafts (2 in specs/drafts/)'));
    expect(t.frame()).toContain('cart-coupon.md  Coupons in total() · follows up cart-discount');
    // The first (oldest) is selected; Enter reads it.
    t.press('\r');
    await t.until(
      'its text',
      (f) => f.includes('Draft cart-discount.md') && f.includes('tests: [test_backoff_doubles'),
    );
    t.press('e');
    await t.until('back from the editor', (f) => f.includes('back from editing cart-discount.md'));
    expect(t.handed).toEqual([
      ['sh', '-c', 'nano -w "$1"', 'sh', path.join(ws.paths.drafts, 'cart-discount.md')],
    ]);
    // A accepts it: it moves into the inbox.
    t.press('A');
    await t.until('accepted', (f) => f.includes('cart-discount.md moved to specs/cart-discount.md'));
    expect(existsSync(path.join(ws.paths.specs, 'cart-discount.md'))).toBe(true);
    await t.until('one left', (f) => f.includes('Drafts (1 in specs/drafts/)'));
    // X discards the other (kept aside, not deleted).
    t.press('X');
    await t.until('discarded', (f) => f.includes('cart-coupon.md discarded'));
    expect(readdirSync(path.join(ws.paths.drafts, '.discarded'))).toEqual(['cart-coupon.md']);
    await t.until('none left', (f) => f.includes('Drafts (0 in specs/drafts/)') && f.includes('No drafts'));
    // With nothing selected, A says why instead of doing nothing.
    t.press('A');
    await t.until('a reason', (f) => f.includes('no draft selected'));
    t.press('\u001b');
    await t.until('closed', (f) => !f.includes('Drafts ('));
  } finally {
    t.r.unmount();
  }
});

it('hides accept and discard in --read-only mode', async () => {
  source = await WorkspaceSource.open({ root: ws.root, clock: new ManualClock(), env: {}, watch: false });
  const r = render(
    <App
      source={source}
      readOnly
      env={{}}
      terminal={{ handOver: () => ({ ok: true, code: 0, message: '' }) }}
      size={{ rows: 30, cols: 120 }}
    />,
  );
  try {
    r.stdin.write('d');
    await waitFor('the drafts', () => (r.lastFrame() ?? '').includes('Drafts (2'), 5000, 10);
    r.stdin.write('A');
    await waitFor(
      'refused',
      () => (r.lastFrame() ?? '').includes('not available in --read-only mode'),
      5000,
      10,
    );
    expect(readdirSync(ws.paths.drafts).sort()).toEqual(['cart-coupon.md', 'cart-discount.md']);
  } finally {
    r.unmount();
  }
});
