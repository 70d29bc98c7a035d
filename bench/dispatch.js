// Dispatch benchmark (issue 3), on the compiled code in dist/ (`npm run build` first; `npm run bench` does).
// Time from "dispatch this task" — pushBase + createWorktree + launch on a prepared host — to the
// executor's first output line in the attempt log, for 50 tasks, on the local runner and over ssh to a
// real sshd on 127.0.0.1 with the ControlMaster warm. Also counts the round trips each dispatch costs.
// `export async function run()` returns rows {bench, metric, value, unit, goal} for bench/run.js;
// `node bench/dispatch.js` runs it alone and prints the rows.
//   BENCH_DISPATCH_TASKS=50   tasks per runner
//   BENCH_DISPATCH_SSH_RC=1   also measure ssh with the login shell reading the user's rc files
//   BENCH_DISPATCH_INBOX=10   specs dropped one at a time into a running daemon's inbox (0: skip)
// Issue 17's goals: a launch on a prepared worktree → first line ≤ 50 ms locally and ≤ 150 ms over ssh
// (at load 4), and the same for a spec dropped into the inbox of a running daemon → first line locally.
// Each figure is printed with the 1-minute load average beside it.
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { workspaceId } from '../dist/config/workspace-identity.js';
import { LocalRunner, SshRunner } from '../dist/hosts/runner.js';
import { WorkerHost } from '../dist/hosts/worker.js';
import {
  benchWorkspace,
  configText,
  git,
  loadavg,
  log,
  makeRepo,
  makeSupervisor,
  openWorkspace,
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
const INBOX_TASKS = Number(process.env['BENCH_DISPATCH_INBOX'] ?? 10);
const GOALS = { local: 250, ssh: 500, preparedLocal: 50, preparedSsh: 150, inbox: 50 };
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

/** Resolves when `file` exists (the runner writes runner.pid as it starts); polls every millisecond. */
async function exists(file, timeoutMs = 15_000) {
  const deadline = performance.now() + timeoutMs;
  while (!existsSync(file)) {
    if (performance.now() > deadline) throw new Error(`no ${file} after ${timeoutMs} ms`);
    await sleep(1);
  }
  return performance.now();
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
  // A workspace id of its own (8 hex digits): the host's directories and sessions are keyed by it.
  const host = new WorkerHost(label, remote.runner, path.join(tmp, 'work'), 'b0000001', socket, local.runner);
  await host.prepare();
  // The executors' tmux server listens on a socket under the host's workdir (prepare() names it).
  cleanups.push(() => new LocalRunner().run(['tmux', '-S', host.tmux.socket, 'kill-server']));
  await host.ensureMirror('app', 'main');
  const base = git(repo, 'rev-parse', 'HEAD');

  const load0 = loadavg();
  const latencies = [];
  const prepared = [];
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
    prepared.push(seen - created);
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
    preparedP50: percentile(prepared, 50),
    callP50: percentile(callMs, 50),
    steps: Object.entries(steps).map(([step, ms]) => `${step} ${round(percentile(ms, 50), 0)}`),
    load0,
    load1: loadavg(),
    remoteCalls: remoteCalls / TASKS,
    localCalls: localCalls / TASKS,
  };
}

function rowsFor(label, r, goal, preparedGoal) {
  const rows = [];
  const row = rowWriter(rows, 'dispatch', `${label}: `);
  row(`dispatch → first log line p50 (${TASKS} tasks)`, round(r.p50), 'ms', goal ? `<= ${goal}` : '');
  row('dispatch → first log line p95', round(r.p95), 'ms');
  row(
    'launch on a prepared worktree → first log line p50',
    round(r.preparedP50),
    'ms',
    preparedGoal ? `<= ${preparedGoal}` : '',
  );
  row('pushBase+createWorktree+launch calls p50', round(r.callP50), 'ms');
  row(`p50 by step: ${r.steps.join(', ')}`, '', 'ms');
  row(
    'round trips per dispatch (host commands + local git)',
    `${round(r.remoteCalls)} + ${round(r.localCalls)}`,
    'calls',
  );
  row('load average 1 min: start → end', `${round(r.load0, 2)} → ${round(r.load1, 2)}`, '');
  return rows;
}

/** The whole path a user sees: a spec renamed into a running daemon's inbox → the executor's first line. */
function inboxSpec(id) {
  return [
    '---',
    `id: ${id}`,
    `title: Dropped task ${id}`,
    'tests: [test_drop]',
    'stop: Stop when the script ends.',
    '---',
    `Task ${id}: follow the script below exactly; it is a simulated agent run for the dispatch benchmark.`,
    '',
    '```nightshift-script',
    `print "first line from ${id}"`,
    `write out/${id}.txt "${id}\\n"`,
    `commit "${id}"`,
    '```',
    '',
  ].join('\n');
}

