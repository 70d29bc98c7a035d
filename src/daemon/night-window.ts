/**
 * The night window in the daemon (`window:` in the config; the decisions are core/window.ts's): whether
 * new attempts may start now, when the loop must wake for the next boundary, and the window's end. At
 * the end every running attempt is ended (its last screen and log kept, its worktree salvaged) and its
 * task parked `window-ended`, pending for the next window with no attempt charged; then the owner's
 * `ended` hook writes the report and sends the notices, and `untilEnd()` waiters resolve
 * (`daemon --until-window-end`).
 */
import { enterWindowEnded } from '../core/task.js';
import {
  describeWindow,
  localMinute,
  minutesToNextBoundary,
  windowEnded,
  windowPhase,
  type WindowPhase,
} from '../core/window.js';
import { isoNow, type DaemonContext } from './context.js';
import { endSession } from './ending.js';

export interface WindowEnd {
  /** When it ended (ISO). */
  time: string;
  /** The tasks whose running attempt was parked. */
  parked: string[];
}

export class NightWindowKeeper {
  private phase: WindowPhase | null = null;
  private ending: Promise<void> | null = null;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly ctx: DaemonContext,
    /** Called once per end, after the running attempts are parked (writes the report, notifies). */
    private readonly ended: (end: WindowEnd) => Promise<void>,
  ) {}

  private now(): WindowPhase | null {
    const w = this.ctx.config.window;
    return w ? windowPhase(w, localMinute(this.ctx.clock.now(), w.timeZone)) : null;
  }

  /** Whether new attempts may start (always, without a window). */
  allowsStarts(): boolean {
    const phase = this.now();
    return phase === null || phase === 'open';
  }

  /** The line `status` and the TUI header show, or null without a window. */
  describe(): string | null {
    const w = this.ctx.config.window;
    const phase = this.now();
    return w && phase ? describeWindow(w, phase) : null;
  }

  /** Why pending work waits while the window is not open, or null. */
  waitReason(): string | null {
    const w = this.ctx.config.window;
    const phase = this.now();
    if (!w || phase === null || phase === 'open') return null;
    return phase === 'closing'
      ? `window: nothing new starts after ${w.stopStarting} (running work finishes until ${w.end})`
      : `window: nothing starts until ${w.start}`;
  }

  /** Monotonic ms of the next boundary (a little after it), or Infinity without a window. */
  nextDue(): number {
    const w = this.ctx.config.window;
    if (!w) return Infinity;
    const minutes = minutesToNextBoundary(w, localMinute(this.ctx.clock.now(), w.timeZone));
    // A DST change or a clock set by hand moves the boundary: the supervisor looks every minute, without
    // a tick, and computes it again if it moved (schedule.ts clockMoved).
    return this.ctx.clock.monotonic() + minutes * 60_000 + 50;
  }

  /** Resolves at the next end of the window (`daemon --until-window-end`). */
  untilEnd(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Each tick: notices the end (the phase going from open or closing to closed) and acts on it once. */
  async check(): Promise<void> {
    if (this.ending) return this.ending;
    const before = this.phase;
    const after = this.now();
    this.phase = after;
    if (before === null || after === null || !windowEnded(before, after)) return;
    this.ending = this.end().finally(() => {
      this.ending = null;
    });
    return this.ending;
  }

  private async end(): Promise<void> {
    const { ctx } = this;
    const w = ctx.config.window;
    const reason = `the night window ended at ${w?.end ?? '?'}: salvaged, waits for the next window (no attempt charged)`;
    const parked: string[] = [];
    await Promise.all(
      ctx.attempts.list('running').map(async (e) => {
        if (!e.live) return;
        await endSession(ctx, e.live, reason);
        const task = ctx.store.get(e.taskId);
        if (task.state !== 'running') return;
        ctx.store.transition(task.id, (t) => enterWindowEnded(t, { now: ctx.clock.now(), reason }));
        parked.push(task.id);
      }),
    );
    const time = isoNow(ctx);
    ctx.events.emit({
      type: 'window.ended',
      time,
      reason: parked.length
        ? `window ended at ${w?.end ?? '?'}: ${parked.length} running attempt(s) parked window-ended (${parked.join(', ')})`
        : `window ended at ${w?.end ?? '?'}: nothing was running`,
    });
    try {
      await this.ended({ time, parked });
    } catch (err) {
      ctx.log(`window end: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
