/**
 * The daemon over a real ssh link that drops mid-run, end to end.
 *
 * A workspace whose one host is `kind: ssh`, pointing at a test sshd on 127.0.0.1 (its known_hosts passed
 * through buildHosts' sshOptions; the ControlPath lives under the workspace), runs six scripted specs of
 * ~4 s each that print as they go, under the in-process Supervisor. Twice while executors run — each time
 * with the provider at its live limit and every executor far from its end, so no launch or collection is
 * in flight — the test drops the link: it SIGKILLs the ControlMaster and every ssh client on that
 * ControlPath (git's included), and each new one, until a poll of every running executor has failed.
 * Executors run in tmux on the host, so they must carry on; the supervisor's next commands open a new
 * ControlMaster.
 *
 * Asserted: every task merged, each on exactly one attempt (0 re-dispatches, nothing killed, adopted or
 * lost), each executor still running once on the host after a drop, and the polls recovered: each one
 * that failed during a drop was followed by polls that saw the executor's exit.
 * Skipped, saying so, when this machine has no sshd.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NightshiftEvent } from '../../src/core/events.js';
import { Supervisor } from '../../src/daemon/supervisor.js';
import { buildHosts } from '../../src/hosts/registry.js';
import { systemClock } from '../../src/lib/clock.js';
import { git } from '../../src/testing/git.js';
import { scriptedSpec } from '../../src/testing/night.js';
import { SSHD_MISSING, sshdAvailable, startSshd, type TestSshd } from '../../src/testing/sshd.js';
import { waitFor } from '../../src/testing/wait.js';
import {
  agentProcesses,
  attemptProblems,
  listPanes,
  makeDaemonWorkspace,
  sshProcesses,
  type DaemonWorkspace,
} from './fixtures/daemon-workspace.js';

if (!sshdAvailable) console.warn(SSHD_MISSING);

const SPECS = 6;
const TICKS = 8;
const DROPS = 2;
/** The event of a poll that failed on the link (it keeps the attempts and polls again): once per drop. */
const linkDown = (e: NightshiftEvent) =>
  e.type === 'host.status' && e.host === 'remote' && /^unreachable/.test(e.reason);

let sshd: TestSshd | null = null;
let ws: DaemonWorkspace | null = null;
let sup: Supervisor | null = null;
let controlDir = '';
afterAll(async () => {
  await sup?.stop('test cleanup').catch(() => undefined);
  // A ControlMaster the supervisor did not close (ControlPersist would keep it for 10 minutes).
  if (controlDir) for (const p of sshProcesses(controlDir)) kill(p.pid);
  ws?.cleanup();
  await sshd?.stop();
});

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Lines `tick <n>` the attempt has printed so far, from its log as mirrored into the workspace. */
function ticks(w: DaemonWorkspace, id: string): number {
  try {
    return readFileSync(w.paths.attemptLog(id, 1), 'utf8')
      .split('\n')
      .filter((l) => /^tick \d+$/.test(l)).length;
  } catch {
    return 0;
  }
}

