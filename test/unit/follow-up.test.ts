import { describe, expect, it } from 'vitest';
import { decideFollowUp, followUpDepth, NIGHT_MS, type FollowUpPolicy } from '../../src/core/follow-up.js';
import { ManualClock } from '../../src/lib/clock.js';
import type { TaskRecord } from '../../src/core/task.js';

const policy: FollowUpPolicy = { enabled: true, maxPerNight: 2, maxDepth: 1, autoQueue: false };
type Ended = Pick<TaskRecord, 'id' | 'state' | 'parked' | 'failure' | 'spec'>;
const spec = { reviewRounds: 2 } as TaskRecord['spec'];
const failed = (id: string, code = 'attempts-exhausted', attribution = 'spec'): Ended =>
  ({ id, state: 'failed', parked: null, spec, failure: { code, attribution, reason: 'used up' } }) as Ended;
const parked = (id: string, reason: TaskRecord['parked']): Ended =>
  ({ id, state: 'review', parked: reason, spec, failure: null }) as Ended;

describe('decideFollowUp', () => {
  it('drafts for spec-attributed ends only', () => {
    const clock = new ManualClock();
    const d = (task: Ended) => decideFollowUp({ task, depth: 0, drafted: [], now: clock.now(), policy });
    expect(d(failed('a'))).toMatchObject({ draft: true, depth: 1, autoQueue: false });
    expect(d(failed('a', 'rejected'))).toMatchObject({ draft: true });
    expect(d(parked('a', 'needs-human'))).toMatchObject({ draft: true });
    // Not the spec's fault, or not a thing a better spec fixes.
    expect(d(failed('a', 'killed', 'supervisor'))).toMatchObject({ draft: false });
    expect(d(failed('a', 'retries-exhausted', 'provider'))).toMatchObject({ draft: false });
    expect(d(failed('a', 'main-touched'))).toMatchObject({ draft: false });
    expect(d(parked('a', 'architect-unavailable'))).toMatchObject({ draft: false });
    expect(d(parked('a', 'awaiting-approval'))).toMatchObject({ draft: false });
  });

  it('counts maxPerNight over a rolling 24 hours', () => {
    const clock = new ManualClock();
    const drafted: { at: number; origin: string }[] = [];
    const d = (id: string) =>
      decideFollowUp({ task: failed(id), depth: 0, drafted, now: clock.now(), policy });
    expect(d('a')).toMatchObject({ draft: true });
    drafted.push({ at: clock.now(), origin: 'a' });
    clock.advance(60_000);
    expect(d('b')).toMatchObject({ draft: true });
    drafted.push({ at: clock.now(), origin: 'b' });
    const third = d('c');
    expect(third).toMatchObject({ draft: false });
    expect(third.draft ? '' : third.reason).toMatch(/maxPerNight is 2/);
    // The first one leaves the window a day after it was drafted.
    clock.advance(NIGHT_MS - 60_000 - 1);
    expect(d('c')).toMatchObject({ draft: false });
    clock.advance(1);
    expect(d('c')).toMatchObject({ draft: true });
  });

  it('never drafts twice for one task, past maxDepth, or when disabled', () => {
    const now = new ManualClock().now();
    expect(
      decideFollowUp({ task: failed('a'), depth: 0, drafted: [{ at: now, origin: 'a' }], now, policy }),
    ).toMatchObject({ draft: false, reason: 'a already has a follow-up' });
    const deep = decideFollowUp({ task: failed('a-2'), depth: 1, drafted: [], now, policy });
    expect(deep.draft ? '' : deep.reason).toMatch(/depth 2, over architect.followUps.maxDepth \(1\)/);
    expect(
      decideFollowUp({ task: failed('a-2'), depth: 1, drafted: [], now, policy: { ...policy, maxDepth: 2 } }),
    ).toMatchObject({ draft: true, depth: 2 });
    expect(
      decideFollowUp({
        task: failed('a'),
        depth: 0,
        drafted: [],
        now,
        policy: { ...policy, enabled: false },
      }),
    ).toMatchObject({ draft: false });
  });
});

describe('followUpDepth', () => {
  it('follows followUpOf to the original, and stops on a loop', () => {
    const of: Record<string, string> = { c: 'b', b: 'a', x: 'y', y: 'x' };
    const f = (id: string) => of[id] ?? null;
    expect(followUpDepth('a', f)).toBe(0);
    expect(followUpDepth('b', f)).toBe(1);
    expect(followUpDepth('c', f)).toBe(2);
    expect(followUpDepth('x', f)).toBe(1);
  });
});
