/**
 * Redraw only on change: with nothing changing, the screen is drawn again only when a time on it can
 * change its text (state/ticks.ts). Time is moved by hand (ManualClock + ManualTimers) and every frame Ink
 * writes is counted (ink-testing-library renders in Ink's debug mode: one write per frame), so the
 * bounds are on frame counts, never on wall time.
 */
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/core/task.js';
import { ManualClock } from '../../src/lib/clock.js';
import { ManualTimers } from '../../src/lib/timers.js';
import { waitFor } from '../../src/testing/wait.js';
import { App } from '../../src/tui/app/App.js';
import { MemorySource, sampleTask } from '../../src/tui/data/memory-source.js';
import { latestShownSince, MINUTE_MS, nextTickAt, SECOND_MS } from '../../src/tui/state/ticks.js';

const HOUR = 3_600_000;
/** On the minute: the ticks of an idle board fall on the minute. */
const NOW = Date.UTC(2026, 10, 26, 23);

let unmount: (() => void) | null = null;
afterEach(() => {
  unmount?.();
  unmount = null;
});

/** React and Ink flush a state change in a microtask or an immediate: two turns of the loop see it drawn. */
const flushed = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

async function start(tasks: TaskRecord[]) {
  const clock = new ManualClock(NOW);
  const timers = new ManualTimers(clock);
  const source = new MemorySource({ tasks }, clock);
  const terminal = { handOver: () => ({ ok: true, code: 0, message: '' }) };
  const r = render(
    <App
      source={source}
      readOnly={false}
      env={{}}
      terminal={terminal}
      size={{ rows: 30, cols: 120 }}
      timers={timers}
    />,
  );
  unmount = r.unmount;
  await waitFor('the first frame', () => (r.lastFrame() ?? '').includes('Board'), 5000, 10);
  await flushed();
  /** Moves time by `ms` one second at a time, letting each tick draw; the frames written meanwhile. */
  const idle = async (ms: number) => {
    const before = r.frames.length;
    for (let t = 0; t < ms; t += SECOND_MS) {
      timers.advance(SECOND_MS);
      await flushed();
    }
    return r.frames.length - before;
  };
  return { clock, timers, source, r, idle, frame: () => r.lastFrame() ?? '' };
}

describe('an idle screen', () => {
  it('is drawn again once a minute, on the minute, when every time on it is over a minute old', async () => {
    // Started at 22:00, ran from 22:01: at 23:00 the youngest time shown is 59 minutes old.
    const s = await start([
      sampleTask('alpha', 'running', { t0: NOW - HOUR }),
      sampleTask('beta', 'review', { t0: NOW - 2 * HOUR }),
      sampleTask('gamma', 'pending', { t0: NOW - 3 * HOUR }),
      sampleTask('delta', 'done', { t0: NOW - 4 * HOUR }),
    ]);
    expect(s.frame()).toContain(' 59m ');
    // Ten minutes, in 600 steps of a second: one frame a minute (it was one a second: 600).
    expect(await s.idle(10 * MINUTE_MS)).toBe(10);
    // The age column did move on, to the minute.
    expect(s.frame()).toContain(' 1h09m ');
    // One timer waits (the next minute), once React has run the effect that arms it: none piles up.
    await waitFor('the next tick armed', () => s.timers.pending > 0, 5000, 10);
    expect(s.timers.pending).toBe(1);
  });

  it('ticks each second while a time under a minute is shown, then falls back to once a minute', async () => {
    // gamma was queued 10 s ago: its age reads 10s, 11s, … until it is a minute old, at 23:00:50.
    const s = await start([
      sampleTask('alpha', 'running', { t0: NOW - HOUR }),
      sampleTask('gamma', 'pending', { t0: NOW - 10 * SECOND_MS }),
    ]);
    expect(s.frame()).toMatch(/gamma .* 10s /);
    expect(await s.idle(5 * SECOND_MS)).toBe(5);
    expect(s.frame()).toMatch(/gamma .* 15s /);
    // 23:00:05 → 23:02:05: 45 more seconds of seconds (to 23:00:50), then 23:01:00 and 23:02:00.
    expect(await s.idle(2 * MINUTE_MS)).toBe(45 + 2);
    expect(s.frame()).toMatch(/gamma .* 2m /);
  });

  it('draws a change of the data at once, whatever the clock', async () => {
    const s = await start([sampleTask('alpha', 'running', { t0: NOW - HOUR })]);
    const before = s.r.frames.length;
    s.source.setTasks([
      sampleTask('alpha', 'running', { t0: NOW - HOUR }),
      sampleTask('omega', 'pending', { t0: NOW - HOUR }),
    ]);
    await waitFor('omega on the board', () => s.frame().includes('omega'), 5000, 10);
    expect(s.r.frames.length).toBeGreaterThan(before);
  });
});

describe('the next tick (state/ticks.ts)', () => {
  it('is the next second while a time shown is under a minute old, else the next minute', () => {
    const now = NOW + 12_345;
    expect(nextTickAt(now, now - 5_000)).toBe(NOW + 13_000);
    expect(nextTickAt(now, now - MINUTE_MS)).toBe(NOW + MINUTE_MS);
    // A time from the future (a clock behind the data) counts as new.
    expect(nextTickAt(now, now + 5_000)).toBe(NOW + 13_000);
  });

  it('is an earlier deadline when one is due first, and never one already past', () => {
    const now = NOW + 12_345;
    expect(nextTickAt(now, 0, [NOW + 20_000])).toBe(NOW + 20_000);
    expect(nextTickAt(now, 0, [NOW + 5_000, NOW + 2 * MINUTE_MS])).toBe(NOW + MINUTE_MS);
  });

  it('counts from the last transition of tasks not done and from the daemon start', () => {
    const done = sampleTask('delta', 'done', { t0: NOW });
    const pending = sampleTask('gamma', 'pending', { t0: NOW - HOUR });
    expect(latestShownSince({ tasks: [done, pending], daemon: null })).toBe(NOW - HOUR);
    const daemon = { pid: 1, host: 'box', since: new Date(NOW - 1000).toISOString() };
    expect(latestShownSince({ tasks: [pending], daemon: daemon as never })).toBe(NOW - 1000);
  });
});
