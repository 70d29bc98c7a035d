// CLI start-up (issue 17): each command a user types most, timed from outside (spawn → exit, median of
// 7 after one warm-up run) on the real bin/nightshift.js and dist/, beside node's own floor (`node -e 0`),
// against a workspace of TASKS tasks. Then, per command, what it loads and what that costs, so that a
// regression names its cause:
//   modules       how many modules it loads, and the source bytes (bench/fixtures/module-log.js)
//   heaviest      the groups (an npm package, or a dist/ folder) with the most CPU in one run under
//                 `node --cpu-prof`: a sample inside node's own code is charged to the nearest frame of
//                 a module on its stack, and to "node (loader, compile)" when there is none.
// `export async function run()` returns rows {bench, metric, value, unit, goal} for bench/run.js;
// `node bench/startup.js` runs it alone and prints the rows.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg, log, round, rowWriter, runIfMain } from './lib.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'bin', 'nightshift.js');
const MODULE_LOG = path.join(ROOT, 'bench', 'fixtures', 'module-log.js');
const RUNS = Number(process.env['BENCH_STARTUP_RUNS'] ?? 7);
const TASKS = Number(process.env['BENCH_STARTUP_TASKS'] ?? 50);
const HEAVIEST = 5;
const VERSION_GOAL_MS = 150;

function spec(i) {
  const id = `startup-${String(i).padStart(4, '0')}`;
  const text = [
    '---',
    `id: ${id}`,
    `title: Start-up bench task ${i}`,
    'tests: [startup_bench_holds]',
    'stop: when the bench is done',
    '---',
    `# Start-up bench task ${i}`,
    '',
    `Task ${i} of the start-up bench: a paragraph of context, a list of steps and a stop condition.`,
    '',
  ].join('\n');
  return { id, text };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** One spawn of `argv` (node's own arguments first), to its exit; throws on a failing exit. */
function spawnOnce(argv, env = {}) {
  const start = performance.now();
  const res = spawnSync(process.execPath, argv, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - start;
  if (res.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${res.status}: ${res.stderr}`);
  return ms;
}

/** Median wall time of `RUNS` spawns after one warm-up; `args(i)` gives run i's CLI arguments. */
function timeCommand(args, node = []) {
  spawnOnce([...node, ...args(-1)]);
  const times = [];
  for (let i = 0; i < RUNS; i++) times.push(spawnOnce([...node, ...args(i)]));
  return median(times);
}

/** An npm package ("zod", "@anthropic-ai/sdk"), a dist/ folder ("dist/queue"), or null for node's own. */
function groupOf(url) {
  if (!url || url.startsWith('node:')) return null;
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  const dist = /\/dist\/([^/]+)\//.exec(url);
  if (dist) return `dist/${dist[1]}`;
  if (url.includes('/bin/nightshift.js')) return 'bin';
  return null;
}

/** Modules and source bytes the command loads, from one run under the module log. */
function modulesOf(args, dir) {
  const file = path.join(dir, 'modules.log');
  rmSync(file, { force: true });
  spawnOnce(['--import', MODULE_LOG, CLI, ...args], { NS_MODULE_LOG: file });
  const seen = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [url, bytes] = line.split('\t');
    if (!url || url.startsWith('node:')) continue;
    seen.set(url, Math.max(seen.get(url) ?? 0, Number(bytes)));
  }
  return { count: seen.size, bytes: [...seen.values()].reduce((a, b) => a + b, 0) };
}

/** CPU milliseconds per group in one run under --cpu-prof, heaviest first. */
function heaviestOf(args, dir) {
  const profDir = path.join(dir, 'prof');
  rmSync(profDir, { recursive: true, force: true });
  mkdirSync(profDir);
  spawnOnce(['--cpu-prof', '--cpu-prof-dir', profDir, CLI, ...args]);
  const profile = JSON.parse(readFileSync(path.join(profDir, readdirSync(profDir)[0]), 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const charged = new Map();
  for (const [i, id] of profile.samples.entries()) {
    let group = null;
    let special = null;
    for (let at = id; at !== undefined && group === null; at = parent.get(at)) {
      const frame = nodes.get(at).callFrame;
      group = groupOf(frame.url);
      if (at === id && !frame.url && frame.functionName.startsWith('(')) special = frame.functionName;
    }
    if (special === '(idle)' || special === '(root)') continue;
    const key = group ?? (special === '(garbage collector)' ? special : 'node (loader, compile)');
    charged.set(key, (charged.get(key) ?? 0) + profile.timeDeltas[i] / 1000);
  }
  return [...charged].sort((a, b) => b[1] - a[1]);
}

export async function run() {
  const rows = [];
  const row = rowWriter(rows, 'startup');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-bench-startup-'));
  try {
    const ws = path.join(dir, 'ws');
    mkdirSync(ws);
    writeFileSync(path.join(ws, 'nightshift.config.yaml'), 'repos: {app: {path: /tmp/x}}\n');
    const specs = path.join(dir, 'add');
    mkdirSync(specs);
    log(`startup: a workspace of ${TASKS} tasks`);
    const first = [];
    for (let i = 0; i < TASKS; i++) {
      const { id, text } = spec(i);
      writeFileSync(path.join(specs, `${id}.md`), text);
      first.push(path.join(specs, `${id}.md`));
    }
    spawnOnce([CLI, '-w', ws, 'add', ...first]);
    // `add` runs once per timed run (and the warm-up): a fresh spec each time.
    const addFile = (i) => {
      const { id, text } = spec(TASKS + 1 + i);
      const file = path.join(specs, `${id}.md`);
      writeFileSync(file, text);
      return file;
    };
    const commands = [
      { name: '--version', args: () => ['--version'], goal: `<= ${VERSION_GOAL_MS}` },
      { name: '--help', args: () => ['--help'] },
      { name: 'ls', args: () => ['-w', ws, 'ls'] },
      { name: 'show', args: () => ['-w', ws, 'show', spec(0).id] },
      { name: 'add', args: (i) => ['-w', ws, 'add', addFile(i)] },
    ];
    log(`startup: timing node -e 0 and ${commands.length} commands (${RUNS} runs each)`);
    row(`node -e 0 (the floor; median of ${RUNS})`, round(timeCommand(() => ['-e', '0'])), 'ms');
    for (const c of commands) {
      row(`\`${c.name}\` (median of ${RUNS})`, round(timeCommand((i) => [CLI, ...c.args(i)])), 'ms', c.goal);
    }
    for (const c of commands) {
      // Two more runs: `add` gets a fresh spec for each.
      let extraRun = RUNS;
      const extra = () => c.args(extraRun++);
      const mods = modulesOf(extra(), dir);
      row(`\`${c.name}\`: modules loaded (${round(mods.bytes / 1024)} KB of source)`, mods.count, 'modules');
      const heavy = heaviestOf(extra(), dir).slice(0, HEAVIEST);
      for (const [rank, [group, ms]] of heavy.entries())
        row(`\`${c.name}\`: heaviest #${rank + 1}: ${group}`, round(ms), 'ms CPU');
    }
    row('load average (1 min) at the end', round(loadavg(), 2), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

await runIfMain(import.meta.url, run);
