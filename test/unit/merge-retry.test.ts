import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/lib/clock.js';
import {
  nextMergeTry,
  startMergeRetries,
  type MergeRetries,
  type MergeRetryPolicy,
} from '../../src/daemon/merge-retry.js';

const POLICY: MergeRetryPolicy = { windowMs: 30 * 60_000, maxStale: 3 };
const sha = (n: number) => n.toString(16).padStart(40, '0');

/** Tries staged on `mains` in turn, `stepMs` apart: how many started, and the give-up reason if any. */
function run(clock: ManualClock, mains: string[], stepMs: number) {
  let state: MergeRetries = startMergeRetries(clock.now());
  let started = 0;
  for (const main of mains) {
    const next = nextMergeTry(state, main, clock.now(), POLICY);
    if (!next.go) return { started, reason: next.reason };
    state = next.state;
    started += 1;
    clock.advance(stepMs);
  }
  return { started, reason: null };
}

describe('merge retries (bounded by time and by lack of progress)', () => {
  it('keeps re-staging while every lost race was to a new commit on main, far past three tries', () => {
    const clock = new ManualClock();
    const mains = Array.from({ length: 20 }, (_, i) => sha(i + 1));
    // 20 tries a minute apart, each on a new main: none is the task's fault.
    expect(run(clock, mains, 60_000)).toEqual({ started: 20, reason: null });
  });

  it('gives up once main has kept moving for the whole window', () => {
    const clock = new ManualClock();
    const mains = Array.from({ length: 40 }, (_, i) => sha(i + 1));
    const r = run(clock, mains, 60_000);
    // Tries at 0..29 min start; the one at 30 min is past the window.
    expect(r.started).toBe(30);
    expect(r.reason).toMatch(/main kept moving for 30 min \(30 tries, each lost to a new commit\)/);
  });

  it('gives up after three races lost while main stayed where it was (something holds the ref)', () => {
    const clock = new ManualClock();
    const r = run(clock, [sha(1), sha(1), sha(1), sha(1), sha(1)], 1_000);
    expect(r.started).toBe(3);
    expect(r.reason).toMatch(/3 tries lost a race while main stayed at 000000000000/);
  });

  it('counts only the losses without progress: new commits in between do not reset or add to them', () => {
    const clock = new ManualClock();
    const r = run(clock, [sha(1), sha(1), sha(2), sha(3), sha(3), sha(4), sha(4), sha(5)], 1_000);
    // Stale after the 2nd, 5th and 7th try: the 7th start is refused.
    expect(r.started).toBe(6);
    expect(r.reason).toMatch(/^3 tries lost/);
  });

  it('always starts the first try, whatever the clock says', () => {
    const state = startMergeRetries(0);
    expect(nextMergeTry(state, sha(1), 10 * 86_400_000, POLICY)).toMatchObject({ go: true });
  });
});
