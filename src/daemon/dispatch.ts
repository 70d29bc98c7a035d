/**
 * Choosing what to start next. Pure: the caller passes a snapshot and gets decisions plus the reason
 * each waiting task waits.
 *
 * Tasks: highest priority first, FIFO within a priority; `dependsOn` waits for merged (done)
 * dependencies; never two live attempts of one task, never two active tasks with one dedup key.
 * Providers: the spec's pin, else healthy, unfrozen providers within their night budget (budget.ts)
 * under their live limit, preferring better recent grades and then free capacity (a provider graded
 * below the floor is capped, see grades.ts).
 * Hosts: the provider's hosts that are under their thresholds.
 */
import type { TaskId } from '../core/ids.js';
import { unmeetable } from '../core/dependencies.js';
import type { TaskRecord } from '../core/task.js';
import { canDispatch, liveLimit, type ProviderHealth } from './health.js';

export interface ProviderView {
  name: string;
  health: ProviderHealth;
  hosts: readonly string[];
  running: number;
  frozen: boolean;
  /** Why this provider's night budget keeps it from new work (budget.ts), or null. */
  budget?: string | null;
  /** Recent average grade points (higher is better), or null with no grades yet. */
  grade: number | null;
}

export interface HostView {
  name: string;
  /** Reasons the host takes no new work (over thresholds, unreachable). Empty = fine. */
  over: readonly string[];
  running: number;
}

export interface DispatchInput {
  now: number;
  frozen: boolean;
  /** Why the whole night's budget keeps anything new from starting (budget.ts), or null. */
  budget?: string | null;
  pending: readonly TaskRecord[];
  /** Every task by id (for dependencies and dedup). */
  tasks: ReadonlyMap<TaskId, TaskRecord>;
  providers: readonly ProviderView[];
  hosts: ReadonlyMap<string, HostView>;
  /** Task ids with an attempt being launched or running right now. */
  live: ReadonlySet<TaskId>;
  /** Epoch ms before which a task must not start again (retry backoff). */
  notBefore: ReadonlyMap<TaskId, number>;
  /** How many `upcoming` tasks to name (default 0). */
  lookahead?: number;
}

export interface Decision {
  task: TaskId;
  provider: string;
  host: string;
}

export interface DispatchResult {
  decisions: Decision[];
  waiting: Map<TaskId, string>;
  /** Tasks whose dependencies can never be met (failed, a cycle: core/dependencies.ts): they fail. */
  doomed: { task: TaskId; reason: string }[];
  /**
   * The next tasks to start once a slot frees, in order (at most `lookahead`): they wait only because
   * healthy providers are at their live limits. Each names the provider and host it would most likely
   * get, so its worktree can be prepared ahead of time.
   */
  upcoming: Decision[];
  /** Some task could start but for the hosts (all over their thresholds): a new load sample may free one. */
  hostBound: boolean;
}

/** Ordinal order: timestamps of one format and ids of [a-z0-9-] sort the same as by locale, faster. */
const ordinal = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function orderPending(pending: readonly TaskRecord[]): TaskRecord[] {
  return [...pending].sort(
    (a, b) => b.spec.priority - a.spec.priority || ordinal(a.createdAt, b.createdAt) || ordinal(a.id, b.id),
  );
}

