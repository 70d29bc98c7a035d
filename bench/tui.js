// TUI benchmarks (issue 6), on the compiled code in dist/ (`npm run build` first; `npm run bench` does).
// The real CLI (`node bin/nightshift.js -w <ws> --no-tmux`) runs in a real pseudo-terminal (node-pty) of
// 200×50 and its output is read back with @xterm/headless, as a person's terminal would show it.
//   1. First frame: from spawn to the first full frame on screen (header, board with every task, events
//      pane), in an empty workspace and in one of 1,000 tasks; RSS of the process then. Median of RUNS.
//      With the bundle's code cache (written by a warm-up start, in the bench's own XDG_CACHE_HOME), and
//      for 1,000 tasks also without it (the first start after an install).
//   2. Frames while an executor streams: 1,000 tasks, one `running` in a real tmux session (own socket)
//      whose command prints 2,000 lines/s, the TUI on that task's Executor tab. The TUI logs every frame
//      (NIGHTSHIFT_TUI_LOG + NIGHTSHIFT_TUI_FRAMES=1, src/tui/app/run.tsx): Ink's render of the output, and
//      each whole update (React render, commit, layout, output and write). p50/p95/max, CPU use.
//   3. Beside ccmanager (an Ink TUI for Claude Code sessions, a Bun-compiled binary), installed with npm
//      outside the repo: time to its first frame (`Controls:`) and its RSS, interleaved with nightshift's
//      runs of (1) in the same terminal size. Rows say why when it cannot be installed or started.
// Env: BENCH_TUI_RUNS (5), BENCH_TUI_TASKS (1000), BENCH_TUI_STREAM_RATE (2000 lines/s),
//      BENCH_TUI_STREAM_SECONDS (60), BENCH_TUI_NODE_ENV (unset: what `nightshift` gets by default),
//      BENCH_TUI_CLI (another build's bin/nightshift.js, to compare builds), BENCH_TUI_PEERS=0 (skip
//      ccmanager), BENCH_TUI_CCMANAGER_PREFIX (<tmp>/ns-ccmanager: npm installs it there when it is
//      missing, and it stays for the next run), BENCH_TUI_PROFILE=1 (CPU-profile the TUI of part 2, log
//      where its time went, and keep the profile in the temp directory).
// `export async function run()` returns rows {bench, metric, value, unit, goal} for bench/run.js;
// `node bench/tui.js` runs it alone and prints the rows.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
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
import { fileURLToPath, pathToFileURL } from 'node:url';
import xterm from '@xterm/headless';
import * as pty from 'node-pty';
import { parseConfig } from '../dist/config/load.js';
import { workspacePaths } from '../dist/config/paths.js';
import { workspaceId } from '../dist/config/workspace-identity.js';
import { sessionName } from '../dist/hosts/session-names.js';
import { enterDone, enterFailed, enterReview, enterRunning } from '../dist/core/task.js';
import { systemClock } from '../dist/lib/clock.js';
import { QueueStore } from '../dist/queue/store.js';
import { parseSpec } from '../dist/spec/parse.js';

/** review → done needs an approval (core/task.ts). */
const APPROVED = { grade: 'A', verdict: 'approve', summary: 'ok', findings: [], approvedBy: 'human' };

