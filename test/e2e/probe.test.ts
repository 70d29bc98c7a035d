/**
 * The production probe (runProbe) on a real local host with the scripted provider: the agent is
 * installed as an ES module file with no package.json near it and answers; a silent one, one that
 * exits non-zero and one that hangs each fail with the reason shown, the hang within its timeout
 * (enforced by timeout(1) on the host) and its seconds in the reason.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { LocalRunner } from '../../src/hosts/runner.js';
import { WorkerHost } from '../../src/hosts/worker.js';
import { runProbe, SCRIPTED_AGENT_FILE } from '../../src/providers/probe.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ns-probe-'));
const worker = new WorkerHost(
  'here',
  new LocalRunner('here'),
  path.join(tmp, 'host'),
  '0000beef',
  `ns-probe-${process.pid}`,
);
beforeAll(() => worker.prepare());
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const provider = (probe: 'ok' | 'silent' | 'fail' | 'hang', probeTimeout = '30s') =>
  configSchema.parse({ providers: { sim: { kind: 'scripted', scripted: { probe }, probeTimeout } } })
    .providers['sim']!;

it('passes: the agent is installed as .mjs, with no package.json to say it is a module', async () => {
  const outcome = await runProbe(worker, 'sim', provider('ok'), {});
  expect(outcome).toMatchObject({ ok: true, reason: 'answered', provider: 'sim', host: 'here' });
  expect(readdirSync(worker.dir('bin'))).toEqual([SCRIPTED_AGENT_FILE]);
  expect(SCRIPTED_AGENT_FILE).toMatch(/\.mjs$/);
  for (let dir = worker.dir('bin'); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    expect(existsSync(path.join(dir, 'package.json'))).toBe(false);
  }
  // The probe's task directory is gone.
  expect(readdirSync(worker.dir('tasks'))).toEqual([]);
});

it('fails on empty output', async () => {
  expect(await runProbe(worker, 'sim', provider('silent'), {})).toMatchObject({
    ok: false,
    reason: 'empty output',
  });
});

it('fails on a non-zero exit, with what the agent said', async () => {
  const outcome = await runProbe(worker, 'sim', provider('fail'), {});
  expect(outcome.ok).toBe(false);
  expect(outcome.reason).toMatch(/^exited 1: .*simulated probe failure/);
});

it('fails a hang at its timeout, naming the seconds', async () => {
  const outcome = await runProbe(worker, 'sim', provider('hang', '2s'), {});
  expect(outcome).toMatchObject({ ok: false, reason: 'no answer within 2s' });
  expect(outcome.durationMs).toBeGreaterThanOrEqual(2000);
  // timeout(1) sends TERM at 2 s (KILL 5 s later): the probe never waits for its local backstop, which
  // fires 15 s after the timeout (which of the two fired first, not a bound on how busy the machine is).
  expect(outcome.durationMs).toBeLessThan(2000 + 15_000);
});
