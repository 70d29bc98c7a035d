// Queue benchmarks (issue 2), on the compiled code in dist/ (`npm run build` first; `npm run bench` does).
//   1. enqueue: 10,000 specs parsed with parseSpec and added with QueueStore.enqueue (durable writes).
//   2. `nightshift -w <ws> ls` and `ls --json` over those 10,000 tasks: the real CLI spawned from here
//      (spawn → exit, as a user sees it), one warm-up run (it writes the task index anew: the specs were
//      enqueued by a store without the lock), then the median of 7.
//   3. transitions: pending → running → review → done on 1,000 tasks, each one fsynced.
// `export async function run()` returns rows {bench, metric, value, unit, goal} for bench/run.js;
// `node bench/queue.js` runs it alone and prints the rows.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseConfig } from '../dist/config/load.js';
import { workspacePaths } from '../dist/config/paths.js';
import { enterDone, enterReview, enterRunning } from '../dist/core/task.js';
import { systemClock } from '../dist/lib/clock.js';
import { QueueStore } from '../dist/queue/store.js';
import { parseSpec } from '../dist/spec/parse.js';

/** review → done needs an approval (core/task.ts). */
const APPROVED = { grade: 'A', verdict: 'approve', summary: 'ok', findings: [], approvedBy: 'human' };

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'bin', 'nightshift.js');
const SPECS = Number(process.env['BENCH_QUEUE_SPECS'] ?? 10_000);
const TRANSITION_TASKS = Number(process.env['BENCH_QUEUE_TRANSITIONS'] ?? 1_000);
const CLI_RUNS = 7;
/** Issue 17: `ls` over 10,000 tasks, from outside. */
const LS_GOAL_MS = 400;

function specText(i) {
  const id = `bench-${String(i).padStart(5, '0')}`;
  return {
    id,
    text: [
      '---',
      `id: ${id}`,
      `title: Benchmark task ${i}`,
      `priority: ${i % 5}`,
      'tests: [bench_queue_holds]',
      'stop: when the benchmark is done',
      '---',
      `# Benchmark task ${i}`,
      '',
      `Task ${i} of the queue benchmark. It asks for nothing but has enough words in its body to look`,
      'like a real spec: a paragraph of context, a list of steps and a stop condition.',
      '',
      `- step one for ${id}`,
      `- step two for ${id}`,
      '',
    ].join('\n'),
  };
}

function makeWorkspace() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-bench-queue-'));
  writeFileSync(path.join(root, 'nightshift.config.yaml'), 'repos: {app: {path: /tmp/x}}\n');
  const paths = workspacePaths(root);
  const config = parseConfig(`repos: {app: {path: /tmp/x}}\n`, paths.configFile);
  const store = new QueueStore(paths, systemClock);
  store.ensureLayout();
  return { root, paths, config, store };
}

/** Parses and enqueues `count` specs; returns the elapsed milliseconds. */
function fill(ws, count) {
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const { id, text } = specText(i);
    ws.store.enqueue(parseSpec(Buffer.from(text), { file: `${id}.md`, config: ws.config }));
  }
  return performance.now() - start;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Runs the real CLI once unmeasured, then `runs` times; returns the median wall time and the last stdout. */