export function chooseDispatches(input: DispatchInput): DispatchResult {
  const decisions: Decision[] = [];
  const waiting = new Map<TaskId, string>();
  const doomed: DispatchResult['doomed'] = [];
  const upcoming: Decision[] = [];
  const lookahead = input.lookahead ?? 0;
  let hostBound = false;
  const running = new Map(input.providers.map((p) => [p.name, p.running]));
  const hostRunning = new Map([...input.hosts.values()].map((h) => [h.name, h.running]));
  const liveKeys = new Set(
    [...input.tasks.values()]
      .filter((t) => t.state === 'running' || input.live.has(t.id))
      .map((t) => t.dedupKey),
  );
  if (input.frozen) {
    for (const t of input.pending) waiting.set(t.id, 'frozen: nothing new starts (nightshift thaw)');
    return { decisions, waiting, doomed, upcoming, hostBound: false };
  }
  if (input.budget) {
    for (const t of input.pending) waiting.set(t.id, `${input.budget}: nothing new starts tonight`);
    return { decisions, waiting, doomed, upcoming, hostBound: false };
  }
  // What blocks each provider, and the waiting text of a task any provider may take when all are
  // blocked: the same for every task until a decision changes a provider's running count. With
  // thousands of pending tasks and no free slot, this is most of a dispatch pass.
  const never = unmeetable([...input.tasks.values()], { unknownIsFinal: false });
  let providerState: { p: ProviderView; why: string | null }[] | null = null;
  let allBlocked: string | null = null;
  // Where the next slot to free would most likely go (for `upcoming`), for a task any provider may take.
  let unpinnedNext: { provider: string; host: string } | null | undefined;
  const nextFree = (candidates: { p: ProviderView }[]) => {
    const full = candidates.filter((c) => atLimitOnly(c.p, running.get(c.p.name) ?? 0)).map((c) => c.p);
    const next = sortProviders(full, running)
      .map((p) => ({ p, host: pickHost(p, input.hosts, hostRunning, []) }))
      .find((x) => x.host);
    return next?.host ? { provider: next.p.name, host: next.host.name } : null;
  };
  const blocked = () =>
    (providerState ??= input.providers.map((p) => ({
      p,
      why: providerBlocked(p, running.get(p.name) ?? 0),
    })));
  for (const task of orderPending(input.pending)) {
    if (input.live.has(task.id)) {
      waiting.set(task.id, 'an attempt is already live');
      continue;
    }
    const due = input.notBefore.get(task.id);
    if (due !== undefined && due > input.now) {
      waiting.set(task.id, `retry backoff until ${new Date(due).toISOString()}`);
      continue;
    }
    const doom = never.get(task.id);
    if (doom) {
      doomed.push({ task: task.id, reason: doom });
      continue;
    }
    const deps = task.spec.dependsOn.map((id) => ({ id, dep: input.tasks.get(id) }));
    const unmet = deps.filter((d) => d.dep?.state !== 'done');
    if (unmet.length) {
      waiting.set(
        task.id,
        `waiting for ${unmet.map((d) => (d.dep ? `${d.id} (${d.dep.state})` : `${d.id} (not queued yet)`)).join(', ')}`,
      );
      continue;
    }
    if (liveKeys.has(task.dedupKey)) {
      waiting.set(task.id, 'an identical task is running');
      continue;
    }
    const candidates = task.spec.provider
      ? blocked().filter((c) => c.p.name === task.spec.provider)
      : blocked();
    const open = candidates.filter((c) => c.why === null).map((c) => c.p);
    if (open.length === 0 && upcoming.length < lookahead) {
      const next = task.spec.provider
        ? nextFree(candidates)
        : unpinnedNext !== undefined
          ? unpinnedNext
          : (unpinnedNext = nextFree(candidates));
      if (next) upcoming.push({ task: task.id, provider: next.provider, host: next.host });
    }
    if (open.length === 0) {
      waiting.set(
        task.id,
        candidates.length === 0
          ? task.spec.provider
            ? `pinned provider ${task.spec.provider} is not configured`
            : 'no providers configured'
          : task.spec.provider
            ? candidates.map((c) => `${c.p.name}: ${c.why}`).join('; ')
            : (allBlocked ??= candidates.map((c) => `${c.p.name}: ${c.why}`).join('; ')),
      );
      continue;
    }
    let placed = false;
    const hostReasons: string[] = [];
    for (const provider of sortProviders(open, running)) {
      const host = pickHost(provider, input.hosts, hostRunning, hostReasons);
      if (!host) continue;
      decisions.push({ task: task.id, provider: provider.name, host: host.name });
      running.set(provider.name, (running.get(provider.name) ?? 0) + 1);
      hostRunning.set(host.name, (hostRunning.get(host.name) ?? 0) + 1);
      liveKeys.add(task.dedupKey);
      providerState = null;
      allBlocked = null;
      unpinnedNext = undefined;
      placed = true;
      break;
    }
    if (!placed) {
      hostBound = true;
      waiting.set(task.id, `no host has room: ${[...new Set(hostReasons)].join('; ') || 'no hosts'}`);
    }
  }
  return { decisions, waiting, doomed, upcoming, hostBound };
}

/** Better recent grades first, then more free capacity under the live limit. */
function sortProviders(providers: ProviderView[], running: ReadonlyMap<string, number>): ProviderView[] {
  return [...providers].sort(
    (a, b) =>
      (b.grade ?? -1) - (a.grade ?? -1) ||
      liveLimit(b.health) - (running.get(b.name) ?? 0) - (liveLimit(a.health) - (running.get(a.name) ?? 0)) ||
      a.name.localeCompare(b.name),
  );
}

/** The provider's least busy host under its thresholds; the others' reasons go to `reasons`. */
function pickHost(
  provider: ProviderView,
  hosts: ReadonlyMap<string, HostView>,
  hostRunning: ReadonlyMap<string, number>,
  reasons: string[],
): HostView | undefined {
  return provider.hosts
    .map((h) => hosts.get(h))
    .filter((h): h is HostView => h !== undefined)
    .filter((h) => {
      if (h.over.length) reasons.push(`${h.name}: ${h.over.join('; ')}`);
      return h.over.length === 0;
    })
    .sort(
      (a, b) =>
        (hostRunning.get(a.name) ?? 0) - (hostRunning.get(b.name) ?? 0) || a.name.localeCompare(b.name),
    )[0];
}

/** Healthy and unfrozen, and blocked only by its live limit: it takes work again when a slot frees. */
function atLimitOnly(p: ProviderView, running: number): boolean {
  return !p.frozen && !p.budget && p.health.breaker === 'closed' && !canDispatch(p.health, running);
}

function providerBlocked(p: ProviderView, running: number): string | null {
  if (p.frozen) return 'frozen';
  if (p.budget) return p.budget;
  if (p.health.breaker !== 'closed') return `${p.health.breaker} (${p.health.reason})`;
  if (!canDispatch(p.health, running)) {
    const cap = p.health.gradeCap;
    const capped = cap && cap.limit < p.health.limit;
    return `at its live limit ${liveLimit(p.health)}${capped ? ` (${cap.reason})` : ''}`;
  }
  return null;
}
