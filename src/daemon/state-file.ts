/** queue/state/daemon.json: the daemon's published view (providers, hosts, waiting reasons) for clients. */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { WorkspacePaths } from '../config/paths.js';
import { writeFileDurable } from '../queue/fsx.js';

export interface DaemonState {
  pid: number;
  host: string;
  startedAt: string;
  updatedAt: string;
  providers: {
    name: string;
    breaker: string;
    reason: string;
    /** The live limit: what the breaker's feedback earned, under the grades' cap if any. */
    limit: number;
    ceiling: number;
    running: number;
    lastProbe: { ok: boolean; reason: string } | null;
    /** Average grade points of recent reviews (A = 4.0 … F = 0), or null before any. */
    grade?: number | null;
    /** Why grades below `defaults.gradeFloor` cap the live limit (grades.ts describeGradeCap), or null. */
    throttle?: string | null;
    limitHistory: { limit: number; reason: string }[];
    /** Why this provider's night budget keeps it from new work (budget.ts), or null. */
    budget?: string | null;
  }[];
  /** When the budgets' night started (the daemon's start) and why nothing new starts, if the night's budget is reached. */
  budget?: { nightStart: string; reached: string | null };
  hosts: { name: string; over: string[] }[];
  waiting: Record<string, string>;
  /** The night window's state ("window open: starting new work until 06:00"), or null without one. */
  window?: string | null;
}

/** What writeDaemonState last wrote, to tell whether the next state differs. */
export interface PublishedState {
  /** The state but its time and waiting reasons, as JSON. */
  key: string;
  waiting: ReadonlyMap<string, string>;
}

/**
 * Writes the state if it changed since `previous`; returns what it wrote (or `previous`). The waiting
 * reasons (one per pending task: 10,000 in a big queue) are compared entry by entry, not serialized on
 * every tick.
 */
export function writeDaemonState(
  paths: WorkspacePaths,
  state: Omit<DaemonState, 'waiting'> & { waiting: ReadonlyMap<string, string> },
  previous: PublishedState | null,
): PublishedState {
  const { updatedAt: _ignored, waiting, ...rest } = state;
  const key = JSON.stringify(rest);
  if (previous && key === previous.key && sameEntries(waiting, previous.waiting)) return previous;
  // Only queue/state itself: a workspace deleted under the daemon is never made again here (the write
  // then fails, and stopping.ts finds the queue gone).
  if (!existsSync(paths.stateStore)) mkdirSync(paths.stateStore, { mode: 0o700 });
  const text = JSON.stringify({ ...state, waiting: Object.fromEntries(waiting) }, null, 2);
  writeFileDurable(paths.daemonState, `${text}\n`, paths.tmp, 0o600);
  return { key, waiting: new Map(waiting) };
}

function sameEntries(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

export function readDaemonState(paths: WorkspacePaths): DaemonState | null {
  try {
    return JSON.parse(readFileSync(paths.daemonState, 'utf8')) as DaemonState;
  } catch {
    return null;
  }
}
