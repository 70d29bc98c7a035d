// Judgment benchmark (issue 5), on the compiled code in dist/ (`npm run build` first; `npm run bench`
// does). Time from an executor's exit to its change on main, through the in-process Supervisor: 20
// small scripted tasks (sleep 1.00–1.95 s, write one file, commit) on one scripted provider with
// concurrency 1, the architect in `gates` mode, gates tests (command `true`), diff, deletions and
// commits, local host.
//
// "Exit" is the mtime of the attempt's exit.json on the host (the runner writes it, atomically, right after
// the executor exits; its own endedAt field has only 1 s resolution). "Merged" is task.merge.at. The
// stages in between come from the event log: running → review (the daemon collected the exit), the
// `gates: …` update, the approval, review → done.
// `export async function run()` returns rows {bench, metric, value, unit, goal} for bench/run.js;
// `node bench/judgment.js` runs it alone and prints the rows.
//   BENCH_JUDGMENT_TASKS=20     tasks
//   BENCH_JUDGMENT_POLL_MS=     Supervisor pollMs (default: the daemon's own default, 1000)
import { statSync } from 'node:fs';
import path from 'node:path';
import { workspacePaths } from '../dist/config/paths.js';
import { workspaceId } from '../dist/config/workspace-identity.js';
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

const TASKS = Number(process.env['BENCH_JUDGMENT_TASKS'] ?? 20);
const POLL_MS = process.env['BENCH_JUDGMENT_POLL_MS']
  ? Number(process.env['BENCH_JUDGMENT_POLL_MS'])
  : undefined;
const TIMEOUT_MS = 5 * 60_000;

/** Sleeps of 1.00–1.95 s (a permutation in 50 ms steps), so exits fall at every phase of the poll. */
function specText(id, i) {
  return [
    '---',
    `title: Judgment task ${id}`,
    `id: ${id}`,
    'tests: [test_judgment]',
    'stop: Stop when the script ends.',
    '---',
    `Task ${id}: follow the script below exactly; it is a simulated agent run for the judgment benchmark.`,
    '',
    '```nightshift-script',
    `sleep ${(1 + ((i * 7) % 20) / 20).toFixed(2)}`,
    `write out/${id}.txt "${id}\\n"`,
    `commit "${id}: add out/${id}.txt"`,
    '```',
    '',
  ].join('\n');
}

export async function run() {
  const cleanups = [];
  let sup = null;
  try {
    const { repo, root, socket } = benchWorkspace('judgment', cleanups);
    const ws = openWorkspace(
      root,
      configText(
        repo,
        ['  solo: { kind: scripted, hosts: [local], concurrency: 1 }'],
        [
          'architect: { mode: gates }',
          'gates:',
          `  tests: { enabled: true, command: ['true'] }`,
          '  diff: { enabled: true }',
          '  deletions: { enabled: true }',
          '  commits: { enabled: true }',
        ],
      ),
    );
    const ids = Array.from({ length: TASKS }, (_, i) => `judge-${String(i).padStart(2, '0')}`);
    ids.forEach((id, i) => ws.enqueue(id, specText(id, i)));

    sup = makeSupervisor(ws, socket, { pollMs: POLL_MS });
    // When each stage happened, per task, from the event stream (ms since the epoch).
    const stages = new Map(ids.map((id) => [id, {}]));
    sup.events.subscribe((e) => {
      const s = e.task ? stages.get(e.task) : undefined;
      if (!s) return;
      const at = Date.parse(e.time);
      if (e.type === 'task.transition' && e.from === 'running' && e.to === 'review') s.collected = at;
      if (e.type === 'task.updated' && e.reason.startsWith('gates:')) s.gated = at;
      if (e.type === 'task.updated' && e.reason.startsWith('approved by')) s.approved = at;
      if (e.type === 'task.transition' && e.to === 'done') s.merged = at;
    });
    const load0 = loadavg();
    log(`judgment: ${TASKS} tasks (tmux socket ${socket}, pollMs ${POLL_MS ?? 'default'})`);
    await sup.start();
    await untilIdle(sup, TIMEOUT_MS, cleanups);
    const load1 = loadavg();
    await sup.stop('bench done');

    const tasks = sup.store.list();
    const notDone = tasks.filter((t) => t.state !== 'done');
    if (notDone.length)
      throw new Error(
        `not merged: ${notDone.map((t) => `${t.id} (${t.state}: ${t.failure?.reason})`).join(', ')}`,
      );
    const total = [];
    const parts = {
      'exit → collected': [],
      'collected → gates': [],
      'gates → approved': [],
      'approved → merged': [],
    };
    const tail = [];
    const gateMs = {};
    // Issue 17: exit → merged ≤ 300 ms plus the tests gate's own time (what the user's tests cost).
    const overhead = [];
    for (const t of tasks) {
      const dir = path.join(root, 'hosts', 'local', 'ws', workspaceId(workspacePaths(root)), 'tasks', t.id);
      const exited = statSync(path.join(dir, 'exit.json')).mtimeMs;
      const lastOutput = statSync(path.join(dir, `attempt-${t.attempts.at(-1).n}.log`)).mtimeMs;
      const s = stages.get(t.id);
      const merged = Date.parse(t.merge.at);
      total.push(merged - exited);
      tail.push(exited - lastOutput);
      parts['exit → collected'].push(s.collected - exited);
      parts['collected → gates'].push(s.gated - s.collected);
      parts['gates → approved'].push(s.approved - s.gated);
      parts['approved → merged'].push(merged - s.approved);
      for (const g of t.gates) (gateMs[g.name] ??= []).push(g.durationMs);
      overhead.push(merged - exited - (t.gates.find((g) => g.name === 'tests')?.durationMs ?? 0));
    }
    const rows = [];
    const row = rowWriter(rows, 'judgment');
    row(`executor exit → merged on main, p50 (${TASKS} tasks)`, round(percentile(total, 50), 0), 'ms');
    row('executor exit → merged on main, p95', round(percentile(total, 95), 0), 'ms');
    row(
      "executor exit → merged, less the tests gate's own time, p50",
      round(percentile(overhead, 50), 0),
      'ms',
      '<= 300',
    );
    row(
      'executor exit → merged on main, min / max',
      `${round(Math.min(...total), 0)} / ${round(Math.max(...total), 0)}`,
      'ms',
    );
    for (const [name, values] of Object.entries(parts)) {
      row(
        `${name}, p50 / p95`,
        `${round(percentile(values, 50), 0)} / ${round(percentile(values, 95), 0)}`,
        'ms',
      );
    }
    row(
      `gate durationMs p50: ${Object.entries(gateMs)
        .map(([g, v]) => `${g} ${round(percentile(v, 50), 0)}`)
        .join(', ')}`,
      '',
      'ms',
    );
    row('executor last output → exit.json (runner tail), p50', round(percentile(tail, 50), 0), 'ms');
    row('load average 1 min: start → end', `${round(load0, 2)} → ${round(load1, 2)}`, '');
    return rows;
  } finally {
    if (sup) await sup.stop('bench cleanup').catch(() => undefined);
    await runCleanups(cleanups, 'judgment');
  }
}

await runIfMain(import.meta.url, run);
