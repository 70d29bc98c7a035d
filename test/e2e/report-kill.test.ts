/**
 * The morning report counts each kill once: a real night in which a person kills one running task
 * (the daemon logs `task.killing`, and the task fails with its attempt `killed`). The report opens with
 * that task and the command that retries it, and the command works as the report writes it.
 */
import { afterEach, expect, it } from 'vitest';
import type { ReportData } from '../../src/client/report/index.js';
import { systemClock } from '../../src/lib/clock.js';
import { readOutcome, writeRequest } from '../../src/queue/requests.js';
import { makeNight, scriptedSpec, type Night } from '../../src/testing/night.js';
import { waitFor } from '../../src/testing/wait.js';
import { runCli } from '../../src/testing/workspace.js';
import { tid } from '../../src/testing/ids.js';

let night: Night | null = null;
afterEach(async () => {
  await night?.cleanup();
  night = null;
});

it('counts one kill of a running task once in the morning report, and opens with how to retry it', async () => {
  night = makeNight({
    providers: '  good: { kind: scripted, hosts: [local], concurrency: 2 }',
    extra: 'defaults: { retryInitial: 1s, retryMax: 2s, livenessEvery: 1s, monitorEvery: 1h }',
  });
  const sup = night.supervisor();
  await sup.start();
  night.dropSpec('hang.md', scriptedSpec('hang', 'print "working on it"\nhang'));
  await waitFor(
    'the task running',
    () =>
      sup.store
        .list()
        .find((t) => t.id === 'hang')
        ?.attempts.at(-1)?.outcome === 'running',
    60_000,
  );
  const paths = night.paths;
  const name = writeRequest(paths, { kind: 'kill', task: tid('hang') }, systemClock);
  const outcome = await waitFor('the kill applied', () => readOutcome(paths, name)?.outcome, 30_000);
  expect(outcome.ok, outcome.message).toBe(true);
  expect(sup.store.get(tid('hang'))).toMatchObject({ state: 'failed', failure: { code: 'killed' } });
  await sup.stop('test done');

  const report = await runCli(['report', '--format', 'json'], { cwd: night.root, clock: systemClock });
  expect(report.code, report.stderr).toBe(0);
  const data = JSON.parse(report.stdout) as ReportData;
  expect(data.totals.killed).toBe(1);
  expect(data.timeline.filter((e) => e.kind === 'killed').map((e) => e.task)).toEqual(['hang']);
  // The kill is not also counted as a failure of another kind.
  expect(data.timeline.filter((e) => e.task === 'hang').map((e) => e.kind)).toEqual(['killed']);

  // The report opens with the killed task and the command that acts on it; that command works as written.
  expect(data.attention.map((a) => [a.id, a.failureCode, a.needsPerson])).toEqual([['hang', 'killed', true]]);
  const [retry] = data.attention[0]?.actions ?? [];
  expect(retry).toEqual({ action: 'retry', command: 'nightshift retry hang', key: 'r' });
  expect(data.window.activeFrom).not.toBeNull();
  const md = await runCli(['report'], { cwd: night.root, clock: systemClock });
  expect(md.stdout.indexOf('## Needs you')).toBeGreaterThan(0);
  expect(md.stdout.indexOf('## Needs you')).toBeLessThan(md.stdout.indexOf('## Tasks'));
  expect(md.stdout).toContain('`nightshift retry hang`');
  const [program, ...args] = (retry?.command ?? '').split(' ');
  expect(program).toBe('nightshift');
  const retried = await runCli(args, { cwd: night.root, clock: systemClock });
  expect(retried.code, retried.stderr).toBe(0);
  expect(sup.store.get(tid('hang')).state).toBe('pending');
});
