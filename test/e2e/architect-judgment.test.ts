/**
 * The review half of the judgment pipeline with a real git repo and the loopback Messages API server:
 * what the architect is sent (whole files for a small change) and what an unusable answer leaves on the
 * task record.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { workspacePaths } from '../../src/config/paths.js';
import { enterReview, enterRunning, type TaskRecord } from '../../src/core/task.js';
import { Judgment } from '../../src/daemon/judgment.js';
import { systemClock } from '../../src/lib/clock.js';
import { EventLog } from '../../src/queue/eventlog.js';
import { QueueStore } from '../../src/queue/store.js';
import { ToggleStore } from '../../src/queue/toggles.js';
import { parseSpec } from '../../src/spec/parse.js';
import {
  lastUserText,
  startAnthropicServer,
  toolJson,
  toolUse,
  type AnthropicServer,
} from '../../src/testing/anthropic-server.js';
import { git, makeRepo } from '../../src/testing/git.js';
import { waitFor } from '../../src/testing/wait.js';
import { runCli } from '../../src/testing/workspace.js';
import { tid } from '../../src/testing/ids.js';

const KEY = 'loopback-key-1234';
const dirs: string[] = [];
let judgment: Judgment | null = null;
let server: AnthropicServer | null = null;
afterEach(async () => {
  await judgment?.stop();
  await server?.close();
  judgment = null;
  server = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A long file whose middle line changes: the diff's context shows only lines near it. */
const LIB = Array.from({ length: 40 }, (_, i) => `export const line${i} = ${i};`).join('\n') + '\n';

async function setup(architect: string[]) {
  server = await startAnthropicServer();
  const repo = makeRepo({ 'README.md': '# app\n', 'lib.ts': LIB });
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-aj-'));
  dirs.push(repo, root);
  const text = [
    'repos:',
    `  app: { path: ${JSON.stringify(repo)}, main: main }`,
    'providers:',
    '  p: { kind: scripted }',
    'architect:',
    '  mode: llm',
    `  baseURL: ${server.url}`,
    '  apiKeyEnv: NS_AJ_KEY',
    '  timeout: 20s',
    ...architect.map((line) => `  ${line}`),
    'gates:',
    '  diff: { enabled: true }',
  ].join('\n');
  writeFileSync(path.join(root, 'nightshift.config.yaml'), text);
  const paths = workspacePaths(root);
  const config = parseConfig(text, 'cfg');
  const events = new EventLog(paths.events);
  const store = new QueueStore(paths, systemClock, events);
  store.ensureLayout();
  const env = { NS_AJ_KEY: KEY };
  judgment = new Judgment({
    paths,
    config,
    clock: systemClock,
    env,
    store,
    toggles: new ToggleStore(paths),
    events,
    hosts: new Map(),
    log: () => undefined,
    redact: (t: string) => t,
    onGraded: () => undefined,
    wake: () => undefined,
  });
  /** A task in review whose branch changes one line of src/lib.ts and adds a small file. */
  const reviewed = (id: string) => {
    const spec = parseSpec(
      Buffer.from(
        `---\ntitle: Change line 20 (${id})\nid: ${id}\ntests: [test_x]\nstop: stop.\n---\nTask ${id}: set line20 to 2000 in lib.ts and add notes.md; keep every other line as it is today.\n`,
      ),
      { file: `${id}.md`, config },
    );
    store.enqueue(spec);
    const base = git(repo, 'rev-parse', 'main');
    git(repo, 'branch', '-q', `ns/${id}`, base);
    const wt = mkdtempSync(path.join(os.tmpdir(), 'ns-wt-'));
    dirs.push(wt);
    git(repo, 'worktree', 'add', '-q', '-f', wt, `ns/${id}`);
    writeFileSync(path.join(wt, 'lib.ts'), LIB.replace('line20 = 20;', 'line20 = 2000;'));
    writeFileSync(path.join(wt, 'notes.md'), 'A note.\n');
    git(wt, 'add', '-A');
    git(wt, 'commit', '-q', '-m', `change line 20 (${id})`);
    git(repo, 'worktree', 'remove', '--force', wt);
    store.transition(tid(id), (t) => {
      const r = enterRunning(t, { now: Date.now(), provider: 'p', host: 'local' });
      return { ...r, task: { ...r.task, baseSha: base } };
    });
    store.transition(tid(id), (t) => enterReview(t, { now: Date.now(), exitCode: 0 }));
  };
  return { root, store, reviewed, env };
}

