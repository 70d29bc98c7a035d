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
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseConfig } from '../dist/config/load.js';
import { workspacePaths } from '../dist/config/paths.js';
import { Supervisor } from '../dist/daemon/supervisor.js';
import { buildHosts } from '../dist/hosts/registry.js';
import { LocalRunner } from '../dist/hosts/runner.js';
import { systemClock } from '../dist/lib/clock.js';
import { QueueStore } from '../dist/queue/store.js';
import { parseSpec } from '../dist/spec/parse.js';

const TASKS = Number(process.env['BENCH_JUDGMENT_TASKS'] ?? 20);
const POLL_MS = process.env['BENCH_JUDGMENT_POLL_MS']
  ? Number(process.env['BENCH_JUDGMENT_POLL_MS'])
  : undefined;
const TIMEOUT_MS = 5 * 60_000;
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
};

const log = (line) => console.error(line);
const round = (n, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;

function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function git(cwd, ...args) {
  return execFileSync('git', ['-C', cwd, ...args], { env: GIT_ENV, encoding: 'utf8' }).trim();
}

function makeRepo() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-bench-judgment-repo-'));
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(dir, 'README.md'), '# app\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

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

async function killTmux(socket) {
  await new LocalRunner().run(['tmux', '-L', socket, 'kill-server']);
  const dir = path.join(process.env['TMUX_TMPDIR'] || '/tmp', `tmux-${process.getuid?.() ?? 0}`);
  rmSync(path.join(dir, socket), { force: true });
}

export async function run() {
  const cleanups = [];
  const socket = `ns-bench-judgment-${process.pid}`;
  let sup = null;
  try {
    const repo = makeRepo();
    cleanups.push(() => rmSync(repo, { recursive: true, force: true }));
    const root = mkdtempSync(path.join(os.tmpdir(), 'ns-bench-judgment-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    cleanups.push(() => killTmux(socket));
    const text = [
      'repos:',
      `  app: { path: ${JSON.stringify(repo)}, main: main }`,
      'hosts:',
      '  local: { kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }',
      'providers:',
      '  solo: { kind: scripted, hosts: [local], concurrency: 1 }',
      'architect: { mode: gates }',
      'gates:',
      `  tests: { enabled: true, command: ['true'] }`,
      '  diff: { enabled: true }',
      '  deletions: { enabled: true }',
      '  commits: { enabled: true }',
      '',
    ].join('\n');
    writeFileSync(path.join(root, 'nightshift.config.yaml'), text, { mode: 0o600 });
    const paths = workspacePaths(root);
    const config = parseConfig(text, paths.configFile);
    const store = new QueueStore(paths, systemClock);
    store.ensureLayout();
    const ids = Array.from({ length: TASKS }, (_, i) => `judge-${String(i).padStart(2, '0')}`);
    ids.forEach((id, i) =>
      store.enqueue(parseSpec(Buffer.from(specText(id, i)), { file: `${id}.md`, config })),
    );

    sup = new Supervisor({
      paths,
      config,
      clock: systemClock,
      env: { ...process.env },
      hosts: buildHosts(config, paths, { tmuxSocket: socket }),
      ...(POLL_MS !== undefined ? { pollMs: POLL_MS } : {}),
    });
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
    const load0 = os.loadavg()[0];
    log(`judgment: ${TASKS} tasks (tmux socket ${socket}, pollMs ${POLL_MS ?? 'default'})`);
    await sup.start();
    let timer;
    const timedOut = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not idle after ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
    });
    cleanups.push(() => clearTimeout(timer));
    await Promise.race([sup.untilIdle(), timedOut]);
    const load1 = os.loadavg()[0];
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
    for (const t of tasks) {
      const dir = path.join(root, 'hosts', 'local', 'tasks', t.id);
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
    }
    const bench = 'judgment';
    const rows = [];
    const row = (metric, value, unit, goal = '') => rows.push({ bench, metric, value, unit, goal });
    row(`executor exit → merged on main, p50 (${TASKS} tasks)`, round(percentile(total, 50)), 'ms');
    row('executor exit → merged on main, p95', round(percentile(total, 95)), 'ms');
    row(
      'executor exit → merged on main, min / max',
      `${round(Math.min(...total))} / ${round(Math.max(...total))}`,
      'ms',
    );
    for (const [name, values] of Object.entries(parts)) {
      row(`${name}, p50 / p95`, `${round(percentile(values, 50))} / ${round(percentile(values, 95))}`, 'ms');
    }
    row(
      `gate durationMs p50: ${Object.entries(gateMs)
        .map(([g, v]) => `${g} ${round(percentile(v, 50))}`)
        .join(', ')}`,
      '',
      'ms',
    );
    row('executor last output → exit.json (runner tail), p50', round(percentile(tail, 50)), 'ms');
    row('load average 1 min: start → end', `${round(load0, 2)} → ${round(load1, 2)}`, '');
    return rows;
  } finally {
    if (sup) await sup.stop('bench cleanup').catch(() => undefined);
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        log(`judgment: cleanup failed: ${err}`);
      }
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) console.log(JSON.stringify(r));
}