const { Terminal } = xterm;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = process.env['BENCH_TUI_CLI'] ?? path.join(ROOT, 'bin', 'nightshift.js');
const STREAM = path.join(ROOT, 'bench', 'fixtures', 'tui-stream.js');
const RUNS = Number(process.env['BENCH_TUI_RUNS'] ?? 5);
const TASKS = Number(process.env['BENCH_TUI_TASKS'] ?? 1000);
const STREAM_RATE = Number(process.env['BENCH_TUI_STREAM_RATE'] ?? 2000);
const STREAM_SECONDS = Number(process.env['BENCH_TUI_STREAM_SECONDS'] ?? 60);
const PEERS = process.env['BENCH_TUI_PEERS'] !== '0';
const PROFILE = process.env['BENCH_TUI_PROFILE'] === '1';
const CC_PREFIX = process.env['BENCH_TUI_CCMANAGER_PREFIX'] ?? path.join(os.tmpdir(), 'ns-ccmanager');
const COLS = 200;
const ROWS = 50;
const FIRST_FRAME_GOAL_MS = 400;
const FRAME_GOAL_MS = 16;
const FIRST_FRAME_TIMEOUT_MS = 30_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n, digits = 0) => (n === null || n === undefined ? null : Number(n.toFixed(digits)));

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Least-squares slope of evenly spaced samples (per sample); GC makes RSS a saw, so not end − start. */
function slope(values) {
  const n = values.length;
  if (n < 2) return NaN;
  const mx = (n - 1) / 2;
  const my = values.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  values.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

function percentile(values, p) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// ---------------------------------------------------------------------------------------- processes

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** RSS (MiB) and CPU time so far (ms, user + system) of one process, from /proc. */
function procStat(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    return { rssMiB: rssKiB / 1024, cpuMs: (ticks * 1000) / CLK_TCK };
  } catch {
    return { rssMiB: NaN, cpuMs: NaN };
  }
}

/** The process and its descendants. */
function processTree(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  const tree = [];
  const visit = (p) => {
    tree.push(p);
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return tree;
}

/** A program in a pseudo-terminal, its screen kept by a headless xterm. */
class Screen {
  constructor(file, args, { cwd, env }) {
    this.term = new Terminal({ cols: COLS, rows: ROWS, scrollback: 0, allowProposedApi: true });
    this.waiters = [];
    this.exit = null;
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
    this.spawnedAt = performance.now();
    this.proc = pty.spawn(file, args, { name: 'xterm-256color', cols: COLS, rows: ROWS, cwd, env });
    this.pid = this.proc.pid;
    this.proc.onData((data) => {
      const at = performance.now();
      this.term.write(data, () => this.check(at));
    });
    this.proc.onExit((e) => {
      this.exit = e;
      // Let xterm parse what came before the exit, then fail whoever still waits.
      this.term.write('', () => {
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(`${w.what}: the program exited (${e.exitCode}) first:\n${this.text()}`));
        }
        this.resolveExit(e);
      });
    });
  }

  lines() {
    const buffer = this.term.buffer.active;
    const lines = [];
    for (let y = 0; y < this.term.rows; y++)
      lines.push(buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? '');
    return lines;
  }

  text() {
    return this.lines().join('\n').trimEnd();
  }

  /** `at`: when the chunk that completed this screen arrived. */
  check(at) {
    if (!this.waiters.length) return;
    const lines = this.lines();
    for (const w of [...this.waiters]) {
      if (!w.ready(lines)) continue;
      this.waiters.splice(this.waiters.indexOf(w), 1);
      clearTimeout(w.timer);
      w.resolve(at);
    }
  }

  /** Resolves with the arrival time of the output that made `ready(lines)` true. */
  waitFor(ready, timeoutMs, what) {
    if (ready(this.lines())) return Promise.resolve(performance.now());
    if (this.exit) return Promise.reject(new Error(`${what}: the program has exited:\n${this.text()}`));
    return new Promise((resolve, reject) => {
      const w = { ready, resolve, reject, what };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`${what}: not on screen within ${timeoutMs} ms:\n${this.text()}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  write(keys) {
    this.proc.write(keys);
  }

  /** Types `keys` (the program's quit key), then kills whatever is left of its tree. */
  async close(keys, graceMs = 5000) {
    if (!this.exit && keys) {
      this.write(keys);
      await Promise.race([this.exited, sleep(graceMs)]);
    }
    if (!this.exit) {
      for (const pid of processTree(this.pid).reverse()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await Promise.race([this.exited, sleep(2000)]);
    }
    this.term.dispose();
  }
}

// ---------------------------------------------------------------------------------------- workspaces

function specText(i) {
  const id = `bench-${String(i).padStart(5, '0')}`;
  return {
    id,
    text: [
      '---',
      `id: ${id}`,
      `title: Benchmark task ${i} with a title long enough to be cut on the board`,
      `priority: ${i % 5}`,
      'tests: [bench_tui_holds]',
      'stop: when the benchmark is done',
      '---',
      `# Benchmark task ${i}`,
      '',
      `Task ${i} of the TUI benchmark: a paragraph of context, a list of steps and a stop condition.`,
      '',
      `- step one for ${id}`,
      `- step two for ${id}`,
      '',
    ].join('\n'),
  };
}