describe.skipIf(!sshdAvailable)('the daemon over ssh', () => {
  it('keeps every executor through a dropped ControlMaster: no re-dispatch, every poll recovers', async () => {
    const t0 = Date.now();
    sshd = await startSshd();
    const s = sshd;
    ws = makeDaemonWorkspace({
      prefix: 'ns-dssh',
      hostName: 'remote',
      host: (root) =>
        `{ kind: ssh, ssh: ${s.destination}, port: ${s.port}, identityFile: ${JSON.stringify(s.userKey)}, ` +
        `workdir: ${JSON.stringify(path.join(root, 'remote'))}, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }`,
    });
    const w = ws;
    controlDir = path.join(w.paths.stateStore, 'ssh'); // where registry.ts puts the ControlPath
    const logLines: string[] = [];
    const events: NightshiftEvent[] = [];
    sup = new Supervisor({
      paths: w.paths,
      config: w.config,
      clock: systemClock,
      env: { ...process.env },
      hosts: buildHosts(w.config, w.paths, {
        tmuxSocket: w.socket,
        sshOptions: [`UserKnownHostsFile=${s.knownHostsFile}`, 'StrictHostKeyChecking=yes'],
      }),
      pollMs: 200,
      loadEveryMs: 1000,
      log: (line) => logLines.push(line),
    });
    const supervisor = sup;
    supervisor.events.subscribe((e) => events.push(e));
    await supervisor.start();

    const ids = Array.from({ length: SPECS }, (_, i) => `ssh-${i}`);
    for (const id of ids) {
      const steps = Array.from({ length: TICKS }, (_, i) => `print "tick ${i}"\nsleep 0.5`);
      w.dropSpec(
        id,
        scriptedSpec(id, [...steps, `write ${id}.txt "${id}\\n"`, `commit "add ${id}"`, 'exit 0'].join('\n')),
      );
    }

    const drops: { at: number; until: number; live: string[]; killed: number; masters: number }[] = [];
    for (let d = 1; d <= DROPS; d++) {
      const before = new Set(drops.flatMap((x) => x.live));
      // At its live limit the provider gets no new launch; every live executor has printed and is far
      // from its end, so none exits (and frees a slot) while the link is down.
      const live = await waitFor(
        `drop ${d}: executors mid-run with the provider at its live limit`,
        () => {
          const limit = supervisor.fleet.health.get('scripted')?.limit ?? Infinity;
          const running = supervisor.attempts.running().map((l) => l.taskId);
          if (running.length < 2 || running.length < limit || running.some((id) => before.has(id)))
            return false;
          return running.every((id) => ticks(w, id) >= 2 && ticks(w, id) <= TICKS - 3) ? running : false;
        },
        // Generous: on a loaded machine the moment when every live executor is mid-run may take a while.
        90_000,
        20,
      ).catch((err: unknown) => {
        console.log(events.map((e) => JSON.stringify(e)).join('\n'));
        throw err;
      });
      // Drop the link and keep it down — SIGKILL the ControlMaster and every ssh client on its
      // ControlPath, and each one that starts after them — until a poll of every live executor has failed.
      const at = Date.now();
      const seen = events.length;
      const victims = new Map<number, boolean>();
      await waitFor(
        `drop ${d}: a failed poll of ${live.join(', ')} (one batch for the host)`,
        () => {
          for (const p of sshProcesses(controlDir)) {
            victims.set(p.pid, p.master);
            kill(p.pid);
          }
          return events.slice(seen).some(linkDown);
        },
        10_000,
        2,
      );
      drops.push({
        at,
        until: Date.now(),
        live,
        killed: victims.size,
        masters: [...victims.values()].filter(Boolean).length,
      });
      await waitFor(`drop ${d}: the killed ssh processes to end`, () =>
        sshProcesses(controlDir).every((p) => !victims.has(p.pid)),
      );
      // On the host (the same machine), through no link at all: every executor carries on, once each.
      const agents = agentProcesses(w.workerDir);
      for (const id of live) expect(agents.get(id), `${id}'s executor after drop ${d}`).toHaveLength(1);
      expect(drops.at(-1)!.masters, `drop ${d} killed the ControlMaster`).toBeGreaterThan(0);
    }

    await waitFor(
      `all ${SPECS} tasks merged`,
      () => supervisor.store.list().filter((t) => t.state === 'done').length === SPECS,
      90_000,
    );
    const tasks = supervisor.store.list();
    const pollFailures = events.filter(linkDown).map((e) => (e.type === 'host.status' ? e.reason : ''));
    console.log(
      `ssh drop: ${drops.map((x, i) => `drop ${i + 1} killed ${x.killed} ssh processes (${x.masters} ControlMaster) under ${x.live.join(', ')}`).join('; ')}; ` +
        `the link was reported down ${pollFailures.length} times and came back; ` +
        `${Math.round((Date.now() - t0) / 1000)} s`,
    );
    console.log(`  ${[...new Set(pollFailures)].join('\n  ')}`);

    // All merged, each on its one attempt: nothing was re-dispatched, killed or lost.
    expect(tasks.map((t) => `${t.id} ${t.state}`).sort()).toEqual(ids.map((id) => `${id} done`));
    for (const t of tasks) {
      expect(attemptProblems(t)).toEqual([]);
      expect(
        t.attempts.map((a) => `${a.n} ${a.outcome} ${a.exitCode}`),
        t.id,
      ).toEqual(['1 exited 0']);
    }
    expect(events.filter((e) => e.type === 'task.killing' || e.type === 'task.adopted')).toEqual([]);
    expect(
      events.filter((e) => e.type === 'task.transition' && (e.to === 'pending' || e.to === 'failed')),
    ).toEqual([]);
    // The polls recovered: each executor whose polls failed in a drop was seen to exit by a later poll.
    for (const [i, drop] of drops.entries()) {
      for (const id of drop.live) {
        const exited = events.find(
          (e) => e.type === 'task.transition' && e.task === id && e.from === 'running' && e.to === 'review',
        );
        expect(exited, `${id} (running at drop ${i + 1}) reached review`).toBeDefined();
        expect(Date.parse(exited!.time), `${id}'s exit was seen after drop ${i + 1}`).toBeGreaterThan(
          drop.until,
        );
      }
    }
    expect(logLines.filter((l) => /^tick failed/.test(l))).toEqual([]);
    // Each drop is one change of the link's state each way, not a line per poll.
    expect(pollFailures).toHaveLength(DROPS);
    expect(events.filter((e) => e.type === 'host.status' && /^reachable again/.test(e.reason))).toHaveLength(
      DROPS,
    );
    // And each merged what its executor wrote, over the link that came back.
    expect(git(w.repo, 'ls-tree', '--name-only', 'main').split('\n').sort()).toEqual(
      ['README.md', ...ids.map((id) => `${id}.txt`)].sort(),
    );
    expect(listPanes(w.executorSocket)).toEqual([]); // every session was collected
  });
});
