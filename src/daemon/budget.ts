/**
 * Budgets (docs/cost.md): the night's usage so far against `budget.perNight` (executors and architect
 * together) and each provider's `providers.<name>.budget` (its executors). Pure.
 *
 * A budget reached freezes dispatch, for that provider or for everything: dispatch (dispatch.ts) keeps
 * the frozen provider out with this reason, the way it keeps out a provider whose breaker is open.
 * Nothing running is killed. Tokens count input plus output; dollars count the known costs only (a
 * usage with no price cannot reach a dollar budget; docs/cost.md says so).
 */
import { compactTokens, formatUsd, totalTokens } from '../core/usage.js';
import type { NightUsage, UsageTotal } from '../core/usage-totals.js';

export interface Budget {
  tokens?: number | undefined;
  usd?: number | undefined;
}

export interface Budgets {
  perNight?: Budget | undefined;
  providers: Readonly<Record<string, { budget?: Budget | undefined }>>;
}

export interface BudgetFreeze {
  /** Why nothing new starts tonight (the whole night's budget is reached), or null. */
  night: string | null;
  /** Why each provider over its own budget takes no new work. */
  providers: Map<string, string>;
}

/** Why `used` has reached `budget` (`field` names the config key), or null when it has not. */
export function reached(used: UsageTotal, budget: Budget | undefined, field: string): string | null {
  if (!budget) return null;
  const tokens = totalTokens(used);
  if (budget.tokens !== undefined && tokens >= budget.tokens) {
    return `budget reached: ${compactTokens(tokens)} of ${compactTokens(budget.tokens)} tokens used tonight (${field}.tokens)`;
  }
  if (budget.usd !== undefined && used.knownCostUsd >= budget.usd) {
    return `budget reached: ${formatUsd(used.knownCostUsd)} of ${formatUsd(budget.usd)} spent tonight (${field}.usd)`;
  }
  return null;
}

export function budgetFreeze(usage: NightUsage, budgets: Budgets): BudgetFreeze {
  const providers = new Map<string, string>();
  for (const [name, cfg] of Object.entries(budgets.providers)) {
    const used = usage.providers.get(name);
    const why = used ? reached(used, cfg.budget, `providers.${name}.budget`) : null;
    if (why) providers.set(name, why);
  }
  return { night: reached(usage.total, budgets.perNight, 'budget.perNight'), providers };
}

/** What changed between two freezes: each budget newly reached or lifted (a reload raised it). */
export function budgetChanges(
  before: BudgetFreeze,
  after: BudgetFreeze,
): { provider: string | null; reached: boolean; reason: string }[] {
  const out: { provider: string | null; reached: boolean; reason: string }[] = [];
  if (after.night && !before.night) out.push({ provider: null, reached: true, reason: after.night });
  if (!after.night && before.night)
    out.push({ provider: null, reached: false, reason: 'the night budget is no longer reached' });
  for (const [name, why] of after.providers) {
    if (!before.providers.has(name)) out.push({ provider: name, reached: true, reason: why });
  }
  for (const name of before.providers.keys()) {
    if (!after.providers.has(name))
      out.push({ provider: name, reached: false, reason: `${name}'s budget is no longer reached` });
  }
  return out;
}

export const NO_FREEZE: BudgetFreeze = { night: null, providers: new Map() };
