/**
 * Secrets in what nightshift writes: task records, applied requests and events are redacted at the
 * store and the event log, so `ls`, `show`, the TUI and the report read records that hold none.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { secretValues } from '../../src/config/secrets.js';
import { updateTask } from '../../src/core/task.js';
import { ManualClock } from '../../src/lib/clock.js';
import { makeRedactor } from '../../src/lib/redact.js';
import { EventLog } from '../../src/queue/eventlog.js';
import type { AppliedRequest } from '../../src/queue/requests.js';
import { QueueStore } from '../../src/queue/store.js';
import { parseSpec } from '../../src/spec/parse.js';
import { makeWorkspace, runCli, specText, type TestWorkspace } from '../../src/testing/workspace.js';
import { tid } from '../../src/testing/ids.js';

const SECRET = 'sk-canary-91e0"quoted\\slash';
const CONFIG = `repos:
  app: { path: /tmp/nightshift-test-app, main: main }
hosts:
  local: { kind: local }
providers:
  scripted: { kind: scripted, hosts: [local], concurrency: 2, secretEnv: { TOKEN: NS_UNIT_TOKEN } }
architect: { mode: manual, apiKeyEnv: NS_UNIT_ARCH_KEY }
`;

let ws: TestWorkspace;
beforeEach(() => {
  ws = makeWorkspace(CONFIG);
});
afterEach(() => ws.cleanup());

it('redacts a secret as written and as a JSON string escapes it', () => {
  const redact = makeRedactor([SECRET]);
  expect(redact(`key ${SECRET}.`)).toBe('key [redacted].');
  expect(redact(`found the text ${JSON.stringify(SECRET)}`)).toBe('found the text "[redacted]"');
});

it('reads the secret values of every provider secretEnv and the architect key variables, skipping unset ones', () => {
  expect(
    secretValues(ws.config, { NS_UNIT_TOKEN: 'one', NS_UNIT_ARCH_KEY: 'two', OTHER: 'x' }).sort(),
  ).toEqual(['one', 'two']);
  expect(secretValues(ws.config, { NS_UNIT_ARCH_KEY: 'two' })).toEqual(['two']);
});

it('writes task records and events with the secret redacted; only the raw spec text keeps it', () => {
  const clock = new ManualClock();
  const redact = makeRedactor([SECRET]);
  const events = new EventLog(ws.paths.events);
  const store = new QueueStore(ws.paths, clock, events, { redact });
  store.ensureLayout();
  const text = specText({
    id: 'alpha',
    title: `Rotate ${SECRET}`,
    body: `Use ${SECRET} to log in, then retry.`,
  });
  const parsed = parseSpec(Buffer.from(text), { file: 'alpha.md', config: ws.config });
  const task = store.enqueue(parsed);
  store.transition(tid('alpha'), (t) =>
    updateTask(t, clock.now(), `noted ${SECRET}`, {
      review: { grade: null, verdict: null, summary: `why ${SECRET}`, findings: [], approvedBy: null },
    }),
  );
  const record = readFileSync(path.join(ws.paths.taskDir('pending', 'alpha'), 'task.json'), 'utf8');
  expect(record).not.toContain('sk-canary');
  expect(JSON.parse(record)).toMatchObject({
    title: 'Rotate [redacted]',
    review: { summary: 'why [redacted]' },
  });
  expect(task.title).toBe('Rotate [redacted]');
  expect(store.get(tid('alpha')).review?.summary).toBe('why [redacted]');
  const written = readFileSync(ws.paths.events, 'utf8');
  expect(written).toContain('noted [redacted]');
  expect(written).not.toContain('sk-canary');
  expect(store.specText(tid('alpha'))).toContain('Use [redacted] to log in');
  expect(store.specText(tid('alpha'), { raw: true })).toContain(`Use ${SECRET} to log in`);
});

it('keeps an add request’s hash and size in requests/.applied, not its text, and ls/show print no secret', async () => {
  const env = { NS_UNIT_TOKEN: SECRET };
  const file = path.join(ws.root, 'draft.md');
  const text = specText({
    id: 'beta',
    title: `Beta ${SECRET}`,
    body: `Paste ${SECRET} into the config loader test.`,
  });
  writeFileSync(file, text);
  const added = await runCli(['add', file], { cwd: ws.root, env });
  expect(added.code, added.stderr).toBe(0);
  const [name] = readdirSync(ws.paths.requestsApplied);
  const applied = readFileSync(path.join(ws.paths.requestsApplied, name ?? ''), 'utf8');
  expect(applied).not.toContain('sk-canary');
  const record = JSON.parse(applied) as AppliedRequest;
  expect(record.outcome).toMatchObject({ ok: true, task: 'beta' });
  expect(record.request).toEqual({
    kind: 'add',
    file: 'draft.md',
    force: false,
    textSha256: createHash('sha256').update(text).digest('hex'),
    textBytes: Buffer.byteLength(text),
  });
  for (const args of [['ls'], ['ls', '--json'], ['show', 'beta'], ['show', 'beta', '--json']]) {
    const r = await runCli(args, { cwd: ws.root, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Beta [redacted]');
    expect(r.stdout + r.stderr).not.toContain('sk-canary');
  }
  expect(readFileSync(ws.paths.events, 'utf8')).not.toContain('sk-canary');
});

it('writes an inbox rejection’s reason without the secret, though the rejected spec keeps its bytes', async () => {
  // A key as keys are (the reason quotes the value JSON-escaped, so a quote in it would hide it).
  const plain = 'sk-canary-plain-5e1d';
  const env = { NS_UNIT_TOKEN: plain };
  const text = specText({ id: 'gamma', extra: `priority: ${plain}` });
  const file = path.join(ws.paths.specs, 'gamma.md');
  writeFileSync(file, text);
  // Written a minute ago: settled, so the inbox rejects it at once (waiting for a writer is not this test's).
  const then = new Date(Date.now() - 60_000);
  utimesSync(file, then, then);
  const r = await runCli(['ls'], { cwd: ws.root, env });
  expect(r.stderr).toContain('inbox: rejected gamma.md');
  const reason = readFileSync(path.join(ws.paths.rejected, 'gamma.md.error.txt'), 'utf8');
  expect(reason).toContain('priority');
  expect(reason).toContain('[redacted]');
  expect(reason).not.toContain('sk-canary');
  expect(readFileSync(path.join(ws.paths.rejected, 'gamma.md'), 'utf8')).toBe(text);
  expect(readFileSync(ws.paths.events, 'utf8')).not.toContain('sk-canary');
});
