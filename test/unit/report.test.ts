import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../../src/client/report/index.js';
import type { NightshiftEvent } from '../../src/core/events.js';
import {
  enterDone,
  enterFailed,
  enterRetry,
  enterReview,
  enterRunning,
  updateTask,
  type Review,
} from '../../src/core/task.js';
import { ManualClock } from '../../src/lib/clock.js';
import { EventLog } from '../../src/queue/eventlog.js';
import { QueueStore } from '../../src/queue/store.js';
import { parseSpec } from '../../src/spec/parse.js';
import { makeWorkspace, runCli, specText, type TestWorkspace } from '../../src/testing/workspace.js';
import { tid } from '../../src/testing/ids.js';

const CONFIG = `repos:
  app: { path: /tmp/nightshift-test-app, main: main }
hosts:
  local: { kind: local }
providers:
  glm:
    kind: scripted
    hosts: [local]
    concurrency: 2
    secretEnv: { ANTHROPIC_AUTH_TOKEN: ZHIPU_API_KEY }
  other: { kind: scripted, hosts: [local], concurrency: 1 }
architect:
  apiKeyEnv: ANTHROPIC_API_KEY
`;

/** Canary secrets: set in the environment the report runs with, and planted in recorded fields. */
const PROVIDER_SECRET = 'zk-CANARY-provider-0123456789';
const ARCHITECT_SECRET = 'sk-ant-CANARY-architect-abcdef';
const ENV = { ZHIPU_API_KEY: PROVIDER_SECRET, ANTHROPIC_API_KEY: ARCHITECT_SECRET };

const HOUR = 3_600_000;
/** The night starts at 20:00 UTC; the report is read at 08:00 the next morning. */
const NIGHT = Date.UTC(2026, 10, 26, 20);
const at = (hours: number): number => NIGHT + hours * HOUR;
const iso = (hours: number): string => new Date(at(hours)).toISOString();
const EVIL_TITLE = '<script>alert("x")</script> & friends';

let ws: TestWorkspace;
let clock: ManualClock;

const review = (patch: Partial<Review>): Review => ({
  grade: null,
  verdict: 'approve',
  summary: '',
  findings: [],
  approvedBy: 'architect',
  ...patch,
});

/**
 * The fixture night (times are hours after 20:00 UTC):
 * - alpha (glm): rate-limited 0–1 (provider), runs again 1–2 and exits, graded A, merged at 2.5.
 * - beta (other): timed out 0–2 (killed), runs again 2–3 and exits, graded C, merged at 3.5.
 * - gamma (glm): 4–4.5 fails on auth (provider) and is failed.
 * - delta (glm): 5–6 exits, graded B+, parked needs-human at 6.
 * - old (other): all of it happened the day before, outside a 12h window.
 */
