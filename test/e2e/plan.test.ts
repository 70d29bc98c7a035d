/**
 * `nightshift plan` through the real CLI (bin/nightshift.js, built) against the loopback Messages API:
 * drafts that pass `lint --strict`, a draft repaired once, one dropped with its reason, `--queue`.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import {
  lastUserText,
  startAnthropicServer,
  toolUse,
  type AnthropicServer,
} from '../../src/testing/anthropic-server.js';
import { git, makeRepo } from '../../src/testing/git.js';

const BIN = fileURLToPath(new URL('../../bin/nightshift.js', import.meta.url));
const KEY = 'plan-key-canary-41c9';
let server: AnthropicServer | null = null;
const dirs: string[] = [];
afterEach(async () => {
  await server?.close();
  server = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function cli(root: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, '-w', root, ...args], {
      env: { ...process.env, NS_PLAN_KEY: KEY },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function workspace(): string {
  const repo = makeRepo({
    'README.md': '# shop\nA small shop. The cart lives in src/cart.ts.\n',
  });
  mkdirSync(path.join(repo, 'src'));
  writeFileSync(
    path.join(repo, 'src', 'cart.ts'),
    'export function total(items: number[]) { return items.reduce((a, b) => a + b, 0); }\n',
  );
  writeFileSync(path.join(repo, 'src', 'unrelated.ts'), 'export const x = 1;\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'src');
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-plan-'));
  dirs.push(repo, root);
  writeFileSync(
    path.join(root, 'nightshift.config.yaml'),
    [
      'repos:',
      `  shop: { path: ${JSON.stringify(repo)}, main: main }`,
      'hosts:',
      '  local: { kind: local }',
      'providers:',
      '  scripted: { kind: scripted, hosts: [local] }',
      'architect:',
      '  mode: llm',
      `  baseURL: ${server!.url}`,
      '  apiKeyEnv: NS_PLAN_KEY',
      '  timeout: 20s',
    ].join('\n'),
    { mode: 0o600 },
  );
  return root;
}

const spec = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  title: `Do ${id}`,
  dependsOn: [],
  tests: [`test_${id.replace(/-/g, '_')}`],
  stop: `Stop when test_${id.replace(/-/g, '_')} passes.`,
  body: `Change src/cart.ts so that ${id} works: add the behaviour, keep the public API as it is, and add the named test beside the existing ones.`,
  ...over,
});

it('drafts specs that pass lint --strict, from a summary of the main branch', async () => {
  server = await startAnthropicServer();
  server.enqueue(
    toolUse('submit_specs', {
      specs: [spec('cart-discount'), spec('cart-coupon', { dependsOn: ['cart-discount'] })],
    }),
  );
  const root = workspace();
  const r = await cli(root, ['plan', 'Add discounts to total() in src/cart.ts, then coupons.']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('drafted cart-discount  specs/drafts/cart-discount.md');
  const drafts = path.join(root, 'specs', 'drafts');
  expect(readdirSync(drafts).sort()).toEqual(['cart-coupon.md', 'cart-discount.md']);
  const lint = await cli(root, [
    'lint',
    '--strict',
    path.join(drafts, 'cart-discount.md'),
    path.join(drafts, 'cart-coupon.md'),
  ]);
  expect(lint.code, lint.stderr).toBe(0);
  expect(lint.stdout).toContain('2/2 spec(s) valid, 0 warning(s)');
  expect(readFileSync(path.join(drafts, 'cart-coupon.md'), 'utf8')).toMatch(
    /dependsOn:\n {2}- cart-discount/,
  );
  // The architect saw the goal, the tree, the README and the file the goal names, with the key in its header.
  const [req] = server.messages();
  expect(req?.headers['x-api-key']).toBe(KEY);
  const prompt = lastUserText(req?.body ?? null);
  expect(prompt).toContain('Add discounts to total()');
  expect(prompt).toContain('src/unrelated.ts');
  expect(prompt).toContain('A small shop.');
  expect(prompt).toContain('export function total');
  expect(prompt).not.toContain('export const x = 1');
  // Nothing was queued: drafts wait for a person.
  expect(existsSync(path.join(root, 'queue', 'pending', 'cart-discount'))).toBe(false);
  // The call's tokens are in the event log, for the morning report's architect share.
  const usage = readFileSync(path.join(root, 'logs', 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; kind?: string; inputTokens?: number })
    .filter((e) => e.type === 'architect.usage');
  expect(usage).toHaveLength(1);
  expect(usage[0]?.kind).toBe('plan');
  expect(usage[0]?.inputTokens).toBeGreaterThan(0);
});

it('repairs a draft that fails lint once, and drops one that fails again with its reason', async () => {
  server = await startAnthropicServer();
  server.enqueue(
    // Round 1: "no-tests" has no tests; "bad-stop" has a dependency nobody queued.
    toolUse('submit_specs', {
      specs: [spec('good-one'), spec('no-tests', { tests: [] }), spec('bad-dep', { dependsOn: ['ghost'] })],
    }),
    // The repair: no-tests is fixed, bad-dep still names the ghost.
    toolUse('submit_specs', {
      specs: [spec('good-one'), spec('no-tests'), spec('bad-dep', { dependsOn: ['ghost'] })],
    }),
  );
  const root = workspace();
  const r = await cli(root, ['plan', 'Three things for the cart.']);
  expect(r.code, r.stderr).toBe(0);
  expect(readdirSync(path.join(root, 'specs', 'drafts')).sort()).toEqual(['good-one.md', 'no-tests.md']);
  expect(r.stderr).toMatch(/dropped bad-dep: .*dependsOn: .*ghost/);
  expect(r.stdout).toContain('2 spec(s) drafted in specs/drafts/, 1 dropped (repaired once)');
  // The repair request carried lint's own words for both failures.
  const repair = lastUserText(server.messages()[1]?.body ?? null);
  expect(repair).toContain('fail `nightshift lint --strict`');
  expect(repair).toContain('no tests: name the exact tests');
  expect(server.messages()).toHaveLength(2);
});

it('--queue sends the valid drafts straight to the inbox', async () => {
  server = await startAnthropicServer();
  server.enqueue(toolUse('submit_specs', { specs: [spec('queued-one')] }));
  const root = workspace();
  const r = await cli(root, ['plan', '--queue', 'One thing.']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('queued queued-one  specs/queued-one.md');
  expect(existsSync(path.join(root, 'specs', 'drafts', 'queued-one.md'))).toBe(false);
  // The next command sweeps the inbox and queues it.
  const ls = await cli(root, ['ls']);
  expect(ls.stdout + ls.stderr).toContain('queued-one');
  expect(existsSync(path.join(root, 'queue', 'pending', 'queued-one', 'spec.md'))).toBe(true);
});
