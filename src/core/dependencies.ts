/**
 * The dependency graph of `dependsOn`. Pure: the callers pass task ids and their dependencies (or
 * task records) and get decisions back.
 *
 *  - `checkNewSpecs`: what `add`, `lint` and the queue refuse — a cycle, also one that closes through
 *    tasks already queued, and a dependency on an id that is neither queued nor in the batch (unless
 *    the user allows unknown dependencies).
 *  - `unmeetable`: which pending tasks can never start — a dependency failed, sits in a cycle, can
 *    never be met itself, or (once nothing else can progress) was never added — each with its reason.
 *  - `pendingCanProgress`: whether any pending task could still start, for `daemon --until-idle`.
 */
import type { TaskRecord } from './task.js';
import type { TaskId } from './ids.js';

/** Task id → the ids it depends on. */
export type DependencyGraph = ReadonlyMap<string, readonly string[]>;

/** "a → b → a": a cycle as people read it (the first id again at the end). */
export function formatCycle(cycle: readonly string[]): string {
  return cycle.join(' → ');
}

/**
 * Every cycle of the graph, one per strongly connected component that has one, each as the path from
 * its smallest id back to itself (`['a', 'b', 'a']`). Edges to ids that are not in the graph are ignored.
 * Iterative (Tarjan), so a long chain of dependencies cannot overflow the stack.
 */
