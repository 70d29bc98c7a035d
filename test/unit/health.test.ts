/**
 * Provider health on a manual clock: a provider whose probe passes but whose runs fail (the probe is
 * tool-less; the runs get 529) must not flap at a fixed period all night.
 */
import { describe, expect, it } from 'vitest';
import {
  attemptSucceeded,
  initialHealth,
  probeDue,
  probeFinished,
  providerFailed,
  type ProviderHealth,
} from '../../src/daemon/health.js';
import { ManualClock } from '../../src/lib/clock.js';

const PROBE = { initialMs: 30_000, maxMs: 15 * 60_000 };

/** Waits until the half-open probe is due; returns how long that took. */
function untilProbeDue(h: ProviderHealth, clock: ManualClock): number {
  const start = clock.monotonic();
  while (!probeDue(h, clock.monotonic())) clock.advance(1_000);
  return clock.monotonic() - start;
}

/** One flap: the probe passes, then the whole cohort (the live limit's worth of runs) fails. */
function passThenCohortFails(h: ProviderHealth, clock: ManualClock): ProviderHealth {
  let next = probeFinished(h, true, 'answered', clock.monotonic(), () => 1);
  expect(next.breaker).toBe('closed');
  const cohort = next.limit;
  for (let i = 0; i < cohort; i++) {
    clock.advance(5_000);
    next = providerFailed(next, 'API Error: 529 overloaded', clock.monotonic());
  }
  expect(next.breaker).toBe('open');
  return next;
}

describe('a provider whose probe passes but whose runs fail', () => {
  it('doubles the half-open wait on each cycle, up to the max, and says why', () => {
    const clock = new ManualClock();
    let h = initialHealth('glm', 4, clock.monotonic(), PROBE);
    const waits: number[] = [];
    for (let cycle = 0; cycle < 8; cycle++) {
      h = passThenCohortFails(h, clock);
      waits.push(untilProbeDue(h, clock));
    }
    expect(waits).toEqual([60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000, 900_000]);
    expect(h.reason).toMatch(/probe passes but runs fail/);
    expect(h.reason).toMatch(/529 overloaded/);
  });

  it('resets the wait once runs succeed again', () => {
    const clock = new ManualClock();
    let h = initialHealth('glm', 4, clock.monotonic(), PROBE);
    for (let cycle = 0; cycle < 3; cycle++) {
      h = passThenCohortFails(h, clock);
      untilProbeDue(h, clock);
    }
    // The provider recovers: the probe passes and a run succeeds.
    h = probeFinished(h, true, 'answered', clock.monotonic(), () => 1);
    h = attemptSucceeded(h, clock.monotonic());
    expect(h.reason).not.toMatch(/runs fail/);
    // A later cohort failure is an ordinary one: the first wait again, not the grown one.
    h = providerFailed(h, 'API Error: 529 overloaded', clock.monotonic());
    h = providerFailed(h, 'API Error: 529 overloaded', clock.monotonic());
    expect(h.breaker).toBe('open');
    expect(untilProbeDue(h, clock)).toBe(30_000);
    expect(h.reason).not.toMatch(/probe passes but runs fail/);
    // And the next flap starts from the first doubling.
    h = passThenCohortFails(h, clock);
    expect(untilProbeDue(h, clock)).toBe(60_000);
  });

  it('keeps the first cohort failure of a healthy provider at the first wait', () => {
    const clock = new ManualClock();
    let h = probeFinished(initialHealth('glm', 2, 0, PROBE), true, 'answered', 0, () => 1);
    h = attemptSucceeded(h, clock.monotonic());
    h = providerFailed(h, 'boom', clock.monotonic());
    h = providerFailed(h, 'boom', clock.monotonic());
    expect(h.breaker).toBe('open');
    expect(untilProbeDue(h, clock)).toBe(30_000);
  });
});

describe('crashes on start: the provider, or one spec that kills its agent', () => {
  const crash = (task: string) => ({ task, crash: true });
  const started = (clock: ManualClock): ProviderHealth => {
    let h = probeFinished(initialHealth('glm', 2, clock.monotonic(), PROBE), true, 'answered', 0, () => 1);
    h = attemptSucceeded(h, clock.monotonic());
    return h;
  };
  /** The half-open probe the re-probing breaker asks for, passing. */
  const probePasses = (h: ProviderHealth, clock: ManualClock): ProviderHealth => {
    expect(probeDue(h, clock.monotonic())).toBe(true);
    return probeFinished(h, true, 'answered', clock.monotonic(), () => 1);
  };

  it('one task crashing again and again only re-probes: the breaker never opens for it', () => {
    const clock = new ManualClock();
    let h = started(clock);
    for (let i = 0; i < 5; i++) {
      clock.advance(2_000);
      h = providerFailed(h, 'exited 1 1 s after start', clock.monotonic(), crash('bad-spec'));
      expect(h.breaker).toBe('probing');
      expect(h.reason).toMatch(/re-probing after/);
      h = probePasses(h, clock);
      expect(h.breaker).toBe('closed');
    }
    expect(h.flaps).toBe(0);
  });

  it('two different tasks crashing with no clean run between open it (the seed: the probe passes, runs die)', () => {
    const clock = new ManualClock();
    let h = started(clock);
    h = providerFailed(h, 'exited 1 1 s after start', clock.monotonic(), crash('a'));
    h = probePasses(h, clock);
    clock.advance(2_000);
    h = providerFailed(h, 'exited 1 1 s after start', clock.monotonic(), crash('b'));
    expect(h.breaker).toBe('open');
    expect(h.reason).toMatch(/probe passes but runs fail/);
  });

  it("a clean run between two tasks' crashes clears the suspicion", () => {
    const clock = new ManualClock();
    let h = started(clock);
    h = providerFailed(h, 'exited 1 1 s after start', clock.monotonic(), crash('a'));
    h = probePasses(h, clock);
    h = attemptSucceeded(h, clock.monotonic());
    h = providerFailed(h, 'exited 1 1 s after start', clock.monotonic(), crash('b'));
    expect(h.breaker).toBe('probing');
  });

  it('a plain provider failure in the cohort still makes it whole', () => {
    const clock = new ManualClock();
    let h = started(clock);
    h = providerFailed(h, 'exited 1 1 s after start', clock.monotonic(), crash('a'));
    h = providerFailed(h, 'API Error: 529 overloaded', clock.monotonic(), { task: 'a', crash: false });
    expect(h.breaker).toBe('open');
  });
});
