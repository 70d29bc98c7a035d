/** What the executor is told on a later round: the architect's findings, or the failed gates' evidence, once. */
import { expect, it } from 'vitest';
import {
  enterChanges,
  enterReview,
  enterRunning,
  newTask,
  updateTask,
  type Review,
} from '../../src/core/task.js';
import { promptFor } from '../../src/daemon/attempts.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { tid } from '../../src/testing/ids.js';

const SPEC = '---\ntitle: Add a helper\n---\nAdd the helper.\n';

function sentBack(review: Review, gates: { name: 'tests' | 'diff'; passed: boolean; evidence: string }[]) {
  let t = newTask({ id: tid('t'), dedupKey: 't', spec: taskSpec({ reviewRounds: 3 }), now: 0 }).task;
  t = enterRunning(t, { now: 1, provider: 'p', host: 'h' }).task;
  t = enterReview(t, { now: 2, exitCode: 0 }).task;
  t = updateTask(t, 3, 'gates', { gates: gates.map((g) => ({ ...g, durationMs: 5 })) }).task;
  return enterChanges({ ...t, review }, { now: 4, reason: review.summary }).task;
}

it('gives the first round the spec alone', () => {
  const t = newTask({ id: tid('t'), dedupKey: 't', spec: taskSpec(), now: 0 }).task;
  expect(promptFor(t, SPEC)).toBe(SPEC);
});

it('appends the architect’s summary and findings on a "changes" round, asking to continue the branch', () => {
  const task = sentBack(
    {
      grade: 'C',
      verdict: 'changes',
      summary: 'The helper ignores empty input.',
      findings: [
        { file: 'src/helper.ts', line: 12, severity: 'major', text: 'return [] for an empty array' },
        { file: '', line: null, severity: 'minor', text: 'add a test for it' },
      ],
      approvedBy: null,
    },
    [{ name: 'tests', passed: true, evidence: '' }],
  );
  expect(task.round).toBe(1);
  const prompt = promptFor(task, SPEC);
  expect(prompt.startsWith(SPEC.trimEnd())).toBe(true);
  expect(prompt).toContain('## Review notes (round 1 of 3)');
  expect(prompt).toContain('Continue on this branch; do not start over.');
  expect(prompt).toContain('The helper ignores empty input.');
  expect(prompt).toContain('- src/helper.ts:12 [major] return [] for an empty array');
  expect(prompt).toContain('-  [minor] add a test for it');
  expect(prompt).not.toContain('## Failed gates');
});

it('prints a failed gate’s evidence once, though the review carries it as a finding too', () => {
  const evidence = 'FAIL test/helper.test.ts > helper > empty input\nexpected [] to equal undefined';
  const task = sentBack(
    {
      grade: null,
      verdict: 'changes',
      summary: 'Gates failed: tests. Fix them on this branch.',
      findings: [{ file: '(gate)', line: null, severity: 'major', text: `tests: ${evidence}` }],
      approvedBy: null,
    },
    [
      { name: 'tests', passed: false, evidence },
      { name: 'diff', passed: true, evidence: '3 lines' },
    ],
  );
  const prompt = promptFor(task, SPEC);
  expect(prompt.split('expected [] to equal undefined')).toHaveLength(2);
  expect(prompt).toContain(`## Failed gates\n- tests: ${evidence}`);
  expect(prompt).toContain('Gates failed: tests. Fix them on this branch.');
  expect(prompt).not.toContain('(gate)');
  expect(prompt).not.toContain('3 lines');
});
