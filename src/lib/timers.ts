/**
 * One-shot timers as an injected dependency, beside the Clock: the TUI's clock of the screen schedules
 * its next tick through this, so tests move time by hand and count what each tick redraws.
 */
import type { ManualClock } from './clock.js';

export interface Timers {
  /** Calls `fn` once after `ms`; the handle cancels it. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's own timers. */
export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Timers that fire only when `advance` moves the manual clock past them, in the order they are due. */
export class ManualTimers implements Timers {
  private next = 1;
  private readonly due = new Map<number, { at: number; fn: () => void }>();
  constructor(readonly clock: ManualClock) {}

  setTimeout(fn: () => void, ms: number): number {
    const id = this.next++;
    this.due.set(id, { at: this.clock.monotonic() + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.due.delete(handle as number);
  }

  /** How many timers wait. */
  get pending(): number {
    return this.due.size;
  }

  /** Moves the clock by `ms`, firing each timer at its own moment (a timer set by one that fires counts). */
  advance(ms: number): void {
    const end = this.clock.monotonic() + ms;
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | null = null;
      for (const entry of this.due)
        if (entry[1].at <= end && (!first || entry[1].at < first[1].at)) first = entry;
      if (!first) break;
      this.due.delete(first[0]);
      this.clock.advance(first[1].at - this.clock.monotonic());
      first[1].fn();
    }
    this.clock.advance(end - this.clock.monotonic());
  }
}