/** A workspace of `count` tasks: the first running on `local`, the rest done, in review, failed or pending. */
export function makeWorkspace(dir, count) {
  const root = path.join(dir, `ws-${count}`);
  mkdirSync(root);
  const configText = `repos: {app: {path: ${path.join(dir, 'app')}}}\n`;
  writeFileSync(path.join(root, 'nightshift.config.yaml'), configText);
  const paths = workspacePaths(root);
  const config = parseConfig(configText, paths.configFile);
  const t0 = Date.now() - count * 60_000 - 120_000;
  // Queued before the first start, so every time on the board is over a minute old: the screen of a
  // board that nothing changes (a time under a minute ticks each second, docs/tui.md).
  const store = new QueueStore(paths, { ...systemClock, now: () => t0 - 60_000 });
  store.ensureLayout();
  let running = null;
  for (let i = 0; i < count; i++) {
    const { id, text } = specText(i);
    store.enqueue(parseSpec(Buffer.from(text), { file: `${id}.md`, config }));
    const kind = i === 0 ? 'running' : (['done', 'done', 'done', 'review', 'failed'][i % 10] ?? 'pending');
    if (kind === 'pending') continue;
    const at = t0 + i * 60_000;
    const provider = ['claude', 'codex', 'glm'][i % 3];
    store.transition(id, (t) => enterRunning(t, { now: at, provider, host: 'local' }));
    if (kind === 'running') {
      running = id;
    } else if (kind === 'failed') {
      store.transition(id, (t) =>
        enterFailed(t, {
          now: at + 30_000,
          code: 'exit-nonzero',
          attribution: 'provider',
          reason: 'exited 1',
        }),
      );
    } else {
      store.transition(id, (t) => enterReview(t, { now: at + 30_000, exitCode: 0 }));
      if (kind === 'done')
        store.transition(id, (t) =>
          enterDone({ ...t, review: APPROVED }, { now: at + 50_000, sha: 'b'.repeat(40) }),
        );
    }
  }
  return { root, running, count };
}

// ---------------------------------------------------------------------------------------- programs

const TMUX_SOCKET = `ns-bench-tui-${process.pid}`;
/** Where the TUI attaches: <the local host's workdir>/tmux/<socket> (docs/tui.md); set by streaming(). */
let tmuxSocketPath = null;

function tmux(...args) {
  const socket = tmuxSocketPath ? ['-S', tmuxSocketPath] : ['-L', TMUX_SOCKET];
  return execFileSync('tmux', [...socket, ...args], { encoding: 'utf8', stdio: 'pipe' });
}

/** Stops the bench's tmux server and removes its socket file (tmux 3.3 leaves it behind). */
function killTmux() {
  try {
    tmux('kill-server');
  } catch {
    /* no server left */
  }
  const dir = process.env['TMUX_TMPDIR'] || '/tmp';
  rmSync(path.join(dir, `tmux-${process.getuid?.() ?? 0}`, TMUX_SOCKET), { force: true });
}

/** The environment the TUI runs in: nothing of ours leaks in, tmux on the bench's own socket. */
function nightshiftEnv(extra = {}) {
  const env = { ...process.env, TERM: 'xterm-256color', NIGHTSHIFT_TMUX_SOCKET: TMUX_SOCKET, ...extra };
  for (const key of ['TMUX', 'NIGHTSHIFT_WORKSPACE', 'NODE_ENV']) delete env[key];
  if (!extra['NIGHTSHIFT_TUI_LOG']) delete env['NIGHTSHIFT_TUI_LOG'];
  if (!extra['NIGHTSHIFT_TUI_FRAMES']) delete env['NIGHTSHIFT_TUI_FRAMES'];
  if (process.env['BENCH_TUI_NODE_ENV']) env['NODE_ENV'] = process.env['BENCH_TUI_NODE_ENV'];
  return env;
}

