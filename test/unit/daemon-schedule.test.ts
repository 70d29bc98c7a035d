/**
 * The daemon's scheduling decisions (daemon/schedule.ts), on plain numbers as a manual clock: which
 * deadline is due next and why, that an idle daemon has only the monitor cycle to wake for, how a
 * night-window edge far away is approached, and when host load is worth sampling. The dead provider's
 * probe backoff (health.ts) and what the loop arms for it are tested on a manual clock too.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/lib/clock.js';
import {
  CLOCK_CHECK_MS,
  clockMoved,
  nextDue,
  wantsLoadSample,
  type ScheduleInput,
} from '../../src/daemon/schedule.js';
import { initialHealth, probeFinished, probeStarted, type ProviderHealth } from '../../src/daemon/health.js';
import { TickLoop, type Timers } from '../../src/daemon/loop.js';
import type { DaemonContext } from '../../src/daemon/context.js';
import { Deadlines } from '../../src/daemon/deadlines.js';
import { Fleet } from '../../src/daemon/fleet.js';
import { parseConfig } from '../../src/config/load.js';
import type { WorkerHost } from '../../src/hosts/worker.js';
import { FakeHost } from '../../src/testing/fake-host.js';

const MIN = 60_000;

/** An idle daemon at monotonic `now`: its monitor cycle 15 min ahead and nothing else. */
function idle(now: number, over: Partial<ScheduleInput> = {}): ScheduleInput {
  return {
    now,
    monitorAt: now + 15 * MIN,
    inboxAt: Infinity,
    windowAt: Infinity,
    busy: false,
    pollAt: now,
    livenessAt: now + MIN,
    loadAt: null,
    probes: [],
    retries: [],
    ...over,
  };
}

describe('nextDue', () => {
  it('wakes an idle daemon only for its monitor cycle', () => {
    expect(nextDue(idle(1000))).toEqual({ at: 1000 + 15 * MIN, what: 'monitor' });
  });

  it('ignores the poll and the liveness check while nothing runs, and takes them while something does', () => {
    const now = 5000;
    expect(nextDue(idle(now, { pollAt: now + 1000 })).what).toBe('monitor');
    expect(nextDue(idle(now, { busy: true, pollAt: now + 1000 }))).toEqual({ at: now + 1000, what: 'poll' });
    expect(nextDue(idle(now, { busy: true, pollAt: now + 2 * MIN, livenessAt: now + MIN })).what).toBe(
      'liveness',
    );
  });

  it('names the provider whose probe and the task whose retry is due first', () => {
    const due = nextDue(
      idle(0, {
        probes: [
          { provider: 'slow', at: 90_000 },
          { provider: 'dead', at: 30_000 },
        ],
        retries: [{ task: 'retry-me', at: 45_000 }],
      }),
    );
    expect(due).toEqual({ at: 30_000, what: 'probe', subject: 'dead' });
    expect(nextDue(idle(0, { retries: [{ task: 'retry-me', at: 45_000 }] }))).toEqual({
      at: 45_000,
      what: 'retry',
      subject: 'retry-me',
    });
  });

  it('wakes for a load sample only when one is asked for, and for a settling inbox file', () => {
    expect(nextDue(idle(0, { loadAt: 30_000 }))).toEqual({ at: 30_000, what: 'load' });
    expect(nextDue(idle(0, { inboxAt: 400, loadAt: 30_000 }))).toEqual({ at: 400, what: 'inbox' });
  });

  it('is nothing at all when nothing is due (Infinity)', () => {
    expect(nextDue(idle(0, { monitorAt: Infinity }))).toEqual({ at: Infinity, what: null });
  });

  it('is always the minimum of the deadlines that apply (property)', () => {
    const at = fc.oneof(fc.integer({ min: -1000, max: 10 ** 7 }), fc.constant(Infinity));
    fc.assert(
      fc.property(
        fc.record({
          monitorAt: at,
          inboxAt: at,
          windowAt: at,
          busy: fc.boolean(),
          pollAt: at,
          livenessAt: at,
          loadAt: fc.option(at, { nil: null }),
          probes: fc.array(fc.record({ provider: fc.constantFrom('a', 'b'), at })),
          retries: fc.array(fc.record({ task: fc.constantFrom('t1', 't2'), at })),
        }),
        (input) => {
          const due = nextDue({ now: 0, ...input });
          const all = [
            input.monitorAt,
            input.inboxAt,
            input.windowAt,
            ...(input.busy ? [input.pollAt, input.livenessAt] : []),
            ...(input.loadAt === null ? [] : [input.loadAt]),
            ...input.probes.map((p) => p.at),
            ...input.retries.map((r) => r.at),
          ];
          expect(due.at).toBe(Math.min(...all));
        },
      ),
      { seed: 17, verbose: true },
    );
    console.log('fast-check seed 17');
  });
});