/**
 * Drops specs one at a time into the inbox of an in-process daemon (local host, one scripted slot, gates
 * only), each written whole elsewhere and renamed in, and times the rename → the runner started in
 * its tmux session (run.sh writes runner.pid first: "executor launched"), → the task's pending → running
 * transition (the tick that decided it), and → the executor's first line (the scripted agent is a node
 * process: its own start-up is in this one). Each task is merged before the next is dropped, so nothing
 * else runs meanwhile.
 */
async function measureInbox(cleanups) {
  const { repo, root, socket } = benchWorkspace('dispatch-inbox', cleanups);
  const ws = openWorkspace(
    root,
    configText(
      repo,
      ['  solo: { kind: scripted, hosts: [local], concurrency: 1 }'],
      ['architect: { mode: gates }', 'gates:', "  tests: { enabled: true, command: ['true'] }"],
    ),
  );
  const sup = makeSupervisor(ws, socket);
  cleanups.push(() => sup.stop('bench done'));
  const decided = new Map();
  sup.events.subscribe((e) => {
    if (e.type === 'task.transition' && e.to === 'running' && e.task) decided.set(e.task, performance.now());
  });
  await sup.start();
  const tasks = path.join(root, 'hosts', 'local', 'ws', workspaceId(ws.paths), 'tasks');
  const toLine = [];
  const toRunner = [];
  const toDecided = [];
  const load0 = loadavg();
  for (let i = 0; i < WARMUP + INBOX_TASKS; i++) {
    const id = `drop-${String(i).padStart(3, '0')}`;
    const staged = path.join(ws.paths.tmp, `${id}.md`);
    writeFileSync(staged, inboxSpec(id));
    const start = performance.now();
    renameSync(staged, path.join(ws.paths.specs, `${id}.md`));
    const runner = await exists(path.join(tasks, id, 'runner.pid'));
    const seen = await firstLine(path.join(tasks, id, 'attempt-1.log'));
    const deadline = performance.now() + 60_000;
    while (sup.store.list().find((t) => t.id === id)?.state !== 'done') {
      if (performance.now() > deadline) throw new Error(`${id} not merged in 60 s`);
      await sleep(20);
    }
    if (i < WARMUP) continue;
    toLine.push(seen - start);
    toRunner.push(runner - start);
    toDecided.push(decided.get(id) - start);
  }
  return { toLine, toRunner, toDecided, load0, load1: loadavg() };
}

export async function run() {
  const rows = [];
  const cleanups = [];
  try {
    if (INBOX_TASKS > 0) {
      log(`dispatch: ${INBOX_TASKS} specs dropped into a running daemon's inbox, one at a time`);
      const r = await measureInbox(cleanups);
      const row = rowWriter(rows, 'dispatch', 'inbox: ');
      row(
        `spec renamed into the inbox → executor launched (runner started) p50 (${INBOX_TASKS} specs)`,
        round(percentile(r.toRunner, 50)),
        'ms',
        `<= ${GOALS.inbox}`,
      );
      row('spec renamed into the inbox → executor launched p95', round(percentile(r.toRunner, 95)), 'ms');
      row('spec renamed into the inbox → first log line p50', round(percentile(r.toLine, 50)), 'ms');
      row(
        'spec renamed → pending → running (dispatch decided) p50',
        round(percentile(r.toDecided, 50)),
        'ms',
      );
      row('load average 1 min: start → end', `${round(r.load0, 2)} → ${round(r.load1, 2)}`, '');
    }
    log(`dispatch: ${TASKS} tasks on the local runner`);
    rows.push(
      ...rowsFor(
        'local',
        await measure('local', () => new LocalRunner(), cleanups),
        GOALS.local,
        GOALS.preparedLocal,
      ),
    );
    if (!existsSync(SSHD)) {
      log(`dispatch: ${SSHD} not found, ssh rows skipped`);
      return rows;
    }
    const sshd = await startSshd({ loadShellRc: false });
    cleanups.push(() => sshd.stop());
    log(`dispatch: ${TASKS} tasks over ssh (ControlMaster warm)`);
    rows.push(
      ...rowsFor(
        'ssh',
        await measure('ssh', () => new SshRunner(sshd.target('bench')), cleanups),
        GOALS.ssh,
        GOALS.preparedSsh,
      ),
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