/** The whole first frame: header, the board with every task, the events pane. */
const nightshiftReady = (tasks) => (lines) =>
  lines[0]?.startsWith('nightshift ') &&
  lines.some((l) => l.includes(`[1] Board · ${tasks} tasks`)) &&
  lines.some((l) => l.includes('[4] Events'));

const ccmanagerReady = (lines) => lines.some((l) => l.trimStart().startsWith('Controls:'));

/** ccmanager's binary, installed with npm outside the repo when missing; or why it is not there. */
function ccmanager(log) {
  const platformPackage = `@kodaikabasawa/ccmanager-${process.platform}-${process.arch}`;
  const bin = path.join(CC_PREFIX, 'node_modules', platformPackage, 'bin', 'ccmanager');
  if (!existsSync(bin)) {
    log(`tui: installing ccmanager and ${platformPackage} into ${CC_PREFIX}`);
    const res = spawnSync(
      'npm',
      ['install', '--prefix', CC_PREFIX, '--no-audit', '--no-fund', 'ccmanager', platformPackage],
      { encoding: 'utf8', timeout: 300_000 },
    );
    if (!existsSync(bin)) {
      const why = (res.error?.message ?? res.stderr ?? '').trim().split('\n').slice(-3).join(' ');
      return { error: `could not install ccmanager: ${why || `npm exited ${res.status}`}` };
    }
  }
  let version = '?';
  try {
    const pkg = path.join(CC_PREFIX, 'node_modules', platformPackage, 'package.json');
    version = JSON.parse(readFileSync(pkg, 'utf8')).version;
  } catch {
    /* unknown version */
  }
  return { bin, version };
}

/** One cold start: spawn, first full frame, RSS and CPU time then, quit. */
async function firstFrame({ file, args, cwd, env, ready, quit, what }) {
  const screen = new Screen(file, args, { cwd, env });
  try {
    const at = await screen.waitFor(ready, FIRST_FRAME_TIMEOUT_MS, what);
    const main = procStat(screen.pid);
    const treeMiB = processTree(screen.pid).reduce((sum, pid) => sum + (procStat(pid).rssMiB || 0), 0);
    return { ms: at - screen.spawnedAt, rssMiB: main.rssMiB, treeMiB, cpuMs: main.cpuMs };
  } finally {
    await screen.close(quit);
  }
}

/** Medians of cold starts (and the best time). */
function summarize(results) {
  const of = (key) => median(results.map((r) => r[key]));
  return {
    ms: of('ms'),
    min: Math.min(...results.map((r) => r.ms)),
    rssMiB: of('rssMiB'),
    treeMiB: of('treeMiB'),
    cpuMs: of('cpuMs'),
  };
}

// ---------------------------------------------------------------------------------------- streaming

const lastSeq = (lines) => {
  let max = -1;
  for (const l of lines) for (const m of l.matchAll(/stream (\d{8})/g)) max = Math.max(max, Number(m[1]));
  return max;
};

/** Where a CPU profile spent its samples, by package (self time), the top `n`. */
function profileSummary(file, n = 12) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(prof.nodes.map((node) => [node.id, node]));
  const byKey = new Map();
  let total = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    const url = nodes.get(id).callFrame.url;
    const name = nodes.get(id).callFrame.functionName;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    const key = pkg ?? (url.includes('/dist/') ? `nightshift ${url.split('/dist/')[1]}` : url || `(${name})`);
    byKey.set(key, (byKey.get(key) ?? 0) + dt);
    total += dt;
  });
  const busy = total - (byKey.get('((idle))') ?? 0);
  return [...byKey]
    .filter(([key]) => key !== '((idle))')
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, us]) => `${((us / busy) * 100).toFixed(1).padStart(5)}%  ${key}`)
    .join('\n');
}

