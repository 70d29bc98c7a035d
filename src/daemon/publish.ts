/**
 * The daemon's published view (queue/state/daemon.json, state-file.ts): each provider's breaker, live
 * limit and why, what runs, its grade and throttle; each host over its thresholds; why each pending task
 * waits; the night window's state. Clients read it through client/ only.
 */
import os from 'node:os';
import type { DaemonContext } from './context.js';
import { describeGradeCap } from './grades.js';
import { liveLimit } from './health.js';
import { writeDaemonState, type PublishedState } from './state-file.js';

export function publishState(
  ctx: DaemonContext,
  daemon: { startedAt: number; waiting: ReadonlyMap<string, string>; window?: string | null },
  previous: PublishedState | null,
): PublishedState {
  const running = ctx.attempts.slots('provider');
  return writeDaemonState(
    ctx.paths,
    {
      pid: process.pid,
      host: os.hostname(),
      startedAt: new Date(daemon.startedAt).toISOString(),
      updatedAt: new Date(ctx.clock.now()).toISOString(),
      providers: [...ctx.fleet.health.values()].map((h) => ({
        name: h.name,
        breaker: h.breaker,
        reason: h.reason,
        limit: liveLimit(h),
        ceiling: h.ceiling,
        running: running.get(h.name) ?? 0,
        lastProbe: h.lastProbe ? { ok: h.lastProbe.ok, reason: h.lastProbe.reason } : null,
        limitHistory: h.limitHistory.map((x) => ({ limit: x.limit, reason: x.reason })),
        grade: ctx.fleet.averageGrade(h.name),
        throttle: h.gradeCap ? describeGradeCap(h.gradeCap) : null,
        budget: ctx.spend.freeze.providers.get(h.name) ?? null,
      })),
      budget: {
        nightStart: new Date(ctx.spend.nightStart).toISOString(),
        reached: ctx.spend.freeze.night,
      },
      hosts: [...ctx.hosts.keys()].map((name) => ({
        name,
        over: ctx.fleet.hostState.get(name)?.over ?? [],
      })),
      waiting: daemon.waiting,
      window: daemon.window ?? null,
    },
    previous,
  );
}
