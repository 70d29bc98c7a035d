/**
 * Load sensing on a real local host: a sample reads real numbers, a read that fails is an error naming
 * the host (never a sample of zeros), and the fleet samples on demand whatever its schedule says.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { NightshiftEvent } from '../../src/core/events.js';
import { Fleet } from '../../src/daemon/fleet.js';
import { sampleLoad } from '../../src/hosts/load.js';
import { LocalRunner } from '../../src/hosts/runner.js';
import { WorkerHost } from '../../src/hosts/worker.js';
import { ManualClock } from '../../src/lib/clock.js';

const socket = `ns-load-${process.pid}`;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ns-load-'));
afterAll(async () => {
  for (const name of ['ok', 'gone', 'fleet'])
    await new LocalRunner().run(['tmux', '-S', path.join(tmp, name, 'tmux', socket), 'kill-server']);
  rmSync(tmp, { recursive: true, force: true });
});

const config = parseConfig(
  'hosts:\n  here: { kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }\n',
  'nightshift.config.yaml',
);
const cfg = config.hosts['here']!;

function host(name: string): WorkerHost {
  return new WorkerHost('here', new LocalRunner('here'), path.join(tmp, name), '0000beef', socket);
}

it('reads real numbers from the host', async () => {
  const worker = host('ok');
  await worker.prepare();
  const s = await sampleLoad(worker, cfg, 1);
  expect(s.host).toBe('here');
  expect(s.cores).toBe(os.cpus().length);
  expect(s.memAvailableMB).toBeGreaterThan(0);
  expect(s.diskFreeMB).toBeGreaterThan(0);
  expect(s.over).toEqual([]);
});

it('a read that fails is an error naming the host and the failure, not a sample of zeros', async () => {
  const worker = host('gone');
  await worker.prepare();
  rmSync(worker.info.workdir, { recursive: true, force: true });
  await expect(sampleLoad(worker, cfg, 1)).rejects.toThrow(/could not read the load: exit 1: df: .*gone/);
  await expect(
    sampleLoad(worker, cfg, 1).catch((e: { describe(): string }) => e.describe()),
  ).resolves.toMatch(/^host here: could not read the load/);
});

it('samples on demand even inside the 30 s schedule, and a failed sample keeps work off the host', async () => {
  const worker = host('fleet');
  const events: NightshiftEvent[] = [];
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 22));
  const fleet = new Fleet({
    config,
    clock,
    env: {},
    hosts: new Map([['here', worker]]),
    events: { emit: (e) => events.push(e) },
    random: () => 0.5,
    loadEveryMs: 30_000,
    wake: () => undefined,
  });
  await fleet.prepareAll();
  await fleet.sampleHosts(false, true);
  expect(fleet.over('here')).toEqual([]);

  rmSync(worker.info.workdir, { recursive: true, force: true });
  // On its schedule, a sample just taken is not taken again...
  await fleet.sampleHosts(false, true);
  expect(fleet.over('here')).toEqual([]);
  // ...but a forced one is, and its failure is the host's status.
  await fleet.sampleHosts(true, false);
  expect(fleet.isReady('here')).toBe(true);
  expect(fleet.over('here')).toEqual([
    expect.stringMatching(/^load unknown: host here: could not read the load/),
  ]);
  const last = events.at(-1);
  expect(last).toMatchObject({ type: 'host.status', host: 'here' });
  expect(last && 'reason' in last ? last.reason : '').toMatch(/^load unknown: host here/);
});
