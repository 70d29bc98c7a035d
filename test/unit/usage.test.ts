/** Tokens and cost (docs/cost.md): parsing each CLI's usage, pricing, adding up, and the budget decision. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { profileFor } from '../../src/providers/index.js';
import { addUsage, cleanUsage, formatUsd, MAX_TOKENS, priceUsage, type Usage } from '../../src/core/usage.js';
import {
  architectCallsOf,
  architectShare,
  architectUsageEvent,
  describeTotal,
  nightUsage,
  taskUsage,
} from '../../src/core/usage-totals.js';
import { budgetChanges, budgetFreeze, NO_FREEZE } from '../../src/daemon/budget.js';
import { chooseDispatches, type ProviderView } from '../../src/daemon/dispatch.js';
import { initialHealth, probeFinished } from '../../src/daemon/health.js';
import { enterRunning, newTask, type TaskRecord } from '../../src/core/task.js';
import { withArchitectUsage, withAttemptUsage } from '../../src/core/task-usage.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { tid } from '../../src/testing/ids.js';

const line = (o: unknown) => JSON.stringify(o);
const read = (kind: Parameters<typeof profileFor>[0], log: string) =>
  profileFor(kind).readOutput(log, 0).usage;

describe('usage read from each CLI (real-shaped output)', () => {
  it('claude-code: the result event, cache tokens as input, and total_cost_usd', () => {
    const log = [
      line({ type: 'system', subtype: 'init', session_id: '0b7e5a2c-1f1e-4a1e-9b1e-2c3d4e5f6a7b' }),
      line({
        type: 'result',
        subtype: 'success',
        is_error: false,
        num_turns: 4,
        result: 'Done.',
        session_id: '0b7e5a2c-1f1e-4a1e-9b1e-2c3d4e5f6a7b',
        total_cost_usd: 0.0421,
        usage: {
          input_tokens: 12,
          cache_creation_input_tokens: 3000,
          cache_read_input_tokens: 9000,
          output_tokens: 800,
        },
        modelUsage: { 'claude-sonnet-4-5': { costUSD: 0.0421 } },
      }),
    ].join('\n');
    expect(read('claude-code', log)).toEqual({
      inputTokens: 12012,
      outputTokens: 800,
      reportedCostUsd: 0.0421,
    });
  });

  it('codex: turn.completed events summed (cached input is already in input_tokens), no cost', () => {
    const turn = (i: number, o: number) =>
      line({ type: 'turn.completed', usage: { input_tokens: i, cached_input_tokens: 10, output_tokens: o } });
    const log = [line({ type: 'thread.started', thread_id: 't' }), turn(100, 5), turn(300, 7)].join('\n');
    expect(read('codex', log)).toEqual({ inputTokens: 400, outputTokens: 12, reportedCostUsd: null });
  });

  it("opencode: step_finish tokens and each step's cost", () => {
    const step = (cost: number) =>
      line({
        type: 'step_finish',
        part: {
          reason: 'stop',
          cost,
          tokens: { input: 50, output: 5, reasoning: 1, cache: { read: 10, write: 2 } },
        },
      });
    expect(read('opencode', [step(0.01), step(0.02)].join('\n'))).toEqual({
      inputTokens: 124,
      outputTokens: 12,
      reportedCostUsd: 0.03,
    });
  });

  it("aider: Tokens lines and each message's Cost", () => {
    const log =
      'Tokens: 2.3k sent, 45 received. Cost: $0.01 message, $0.01 session.\n' +
      'Tokens: 1k sent, 1.2k received. Cost: $0.02 message, $0.03 session.\n';
    expect(read('aider', log)).toEqual({ inputTokens: 3300, outputTokens: 1245, reportedCostUsd: 0.03 });
  });

  it('scripted: its usage lines summed; one without a cost makes the cost unknown', () => {
    const u = (i: number, o: number, c?: number) =>
      line({ type: 'usage', input_tokens: i, output_tokens: o, ...(c === undefined ? {} : { cost_usd: c }) });
    expect(read('scripted', [u(10, 1, 0.5), u(20, 2, 0.25)].join('\n'))).toEqual({
      inputTokens: 30,
      outputTokens: 3,
      reportedCostUsd: 0.75,
    });
    expect(read('scripted', [u(10, 1, 0.5), u(20, 2)].join('\n'))?.reportedCostUsd).toBeNull();
  });

  it('absurd figures from an executor are dropped, never negative or NaN', () => {
    const log = [
      '{"type":"usage","input_tokens":-1e15,"output_tokens":1e400,"cost_usd":-3}',
      '{"type":"usage","input_tokens":"NaN","output_tokens":2e12,"cost_usd":1e400}',
      '{"type":"usage","input_tokens":7.6,"output_tokens":3}',
    ].join('\n');
    expect(read('scripted', log)).toEqual({ inputTokens: 8, outputTokens: 3, reportedCostUsd: null });
    const fake =
      '{"type":"result","result":"x","is_error":false,"usage":{"input_tokens":-5},"total_cost_usd":-1}';
    expect(read('claude-code', fake)).toEqual({ inputTokens: 0, outputTokens: 0, reportedCostUsd: null });
  });
});

describe('pricing', () => {
  it('a configured price wins (Claude Code reports Claude prices even for other models)', () => {
    const u = priceUsage(
      { inputTokens: 2_000_000, outputTokens: 100_000, reportedCostUsd: 9 },
      {
        inputPerMTok: 3,
        outputPerMTok: 15,
      },
    );
    expect(u).toEqual({ inputTokens: 2_000_000, outputTokens: 100_000, costUsd: 7.5 });
  });
  it("without a price, the CLI's reported cost; without either, unknown (never $0)", () => {
    expect(priceUsage({ inputTokens: 1, outputTokens: 1, reportedCostUsd: 0.2 }, undefined).costUsd).toBe(
      0.2,
    );
    const unknown = priceUsage({ inputTokens: 1, outputTokens: 1 }, undefined);
    expect(unknown.costUsd).toBeNull();
    expect(formatUsd(unknown.costUsd)).toBe('–');
  });
  it('a free plan is $0', () => {
    expect(
      priceUsage({ inputTokens: 5e6, outputTokens: 5e6 }, { inputPerMTok: 0, outputPerMTok: 0 }).costUsd,
    ).toBe(0);
  });
  it('cleanUsage never yields a negative, fractional or non-finite figure (fast-check)', () => {
    const seed = Date.now();
    console.log(`fast-check seed ${seed}`);
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (i, o, c) => {
        const u = cleanUsage({ inputTokens: i, outputTokens: o, costUsd: c });
        if (!u) return false;
        return (
          [u.inputTokens, u.outputTokens].every((n) => Number.isInteger(n) && n >= 0 && n <= MAX_TOKENS) &&
          (u.costUsd === null || (Number.isFinite(u.costUsd) && u.costUsd >= 0))
        );
      }),
      { seed },
    );
  });
  it('adding an unknown cost makes the sum unknown', () => {
    const a: Usage = { inputTokens: 1, outputTokens: 2, costUsd: 0.4 };
    expect(addUsage(a, { inputTokens: 1, outputTokens: 1, costUsd: null })).toEqual({
      inputTokens: 2,
      outputTokens: 3,
      costUsd: null,
    });
    expect(addUsage(a, a)?.costUsd).toBeCloseTo(0.8);
  });
});

const T0 = Date.parse('2026-12-07T20:00:00Z');
function taskWith(id: string, provider: string, usage: Usage, at: number, arch?: Usage): TaskRecord {
  let t = newTask({ id: tid(id), dedupKey: id, spec: taskSpec({ title: id }), now: at }).task;
  t = enterRunning(t, { now: at, provider, host: 'local' }).task;
  t = withAttemptUsage(t, 1, usage, at).task;
  if (arch) t = withArchitectUsage(t, { kind: 'review', usage: arch }, at).task;
  return t;
}

describe('adding up', () => {
  const a = taskWith('a', 'glm', { inputTokens: 1000, outputTokens: 100, costUsd: 0.5 }, T0, {
    inputTokens: 300,
    outputTokens: 100,
    costUsd: 0.1,
  });
  const b = taskWith('b', 'codex', { inputTokens: 500, outputTokens: 0, costUsd: null }, T0 + 1000);
  const old = taskWith('old', 'glm', { inputTokens: 9e6, outputTokens: 0, costUsd: 9 }, T0 - 3_600_000);

  it('per task: executors, architect, total', () => {
    const u = taskUsage(a);
    expect([u.executor.inputTokens, u.architect.inputTokens, u.total.inputTokens]).toEqual([1000, 300, 1300]);
    expect(u.total.costUsd).toBeCloseTo(0.6);
  });
  it('per provider and night: only what counts since the night started; unpriced is said', () => {
    const night = nightUsage([a, b, old], T0);
    expect(night.providers.get('glm')?.inputTokens).toBe(1000);
    expect(night.providers.get('codex')?.costUsd).toBeNull();
    expect(night.total.inputTokens).toBe(1800);
    expect(night.total.costUsd).toBeNull();
    expect(night.total.knownCostUsd).toBeCloseTo(0.6);
    expect(describeTotal(night.total)).toBe('1.8k in / 200 out, $0.60 + unpriced');
    expect(architectShare(night)).toBeCloseTo(400 / 2000);
  });
  it('a running attempt reported so far counts too', () => {
    const night = nightUsage([a], T0, Infinity, [
      { provider: 'glm', usage: { inputTokens: 5, outputTokens: 5, costUsd: 0 } },
    ]);
    expect(night.providers.get('glm')?.inputTokens).toBe(1005);
  });
  it('architect calls about no task (triage, plan) count in the night from their events, priced', () => {
    const at = (ms: number) => new Date(ms).toISOString();
    const events = [
      architectUsageEvent(
        at(T0 + 5),
        'triage',
        { inputTokens: 2000, outputTokens: 1000, costUsd: null },
        {
          inputPerMTok: 1,
          outputPerMTok: 2,
        },
      ),
      architectUsageEvent(
        at(T0 - 3_600_000),
        'plan',
        { inputTokens: 7, outputTokens: 7, costUsd: null },
        null,
      ),
    ];
    expect(events[0]).toMatchObject({ type: 'architect.usage', kind: 'triage', inputTokens: 2000 });
    expect(events[0]?.costUsd).toBeCloseTo(0.004);
    const night = nightUsage([a], T0, Infinity, [], architectCallsOf(events));
    // The plan call was before the night started; the triage note is in it.
    expect(night.architect.inputTokens).toBe(300 + 2000);
    expect(night.architect.calls).toBe(2);
    expect(night.total.knownCostUsd).toBeCloseTo(0.6 + 0.004);
  });
});

describe('budgets (pure decision)', () => {
  const night = (glm: number, arch = 0) =>
    nightUsage(
      [
        taskWith('a', 'glm', { inputTokens: glm, outputTokens: 0, costUsd: glm / 1e6 }, T0, {
          inputTokens: arch,
          outputTokens: 0,
          costUsd: 0,
        }),
      ],
      T0,
    );
  const budgets = {
    perNight: { tokens: 10_000 },
    providers: { glm: { budget: { tokens: 5000, usd: 1 } }, codex: {} },
  };

  it('under every budget: nothing frozen', () => {
    expect(budgetFreeze(night(4999), budgets)).toEqual({ night: null, providers: new Map() });
  });
  it("a provider's tokens reach its budget: that provider only, with the reason and the config key", () => {
    const f = budgetFreeze(night(5000), budgets);
    expect(f.night).toBeNull();
    expect(f.providers.get('glm')).toBe(
      'budget reached: 5.0k of 5.0k tokens used tonight (providers.glm.budget.tokens)',
    );
    expect(f.providers.has('codex')).toBe(false);
  });
  it("the architect's tokens count toward the night's budget, which freezes everything", () => {
    expect(budgetFreeze(night(100, 9900), budgets).night).toMatch(/budget\.perNight\.tokens/);
  });
  it('dollars: only known costs count', () => {
    const f = budgetFreeze(night(1000), { providers: { glm: { budget: { usd: 0.001 } } } });
    expect(f.providers.get('glm')).toMatch(
      /\$0\.0010 of \$0\.0010 spent tonight \(providers\.glm\.budget\.usd\)/,
    );
  });
  it('changes are reported once each way', () => {
    const reached = budgetFreeze(night(5000), budgets);
    expect(budgetChanges(NO_FREEZE, reached)).toEqual([
      { provider: 'glm', reached: true, reason: reached.providers.get('glm') },
    ]);
    expect(budgetChanges(reached, reached)).toEqual([]);
    expect(budgetChanges(reached, NO_FREEZE)).toEqual([
      { provider: 'glm', reached: false, reason: "glm's budget is no longer reached" },
    ]);
  });
});

describe('dispatch keeps a provider over its budget out, like an open breaker', () => {
  const health = (name: string) => probeFinished(initialHealth(name, 2, 0), true, 'ok', 0, () => 0);
  const pending = newTask({ id: tid('p'), dedupKey: 'p', spec: taskSpec({ title: 'p' }), now: T0 }).task;
  const view = (name: string, budget: string | null): ProviderView => ({
    name,
    health: health(name),
    hosts: ['local'],
    running: 0,
    frozen: false,
    budget,
    grade: null,
  });
  const input = (providers: ProviderView[], nightBudget: string | null = null) => ({
    now: T0,
    frozen: false,
    budget: nightBudget,
    pending: [pending],
    tasks: new Map([[pending.id, pending]]),
    providers,
    hosts: new Map([['local', { name: 'local', over: [], running: 0 }]]),
    live: new Set<never>(),
    notBefore: new Map(),
  });
  it('the other provider takes the task; with none left, the task waits with the reason', () => {
    expect(
      chooseDispatches(input([view('glm', 'budget reached: x'), view('codex', null)])).decisions,
    ).toEqual([{ task: pending.id, provider: 'codex', host: 'local' }]);
    const r = chooseDispatches(input([view('glm', 'budget reached: x')]));
    expect(r.decisions).toEqual([]);
    expect(r.waiting.get(pending.id)).toBe('glm: budget reached: x');
  });
  it("the night's budget: nothing starts", () => {
    const r = chooseDispatches(input([view('codex', null)], 'budget reached: y'));
    expect(r.decisions).toEqual([]);
    expect(r.waiting.get(pending.id)).toBe('budget reached: y: nothing new starts tonight');
  });
});

describe("the TUI's detail pane", () => {
  it("shows each attempt's usage and the task's cost with the architect's part", async () => {
    const { historyLines } = await import('../../src/tui/state/detail.js');
    const t = taskWith('d', 'glm', { inputTokens: 1000, outputTokens: 100, costUsd: null }, T0, {
      inputTokens: 300,
      outputTokens: 100,
      costUsd: 0.1,
    });
    const text = historyLines(t, T0).map((l) => l.text);
    expect(text).toContain('      used 1.0k in / 100 out, –');
    expect(text).toContain('Cost: 1.3k in / 200 out, $0.10 + unpriced (architect 300 in / 100 out, $0.10)');
  });
});
