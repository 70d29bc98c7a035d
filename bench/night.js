// Night benchmark (issue 4), on the compiled code in dist/ (`npm run build` first; `npm run bench` does).
// A whole night in miniature: 200 scripted specs through the in-process Supervisor on the local host,
// 3 scripted providers × concurrency 2, one of them dead from the start (its probe answers nothing), the
// architect in `gates` mode with only git gates (no command gates), a 1 s → 2 s retry backoff.
//
// Durations: executor work is `sleep d`, d = clamp(exp(N(ln 2.2, 0.5)), 1, 6) s (a lognormal with median
// 2.2 s), drawn from a seeded PRNG (mulberry32, seed 4). 20 of the 200 specs (10 %, chosen by the same
// PRNG) sleep d, print ~3 KB and `exit 1` on every attempt (3 attempts, then failed; with no output they
// would read as crashes on start, the provider's failures); the others sleep d, write one file and commit
// it. BENCH_NIGHT_SCALE multiplies every d (default 1).
//
// Reports makespan / ideal makespan, slot time spent on the dead provider, lost tasks, the daemon's peak
// RSS and its CPU. See docs/benchmarks.md ("Night (issue 4)") for the exact definitions.
// `export async function run()` returns rows {bench, metric, value, unit, goal} for bench/run.js;
// `node bench/night.js` runs it alone and prints the rows.
//   BENCH_NIGHT_SPECS=200      number of specs
//   BENCH_NIGHT_SCALE=1        duration multiplier
//   BENCH_NIGHT_POLL_MS=       Supervisor pollMs (default: the daemon's own default, 1000)
//   BENCH_NIGHT_EVENTS=        a file to copy the night's event log to (the workspace is removed)
import { copyFileSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { workspacePaths } from '../dist/config/paths.js';
import { workspaceId } from '../dist/config/workspace-identity.js';
import { prng } from '../dist/lib/prng.js';
import {
  benchWorkspace,
  configText,
  loadavg,
  log,
  makeSupervisor,
  openWorkspace,
  percentile,
  round,
  rowWriter,
  runCleanups,
  runIfMain,
  untilIdle,
} from './lib.js';

const SPECS = Number(process.env['BENCH_NIGHT_SPECS'] ?? 200);
const SCALE = Number(process.env['BENCH_NIGHT_SCALE'] ?? 1);
const POLL_MS = process.env['BENCH_NIGHT_POLL_MS'] ? Number(process.env['BENCH_NIGHT_POLL_MS']) : undefined;
const SEED = 4;
const FAIL_SHARE = 0.1;
const HEALTHY_SLOTS = 4;
// replayRatio and exitToMergedMs are issue 17's: makespan within 2 % of the replay ideal, and an exit
// merged within 300 ms plus the tests gate's own time.
const GOALS = { ratio: 1.05, replayRatio: 1.02, deadSeconds: 90, exitToMergedMs: 300 };
const TIMEOUT_MS = 20 * 60_000;
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

/** The night's specs: id, duration (s) and whether every attempt fails. */
export function drawNight(count = SPECS, scale = SCALE) {
  const random = prng(SEED);
  const normal = () => {
    const u = 1 - random();
    const v = random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const specs = Array.from({ length: count }, (_, i) => {
    const d = Math.min(6, Math.max(1, Math.exp(Math.log(2.2) + 0.5 * normal())));
    return { id: `night-${String(i).padStart(3, '0')}`, seconds: round(d * scale, 2), fails: false };
  });
  // Exactly 10 % fail: a seeded shuffle picks which.
  const order = specs.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (const i of order.slice(0, Math.round(count * FAIL_SHARE))) specs[i].fails = true;
  return specs;
}

function specText(s) {
  const script = s.fails
    ? [
        `print "working on ${s.id}"`,
        `sleep ${s.seconds}`,
        // A failing agent run talks before it gives up: ~3 KB, past the crash-on-start limit (2 KB), so
        // it reads as the spec's own failure (exit-nonzero: an attempt used, a backoff), as intended.
        `sh "yes 'the change does not pass its own checks yet' | head -n 70"`,
        'exit 1',
      ]
    : [
        `print "working on ${s.id}"`,
        `sleep ${s.seconds}`,
        `write out/${s.id}.txt "${s.id}\\n"`,
        `commit "${s.id}: add out/${s.id}.txt"`,
      ];
  return [
    '---',
    `title: Night task ${s.id}`,
    `id: ${s.id}`,
    'tests: [test_night]',
    'stop: Stop when the script ends.',
    '---',
    `Task ${s.id}: follow the script below exactly; it is a simulated agent run for the night benchmark.`,
    '',
    '```nightshift-script',
    ...script,
    '```',
    '',
  ].join('\n');
}

/** CPU seconds of this process's reaped children (git, sh, tmux clients): cutime + cstime. */
function childCpuSeconds() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); cutime and cstime are fields 16 and 17.
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return NaN;
  }
}

