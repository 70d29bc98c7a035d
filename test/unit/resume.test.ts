import { describe, expect, it } from 'vitest';
import type { Attempt } from '../../src/core/task.js';
import { resumeSessionFor } from '../../src/daemon/resume.js';
import { readClaudeOutput } from '../../src/providers/claude-code.js';

const S1 = '2b7dfaaa-1148-4f59-b0d8-0123456789ab';
const S2 = '9c2e0000-1148-4f59-b0d8-0123456789ab';

function attempt(n: number, provider: string, host: string): Attempt {
  return {
    n,
    provider,
    host,
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: null,
    exitCode: 0,
    outcome: 'exited',
    attribution: null,
    reason: null,
  };
}

describe('which session a review round resumes', () => {
  const sessions: Record<number, string | null> = { 1: S1, 2: S2, 3: null };
  const sessionOf = (n: number) => sessions[n] ?? null;

  it('round 0 never resumes, even after failed attempts', () => {
    const task = { round: 0, attempts: [attempt(1, 'glm', 'w1'), attempt(2, 'glm', 'w1')] };
    expect(resumeSessionFor(task, 'glm', 'w1', sessionOf)).toBeNull();
  });

  it('a later round resumes the latest earlier attempt of the same provider on the same host', () => {
    const task = {
      round: 1,
      attempts: [attempt(1, 'glm', 'w1'), attempt(2, 'glm', 'w1'), attempt(3, 'glm', 'w1')],
    };
    // Attempt 3 is the one starting: attempt 2's session.
    expect(resumeSessionFor(task, 'glm', 'w1', sessionOf)).toBe(S2);
  });

  it('skips attempts of another provider or host (their sessions are not in this state directory)', () => {
    const task = {
      round: 1,
      attempts: [attempt(1, 'glm', 'w1'), attempt(2, 'kimi', 'w1'), attempt(4, 'glm', 'w1')],
    };
    expect(resumeSessionFor(task, 'glm', 'w1', sessionOf)).toBe(S1);
    expect(resumeSessionFor(task, 'glm', 'w2', sessionOf)).toBeNull();
  });

  it('skips an attempt whose output names no session, and starts afresh when none does', () => {
    const task = {
      round: 2,
      attempts: [attempt(1, 'glm', 'w1'), attempt(3, 'glm', 'w1'), attempt(5, 'glm', 'w1')],
    };
    expect(resumeSessionFor(task, 'glm', 'w1', sessionOf)).toBe(S1);
    expect(resumeSessionFor(task, 'glm', 'w1', () => null)).toBeNull();
  });
});

describe("Claude Code's session, read from its output", () => {
  const init = (id: string) => JSON.stringify({ type: 'system', subtype: 'init', session_id: id });
  const result = (id: string) =>
    JSON.stringify({ type: 'result', subtype: 'success', is_error: false, result: 'done', session_id: id });

  it("is the result line's session_id, else the init line's", () => {
    expect(readClaudeOutput([init(S1), result(S2)].join('\n'), 0).sessionId).toBe(S2);
    expect(readClaudeOutput(init(S1), 1).sessionId).toBe(S1);
    expect(readClaudeOutput('no json at all', 1).sessionId).toBeUndefined();
  });

  it("is only ever a UUID: the output is the executor's, and the id goes into a later argv", () => {
    expect(readClaudeOutput(result('--dangerously-skip-permissions'), 0).sessionId).toBeUndefined();
    expect(readClaudeOutput([init(S1), result(`${S2} x`)].join('\n'), 0).sessionId).toBe(S1);
  });
});
