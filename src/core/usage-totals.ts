/**
 * Usage added up from task records (docs/cost.md): per attempt, per task, per provider, for the
 * architect, for a night. Shared by the daemon's budgets and the read model (`show`, `providers`, the
 * TUI, the report). Pure.
 *
 * A night is a time from which usage counts: an attempt counts when it ended at or after it (its usage
 * is read once its output is in), an architect call when it was made at or after it.
 */
import type { TaskRecord } from './task-record.js';
import type { NightshiftEvent } from './events.js';
import { compactTokens, formatUsd, priceUsage, totalTokens, type Price, type Usage } from './usage.js';

/** A sum of usages that keeps what is known of the cost when some of it is not. */
export interface UsageTotal extends Usage {
  /** The sum of the costs that are known (costUsd is null as soon as one is not). */
  knownCostUsd: number;
  /** How many usages were added. */
  calls: number;
  /** How many of them had no known cost. */
  unpriced: number;
}

export const EMPTY_TOTAL: UsageTotal = {
  inputTokens: 0,
  outputTokens: 0,
  costUsd: 0,
  knownCostUsd: 0,
  calls: 0,
  unpriced: 0,
};

export function addToTotal(total: UsageTotal, u: Usage | null | undefined): UsageTotal {
  if (!u) return total;
  const unpriced = total.unpriced + (u.costUsd === null ? 1 : 0);
  const knownCostUsd = total.knownCostUsd + (u.costUsd ?? 0);
  return {
    inputTokens: total.inputTokens + u.inputTokens,
    outputTokens: total.outputTokens + u.outputTokens,
    costUsd: unpriced > 0 ? null : knownCostUsd,
    knownCostUsd,
    calls: total.calls + 1,
    unpriced,
  };
}

export function totalOf(all: Iterable<Usage | null | undefined>): UsageTotal {
  let t = EMPTY_TOTAL;
  for (const u of all) t = addToTotal(t, u);
  return t;
}

/** One task's usage: its executors' attempts, the architect's calls about it, and both. */
export interface TaskUsage {
  executor: UsageTotal;
  architect: UsageTotal;
  total: UsageTotal;
}

const at = (iso: string | null | undefined): number => (iso ? Date.parse(iso) : NaN);

/** Whether a usage recorded at `iso` counts in a night that started at `since` (and ends at `until`). */
function inNight(iso: string | null | undefined, since: number, until: number): boolean {
  const t = at(iso);
  return t >= since && t <= until;
}

export function taskUsage(task: TaskRecord, since = -Infinity, until = Infinity): TaskUsage {
  const executor = totalOf(
    task.attempts.filter((a) => inNight(a.endedAt ?? a.startedAt, since, until)).map((a) => a.usage),
  );
  const architect = totalOf(
    (task.architectUsage ?? []).filter((c) => inNight(c.at, since, until)).map((c) => c.usage),
  );
  return { executor, architect, total: mergeTotals(executor, architect) };
}

export interface NightUsage {
  /** Executor usage by provider name (only providers that used something). */
  providers: Map<string, UsageTotal>;
  architect: UsageTotal;
  /** Executors and architect together. */
  total: UsageTotal;
}

/**
 * The night's usage from the records, plus what running attempts have reported so far (`live`: by
 * provider; the daemon reads it from their mirrored output, and it is replaced by the attempt's own
 * recorded usage once it is collected).
 */
export function nightUsage(
  tasks: readonly TaskRecord[],
  since: number,
  until = Infinity,
  live: readonly { provider: string; usage: Usage }[] = [],
  /** Architect calls about no task (triage, plan): `architect.usage` events (architectCallsOf). */
  architectCalls: readonly { at: string; usage: Usage }[] = [],
): NightUsage {
  const providers = new Map<string, UsageTotal>();
  let architect = EMPTY_TOTAL;
  const add = (provider: string, u: Usage | null | undefined) => {
    if (u) providers.set(provider, addToTotal(providers.get(provider) ?? EMPTY_TOTAL, u));
  };
  for (const t of tasks) {
    for (const a of t.attempts) if (inNight(a.endedAt ?? a.startedAt, since, until)) add(a.provider, a.usage);
    for (const c of t.architectUsage ?? []) {
      if (inNight(c.at, since, until)) architect = addToTotal(architect, c.usage);
    }
  }
  for (const c of architectCalls) if (inNight(c.at, since, until)) architect = addToTotal(architect, c.usage);
  for (const l of live) add(l.provider, l.usage);
  let total = architect;
  for (const p of providers.values()) total = mergeTotals(total, p);
  return { providers, architect, total };
}

export function mergeTotals(a: UsageTotal, b: UsageTotal): UsageTotal {
  const unpriced = a.unpriced + b.unpriced;
  const knownCostUsd = a.knownCostUsd + b.knownCostUsd;
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    costUsd: unpriced > 0 ? null : knownCostUsd,
    knownCostUsd,
    calls: a.calls + b.calls,
    unpriced,
  };
}

/** The architect's share of the night's tokens (0..1), or null with no tokens at all. */
export function architectShare(night: NightUsage): number | null {
  const all = totalTokens(night.total);
  return all > 0 ? totalTokens(night.architect) / all : null;
}

/** "12.3k in / 4.5k out, $0.42" for a sum; a cost known only in part says so. */
export function describeTotal(t: UsageTotal): string {
  const cost =
    t.costUsd !== null
      ? formatUsd(t.costUsd)
      : t.knownCostUsd > 0
        ? `${formatUsd(t.knownCostUsd)} + unpriced`
        : '–';
  return `${compactTokens(t.inputTokens)} in / ${compactTokens(t.outputTokens)} out, ${cost}`;
}

/** The architect calls about no task, from the event log's `architect.usage` events. */
export function architectCallsOf(events: readonly NightshiftEvent[]): { at: string; usage: Usage }[] {
  return events.flatMap((e) =>
    e.type === 'architect.usage'
      ? [
          {
            at: e.time,
            usage: { inputTokens: e.inputTokens, outputTokens: e.outputTokens, costUsd: e.costUsd },
          },
        ]
      : [],
  );
}

/** The `architect.usage` event of a call about no task, its usage priced with `architect.price`. */
export function architectUsageEvent(
  time: string,
  kind: 'triage' | 'plan',
  usage: Usage,
  price: Price | null | undefined,
): Extract<NightshiftEvent, { type: 'architect.usage' }> {
  const priced = priceUsage(
    { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, reportedCostUsd: usage.costUsd },
    price,
  );
  return {
    type: 'architect.usage',
    time,
    kind,
    ...priced,
    reason: `the architect's ${kind} call used ${priced.inputTokens} input and ${priced.outputTokens} output tokens`,
  };
}