/** Executor time of one attempt, from the host's attempt log: tee creates it, the executor writes last. */
function attemptWindow(root, id, n) {
  try {
    const st = statSync(
      path.join(
        root,
        'hosts',
        'local',
        'ws',
        workspaceId(workspacePaths(root)),
        'tasks',
        id,
        `attempt-${n}.log`,
      ),
    );
    return { start: st.birthtimeMs, end: st.mtimeMs };
  } catch {
    return null;
  }
}

/**
 * The replay ideal: the makespan of this very night under a supervisor that costs nothing. The same
 * attempts, each taking its measured busy time, dispatched by the same rules (FIFO, as every spec has the
 * same priority; a retry is ready after the backoff the real run drew) onto `slots` slots the instant one
 * is free; launch, exit detection, collection and judgment take no time. `tasks`: in FIFO order, each
 * { busy: [ms per attempt], backoff: [ms before attempt 2, 3, …] }. Returns ms.
 */
export function replayIdeal(tasks, slots) {
  const free = Array.from({ length: slots }, () => 0);
  // Ready entries: { at, order, task, n }. The earliest-ready-first among those ready, by FIFO order.
  let queue = tasks.map((t, order) => ({ at: 0, order, t, n: 0 }));
  let end = 0;
  while (queue.length) {
    free.sort((a, b) => a - b);
    const slotAt = free[0];
    const readyAt = Math.max(slotAt, Math.min(...queue.map((q) => q.at)));
    const ready = queue.filter((q) => q.at <= readyAt).sort((a, b) => a.order - b.order);
    const q = ready[0];
    queue = queue.filter((x) => x !== q);
    const done = readyAt + q.t.busy[q.n];
    free[0] = done;
    end = Math.max(end, done);
    if (q.n + 1 < q.t.busy.length) queue.push({ ...q, n: q.n + 1, at: done + (q.t.backoff[q.n] ?? 0) });
  }
  return end;
}

/** When a task reached done or failed (ms since the epoch), or null. */
function terminalAt(task) {
  if (task.state === 'done' && task.merge) return Date.parse(task.merge.at);
  if (task.state === 'failed') return Date.parse(task.history.at(-1).at);
  return null;
}

