/**
 * Tokens and cost (docs/cost.md). A `Usage` is what one executor attempt or one architect call used:
 * tokens in (cache reads and writes folded in, as every adapter reads them) and out, and its cost in US
 * dollars, or null when it is unknown (no price configured and no cost reported). Unknown is never $0.
 *
 * Every figure comes from untrusted output (an executor prints what it likes), so `cleanUsage` is the
 * one way a number enters: finite, not negative, tokens whole and capped, anything else dropped. Pure.
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** US dollars, or null when unknown (no configured price and no reported cost). */
  costUsd: number | null;
}

/** `providers.<name>.price` and `architect.price`: US dollars per million tokens. */
export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** Tokens past this in one reading are not believed (a trillion: no night uses that many). */
export const MAX_TOKENS = 1e12;
/** Dollars past this in one reading are not believed. */
export const MAX_COST_USD = 1e6;

/**
 * What an adapter read from an executor's output, before pricing: tokens, and the cost the CLI itself
 * reported (Claude Code's `total_cost_usd`, opencode's and aider's cost), or null.
 */
export interface ReadUsage {
  inputTokens: number;
  outputTokens: number;
  reportedCostUsd: number | null;
}

export const ZERO_USAGE: Usage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };

/** A usage made safe: NaN, negative, fractional or absurd figures become 0 tokens or an unknown cost. */
export function cleanUsage(raw: unknown): Usage | null {
  if (!raw || typeof raw !== 'object') return null;
  const u = raw as Record<string, unknown>;
  return {
    inputTokens: tokenCount(u['inputTokens']),
    outputTokens: tokenCount(u['outputTokens']),
    costUsd: reportedCost(u['costUsd']),
  };
}

/**
 * The sum of two usages. The cost is known only when both are: a known $0.40 plus an unknown is not
 * $0.40. Tokens saturate at MAX_TOKENS times a thousand rather than overflow into nonsense.
 */
export function addUsage(a: Usage | null, b: Usage | null): Usage | null {
  if (!a) return b;
  if (!b) return a;
  const cap = (n: number) => Math.min(n, MAX_TOKENS * 1000);
  return {
    inputTokens: cap(a.inputTokens + b.inputTokens),
    outputTokens: cap(a.outputTokens + b.outputTokens),
    costUsd: a.costUsd === null || b.costUsd === null ? null : a.costUsd + b.costUsd,
  };
}

export function sumUsage(all: Iterable<Usage | null | undefined>): Usage | null {
  let total: Usage | null = null;
  for (const u of all) total = addUsage(total, u ?? null);
  return total;
}

/** tokens × price; null without a price. */
export function priceTokens(
  u: Pick<Usage, 'inputTokens' | 'outputTokens'>,
  price: Price | null | undefined,
): number | null {
  if (!price) return null;
  return (u.inputTokens * price.inputPerMTok + u.outputTokens * price.outputPerMTok) / 1e6;
}

/**
 * The cost to record: the configured price when there is one (a free plan is 0; Claude Code's own
 * `total_cost_usd` is at Claude's prices even against another model's endpoint, REFERENCE.md), else
 * the cost the CLI reported, else unknown.
 */
export function priceUsage(
  read: Pick<ReadUsage, 'inputTokens' | 'outputTokens'> & { reportedCostUsd?: number | null },
  price: Price | null | undefined,
): Usage {
  const clean = cleanUsage({
    inputTokens: read.inputTokens,
    outputTokens: read.outputTokens,
    costUsd: read.reportedCostUsd ?? null,
  }) ?? { ...ZERO_USAGE, costUsd: null };
  const priced = priceTokens(clean, price);
  return { ...clean, costUsd: priced ?? clean.costUsd };
}

/** One token count from untrusted output: a finite, non-negative whole number under MAX_TOKENS, else 0. */
export function tokenCount(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_TOKENS ? Math.round(v) : 0;
}

/** One reported cost from untrusted output: finite, non-negative, under MAX_COST_USD, else null. */
export function reportedCost(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_COST_USD ? v : null;
}

/** "12.3k in / 4.5k out, $0.42" (or "–" for an unknown cost). */
export function describeUsage(u: Usage | null): string {
  if (!u) return '–';
  return `${compactTokens(u.inputTokens)} in / ${compactTokens(u.outputTokens)} out, ${formatUsd(u.costUsd)}`;
}

export function compactTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1e6) return `${(n / 1000).toFixed(n < 1e4 ? 1 : 0)}k`;
  return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)}M`;
}

/** Dollars to the cent (to the tenth of a cent under a dollar's cent), or "–" when unknown. */
export function formatUsd(usd: number | null): string {
  if (usd === null) return '–';
  if (usd > 0 && usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

export function totalTokens(u: Usage | null): number {
  return u ? u.inputTokens + u.outputTokens : 0;
}
