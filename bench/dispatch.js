// Dispatch benchmark (issue 3), on the compiled code in dist/ (`npm run build` first; `npm run bench` does).
// Time from "dispatch this task" — pushBase + createWorktree + launch on a prepared host — to the
// executor's first output line in the attempt log, for 50 tasks, on the local runner and over ssh to a
// real sshd on 127.0.0.1 with the ControlMaster warm. Also counts the round trips each dispatch costs.
// `export async function run()` returns rows {bench, metric, value, unit, goal} for bench/run.js;
// `node bench/dispatch.js` runs it alone and prints the rows.
//   BENCH_DISPATCH_TASKS=50   tasks per runner
//   BENCH_DISPATCH_SSH_RC=1   also measure ssh with the login shell reading the user's rc files
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalRunner, SshRunner } from '../dist/hosts/runner.js';
import { WorkerHost } from '../dist/hosts/worker.js';

const TASKS = Number(process.env['BENCH_DISPATCH_TASKS'] ?? 50);
const WARMUP = 3;
const GOALS = { local: 250, ssh: 500 };
const SSHD = '/usr/sbin/sshd';
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
};

const log = (line) => console.error(line);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function git(cwd, ...args) {
  return execFileSync('git', ['-C', cwd, ...args], { env: GIT_ENV, encoding: 'utf8' }).trim();
}

/** A small repo: a README and a few source files, like a real one's top level. */
function makeRepo() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-bench-repo-'));
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(dir, 'README.md'), '# app\n');
  mkdirSync(path.join(dir, 'src'));
  for (let i = 0; i < 20; i++)
    writeFileSync(path.join(dir, 'src', `m${i}.js`), `export const m${i} = ${i};\n`);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function banner(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('data', (chunk) => done(chunk.toString('latin1').startsWith('SSH-')));
    socket.on('error', () => done(false));
  });
}

/**
 * A throwaway sshd on 127.0.0.1, as src/testing/sshd.ts starts it for the e2e suite (src/testing is not
 * compiled into dist/). `loadShellRc` false sets SHLVL=1 so bash skips ~/.bashrc, as the tests do.
 */
async function startSshd({ loadShellRc }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-bench-sshd-'));
  try {
    mkdirSync('/run/sshd', { recursive: true });
  } catch {
    // not root
  }
  for (const name of ['host', 'user']) {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, name)], {
      stdio: 'ignore',
    });
  }
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(path.join(dir, 'user.pub')), { mode: 0o600 });
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${path.join(dir, 'host')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'UsePAM no',
      'StrictModes no',
      'PasswordAuthentication no',
      'PermitRootLogin yes',
      'MaxSessions 100',
      ...(loadShellRc ? [] : ['SetEnv SHLVL=1']),
      '',
    ].join('\n'),
  );
  const [type, key] = readFileSync(path.join(dir, 'host.pub'), 'utf8').trim().split(/\s+/);
  const knownHosts = path.join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${type} ${key}\n`);
  const child = spawn(SSHD, ['-D', '-f', config, '-E', path.join(dir, 'sshd.log')], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!(await banner(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sshd did not start: ${readFileSync(path.join(dir, 'sshd.log'), 'utf8')}`);
    }
    await sleep(25);
  }
  const user = os.userInfo().username;
  return {
    target: (name) => ({
      name,
      destination: `${user}@127.0.0.1`,
      port,
      identityFile: path.join(dir, 'user'),
      controlDir: path.join(dir, `cm-${name}`),
      extraOptions: [`UserKnownHostsFile=${knownHosts}`, 'StrictHostKeyChecking=yes'],
    }),
    stop: async () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Wraps a runner to count the commands that go through it. */
function counting(runner) {
  const counter = { calls: 0 };
  const wrapped = Object.create(runner);
  wrapped.run = (argv, opts) => {
    counter.calls += 1;
    return runner.run(argv, opts);
  };
  return { runner: wrapped, counter };
}

/** Resolves when `file` holds a complete first line; polls the local file every millisecond. */
async function firstLine(file, timeoutMs = 15_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if (statSync(file).size > 0 && readFileSync(file, 'utf8').includes('\n')) return performance.now();
    } catch {
      // not created yet
    }
    if (performance.now() > deadline) throw new Error(`no output in ${file} after ${timeoutMs} ms`);
    await sleep(1);
  }
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (n, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Dispatches WARMUP + TASKS tasks on `runner` and measures the last TASKS. */
async function measure(label, makeRunner, cleanups) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), `ns-bench-dispatch-${label}-`));
  cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
  const repo = makeRepo();
  cleanups.push(() => rmSync(repo, { recursive: true, force: true }));
  const socket = `ns-bench-${label}-${process.pid}`;
  cleanups.push(async () => {
    await new LocalRunner().run(['tmux', '-L', socket, 'kill-server']);
    // tmux 3.3 leaves the socket file behind.
    const dir = path.join(process.env['TMUX_TMPDIR'] || '/tmp', `tmux-${process.getuid?.() ?? 0}`);
    rmSync(path.join(dir, socket), { force: true });
  });
  const remote = counting(makeRunner());
  cleanups.push(() => remote.runner.close());
  const local = counting(new LocalRunner());
  const host = new WorkerHost(label, remote.runner, path.join(tmp, 'work'), socket, local.runner);
  await host.prepare();
  await host.ensureMirror('app', 'main');
  const base = git(repo, 'rev-parse', 'HEAD');

  const latencies = [];
  const callMs = [];
  const steps = { pushBase: [], createWorktree: [], launch: [], 'launch → first line': [] };
  let remoteCalls = 0;
  let localCalls = 0;
  for (let i = 0; i < WARMUP + TASKS; i++) {
    const id = `bench-${i}`;
    const before = { remote: remote.counter.calls, local: local.counter.calls };
    const start = performance.now();
    await host.pushBase(repo, 'app', id, base);
    const pushed = performance.now();
    await host.createWorktree('app', id);
    const created = performance.now();
    await host.launch({
      taskId: id,
      attempt: 1,
      repo: 'app',
      argv: ['sh', '-c', 'echo "first line from $1"', 'sh', id],
      env: { BENCH: '1' },
      stdin: 'null',
      prompt: `Task ${i}: do the thing.\n`,
    });
    const returned = performance.now();
    const seen = await firstLine(host.logPath(id, 1));
    if (i < WARMUP) continue;
    latencies.push(seen - start);
    callMs.push(returned - start);
    steps.pushBase.push(pushed - start);
    steps.createWorktree.push(created - pushed);
    steps.launch.push(returned - created);
    steps['launch → first line'].push(seen - returned);
    remoteCalls += remote.counter.calls - before.remote;
    localCalls += local.counter.calls - before.local;
  }
  return {
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    callP50: percentile(callMs, 50),
    steps: Object.entries(steps).map(([step, ms]) => `${step} ${round(percentile(ms, 50), 0)}`),
    remoteCalls: remoteCalls / TASKS,
    localCalls: localCalls / TASKS,
  };
}