export async function run() {
  const night = drawNight();
  const nominal = sum(night.map((s) => s.seconds * (s.fails ? 3 : 1)));
  const seconds = night.map((s) => s.seconds);
  log(
    `night: ${night.length} specs, ${night.filter((s) => s.fails).length} failing; d median ` +
      `${round(percentile(seconds, 50), 2)} s, mean ${round(sum(seconds) / night.length, 2)} s; ` +
      `nominal sleep ${round(nominal)} s → ideal ≈ ${round(nominal / HEALTHY_SLOTS)} s`,
  );
  const cleanups = [];
  let sup = null;
  try {
    const { repo, root, socket } = benchWorkspace('night', cleanups);
    const ws = openWorkspace(
      root,
      configText(
        repo,
        [
          '  alpha: { kind: scripted, hosts: [local], concurrency: 2 }',
          '  bravo: { kind: scripted, hosts: [local], concurrency: 2 }',
          '  dead: { kind: scripted, hosts: [local], concurrency: 2, scripted: { probe: silent } }',
        ],
        [
          'architect: { mode: gates }',
          'gates:',
          '  diff: { enabled: true }',
          '  deletions: { enabled: true }',
          '  commits: { enabled: true }',
          'defaults: { retryInitial: 1s, retryMax: 2s }',
        ],
      ),
    );
    for (const s of night) ws.enqueue(s.id, specText(s));

    const daemonLog = [];
    sup = makeSupervisor(ws, socket, {
      pollMs: POLL_MS,
      log: (line) => {
        daemonLog.push(line);
        if (daemonLog.length > 2000) daemonLog.splice(0, 1000);
      },
    });

    // When tasks could be dispatched: pending and out of retry backoff (+1), until they leave pending (-1).
    // And each retry's backoff as drawn, for the replay ideal.
    const ready = [];
    const backoffs = new Map();
    // When each attempt was collected (its task left running): the nth such moment ends attempt n.
    const collectedAt = new Map();
    sup.events.subscribe((e) => {
      if (e.type !== 'task.transition') return;
      const at = Date.parse(e.time);
      if (e.from === 'running') collectedAt.set(e.task, [...(collectedAt.get(e.task) ?? []), at]);
      if (e.from === 'pending') ready.push([at, -1, e.task]);
      if (e.to === 'pending') {
        const retryAt = sup.store.list().find((t) => t.id === e.task)?.retryAt;
        ready.push([Math.max(at, retryAt ? Date.parse(retryAt) : at), 1, e.task]);
        if (e.from === 'running') {
          const delays = backoffs.get(e.task) ?? [];
          delays.push(retryAt ? Math.max(0, Date.parse(retryAt) - at) : 0);
          backoffs.set(e.task, delays);
        }
      }
    });

    // Samplers: RSS every 500 ms, the review backlog and the load average alongside.
    const samples = { rss: [], review: [], load: [], held: 0, of: 0 };
    const sample = () => {
      samples.rss.push(process.memoryUsage().rss);
      samples.load.push(loadavg());
      // The healthy providers' breakers: a breaker not closed is an empty slot's most common reason.
      if (sup) {
        for (const name of ['alpha', 'bravo']) {
          samples.of += 1;
          if (sup.fleet.health.get(name)?.breaker !== 'closed') samples.held += 1;
        }
      }
      if (sup) samples.review.push(sup.store.list().filter((t) => t.state === 'review').length);
    };
    const loadStart = loadavg();
    const cpu0 = process.cpuUsage();
    const child0 = childCpuSeconds();
    const t0 = Date.now();
    const mono0 = performance.now();
    sample();
    const sampler = setInterval(sample, 500);
    cleanups.push(() => clearInterval(sampler));
    log(`night: running (tmux socket ${socket}, pollMs ${POLL_MS ?? 'default'})`);
    await sup.start();
    const startedMs = performance.now() - mono0;
    const progress = setInterval(() => {
      const counts = {};
      for (const t of sup.store.list()) counts[t.state] = (counts[t.state] ?? 0) + 1;
      log(`night: ${round((performance.now() - mono0) / 1000, 0)} s ${JSON.stringify(counts)}`);
    }, 30_000);
    cleanups.push(() => clearInterval(progress));
    await untilIdle(sup, TIMEOUT_MS, cleanups, 'night not idle');
    if (process.env['BENCH_NIGHT_EVENTS'])
      copyFileSync(path.join(root, 'logs', 'events.jsonl'), process.env['BENCH_NIGHT_EVENTS']);
    const wallMs = performance.now() - mono0;
    const cpu = process.cpuUsage(cpu0);
    const childCpu = childCpuSeconds() - child0;
    clearInterval(sampler);
    clearInterval(progress);
    sample();
    const loadEnd = loadavg();
    await sup.stop('bench done');

    // ---- figures -------------------------------------------------------------------------
    const tasks = sup.store.list();
    const bySpec = new Map(night.map((s) => [s.id, s]));
    const lost = tasks.filter((t) => t.state !== 'done' && t.state !== 'failed');
    const wrong = tasks.filter((t) => (bySpec.get(t.id)?.fails ? 'failed' : 'done') !== t.state);
    const attempts = tasks.flatMap((t) => t.attempts.map((a) => ({ task: t, a })));
    const busy = [];
    const launch = [];
    const detect = [];
    const collect = [];
    let occupied = 0;
    let deadAttempts = 0;
    let deadSeconds = 0;
    let missingLogs = 0;
    for (const { task, a } of attempts) {
      const w = attemptWindow(root, task.id, a.n);
      const started = Date.parse(a.startedAt);
      const ended = a.endedAt ? Date.parse(a.endedAt) : started;
      if (a.provider === 'dead') {
        deadAttempts += 1;
        deadSeconds += (ended - started) / 1000;
      }
      occupied += ended - started;
      if (!w) {
        missingLogs += 1;
        continue;
      }
      busy.push(w.end - w.start);
      launch.push(w.start - started);
      // An attempt's endedAt is its runner's exit record (the slot is free from then on); the gap from
      // the last output to it is slot time, the collection after it is not.
      detect.push(ended - w.end);
      const collected = collectedAt.get(task.id)?.[a.n - 1];
      if (collected !== undefined) collect.push(collected - ended);
    }
    const busyMs = sum(busy);
    const replayMs = replayIdeal(
      night.map((s) => {
        const task = tasks.find((t) => t.id === s.id);
        const tried = (task?.attempts ?? []).filter((a) => a.provider !== 'dead');
        const windows = tried.map((a) => attemptWindow(root, s.id, a.n));
        return {
          busy: windows.map((w) => (w ? w.end - w.start : 0)),
          backoff: backoffs.get(s.id) ?? [],
        };
      }),
      HEALTHY_SLOTS,
    );
    const ends = tasks.map(terminalAt).filter((x) => x !== null);
    const lastEnd = Math.max(...ends);
    const makespanMs = lastEnd - t0;
    const idealMs = busyMs / HEALTHY_SLOTS;
    const ratio = makespanMs / idealMs;
    const firstStart = Math.min(...attempts.map(({ a }) => Date.parse(a.startedAt)));
    const lastAttemptEnd = Math.max(...attempts.map(({ a }) => Date.parse(a.endedAt ?? a.startedAt)));
    const slotMs = makespanMs * HEALTHY_SLOTS;
    const idleSlotMs = slotMs - occupied;
    const startupSlotMs = (firstStart - t0) * HEALTHY_SLOTS;
    // Empty slot time, split by whether a task was ready to dispatch at that moment (pending, out of
    // backoff): min(empty slots, ready tasks) is lost to dispatch latency, the rest had nothing to run
    // (retry-backoff holes, the end of the night). From the healthy slots' occupancy over time.
    const steps = [
      ...tasks.map(() => [t0, 0, 1]),
      ...ready.map(([at, d]) => [at, 0, d]),
      ...attempts
        .filter(({ a }) => a.provider !== 'dead')
        .flatMap(({ a }) => [
          [Date.parse(a.startedAt), 1, 0],
          [Date.parse(a.endedAt ?? a.startedAt), -1, 0],
        ]),
      [lastEnd, 0, 0],
    ].sort((x, y) => x[0] - y[0]);
    let occ = 0;
    let waiting = 0;
    let prev = t0;
    let emptyReady = 0;
    let emptyNothing = 0;
    for (const [at, dOcc, dReady] of steps) {
      const span = Math.max(0, Math.min(at, lastEnd) - prev);
      const empty = Math.max(0, HEALTHY_SLOTS - occ);
      const lost = Math.min(empty, Math.max(0, waiting));
      emptyReady += lost * span;
      emptyNothing += (empty - lost) * span;
      occ += dOcc;
      waiting += dReady;
      prev = Math.max(prev, at);
    }
    // Drain: after the last attempt ends, only the judgment of the last task remains.
    const drainMs = lastEnd - lastAttemptEnd;
    const merged = tasks.filter((t) => t.state === 'done');
    const judge = merged.map(
      (t) => Date.parse(t.merge.at) - (attemptWindow(root, t.id, t.attempts.at(-1).n)?.end ?? NaN),
    );
    const judgeLessTests = merged.map(
      (t, i) => judge[i] - (t.gates.find((g) => g.name === 'tests')?.durationMs ?? 0),
    );
    const rssPeak = Math.max(...samples.rss) / 2 ** 20;
    const pct = (ms) => round((ms / slotMs) * 100, 1);
    const s1 = (ms) => `${round(ms / 1000)} s (${pct(ms)} %)`;
    log(
      `night: started in ${round(startedMs)} ms; ${attempts.length} attempts, ${missingLogs} without a log`,
    );
    log(`night: slot time ${round(slotMs / 1000)} s = busy ${s1(busyMs)} + launch ${s1(sum(launch))}`);
    log(`night:   + last output → exit record ${s1(sum(detect))} + empty ${s1(idleSlotMs)}`);
    log(`night: empty while a task was ready ${s1(emptyReady)}, of which start-up ${s1(startupSlotMs)}`);
    const heldPct = round((samples.held / Math.max(1, samples.of)) * 100, 1);
    log(`night: the healthy providers' breakers were not closed ${heldPct} % of the time`);
    log(
      `night: empty with nothing to run ${s1(emptyNothing)}, of which the last judgment ${s1(drainMs * 4)}`,
    );
    if (lost.length || wrong.length) {
      log(`night: lost ${lost.map((t) => `${t.id}(${t.state})`).join(' ')}`);
      for (const t of wrong) {
        const tried = t.attempts.map(
          (a) => `#${a.n} ${a.provider} ${a.outcome} ${a.code ?? ''} ${a.reason ?? ''}`,
        );
        log(
          `night: unexpected outcome ${t.id} (${t.state}): ${JSON.stringify(t.failure)}; ${tried.join('; ')}`,
        );
        log(daemonLog.filter((l) => l.includes(t.id)).join('\n'));
      }
      log(daemonLog.slice(-40).join('\n'));
    }

    const rows = [];
    const row = rowWriter(rows, 'night');
    row(
      `makespan / ideal (${night.length} specs, ${HEALTHY_SLOTS} healthy slots)`,
      round(ratio, 3),
      '×',
      `<= ${GOALS.ratio}`,
    );
    row(
      'makespan / replay ideal (the same attempts and backoffs, a supervisor that costs nothing)',
      round(makespanMs / replayMs, 3),
      '×',
      `<= ${GOALS.replayRatio}`,
    );
    row('makespan (start() → last task done/failed)', round(makespanMs / 1000), 's');
    row('replay ideal makespan', round(replayMs / 1000), 's');
    row('ideal makespan (Σ executor busy / 4)', round(idealMs / 1000), 's');
    row('ideal from the scripts alone (Σ sleep / 4)', round(nominal / HEALTHY_SLOTS), 's');
    row(`attempts (of which on the dead provider: ${deadAttempts})`, attempts.length, '');
    row('slot time on the dead provider', round(deadSeconds), 's', `<= ${GOALS.deadSeconds}`);
    row('lost tasks (not done/failed at the end)', lost.length, 'tasks', '<= 0');
    row('tasks with an unexpected outcome', wrong.length, 'tasks', '<= 0');
    row(
      'per attempt p50: launch (dispatch → log) / exit → collected (slot already free)',
      `${round(percentile(launch, 50), 0)} / ${round(percentile(collect, 50), 0)}`,
      'ms',
    );
    row(
      'per attempt p95: launch / exit → collected',
      `${round(percentile(launch, 95), 0)} / ${round(percentile(collect, 95), 0)}`,
      'ms',
    );
    row(
      'slot time: busy / launch / last output→exit record / empty',
      `${pct(busyMs)} / ${pct(sum(launch))} / ${pct(sum(detect))} / ${pct(idleSlotMs)}`,
      '%',
    );
    row(
      'empty slot time: a task was ready / nothing to run',
      `${pct(emptyReady)} / ${pct(emptyNothing)}`,
      '%',
    );
    row("healthy providers' breakers not closed (500 ms samples)", heldPct, '%');
    row(
      'executor exit (last output) → merged p50 / p95',
      `${round(percentile(judge, 50), 0)} / ${round(percentile(judge, 95), 0)}`,
      'ms',
    );
    row(
      "executor exit → merged, less the tests gate's own time, p50",
      round(percentile(judgeLessTests, 50), 0),
      'ms',
      `<= ${GOALS.exitToMergedMs}`,
    );
    row('review backlog peak (sampled)', Math.max(...samples.review), 'tasks');
    row('daemon RSS peak (500 ms samples)', round(rssPeak), 'MB');
    row('daemon CPU (process.cpuUsage / wall)', round(((cpu.user + cpu.system) / 1000 / wallMs) * 100), '%');
    row(
      'CPU of its reaped children (git, sh, tmux client) / wall',
      round((childCpu / (wallMs / 1000)) * 100),
      '%',
    );
    row(
      'load average 1 min: start → end (mean of samples)',
      `${round(loadStart, 2)} → ${round(loadEnd, 2)} (${round(sum(samples.load) / samples.load.length, 2)})`,
      '',
    );
    return rows;
  } finally {
    if (sup) await sup.stop('bench cleanup').catch(() => undefined);
    await runCleanups(cleanups, 'night');
  }
}

await runIfMain(import.meta.url, run);
