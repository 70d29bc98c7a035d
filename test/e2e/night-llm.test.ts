import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  readdirSync,
  lstatSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startAnthropicServer, toolUse, type AnthropicServer } from '../../src/testing/anthropic-server.js';
import { makeNight, scriptedSpec, type Night } from '../../src/testing/night.js';
import { runCli } from '../../src/testing/workspace.js';
import type { AppliedRequest } from '../../src/queue/requests.js';
import { waitFor } from '../../src/testing/wait.js';
import { systemClock } from '../../src/lib/clock.js';

const CANARY = 'canary-s3cr3t-7f3a9c1e';
/** The architect's key: a second canary, sent only in the x-api-key header. */
const ARCHITECT_KEY = 'canary-architect-key-5b2d';
let night: Night | null = null;
let server: AnthropicServer | null = null;
let drafts: string | null = null;
afterEach(async () => {
  if (drafts) rmSync(drafts, { recursive: true, force: true });
  drafts = null;
  await night?.cleanup();
  await server?.close();
  night = null;
  server = null;
});

/** Every regular file under `dir` (not the executors' tmux socket, which lives in the host's workdir). */
function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (name === '.git') return [];
    const st = lstatSync(p);
    return st.isDirectory() ? allFiles(p) : st.isFile() ? [p] : [];
  });
}

