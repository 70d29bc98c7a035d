/** The cost lines of `nightshift show` (docs/cost.md): executors, architect, total; "–" when unpriced. */
import { describeTotal, type TaskUsage } from '../../core/usage-totals.js';

export function costLines(u: TaskUsage): string[] {
  if (u.total.calls === 0) return [];
  const lines = [`  cost       ${describeTotal(u.total)}`];
  if (u.executor.calls) lines.push(`             executors ${describeTotal(u.executor)}`);
  if (u.architect.calls) lines.push(`             architect ${describeTotal(u.architect)}`);
  return lines;
}
