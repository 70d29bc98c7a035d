/**
 * The monitor cycle (every defaults.monitorEvery, and at --once): the judgment's parked reviews and
 * clean-up, adoption, a fresh poll and load sample, stray sessions reported, one summary event.
 */
import { coerceError } from '../core/errors.js';
import { isoNow, type DaemonContext } from './context.js';
import type { Judgment } from './judgment.js';
import { straySessions } from './strays.js';

export interface MonitorSteps {
  judgment: Judgment | null;
  adopt(): Promise<void>;
  poll(): Promise<unknown>;
  /** The triage log (triage.ts), when architect.triage is on: told the cycle ended, it never blocks. */
  triage?: { cycle(): void } | null;
}

export async function monitorCycle(ctx: DaemonContext, steps: MonitorSteps): Promise<void> {
  steps.judgment?.retryParked();
  await steps.judgment
    ?.tidy()
    .catch((err: unknown) => ctx.log(`worktree and branch cleanup failed: ${coerceError(err).describe()}`));
  await steps.adopt();
  await steps.poll();
  await ctx.fleet.sampleHosts(true, true);
  // A session name is the host's word: compared as text, never taken for a task id.
  const runningIds = new Set<string>(
    ctx.store
      .list()
      .filter((t) => t.state === 'running')
      .map((t) => t.id),
  );
  for (const [name, worker] of ctx.hosts) {
    if (!ctx.fleet.isReady(name)) continue;
    const panes = await worker.tmux.list().catch(() => []);
    const sessions = [...new Set(panes.map((p) => p.session))];
    for (const stray of straySessions(sessions, worker.workspace, runningIds)) {
      ctx.events.emit({ type: 'session.stray', time: isoNow(ctx), host: name, ...stray });
    }
  }
  const counts = { pending: 0, running: 0, review: 0, done: 0, failed: 0 };
  for (const t of ctx.store.list()) counts[t.state] += 1;
  const live = ctx.attempts.running().length;
  ctx.events.emit({
    type: 'monitor.cycle',
    time: isoNow(ctx),
    reason: `${live} attempt(s) live`,
    ...counts,
  });
  steps.triage?.cycle();
}