function buildNight(): void {
  const events = new EventLog(ws.paths.events);
  const store = new QueueStore(ws.paths, clock, events);
  store.ensureLayout();
  const enqueue = (id: string, title: string, createdAt: number) => {
    clock = new ManualClock(createdAt);
    const storeAt = new QueueStore(ws.paths, clock, events);
    const text = specText({ id, title: JSON.stringify(title), body: `Work for ${id}: ${'x'.repeat(40)}` });
    storeAt.enqueue(parseSpec(Buffer.from(text), { file: `${id}.md`, config: ws.config }));
  };
  const emit = (e: NightshiftEvent) => events.emit(e);

  enqueue('old', 'Yesterday work', at(-14));
  store.transition(tid('old'), (t) => enterRunning(t, { now: at(-14), provider: 'other', host: 'local' }));
  store.transition(tid('old'), (t) => enterReview(t, { now: at(-13), exitCode: 0 }));
  store.transition(tid('old'), (t) => updateTask(t, at(-13), 'graded', { review: review({ grade: 'F' }) }));
  store.transition(tid('old'), (t) =>
    enterDone(t, { now: at(-12.5), sha: 'ffff000011112222333344445555666677778888' }),
  );

  for (const id of ['alpha', 'beta', 'gamma', 'delta'])
    enqueue(id, id === 'alpha' ? EVIL_TITLE : `Task ${id}`, at(0));

  store.transition(tid('alpha'), (t) => enterRunning(t, { now: at(0), provider: 'glm', host: 'local' }));
  store.transition(tid('beta'), (t) => enterRunning(t, { now: at(0), provider: 'other', host: 'local' }));
  emit({
    type: 'provider.probe',
    time: iso(0.5),
    provider: 'glm',
    host: 'local',
    ok: false,
    reason: `probe said 401 for key ${PROVIDER_SECRET}`,
  });
  store.transition(tid('alpha'), (t) =>
    enterRetry(t, {
      now: at(1),
      code: 'rate-limit',
      attribution: 'provider',
      reason: `429 from the endpoint (token ${PROVIDER_SECRET})`,
    }),
  );
  emit({
    type: 'provider.health',
    time: iso(1),
    provider: 'glm',
    breaker: 'open',
    limit: 1,
    reason: 'rate limited',
  });
  store.transition(tid('alpha'), (t) => enterRunning(t, { now: at(1), provider: 'glm', host: 'local' }));
  emit({
    type: 'provider.probe',
    time: iso(1.5),
    provider: 'glm',
    host: 'local',
    ok: true,
    reason: 'answered',
  });
  emit({
    type: 'provider.health',
    time: iso(1.5),
    provider: 'glm',
    breaker: 'closed',
    limit: 2,
    reason: 'probe passed',
  });
  store.transition(tid('alpha'), (t) => enterReview(t, { now: at(2), exitCode: 0 }));
  store.transition(tid('alpha'), (t) =>
    updateTask(t, at(2.2), 'judged', {
      gates: [
        { name: 'tests', passed: true, durationMs: 1000, evidence: 'ok' },
        { name: 'diff', passed: true, durationMs: 10, evidence: '12 lines' },
      ],
      review: review({ grade: 'A', summary: 'Clean change with tests.' }),
    }),
  );
  store.transition(tid('alpha'), (t) =>
    enterDone(t, { now: at(2.5), sha: 'abcdef1234567890abcdef1234567890abcdef12' }),
  );

  emit({
    type: 'task.killing',
    time: iso(2),
    task: 'beta',
    host: 'local',
    attempt: 1,
    reason: 'ran longer than its timeout (7200 s)',
  });
  store.transition(tid('beta'), (t) =>
    enterRetry(t, {
      now: at(2),
      code: 'timeout',
      attribution: 'spec',
      outcome: 'timeout',
      reason: 'timeout',
    }),
  );
  store.transition(tid('beta'), (t) => enterRunning(t, { now: at(2), provider: 'other', host: 'local' }));
  store.transition(tid('beta'), (t) => enterReview(t, { now: at(3), exitCode: 0 }));
  store.transition(tid('beta'), (t) =>
    updateTask(t, at(3), 'judged', {
      gates: [{ name: 'tests', passed: false, durationMs: 2000, evidence: 'one failure' }],
      review: review({ grade: 'C', summary: `Works, but it logs the key ${ARCHITECT_SECRET}.` }),
    }),
  );
  store.transition(tid('beta'), (t) =>
    enterDone(t, { now: at(3.5), sha: '1234567890abcdef1234567890abcdef12345678' }),
  );

  store.transition(tid('gamma'), (t) => enterRunning(t, { now: at(4), provider: 'glm', host: 'local' }));
  emit({
    type: 'provider.probe',
    time: iso(4.2),
    provider: 'other',
    host: 'local',
    ok: false,
    reason: 'no answer',
  });
  store.transition(tid('gamma'), (t) =>
    enterFailed(t, { now: at(4.5), code: 'auth', attribution: 'provider', reason: 'not logged in' }),
  );

  store.transition(tid('delta'), (t) => enterRunning(t, { now: at(5), provider: 'glm', host: 'local' }));
  store.transition(tid('delta'), (t) => enterReview(t, { now: at(6), exitCode: 0 }));
  store.transition(tid('delta'), (t) =>
    updateTask(t, at(6), `review rounds used up (2): still missing the cap test ${PROVIDER_SECRET}`, {
      review: review({ grade: 'B+', verdict: 'changes', summary: 'Missing the cap test.' }),
      parked: 'needs-human',
    }),
  );
  emit({ type: 'monitor.breaker', time: iso(7), reason: 'would kill 2 of 3 running tasks; froze dispatch' });
  clock = new ManualClock(at(12));
}

const cli = (...args: string[]) => runCli(args, { cwd: ws.root, clock, env: ENV });

async function json(...args: string[]): Promise<ReportData> {
  const r = await cli('report', '--format', 'json', ...args);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(r.stdout) as ReportData;
}

