/**
 * The providers view: each configured provider with what the daemon publishes about it (breaker, live
 * limit and why, in flight, last probe, grade), or what the records say without a daemon. Assembled
 * here once for `nightshift providers` and the TUI's providers pane. Pure.
 */
import type { Config } from '../config/schema.js';
import type { TaskRecord } from '../core/task.js';
import { nightUsage, type UsageTotal } from '../core/usage-totals.js';
import { averagePoints, describeGradeCap, gradesFromRecords, gradeThrottle } from '../daemon/grades.js';
import type { DaemonState } from '../daemon/state-file.js';
import type { Toggles } from '../queue/toggles.js';

/** A provider as the config declares it. */
export interface ProviderConfigView {
  name: string;
  kind: string;
  hosts: readonly string[];
  /** The configured concurrency: the live limit never goes above it. */
  ceiling: number;
}

export function providerConfigViews(config: Config): ProviderConfigView[] {
  return Object.entries(config.providers).map(([name, p]) => ({
    name,
    kind: p.kind,
    hosts: p.hosts,
    ceiling: p.concurrency,
  }));
}

export interface ProviderView {
  name: string;
  kind: string;
  hosts: readonly string[];
  ceiling: number;
  /** The live limit, or null with no daemon (or none reported yet). */
  limit: number | null;
  breaker: string;
  /** Why the limit is what it is, or how to see it. */
  reason: string;
  running: number;
  lastProbe: { ok: boolean; reason: string } | null;
  /** Average points of the provider's last 10 architect grades (A = 4.0 … F = 0): the daemon's, else the records'. */
  grade: number | null;
  /** Frozen by `nightshift freeze` (all dispatch, or this provider). */
  frozen: boolean;
  /**
   * Why the live limit is held down by grades below `defaults.gradeFloor`, or null: the daemon's, else
   * what the records say the daemon would do.
   */
  throttle: string | null;
  /** This provider's executors' usage tonight (docs/cost.md: since the daemon started), or null with none. */
  usage: UsageTotal | null;
  /** Why a budget keeps this provider from new work (its own, or the whole night's), or null. */
  budget: string | null;
}

export interface ProvidersInput {
  providers: readonly ProviderConfigView[];
  /** queue/state/daemon.json, when a daemon holds the workspace. */
  daemonState: DaemonState | null;
  /** Whether a daemon holds the workspace lock. */
  daemonUp: boolean;
  tasks: readonly TaskRecord[];
  toggles: Toggles;
  /** `defaults.gradeFloor` (null: grades never throttle). */
  gradeFloor: number | null;
  /** Epoch ms tonight started, for `usage`: the daemon's start (nightStartOf). */
  nightStart: number;
}

/** When tonight started for usage figures: the running daemon's start, else `fallback`. */
export function nightStartOf(daemonState: DaemonState | null, fallback: number): number {
  const t = Date.parse(daemonState?.budget?.nightStart ?? daemonState?.startedAt ?? '');
  return Number.isFinite(t) ? t : fallback;
}

export function providersView(input: ProvidersInput): ProviderView[] {
  const { daemonState, daemonUp, tasks, toggles } = input;
  let recorded: Map<string, number[]> | null = null;
  const recordedPoints = (name: string) => (recorded ??= gradesFromRecords(tasks)).get(name);
  const recordedGrade = (name: string) => averagePoints(recordedPoints(name));
  const recordedThrottle = (name: string) => {
    const cap = gradeThrottle(recordedPoints(name), input.gradeFloor);
    return cap ? describeGradeCap(cap) : null;
  };
  const tonight = nightUsage(tasks, input.nightStart);
  const nightBudget = daemonUp ? (daemonState?.budget?.reached ?? null) : null;
  return input.providers.map((p) => {
    const live = daemonState?.providers.find((x) => x.name === p.name) ?? null;
    return {
      name: p.name,
      kind: p.kind,
      hosts: p.hosts,
      ceiling: live?.ceiling ?? p.ceiling,
      limit: live?.limit ?? null,
      breaker: live?.breaker ?? (daemonUp ? 'unreported' : 'no daemon'),
      reason:
        live?.reason ?? (daemonUp ? 'not reported yet' : 'start `nightshift daemon` to see live limits'),
      running:
        live?.running ??
        // An attempt that is collecting holds no slot (its executor has exited).
        tasks.filter(
          (t) =>
            t.state === 'running' &&
            t.attempts.at(-1)?.outcome === 'running' &&
            t.attempts.at(-1)?.provider === p.name,
        ).length,
      lastProbe: live?.lastProbe ?? null,
      grade: live?.grade ?? recordedGrade(p.name),
      frozen: toggles.frozen || toggles.frozenProviders.includes(p.name),
      throttle: live ? (live.throttle ?? null) : recordedThrottle(p.name),
      usage: tonight.providers.get(p.name) ?? null,
      budget: (daemonUp ? (live?.budget ?? null) : null) ?? nightBudget,
    };
  });
}

/**
 * The limit as a person reads it: "limit 2 of 3" (the live limit of the configured concurrency), or
 * "max 3 at once" with no daemon, when only the configured ceiling is known.
 */
export function limitText(p: Pick<ProviderView, 'limit' | 'ceiling'>): string {
  return p.limit === null ? `max ${p.ceiling} at once` : `limit ${p.limit} of ${p.ceiling}`;
}