export function findCycles(graph: DependencyGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const successors = (id: string) => (graph.get(id) ?? []).filter((d) => graph.has(d));
  for (const root of [...graph.keys()].sort()) {
    if (index.has(root)) continue;
    const work: { id: string; i: number }[] = [{ id: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const frame = work[work.length - 1]!;
      const succ = successors(frame.id);
      if (frame.i < succ.length) {
        const w = succ[frame.i++]!;
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ id: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(frame.id, Math.min(low.get(frame.id)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
      if (low.get(frame.id) !== index.get(frame.id)) continue;
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== frame.id);
      const selfLoop = component.length === 1 && successors(w).includes(w);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  }
  return components.map((c) => cycleThrough(graph, new Set(c))).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

/** A shortest cycle through the smallest id of a strongly connected component (breadth first). */
function cycleThrough(graph: DependencyGraph, members: ReadonlySet<string>): string[] {
  const start = [...members].sort()[0]!;
  const parent = new Map<string, string>();
  const queue = [start];
  for (let k = 0; k < queue.length; k++) {
    const id = queue[k]!;
    for (const d of graph.get(id) ?? []) {
      if (!members.has(d)) continue;
      if (d === start) {
        const path = [id];
        while (path[0] !== start) path.unshift(parent.get(path[0]!)!);
        return [...path, start];
      }
      if (!parent.has(d)) {
        parent.set(d, id);
        queue.push(d);
      }
    }
  }
  return [start, start]; // unreachable for a strongly connected component
}

export interface DependencyProblem {
  /** The new spec at fault. */
  id: string;
  kind: 'cycle' | 'unknown';
  /** The offending dependency (`unknown`) or null (`cycle`). */
  dependency: string | null;
  /** The cycle (`cycle` only), e.g. ['a', 'b', 'a']. */
  cycle?: string[];
  message: string;
}

/**
 * What is wrong with queueing `batch` beside the tasks already queued (`queued`, every state): each
 * cycle that runs through a new spec, and each dependency that is neither queued nor in the batch
 * (unless `allowUnknown`).
 */
export function checkNewSpecs(
  batch: readonly { id: string; dependsOn: readonly string[] }[],
  queued: DependencyGraph,
  opts: { allowUnknown: boolean },
): DependencyProblem[] {
  const graph = new Map(queued);
  for (const s of batch) graph.set(s.id, s.dependsOn);
  const fresh = new Set(batch.map((s) => s.id));
  const problems: DependencyProblem[] = [];
  for (const cycle of findCycles(graph)) {
    const own = cycle.find((id) => fresh.has(id));
    if (!own) continue; // a cycle among queued tasks only: the daemon fails those tasks
    problems.push({
      id: own,
      kind: 'cycle',
      dependency: null,
      cycle,
      message: `closes a cycle ${formatCycle(cycle)}: none of these tasks could ever start — remove one of these dependencies`,
    });
  }
  if (!opts.allowUnknown) {
    for (const s of batch) {
      for (const d of s.dependsOn) {
        if (graph.has(d)) continue;
        problems.push({
          id: s.id,
          kind: 'unknown',
          dependency: d,
          message: `names "${d}", which is neither queued nor among the specs given; add it in the same command (or first), fix the id, or pass --allow-unknown-deps to wait for it`,
        });
      }
    }
  }
  return problems;
}

/** The graph of the queue: every task's dependencies. */
export function graphOf(tasks: Iterable<Pick<TaskRecord, 'id' | 'spec'>>): Map<string, readonly string[]> {
  const graph = new Map<string, readonly string[]>();
  for (const t of tasks) graph.set(t.id, t.spec.dependsOn);
  return graph;
}

type Node = Pick<TaskRecord, 'id' | 'state' | 'spec' | 'parked'>;

/**
 * Pending tasks whose dependencies can never be met, each with the reason: a dependency failed
 * (killed and rejected tasks are failed too), the task or a dependency sits in a cycle, a dependency
 * can never be met itself, or — only when `unknownIsFinal` (nothing else can progress, so nothing can
 * add it) — a dependency was never queued. Tasks not listed wait or may start.
 */
export function unmeetable(tasks: readonly Node[], opts: { unknownIsFinal: boolean }): Map<TaskId, string> {
  // Only pending tasks with dependencies wait on them (most queues have few: the rest costs nothing).
  const waiting = tasks.filter((t) => t.state === 'pending' && t.spec.dependsOn.length > 0);
  if (waiting.length === 0) return new Map();
  const byId = new Map(tasks.map((t) => [t.id, t]));
  // A cycle among them can never be entered.
  const cyclic = new Map<string, string>();
  for (const cycle of findCycles(graphOf(waiting))) {
    for (const id of cycle) cyclic.set(id, formatCycle(cycle));
  }
  const verdict = new Map<string, string | null>();
  const judge = (root: Node): void => {
    // Depth first without recursion: a dependency is judged before its dependant.
    const work: Node[] = [root];
    while (work.length) {
      const t = work[work.length - 1]!;
      if (verdict.has(t.id)) {
        work.pop();
        continue;
      }
      const cycle = cyclic.get(t.id);
      if (cycle) {
        verdict.set(t.id, `dependency cycle ${cycle}: none of these tasks can ever start`);
        work.pop();
        continue;
      }
      const unjudged = t.spec.dependsOn
        .map((d) => byId.get(d))
        .filter((d): d is Node => d?.state === 'pending' && !verdict.has(d.id));
      if (unjudged.length) {
        work.push(...unjudged);
        continue;
      }
      work.pop();
      verdict.set(t.id, reasonFor(t, byId, verdict, opts.unknownIsFinal));
    }
  };
  const out = new Map<TaskId, string>();
  for (const t of waiting) {
    judge(t);
    const why = verdict.get(t.id);
    if (why) out.set(t.id, why);
  }
  return out;
}

function reasonFor(
  t: Node,
  byId: ReadonlyMap<string, Node>,
  verdict: ReadonlyMap<string, string | null>,
  unknownIsFinal: boolean,
): string | null {
  for (const d of t.spec.dependsOn) {
    const dep = byId.get(d);
    if (!dep) {
      if (unknownIsFinal)
        return `dependency ${d} was never queued and nothing else can progress; queue ${d} and retry this task`;
      continue;
    }
    if (dep.state === 'failed') return `dependency ${d} failed`;
    if (dep.state === 'pending') {
      const why = verdict.get(d);
      if (why) return `dependency ${d} can never be met (${why})`;
    }
  }
  return null;
}

/**
 * Whether some pending task can still start on its own: dispatch is not frozen, its pinned provider
 * is configured, and each dependency is done or can progress itself (running, in a review that is not
 * parked for a person, or pending and able to progress). Tasks waiting only for a retry backoff can.
 */
export function pendingCanProgress(
  tasks: readonly Node[],
  opts: { frozen: boolean; providers: ReadonlySet<string> },
): boolean {
  if (opts.frozen) return false;
  const pending = tasks.filter((t) => t.state === 'pending');
  const free = (t: Node) => t.spec.provider === null || opts.providers.has(t.spec.provider);
  if (pending.some((t) => t.spec.dependsOn.length === 0 && free(t))) return true;
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const memo = new Map<string, boolean>();
  const cyclic = new Set(findCycles(graphOf(pending.filter((t) => t.spec.dependsOn.length))).flat());
  const progresses = (root: Node): boolean => {
    const work: Node[] = [root];
    while (work.length) {
      const t = work[work.length - 1]!;
      if (memo.has(t.id)) {
        work.pop();
        continue;
      }
      if (cyclic.has(t.id) || !free(t)) {
        memo.set(t.id, false);
        work.pop();
        continue;
      }
      const deps = t.spec.dependsOn.map((d) => byId.get(d));
      const unjudged = deps.filter((d): d is Node => d?.state === 'pending' && !memo.has(d.id));
      if (unjudged.length) {
        work.push(...unjudged);
        continue;
      }
      work.pop();
      memo.set(
        t.id,
        deps.every(
          (d) =>
            d !== undefined &&
            (d.state === 'done' ||
              d.state === 'running' ||
              (d.state === 'review' && !d.parked) ||
              (d.state === 'pending' && memo.get(d.id) === true)),
        ),
      );
    }
    return memo.get(root.id) === true;
  };
  return pending.some(progresses);
}

/**
 * The batch in an order that queues each spec after the specs of the batch it depends on (stable
 * otherwise), so that a strict check of each one against the queue finds its dependencies there.
 * Specs in a cycle keep their place at the end (the caller refuses cycles first).
 */
export function dependencyOrder<T extends { id: string; dependsOn: readonly string[] }>(
  batch: readonly T[],
): T[] {
  const ids = new Set(batch.map((s) => s.id));
  const placed = new Set<string>();
  const out: T[] = [];
  let left = [...batch];
  while (left.length) {
    const ready = left.filter((s) => s.dependsOn.every((d) => !ids.has(d) || placed.has(d)));
    if (ready.length === 0) return [...out, ...left];
    for (const s of ready) {
      out.push(s);
      placed.add(s.id);
    }
    left = left.filter((s) => !placed.has(s.id));
  }
  return out;
}
