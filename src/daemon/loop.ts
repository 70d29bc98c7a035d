/**
 * The daemon's loop: one tick at a time, woken by events (the watcher, exits, probes) and by the next
 * deadline, asleep otherwise. A tick that fails is retried with a growing pause (1 s, 2 s … 60 s) and its
 * message logged once per change, not once per tick; a failure that no retry can fix (an fsync error, a
 * full disk, a workspace that is gone) stops the loop once, with one message. Timers are injected so the
 * decisions are unit-tested on a manual clock.
 */
import { coerceError } from '../core/errors.js';

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, Math.min(Math.max(0, ms), 2_147_000_000)),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** What to do about a failed tick: retry later, or stop for good with a message. */
export type TickFailure =
  | { stop: false }
  /** `message` for the log; `reason`, when given, is the stop's own (the daemon.stopped event's). */
  | { stop: true; message: string; exitCode: number; reason?: string };

export interface LoopPorts {
  timers: Timers;
  /** Monotonic ms now. */
  now(): number;
  tick(forceMonitor: boolean): Promise<void>;
  /** The earliest deadline (monotonic ms); Infinity when nothing is due. */
  nextDue(): number;
  /** Classifies a tick's failure. */
  classify(err: unknown): TickFailure;
  /** Stops the daemon for good (once). */
  halt(message: string, exitCode: number, reason?: string): void;
  log(line: string): void;
}

export const BACKOFF_INITIAL_MS = 1000;
export const BACKOFF_MAX_MS = 60_000;

/** The pause after `failures` ticks in a row failed: 1 s doubling to 60 s. */
export function tickBackoff(failures: number): number {
  return failures <= 0 ? 0 : Math.min(BACKOFF_INITIAL_MS * 2 ** (failures - 1), BACKOFF_MAX_MS);
}

export class TickLoop {
  private timer: unknown = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private failures = 0;
  private lastMessage: string | null = null;
  /** No tick runs before this (monotonic ms): the backoff after failures. */
  private notBefore = 0;

  constructor(private readonly ports: LoopPorts) {}

  /** Runs a tick as soon as possible (after the backoff if ticks are failing). */
  wake(): void {
    if (this.stopped) return;
    this.arm(Math.max(0, this.notBefore - this.ports.now()));
  }

  /** Runs one tick now and waits for it (a forced monitor cycle). */
  async runNow(forceMonitor: boolean): Promise<void> {
    await this.run(forceMonitor);
  }

  /** Stops scheduling; waits for a tick under way to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.ports.timers.clear(this.timer);
    this.timer = null;
    while (this.ticking) await this.ticking;
  }

  /** Ticks failed in a row (0 when the last one succeeded). */
  get failing(): number {
    return this.failures;
  }

  private arm(ms: number): void {
    if (this.timer !== null) this.ports.timers.clear(this.timer);
    this.timer = this.ports.timers.set(() => {
      this.timer = null;
      void this.run(false);
    }, ms);
  }

  private async run(forceMonitor: boolean): Promise<void> {
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    const done = this.loop(forceMonitor);
    this.ticking = done;
    try {
      await done;
    } finally {
      this.ticking = null;
    }
    if (!this.stopped) this.schedule();
  }

  private async loop(forceMonitor: boolean): Promise<void> {
    do {
      this.again = false;
      try {
        await this.ports.tick(forceMonitor);
        if (this.failures > 0) this.ports.log(`tick recovered after ${this.failures} failure(s)`);
        this.failures = 0;
        this.lastMessage = null;
        this.notBefore = 0;
      } catch (err) {
        this.failed(err);
        return;
      }
      forceMonitor = false;
    } while (this.again && !this.stopped);
  }

  private failed(err: unknown): void {
    const verdict = this.ports.classify(err);
    if (verdict.stop) {
      if (this.stopped) return;
      this.stopped = true;
      this.ports.halt(verdict.message, verdict.exitCode, verdict.reason);
      return;
    }
    this.failures += 1;
    const pause = tickBackoff(this.failures);
    this.notBefore = this.ports.now() + pause;
    const message = coerceError(err).describe();
    // The same failure again is counted, not repeated: a tick that fails every second must not fill the log.
    if (message !== this.lastMessage) {
      this.ports.log(`tick failed: ${message}; next try in ${Math.round(pause / 1000)} s`);
      this.lastMessage = message;
    } else if ((this.failures & (this.failures - 1)) === 0) {
      this.ports.log(
        `tick failed ${this.failures} times in a row: ${message}; next try in ${Math.round(pause / 1000)} s`,
      );
    }
  }

  private schedule(): void {
    const now = this.ports.now();
    // A failed tick left its work undone: it is tried again after the backoff, whatever else is due.
    const due = this.failures > 0 ? this.notBefore : this.ports.nextDue();
    // Nothing due: a timer far ahead all the same (realTimers caps it), as the daemon's heartbeat.
    this.arm(due === Infinity ? Infinity : Math.max(0, due - now));
  }
}
