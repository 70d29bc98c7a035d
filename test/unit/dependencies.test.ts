import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkNewSpecs,
  dependencyOrder,
  findCycles,
  formatCycle,
  pendingCanProgress,
  unmeetable,
} from '../../src/core/dependencies.js';
import type { TaskRecord } from '../../src/core/task.js';
import type { TaskState } from '../../src/core/state.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { tid } from '../../src/testing/ids.js';

const seed = Number(process.env['FC_SEED'] ?? Date.now());
console.log('dependencies fast-check seed', seed);

type Node = Pick<TaskRecord, 'id' | 'state' | 'spec' | 'parked'>;
const task = (
  id: string,
  dependsOn: string[] = [],
  state: TaskState = 'pending',
  over: Partial<Node> = {},
): Node => ({
  id: tid(id),
  state,
  spec: taskSpec({ dependsOn: dependsOn.map(tid), ...(over.spec ?? {}) }),
  parked: over.parked ?? null,
});
const graph = (entries: Record<string, string[]>) => new Map(Object.entries(entries));

describe('findCycles', () => {
  it('names a two-task cycle as a → b → a', () => {
    expect(findCycles(graph({ a: ['b'], b: ['a'] })).map(formatCycle)).toEqual(['a → b → a']);
  });

  it('finds a self-loop and a longer cycle, one per component, and ignores acyclic parts', () => {
    const cycles = findCycles(
      graph({ a: ['a'], b: ['c'], c: ['d'], d: ['b', 'e'], e: [], f: ['e'], g: ['missing'] }),
    );
    expect(cycles.map(formatCycle)).toEqual(['a → a', 'b → c → d → b']);
  });

  it('has no cycle in a chain of 20,000 (iterative: no stack overflow)', () => {
    const g = new Map<string, string[]>();
    for (let i = 0; i < 20_000; i++) g.set(`t${i}`, i ? [`t${i - 1}`] : []);
    expect(findCycles(g)).toEqual([]);
    g.set('t0', ['t19999']);
    expect(findCycles(g)).toHaveLength(1);
    expect(findCycles(g)[0]).toHaveLength(20_001);
  });

  it('agrees with a brute-force reachability check (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.nat({ max: 7 }), { maxLength: 3 }), { minLength: 1, maxLength: 8 }),
        (edges) => {
          const g = new Map(edges.map((ds, i) => [`n${i}`, ds.map((d) => `n${d}`)]));
          const reaches = (from: string, to: string) => {
            const seen = new Set<string>();
            const todo = [...(g.get(from) ?? [])];
            while (todo.length) {
              const x = todo.pop()!;
              if (x === to) return true;
              if (seen.has(x) || !g.has(x)) continue;
              seen.add(x);
              todo.push(...(g.get(x) ?? []));
            }
            return false;
          };
          const onCycle = new Set([...g.keys()].filter((id) => reaches(id, id)));
          const cycles = findCycles(g);
          // Every reported cycle is a real path, and every node on some cycle is in a reported component.
          for (const c of cycles) {
            expect(c[0]).toBe(c.at(-1));
            for (let i = 0; i + 1 < c.length; i++) expect(g.get(c[i]!)).toContain(c[i + 1]);
          }
          expect(cycles.length > 0).toBe(onCycle.size > 0);
        },
      ),
      { seed, numRuns: 300 },
    );
  });
});

describe('checkNewSpecs', () => {
  it('refuses a cycle within the batch, naming it', () => {
    const problems = checkNewSpecs(
      [
        { id: 'a', dependsOn: ['b'] },
        { id: 'b', dependsOn: ['a'] },
      ],
      new Map(),
      { allowUnknown: false },
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'cycle', id: 'a' });
    expect(problems[0]!.message).toContain('a → b → a');
  });

  it('refuses a cycle that closes through tasks already queued', () => {
    // x was queued waiting for an unknown "new" (allowed then); "new" now depends on x.
    const problems = checkNewSpecs([{ id: 'new', dependsOn: ['x'] }], graph({ x: ['new'], y: [] }), {
      allowUnknown: false,
    });
    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining('new → x → new')]);
  });

  it('refuses an unknown dependency unless unknown ones are allowed', () => {
    const batch = [{ id: 'b', dependsOn: ['a', 'ghost'] }];
    const strict = checkNewSpecs(batch, graph({ a: [] }), { allowUnknown: false });
    expect(strict).toMatchObject([{ kind: 'unknown', id: 'b', dependency: 'ghost' }]);
    expect(strict[0]!.message).toContain('--allow-unknown-deps');
    expect(checkNewSpecs(batch, graph({ a: [] }), { allowUnknown: true })).toEqual([]);
  });

  it('accepts a dependency given in the same batch, in any order', () => {
    const batch = [
      { id: 'b', dependsOn: ['a'] },
      { id: 'a', dependsOn: [] },
    ];
    expect(checkNewSpecs(batch, new Map(), { allowUnknown: false })).toEqual([]);
  });

  it('leaves a cycle among queued tasks alone (the daemon fails those)', () => {
    expect(
      checkNewSpecs([{ id: 'c', dependsOn: [] }], graph({ a: ['b'], b: ['a'] }), { allowUnknown: false }),
    ).toEqual([]);
  });
});

