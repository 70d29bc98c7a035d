/**
 * A worker lost mid-night (issue 13, behaviour 11), end to end: two hosts, `a-remote` (ssh, through a
 * loopback TCP proxy in front of a test sshd: the network boundary the test cuts) and `b-local`. A spec
 * allowed one attempt starts on a-remote (the least busy host, by name); the test cuts the link while it
 * runs. Past `defaults.hostLostGrace` the attempt is given up — the worker's failure, no attempt used —
 * and the task runs again on b-local and merges once. When the link comes back, the old session is ended
 * and its result discarded. Skipped, saying so, when this machine has no sshd.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { workspacePaths } from '../../src/config/paths.js';
import type { NightshiftEvent } from '../../src/core/events.js';
import { chargedAttempts } from '../../src/core/failures.js';
import { Supervisor } from '../../src/daemon/supervisor.js';
import { buildHosts } from '../../src/hosts/registry.js';
import { defaultWorkdir, executorSocketPath } from '../../src/hosts/layout.js';
import { systemClock } from '../../src/lib/clock.js';
import { git, makeRepo } from '../../src/testing/git.js';
import { scriptedSpec } from '../../src/testing/night.js';
import { SSHD_MISSING, sshdAvailable, startSshd, type TestSshd } from '../../src/testing/sshd.js';
import { tcpProxy, type Proxy } from '../../src/testing/tcp-proxy.js';
import { tid } from '../../src/testing/ids.js';
import { waitFor } from '../../src/testing/wait.js';
import { sshProcesses } from './fixtures/daemon-workspace.js';

if (!sshdAvailable) console.warn(SSHD_MISSING);

let sshd: TestSshd | null = null;
let proxy: Proxy | null = null;
let sup: Supervisor | null = null;
const cleanups: (() => void)[] = [];
afterAll(async () => {
  proxy?.restore();
  await sup?.stop('test cleanup').catch(() => undefined);
  for (const c of cleanups) c();
  await proxy?.close();
  await sshd?.stop();
});

function hasSession(socketPath: string, session: string): boolean {
  return (
    spawnSync('tmux', ['-S', socketPath, 'has-session', '-t', `=${session}`], { stdio: 'ignore' }).status ===
    0
  );
}

describe.skipIf(!sshdAvailable)('a worker lost mid-night', () => {
  it('gives the attempt up after the grace, runs it on the other host at no cost, and ends the old session', async () => {
    sshd = await startSshd();
    const s = sshd;
    proxy = await tcpProxy(s.port);
    const p = proxy;
    const root = mkdtempSync(path.join(os.tmpdir(), 'ns-lost-'));
    const repo = makeRepo({ 'README.md': '# app\n' });
    const text = [
      'repos:',
      `  app: { path: ${JSON.stringify(repo)}, main: main }`,
      'hosts:',
      `  a-remote: { kind: ssh, ssh: ${s.destination}, port: ${p.port}, identityFile: ${JSON.stringify(s.userKey)}, workdir: ${JSON.stringify(path.join(root, 'remote'))}, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }`,
      '  b-local: { kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }',
      'providers:',
      '  scripted: { kind: scripted, hosts: [a-remote, b-local], concurrency: 2 }',
      'architect: { mode: gates }',
      'defaults: { retryInitial: 1s, retryMax: 2s, livenessEvery: 1s, monitorEvery: 1h, hostLostGrace: 3s }',
      '',
    ].join('\n');
    writeFileSync(path.join(root, 'nightshift.config.yaml'), text, { mode: 0o600 });
    const paths = workspacePaths(root);
    const config = parseConfig(text, 'nightshift.config.yaml');
    const socket = `ns-lost-${process.pid}`;
    const sockets = ['a-remote', 'b-local'].map((h) =>
      executorSocketPath(defaultWorkdir(h, config.hosts[h]!, paths), socket),
    );
    const controlDir = path.join(paths.stateStore, 'ssh');
    cleanups.push(() => {
      for (const sock of sockets) spawnSync('tmux', ['-S', sock, 'kill-server'], { stdio: 'ignore' });
      for (const pr of sshProcesses(controlDir)) spawnSync('kill', ['-9', String(pr.pid)]);
      rmSync(root, { recursive: true, force: true });
      rmSync(repo, { recursive: true, force: true });
    });
    const knownHosts = path.join(root, 'known_hosts');
    writeFileSync(knownHosts, readFileSync(s.knownHostsFile, 'utf8').replace(`]:${s.port} `, `]:${p.port} `));
    const events: NightshiftEvent[] = [];
    sup = new Supervisor({
      paths,
      config,
      clock: systemClock,
      env: { ...process.env },
      hosts: buildHosts(config, paths, {
        tmuxSocket: socket,
        sshOptions: [`UserKnownHostsFile=${knownHosts}`, 'StrictHostKeyChecking=yes', 'ConnectTimeout=2'],
      }),
      pollMs: 200,
      loadEveryMs: 1000,
    });
    const supervisor = sup;
    supervisor.events.subscribe((e) => events.push(e));
    await supervisor.start();

    // One attempt allowed: a second one runs only if the first cost the spec nothing.
    writeFileSync(
      path.join(paths.specs, 'lost.md'),
      scriptedSpec('lost', 'print "working"\nwrite lost.txt "lost\\n"\ncommit "add lost"\nsleep 4\nexit 0', [
        'attempts: 1',
      ]),
    );
    await waitFor(
      'lost running on a-remote',
      () => {
        const e = supervisor.attempts.get(tid('lost'));
        return e?.phase === 'running' && e.host === 'a-remote';
      },
      60_000,
    );
    p.cut();
    await waitFor('lost merged', () => supervisor.store.get(tid('lost')).state === 'done', 120_000).catch(
      (err: unknown) => {
        console.log(events.map((e) => JSON.stringify(e)).join('\n'));
        throw err;
      },
    );
    const task = supervisor.store.get(tid('lost'));
    expect(task.attempts.map((a) => `${a.n} ${a.host} ${a.outcome} ${a.code ?? ''}`)).toEqual([
      '1 a-remote lost link-down',
      '2 b-local exited ',
    ]);
    expect(task.attempts[0]?.attribution).toBe('worker');
    expect(task.attempts[0]?.reason).toMatch(/given up: its host has been unreachable .*hostLostGrace/);
    expect(chargedAttempts(task.attempts.slice(0, 1))).toBe(0);
    // Merged once: one commit of the executor's on main.
    expect(
      git(repo, 'log', '--format=%s', 'main')
        .split('\n')
        .filter((l) => l === 'add lost'),
    ).toHaveLength(1);

    // The link comes back: the old session is ended and its result discarded, never collected.
    p.restore();
    await waitFor(
      'the old session ended',
      () =>
        events.find(
          (e) =>
            e.type === 'session.stray' && e.host === 'a-remote' && /given up while a-remote/.test(e.reason),
        ),
      60_000,
    );
    expect(hasSession(sockets[0]!, 'ns-lost')).toBe(false);
    expect(supervisor.store.get(tid('lost')).state).toBe('done');
  });
});
