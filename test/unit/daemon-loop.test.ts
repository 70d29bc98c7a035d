/**
 * The daemon's loop on manual timers: a failing tick backs off and is logged once per change (behaviour
 * 10: a deleted workspace once spun a core for 15 minutes), and a failure no retry can fix stops the
 * loop once (behaviour 9: a full disk once logged 43 failures in 3 s).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/lib/clock.js';
import { tickBackoff, TickLoop, type TickFailure, type Timers } from '../../src/daemon/loop.js';
import { isDiskFull } from '../../src/daemon/stopping.js';

/** Timers that fire only when the test advances the clock. */
class ManualTimers implements Timers {
  private next = 1;
  readonly due = new Map<number, { at: number; fn: () => void }>();
  constructor(private readonly clock: ManualClock) {}
  set(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.due.set(id, { at: this.clock.monotonic() + ms, fn });
    return id;
  }
  clear(handle: unknown): void {
    this.due.delete(handle as number);
  }
  /** The earliest timer's time, or null. */
  nextAt(): number | null {
    const ats = [...this.due.values()].map((d) => d.at);
    return ats.length ? Math.min(...ats) : null;
  }
  /** Moves to the earliest timer and fires it; resolves once the tick it started is done. */
  async fireNext(): Promise<number> {
    const [id, d] = [...this.due].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
    if (id === undefined || !d) throw new Error('no timer due');
    this.clock.advance(Math.max(0, d.at - this.clock.monotonic()));
    this.due.delete(id);
    d.fn();
    for (let i = 0; i < 10; i++) await Promise.resolve();
    return d.at;
  }
}

function harness(
  tick: () => Promise<void>,
  classify: (err: unknown) => TickFailure = () => ({ stop: false }),
) {
  const clock = new ManualClock();
  const timers = new ManualTimers(clock);
  const lines: string[] = [];
  const halts: { message: string; code: number }[] = [];
  const loop = new TickLoop({
    timers,
    now: () => clock.monotonic(),
    tick,
    nextDue: () => Infinity,
    classify,
    halt: (message, code) => halts.push({ message, code }),
    log: (line) => lines.push(line),
  });
  return { clock, timers, lines, halts, loop };
}

describe('the tick loop', () => {
  it('backs off 1 s, 2 s, 4 s … 60 s while ticks fail, and logs a repeated failure only at powers of two', async () => {
    let ticks = 0;
    const h = harness(() => {
      ticks += 1;
      return Promise.reject(new Error('task faster-mul: no task "faster-mul"'));
    });
    h.loop.wake();
    const starts: number[] = [];
    for (let i = 0; i < 10; i++) starts.push(await h.timers.fireNext());
    expect(ticks).toBe(10);
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] ?? 0));
    expect(gaps).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    // 10 failures: the first, then the 2nd, 4th and 8th as counts.
    expect(h.lines).toHaveLength(4);
    expect(h.lines[0]).toMatch(/^tick failed: .*no task "faster-mul".*next try in 1 s/);
    expect(h.lines[3]).toMatch(/tick failed 8 times in a row/);
    expect(h.loop.failing).toBe(10);
  });

  it('a wake during the backoff does not tick early', async () => {
    let ticks = 0;
    const h = harness(() => {
      ticks += 1;
      return Promise.reject(new Error('boom'));
    });
    h.loop.wake();
    await h.timers.fireNext();
    await h.timers.fireNext();
    h.loop.wake(); // an event arrives 0 ms after the second failure: the next tick is still 2 s away
    expect((h.timers.nextAt() ?? 0) - h.clock.monotonic()).toBe(2000);
    expect(ticks).toBe(2);
  });

  it('recovers: a tick that succeeds resets the backoff and says so', async () => {
    let fail = 3;
    const h = harness(() => (fail-- > 0 ? Promise.reject(new Error('flaky')) : Promise.resolve()));
    h.loop.wake();
    for (let i = 0; i < 4; i++) await h.timers.fireNext();
    expect(h.loop.failing).toBe(0);
    expect(h.lines.at(-1)).toBe('tick recovered after 3 failure(s)');
    expect(tickBackoff(0)).toBe(0);
  });

  it('stops once, with one message, on a failure no retry can fix', async () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const h = harness(
      () => Promise.reject(enospc),
      (err) => (isDiskFull(err) ? { stop: true, message: 'the disk is full', exitCode: 1 } : { stop: false }),
    );
    h.loop.wake();
    await h.timers.fireNext();
    expect(h.halts).toEqual([{ message: 'the disk is full', code: 1 }]);
    expect(h.timers.nextAt()).toBeNull();
    h.loop.wake();
    expect(h.timers.nextAt()).toBeNull();
    expect(h.lines).toEqual([]);
  });

  it('sees a full disk through an error that wraps it', () => {
    const inner = Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
    expect(isDiskFull(new Error('writing task.json failed', { cause: inner }))).toBe(true);
    expect(isDiskFull(new Error('ENOSPC mentioned in a message only'))).toBe(false);
  });
});