describe('unmeetable', () => {
  it('fails dependants of a failed task, transitively, with the reason', () => {
    const out = unmeetable([task('a', [], 'failed'), task('b', ['a']), task('c', ['b']), task('d', [])], {
      unknownIsFinal: false,
    });
    expect(out.get(tid('b'))).toBe('dependency a failed');
    expect(out.get(tid('c'))).toBe('dependency b can never be met (dependency a failed)');
    expect(out.has(tid('d'))).toBe(false);
  });

  it('fails every pending task of a cycle, and their dependants, naming the cycle', () => {
    const out = unmeetable([task('a', ['b']), task('b', ['a']), task('c', ['a'])], { unknownIsFinal: false });
    expect(out.get(tid('a'))).toContain('dependency cycle a → b → a');
    expect(out.get(tid('b'))).toContain('a → b → a');
    expect(out.get(tid('c'))).toContain('dependency a can never be met (dependency cycle a → b → a');
  });

  it('lets unknown dependencies wait until they are final', () => {
    const tasks = [task('b', ['ghost']), task('c', ['b'])];
    expect(unmeetable(tasks, { unknownIsFinal: false }).size).toBe(0);
    const final = unmeetable(tasks, { unknownIsFinal: true });
    expect(final.get(tid('b'))).toContain('dependency ghost was never queued');
    expect(final.get(tid('c'))).toContain('dependency b can never be met');
  });

  it('never dooms a task waiting on running, review or done work', () => {
    const tasks = [
      task('r', [], 'running'),
      task('v', [], 'review'),
      task('d', [], 'done'),
      task('w', ['r', 'v', 'd']),
    ];
    expect(unmeetable(tasks, { unknownIsFinal: true }).size).toBe(0);
  });
});

describe('pendingCanProgress', () => {
  const providers = new Set(['p']);
  it('is false when the only pending work waits on an unknown dependency or a cycle', () => {
    expect(pendingCanProgress([task('b', ['ghost'])], { frozen: false, providers })).toBe(false);
    expect(pendingCanProgress([task('a', ['b']), task('b', ['a'])], { frozen: false, providers })).toBe(
      false,
    );
  });

  it('is false for work behind a parked review or an unconfigured pinned provider, and when frozen', () => {
    const parked = task('v', [], 'review', { parked: 'needs-human' });
    expect(pendingCanProgress([parked, task('w', ['v'])], { frozen: false, providers })).toBe(false);
    const pinned = task('x', [], 'pending', { spec: taskSpec({ provider: 'gone' }) });
    expect(pendingCanProgress([pinned, task('y', ['x'])], { frozen: false, providers })).toBe(false);
    expect(pendingCanProgress([task('z')], { frozen: true, providers })).toBe(false);
  });

  it('is true for a free task, or one behind running, reviewed or startable work', () => {
    expect(pendingCanProgress([task('z')], { frozen: false, providers })).toBe(true);
    expect(
      pendingCanProgress([task('r', [], 'running'), task('w', ['r'])], { frozen: false, providers }),
    ).toBe(true);
    expect(pendingCanProgress([task('a'), task('b', ['a'])], { frozen: false, providers })).toBe(true);
  });
});

describe('dependencyOrder', () => {
  it('puts each spec after the batch specs it depends on, stable otherwise', () => {
    const order = dependencyOrder([
      { id: 'c', dependsOn: ['b'] },
      { id: 'x', dependsOn: ['queued'] },
      { id: 'b', dependsOn: ['a'] },
      { id: 'a', dependsOn: [] },
    ]);
    expect(order.map((s) => s.id)).toEqual(['x', 'a', 'b', 'c']);
  });
});