describe('clockMoved', () => {
  const look = (wall: number, mono: number, windowAt = Infinity) => ({ wall, mono, windowAt });
  const T = Date.UTC(2026, 11, 7, 23);

  it('is false while both clocks run together (drift under a second) and the edge stays', () => {
    expect(clockMoved(look(T, 0, 3_600_000), look(T + CLOCK_CHECK_MS + 400, CLOCK_CHECK_MS, 3_600_000))).toBe(
      false,
    );
  });

  it('sees a wall clock set by hand, either way', () => {
    expect(clockMoved(look(T, 0), look(T + 30 * MIN, CLOCK_CHECK_MS))).toBe(true);
    expect(clockMoved(look(T, 0), look(T - 5 * MIN, CLOCK_CHECK_MS))).toBe(true);
  });

  it("sees the window's next edge move by itself (a DST change), and a window appear or go", () => {
    const mono = CLOCK_CHECK_MS;
    expect(clockMoved(look(T, 0, 5 * 3_600_000), look(T + mono, mono, 4 * 3_600_000))).toBe(true);
    expect(clockMoved(look(T, 0), look(T + mono, mono, 3_600_000))).toBe(true);
    expect(clockMoved(look(T, 0, 3_600_000), look(T + mono, mono))).toBe(true);
  });
});

describe('wantsLoadSample', () => {
  const open = { frozen: false, breakerClosed: true, budget: false };
  const base = { abandoned: false, anyPending: true, closed: false, providers: [open] };

  it('samples while a launch could follow', () => {
    expect(wantsLoadSample(base)).toBe(true);
  });

  it('spawns nothing for a frozen queue, a dead provider, a spent budget or nothing pending', () => {
    expect(wantsLoadSample({ ...base, closed: true })).toBe(false);
    expect(wantsLoadSample({ ...base, providers: [{ ...open, frozen: true }] })).toBe(false);
    expect(wantsLoadSample({ ...base, providers: [{ ...open, breakerClosed: false }] })).toBe(false);
    expect(wantsLoadSample({ ...base, providers: [{ ...open, budget: true }] })).toBe(false);
    expect(wantsLoadSample({ ...base, anyPending: false })).toBe(false);
  });

  it('samples for an abandoned attempt whatever else holds', () => {
    expect(wantsLoadSample({ ...base, abandoned: true, closed: true, anyPending: false })).toBe(true);
  });
});

describe("a dead provider's probes back off", () => {
  /** Fails `n` probes in a row from `h`, returning each wait (ms) before the next probe. */
  function failProbes(h: ProviderHealth, n: number, clock: ManualClock): number[] {
    const waits: number[] = [];
    for (let i = 0; i < n; i++) {
      clock.advance(Math.max(0, h.nextProbeAt - clock.monotonic()));
      h = probeFinished(probeStarted(h), false, 'no answer', clock.monotonic(), () => 0.999);
      waits.push(h.nextProbeAt - clock.monotonic());
    }
    return waits;
  }

  it('waits longer after each failed probe, up to 15 min, so a night of it is a few dozen ticks', () => {
    const clock = new ManualClock();
    const waits = failProbes(initialHealth('dead', 2, clock.monotonic()), 12, clock);
    for (let i = 1; i < waits.length; i++) expect(waits[i]).toBeGreaterThanOrEqual(waits[i - 1] ?? 0);
    expect(Math.max(...waits)).toBeLessThanOrEqual(15 * MIN);
    expect(waits.at(-1)).toBeGreaterThan(7 * MIN);
  });

  it('arms the loop for the probe, not sooner: one tick per probe on a manual clock', async () => {
    const clock = new ManualClock();
    const armed: { at: number; fn: () => void }[] = [];
    const timers: Timers = {
      set: (fn, ms) => {
        armed.push({ at: clock.monotonic() + ms, fn });
        return armed.length - 1;
      },
      clear: (h) => {
        const t = armed[h as number];
        if (t) t.at = NaN;
      },
    };
    let probeAt = clock.monotonic() + 30_000;
    let ticks = 0;
    const loop = new TickLoop({
      timers,
      now: () => clock.monotonic(),
      tick: () => {
        ticks += 1;
        // The probe fails; the next one is due after a longer wait.
        if (clock.monotonic() >= probeAt) probeAt = clock.monotonic() + 60_000;
        return Promise.resolve();
      },
      nextDue: () => nextDue(idle(clock.monotonic(), { probes: [{ provider: 'dead', at: probeAt }] })).at,
      classify: () => ({ stop: false }),
      halt: () => undefined,
      log: () => undefined,
    });
    loop.wake();
    const fire = async () => {
      const next = armed.filter((t) => !Number.isNaN(t.at)).sort((a, b) => a.at - b.at)[0];
      if (!next) throw new Error('nothing armed');
      clock.advance(Math.max(0, next.at - clock.monotonic()));
      next.at = NaN;
      next.fn();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    };
    await fire(); // the wake's tick at 0
    await fire(); // the probe at 30 s
    expect(clock.monotonic()).toBe(30_000);
    await fire(); // the next probe, 60 s later
    expect(clock.monotonic()).toBe(90_000);
    expect(ticks).toBe(3);
    await loop.stop();
  });
});

