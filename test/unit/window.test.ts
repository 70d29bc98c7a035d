import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import {
  describeWindow,
  localMinute,
  minutesToNextBoundary,
  windowEnded,
  windowPhase,
  windowProblem,
} from '../../src/core/window.js';
import { ManualClock } from '../../src/lib/clock.js';

const night = { start: '22:00', stopStarting: '06:00', end: '07:00' };
const at = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
};

describe('the night window decision', () => {
  it('crosses midnight: open from start to stopStarting, closing until end, closed after', () => {
    expect(windowPhase(night, at('21:59'))).toBe('closed');
    expect(windowPhase(night, at('22:00'))).toBe('open');
    expect(windowPhase(night, at('23:59'))).toBe('open');
    expect(windowPhase(night, at('00:00'))).toBe('open');
    expect(windowPhase(night, at('05:59'))).toBe('open');
    expect(windowPhase(night, at('06:00'))).toBe('closing');
    expect(windowPhase(night, at('06:59'))).toBe('closing');
    expect(windowPhase(night, at('07:00'))).toBe('closed');
    expect(windowPhase(night, at('12:00'))).toBe('closed');
  });

  it('works within one day too', () => {
    const day = { start: '09:00', stopStarting: '17:00', end: '18:30' };
    expect(windowPhase(day, at('08:59'))).toBe('closed');
    expect(windowPhase(day, at('09:00'))).toBe('open');
    expect(windowPhase(day, at('17:00'))).toBe('closing');
    expect(windowPhase(day, at('18:30'))).toBe('closed');
  });

  it('says when the window ended, not while it stays closed or when a daemon starts closed', () => {
    expect(windowEnded('closing', 'closed')).toBe(true);
    expect(windowEnded('open', 'closed')).toBe(true);
    expect(windowEnded('closed', 'closed')).toBe(false);
    expect(windowEnded('open', 'closing')).toBe(false);
  });

  it('on a manual clock across midnight, in a named zone', () => {
    // 21:58 UTC on the 1st → 07:01 UTC on the 2nd, a minute at a time.
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 21, 58));
    const phases: string[] = [];
    for (let i = 0; i < 9 * 60 + 4; i++) {
      const p = windowPhase(night, localMinute(clock.now(), 'UTC'));
      if (phases.at(-1) !== p) phases.push(p);
      clock.advance(60_000);
    }
    expect(phases).toEqual(['closed', 'open', 'closing', 'closed']);
    // 22:00 in Paris (winter, UTC+1) is 21:00 UTC.
    expect(windowPhase(night, localMinute(Date.UTC(2026, 0, 1, 21, 0), 'Europe/Paris'))).toBe('open');
    expect(windowPhase(night, localMinute(Date.UTC(2026, 0, 1, 20, 59), 'Europe/Paris'))).toBe('closed');
  });

  it('follows the wall clock across a DST change (the night of 29 March 2026 in Paris)', () => {
    // Clocks go 02:00 → 03:00 local; stopStarting 06:00 local is 04:00 UTC (summer time), not 05:00.
    expect(windowPhase(night, localMinute(Date.UTC(2026, 2, 29, 3, 59), 'Europe/Paris'))).toBe('open');
    expect(windowPhase(night, localMinute(Date.UTC(2026, 2, 29, 4, 0), 'Europe/Paris'))).toBe('closing');
  });

  it('wakes at the next boundary', () => {
    expect(minutesToNextBoundary(night, at('21:30'))).toBe(30);
    expect(minutesToNextBoundary(night, at('23:00'))).toBe(7 * 60);
    expect(minutesToNextBoundary(night, at('06:00'))).toBe(60);
    expect(minutesToNextBoundary(night, at('06:59') + 0.5)).toBeCloseTo(0.5);
  });

  it('describes each phase for status and the TUI header', () => {
    expect(describeWindow(night, 'open')).toBe('window open: starting new work until 06:00');
    expect(describeWindow(night, 'closing')).toContain('finishing running work until 07:00');
    expect(describeWindow(night, 'closed')).toContain('nothing starts until 22:00');
  });

  it('refuses unusable windows with the field at fault', () => {
    expect(windowProblem(night)).toBeNull();
    expect(windowProblem({ ...night, start: '25:00' })).toMatch(/^start: expected a local time/);
    expect(windowProblem({ ...night, end: '7:00' })).toMatch(/^end: /);
    expect(windowProblem({ ...night, end: '05:00' })).toMatch(/end \(05:00\) comes before stopStarting/);
    expect(windowProblem({ ...night, stopStarting: '22:00' })).toMatch(/equals start/);
  });

  it('is validated in the config with a clear error', () => {
    expect(() =>
      parseConfig(
        'window: { start: "22:00", stopStarting: "06:00", end: "05:00" }\n',
        'nightshift.config.yaml',
      ),
    ).toThrow(/window.*end \(05:00\) comes before stopStarting/s);
    expect(() =>
      parseConfig(
        'window: { start: "22:00", stopStarting: "06:00", end: "07:00", timeZone: "Mars/Olympus" }\n',
        'c.yaml',
      ),
    ).toThrow(/unknown time zone "Mars\/Olympus"/);
    const ok = parseConfig('window: { start: "22:00", stopStarting: "06:00", end: "07:00" }\n', 'c.yaml');
    expect(ok.window).toEqual(night);
    expect(parseConfig('', 'c.yaml').window).toBeNull();
  });
});
