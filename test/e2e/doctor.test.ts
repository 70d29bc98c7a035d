import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { systemClock } from '../../src/lib/clock.js';
import { runCli } from '../../src/testing/workspace.js';

const socket = `ns-doctor-${process.pid}`;
const roots: string[] = [];
afterAll(() => {
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
  } catch {
    /* none */
  }
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function workspace(
  providers: string,
  hosts = '  local: { kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }',
) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-doctor-'));
  roots.push(root);
  writeFileSync(
    path.join(root, 'nightshift.config.yaml'),
    `repos:\n  app: { path: /tmp/x }\nhosts:\n${hosts}\nproviders:\n${providers}\n`,
  );
  return root;
}

const env = { ...process.env, NIGHTSHIFT_TMUX_SOCKET: socket };

it('passes a healthy local host and provider, with versions and a live probe', async () => {
  const root = workspace('  good: { kind: scripted, hosts: [local] }');
  const r = await runCli(['doctor', '--json'], { cwd: root, clock: systemClock, env });
  const report = JSON.parse(r.stdout) as {
    ok: boolean;
    checks: { name: string; check: string; ok: boolean; detail: string }[];
  };
  expect(r.code).toBe(0);
  expect(report.ok).toBe(true);
  const by = (name: string, check: string) => report.checks.find((c) => c.name === name && c.check === check);
  expect(by('local', 'tmux')?.detail).toMatch(/^tmux \d/);
  expect(by('local', 'git')?.detail).toMatch(/^git version/);
  expect(by('good', 'probe')).toMatchObject({ ok: true });
});

it('fails on a silent provider, a missing binary and an unreachable host, saying how to fix each', async () => {
  const root = workspace(
    [
      '  mute: { kind: scripted, hosts: [local], scripted: { probe: silent } }',
      '  ghost: { kind: command, hosts: [local], command: [no-such-agent-binary, "{{nightshift:prompt-file}}"] }',
      '  far: { kind: scripted, hosts: [away] }',
    ].join('\n'),
    '  local: { kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }\n  away: { kind: ssh, ssh: nobody@127.0.0.1, port: 1, workdir: /tmp/ns-away }',
  );
  const r = await runCli(['doctor'], { cwd: root, clock: systemClock, env });
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/FAIL provider mute@local: probe: .*empty/);
  expect(r.stdout).toMatch(
    /FAIL provider ghost@local: binary: no-such-agent-binary not found[\s\S]*fix: install no-such-agent-binary/,
  );
  expect(r.stdout).toMatch(/FAIL host away: reachable: [\s\S]*fix: check that `ssh away` works/);
  expect(r.stdout).toMatch(/FAIL provider far@away: host: host away is not usable/);
  expect(r.stdout).toMatch(/check\(s\) failed/);
});