const approve = toolUse('submit_verdict', { grade: 'A', verdict: 'approve', summary: 'Fine.', findings: [] });

it('sends a small change with its changed files whole, through the judgment path', async () => {
  const env = await setup([]);
  server!.setDefault(approve);
  env.reviewed('w1');
  judgment!.kick();
  await waitFor(
    'the architect approved w1',
    () => env.store.get(tid('w1')).review?.verdict === 'approve',
    30_000,
  );
  const sent = lastUserText(server!.requests[0]?.body ?? null);
  expect(sent).toContain('## Changed files, whole (for context)');
  // Lines far from the change are not in the diff's context, only in the whole file.
  expect(sent).toMatch(/<data-[0-9a-f]{32} kind="file" path="lib\.ts">/);
  expect(sent).toContain('export const line0 = 0;');
  expect(sent).toContain('export const line39 = 39;');
  expect(sent).toContain('export const line20 = 2000;');
  expect(sent).toMatch(/<data-([0-9a-f]{32}) kind="file" path="notes\.md">\nA note\.\n<\/data-\1>/);
});

it('sends no whole files when architect.wholeFiles is 0, or when the diff is larger than it', async () => {
  for (const budget of [0, 100]) {
    const env = await setup([`wholeFiles: ${budget}`]);
    server!.setDefault(approve);
    env.reviewed(`n${budget}`);
    judgment!.kick();
    await waitFor('approved', () => env.store.get(tid(`n${budget}`)).review?.verdict === 'approve', 30_000);
    const sent = lastUserText(server!.requests[0]?.body ?? null);
    expect(sent).toMatch(/<data-[0-9a-f]{32} kind="diff">/);
    expect(sent).not.toContain('Changed files, whole');
    await judgment!.stop();
    await server!.close();
  }
});

it('parks a task whose verdict is malformed twice with a structured supervisor attribution, shown by show --json', async () => {
  const env = await setup([]);
  server!.setDefault(toolJson('submit_verdict', '{"grade": "A", "verdict": "approve", "summ'));
  env.reviewed('m1');
  judgment!.kick();
  await waitFor('m1 parked', () => env.store.get(tid('m1')).parked !== null, 30_000);
  expect(server!.requests).toHaveLength(2);
  const task = env.store.get(tid('m1'));
  expect(task.state).toBe('review');
  expect(task.parked).toBe('architect-unavailable');
  expect(task.review).toMatchObject({
    verdict: null,
    grade: null,
    approvedBy: null,
    attribution: 'supervisor',
  });
  expect(task.review?.summary).toMatch(/^The architect gave no usable verdict: /);
  await judgment!.stop();
  const shown = await runCli(['show', 'm1', '--json'], { cwd: env.root, clock: systemClock, env: env.env });
  expect(shown.code, shown.stderr).toBe(0);
  const record = JSON.parse(shown.stdout) as TaskRecord;
  expect(record.review?.attribution).toBe('supervisor');
  expect(record.parked).toBe('architect-unavailable');
  const text = await runCli(['show', 'm1'], { cwd: env.root, clock: systemClock, env: env.env });
  expect(text.stdout).toMatch(/^ {2}review {5}- .*\[supervisor\]$/m);
  // A person's approval clears the attribution: the review is theirs now.
  const approved = await runCli(['approve', 'm1'], { cwd: env.root, clock: systemClock, env: env.env });
  expect(approved.code, approved.stderr).toBe(0);
  expect(env.store.get(tid('m1')).review).toMatchObject({
    verdict: 'approve',
    approvedBy: 'human',
    attribution: null,
  });
});
