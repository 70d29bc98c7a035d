/**
 * Tokens and cost over a real night (docs/cost.md): the scripted executor reports usage like an agent,
 * the daemon records and prices it, and `show`, `providers` and the report show it; a tiny token budget
 * freezes the provider while its first task still runs, which finishes, and the second never starts.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProviderView } from '../../src/client/providers.js';
import type { ReportData } from '../../src/client/report/index.js';
import type { NightshiftEvent } from '../../src/core/events.js';
import type { TaskRecord } from '../../src/core/task.js';
import type { TaskUsage } from '../../src/core/usage-totals.js';
import { systemClock } from '../../src/lib/clock.js';
import { readDaemonState } from '../../src/daemon/state-file.js';
import { makeNight, scriptedSpec, type Night } from '../../src/testing/night.js';
import { tid } from '../../src/testing/ids.js';
import { waitFor } from '../../src/testing/wait.js';
import { runCli } from '../../src/testing/workspace.js';

let night: Night | null = null;
afterEach(async () => {
  await night?.cleanup();
  night = null;
});

const FAST = 'defaults: { retryInitial: 1s, retryMax: 2s, livenessEvery: 1s, monitorEvery: 1h }';

describe('cost over a night', () => {
  it('usage lands on the attempt, in show --json, providers --json and the report, priced from config', async () => {
    night = makeNight({
      providers:
        '  sim: { kind: scripted, hosts: [local], concurrency: 1, price: { inputPerMTok: 3, outputPerMTok: 15 } }',
      extra: FAST,
    });
    const sup = night.supervisor();
    await sup.start();
    night.dropSpec(
      'a.md',
      scriptedSpec('a', 'usage 1000 200\nwrite a.txt "a\\n"\ncommit "a"\nusage 500 100\nexit 0'),
    );
    await waitFor('a merged', () => sup.store.list().find((t) => t.id === 'a')?.state === 'done', 60_000);
    const opts = { cwd: night.root, clock: systemClock };

    const show = await runCli(['show', 'a', '--json'], opts);
    expect(show.code, show.stderr).toBe(0);
    const record = JSON.parse(show.stdout) as TaskRecord & { cost: TaskUsage };
    // 1500 in × $3/M + 300 out × $15/M = $0.009: the configured price.
    expect(record.attempts[0]?.usage).toEqual({ inputTokens: 1500, outputTokens: 300, costUsd: 0.009 });
    expect(record.cost.total).toMatchObject({ inputTokens: 1500, outputTokens: 300, costUsd: 0.009 });
    expect((await runCli(['show', 'a'], opts)).stdout).toContain('used 1.5k in / 300 out, $0.0090');

    const providers = await runCli(['providers', '--json'], opts);
    const rows = JSON.parse(providers.stdout) as ProviderView[];
    expect(rows.find((r) => r.name === 'sim')?.usage).toMatchObject({ inputTokens: 1500, outputTokens: 300 });
    expect(rows.find((r) => r.name === 'sim')?.budget).toBeNull();
    await sup.stop('test done');

    const report = await runCli(['report', '--format', 'json'], opts);
    const data = JSON.parse(report.stdout) as ReportData;
    expect(data.cost.total).toMatchObject({ inputTokens: 1500, outputTokens: 300, costUsd: 0.009 });
    expect(data.cost.providers.map((p) => [p.name, p.usage.inputTokens])).toEqual([['sim', 1500]]);
    expect(data.cost.tasks.map((t) => t.id)).toEqual(['a']);
    expect(data.cost.architectShare).toBe(0);
    const md = await runCli(['report'], opts);
    expect(md.stdout).toContain('## Tokens and cost');
    expect(md.stdout).toContain('| sim | 1.5k in / 300 out, $0.0090 |');
  });

  it('a tiny token budget freezes the provider while its first task runs: that one finishes, the next never starts', async () => {
    night = makeNight({
      providers: '  sim: { kind: scripted, hosts: [local], concurrency: 1, budget: { tokens: 100 } }',
      extra: FAST,
    });
    const sup = night.supervisor();
    const reachedWhile: string[] = [];
    const events: NightshiftEvent[] = [];
    // The first task works on until the budget is reached (this flag), not for a fixed while.
    const reachedFlag = path.join(night.root, 'budget-reached');
    sup.events.subscribe((e) => {
      events.push(e);
      if (e.type === 'budget.reached') {
        reachedWhile.push(sup.store.get(tid('first')).attempts.at(-1)?.outcome ?? '-');
        writeFileSync(reachedFlag, '');
      }
    });
    await sup.start();
    // The first reports its tokens early, then keeps working until the supervisor has reacted to them.
    const untilReached = JSON.stringify(`while [ ! -e '${reachedFlag}' ]; do sleep 0.1; done`);
    night.dropSpec(
      'first.md',
      scriptedSpec('first', `usage 500 0\nsh ${untilReached}\nwrite f.txt "f\\n"\ncommit "f"\nexit 0`, [
        'priority: 1',
      ]),
    );
    night.dropSpec('second.md', scriptedSpec('second', 'write s.txt "s\\n"\ncommit "s"\nexit 0'));
    await waitFor(
      'first merged',
      () => sup.store.list().find((t) => t.id === 'first')?.state === 'done',
      90_000,
    );
    // Reached while the first still ran, and it was not killed.
    expect(reachedWhile).toEqual(['running']);
    expect(sup.store.get(tid('first')).attempts.map((a) => a.outcome)).toEqual(['exited']);
    const reached = events.find((e) => e.type === 'budget.reached');
    expect(reached).toMatchObject({ provider: 'sim' });
    expect(reached && 'reason' in reached ? reached.reason : '').toContain('providers.sim.budget.tokens');
    // The second waits, with the reason, where `ls`, `status` and the TUI read it.
    const why = await waitFor(
      'the second waiting on the budget',
      () => readDaemonState(night!.paths)?.waiting['second'],
      30_000,
    );
    expect(why).toMatch(/^sim: budget reached: 500 of 100 tokens/);
    expect(sup.store.get(tid('second')).attempts).toEqual([]);

    const opts = { cwd: night.root, clock: systemClock };
    const status = await runCli(['providers', '--json'], opts);
    const sim = (JSON.parse(status.stdout) as ProviderView[]).find((r) => r.name === 'sim');
    expect(sim?.budget).toMatch(/^budget reached: 500 of 100 tokens used tonight/);
    const text = await runCli(['providers'], opts);
    expect(text.stdout).toContain('budget reached');
    await sup.stop('test done');
  });
});
