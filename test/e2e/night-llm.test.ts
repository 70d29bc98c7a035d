import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startAnthropicServer, toolUse, type AnthropicServer } from '../../src/testing/anthropic-server.js';
import { makeNight, scriptedSpec, type Night } from '../../src/testing/night.js';
import { runCli } from '../../src/testing/workspace.js';
import { waitFor } from '../../src/testing/wait.js';
import { systemClock } from '../../src/lib/clock.js';

const CANARY = 'canary-s3cr3t-7f3a9c1e';
let night: Night | null = null;
let server: AnthropicServer | null = null;
afterEach(async () => {
  await night?.cleanup();
  await server?.close();
  night = null;
  server = null;
});

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (name === '.git') return [];
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

it('takes 20 specs through dispatch, gates, an LLM architect and the merge queue, leaking no secret', async () => {
  server = await startAnthropicServer();
  // The architect asks for changes once on task n03, then approves everything (grades vary).
  let n = 0;
  server.setDefault((req) => {
    n += 1;
    const text = JSON.stringify(req.body);
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
      'gates:',
      '  diff: { enabled: true }',
      '  deletions: { enabled: true }',
      '  commits: { enabled: true, max: 5 }',
      'defaults: { retryInitial: 1s, retryMax: 2s, livenessEvery: 1s, monitorEvery: 1h }',
    ].join('\n'),
  });
  const env = { ...process.env, NS_TEST_CANARY: CANARY, NS_TEST_ARCHITECT_KEY: 'architect-key-123' };
  const sup = night.supervisor({ env });
  await sup.start();
  for (let i = 0; i < 20; i++) {
    const id = `n${String(i).padStart(2, '0')}`;
    // The executor prints the secret it was given (as a careless agent would) and commits a file.
    night.dropSpec(
      `${id}.md`,
      scriptedSpec(
        id,
        [
          `sh "echo token is $SCRIPTED_TOKEN"`,
          // One spec carries the secret in its own text, as a careless person might paste it.
          ...(i === 7 ? [`print "pasted by mistake: ${CANARY}"`] : []),
          `write ${id}.txt "${id}\\n"`,
          `commit "${id}"`,
          'exit 0',
        ].join('\n'),
      ),
    );
  }
  await waitFor(
    '20 merged',
    () => sup.store.list().filter((t) => t.state === 'done').length === 20,
    150_000,
    200,
  );
  await sup.stop('test done');
  const tasks = sup.store.list();
  expect(tasks.find((t) => t.id === 'n03')).toMatchObject({ round: 1 });
  expect(tasks.filter((t) => t.review?.approvedBy === 'architect')).toHaveLength(20);
  expect(new Set(tasks.map((t) => t.review?.grade))).toEqual(new Set(['A', 'B+']));
  // The architect was called with the old auth scheme and a forced tool call.
  const first = server.requests[0];
  expect(first?.headers['x-api-key']).toBe('architect-key-123');
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
  // …and the canary is nowhere: logs, events, task records, reports, the architect's prompts.
  const log = readFileSync(path.join(night.paths.logs, 'n00', 'attempt-1.log'), 'utf8');
  expect(log).toContain('token is [redacted]');
  // (The spec file itself, and the worker's raw copy of the executor's output under hosts/, are the
  // person's and the executor's own words; everything nightshift writes is checked.)
  const written = allFiles(night.root).filter(
    (f) =>
      !f.includes(`${path.sep}hosts${path.sep}`) &&
      !f.endsWith('spec.md') &&
      !f.includes(`${path.sep}specs${path.sep}`),
  );
  expect(written.some((f) => f.endsWith('task.json'))).toBe(true);
  for (const file of written) {
    expect(readFileSync(file, 'utf8').includes(CANARY), `${file} holds the secret`).toBe(false);
  }
  expect(html.stdout.includes(CANARY)).toBe(false);
  for (const r of server.requests) expect(JSON.stringify(r.body).includes(CANARY)).toBe(false);
}, 180_000);
