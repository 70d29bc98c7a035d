import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newTask, type TaskRecord } from '../../src/core/task.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { chooseDispatches, type HostView, type ProviderView } from '../../src/daemon/dispatch.js';
import {
  attemptSucceeded,
  initialHealth,
  probeFinished,
  providerFailed,
  type ProviderHealth,
} from '../../src/daemon/health.js';
import { tid } from '../../src/testing/ids.js';
import type { TaskId } from '../../src/core/ids.js';

const seed = Number(process.env['FC_SEED'] ?? Date.now());
console.log('fast-check seed', seed);

const spec = taskSpec;

type Step =
  | { kind: 'arrive'; priority: number }
  | { kind: 'complete'; pick: number }
  | { kind: 'providerFail'; pick: number }
  | { kind: 'specFail'; pick: number }
  | { kind: 'probe'; provider: number; ok: boolean }
  | { kind: 'dispatch' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('arrive' as const), priority: fc.integer({ min: -2, max: 2 }) }),
  fc.record({ kind: fc.constant('complete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('providerFail' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('specFail' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('probe' as const), provider: fc.nat(), ok: fc.boolean() }),
  fc.constant({ kind: 'dispatch' as const }),
);

describe('dispatch under negative feedback (model test)', () => {
  it('never runs more than the live limit on a provider, and the limit stays within [1, ceiling]', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
        fc.array(step, { maxLength: 120 }),
        (ceilings, steps) => {
          let now = 0;
          const health = new Map<string, ProviderHealth>(
            ceilings.map((c, i) => [`p${i}`, initialHealth(`p${i}`, c, now)]),
          );
          const ceilingOf = new Map(ceilings.map((c, i) => [`p${i}`, c]));
          const tasks = new Map<TaskId, TaskRecord>();
          const running = new Map<TaskId, string>(); // task → provider
          let n = 0;
          const names = () => [...health.keys()];
          for (const s of steps) {
            now += 1000;
            switch (s.kind) {
              case 'arrive': {
                const id = tid(`t${n++}`);
                tasks.set(id, newTask({ id, dedupKey: id, spec: spec({ priority: s.priority }), now }).task);
                break;
              }
              case 'complete':
              case 'providerFail':
              case 'specFail': {
                const ids = [...running.keys()];
                const id = ids[s.pick % Math.max(1, ids.length)];
                if (!id) break;
                const p = running.get(id) ?? '';
                running.delete(id);
                tasks.delete(id);
                const h = health.get(p);
                if (!h) break;
                if (s.kind === 'complete') health.set(p, attemptSucceeded(h, now));
                if (s.kind === 'providerFail') health.set(p, providerFailed(h, 'boom', now));
                // spec failures never move the provider's state
                break;
              }
              case 'probe': {
                const p = names()[s.provider % names().length] ?? 'p0';
                const h = health.get(p);
                if (h)
                  health.set(
                    p,
                    probeFinished(h, s.ok, s.ok ? 'answered' : 'empty', now, () => 0.5),
                  );
                break;
              }
              case 'dispatch': {
                const providers: ProviderView[] = names().map((name) => ({
                  name,
                  health: health.get(name) ?? initialHealth(name, 1, now),
                  hosts: ['h'],
                  running: [...running.values()].filter((p) => p === name).length,
                  frozen: false,
                  grade: null,
                }));
                const hosts = new Map<string, HostView>([
                  ['h', { name: 'h', over: [], running: running.size }],
                ]);
                const result = chooseDispatches({
                  now,
                  frozen: false,
                  pending: [...tasks.values()].filter((t) => !running.has(t.id)),
                  tasks,
                  providers,
                  hosts,
                  live: new Set(running.keys()),
                  notBefore: new Map(),
                });
                for (const d of result.decisions) {
                  expect(running.has(d.task)).toBe(false);
                  running.set(d.task, d.provider);
                }
                for (const name of names()) {
                  const h = health.get(name);
                  const count = [...running.values()].filter((p) => p === name).length;
                  if (h && result.decisions.some((d) => d.provider === name)) {
                    expect(h.breaker).toBe('closed');
                    expect(count).toBeLessThanOrEqual(h.limit);
                  }
                }
                break;
              }
            }
            for (const [name, h] of health) {
              expect(h.limit).toBeGreaterThanOrEqual(1);
              expect(h.limit).toBeLessThanOrEqual(ceilingOf.get(name) ?? 0);
            }
          }
        },
      ),
      { seed, numRuns: 300 },
    );
  });
});