function timeCli(args, runs) {
  const times = [];
  let stdout = '';
  for (let i = -1; i < runs; i++) {
    const start = performance.now();
    const res = spawnSync(process.execPath, [CLI, ...args], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    if (i >= 0) times.push(performance.now() - start);
    if (res.status !== 0) throw new Error(`nightshift ${args.join(' ')} exited ${res.status}: ${res.stderr}`);
    stdout = res.stdout;
  }
  return { ms: median(times), stdout };
}

const round = (n, digits = 0) => Number(n.toFixed(digits));

export async function run(log = (line) => process.stderr.write(`${line}\n`)) {
  const rows = [];
  const row = (metric, value, unit, goal = null) => rows.push({ bench: 'queue', metric, value, unit, goal });
  const workspaces = [];
  try {
    // 1. Enqueue.
    log(`queue: enqueueing ${SPECS} specs`);
    const big = makeWorkspace();
    workspaces.push(big.root);
    const fillMs = fill(big, SPECS);
    // parseSpec alone (warm), to split the enqueue time into parsing and durable writes.
    const parseStart = performance.now();
    for (let i = 0; i < SPECS; i++) {
      const { id, text } = specText(i);
      parseSpec(Buffer.from(text), { file: `${id}.md`, config: big.config });
    }
    const parseMs = (performance.now() - parseStart) / SPECS;
    row(`enqueue ${SPECS} specs (parseSpec + enqueue)`, round((SPECS / fillMs) * 1000), 'specs/s');
    row('enqueue: time per spec', round(fillMs / SPECS, 2), 'ms');
    row('enqueue: of which parseSpec', round(parseMs, 2), 'ms');

    // 2. The CLI over 10,000 tasks.
    log(`queue: timing the CLI (${CLI_RUNS} runs each)`);
    const version = timeCli(['--version'], CLI_RUNS);
    row(`CLI startup (\`--version\`, median of ${CLI_RUNS})`, round(version.ms), 'ms', '<= 150');
    const ls = timeCli(['-w', big.root, 'ls'], CLI_RUNS);
    const listed = ls.stdout.match(/^(\d+) task\(s\)/m);
    if (!listed || Number(listed[1]) !== SPECS)
      throw new Error(`ls listed ${listed?.[1]} tasks, expected ${SPECS}`);
    row(`\`ls\` over ${SPECS} tasks (median of ${CLI_RUNS})`, round(ls.ms), 'ms', `<= ${LS_GOAL_MS}`);
    const json = timeCli(['-w', big.root, 'ls', '--json'], CLI_RUNS);
    const entries = JSON.parse(json.stdout).length;
    if (entries !== SPECS) throw new Error(`ls --json printed ${entries} tasks, expected ${SPECS}`);
    row(
      `\`ls --json\` over ${SPECS} tasks (median of ${CLI_RUNS})`,
      round(json.ms),
      'ms',
      `<= ${LS_GOAL_MS}`,
    );
    // What `ls` spends in-process: recovery (run by every CLI command when no daemon runs) and a fresh
    // reader's list() (the index closed by the CLI runs above), then list() with no index (every
    // task.json read: what a listing cost before the index, and after a writer dies).
    const reader = () => new QueueStore(big.paths, systemClock, undefined, { cache: false });
    const timed = (fn) => {
      const start = performance.now();
      fn();
      return performance.now() - start;
    };
    row(`in-process recover() over ${SPECS}`, round(timed(() => reader().recover())), 'ms');
    row(`in-process list() over ${SPECS}, from the task index`, round(timed(() => reader().list())), 'ms');
    rmSync(big.paths.taskIndex, { force: true });
    row(`in-process list() over ${SPECS}, no index`, round(timed(() => reader().list())), 'ms');
    row('load average (1 min) after the CLI runs', round(os.loadavg()[0], 2), '');

    // 3. Transitions.
    log(`queue: ${TRANSITION_TASKS} tasks through pending → running → review → done`);
    const small = makeWorkspace();
    workspaces.push(small.root);
    fill(small, TRANSITION_TASKS);
    const ids = small.store.list().map((t) => t.id);
    const start = performance.now();
    for (const id of ids) {
      small.store.transition(id, (t) =>
        enterRunning(t, { now: Date.now(), provider: 'bench', host: 'local' }),
      );
      small.store.transition(id, (t) => enterReview(t, { now: Date.now(), exitCode: 0 }));
      small.store.transition(id, (t) =>
        enterDone({ ...t, review: APPROVED }, { now: Date.now(), sha: 'b'.repeat(40) }),
      );
    }
    const transitionMs = performance.now() - start;
    const transitions = ids.length * 3;
    row(
      `transitions with fsync (${TRANSITION_TASKS} tasks × 3)`,
      round((transitions / transitionMs) * 1000),
      'transitions/s',
    );
    row('transition: time each', round(transitionMs / transitions, 2), 'ms');
  } finally {
    for (const root of workspaces) rmSync(root, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) console.log(JSON.stringify(r));
}