function rowsFor(label, r, goal) {
  const bench = 'dispatch';
  return [
    {
      bench,
      metric: `${label}: dispatch → first log line p50 (${TASKS} tasks)`,
      value: round(r.p50),
      unit: 'ms',
      goal: goal ? `<= ${goal}` : '',
    },
    { bench, metric: `${label}: dispatch → first log line p95`, value: round(r.p95), unit: 'ms', goal: '' },
    {
      bench,
      metric: `${label}: pushBase+createWorktree+launch calls p50`,
      value: round(r.callP50),
      unit: 'ms',
      goal: '',
    },
    { bench, metric: `${label}: p50 by step: ${r.steps.join(', ')}`, value: '', unit: 'ms', goal: '' },
    {
      bench,
      metric: `${label}: round trips per dispatch (host commands + local git)`,
      value: `${round(r.remoteCalls)} + ${round(r.localCalls)}`,
      unit: 'calls',
      goal: '',
    },
  ];
}

export async function run() {
  const rows = [];
  const cleanups = [];
  try {
    log(`dispatch: ${TASKS} tasks on the local runner`);
    rows.push(...rowsFor('local', await measure('local', () => new LocalRunner(), cleanups), GOALS.local));
    if (!existsSync(SSHD)) {
      log(`dispatch: ${SSHD} not found, ssh rows skipped`);
      return rows;
    }
    const sshd = await startSshd({ loadShellRc: false });
    cleanups.push(() => sshd.stop());
    log(`dispatch: ${TASKS} tasks over ssh (ControlMaster warm)`);
    rows.push(
      ...rowsFor('ssh', await measure('ssh', () => new SshRunner(sshd.target('bench')), cleanups), GOALS.ssh),
    );
    if (process.env['BENCH_DISPATCH_SSH_RC'] === '1') {
      const rc = await startSshd({ loadShellRc: true });
      cleanups.push(() => rc.stop());
      log(`dispatch: ${TASKS} tasks over ssh, login shell reading ~/.bashrc`);
      rows.push(
        ...rowsFor('ssh+rc', await measure('sshrc', () => new SshRunner(rc.target('bench-rc')), cleanups)),
      );
    }
    return rows;
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        log(`dispatch: cleanup failed: ${err}`);
      }
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) console.log(JSON.stringify(r));
}
