/**
 * An ssh host whose workspace path has a space and a `%` in it, against a real sshd on 127.0.0.1: the
 * config names its ssh config file and key relative to the workspace, the ControlMaster socket lives
 * under that path (ssh takes `-S` whole and reads `%%` as `%`), git reaches the host through the same
 * options, and `nightshift doctor` passes.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { workspacePaths } from '../../src/config/paths.js';
import { buildHosts } from '../../src/hosts/registry.js';
import { LocalRunner } from '../../src/hosts/runner.js';
import type { WorkerHost } from '../../src/hosts/worker.js';
import { systemClock } from '../../src/lib/clock.js';
import { SSHD_MISSING, sshdAvailable, startSshd, type TestSshd } from '../../src/testing/sshd.js';
import { runCli } from '../../src/testing/workspace.js';

if (!sshdAvailable) console.warn(SSHD_MISSING);

const socket = `ns-sshpaths-${process.pid}`;
const local = new LocalRunner();
let sshd: TestSshd | null = null;
let root = '';
let host: WorkerHost | null = null;

beforeAll(async () => {
  if (!sshdAvailable) return;
  sshd = await startSshd();
  const parent = mkdtempSync(path.join(os.tmpdir(), 'ns-'));
  root = path.join(parent, 'my ws 100%C');
  mkdirSync(path.join(root, 'keys'), { recursive: true });
  copyFileSync(sshd.userKey, path.join(root, 'keys', 'user key'));
  writeFileSync(
    path.join(root, 'ssh.conf'),
    [
      'Host nstest',
      '  HostName 127.0.0.1',
      `  Port ${sshd.port}`,
      `  User ${sshd.user}`,
      `  UserKnownHostsFile ${sshd.knownHostsFile}`,
      '  StrictHostKeyChecking yes',
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(root, 'nightshift.config.yaml'),
    [
      'hosts:',
      '  far:',
      '    kind: ssh',
      '    ssh: nstest',
      '    sshConfig: ssh.conf',
      '    identityFile: keys/user key',
      `    workdir: ${JSON.stringify(path.join(root, 'remote'))}`,
      '    maxLoadPerCore: 1000',
      '    minFreeMemMB: 1',
      '    minFreeDiskMB: 1',
      '',
    ].join('\n'),
  );
}, 60_000);

afterAll(async () => {
  await host?.runner.close().catch(() => undefined);
  await local.run(['tmux', '-S', path.join(root, 'remote', 'tmux', socket), 'kill-server']);
  await sshd?.stop();
  if (root) rmSync(path.dirname(root), { recursive: true, force: true });
});

describe.skipIf(!sshdAvailable)('an ssh host under a workspace path with a space and a %', () => {
  it('connects through a ControlMaster whose socket is under that path, and git uses the same link', async () => {
    const paths = workspacePaths(root);
    const config = loadConfig(paths);
    expect(config.hosts['far']).toMatchObject({
      sshConfig: path.join(root, 'ssh.conf'),
      identityFile: path.join(root, 'keys', 'user key'),
    });
    host = buildHosts(config, paths, { tmuxSocket: socket }).get('far')!;
    await host.prepare();
    const r = await host.runner.run(['printf', '%s', 'a b%C']);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'a b%C' });

    // The master's socket, in the workspace's own 0700 directory (not a `%`-expanded elsewhere).
    const controlDir = path.join(paths.stateStore, 'ssh');
    expect(statSync(controlDir).mode & 0o777).toBe(0o700);
    const sockets = readdirSync(controlDir).filter((f) => statSync(path.join(controlDir, f)).isSocket());
    expect(sockets).toHaveLength(1);
    expect(sockets[0]).toMatch(/^cm-[0-9a-f]{40}$/);

    // git's ssh (GIT_SSH_COMMAND, run by a shell) gets the same options through the same socket.
    await host.ensureMirror('app', 'main');
    const transport = host.runner.gitTransport();
    const ls = await local.run(['git', 'ls-remote', transport.urlFor(host.mirror('app'))], {
      env: transport.env,
    });
    expect(ls.stderr).toBe('');
    expect(ls.exitCode).toBe(0);

    await host.runner.close();
    expect(readdirSync(controlDir)).toEqual([]);
  });

  it('nightshift doctor passes for it', async () => {
    const r = await runCli(['doctor', '--json', '--no-probe'], {
      cwd: root,
      clock: systemClock,
      env: { ...process.env, NIGHTSHIFT_TMUX_SOCKET: socket },
    });
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      checks: { check: string; ok: boolean; detail: string }[];
    };
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.map((c) => c.check)).toEqual(expect.arrayContaining(['reachable', 'tmux', 'git']));
    expect(r.code).toBe(0);
  });
});
