/**
 * The claude-code architect writes specs (docs/architect.md, "Planning", "Follow-ups"): the real Claude
 * Code CLI (a pinned version, src/testing/claude-cli.ts) in real tmux, against the loopback Messages API
 * server. `nightshift plan` (bin/nightshift.js, built): the scripted model Reads a file of the
 * repository in its isolated checkout, then answers through the CLI's structured output, and the drafts
 * pass `lint --strict`. A night: tasks parked by the claude-code reviewer get a follow-up drafted in
 * claude-code mode, within maxPerNight. Skipped, saying why, when no CLI can be had.
 */
import { spawn } from 'node:child_process';
import {
  appendFileSync,
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
import { afterEach, describe, expect, it } from 'vitest';
import { workspacePaths } from '../../src/config/paths.js';
import { architectSocketPath } from '../../src/hosts/layout.js';
import { LocalRunner } from '../../src/hosts/runner.js';
import {
  lastUserText,
  startAnthropicServer,
  text,
  toolUse,
  type AnthropicServer,
  type RecordedRequest,
} from '../../src/testing/anthropic-server.js';
import { toolResults, turns } from '../../src/testing/anthropic-turns.js';
import { findClaude } from '../../src/testing/claude-cli.js';
import { git, makeRepo } from '../../src/testing/git.js';
import { makeNight, scriptedSpec, type Night } from '../../src/testing/night.js';
import { waitFor } from '../../src/testing/wait.js';
import { listDrafts } from '../../src/queue/drafts.js';

const found = await findClaude();
const claude = 'bin' in found ? found : null;
if (!claude)
  console.warn(
    `[claude-writer] SKIPPED: no Claude Code CLI to run. ${'problem' in found ? found.problem : ''}`,
  );

const BIN = fileURLToPath(new URL('../../bin/nightshift.js', import.meta.url));
const KEY = 'ccwriter-key-canary-5d2e';
const CART =
  'export function total(items: number[]) { return items.reduce((a, b) => a + b, 0); } // CART-MARKER-93b1\n';

let server: AnthropicServer | null = null;
let night: Night | null = null;
const roots: string[] = [];
afterEach(async () => {
  for (const root of roots) {
    await new LocalRunner().run(['tmux', '-S', architectSocketPath(workspacePaths(root)), 'kill-server']);
  }
  await night?.cleanup();
  night = null;
  await server?.close();
  server = null;
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const structured = (r: RecordedRequest) => (r.body?.tools ?? []).some((t) => t.name === 'StructuredOutput');
const architectLines = (cli: string, url: string, extra: string[] = []) => [
  'architect:',
  '  mode: claude-code',
  `  cli: ${JSON.stringify(cli)}`,
  '  model: loopback-model',
  `  baseURL: ${url}`,
  '  apiKeyEnv: NS_CCW_KEY',
  '  timeout: 3m',
  '  maxTurns: 12',
  ...extra,
];

function cli(root: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, '-w', root, ...args], {
      env: { ...process.env, NS_CCW_KEY: KEY },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const spec = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  title: `Do ${id}`,
  dependsOn: [],
  tests: [`test_${id.replace(/-/g, '_')}`],
  stop: `Stop when test_${id.replace(/-/g, '_')} passes.`,
  body: `Change total() in src/cart.ts so that ${id} works: add the behaviour, keep the public API as it is, and add the named test beside the existing ones.`,
  ...over,
});

describe.skipIf(!claude)('claude-code architect writes specs', () => {
  it('plan: explores an isolated checkout of main with Read, answers through structured output, drafts pass lint --strict', async () => {
    server = await startAnthropicServer();
    const repo = makeRepo({ 'README.md': '# shop\nA small shop.\n' });
    mkdirSync(path.join(repo, 'src'));
    writeFileSync(path.join(repo, 'src', 'cart.ts'), CART);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'src');
    const root = mkdtempSync(path.join(os.tmpdir(), 'ns-ccw-'));
    roots.push(root, repo);
    writeFileSync(
      path.join(root, 'nightshift.config.yaml'),
      [
        'repos:',
        `  shop: { path: ${JSON.stringify(repo)}, main: main }`,
        'hosts:',
        '  local: { kind: local }',
        'providers:',
        '  scripted: { kind: scripted, hosts: [local] }',
        ...architectLines(claude!.bin, server.url),
      ].join('\n'),
      { mode: 0o600 },
    );
    // An uncommitted change in the repository's own work tree: the architect must see main, not this.
    writeFileSync(path.join(repo, 'src', 'cart.ts'), 'DIRTY-WORKTREE\n');
    const checkout = path.join(root, 'work', 'shop', '.architect-plan');
    server.setDefault((r) =>
      structured(r)
        ? turns(
            toolUse('Read', { file_path: path.join(checkout, 'src', 'cart.ts') }),
            toolUse('StructuredOutput', {
              specs: [spec('cart-discount'), spec('cart-coupon', { dependsOn: ['cart-discount'] })],
            }),
          )(r)
        : text('ok'),
    );
    const r = await cli(root, ['plan', 'Add discounts to the cart, then coupons.']);
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
    // The model's Read of src/cart.ts came back with main's content, read in the isolated checkout.
    const results = server.messages().flatMap((m) => toolResults(m.body));
    expect(results.some((t) => t.content.includes('CART-MARKER-93b1') && !t.isError)).toBe(true);
    expect(results.some((t) => t.content.includes('DIRTY-WORKTREE'))).toBe(false);
    const asked = server.messages().find(structured);
    expect(asked?.headers['x-api-key']).toBe(KEY);
    expect(lastUserText(asked?.body ?? null)).toContain('Add discounts to the cart');
    // Its own tmux session, read-only tools (no Bash), the key only by environment; the checkout is gone.
    const argv = readFileSync(path.join(root, 'architect', 'runs', 'ns-architect-plan', 'argv'), 'utf8');
    expect(argv).toContain("'--tools' 'Read,Grep,Glob'");
    expect(argv).not.toContain('Bash');
    expect(argv).not.toContain(KEY);
    expect(r.stdout + r.stderr).not.toContain(KEY);
    expect(existsSync(checkout)).toBe(false);
    expect(git(repo, 'status', '--porcelain')).toContain('src/cart.ts');
  }, 300_000);

  it('a night: parked tasks get a follow-up drafted by the claude-code architect, within maxPerNight', async () => {
    server = await startAnthropicServer();
    server.setDefault((r) => {
      if (!structured(r)) return text('ok');
      const origin = /Task "([a-z0-9-]+)" ended/.exec(lastUserText(r.body))?.[1];
      if (origin) {
        return toolUse('StructuredOutput', {
          spec: {
            id: `${origin}-narrow`,
            title: `Narrower ${origin}`,
            dependsOn: [],
            tests: ['test_narrow'],
            stop: 'Stop when test_narrow passes.',
            body: `Do only the first half of ${origin}: write the file with a comment on its first line, and add test_narrow beside the other tests.`,
          },
          reason: 'The original asked for two things; this asks for one.',
        });
      }
      return toolUse('StructuredOutput', {
        grade: 'C',
        verdict: 'changes',
        summary: 'The file needs a comment.',
        findings: [{ file: 'f.txt', line: 1, severity: 'minor', text: 'add a comment' }],
      });
    });
    night = makeNight({
      providers: ['  good:', '    kind: scripted', '    hosts: [local]', '    concurrency: 2'].join('\n'),
      extra: [
        ...architectLines(claude!.bin, server.url, ['  followUps: { maxPerNight: 1, maxDepth: 1 }']),
        'defaults: { retryInitial: 1s, retryMax: 2s, livenessEvery: 1s, monitorEvery: 1h }',
      ].join('\n'),
    });
    roots.push(night.root);
    const n = night;
    const log: string[] = [];
    const sup = n.supervisor({
      env: { ...process.env, NS_CCW_KEY: KEY },
      log: (line) => {
        log.push(line);
        appendFileSync(n.paths.daemonLog, `${line}\n`);
      },
    });
    await sup.start();
    const script = (id: string) => [`write ${id}.txt "${id}\\n"`, `commit "${id}"`, 'exit 0'].join('\n');
    n.dropSpec('p1.md', scriptedSpec('p1', script('p1'), ['reviewRounds: 0']));
    n.dropSpec('p2.md', scriptedSpec('p2', script('p2'), ['reviewRounds: 0']));
    await waitFor(
      'two parked',
      () => sup.store.list().filter((t) => t.state === 'review' && t.parked === 'needs-human').length === 2,
      240_000,
      200,
    );
    await waitFor(
      'two follow-up decisions',
      () => log.filter((l) => /follow-up of p[12]/.test(l)).length >= 2,
      60_000,
      100,
    );
    await sup.followUps.settle();
    const events = readFileSync(n.paths.events, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; task?: string; origin?: string })
      .filter((e) => e.type === 'architect.follow-up');
    // maxPerNight 1: one of the two originals gets one, the other is refused with the reason.
    expect(events).toHaveLength(1);
    const origin = events[0]!.origin!;
    expect(['p1', 'p2']).toContain(origin);
    expect(log.join('\n')).toMatch(
      /no follow-up of p[12]: 1 follow-up\(s\) drafted in the last 24 hours: architect.followUps.maxPerNight is 1/,
    );
    const drafts = listDrafts(n.paths, n.config);
    expect(drafts.map((d) => [d.id, d.followUpOf])).toEqual([[`${origin}-narrow`, origin]]);
    expect(drafts[0]?.problems).toEqual([]);
    // Written in the claude-code architect's own follow-up session, with read-only tools only.
    const argv = readFileSync(
      path.join(n.paths.architectDir, 'runs', 'ns-architect-follow-up', 'argv'),
      'utf8',
    );
    expect(argv).toContain("'--tools' 'Read,Grep,Glob'");
    expect(argv).not.toContain(KEY);
    const asked = server
      .messages()
      .find((m) => structured(m) && lastUserText(m.body).includes(`Task "${origin}" ended`));
    expect(lastUserText(asked?.body ?? null)).toContain('add a comment');
    for (const t of sup.store.list()) expect(t.parked).toBe('needs-human');
    await sup.stop('test done');
  }, 400_000);
});
