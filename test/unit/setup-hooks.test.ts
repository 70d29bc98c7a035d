/** The setup hooks' blame and repeat decision (daemon/setup-hooks.ts), on a manual clock. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ruleFor } from '../../src/core/failures.js';
import {
  HOOK_FAILING_AFTER,
  hookFailingReason,
  noteHookOutcome,
  SetupHooks,
} from '../../src/daemon/setup-hooks.js';
import { executorOutput, HOOKS_DONE_LINE, hooksFileText } from '../../src/hosts/hooks.js';
import { readAttemptOutput } from '../../src/daemon/attempts.js';
import type { ExitRecord } from '../../src/hosts/worker-types.js';
import { ManualClock } from '../../src/lib/clock.js';

const config = parseConfig(
  [
    'repos:',
    '  app:',
    '    path: .',
    '    hooks:',
    '      beforeRun: { command: [npm, ci], timeout: 5m }',
    "      afterCreate: { command: 'uv sync', cacheKey: [uv.lock], cachePaths: [.venv] }",
    '  other: { path: ../other }',
  ].join('\n'),
  'nightshift.config.yaml',
);
const at = (attempt: number, repo = 'app') => ({ repo, host: 'w1', taskId: 'fix-a', attempt });
const exit = (extra: Partial<ExitRecord> = {}): ExitRecord => ({
  attempt: 1,
  exitCode: 0,
  startedAt: '2026-01-01T00:00:00Z',
  endedAt: '2026-01-01T00:00:01Z',
  ...extra,
});
const failed = (name = 'beforeRun', outcome = 'failed') =>
  exit({ exitCode: 4, hook: { name, outcome, exitCode: 4 } });

describe('setup hooks: blame', () => {
  it("a failing or slow hook is the worker side's, uses no attempt and is retried", () => {
    for (const code of ['hook-failed', 'hook-timeout'] as const) {
      expect(ruleFor(code)).toEqual({ attribution: 'worker', retryable: true, chargesAttempt: false });
    }
  });

  it('names the repo, the hook, the host, the log and the fix', () => {
    const hooks = new SetupHooks({ config, clock: new ManualClock(), log: () => undefined });
    expect(hooks.collected(at(2), failed())).toEqual({
      code: 'hook-failed',
      reason:
        'the beforeRun hook of repo app failed with exit 4 on w1, so the executor did not start (no attempt used): see logs/fix-a/attempt-2.log, and fix repos.app.hooks.beforeRun or the host',
    });
    expect(hooks.collected(at(3), failed('afterCreate', 'timeout'))?.code).toBe('hook-timeout');
    expect(hooks.collected(at(3), failed('afterCreate', 'timeout'))?.reason).toContain('timed out after 10m');
  });

  it("reads a runner's record as untrusted: an unknown hook or outcome is no hook failure", () => {
    const hooks = new SetupHooks({ config, clock: new ManualClock(), log: () => undefined });
    expect(hooks.collected(at(1), exit({ hook: { name: 'afterRun', outcome: 'failed' } }))).toBeNull();
    expect(hooks.collected(at(1), exit({ hook: { name: 'beforeRun', outcome: 'exploded' } }))).toBeNull();
    expect(hooks.collected(at(1), exit({ hook: 'beforeRun' }))).toBeNull();
  });
});

describe('setup hooks: a repo that keeps failing', () => {
  it(`holds the repo after ${HOOK_FAILING_AFTER} failures in a row, however much time passes, until a reload`, () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 1, 0));
    const logs: string[] = [];
    const hooks = new SetupHooks({ config, clock, log: (l) => logs.push(l) });
    for (let i = 1; i < HOOK_FAILING_AFTER; i++) {
      hooks.collected(at(i), failed());
      clock.advance(60_000);
      expect(hooks.held('app')).toBeNull();
    }
    hooks.collected(at(HOOK_FAILING_AFTER), failed());
    const held = hooks.held('app');
    expect(held).toMatch(
      /^hook-failing: the setup hooks of repo app failed 3 times in a row since 2026-01-01T01:00:00\.000Z \(last: the beforeRun hook of repo app failed with exit 4 on w1/,
    );
    expect(held).toContain(
      'fix repos.app.hooks in nightshift.config.yaml or the worker, then `nightshift reload`',
    );
    expect(logs).toEqual([held]);
    // Another repo is not held; hours later this one still is.
    expect(hooks.held('other')).toBeNull();
    clock.advance(8 * 3_600_000);
    expect(hooks.held('app')).toBe(held);
    hooks.reset();
    expect(hooks.held('app')).toBeNull();
  });

  it('an attempt that gets past its hooks ends the run of failures', () => {
    const hooks = new SetupHooks({ config, clock: new ManualClock(), log: () => undefined });
    hooks.collected(at(1), failed());
    hooks.collected(at(2), failed());
    hooks.collected(at(3), exit({ exitCode: 1 })); // the executor failed: its hooks did not
    hooks.collected(at(4), failed());
    hooks.collected(at(5), failed());
    expect(hooks.held('app')).toBeNull();
    hooks.collected(at(6), failed());
    expect(hooks.held('app')).not.toBeNull();
  });

  it('the decision as a pure function: the run keeps its first failure time', () => {
    let streak = noteHookOutcome(null, { ok: false, reason: 'r1', now: 1000 });
    streak = noteHookOutcome(streak, { ok: false, reason: 'r2', now: 5000 });
    expect(streak).toEqual({ failures: 2, since: 1000, last: 'r2' });
    expect(hookFailingReason('app', streak, 2)).toContain(
      'failed 2 times in a row since 1970-01-01T00:00:01.000Z (last: r2)',
    );
    expect(noteHookOutcome(streak, { ok: true })).toBeNull();
  });
});

describe('setup hooks: the afterCreate cache', () => {
  const KEY = 'a'.repeat(64);
  const DIGEST = 'b'.repeat(64);

  it('trusts only the entry a runner on that host reported storing', () => {
    const hooks = new SetupHooks({ config, clock: new ManualClock(), log: () => undefined });
    expect(hooks.launchHooks('w1', 'app')?.cacheExpect).toBeNull();
    hooks.collected(at(1), exit({ cache: `stored:${KEY}:${DIGEST}` }));
    expect(hooks.launchHooks('w1', 'app')?.cacheExpect).toBe(`${KEY}:${DIGEST}`);
    expect(hooks.launchHooks('w2', 'app')?.cacheExpect).toBeNull();
    // Anything else in the record is not a cache entry.
    hooks.collected(at(2), exit({ cache: `stored:${KEY}:${DIGEST}; rm -rf /` }));
    expect(hooks.launchHooks('w1', 'app')?.cacheExpect).toBe(`${KEY}:${DIGEST}`);
    expect(hooks.launchHooks('w1', 'other')).toBeUndefined();
  });

  it('stages every value as one quoted word', () => {
    const text = hooksFileText(config.repos['app']?.hooks, { dir: '/w/hook-cache/app', expect: null });
    expect(text).toBe(
      [
        `NS_H_AFTER_CREATE=''\\''sh'\\'' '\\''-c'\\'' '\\''uv sync'\\'''`,
        `NS_H_AFTER_CREATE_T='600'`,
        `NS_H_KEY_FILES=''\\''uv.lock'\\'''`,
        `NS_H_CACHE_PATHS=''\\''.venv'\\'''`,
        `NS_H_CACHE_DIR='/w/hook-cache/app'`,
        `NS_H_CACHE_EXPECT=''`,
        `NS_H_BEFORE_RUN=''\\''npm'\\'' '\\''ci'\\'''`,
        `NS_H_BEFORE_RUN_T='300'`,
        '',
      ].join('\n'),
    );
    expect(hooksFileText(config.repos['other']?.hooks, { dir: '/x', expect: null })).toBeNull();
  });

  it('refuses a cache key without its paths, and paths outside the worktree', () => {
    const bad = (hook: string) => () =>
      parseConfig(
        `repos:\n  app:\n    path: .\n    hooks:\n      afterCreate: ${hook}\n`,
        'nightshift.config.yaml',
      );
    expect(bad('{ command: [npm, ci], cacheKey: [package-lock.json] }')).toThrow(
      /cacheKey and cachePaths go together/,
    );
    expect(bad('{ command: [npm, ci], cacheKey: [a], cachePaths: [../x] }')).toThrow(/without "\.\."/);
    expect(bad('{ command: [npm, ci], when: always }')).toThrow();
  });
});

describe("setup hooks: the executor's output", () => {
  it("is read after the hooks: a quick crash after a long, chatty install is still the provider's", () => {
    const cfg = parseConfig(
      'repos:\n  app: { path: . }\nproviders:\n  sim: { kind: scripted }\n',
      'nightshift.config.yaml',
    );
    const install = `${'added 1 package\n'.repeat(500)}${HOOKS_DONE_LINE}\n`;
    const log = `${install}boom: cannot start\n`;
    expect(executorOutput(log)).toBe('boom: cannot start\n');
    expect(executorOutput('no hooks\n')).toBe('no hooks\n');
    const reading = readAttemptOutput(cfg, 'sim', log, {
      exitCode: 3,
      startedAt: '2026-01-01T00:10:00Z',
      endedAt: '2026-01-01T00:10:01Z',
      committed: false,
    });
    expect(reading.failure?.code).toBe('crash-on-start');
    expect(reading.failure?.reason).toContain('boom: cannot start');
  });
});
