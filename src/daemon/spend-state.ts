/**
 * What the daemon keeps about spending between ticks (spend.ts does the work): when the night started,
 * the budgets in force, and the usage running attempts have reported so far.
 */
import type { TaskId } from '../core/ids.js';
import { priceUsage, type ReadUsage, type Usage } from '../core/usage.js';
import type { Config } from '../config/schema.js';
import { profileFor } from '../providers/index.js';
import { NO_FREEZE, type BudgetFreeze } from './budget.js';

/** A running attempt's output read so far: complete lines judged, the partial last line kept. */
interface LiveReading {
  provider: string;
  attempt: number;
  partial: string;
  read: ReadUsage | null;
}

/** A line this long without an end is read as it is (like the live failure check). */
const MAX_PARTIAL = 65_536;

export class Spend {
  /** The budgets in force since the last dispatch. */
  freeze: BudgetFreeze = NO_FREEZE;
  private readonly live = new Map<TaskId, LiveReading>();

  constructor(
    /** Epoch ms the night started (the daemon's start). */
    readonly nightStart: number,
  ) {}

  /**
   * A running attempt's newly mirrored output: its usage lines are added up as they arrive (executors
   * that report per turn or per step), so a budget can be reached while the attempt still runs.
   */
  noteOutput(config: Config, taskId: TaskId, provider: string, attempt: number, chunk: string): void {
    const cfg = config.providers[provider];
    if (!cfg) return;
    let r = this.live.get(taskId);
    if (!r || r.attempt !== attempt) {
      r = { provider, attempt, partial: '', read: null };
      this.live.set(taskId, r);
    }
    const text = r.partial + chunk;
    const end = text.lastIndexOf('\n') + 1;
    const cut = end === 0 && text.length > MAX_PARTIAL ? text.length : end;
    r.partial = text.slice(cut);
    if (cut === 0) return;
    const u = profileFor(cfg.kind).readOutput(text.slice(0, cut), 0).usage;
    if (!u) return;
    // Claude Code's result line is the whole run's total, and comes last: it replaces, not adds.
    r.read =
      cfg.kind === 'claude-code' || !r.read
        ? u
        : {
            inputTokens: r.read.inputTokens + u.inputTokens,
            outputTokens: r.read.outputTokens + u.outputTokens,
            reportedCostUsd:
              r.read.reportedCostUsd === null || u.reportedCostUsd === null
                ? null
                : r.read.reportedCostUsd + u.reportedCostUsd,
          };
  }

  /** What running attempts reported so far, priced, by provider. */
  liveUsage(config: Config): { provider: string; usage: Usage }[] {
    return [...this.live.values()].flatMap((r) =>
      r.read
        ? [{ provider: r.provider, usage: priceUsage(r.read, config.providers[r.provider]?.price) }]
        : [],
    );
  }

  /** The attempt's usage is on its record now (or it is gone): its live figure is dropped. */
  forget(taskId: TaskId): void {
    this.live.delete(taskId);
  }
}
