import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { describePlan, planReload, replaceConfig } from '../../src/config/reload.js';
import type { Config } from '../../src/config/schema.js';
import { DaemonControl, reconfiguredHealth } from '../../src/daemon/control.js';
import { initialHealth } from '../../src/daemon/health.js';

const BASE = [
  'repos:',
  '  app: { path: /tmp/app }',
  'hosts:',
  '  local: { kind: local }',
  'providers:',
  '  p: { kind: scripted, concurrency: 1 }',
];
const config = (...extra: string[]): Config =>
  parseConfig([...BASE, ...extra].join('\n'), 'nightshift.config.yaml');
const edit = (from: string, to: string, ...extra: string[]): Config =>
  parseConfig([...BASE, ...extra].join('\n').replace(from, to), 'nightshift.config.yaml');

describe('planReload', () => {
  it('applies limits, timeouts, gates and defaults live', () => {
    const next = edit(
      'concurrency: 1',
      'concurrency: 3',
      'defaults: { reviewRounds: 4, livenessEvery: 30s }',
      'gates: { diff: { enabled: true, maxLines: 10 } }',
    );
    const plan = planReload(config(), next);
    expect(plan.applied.map((c) => c.path)).toEqual([
      'defaults.livenessEvery',
      'defaults.reviewRounds',
      'gates.diff',
      'providers.p.concurrency',
    ]);
    expect(plan.needsRestart).toEqual([]);
    expect(plan.config.providers['p']?.concurrency).toBe(3);
    expect(plan.config.defaults.reviewRounds).toBe(4);
    expect(plan.config.gates.diff).toEqual({ enabled: true, maxLines: 10, maxFiles: 40 });
    expect(describePlan(plan)).toContain('providers.p.concurrency (1 → 3)');
  });

  it("applies a repo's setup hooks live (a reload is how a hook-failing repo starts again)", () => {
    const next = edit(
      '  app: { path: /tmp/app }',
      '  app: { path: /tmp/app, hooks: { beforeRun: { command: [npm, ci] } } }',
    );
    const plan = planReload(config(), next);
    expect(plan.applied.map((c) => c.path)).toEqual(['repos.app.hooks.beforeRun']);
    expect(plan.needsRestart).toEqual([]);
    expect(plan.config.repos['app']?.hooks.beforeRun).toEqual({ command: ['npm', 'ci'], timeout: '10m' });
  });

  it('keeps hosts, repos, the architect, the sandbox, new providers and secretEnv until a restart', () => {
    const next = edit(
      '  p: { kind: scripted, concurrency: 1 }',
      '  p: { kind: scripted, concurrency: 2, secretEnv: { KEY: MY_KEY } }\n  q: { kind: scripted }',
      'architect: { timeout: 6m }',
      'gates: { sandbox: none }',
    );
    next.hosts['w2'] = { kind: 'local', maxLoadPerCore: 1, minFreeMemMB: 1, minFreeDiskMB: 1 };
    next.repos['app']!.path = '/tmp/other';
    const before = config();
    const plan = planReload(before, next);
    expect(plan.applied.map((c) => c.path)).toEqual(['providers.p.concurrency']);
    expect(plan.needsRestart.map((c) => c.path)).toEqual([
      'architect.timeout',
      'gates.sandbox',
      'hosts.w2',
      'providers.p.secretEnv.KEY',
      'providers.q',
      'repos.app.path',
    ]);
    // The config to run with keeps every restart-only value as it was.
    expect(plan.config.hosts).toEqual(before.hosts);
    expect(plan.config.repos).toEqual(before.repos);
    expect(plan.config.architect).toEqual(before.architect);
    expect(plan.config.gates.sandbox).toBe(before.gates.sandbox);
    expect(Object.keys(plan.config.providers)).toEqual(['p']);
    expect(plan.config.providers['p']?.secretEnv).toEqual({});
    expect(describePlan(plan)).toMatch(
      /kept until a restart .*hosts\.w2: hosts are connected when the daemon starts/,
    );
  });

  it('finds nothing to apply in an unchanged config', () => {
    const plan = planReload(config(), config());
    expect(plan).toMatchObject({ applied: [], needsRestart: [] });
    expect(describePlan(plan)).toBe('nothing to apply');
  });

  it('replaceConfig puts the new values into the object every part holds', () => {
    const shared = config();
    const gates = shared.gates;
    replaceConfig(shared, edit('concurrency: 1', 'concurrency: 5', 'lint: { strict: true }'));
    expect(shared.providers['p']?.concurrency).toBe(5);
    expect(shared.lint.strict).toBe(true);
    expect(shared.gates).toEqual(gates);
  });
});

describe('reconfiguredHealth', () => {
  it('raises the live limit by the step the ceiling rose, and caps it when the ceiling falls', () => {
    const h = initialHealth('p', 1, 0);
    expect(h.limit).toBe(1);
    const up = reconfiguredHealth(h, 3, 10);
    expect(up).toMatchObject({ ceiling: 3, limit: 3 });
    expect(up.limitHistory.at(-1)).toMatchObject({ limit: 3, reason: 'reload: concurrency 1 → 3' });
    expect(reconfiguredHealth({ ...up, limit: 1 }, 4, 20).limit).toBe(2); // negative feedback kept
    expect(reconfiguredHealth(up, 2, 30)).toMatchObject({ ceiling: 2, limit: 2 });
    expect(reconfiguredHealth(up, 3, 40)).toBe(up);
  });
});

describe('DaemonControl', () => {
  const make = (load: () => Config) => {
    const shared = config();
    const lines: string[] = [];
    const reloaded: Config[] = [];
    const control = new DaemonControl({
      config: shared,
      load,
      configFile: '/ws/nightshift.config.yaml',
      pid: 4242,
      log: (l) => lines.push(l),
    });
    control.attach({
      reload: (next) => {
        reloaded.push(next);
        replaceConfig(shared, next);
      },
    });
    return { control, shared, lines, reloaded };
  };

  it('keeps the old config when the file is invalid, and names the field in the log and the outcome', () => {
    const { control, shared, lines, reloaded } = make(() =>
      parseConfig(
        [...BASE, ''].join('\n').replace('concurrency: 1', 'concurrency: two'),
        '/ws/nightshift.config.yaml',
      ),
    );
    const outcome = control.hooks().reload();
    expect(outcome).toMatchObject({ ok: false, exitCode: 2, code: 'invalid-config' });
    expect(outcome.message).toMatch(
      /config not reloaded, the daemon keeps the config it had: .*providers\.p\.concurrency/,
    );
    expect(lines).toEqual([`reload: ${outcome.message}`]);
    expect(reloaded).toEqual([]);
    expect(shared.providers['p']?.concurrency).toBe(1);
  });

  it('applies a valid file and says what changed', () => {
    const { control, shared, reloaded } = make(() => edit('concurrency: 1', 'concurrency: 2'));
    const outcome = control.hooks().reload();
    expect(outcome.ok).toBe(true);
    expect(outcome.message).toBe(
      'reloaded /ws/nightshift.config.yaml: applied providers.p.concurrency (1 → 2)',
    );
    expect(reloaded).toHaveLength(1);
    expect(shared.providers['p']?.concurrency).toBe(2);
  });

  it('stops only for its own pid', async () => {
    const { control } = make(() => config());
    expect(control.hooks().stop(1)).toMatchObject({ ok: false, exitCode: 1 });
    expect(control.hooks().stop(4242)).toMatchObject({ ok: true });
    await expect(control.stopped).resolves.toContain('stop requested');
  });
});