async function streaming(ws, dir, log) {
  const session = sessionName(workspaceId(workspacePaths(ws.root)), ws.running);
  tmuxSocketPath = path.join(ws.root, 'hosts', 'local', 'tmux', TMUX_SOCKET);
  mkdirSync(path.dirname(tmuxSocketPath), { recursive: true });
  tmux(
    '-f',
    '/dev/null',
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    '200',
    '-y',
    '50',
    '--',
    process.execPath,
    STREAM,
    String(STREAM_RATE),
  );
  const logFile = path.join(dir, 'frames.log');
  const profDir = path.join(dir, 'profile');
  const nodeArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const screen = new Screen(process.execPath, [...nodeArgs, CLI, '-w', ws.root, '--no-tmux'], {
    cwd: ws.root,
    env: nightshiftEnv({ NIGHTSHIFT_TUI_LOG: logFile, NIGHTSHIFT_TUI_FRAMES: '1' }),
  });
  let window;
  try {
    await screen.waitFor(nightshiftReady(ws.count), FIRST_FRAME_TIMEOUT_MS, 'the first frame');
    if (!screen.lines().some((l) => l.includes(`[2] ${ws.running}`)))
      throw new Error(`the board did not select the running task ${ws.running}:\n${screen.text()}`);
    screen.write('2'); // focus the detail pane…
    await sleep(300);
    screen.write(']'); // …and move from Spec to Executor
    await screen.waitFor(
      (lines) => lines.some((l) => l.includes(`tmux ${session} on local (read-only)`)) && lastSeq(lines) >= 0,
      15_000,
      'the Executor tab streaming',
    );
    await sleep(2000); // settle: the attach, the first full redraw of tmux
    const start = {
      wall: Date.now(),
      t: performance.now(),
      seq: lastSeq(screen.lines()),
      ...procStat(screen.pid),
    };
    const samples = [];
    for (let left = STREAM_SECONDS * 1000; left > 0; left -= 5000) {
      await sleep(Math.min(5000, left));
      samples.push(procStat(screen.pid).rssMiB);
    }
    log(`tui: RSS every 5 s while streaming (MiB): ${samples.map(Math.round).join(' ')}`);
    const end = {
      wall: Date.now(),
      t: performance.now(),
      seq: lastSeq(screen.lines()),
      ...procStat(screen.pid),
    };
    window = { start, end, samples };
  } finally {
    await screen.close('q');
    killTmux();
  }
  const frames = [];
  const updates = [];
  const updatesCpu = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    const m = /^(\S+) (frame|update) ([\d.]+) ms(?: cpu ([\d.]+) ms)?$/.exec(line);
    if (!m) continue;
    const at = Date.parse(m[1]);
    if (at < window.start.wall || at > window.end.wall) continue;
    if (m[2] === 'frame') frames.push(Number(m[3]));
    else {
      updates.push(Number(m[3]));
      updatesCpu.push(Number(m[4]));
    }
  }
  if (!updates.length || !frames.length)
    throw new Error(`no frames logged in ${logFile}: does this build know NIGHTSHIFT_TUI_FRAMES?`);
  const seconds = (window.end.t - window.start.t) / 1000;
  let profile = null;
  if (PROFILE) {
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (file) {
      profile = profileSummary(path.join(profDir, file));
      // Kept for a closer look (the bench's own directory is removed at the end).
      const kept = path.join(os.tmpdir(), `ns-bench-tui-${Date.now()}.cpuprofile`);
      copyFileSync(path.join(profDir, file), kept);
      profile += `\n(the profile: ${kept})`;
    }
  }
  if (profile) log(`tui: where the TUI's CPU went (whole run, self time by package):\n${profile}`);
  return {
    frames,
    updates,
    updatesCpu,
    seconds,
    linesPerSecond: (window.end.seq - window.start.seq) / seconds,
    cpuPercent: ((window.end.cpuMs - window.start.cpuMs) / (seconds * 1000)) * 100,
    rssMiB: window.end.rssMiB,
    rssGrowthMiBPerMin: slope(window.samples) * 12, // samples are 5 s apart
    rssSamples: window.samples,
  };
}

// ---------------------------------------------------------------------------------------- run

