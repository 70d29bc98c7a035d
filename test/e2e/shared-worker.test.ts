/**
 * Two workspaces sharing one worker (issue 16.7), end to end: each has a task with the same id, `same`,
 * both on a host whose workdir and tmux socket they share, once on the local host and once on an ssh host
 * (a test sshd on 127.0.0.1). The two executors meet: each marks that it started and waits (bounded) for
 * the other's mark, so they run at the same time. Asserted: both tasks merged on their one attempt, each
 * workspace's main holding its own executor's file and not the other's, and both executors ran at once.
 * The ssh case is skipped, saying so, when this machine has no sshd.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NightshiftEvent } from '../../src/core/events.js';
import type { TaskId } from '../../src/core/ids.js';
import { Supervisor } from '../../src/daemon/supervisor.js';
import { buildHosts } from '../../src/hosts/registry.js';
import { systemClock } from '../../src/lib/clock.js';
import { git } from '../../src/testing/git.js';
import { scriptedSpec } from '../../src/testing/night.js';
import { SSHD_MISSING, sshdAvailable, startSshd, type TestSshd } from '../../src/testing/sshd.js';
import { waitFor } from '../../src/testing/wait.js';
import {
  attemptProblems,
  killTmuxServer,
  listPanes,
  makeDaemonWorkspace,
  type DaemonWorkspace,
} from './fixtures/daemon-workspace.js';
import { executorSocketPath } from '../../src/hosts/layout.js';
import { existsSync } from 'node:fs';

if (!sshdAvailable) console.warn(SSHD_MISSING);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The spec of workspace `me`: mark that it started, wait (up to 60 s) for `other`'s mark, commit its file. */
function meetingSpec(me: string, other: string, meet: string): string {
  const wait = `touch ${meet}/${me}; i=0; while [ ! -e ${meet}/${other} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; [ -e ${meet}/${other} ] && echo met ${other}`;
  return scriptedSpec(
    'same',
    [`sh ${JSON.stringify(wait)}`, `write ${me}.txt "from ${me}\\n"`, `commit "${me}'s work"`, 'exit 0'].join(
      '\n',
    ),
  );
}

async function twoWorkspacesOneWorker(
  hostYaml: (workdir: string) => string,
  sshOptions: string[] = [],
): Promise<void> {
  const shared = mkdtempSync(path.join(os.tmpdir(), 'ns-shw-work-'));
  const meet = mkdtempSync(path.join(os.tmpdir(), 'ns-shw-meet-'));
  const socket = `ns-shw-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  cleanups.push(() => {
    killTmuxServer(socket, executorSocketPath(shared, socket));
    rmSync(shared, { recursive: true, force: true });
    rmSync(meet, { recursive: true, force: true });
  });
  const names = ['a', 'b'] as const;
  const spaces: DaemonWorkspace[] = [];
  const sups: Supervisor[] = [];
  const events: NightshiftEvent[][] = [];
  for (const me of names) {
    const w = makeDaemonWorkspace({ prefix: `ns-shw-${me}`, hostName: 'worker', host: hostYaml(shared) });
    cleanups.push(() => w.cleanup());
    const sup = new Supervisor({
      paths: w.paths,
      config: w.config,
      clock: systemClock,
      env: { ...process.env },
      hosts: buildHosts(w.config, w.paths, { tmuxSocket: socket, sshOptions }),
      pollMs: 200,
      loadEveryMs: 1000,
      log: () => undefined,
    });
    cleanups.push(() => sup.stop('test cleanup').catch(() => undefined));
    const seen: NightshiftEvent[] = [];
    sup.events.subscribe((e) => seen.push(e));
    spaces.push(w);
    sups.push(sup);
    events.push(seen);
  }
  for (const [i, w] of spaces.entries()) w.dropSpec('same', meetingSpec(names[i]!, names[1 - i]!, meet));
  await Promise.all(sups.map((s) => s.start()));

  const finished = () =>
    sups.every((s) => {
      const t = s.store.list().find((x) => x.id === 'same');
      return t !== undefined && (t.state === 'done' || t.state === 'failed');
    });
  await waitFor('both workspaces to finish task "same"', finished, 120_000).catch((err: unknown) => {
    for (const [i, e] of events.entries())
      console.log(`workspace ${names[i]}:\n${e.map((x) => JSON.stringify(x)).join('\n')}`);
    throw err;
  });

  for (const [i, sup] of sups.entries()) {
    const me = names[i]!;
    const task = sup.store.get('same' as TaskId);
    expect(
      task.attempts.map((a) => `${a.n} ${a.outcome} ${a.exitCode}`),
      `workspace ${me}'s attempts (${task.attempts.map((a) => a.reason ?? '').join('; ')})`,
    ).toEqual(['1 exited 0']);
    expect(task.state, `workspace ${me}`).toBe('done');
    expect(attemptProblems(task)).toEqual([]);
    // Its own work merged, and only its own.
    expect(git(spaces[i]!.repo, 'ls-tree', '--name-only', 'main').split('\n').sort()).toEqual(
      ['README.md', `${me}.txt`].sort(),
    );
    expect(git(spaces[i]!.repo, 'show', `main:${me}.txt`)).toBe(`from ${me}`);
  }
  // They ran at once: each saw the other's mark.
  for (const me of names) expect(existsSync(path.join(meet, me)), `${me} started`).toBe(true);
  // Every session of both was collected.
  expect(listPanes(executorSocketPath(shared, socket)).filter((p) => !p.dead)).toEqual([]);
}

describe('workspaces sharing a worker', () => {
  it('runs the same task id from two workspaces at once on one local host, each merging its own work', async () => {
    await twoWorkspacesOneWorker(
      (workdir) =>
        `{ kind: local, workdir: ${JSON.stringify(workdir)}, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }`,
    );
  }, 180_000);

  it.skipIf(!sshdAvailable)(
    'runs the same task id from two workspaces at once on one ssh host, each merging its own work',
    async () => {
      const sshd: TestSshd = await startSshd();
      cleanups.push(() => sshd.stop());
      await twoWorkspacesOneWorker(
        (workdir) =>
          `{ kind: ssh, ssh: ${sshd.destination}, port: ${sshd.port}, identityFile: ${JSON.stringify(sshd.userKey)}, ` +
          `workdir: ${JSON.stringify(workdir)}, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }`,
        [`UserKnownHostsFile=${sshd.knownHostsFile}`, 'StrictHostKeyChecking=yes'],
      );
    },
    180_000,
  );
});
