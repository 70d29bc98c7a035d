/** The time, ticking every `everyMs` (elapsed columns and uptime); read from the injected clock. */
import { useMemo, useSyncExternalStore } from 'react';
import type { Clock } from '../../lib/clock.js';

class Ticker {
  private value: number;
  constructor(
    private readonly clock: Clock,
    private readonly everyMs: number,
  ) {
    this.value = clock.now();
  }
  subscribe = (listener: () => void) => {
    const timer = setInterval(() => {
      const next = this.clock.now();
      if (next !== this.value) {
        this.value = next;
        listener();
      }
    }, this.everyMs);
    return () => clearInterval(timer);
  };
  get = () => this.value;
}

export function useNow(clock: Clock, everyMs = 1000): number {
  const ticker = useMemo(() => new Ticker(clock, everyMs), [clock, everyMs]);
  return useSyncExternalStore(ticker.subscribe, ticker.get);
}