describe('provider health', () => {
  it('gives an unprobed or failing provider zero dispatches until a probe passes', () => {
    let h = initialHealth('glm', 4, 0);
    expect(h.breaker).toBe('unprobed');
    h = probeFinished(h, false, 'empty output', 0, () => 1);
    expect(h).toMatchObject({ breaker: 'open', nextProbeAt: 30_000, backoffMs: 60_000 });
    h = probeFinished(h, false, 'empty output', 30_000, () => 1);
    expect(h.nextProbeAt).toBe(90_000);
    h = probeFinished(h, true, 'answered', 90_000, () => 1);
    expect(h).toMatchObject({ breaker: 'closed', limit: 2, backoffMs: 30_000 });
  });

  it('halves the limit on the first provider failure of a cohort and opens on a whole failed cohort', () => {
    let h = probeFinished(initialHealth('glm', 8, 0), true, 'ok', 0, () => 1);
    for (let i = 0; i < 2; i++) h = attemptSucceeded(h, i);
    expect(h.limit).toBe(3);
    h = providerFailed(h, '529', 10);
    expect(h).toMatchObject({ limit: 1, breaker: 'probing' });
    h = providerFailed(h, '529', 11);
    h = providerFailed(h, '529', 12);
    expect(h.breaker).toBe('open');
    expect(h.limitHistory.map((x) => x.limit)).toEqual([2, 3, 1]);
  });
});

describe('the tasks next in line (upcoming)', () => {
  const now = 1_000;
  const healthy = (name: string, running: number): ProviderView => ({
    name,
    health: probeFinished(initialHealth(name, 2, now), true, 'answered', now, () => 0.5),
    hosts: ['h1', 'h2'],
    running,
    frozen: false,
    grade: null,
  });
  const hosts = new Map<string, HostView>([
    ['h1', { name: 'h1', over: [], running: 2 }],
    ['h2', { name: 'h2', over: [], running: 0 }],
  ]);
  const pending = ['low', 'high', 'mid'].map(
    (id, i) =>
      newTask({ id: tid(id), dedupKey: id, spec: spec({ priority: [0, 2, 1][i] ?? 0 }), now: now + i }).task,
  );
  const input = (providers: ProviderView[], lookahead: number) => ({
    now,
    frozen: false,
    pending,
    tasks: new Map(pending.map((t) => [t.id, t])),
    providers,
    hosts,
    live: new Set<TaskId>(),
    notBefore: new Map<TaskId, number>(),
    lookahead,
  });

  it('names the next tasks in dispatch order when providers are only full, with their likely host', () => {
    const r = chooseDispatches(input([healthy('p', 2)], 2));
    expect(r.decisions).toEqual([]);
    expect(r.upcoming).toEqual([
      { task: 'high', provider: 'p', host: 'h2' },
      { task: 'mid', provider: 'p', host: 'h2' },
    ]);
  });

  it('names none when a slot is free, a provider is frozen or unhealthy, or no lookahead is asked', () => {
    expect(chooseDispatches(input([healthy('p', 2)], 0)).upcoming).toEqual([]);
    expect(chooseDispatches(input([{ ...healthy('p', 2), frozen: true }], 2)).upcoming).toEqual([]);
    const open = { ...healthy('p', 2), health: providerFailed(healthy('p', 2).health, 'boom', now) };
    expect(chooseDispatches(input([open], 2)).upcoming).toEqual([]);
    const free = chooseDispatches(input([healthy('p', 1)], 2));
    expect(free.decisions.map((d) => d.task)).toEqual(['high']);
    expect(free.upcoming.map((d) => d.task)).toEqual(['mid', 'low']);
  });
});
