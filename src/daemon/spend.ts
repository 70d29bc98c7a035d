/**
 * Tokens, cost and budgets in the daemon (docs/cost.md): each attempt's usage read from its output and
 * priced, the architect's calls recorded on their task, what running attempts have reported so far, and
 * the night's budgets checked before each dispatch (budget.ts decides; this module records and tells).
 *
 * The night starts when the daemon starts: a restart starts a new one. The state lives in Spend
 * (spend-state.ts), on the DaemonContext.
 */
import type { TaskId } from '../core/ids.js';
import { withArchitectUsage, withAttemptUsage } from '../core/task-usage.js';
import { priceUsage, type ReadUsage, type Usage } from '../core/usage.js';
import { nightUsage, type NightUsage } from '../core/usage-totals.js';
import type { Clock } from '../lib/clock.js';
import type { Config } from '../config/schema.js';
import type { QueueStore } from '../queue/store.js';
import { budgetChanges, budgetFreeze, NO_FREEZE, type BudgetFreeze } from './budget.js';
import { readAttemptOutput, type LiveAttempt } from './attempts.js';
import { localLog } from './log-mirror.js';
import { isoNow, type DaemonContext } from './context.js';

/**
 * Records attempt `n`'s usage, read from its whole log, priced with its provider's price (or the
 * cost the CLI reported). Nothing is recorded when the output reports no usage.
 */
export function recordAttemptUsage(
  ctx: DaemonContext,
  taskId: TaskId,
  n: number,
  provider: string,
  read: ReadUsage | null,
): void {
  ctx.spend.forget(taskId);
  if (!read) return;
  const usage = priceUsage(read, ctx.config.providers[provider]?.price);
  const task = ctx.store.get(taskId);
  if (!task.attempts.some((a) => a.n === n)) return;
  ctx.store.transition(taskId, (t) => withAttemptUsage(t, n, usage, ctx.clock.now()));
}

/**
 * Records an attempt's usage from its whole mirrored log, once the attempt has ended (collected, or
 * killed by the supervisor: a killed run used tokens too).
 */
export function recordUsageFromLog(ctx: DaemonContext, live: LiveAttempt): void {
  const log = localLog(ctx.paths, live.taskId, live.attempt);
  const read = readAttemptOutput(ctx.config, live.provider, log, { exitCode: 0 }).usage;
  recordAttemptUsage(ctx, live.taskId, live.attempt, live.provider, read);
}

/** What recording an architect call needs: the store, the clock, the config (for `architect.price`). */
export interface ArchitectUsageDeps {
  store: QueueStore;
  clock: Clock;
  config: Pick<Config, 'architect'>;
}

/**
 * The one way an architect call's usage is recorded, on the task it was about: the review (llm and
 * claude-code modes), a follow-up draft, a triage note that names a task. `usage.costUsd` is the cost
 * the call reported (claude-code's `total_cost_usd`), or null; `architect.price` replaces it when set.
 * Counts toward `budget.perNight` and the report's architect share.
 */
export function recordArchitectUsage(
  deps: ArchitectUsageDeps,
  taskId: TaskId,
  usage: Usage,
  call: { kind: string; round?: number } = { kind: 'review' },
): void {
  const priced = priceUsage(
    { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, reportedCostUsd: usage.costUsd },
    deps.config.architect.price,
  );
  deps.store.transition(taskId, (t) =>
    withArchitectUsage(
      t,
      { kind: call.kind, ...(call.round !== undefined ? { round: call.round } : {}), usage: priced },
      deps.clock.now(),
    ),
  );
}

/** The night's usage so far: the records since the night started, plus running attempts' reports. */
export function usageTonight(ctx: DaemonContext): NightUsage {
  return nightUsage(ctx.store.list(), ctx.spend.nightStart, Infinity, ctx.spend.liveUsage(ctx.config));
}

/**
 * Checks the budgets before a dispatch: what is reached freezes (dispatch keeps it out with the
 * reason), each change is a `budget.reached` or `budget.lifted` event. Running work is never touched.
 */
export function checkBudgets(ctx: DaemonContext): BudgetFreeze {
  const { config } = ctx;
  const any =
    config.budget.perNight !== undefined ||
    Object.values(config.providers).some((p) => p.budget !== undefined);
  const next = any
    ? budgetFreeze(usageTonight(ctx), { perNight: config.budget.perNight, providers: config.providers })
    : NO_FREEZE;
  for (const c of budgetChanges(ctx.spend.freeze, next)) {
    const reason = c.reached
      ? `${c.provider ?? 'the night'}: ${c.reason}; nothing new starts${c.provider ? ` on ${c.provider}` : ''}, running work goes on`
      : c.reason;
    ctx.events.emit({
      type: c.reached ? 'budget.reached' : 'budget.lifted',
      time: isoNow(ctx),
      provider: c.provider,
      reason,
    });
    if (c.reached) ctx.notify?.({ kind: 'budget', title: 'budget reached', text: reason });
  }
  ctx.spend.freeze = next;
  return next;
}
