/**
 * The daemon's activity, counted: ticks by what woke them (an event, or the deadline that was due:
 * schedule.ts) and processes spawned (lib/activity.ts). Reported as a `daemon.activity` event at each
 * monitor cycle and as the daemon stops, and read by bench/idle.js: an idle daemon should do nothing.
 */
import { formatDuration } from '../core/duration.js';
import { spawnedSoFar } from '../lib/activity.js';
import type { DueWhat } from './schedule.js';

export type WakeReason = DueWhat | 'event';

export interface ActivitySnapshot {
  ticks: number;
  spawned: number;
  wakes: Record<string, number>;
  sinceMs: number;
}

export class ActivityCounter {
  private ticks = 0;
  private wakes = new Map<WakeReason, number>();
  private spawnedAtStart: number;
  private sinceMono: number;

  constructor(private readonly monotonic: () => number) {
    this.spawnedAtStart = spawnedSoFar();
    this.sinceMono = monotonic();
  }

  /** One tick, woken by `reason`. */
  tick(reason: WakeReason): void {
    this.ticks += 1;
    this.wakes.set(reason, (this.wakes.get(reason) ?? 0) + 1);
  }

  /** The counts since the last reset (or the start). */
  snapshot(): ActivitySnapshot {
    return {
      ticks: this.ticks,
      spawned: spawnedSoFar() - this.spawnedAtStart,
      wakes: Object.fromEntries([...this.wakes].sort((a, b) => b[1] - a[1])),
      sinceMs: this.monotonic() - this.sinceMono,
    };
  }

  /** The counts so far, and a new count from now. */
  take(): ActivitySnapshot {
    const s = this.snapshot();
    this.ticks = 0;
    this.wakes = new Map();
    this.spawnedAtStart = spawnedSoFar();
    this.sinceMono = this.monotonic();
    return s;
  }
}

/** "3 ticks (poll 2, event 1) and 5 processes in 15m" */
export function describeActivity(s: ActivitySnapshot): string {
  const wakes = Object.entries(s.wakes).map(([k, n]) => `${k} ${n}`);
  return `${s.ticks} tick${s.ticks === 1 ? '' : 's'}${wakes.length ? ` (${wakes.join(', ')})` : ''} and ${s.spawned} process${s.spawned === 1 ? '' : 'es'} spawned in ${formatDuration(Math.max(0, Math.round(s.sinceMs)))}`;
}