export async function run(log = (line) => process.stderr.write(`${line}\n`)) {
  const rows = [];
  const row = (metric, value, unit, goal = null, note = undefined) =>
    rows.push({ bench: 'tui', metric, value, unit, goal, ...(note ? { note } : {}) });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-bench-tui-'));
  const load = [os.loadavg()[0]];
  try {
    const empty = makeWorkspace(dir, 0);
    log(`tui: filling a workspace with ${TASKS} tasks`);
    const big = makeWorkspace(dir, TASKS);
    const repo = path.join(dir, 'repo');
    mkdirSync(repo);
    const git = (...args) =>
      execFileSync('git', ['-C', repo, '-c', 'user.name=bench', '-c', 'user.email=b@example.com', ...args]);
    git('init', '-q');
    git('commit', '-q', '--allow-empty', '-m', 'initial');
    const ccHome = path.join(dir, 'cc-home');
    mkdirSync(ccHome);

    // The TUI keeps V8's code cache of its bundle in $XDG_CACHE_HOME/nightshift: the bench's own here.
    // The warm-up start of each series writes it, as a person's first start does.
    const cacheHome = path.join(dir, 'cache');
    // Each start logs whether it used the code cache (`code cache used|none|rejected|off`).
    const startLog = path.join(dir, 'starts.log');
    const cacheStates = () =>
      existsSync(startLog)
        ? [...readFileSync(startLog, 'utf8').matchAll(/code cache (\w+)/g)].map((m) => m[1])
        : [];
    const nightshift = (ws) => () =>
      firstFrame({
        file: process.execPath,
        args: [CLI, '-w', ws.root, '--no-tmux'],
        cwd: ws.root,
        env: nightshiftEnv({ XDG_CACHE_HOME: cacheHome, NIGHTSHIFT_TUI_LOG: startLog }),
        ready: nightshiftReady(ws.count),
        quit: 'q',
        what: `nightshift's first frame (${ws.count} tasks)`,
      });
    const cc = PEERS ? ccmanager(log) : { error: 'skipped (BENCH_TUI_PEERS=0)' };
    const ccStart = () =>
      firstFrame({
        file: cc.bin,
        args: [],
        cwd: repo,
        // Its own HOME: ccmanager writes its config and state under it.
        env: {
          ...nightshiftEnv(),
          HOME: ccHome,
          XDG_CONFIG_HOME: path.join(ccHome, '.config'),
          XDG_STATE_HOME: path.join(ccHome, '.local', 'state'),
        },
        ready: ccmanagerReady,
        quit: 'q',
        what: "ccmanager's first frame",
      });

    // 1 and 3: interleaved cold starts, after one warm-up of each (file cache).
    log(`tui: first frames, ${RUNS} runs each (nightshift, ccmanager interleaved)`);
    await nightshift(empty)();
    let ccError = cc.error ?? null;
    if (!ccError) {
      try {
        await ccStart();
      } catch (err) {
        ccError = `ccmanager did not start: ${err.message.split('\n')[0]}`;
      }
    }
    const nsRuns = [];
    const ccRuns = [];
    for (let i = 0; i < RUNS; i++) {
      nsRuns.push(await nightshift(empty)());
      if (!ccError) {
        try {
          ccRuns.push(await ccStart());
        } catch (err) {
          ccError = `ccmanager failed in run ${i + 1}: ${err.message.split('\n')[0]}`;
        }
      }
      load.push(os.loadavg()[0]);
    }
    const ns = summarize(nsRuns);
    row(`first frame, empty workspace (median of ${RUNS})`, round(ns.ms), 'ms', `<= ${FIRST_FRAME_GOAL_MS}`);
    row('first frame, empty workspace (best run)', round(ns.min), 'ms');
    row('first frame, empty workspace: CPU time', round(ns.cpuMs), 'ms');

    log(`tui: first frames with ${TASKS} tasks, ${RUNS} runs`);
    await nightshift(big)();
    const bigRuns = [];
    for (let i = 0; i < RUNS; i++) bigRuns.push(await nightshift(big)());
    const nsBig = summarize(bigRuns);
    load.push(os.loadavg()[0]);
    row(
      `first frame, ${TASKS} tasks (median of ${RUNS})`,
      round(nsBig.ms),
      'ms',
      `<= ${FIRST_FRAME_GOAL_MS}`,
    );
    row(`first frame, ${TASKS} tasks (best run)`, round(nsBig.min), 'ms');
    row(`first frame, ${TASKS} tasks: CPU time`, round(nsBig.cpuMs), 'ms');
    row(`RSS after first frame, ${TASKS} tasks`, round(nsBig.rssMiB, 1), 'MiB');

    const warmStates = cacheStates();
    const used = warmStates.filter((c) => c === 'used').length;
    log(`tui: code cache of the starts so far: ${warmStates.join(' ')}`);
    row('starts so far that used the code cache (the rest: warm-ups)', `${used} of ${warmStates.length}`, '');

    // The first start after an install or upgrade: no code cache yet.
    log(`tui: first frames with ${TASKS} tasks and no code cache, ${RUNS} runs`);
    const coldRuns = [];
    for (let i = 0; i < RUNS; i++) {
      rmSync(cacheHome, { recursive: true, force: true });
      coldRuns.push(await nightshift(big)());
    }
    const nsCold = summarize(coldRuns);
    load.push(os.loadavg()[0]);
    row(
      `first frame, ${TASKS} tasks, no code cache (first start; median of ${RUNS})`,
      round(nsCold.ms),
      'ms',
    );
    row(`first frame, ${TASKS} tasks, no code cache: CPU time`, round(nsCold.cpuMs), 'ms');

    // 2. Frames while the executor streams.
    log(`tui: ${STREAM_SECONDS} s on the Executor tab of a task printing ${STREAM_RATE} lines/s`);
    const s = await streaming(big, dir, log);
    load.push(os.loadavg()[0]);
    const on = `${TASKS} tasks, Executor tab streaming ${STREAM_RATE} lines/s`;
    const pct = (values, p) => round(percentile(values, p), 1);
    row(`frame p50 (whole update: render, commit, layout, output), ${on}`, pct(s.updates, 50), 'ms');
    row('frame p95 (whole update)', pct(s.updates, 95), 'ms', `<= ${FRAME_GOAL_MS}`);
    row('frame max (whole update)', round(Math.max(...s.updates), 1), 'ms');
    row('frame CPU time p50 (whole update)', pct(s.updatesCpu, 50), 'ms');
    row('frame CPU time p95 (whole update)', pct(s.updatesCpu, 95), 'ms', `<= ${FRAME_GOAL_MS}`);
    row("of which Ink's output render p50 (the slow-frame figure)", pct(s.frames, 50), 'ms');
    row("of which Ink's output render p95", pct(s.frames, 95), 'ms');
    row('updates per second', round(s.updates.length / s.seconds, 1), '/s');
    row('stream lines per second shown in the pane', round(s.linesPerSecond), 'lines/s');
    row('TUI CPU use while streaming (of one core)', round(s.cpuPercent), '%');
    row('TUI RSS at the end of the streaming window', round(s.rssMiB, 1), 'MiB');
    row(
      `TUI RSS growth while streaming (trend over ${STREAM_SECONDS} s)`,
      round(s.rssGrowthMiBPerMin, 1),
      'MiB/min',
    );

    // 3. Side by side.
    const nsLabel = 'nightshift --no-tmux (empty workspace)';
    row(`${nsLabel}: first frame (median of ${RUNS})`, round(ns.ms), 'ms');
    row(`${nsLabel}: RSS after first frame`, round(ns.rssMiB, 1), 'MiB');
    const ccLabel = ccError ? 'ccmanager' : `ccmanager ${cc.version} (binary, git repo)`;
    if (ccError) {
      row(`${ccLabel}: first frame`, null, 'ms', null, ccError);
      row(`${ccLabel}: RSS after first frame`, null, 'MiB', null, ccError);
    } else {
      const c = summarize(ccRuns);
      row(`${ccLabel}: first frame (median of ${RUNS})`, round(c.ms), 'ms');
      row(`${ccLabel}: first frame: CPU time`, round(c.cpuMs), 'ms');
      row(`${ccLabel}: RSS after first frame`, round(c.rssMiB, 1), 'MiB');
      if (Math.abs(c.treeMiB - c.rssMiB) > 1)
        row(`${ccLabel}: RSS of its process tree`, round(c.treeMiB, 1), 'MiB');
    }
    row('load average (1 min) during the run: min', round(Math.min(...load), 2), '');
    row('load average (1 min) during the run: max', round(Math.max(...load), 2), '');
  } finally {
    killTmux();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) console.log(JSON.stringify(r));
}