describe('the fleet asks the schedule for probes it can run', () => {
  function fleetOn(host: string) {
    const clock = new ManualClock(Date.UTC(2026, 11, 7, 22), 1_000_000);
    const fleet = new Fleet({
      config: parseConfig(
        `providers:\n  dead: { kind: scripted, hosts: [${host}] }\n`,
        'nightshift.config.yaml',
      ),
      clock,
      env: {},
      hosts: new Map([[host, new FakeHost(host) as unknown as WorkerHost]]),
      events: { emit: () => undefined },
      random: () => 0.5,
      wake: () => undefined,
    });
    return { fleet, clock };
  }

  it("leaves out a due probe whose hosts are all down (it would wake the loop at once, over and over), and asks for the host's next sample instead", () => {
    const { fleet, clock } = fleetOn('local');
    fleet.hostState.set('local', { ready: false, over: ['unreachable'], sampledMono: clock.monotonic() });
    expect(fleet.probeSchedule()).toEqual([]);
    expect(fleet.probeWaitsForHost()).toBe(true);
    expect(fleet.nextSampleAt()).toBe(clock.monotonic() + 30_000);
    fleet.hostState.set('local', { ready: true, over: [], sampledMono: clock.monotonic() });
    expect(fleet.probeSchedule()).toEqual([{ provider: 'dead', at: clock.monotonic() }]);
    expect(fleet.probeWaitsForHost()).toBe(false);
  });

  it('schedules nothing for a closed breaker, and a forced probe at once', () => {
    const { fleet, clock } = fleetOn('local');
    fleet.hostState.set('local', { ready: true, over: [], sampledMono: clock.monotonic() });
    fleet.update('dead', (h) => probeFinished(h, true, 'answered', clock.monotonic(), () => 1));
    expect(fleet.probeSchedule()).toEqual([]);
    fleet.requestProbe('dead');
    expect(fleet.probeSchedule()).toEqual([{ provider: 'dead', at: -Infinity }]);
  });
});

describe('the clock watch (deadlines.ts)', () => {
  it('wakes the loop when the wall clock jumps between two looks, and not while it runs on', () => {
    // A clock whose wall time a test can set, as a person or an NTP step would.
    const c = { wall: Date.UTC(2026, 11, 7, 23), mono: 0 };
    const clock = {
      now: () => c.wall,
      monotonic: () => c.mono,
      advance: (ms: number) => {
        c.wall += ms;
        c.mono += ms;
      },
    };
    const armed: { at: number; fn: () => void }[] = [];
    const timers: Timers = {
      set: (fn, ms) => armed.push({ at: clock.monotonic() + ms, fn }) - 1,
      clear: (h) => {
        const t = armed[h as number];
        if (t) t.at = NaN;
      },
    };
    const fire = () => {
      const next = armed.filter((t) => !Number.isNaN(t.at)).sort((a, b) => a.at - b.at)[0];
      if (!next) throw new Error('nothing armed');
      clock.advance(Math.max(0, next.at - clock.monotonic()));
      next.at = NaN;
      next.fn();
    };
    // Only the clock is read by the watch.
    const ctx = { clock } as unknown as DaemonContext;
    const deadlines = new Deadlines(ctx, {
      pollMs: 1000,
      windowAt: () => Infinity,
      windowClosed: () => null,
      hostBound: () => false,
    });
    let wakes = 0;
    deadlines.watchClock(timers, () => (wakes += 1));
    fire();
    fire();
    expect(wakes).toBe(0);
    expect(clock.monotonic()).toBe(2 * CLOCK_CHECK_MS);
    // Someone sets the clock 30 min ahead: the next look sees it.
    c.wall += 30 * MIN;
    fire();
    expect(wakes).toBe(1);
    fire();
    expect(wakes).toBe(1);
    deadlines.unwatchClock();
    expect(armed.every((t) => Number.isNaN(t.at))).toBe(true);
  });
});
