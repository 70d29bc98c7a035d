/** Time as an injected dependency: core/ never reads the system clock itself. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (for records and reports). */
  now(): number;
  /** Monotonic milliseconds (for timeouts and durations); unaffected by wall-clock changes. */
  monotonic(): number;
}

/** The real clock, built once in the composition root and passed down. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

/** A clock that only moves when told to: for tests on compressed time. */
export class ManualClock implements Clock {
  constructor(
    private wall = Date.UTC(2026, 0, 1),
    private mono = 0,
  ) {}
  now(): number {
    return this.wall;
  }
  monotonic(): number {
    return this.mono;
  }
  advance(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }
}
