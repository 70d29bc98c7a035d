// Dispatch benchmark (issue 3), on the compiled code in dist/ (`npm run build` first; `npm run bench` does).
// Time from "dispatch this task" — pushBase + createWorktree + launch on a prepared host — to the
// executor's first output line in the attempt log, for 50 tasks, on the local runner and over ssh to a
// real sshd on 127.0.0.1 with the ControlMaster warm. Also counts the round trips each dispatch costs.
// `export async function run()` returns rows {bench, metric, value, unit, goal} for bench/run.js;
// `node bench/dispatch.js` runs it alone and prints the rows.
//   BENCH_DISPATCH_TASKS=50   tasks per runner
//   BENCH_DISPATCH_SSH_RC=1   also measure ssh with the login shell reading the user's rc files
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LocalRunner, SshRunner } from '../dist/hosts/runner.js';
import { WorkerHost } from '../dist/hosts/worker.js';
import {
  git,
  log,
  makeRepo,
  percentile,
  round,
  rowWriter,
  runCleanups,
  runIfMain,
  sleep,
  SSHD,
  startSshd,
  tempDir,
  tmuxSocket,
} from './lib.js';

const TASKS = Number(process.env['BENCH_DISPATCH_TASKS'] ?? 50);
const WARMUP = 3;
const GOALS = { local: 250, ssh: 500 };
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

/** Dispatches WARMUP + TASKS tasks on `runner` and measures the last TASKS. */
async function measure(label, makeRunner, cleanups) {
  const tmp = tempDir(`ns-bench-dispatch-${label}-`, cleanups);
  // A small repo: a README and a few source files, like a real one's top level.
  const repo = makeRepo('ns-bench-repo-', cleanups, { srcFiles: 20 });
  const socket = tmuxSocket(label, cleanups);
  const remote = counting(makeRunner());
  cleanups.push(() => remote.runner.close());
  const local = counting(new LocalRunner());
  // A workspace id of its own (8 hex digits), as a workspace draws one.
  const workspace = randomBytes(4).toString('hex');
  const host = new WorkerHost(label, remote.runner, path.join(tmp, 'work'), workspace, socket, local.runner);
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
  const rows = [];
  const row = rowWriter(rows, 'dispatch', `${label}: `);
  row(`dispatch → first log line p50 (${TASKS} tasks)`, round(r.p50), 'ms', goal ? `<= ${goal}` : '');
  row('dispatch → first log line p95', round(r.p95), 'ms');
  row('pushBase+createWorktree+launch calls p50', round(r.callP50), 'ms');
  row(`p50 by step: ${r.steps.join(', ')}`, '', 'ms');
  row(
    'round trips per dispatch (host commands + local git)',
    `${round(r.remoteCalls)} + ${round(r.localCalls)}`,
    'calls',
  );
  return rows;
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
    await runCleanups(cleanups, 'dispatch');
  }
}

await runIfMain(import.meta.url, run);
