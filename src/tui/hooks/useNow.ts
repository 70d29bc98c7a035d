/**
 * The time the screen shows (elapsed columns, uptime), read from the injected clock. It changes only
 * at the moment `nextAt(now)` names (state/ticks.ts: each second while a duration under a minute is
 * shown, else on the minute), so an idle screen is not redrawn for the clock.
 */
import { useEffect, useState } from 'react';
import type { Clock } from '../../lib/clock.js';
import type { Timers } from '../../lib/timers.js';

export function useNow(clock: Clock, timers: Timers, nextAt: (now: number) => number): number {
  const [now, setNow] = useState(() => clock.now());
  const due = nextAt(now);
  useEffect(() => {
    let handle: unknown = null;
    const arm = () => {
      handle = null;
      const wait = due - clock.now();
      // A timer may fire a little early: wait out the rest rather than tick before `due`.
      if (wait > 0) handle = timers.setTimeout(arm, wait);
      else setNow(clock.now()); // past `due`, so nextAt() names a later moment and this effect re-arms
    };
    arm();
    return () => {
      if (handle !== null) timers.clearTimeout(handle);
    };
  }, [clock, timers, due]);
  return now;
}
