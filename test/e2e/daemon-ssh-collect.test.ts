/**
 * A link that drops while an exited attempt is being collected, end to end.
 *
 * The one host is `kind: ssh`, reached through a loopback TCP proxy in front of a test sshd on 127.0.0.1
 * (the network boundary the test controls: cutting it closes every connection, the ControlMaster's
 * included, and refuses new ones until it is restored). A scripted executor commits and exits; the test
 * holds the supervisor's repo (withRepoLock) so the collection that follows waits at its fetch, cuts the
 * link, and lets it go on. git exits 128 when its ssh fails: the fetch (or whichever step of collection
 * the cut reached) must come out as a dropped link — the task stays running on its one attempt, not
 * failed as not-descendant — and once the link is back the task is collected and merged normally.
 * Skipped, saying so, when this machine has no sshd.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NightshiftEvent } from '../../src/core/events.js';
import { Supervisor } from '../../src/daemon/supervisor.js';
import { withRepoLock } from '../../src/git/repo.js';
import { buildHosts } from '../../src/hosts/registry.js';
import { systemClock } from '../../src/lib/clock.js';
import { git } from '../../src/testing/git.js';
import { scriptedSpec } from '../../src/testing/night.js';
import { SSHD_MISSING, sshdAvailable, startSshd, type TestSshd } from '../../src/testing/sshd.js';
import { tcpProxy, type Proxy } from '../../src/testing/tcp-proxy.js';
import { waitFor } from '../../src/testing/wait.js';
import { makeDaemonWorkspace, sshProcesses, type DaemonWorkspace } from './fixtures/daemon-workspace.js';
import { tid } from '../../src/testing/ids.js';

if (!sshdAvailable) console.warn(SSHD_MISSING);

let sshd: TestSshd | null = null;
let proxy: Proxy | null = null;
let ws: DaemonWorkspace | null = null;
let sup: Supervisor | null = null;
let controlDir = '';
let release = (): void => undefined;
afterAll(async () => {
  release();
  proxy?.restore();
  await sup?.stop('test cleanup').catch(() => undefined);
  if (controlDir) for (const p of sshProcesses(controlDir)) kill(p.pid);
  ws?.cleanup();
  await proxy?.close();
  await sshd?.stop();
});

function hasSession(socketPath: string, session: string): boolean {
  return (
    spawnSync('tmux', ['-S', socketPath, 'has-session', '-t', `=${session}`], { stdio: 'ignore' }).status ===
    0
  );
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

describe.skipIf(!sshdAvailable)('collecting over a link that drops', () => {
  it('defers collection while the link is down (no not-descendant, no retry), then collects normally', async () => {
    sshd = await startSshd();
    const s = sshd;
    proxy = await tcpProxy(s.port);
    const p = proxy;
    ws = makeDaemonWorkspace({
      prefix: 'ns-dcol',
      hostName: 'remote',
      host: (root) =>
        `{ kind: ssh, ssh: ${s.destination}, port: ${p.port}, identityFile: ${JSON.stringify(s.userKey)}, ` +
        `workdir: ${JSON.stringify(path.join(root, 'remote'))}, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }`,
    });
    const w = ws;
    // The server's host key, known under the proxy's port.
    const knownHosts = path.join(w.root, 'known_hosts');
    writeFileSync(knownHosts, readFileSync(s.knownHostsFile, 'utf8').replace(`]:${s.port} `, `]:${p.port} `));
    controlDir = path.join(w.paths.stateStore, 'ssh');
    const logLines: string[] = [];
    const events: NightshiftEvent[] = [];
    sup = new Supervisor({
      paths: w.paths,
      config: w.config,
      clock: systemClock,
      env: { ...process.env },
      hosts: buildHosts(w.config, w.paths, {
        tmuxSocket: w.socket,
        sshOptions: [`UserKnownHostsFile=${knownHosts}`, 'StrictHostKeyChecking=yes'],
      }),
      pollMs: 200,
      loadEveryMs: 1000,
      log: (line) => logLines.push(line),
    });
    const supervisor = sup;
    supervisor.events.subscribe((e) => events.push(e));
    await supervisor.start();

    // Hold the supervisor's repo: the collection that follows the exit waits at its fetch.
    const held = withRepoLock(w.repo, () => new Promise<void>((resolve) => (release = resolve)));
    w.dropSpec(
      'late',
      scriptedSpec('late', 'print "working"\nwrite late.txt "late\\n"\ncommit "add late"\nexit 0'),
    );
    // Collection has begun once the attempt has exited (exit.json on the host, the same machine), left the
    // live set and its session is gone (collection kills it); then the only ssh clients left are the
    // ControlMaster and the exit wait.
    const exitJson = path.join(w.workerDir, 'tasks', 'late', 'exit.json');
    await waitFor(
      'the exit of late being collected',
      () => {
        const task = supervisor.store.list().find((t) => t.id === 'late');
        if (
          task?.state !== 'running' ||
          task.attempts.length !== 1 ||
          supervisor.attempts.phase(tid('late')) === 'running'
        )
          return false;
        if (!existsSync(exitJson) || hasSession(w.executorSocket, 'ns-late')) return false;
        return sshProcesses(controlDir).every((x) => x.master || x.argv.includes('wait-for'));
      },
      30_000,
      10,
    );
    p.cut();
    release();
    await held;
    const deferred = await waitFor(
      'collection deferred for the dropped link',
      () => logLines.find((l) => /^collecting late on remote deferred at .* \(link down\)/.test(l)),
      30_000,
    ).catch((err: unknown) => {
      console.log(logLines.join('\n'), JSON.stringify(supervisor.store.get(tid('late')).attempts));
      throw err;
    });
    console.log(`link cut during collection: ${deferred}`);
    // Nothing was blamed or re-dispatched while the link was down.
    expect(supervisor.store.get(tid('late')).state).toBe('running');
    // The executor's exit is on record (its own end time); the branch waits on the host.
    expect(supervisor.store.get(tid('late')).attempts.map((a) => a.outcome)).toEqual(['collecting']);

    p.restore();
    await waitFor('late merged', () => supervisor.store.get(tid('late')).state === 'done', 60_000);
    const task = supervisor.store.get(tid('late'));
    expect(task.attempts.map((a) => `${a.n} ${a.outcome} ${a.exitCode}`)).toEqual(['1 exited 0']);
    expect(
      events.filter((e) => e.type === 'task.transition' && e.task === 'late' && e.to === 'failed'),
    ).toEqual([]);
    expect(git(w.repo, 'show', 'main:late.txt')).toBe('late');
    expect(logLines.filter((l) => /^tick failed/.test(l))).toEqual([]);
  });
});
