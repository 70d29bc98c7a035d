/**
 * The supervisor's deadlines and what woke each tick: when the running attempts are polled next, when
 * liveness is judged, when the monitor cycle and a settling inbox file are due; the snapshot it gives
 * schedule.ts (pure) for the loop's one timer; whether a tick samples host load; and the activity
 * counts (activity.ts) it reports as `daemon.activity` events.
 */
import { parseDuration } from '../core/duration.js';
import { ActivityCounter, describeActivity, type ActivitySnapshot } from './activity.js';
import { isoNow, type DaemonContext } from './context.js';
import type { Timers } from './loop.js';
import {
  CLOCK_CHECK_MS,
  clockMoved,
  nextDue,
  wantsLoadSample,
  type ClockLook,
  type Due,
} from './schedule.js';

export interface DeadlineDeps {
  /** How often running attempts are polled (the fallback for a lost exit signal; mirroring). */
  pollMs: number;
  /** The night window's next edge (monotonic ms, Infinity without one). */
  windowAt(): number;
  /** Why nothing new may start now (the night window), or null. */
  windowClosed(): string | null;
  /** The last dispatch left a task waiting only for a host with room. */
  hostBound(): boolean;
}

export class Deadlines {
  private pollAt = 0;
  private livenessAt = 0;
  private monitorAt = 0;
  /** When an inbox file that was still changing may be taken (Infinity: none is waiting). */
  private inboxAt = Infinity;
  /** The deadline the loop was last armed for: a tick at or past it was woken by it. */
  private due: Due = { at: Infinity, what: null };
  private readonly activity: ActivityCounter;
  /** The last look at the clock, and the timer of the next one (watchClock). */
  private look: ClockLook | null = null;
  private clockTimer: { timers: Timers; handle: unknown } | null = null;

  constructor(
    private readonly ctx: DaemonContext,
    private readonly deps: DeadlineDeps,
  ) {
    this.activity = new ActivityCounter(() => ctx.clock.monotonic());
  }

  /** The first monitor cycle and liveness check are one interval after the start. */
  started(): void {
    const now = this.ctx.clock.monotonic();
    this.monitorAt = now + this.monitorEvery();
    this.livenessAt = now + this.livenessEvery();
  }

  /** An exit was signalled or an attempt launched: poll at the next tick. */
  pollSoon(): void {
    this.pollAt = Math.min(this.pollAt, this.ctx.clock.monotonic());
  }

  /** Counts a tick starting at `now`, by the deadline it was armed for or else an event. */
  ticked(now: number, forceMonitor: boolean): void {
    const woken = this.due.what !== null && now >= this.due.at ? this.due.what : 'event';
    this.activity.tick(forceMonitor ? 'monitor' : woken);
  }

  /** Files still being written are looked at again once they may have settled (no watcher event comes). */
  inboxSettling(now: number, settling: readonly { readyInMs: number }[]): void {
    this.inboxAt = settling.length ? now + Math.min(...settling.map((f) => f.readyInMs)) : Infinity;
  }

  /** Whether this tick polls the running attempts (and when the next poll is). */
  takePoll(now: number): boolean {
    if (!this.ctx.attempts.busy() || now < this.pollAt) return false;
    this.pollAt = now + this.deps.pollMs;
    return true;
  }

  takeLiveness(now: number): boolean {
    if (now < this.livenessAt) return false;
    this.livenessAt = now + this.livenessEvery();
    return true;
  }

  takeMonitor(now: number, force: boolean): boolean {
    if (!force && now < this.monitorAt) return false;
    this.monitorAt = now + this.monitorEvery();
    return true;
  }

  /** The earliest deadline (monotonic ms; Infinity when nothing is due), remembered with its reason. */
  next(): number {
    const { ctx } = this;
    const now = ctx.clock.monotonic();
    const wallNow = ctx.clock.now();
    const retries: { task: string; at: number }[] = [];
    for (const t of ctx.store.list())
      if (t.state === 'pending' && t.retryAt)
        retries.push({ task: t.id, at: now + Math.max(0, Date.parse(t.retryAt) - wallNow) });
    const load = ctx.fleet.abandoned.length > 0 || this.deps.hostBound() || ctx.fleet.probeWaitsForHost();
    this.due = nextDue({
      now,
      monitorAt: this.monitorAt,
      inboxAt: this.inboxAt,
      windowAt: this.deps.windowAt(),
      busy: ctx.attempts.busy(),
      pollAt: this.pollAt,
      livenessAt: this.livenessAt,
      loadAt: load ? ctx.fleet.nextSampleAt() : null,
      probes: ctx.fleet.probeSchedule(),
      retries,
    });
    return this.due.at;
  }

  /**
   * Looks at the clock every minute, without a tick: if the wall clock or the window's next edge moved
   * (schedule.ts clockMoved), `wake` runs so the deadlines are computed again. Until `unwatchClock`.
   */
  watchClock(timers: Timers, wake: () => void): void {
    this.look = this.lookNow();
    const again = () => {
      const now = this.lookNow();
      const moved = this.look !== null && clockMoved(this.look, now);
      this.look = now;
      if (moved) wake();
      this.clockTimer = { timers, handle: timers.set(again, CLOCK_CHECK_MS) };
    };
    this.clockTimer = { timers, handle: timers.set(again, CLOCK_CHECK_MS) };
  }

  unwatchClock(): void {
    if (this.clockTimer) this.clockTimer.timers.clear(this.clockTimer.handle);
    this.clockTimer = null;
  }

  private lookNow(): ClockLook {
    const { clock } = this.ctx;
    return { wall: clock.now(), mono: clock.monotonic(), windowAt: this.deps.windowAt() };
  }

  /** Whether a tick samples stale host load before its dispatch (schedule.ts wantsLoadSample). */
  loadWanted(): boolean {
    const { ctx } = this;
    const toggles = ctx.toggles.read();
    return wantsLoadSample({
      abandoned: ctx.fleet.abandoned.length > 0 || ctx.fleet.probeWaitsForHost(),
      anyPending: ctx.store.list().some((t) => t.state === 'pending'),
      closed: toggles.frozen || ctx.spend.freeze.night !== null || this.deps.windowClosed() !== null,
      providers: Object.keys(ctx.config.providers).map((name) => ({
        frozen: toggles.frozenProviders.includes(name),
        breakerClosed: ctx.fleet.health.get(name)?.breaker === 'closed',
        budget: ctx.spend.freeze.providers.has(name),
      })),
    });
  }

  /** Ticks and processes since the last report. */
  activitySoFar(): ActivitySnapshot {
    return this.activity.snapshot();
  }

  /** A `daemon.activity` event with the counts since the last one. */
  report(why: string): void {
    const s = this.activity.take();
    this.ctx.events.emit({
      type: 'daemon.activity',
      time: isoNow(this.ctx),
      reason: `${describeActivity(s)} (${why})`,
      ...s,
    });
  }

  private livenessEvery(): number {
    return parseDuration(this.ctx.config.defaults.livenessEvery) ?? 60_000;
  }

  private monitorEvery(): number {
    return parseDuration(this.ctx.config.defaults.monitorEvery) ?? 900_000;
  }
}