it('takes 20 specs through dispatch, gates, an LLM architect and the merge queue, leaking no secret', async () => {
  server = await startAnthropicServer();
  // The architect asks for changes once on task n03, then approves everything (grades vary).
  let n = 0;
  // ns/n03's tip as each of its two reviews saw it.
  const n03Tips: string[] = [];
  server.setDefault((req) => {
    n += 1;
    const text = JSON.stringify(req.body);
    if (text.includes('Scripted task n03')) {
      n03Tips.push(
        execFileSync('git', ['-C', night!.repo, 'rev-parse', 'ns/n03'], { encoding: 'utf8' }).trim(),
      );
    }
    if (text.includes('Scripted task n03') && text.includes('This is review round 1.')) {
      return toolUse('submit_verdict', {
        grade: 'C',
        verdict: 'changes',
        summary: 'Add a comment to the new file.',
        findings: [{ file: 'n03.txt', line: 1, severity: 'minor', text: 'needs a comment' }],
      });
    }
    return toolUse('submit_verdict', {
      grade: n % 2 ? 'A' : 'B+',
      verdict: 'approve',
      summary: 'Looks right.',
      findings: [],
    });
  });
  night = makeNight({
    providers: [
      '  good:',
      '    kind: scripted',
      '    hosts: [local]',
      '    concurrency: 4',
      '    secretEnv: { SCRIPTED_TOKEN: NS_TEST_CANARY }',
    ].join('\n'),
    extra: [
      'architect:',
      '  mode: llm',
      `  baseURL: ${server.url}`,
      '  apiKeyEnv: NS_TEST_ARCHITECT_KEY',
      '  timeout: 20s',
      '  price: { inputPerMTok: 1000000, outputPerMTok: 0 }',
      'gates:',
      '  diff: { enabled: true }',
      '  deletions: { enabled: true }',
      '  commits: { enabled: true, max: 5 }',
      'defaults: { retryInitial: 1s, retryMax: 2s, livenessEvery: 1s, monitorEvery: 1h }',
    ].join('\n'),
  });
  const env = { ...process.env, NS_TEST_CANARY: CANARY, NS_TEST_ARCHITECT_KEY: ARCHITECT_KEY };
  // The daemon's log sink, as `nightshift daemon` wires it (daemon-run.ts).
  const daemonLog = (line: string) => appendFileSync(night!.paths.daemonLog, `${line}\n`, { mode: 0o600 });
  const sup = night.supervisor({ env, log: daemonLog });
  const holds = (text: string) => text.includes(CANARY) || text.includes(ARCHITECT_KEY);
  drafts = mkdtempSync(path.join(os.tmpdir(), 'ns-drafts-'));
  await sup.start();
  for (let i = 0; i < 20; i++) {
    const id = `n${String(i).padStart(2, '0')}`;
    // The executor prints the secret it was given (as a careless agent would) and commits a file.
    let text = scriptedSpec(
      id,
      [
        `sh "echo token is $SCRIPTED_TOKEN"`,
        // Two specs carry a secret in their body, as a careless person might paste it; the executor
        // prints it back.
        ...(i === 7 ? [`print "pasted by mistake: ${CANARY}"`] : []),
        ...(i === 8 ? [`print "the architect key is ${ARCHITECT_KEY}"`] : []),
        // n03 is sent back once: each round adds a line, so a continued branch ends with two.
        ...(i === 3 ? ['sh "echo round >> n03-rounds.txt"'] : []),
        `write ${id}.txt "${id}\\n"`,
        `commit "${id}"`,
        'exit 0',
      ].join('\n'),
    );
    // …and in their titles.
    if (i === 7) text = text.replace('title: Scripted task n07', `title: Scripted task n07 (${CANARY})`);
    if (i === 8)
      text = text.replace('title: Scripted task n08', `title: Scripted task n08 key ${ARCHITECT_KEY}`);
    if (i === 8) {
      // Sent as an `add` request: queue/requests/.applied/ keeps its outcome, not its text.
      const draft = path.join(drafts, `${id}.md`);
      writeFileSync(draft, text);
      const added = await runCli(['add', draft], { cwd: night.root, clock: systemClock, env });
      expect(added.code, added.stderr).toBe(0);
      expect(holds(added.stdout + added.stderr)).toBe(false);
    } else night.dropSpec(`${id}.md`, text);
  }
  await waitFor(
    '20 merged',
    () => sup.store.list().filter((t) => t.state === 'done').length === 20,
    150_000,
    200,
  );
  const liveGrade = sup.fleet.averageGrade('good');
  expect(liveGrade).not.toBeNull();
  await sup.stop('test done');
  // A restarted daemon has the grades back from the task records (each task's latest review).
  const again = night.supervisor({ env, log: daemonLog });
  await again.start();
  const tasksNow = again.store.list();
  const expected = tasksNow
    .slice()
    .sort((a, b) => (a.review?.approvedAt ?? '').localeCompare(b.review?.approvedAt ?? ''))
    .slice(-10)
    .map((t) => (t.review?.grade === 'A' ? 4 : 3.3));
  expect(again.fleet.averageGrade('good')).toBeCloseTo(expected.reduce((a, b) => a + b, 0) / expected.length);
  await again.stop('test done');
  const tasks = sup.store.list();
  expect(tasks.find((t) => t.id === 'n03')).toMatchObject({ round: 1 });
  // Each review's tokens are on the task it judged, per round, priced with architect.price ($1 a token).
  const calls = tasks.find((t) => t.id === 'n03')?.architectUsage ?? [];
  expect(calls.map((c) => [c.kind, c.round])).toEqual([
    ['review', 0],
    ['review', 1],
  ]);
  for (const c of calls) {
    expect(c.usage.inputTokens).toBeGreaterThan(0);
    expect(c.usage.costUsd).toBe(c.usage.inputTokens);
  }
  // The second attempt was told the findings and continued the first attempt's branch.
  const prompt = readFileSync(path.join(night.workerDir, 'tasks', 'n03', 'prompt.md'), 'utf8');
  expect(prompt).toContain('## Review notes (round 1 of');
  expect(prompt).toContain('Continue on this branch; do not start over.');
  expect(prompt).toContain('Add a comment to the new file.');
  expect(prompt).toContain('- n03.txt:1 [minor] needs a comment');
  expect(n03Tips).toHaveLength(2);
  const [firstTip, secondTip] = n03Tips as [string, string];
  expect(secondTip).not.toBe(firstTip);
  execFileSync('git', ['-C', night.repo, 'merge-base', '--is-ancestor', firstTip, secondTip]);
  expect(execFileSync('git', ['-C', night.repo, 'show', 'main:n03-rounds.txt'], { encoding: 'utf8' })).toBe(
    'round\nround\n',
  );
  expect(tasks.filter((t) => t.review?.approvedBy === 'architect')).toHaveLength(20);
  expect(new Set(tasks.map((t) => t.review?.grade))).toEqual(new Set(['A', 'B+']));
  // The architect was called with the old auth scheme and a forced tool call.
  const first = server.requests[0];
  expect(first?.headers['x-api-key']).toBe(ARCHITECT_KEY);
  expect(JSON.stringify(first?.body)).toContain('submit_verdict');
  // Every change is on main, in order of approval.
  const files = execFileSync('git', ['-C', night.repo, 'ls-tree', '--name-only', 'main'], {
    encoding: 'utf8',
  });
  for (let i = 0; i < 20; i++) expect(files).toContain(`n${String(i).padStart(2, '0')}.txt`);
  // The report renders…
  const html = await runCli(['report', '--format', 'html'], { cwd: night.root, clock: systemClock, env });
  expect(html.code).toBe(0);
  expect(html.stdout).toMatch(/<svg/);
  // …and the canaries are nowhere nightshift writes: walk the whole workspace.
  const log = readFileSync(path.join(night.paths.logs, 'n00', 'attempt-1.log'), 'utf8');
  expect(log).toContain('token is [redacted]');
  expect(readFileSync(path.join(night.paths.logs, 'n07', 'attempt-1.log'), 'utf8')).toContain(
    'pasted by mistake: [redacted]',
  );
  expect(readFileSync(night.paths.daemonLog, 'utf8')).toMatch(/n07/);
  const n07 = tasks.find((t) => t.id === 'n07');
  expect(n07?.title).toBe('Scripted task n07 ([redacted])');
  expect(tasks.find((t) => t.id === 'n08')?.title).toBe('Scripted task n08 key [redacted]');
  mkdirSync(night.paths.reports, { recursive: true });
  for (const format of ['md', 'json'] as const) {
    const out = path.join(night.paths.reports, `morning.${format}`);
    const r = await runCli(['report', '--format', format, '--out', out], {
      cwd: night.root,
      clock: systemClock,
      env,
    });
    expect(r.code, r.stderr).toBe(0);
  }
  writeFileSync(path.join(night.paths.reports, 'morning.html'), html.stdout);
  // Allowed: the spec as written (queue/<state>/<id>/spec.md and the inbox's specs/.accepted/ copy)
  // and the prompt made from it on the worker (hosts/<host>/tasks/<id>/prompt.md), for the two specs
  // that had a secret pasted in. On the worker the runner redacts the executor's output (pane and raw
  // log) of the secrets in the executor's environment: n07 printing its pasted canary is caught, as
  // it is the executor's own key; n08 prints back the architect's key, which the executor was never
  // given and the runner cannot know, so that raw log alone keeps it (its mirror in logs/ is checked).
  const allowed = (f: string) => {
    const rel = path.relative(night!.root, f).split(path.sep).join('/');
    return (
      /^queue\/(pending|running|review|done|failed)\/n0[78]\/spec\.md$/.test(rel) ||
      /^specs\/\.accepted\/n0[78]\.md$/.test(rel) ||
      /^hosts\/local\/ws\/[0-9a-f]{8}\/tasks\/n0[78]\/prompt\.md$/.test(rel) ||
      /^hosts\/local\/ws\/[0-9a-f]{8}\/tasks\/n08\/attempt-\d+\.log$/.test(rel)
    );
  };
  const hostLog = (id: string) =>
    readFileSync(path.join(night!.workerDir, 'tasks', id, 'attempt-1.log'), 'utf8');
  for (let i = 0; i < 20; i++)
    expect(hostLog(`n${String(i).padStart(2, '0')}`)).toContain('token is [redacted]');
  expect(hostLog('n07')).toContain('pasted by mistake: [redacted]');
  expect(hostLog('n08')).toContain(`the architect key is ${ARCHITECT_KEY}`);
  const written = allFiles(night.root);
  expect(written.some((f) => f.endsWith('task.json'))).toBe(true);
  const applied = written.filter((f) => f.includes(`.applied${path.sep}`));
  const requests = applied.map((f) => (JSON.parse(readFileSync(f, 'utf8')) as AppliedRequest).request);
  const add = requests.find((r) => r.kind === 'add');
  expect(add && 'textSha256' in add ? add.textSha256 : null).toMatch(/^[0-9a-f]{64}$/);
  expect(add).not.toHaveProperty('text');
  expect(written).toContain(night.paths.daemonLog);
  expect(written).toContain(night.paths.events);
  const leaks = written.filter((f) => !allowed(f) && holds(readFileSync(f, 'latin1')));
  expect(leaks, 'files that hold a secret').toEqual([]);
  // The secrets were really there to leak (so the walk above could fail).
  const host = path.relative(night.root, night.workerDir).split(path.sep).join('/');
  const kept = written.filter((f) => allowed(f) && holds(readFileSync(f, 'latin1')));
  expect(kept.map((f) => path.relative(night!.root, f).split(path.sep).join('/'))).toEqual(
    expect.arrayContaining([
      'queue/done/n07/spec.md',
      `${host}/tasks/n07/prompt.md`,
      `${host}/tasks/n08/attempt-1.log`,
    ]),
  );
  expect(holds(html.stdout)).toBe(false);
  for (const args of [['ls', '--json'], ['ls'], ['show', 'n07', '--json'], ['show', 'n08']]) {
    const r = await runCli(args, { cwd: night.root, clock: systemClock, env });
    expect(r.code, args.join(' ')).toBe(0);
    expect(r.stdout).toContain(args[0] === 'ls' ? 'n07' : args[1]);
    expect(holds(r.stdout + r.stderr), `nightshift ${args.join(' ')}`).toBe(false);
  }
  for (const r of server.requests) expect(holds(JSON.stringify(r.body))).toBe(false);
}, 180_000);
