/**
 * Attacks from issue 12, each as a scripted executor (its `sh "<cmd>"` step) on real tmux, git and, where
 * it matters, the loopback sshd. Every block asserts what must hold after the attack.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { workspacePaths } from '../../src/config/paths.js';
import type { TaskRecord } from '../../src/core/task.js';
import { Supervisor } from '../../src/daemon/supervisor.js';
import { executorSocketPath } from '../../src/hosts/layout.js';
import { buildHosts } from '../../src/hosts/registry.js';
import { LocalRunner } from '../../src/hosts/runner.js';
import { REAP_SH } from '../../src/hosts/scripts.js';
import { foreignServerVariables } from '../../src/hosts/tmux.js';
import { WorkerHost } from '../../src/hosts/worker.js';
import { systemClock } from '../../src/lib/clock.js';
import { killTmuxServers } from '../../src/testing/executor-tmux.js';
import { git, makeRepo } from '../../src/testing/git.js';
import { scriptedSpec } from '../../src/testing/night.js';
import { SSHD_MISSING, sshdAvailable, startSshd, type TestSshd } from '../../src/testing/sshd.js';
import { waitFor } from '../../src/testing/wait.js';

describe('executors hold only their own secrets and leave no survivors', () => {
  const RUN = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  /** Secrets of the supervisor's environment, as a person's shell would export them. */
  const SECRETS = {
    NS_ISO_GOOD: `sk-good-${RUN}-0123456789`,
    NS_ISO_OTHER: `sk-other-${RUN}-abcdefghij`,
    ANTHROPIC_API_KEY: `sk-ant-architect-${RUN}-klmnopqrst`,
  };
  /** What no executor of provider `good` may ever see. */
  const FORBIDDEN = [SECRETS.NS_ISO_OTHER, SECRETS.ANTHROPIC_API_KEY];
  const saved: Record<string, string | undefined> = {};
  let sshd: TestSshd | null = null;
  const cleanups: (() => unknown)[] = [];

  beforeAll(() => {
    // The daemon's own process environment: the tmux server used to inherit exactly this.
    for (const [k, v] of Object.entries(SECRETS)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await sshd?.stop();
  });

  interface IsoNight {
    root: string;
    repo: string;
    workdir: string;
    /** The executors' socket path on the host. */
    socket: string;
    sup: Supervisor;
    scratch: string;
  }

  /** A workspace with providers `good` and `other` (each with its own secret) on one host, local or ssh. */
  async function night(kind: 'local' | 'ssh'): Promise<IsoNight> {
    const root = mkdtempSync(path.join(os.tmpdir(), 'ns-iso-'));
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'ns-iso-pids-'));
    const repo = makeRepo({ 'README.md': '# app\n' });
    const name = `ns-iso-${kind}-${RUN}`;
    let hostYaml = '{ kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }';
    let workdir = path.join(root, 'hosts', 'w');
    if (kind === 'ssh') {
      sshd ??= await startSshd();
      workdir = path.join(root, 'remote');
      hostYaml =
        `{ kind: ssh, ssh: ${sshd.destination}, port: ${sshd.port}, identityFile: ${JSON.stringify(sshd.userKey)}, ` +
        `workdir: ${JSON.stringify(workdir)}, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }`;
    }
    const text = [
      'repos:',
      `  app: { path: ${JSON.stringify(repo)}, main: main }`,
      'hosts:',
      `  w: ${hostYaml}`,
      'providers:',
      '  good: { kind: scripted, hosts: [w], concurrency: 4, secretEnv: { GOOD_TOKEN: NS_ISO_GOOD } }',
      '  other: { kind: scripted, hosts: [w], secretEnv: { OTHER_TOKEN: NS_ISO_OTHER } }',
      'architect: { mode: gates }',
      'defaults: { retryInitial: 1s, retryMax: 2s, livenessEvery: 1s, monitorEvery: 1h }',
      '',
    ].join('\n');
    writeFileSync(path.join(root, 'nightshift.config.yaml'), text, { mode: 0o600 });
    const paths = workspacePaths(root);
    mkdirSync(paths.specs, { recursive: true });
    const config = parseConfig(text, 'nightshift.config.yaml');
    const socket = executorSocketPath(workdir, name);
    const sup = new Supervisor({
      paths,
      config,
      clock: systemClock,
      env: { ...process.env },
      hosts: buildHosts(config, paths, {
        tmuxSocket: name,
        ...(sshd
          ? { sshOptions: [`UserKnownHostsFile=${sshd.knownHostsFile}`, 'StrictHostKeyChecking=yes'] }
          : {}),
      }),
      pollMs: 200,
      loadEveryMs: 1000,
    });
    cleanups.push(() => {
      rmSync(root, { recursive: true, force: true });
      rmSync(scratch, { recursive: true, force: true });
      rmSync(repo, { recursive: true, force: true });
    });
    cleanups.push(() => killTmuxServers(null, [socket]));
    cleanups.push(() => sup.stop('test cleanup').catch(() => undefined));
    await sup.start();
    return { root, repo, workdir, socket, sup, scratch };
  }

  function settled(n: IsoNight, id: string): Promise<TaskRecord> {
    return waitFor(
      `${id} to end`,
      () => {
        const t = n.sup.store.list().find((x) => x.id === id);
        return t && t.state !== 'pending' && t.state !== 'running' ? t : null;
      },
      90_000,
    );
  }

  function drop(n: IsoNight, id: string, text: string): void {
    writeFileSync(path.join(n.root, 'specs', `${id}.md`), text);
  }

  /** Whether `pid` is a live process (a zombie is dead: it only waits for its parent to read its status). */
  function alive(pid: number): boolean {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  }

  /** Live processes whose environment holds NIGHTSHIFT_ATTEMPT=<id>.<attempt>.… */
  function marked(id: string, attempt: number): number[] {
    const found: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const env = readFileSync(`/proc/${entry}/environ`, 'latin1');
        if (env.includes(`NIGHTSHIFT_ATTEMPT=${id}.${attempt}.`) && alive(Number(entry)))
          found.push(Number(entry));
      } catch {
        // gone, or not ours
      }
    }
    return found;
  }

  it('refuses to launch on a tmux server at its socket that someone else started with secrets', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'ns-iso-foreign-'));
    const repo = makeRepo({ 'README.md': '# app\n' });
    const host = new WorkerHost('local', new LocalRunner(), path.join(tmp, 'work'), `ns-iso-f-${RUN}`);
    await host.prepare();
    cleanups.push(() => {
      killTmuxServers(null, [host.tmux.socket]);
      rmSync(tmp, { recursive: true, force: true });
      rmSync(repo, { recursive: true, force: true });
    });
    // A person's `tmux -S` from a shell holding the keys, at nightshift's socket.
    const squatter = spawnSync(
      'tmux',
      ['-S', host.tmux.socket, 'new-session', '-d', '-s', 'mine', 'sleep 600'],
      {
        env: { ...process.env },
      },
    );
    expect(squatter.status).toBe(0);
    await host.ensureMirror('app', 'main');
    await host.pushBase(repo, 'app', 'squat', git(repo, 'rev-parse', 'HEAD'));
    await host.createWorktree('app', 'squat');
    const launch = host.launch({
      taskId: 'squat',
      attempt: 1,
      repo: 'app',
      argv: ['sh', '-c', 'tmux show-environment -g > seen.txt'],
      env: {},
      stdin: 'null',
      prompt: 'p',
    });
    await expect(launch).rejects.toThrow(/holds variables nightshift did not give it \(.*NS_ISO_OTHER.*\)/);
    await expect(launch).rejects.not.toThrow(new RegExp(SECRETS.NS_ISO_OTHER));
    expect(await host.tmux.has('ns-squat')).toBe(false);
    expect(existsSync(path.join(tmp, 'work', 'tasks', 'squat', 'env'))).toBe(false);
    // Once that server is gone, the next launch starts a clean one.
    killTmuxServers(null, [host.tmux.socket]);
    await host.launch({
      taskId: 'squat',
      attempt: 2,
      repo: 'app',
      argv: ['sh', '-c', 'tmux -S "$1" show-environment -g > ../../seen.txt', 'sh', host.tmux.socket],
      env: {},
      stdin: 'null',
      prompt: 'p',
    });
    const seen = await waitFor('the second attempt to end', async () => {
      const st = await host.status('app', 'squat', 2);
      return st.exit ? readFileSync(path.join(tmp, 'work', 'seen.txt'), 'utf8') : null;
    });
    expect(foreignServerVariables(seen)).toEqual([]);
  });

  it("reaps a dead runner's session by its record, and spares one whose id now leads another process", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-iso-reap-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // A session of its own (detached: setsid), its leader and a member that leaves its marker behind.
    const pids = path.join(dir, 'pids');
    const leader = spawn('sh', ['-c', `env -i sh -c 'echo $$ > ${pids}; exec sleep 600' & exec sleep 600`], {
      detached: true,
      stdio: 'ignore',
    });
    const member = Number(
      await waitFor(
        'the member to start',
        () => (existsSync(pids) ? readFileSync(pids, 'utf8').trim() : '') || null,
      ),
    );
    cleanups.push(() => {
      for (const pid of [leader.pid ?? 0, member]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    });
    writeFileSync(path.join(dir, 'reap-1'), `t.1.nosuchmarker ${leader.pid}\n`);
    const reap = () => spawnSync('sh', ['-c', REAP_SH, 'sh', dir, '1'], { encoding: 'utf8' });
    // The leader is alive and is no runner of this attempt: its session is someone else's.
    expect(reap().status).toBe(0);
    expect([alive(leader.pid ?? 0), alive(member)]).toEqual([true, true]);
    // The leader (the runner) is gone: what is left in its session is the attempt's.
    process.kill(leader.pid ?? 0, 'SIGKILL');
    await waitFor('the leader to die', () => !alive(leader.pid ?? 0));
    expect(reap().status).toBe(0);
    expect(alive(member)).toBe(false);
  });

  for (const kind of ['local', 'ssh'] as const) {
    describe.skipIf(kind === 'ssh' && !sshdAvailable)(`on a ${kind} host`, () => {
      if (kind === 'ssh' && !sshdAvailable) console.warn(SSHD_MISSING);

      it('shows an executor nothing of the daemon: not the tmux server, not the pane, not another socket', async () => {
        const n = await night(kind);
        // A server of the user's (the TUI's `nightshift` session, started from a shell holding every key)
        // on the default socket directory, under a name an executor could guess.
        const decoy = `ns-iso-decoy-${RUN}`;
        cleanups.push(() => killTmuxServers(decoy));
        const started = spawnSync(
          'tmux',
          ['-L', decoy, 'new-session', '-d', '-s', 'nightshift', 'sleep 600'],
          {
            env: { ...process.env },
          },
        );
        expect(started.status).toBe(0);
        const flag = path.join(n.scratch, 'go');
        const spy = [
          'echo "## show-environment -g"; tmux show-environment -g',
          `echo "## decoy"; tmux -L ${decoy} ls; tmux -L ${decoy} show-environment -g`,
          `echo "## server"; tmux -S ${n.socket} show-environment -g`,
          `echo "## session"; tmux -S ${n.socket} show-environment -t =ns-leak`,
          `echo "## server process"; tr '\\000' '\\n' < /proc/$(tmux -S ${n.socket} display-message -p '#{pid}')/environ; echo`,
          `echo "## runner"; tr '\\000' '\\n' < /proc/$(cat ../../tasks/leak/runner.pid)/environ; echo`,
          `echo "## parent"; tr '\\000' '\\n' < /proc/$PPID/environ; echo`,
          'echo "## env"; env',
        ].join('; ');
        drop(
          n,
          'leak',
          scriptedSpec(
            'leak',
            [
              `sh ${JSON.stringify(`{ ${spy}; } > seen.txt 2>&1; cat seen.txt; echo "## seen"`)}`,
              'commit "what the executor saw"',
              `sh ${JSON.stringify(`while [ ! -f ${flag} ]; do sleep 0.1; done`)}`,
              'exit 0',
            ].join('\n'),
            ['provider: good', 'idle: 10m'],
          ),
        );
        const pane = await waitFor(
          'the spy to print what it saw',
          () => {
            const r = spawnSync(
              'tmux',
              ['-S', n.socket, 'capture-pane', '-p', '-J', '-t', '=ns-leak:', '-S', '-5000'],
              {
                encoding: 'utf8',
              },
            );
            return r.stdout.includes('## seen') ? r.stdout : null;
          },
          60_000,
        );
        writeFileSync(flag, '');
        const task = await settled(n, 'leak');
        expect(task.attempts).toHaveLength(1);
        const seen = git(n.repo, 'show', 'ns/leak:seen.txt');
        const rawLog = readFileSync(path.join(n.workdir, 'tasks', 'leak', 'attempt-1.log'), 'utf8');
        const log = readFileSync(path.join(n.root, 'logs', 'leak', 'attempt-1.log'), 'utf8');
        for (const [where, text] of Object.entries({ branch: seen, rawLog, log, pane })) {
          for (const secret of FORBIDDEN)
            expect({ where, leaked: text.includes(secret) }).toEqual({ where, leaked: false });
        }
        // The spy worked: it reached the executors' server by its path and read its own environment.
        const section = (title: string) => seen.split(`## ${title}\n`)[1]?.split('\n## ')[0] ?? '';
        expect(section('server')).toMatch(/^PATH=/m);
        expect(section('server process')).toMatch(/^HOME=/m);
        expect(section('env')).toMatch(/^NIGHTSHIFT_ATTEMPT=leak\.1\./m);
        expect(section('env')).toContain(`GOOD_TOKEN=${SECRETS.NS_ISO_GOOD}`);
        // The server holds only what tmux needs, the session nothing, the executor no TMUX.
        const names = (text: string) =>
          text
            .split('\n')
            .filter((l) => /^-?[A-Za-z_][A-Za-z0-9_]*(=|$)/.test(l))
            .map((l) => l.replace(/^-/, '').split('=')[0]);
        expect(names(section('server')).sort()).toEqual(['HOME', 'LANG', 'PATH', 'PWD']);
        // new-session gives a session PATH, HOME and LANG of the (clean) client: nothing else.
        expect(names(section('session')).filter((x) => !['HOME', 'LANG', 'PATH'].includes(x ?? ''))).toEqual(
          [],
        );
        expect(section('env')).not.toMatch(/^TMUX(_PANE)?=/m);
        // `tmux -L <name>` finds none of the user's servers.
        expect(section('decoy')).not.toContain('nightshift:');
      });

      it('leaves nothing alive that the executor started: setsid, nohup, a double fork; on exit, kill and timeout', async () => {
        const n = await night(kind);
        const spawners = (pids: string) =>
          [
            `: > ${pids}`,
            `setsid sh -c 'echo $$ >> ${pids}; exec sleep 1000' &`,
            `nohup sh -c 'echo $$ >> ${pids}; exec sleep 1000' &`,
            `( sh -c 'echo $$ >> ${pids}; exec sleep 1000' & )`,
            // Scrubs its environment (no marker) but stays in the runner's session.
            `env -i sh -c 'echo $$ >> ${pids}; exec sleep 1000' &`,
            `while [ "$(wc -l < ${pids})" -lt 4 ]; do sleep 0.05; done`,
          ].join('\n');
        const modes = {
          'ends-exit': { last: 'exit 0', front: ['idle: 10m'] },
          'ends-idle': { last: 'hang', front: ['idle: 3s', 'attempts: 1'] },
          'ends-timeout': { last: 'hang', front: ['timeout: 4s', 'idle: 10m', 'attempts: 1'] },
        };
        for (const [id, m] of Object.entries(modes)) {
          const pids = path.join(n.scratch, `${id}.pids`);
          drop(
            n,
            id,
            scriptedSpec(id, [`sh ${JSON.stringify(spawners(pids))}`, 'print "spawned"', m.last].join('\n'), [
              'provider: good',
              ...m.front,
            ]),
          );
        }
        for (const id of Object.keys(modes)) {
          const task = await settled(n, id);
          const pids = readFileSync(path.join(n.scratch, `${id}.pids`), 'utf8')
            .split('\n')
            .filter(Boolean)
            .map(Number);
          expect(pids).toHaveLength(4);
          expect({ id, alive: pids.filter(alive) }).toEqual({ id, alive: [] });
          expect({ id, marked: marked(id, 1) }).toEqual({ id, marked: [] });
          const attempt = task.attempts[0];
          if (id === 'ends-exit') expect(attempt?.exitCode).toBe(0);
          else expect(attempt?.outcome).not.toBe('exited');
        }
        expect(existsSync(n.socket)).toBe(true);
      });
    });
  }
});
