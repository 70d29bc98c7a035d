/**
 * The claude-code architect (docs/architect.md, "claude-code"): the real Claude Code CLI (a pinned
 * version, src/testing/claude-cli.ts) in real tmux, against the loopback Messages API server, through the
 * judgment pipeline. The scripted model reads a file the diff does not touch, answers through the CLI's
 * structured output, and the pipeline acts on the verdict; round 2 resumes the session; an answer that
 * stays unusable after the repair round parks the task and never merges. Skipped, saying why, when no
 * CLI can be had.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { architectSocketPath } from '../../src/hosts/layout.js';
import { LocalRunner } from '../../src/hosts/runner.js';
import {
  hang,
  lastUserText,
  text,
  toolUse,
  type RecordedRequest,
} from '../../src/testing/anthropic-server.js';
import { toolResults, turns } from '../../src/testing/anthropic-turns.js';
import { ARCHITECT_KEY, architectBench, type ArchitectBench } from '../../src/testing/architect-review.js';
import { findClaude } from '../../src/testing/claude-cli.js';
import { git } from '../../src/testing/git.js';
import { waitFor } from '../../src/testing/wait.js';

const found = await findClaude();
const claude = 'bin' in found ? found : null;
if (!claude)
  console.warn(
    `[claude-architect] SKIPPED: no Claude Code CLI to run. ${'problem' in found ? found.problem : ''}`,
  );

let bench: ArchitectBench | null = null;
afterEach(async () => {
  await bench?.cleanup();
  bench = null;
});

const HELPER = 'export function helper(): number {\n  return 42; // HELPER-MARKER-7f3a\n}\n';
const verdict = (v: object) => toolUse('StructuredOutput', v);
const isReview = (r: RecordedRequest) => (r.body?.tools ?? []).some((t) => t.name === 'StructuredOutput');

describe.skipIf(!claude)('claude-code architect', () => {
  it('reads a file outside the diff, and the pipeline acts on its verdict; round 2 resumes the session', async () => {
    bench = await architectBench({ cli: claude!.bin, files: { 'helper.ts': HELPER } });
    const b = bench;
    const helperPath = path.join(b.checkout('r1'), 'helper.ts');
    b.server.setDefault((r) => {
      if (!isReview(r)) return text('ok');
      // Round 2's prompt names its round: answer at once; round 1 reads helper.ts first.
      if (lastUserText(r.body).includes('This is review round 2.')) {
        return verdict({ grade: 'A-', verdict: 'approve', summary: 'The fix is in.', findings: [] });
      }
      return turns(
        toolUse('Read', { file_path: helperPath }),
        verdict({
          grade: 'C',
          verdict: 'changes',
          summary: 'feature.ts ignores helper().',
          findings: [
            { file: 'feature.ts', line: 1, severity: 'major', text: 'Call helper() instead of 41.' },
          ],
        }),
      )(r);
    });
    b.reviewed('r1', { 'feature.ts': 'export const value = 41;\n' });
    b.judgment.kick();
    await waitFor('round 1 judged', () => b.task('r1').state === 'pending', 120_000);
    const r1 = b.task('r1');
    expect(r1.review).toMatchObject({ verdict: 'changes', grade: 'C', approvedBy: null });
    expect(r1.review?.findings[0]?.text).toBe('Call helper() instead of 41.');
    // The architect read helper.ts, which the diff does not touch, in the isolated checkout.
    const read = b.server.messages().flatMap((m) => toolResults(m.body));
    expect(read.some((t) => t.content.includes('HELPER-MARKER-7f3a') && !t.isError)).toBe(true);
    expect(lastUserText(b.server.messages()[0]?.body ?? null)).not.toContain('HELPER-MARKER-7f3a');
    const session = r1.architectSession;
    expect(session).toMatch(/^[0-9a-f-]{36}$/);
    // It ran in tmux on the architect's socket, announced with its session name.
    const started = b.events.find((e) => e.type === 'architect.started');
    expect(started).toMatchObject({
      task: 'r1',
      round: 0,
      mode: 'claude-code',
      session: 'ns-architect-review',
    });
    expect(b.events.find((e) => e.type === 'architect.verdict')).toMatchObject({
      task: 'r1',
      verdict: 'changes',
      grade: 'C',
    });
    const has = await new LocalRunner().run([
      'tmux',
      '-S',
      architectSocketPath(b.paths),
      'has-session',
      '-t',
      '=ns-architect-review',
    ]);
    expect(has.exitCode).toBe(0);
    // The credential went by environment only: not in the argv file the session read, nor in any log line.
    const argvFile = readFileSync(
      path.join(b.paths.architectDir, 'runs', 'ns-architect-review', 'argv'),
      'utf8',
    );
    expect(argvFile).not.toContain(ARCHITECT_KEY);
    expect(b.log.join('\n')).not.toContain(ARCHITECT_KEY);
    expect(b.server.messages()[0]?.headers['x-api-key']).toBe(ARCHITECT_KEY);

    // Round 2: the executor fixed it; the architect resumes its own session.
    const before = b.server.messages().length;
    b.nextRound('r1', {
      'feature.ts': 'import { helper } from "./helper";\nexport const value = helper();\n',
    });
    b.judgment.kick();
    await waitFor(
      'round 2 approved',
      () => b.task('r1').review?.verdict === 'approve' || b.task('r1').state === 'done',
      120_000,
    );
    const round2 = b.server.messages().slice(before).find(isReview);
    const history = JSON.stringify(round2?.body?.messages ?? []);
    // Round 1's conversation is in round 2's request: its Read result and its own "changes" answer.
    expect(history).toContain('HELPER-MARKER-7f3a');
    expect(history).toContain('Call helper() instead of 41.');
    expect(b.task('r1').architectSession).toBe(session);
    expect(b.events.filter((e) => e.type === 'architect.started').at(-1)).toMatchObject({ round: 1 });
  }, 300_000);

  it('an answer that stays unusable after the repair round parks the task as architect-unavailable and never merges', async () => {
    bench = await architectBench({ cli: claude!.bin });
    const b = bench;
    // Never calls StructuredOutput and writes no JSON block: prose only, twice.
    b.server.setDefault((r) => (isReview(r) ? text('Looks fine to me, ship it.') : text('ok')));
    const main = git(b.repo, 'rev-parse', 'main');
    b.reviewed('m1', { 'feature.ts': 'export const value = 1;\n' });
    b.judgment.kick();
    await waitFor('m1 parked', () => b.task('m1').parked !== null, 120_000);
    const t = b.task('m1');
    expect(t.parked).toBe('architect-unavailable');
    expect(t.state).toBe('review');
    expect(t.review).toMatchObject({ verdict: null, approvedBy: null, attribution: 'supervisor' });
    expect(t.review?.summary).toMatch(/no valid answer in 2 runs/);
    const reviews = b.server.messages().filter(isReview);
    expect(reviews.length).toBeGreaterThanOrEqual(2);
    const repair = reviews.find((r) => lastUserText(r.body).includes('Your last answer could not be used'));
    // The repair round resumed the session: the first run's answer is in its history.
    expect(JSON.stringify(repair?.body?.messages)).toContain('Looks fine to me, ship it.');
    expect(b.events.find((e) => e.type === 'architect.verdict')).toMatchObject({ verdict: 'unavailable' });
    await b.judgment.stop();
    expect(git(b.repo, 'rev-parse', 'main')).toBe(main);
    // A round was not charged: the task is still in its first round.
    expect(t.round).toBe(0);
  }, 300_000);

  it('a daemon that stops during a review ends the session at once; the task waits in review, unjudged', async () => {
    bench = await architectBench({ cli: claude!.bin, timeout: '10m' });
    const b = bench;
    b.server.setDefault(hang());
    b.reviewed('s1', { 'feature.ts': 'export const value = 1;\n' });
    b.judgment.kick();
    await b.server.waitFor((r) => (r.body?.tools ?? []).some((t) => t.name === 'StructuredOutput'), 120_000);
    const argv = readFileSync(path.join(b.paths.architectDir, 'runs', 'ns-architect-review', 'argv'), 'utf8');
    const sid = /'--session-id' '([0-9a-f-]{36})'/.exec(argv)?.[1] ?? '';
    expect(sid).not.toBe('');
    // Far sooner than the 10m timeout: stop() kills the session instead of waiting for it.
    await b.judgment.stop();
    const t = b.task('s1');
    expect(t).toMatchObject({ state: 'review', parked: null, review: null, round: 0 });
    expect(b.events.some((e) => e.type === 'architect.verdict')).toBe(false);
    await waitFor(
      'no process of the stopped session',
      async () => (await new LocalRunner().run(['pgrep', '-f', sid])).exitCode === 1,
      30_000,
    );
  }, 300_000);

  it('an endpoint that never answers: the session is killed at architect.timeout, the task parks, no round charged', async () => {
    bench = await architectBench({ cli: claude!.bin, timeout: '6s' });
    const b = bench;
    b.server.setDefault(hang());
    b.reviewed('d1', { 'feature.ts': 'export const value = 1;\n' });
    b.judgment.kick();
    await waitFor('d1 parked', () => b.task('d1').parked !== null, 120_000);
    const t = b.task('d1');
    expect(t.parked).toBe('architect-unavailable');
    expect(t.round).toBe(0);
    expect(t.review).toMatchObject({ verdict: null, attribution: 'supervisor' });
    expect(t.review?.summary).toMatch(
      /architect did not answer within 6s \(architect\.timeout\)|architect session failed/,
    );
    // Nothing of the session is left running: no process holds its session id.
    const sid = t.architectSession ?? '';
    expect(sid).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(
      'no process of the killed session',
      async () => (await new LocalRunner().run(['pgrep', '-f', sid])).exitCode === 1,
      30_000,
    );
  }, 300_000);
});