/** A strict well-formedness check: one <html> root, every tag closed in order, no raw `<` in text. */
function parseDocument(html: string): { root: string; tags: string[] } {
  const VOID = new Set(['meta', 'br', 'hr', 'img', 'link', 'input']);
  const body = html.replace(/^<!DOCTYPE html>\s*/, '');
  const stack: string[] = [];
  const tags: string[] = [];
  let roots = 0;
  const re =
    /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*(?:="[^"<]*")?)*)\s*(\/?)>|<!--[\s\S]*?-->|</g;
  for (const m of body.matchAll(re)) {
    if (m[0] === '<') throw new Error(`stray "<" at ${m.index}: ${body.slice(m.index, m.index + 40)}`);
    if (m[0].startsWith('<!--')) continue;
    const [, closing, name = '', , selfClosing] = m;
    const tag = name.toLowerCase();
    if (closing) {
      const open = stack.pop();
      if (open !== tag) throw new Error(`</${tag}> closes <${open}> at ${m.index}`);
      continue;
    }
    if (stack.length === 0) roots++;
    tags.push(tag);
    if (!selfClosing && !VOID.has(tag)) stack.push(tag);
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return { root: tags[0] ?? '', tags };
}

// The report only reads, so one fixture night serves every test.
beforeAll(() => {
  ws = makeWorkspace(CONFIG);
  clock = new ManualClock(at(12));
  buildNight();
});
afterAll(() => ws.cleanup());

describe('nightshift report --format json', () => {
  it('digests every task touched in the window', async () => {
    const r = await json();
    // Active from the first attempt (20:00) to the monitor's breaker (03:00): 7 of the window's 12 hours.
    expect(r.window).toEqual({
      since: iso(0),
      until: iso(12),
      hours: 12,
      activeFrom: iso(0),
      activeUntil: iso(7),
      activeHours: 7,
    });
    expect(r.tasks.map((t) => [t.id, t.state])).toEqual([
      ['alpha', 'done'],
      ['beta', 'done'],
      ['gamma', 'failed'],
      ['delta', 'review'],
    ]);
    const [alpha, beta, gamma, delta] = r.tasks;
    expect(alpha).toMatchObject({
      title: EVIL_TITLE,
      attemptCount: 2,
      startedAt: iso(0),
      endedAt: iso(2.5),
      durationMs: 2.5 * HOUR,
      gates: [
        { name: 'tests', passed: true, durationMs: 1000 },
        { name: 'diff', passed: true, durationMs: 10 },
      ],
      grade: 'A',
      verdict: 'approve',
      summary: 'Clean change with tests.',
      merge: { short: 'abcdef123456', at: iso(2.5) },
      why: null,
    });
    expect(alpha?.attempts[0]).toMatchObject({
      n: 1,
      provider: 'glm',
      host: 'local',
      durationMs: HOUR,
      outcome: 'failed',
      code: 'rate-limit',
      attribution: 'provider',
      reason: '429 from the endpoint (token [redacted])',
    });
    expect(beta?.attempts.map((a) => a.outcome)).toEqual(['timeout', 'exited']);
    expect(gamma).toMatchObject({
      failure: { code: 'auth', attribution: 'provider', reason: 'not logged in' },
      why: 'auth (provider): not logged in',
      durationMs: 0.5 * HOUR,
    });
    expect(delta).toMatchObject({
      parked: 'needs-human',
      why: 'needs-human: review rounds used up (2): still missing the cap test [redacted]',
      grade: 'B+',
      verdict: 'changes',
    });
  });

  it('opens with what needs a person: the parked task, then the failed one, each with its commands', async () => {
    const r = await json();
    expect(r.attention).toEqual([
      {
        id: 'delta',
        title: 'Task delta',
        state: 'review',
        parked: 'needs-human',
        failureCode: null,
        needsPerson: true,
        what: 'The review rounds are used up and the work is still not ready to merge (the review still asks for changes, or a conflict or a gate failed on top of main).',
        detail: 'review rounds used up (2): still missing the cap test [redacted]',
        failedGates: [],
        todo: 'Finish it by hand on ns/delta and approve it, or reject it.',
        actions: [
          { action: 'approve', command: 'nightshift approve delta', key: 'A' },
          { action: 'reject', command: 'nightshift reject delta', key: 'X' },
        ],
      },
      {
        id: 'gamma',
        title: 'Task gamma',
        state: 'failed',
        parked: null,
        failureCode: 'auth',
        needsPerson: true,
        what: 'The provider refused the credentials (or the model or URL was not found).',
        detail: 'not logged in',
        failedGates: [],
        todo: 'Check the provider (nightshift providers, nightshift doctor), then retry it.',
        actions: [{ action: 'retry', command: 'nightshift retry gamma', key: 'r' }],
      },
    ]);
  });

  it('computes per-provider figures and totals on the fixture night', async () => {
    const r = await json();
    const glm = r.providers.find((p) => p.name === 'glm');
    const other = r.providers.find((p) => p.name === 'other');
    expect(r.providers.map((p) => p.name)).toEqual(['glm', 'other']);
    expect(glm).toMatchObject({
      configured: true,
      attempts: 4,
      finished: 4,
      exitedCleanly: 2,
      successRate: 0.5,
      merged: 1,
      tasksPerHour: 0.14, // 1 merged in 7 active hours (not the window's 12)
      graded: 2,
      averageGrade: 3.65, // A (4.0) and B+ (3.3)
      averageGradeLetter: 'A-',
      slotMs: 3.5 * HOUR,
      wastedMs: 1.5 * HOUR, // rate-limited hour + auth half hour, both provider-attributed
      limit: 2,
      breaker: 'closed',
      limitHistory: [
        { at: iso(1), limit: 1, breaker: 'open', reason: 'rate limited' },
        { at: iso(1.5), limit: 2, breaker: 'closed', reason: 'probe passed' },
      ],
      probes: 2,
      probeFailures: 1,
      lastProbeFailure: { at: iso(0.5), host: 'local', reason: 'probe said 401 for key [redacted]' },
    });
    expect(other).toMatchObject({
      attempts: 2,
      exitedCleanly: 1,
      successRate: 0.5,
      merged: 1,
      tasksPerHour: 0.14,
      averageGrade: 2,
      averageGradeLetter: 'C',
      wastedMs: 2 * HOUR, // the timed-out attempt, though charged to the spec
      limit: null,
      probeFailures: 1,
      lastProbeFailure: { reason: 'no answer' },
    });
    expect(r.totals).toEqual({
      tasks: 4,
      byState: { pending: 0, running: 0, review: 1, done: 2, failed: 1 },
      merged: 2,
      failed: 1,
      parked: 1,
      killed: 1,
      attempts: 6,
      finished: 6,
      exitedCleanly: 3,
      successRate: 0.5,
      tasksPerHour: 0.29,
      graded: 3,
      averageGrade: 3.1,
      averageGradeLetter: 'B',
      slotMs: 6.5 * HOUR,
      wastedMs: 3.5 * HOUR,
      probeFailures: 2,
      breakerEvents: 3,
    });
  });

  it('orders the timeline: breakers, kills, merges, failures, parking', async () => {
    const r = await json();
    expect(r.timeline.map((e) => [e.at, e.kind, e.task ?? e.provider])).toEqual([
      [iso(1), 'breaker', 'glm'],
      [iso(1.5), 'breaker', 'glm'],
      [iso(2), 'killed', 'beta'],
      [iso(2.5), 'merged', 'alpha'],
      [iso(3.5), 'merged', 'beta'],
      [iso(4.5), 'failed', 'gamma'],
      [iso(6), 'parked', 'delta'],
      [iso(7), 'breaker', null],
    ]);
    expect(r.timeline[0]?.text).toBe('glm breaker closed → open, limit 1: rate limited');
    expect(r.timeline[3]?.text).toContain('merged as abcdef123456');
  });

  it('--since widens or narrows the window', async () => {
    const wide = await json('--since', '1d6h');
    expect(wide.window).toEqual({
      since: iso(-18),
      until: iso(12),
      hours: 30,
      activeFrom: iso(-14), // yesterday's task started then
      activeUntil: iso(7),
      activeHours: 21,
    });
    expect(wide.totals.tasksPerHour).toBe(0.14); // 3 merged in 21 active hours
    expect(wide.tasks.map((t) => t.id)).toContain('old');
    expect(wide.totals.merged).toBe(3);
    // 02:00–08:00: only delta was touched (its attempt ended and it parked at 02:00, the window's edge).
    const narrow = await json('--since', '6h');
    expect(narrow.tasks.map((t) => t.id)).toEqual(['delta']);
    expect(narrow.timeline.map((e) => e.kind)).toEqual(['parked', 'breaker']);
    expect(narrow.providers.map((p) => [p.name, p.attempts, p.probes])).toEqual([
      ['glm', 1, 0],
      ['other', 0, 0],
    ]);
    expect(narrow.totals).toMatchObject({ merged: 0, tasksPerHour: 0, graded: 1, breakerEvents: 1 });
    expect(narrow.window).toMatchObject({ activeFrom: iso(6), activeUntil: iso(7), activeHours: 1 });
  });

  it('refuses a bad --since with exit 2, naming the flag and the format', async () => {
    const r = await cli('report', '--since', 'yesterday');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--since');
    expect(r.stderr).toMatch(/expected a duration like 30m, 12h/);
    expect((await cli('report', '--format', 'pdf')).code).toBe(2);
  });
});

describe('nightshift report --format md', () => {
  it('has a digest line for each task, the provider table and the timeline', async () => {
    const r = await cli('report');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const md = r.stdout;
    expect(md).toMatch(/^# nightshift report: 2026-11-26 20:00 → 2026-11-27 08:00 UTC/);
    // What needs the reader comes first, before the figures and the per-task digest.
    const needs = md.indexOf('## Needs you');
    expect(needs).toBeGreaterThan(0);
    expect(needs).toBeLessThan(md.indexOf('## Summary'));
    expect(md).toContain('1. **Task delta** (delta): in review, parked (needs-human)');
    expect(md).toContain(
      '   - act: `nightshift approve delta` or `nightshift reject delta`; in the TUI, on its row: `A` (approve), `X` (reject)',
    );
    expect(md).toContain('2. **Task gamma** (gamma): failed (auth)');
    expect(md).toContain('   - act: `nightshift retry gamma`; in the TUI, on its row: `r` (retry)');
    expect(md).toContain('- throughput: 0.29 merged/hour over 7h of activity');
    // The summary that sent delta back spoke to the agent: the report says so.
    expect(md).toContain('- sent back to the agent with these notes: Missing the cap test.');
    expect(md).toContain('**4 task(s)** touched in 12 h: 2 merged, 1 failed, 1 parked');
    expect(md).toContain('### \\<script\\>alert("x")\\</script\\> \\& friends (alpha): merged');
    expect(md).toContain('- merged as abcdef123456 at 2026-11-26 22:30');
    expect(md).toContain(
      '  - #1 glm@local 1h failed [rate-limit, provider]: 429 from the endpoint (token \\[redacted\\])',
    );
    expect(md).toContain('  - #2 glm@local 1h exited (exit 0)');
    expect(md).toContain('- gates: tests pass, diff pass');
    expect(md).toContain('- grade: A, verdict: approve');
    expect(md).toContain('- duration: 2h30m');
    expect(md).toContain('### Task gamma (gamma): FAILED');
    expect(md).toContain('- why: auth (provider): not logged in');
    expect(md).toContain('### Task delta (delta): in review, parked: needs-human');
    expect(md).toContain(
      '| glm | 4 | 50% | 0.14 | A- (3.65) | 1h30m | 2 (closed) | 1 (last: probe said 401 for key \\[redacted\\]) |',
    );
    expect(md).toContain('| 2026-11-26 22:00 | killed | beta | other@local |');
    expect(md).not.toContain('<script>');
  });
});

describe('nightshift report --format html', () => {
  it('is one self-contained document with SVG charts and every text escaped', async () => {
    const r = await cli('report', '--format', 'html');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const html = r.stdout;
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    const doc = parseDocument(html);
    expect(doc.root).toBe('html');
    expect(doc.tags.filter((t) => t === 'svg')).toHaveLength(3);
    expect(doc.tags).not.toContain('script');
    expect(doc.tags).not.toContain('link');
    expect(doc.tags).not.toContain('img');
    // The slot chart has one rect per attempt in the window (6), coloured by outcome.
    expect(html.match(/<rect [^>]*fill="#c8413b"><title>/g)).toHaveLength(2); // failed: alpha#1, gamma#1
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; friends');
    // "Needs you" comes before the cards and the charts; the tasks table can use the page's width.
    expect(html.indexOf('<h2>Needs you</h2>')).toBeLessThan(html.indexOf('class="cards"'));
    expect(html).toContain('<code>nightshift approve delta</code> or <code>nightshift reject delta</code>');
    expect(html).toContain('<kbd>r</kbd> retry');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).not.toMatch(/@import/i);
  });
});

describe('secrets', () => {
  it('never appear in any format, even when a recorded field holds one', async () => {
    for (const format of ['json', 'md', 'html']) {
      const r = await cli('report', '--format', format);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain(PROVIDER_SECRET);
      expect(r.stdout).not.toContain(ARCHITECT_SECRET);
      expect(r.stdout).toMatch(/\\?\[redacted\\?\]/);
    }
    // The canaries really are in the records the report read.
    expect(readFileSync(ws.paths.events, 'utf8')).toContain(PROVIDER_SECRET);
  });
});

describe('--out', () => {
  it('writes the file (0644) and prints its path', async () => {
    const r = await cli('report', '--format', 'html', '--out', 'morning.html');
    const file = path.join(ws.root, 'morning.html');
    expect(r).toMatchObject({ code: 0, stdout: `${file}\n` });
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(readFileSync(file, 'utf8')).toMatch(/^<!DOCTYPE html>[\s\S]*<\/html>\n$/);
  });
});
