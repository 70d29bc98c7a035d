// TUI benchmarks (issues 6, 15, 17), on the compiled code in dist/ (`npm run build` first; `npm run bench`
// does). What a person sees, measured from outside the process, beside a peer in the same run:
//   1. First frame as seen: a tmux server of the bench's own (`-L ns-bench-tui-user-<pid>`, 200×50, no
//      status line) runs `node bin/nightshift.js -w <ws> --no-tmux` with `tmux new-session`; the time from
//      that spawn to the `capture-pane` (polled every 10 ms) that shows the whole first frame (header,
//      `[1] Board · N tasks` with every task, the events pane); the process's RSS and CPU time then, from
//      /proc. A board of BOARD_TASKS (50) with the bundle's code cache (written by a warm-up start, in the
//      bench's own XDG_CACHE_HOME), of TASKS (1,000), and of 50 with no code cache (a first start).
//   2. Idle: one start left alone for IDLE_SECONDS (20) after 5 s to settle, nothing changing: CPU use
//      (% of one core, utime + stime of its process tree from /proc/<pid>/stat), how often the captured
//      screen changed, and every byte it wrote to the terminal (`tmux pipe-pane`).
//   3. ccmanager (bench/tui/ccmanager.js: an Ink TUI, installed on demand outside the repo), run the same
//      way in the same server: its first frame (`Controls:`) interleaved with nightshift's runs of (1), its
//      RSS, and (2). Its rows are null with a note saying why when it cannot be installed or started.
//   4. Frames while an executor streams (in a pseudo-terminal, node-pty + @xterm/headless): TASKS tasks,
//      one `running` in a real tmux session whose command prints 2,000 lines/s, the TUI on its Executor
//      tab; the TUI logs every frame (NIGHTSHIFT_TUI_LOG + NIGHTSHIFT_TUI_FRAMES=1, src/tui/app/run.tsx):
//      Ink's render of the output, and each whole update. p50/p95/max, CPU use, RSS.
// Env: BENCH_TUI_RUNS (5), BENCH_TUI_BOARD_TASKS (50), BENCH_TUI_TASKS (1000), BENCH_TUI_IDLE_SECONDS (20),
//      BENCH_TUI_STREAM_RATE (2000 lines/s), BENCH_TUI_STREAM_SECONDS (60; 0 skips part 4),
//      BENCH_TUI_NODE_ENV (unset: what `nightshift` gets by default), BENCH_TUI_CLI (another build's
//      bin/nightshift.js, to compare builds), BENCH_TUI_PEERS=0 (skip ccmanager),
//      BENCH_TUI_CCMANAGER_PREFIX (~/.cache/nightshift-bench/ccmanager), BENCH_TUI_PROFILE=1 (CPU-profile
//      the TUI of part 4, log where its time went, keep the profile in the temp directory).
// `export async function run()` returns rows {bench, metric, value, unit, goal} for bench/run.js;
// `node bench/tui.js` runs it alone and prints the rows.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { workspacePaths } from '../dist/config/paths.js';
import { workspaceId } from '../dist/config/workspace-identity.js';
import { sessionName } from '../dist/hosts/session-names.js';
import { ccmanagerPeers, ccmanagerReady } from './tui/ccmanager.js';
import { Screen } from './tui/pty-screen.js';
import { makeWorkspace } from './tui/workspace.js';
import { idleCpu, procStat, startInTmux, stopInTmux, TmuxServer } from './tui/outside.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = process.env['BENCH_TUI_CLI'] ?? path.join(ROOT, 'bin', 'nightshift.js');
const STREAM = path.join(ROOT, 'bench', 'fixtures', 'tui-stream.js');
const RUNS = Number(process.env['BENCH_TUI_RUNS'] ?? 5);
const TASKS = Number(process.env['BENCH_TUI_TASKS'] ?? 1000);
const BOARD_TASKS = Number(process.env['BENCH_TUI_BOARD_TASKS'] ?? 50);
const IDLE_SECONDS = Number(process.env['BENCH_TUI_IDLE_SECONDS'] ?? 20);
const STREAM_RATE = Number(process.env['BENCH_TUI_STREAM_RATE'] ?? 2000);
const STREAM_SECONDS = Number(process.env['BENCH_TUI_STREAM_SECONDS'] ?? 60);
const PEERS = process.env['BENCH_TUI_PEERS'] !== '0';
const PROFILE = process.env['BENCH_TUI_PROFILE'] === '1';
const COLS = 200;
const ROWS = 50;
/** Idle, nothing changing: the TUI redraws only on change (docs/tui.md). */
const IDLE_GOAL_PERCENT = 0.5;
/**
 * First frame as seen in tmux: within 1.2× of the fastest ccmanager in the same run (its Bun binary: a
 * far smaller screen, no workspace to read), so the goal moves with the machine's load as the peer does;
 * 400 ms (issue 6's goal) when no peer ran.
 */
const FIRST_FRAME_PEER_FACTOR = 1.2;
const FIRST_FRAME_GOAL_MS = 400;
/**
 * The CPU time of the first frame (50 tasks, code cache), which other load on the machine inflates far
 * less than the wall time: Node's own start (~50 ms), the CLI (~40 ms) and the TUI (~130 ms) at load 25 in
 * December 2026, with room for noise. A regression past it shows in the breakdown rows.
 */
const FIRST_FRAME_CPU_GOAL_MS = 250;
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
    cols: COLS,
    rows: ROWS,
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
      (lines) =>
        lines.some((l) => l.includes(`tmux ns-${ws.running} on local (read-only)`)) && lastSeq(lines) >= 0,
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

// ---------------------------------------------------------------------------------------- as a person sees it

/**
 * Where the CPU of the first frames went, as the TUI logs it (src/cli/commands/tui.ts and
 * src/tui/app/run.tsx with NIGHTSHIFT_TUI_LOG): medians over the starts in `file`, in ms; null without any.
 */
function startBreakdown(file) {
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8');
  const loads = [...text.matchAll(/code cache (\w+) \(.*?CPU (\d+) ms before, (\d+) ms loading\)/g)];
  const frames = [
    ...text.matchAll(/first frame at \d+ ms .*?, CPU (\d+) ms \(.*?CPU (\d+) ms; .*?CPU (\d+) ms/g),
  ];
  if (!loads.length || !frames.length) return null;
  const of = (matches, i) => median(matches.map((m) => Number(m[i])));
  return {
    cache: [...new Set(loads.map((m) => m[1]))].join('/'),
    before: of(loads, 2),
    loading: of(loads, 3),
    read: of(frames, 2),
    render: of(frames, 3),
    total: of(frames, 1),
  };
}

/**
 * Parts 1 to 3: nightshift and its peers in one tmux server of the bench's own, started the way a person
 * starts them (`tmux new-session` running the program), timed to the capture that shows their first
 * frame; their RSS then; then each left alone for IDLE_SECONDS: CPU use, screen changes, bytes written.
 */
async function asSeen({ dir, ws50, big, cacheHome, log, row, load }) {
  // The server's environment is the programs' (tmux copies the first client's): nothing of ours leaks in.
  const server = new TmuxServer(`ns-bench-tui-user-${process.pid}`, nightshiftEnv());
  server.start(COLS, ROWS);
  const repo = path.join(dir, 'repo');
  mkdirSync(repo);
  const git = (...args) =>
    execFileSync('git', ['-C', repo, '-c', 'user.name=bench', '-c', 'user.email=b@example.com', ...args]);
  git('init', '-q');
  git('commit', '-q', '--allow-empty', '-m', 'initial');
  const ccHome = path.join(dir, 'cc-home');
  mkdirSync(ccHome);

  // Each series logs its starts (NIGHTSHIFT_TUI_LOG): the code cache's use, and where the CPU went.
  const nightshift = (ws, startLog = path.join(dir, 'warm-up.log')) => ({
    argv: [process.execPath, CLI, '-w', ws.root, '--no-tmux'],
    cwd: ws.root,
    env: { XDG_CACHE_HOME: cacheHome, NIGHTSHIFT_TUI_LOG: startLog },
    ready: nightshiftReady(ws.count),
    what: `nightshift's first frame (${ws.count} tasks)`,
    quit: 'q',
  });
  // Each in a one-commit git repo, with its own HOME (ccmanager writes its config and state under it).
  const peers = (
    PEERS ? ccmanagerPeers(log) : [{ label: 'ccmanager', error: 'skipped (BENCH_TUI_PEERS=0)' }]
  ).map((p) => ({
    ...p,
    runs: [],
    idle: null,
    program: {
      argv: p.argv,
      cwd: repo,
      env: {
        HOME: ccHome,
        XDG_CONFIG_HOME: path.join(ccHome, '.config'),
        XDG_STATE_HOME: path.join(ccHome, '.local', 'state'),
      },
      ready: ccmanagerReady,
      what: `${p.label}: its first frame`,
      quit: 'Q',
    },
  }));
  for (const p of peers) if (p.error) log(`tui: ${p.label}: ${p.error}; its rows are left empty`);
  const once = async (program, after = async () => null) => {
    const started = await startInTmux(server, program);
    try {
      return { ...started, idle: await after(started) };
    } finally {
      await stopInTmux(server, started, program.quit);
    }
  };
  const peerOnce = async (p, after) => {
    if (p.error) return null;
    try {
      return await once(p.program, after);
    } catch (err) {
      p.error = `it failed: ${err.message.split('\n')[0]}`;
      log(`tui: ${p.label}: ${p.error}`);
      return null;
    }
  };

  try {
    // 1. First frames, interleaved, after a warm-up of each (the file cache; nightshift's code cache).
    log(
      `tui: first frames as seen in tmux, ${RUNS} runs each (nightshift, ${ws50.count} tasks; peers interleaved)`,
    );
    await once(nightshift(ws50));
    for (const p of peers) await peerOnce(p);
    const ns = [];
    for (let i = 0; i < RUNS; i++) {
      ns.push(await once(nightshift(ws50, path.join(dir, 'starts-board.log'))));
      for (const p of peers) {
        const r = await peerOnce(p);
        if (r) p.runs.push(r);
      }
      load.push(os.loadavg()[0]);
    }
    log(`tui: first frames with ${big.count} tasks, ${RUNS} runs`);
    await once(nightshift(big));
    const nsBig = [];
    for (let i = 0; i < RUNS; i++) nsBig.push(await once(nightshift(big)));
    log(
      `tui: first frames with ${ws50.count} tasks and no code cache (a first start after an install), ${RUNS} runs`,
    );
    const nsCold = [];
    for (let i = 0; i < RUNS; i++) {
      rmSync(cacheHome, { recursive: true, force: true });
      nsCold.push(await once(nightshift(ws50, path.join(dir, 'starts-cold.log'))));
    }
    load.push(os.loadavg()[0]);

    // 2. Idle: nothing changes on the board or in the peers' repo.
    log(`tui: ${IDLE_SECONDS} s idle each, nothing changing`);
    const idle = (name) => (started) =>
      idleCpu(server, started, {
        seconds: IDLE_SECONDS,
        settleMs: 5000,
        outputFile: path.join(dir, `${name}.out`),
      });
    const nsIdle = (await once(nightshift(ws50), idle('nightshift'))).idle;
    load.push(os.loadavg()[0]);
    for (const [i, p] of peers.entries()) {
      p.idle = (await peerOnce(p, idle(`peer-${i}`)))?.idle ?? null;
      load.push(os.loadavg()[0]);
    }

    const med = (runs, key) => median(runs.map((r) => r[key]));
    const nsMs = med(ns, 'ms');
    // The goal: within FIRST_FRAME_PEER_FACTOR of the fastest peer in this run (see the constant).
    const fastest = peers.filter((p) => p.runs.length).map((p) => med(p.runs, 'ms'));
    const goalMs = fastest.length
      ? Math.round(Math.min(...fastest) * FIRST_FRAME_PEER_FACTOR)
      : FIRST_FRAME_GOAL_MS;
    const nsLabel = `nightshift --no-tmux, ${ws50.count} tasks`;
    row(`${nsLabel}: first frame as seen in tmux (median of ${RUNS})`, round(nsMs), 'ms', `<= ${goalMs}`);
    row(`${nsLabel}: first frame, best run`, round(Math.min(...ns.map((r) => r.ms))), 'ms');
    row(`${nsLabel}: CPU time to the first frame`, round(med(ns, 'cpuMs')), 'ms');
    row(`${nsLabel}: RSS after the first frame`, round(med(ns, 'rssMiB'), 1), 'MiB');
    const board = startBreakdown(path.join(dir, 'starts-board.log'));
    if (board) {
      row(
        `${nsLabel}: CPU to the first frame, as the TUI counts it (median)`,
        board.total,
        'ms',
        `<= ${FIRST_FRAME_CPU_GOAL_MS}`,
      );
      row(`… of which Node's start and the CLI, before the TUI loads`, board.before, 'ms');
      row(`… loading the TUI bundle (code cache: ${board.cache})`, board.loading, 'ms');
      row(`… reading the workspace (config, ${ws50.count} tasks, toggles, lock, events)`, board.read, 'ms');
      row(`… the first render, layout and output`, board.render, 'ms');
    }
    row(
      `${nsLabel}: idle CPU over ${IDLE_SECONDS} s (of one core)`,
      round(nsIdle.cpuPercent, 2),
      '%',
      `<= ${IDLE_GOAL_PERCENT}`,
    );
    row(`${nsLabel}: idle, screen changes seen (captured every 0.5 s)`, nsIdle.screenChanges, '');
    row(`${nsLabel}: idle, bytes written to the terminal`, nsIdle.bytesWritten, 'B');
    row(`${nsLabel}: RSS after idling`, round(nsIdle.rssMiB, 1), 'MiB');
    row(
      `nightshift, ${big.count} tasks: first frame as seen in tmux (median of ${RUNS})`,
      round(med(nsBig, 'ms')),
      'ms',
    );
    row(`nightshift, ${big.count} tasks: RSS after the first frame`, round(med(nsBig, 'rssMiB'), 1), 'MiB');
    row(
      `${nsLabel}, no code cache (a first start): first frame (median of ${RUNS})`,
      round(med(nsCold, 'ms')),
      'ms',
    );
    const cold = startBreakdown(path.join(dir, 'starts-cold.log'));
    if (cold)
      row(
        `… its CPU to the first frame (loading the bundle without the cache: ${cold.loading} ms)`,
        cold.total,
        'ms',
      );
    for (const p of peers) {
      if (!p.runs.length) {
        row(`${p.label}: first frame as seen in tmux`, null, 'ms', null, p.error);
        continue;
      }
      const ms = med(p.runs, 'ms');
      row(`${p.label}: first frame as seen in tmux (median of ${p.runs.length})`, round(ms), 'ms');
      row(`${p.label}: CPU time to the first frame`, round(med(p.runs, 'cpuMs')), 'ms');
      row(`${p.label}: RSS after the first frame`, round(med(p.runs, 'rssMiB'), 1), 'MiB');
      row(`nightshift's first frame / ${p.label}'s`, round(nsMs / ms, 2), '×');
      if (p.idle) {
        row(`${p.label}: idle CPU over ${IDLE_SECONDS} s (of one core)`, round(p.idle.cpuPercent, 2), '%');
        row(`${p.label}: idle, screen changes seen`, p.idle.screenChanges, '');
        row(`${p.label}: idle, bytes written to the terminal`, p.idle.bytesWritten, 'B');
      }
    }
  } finally {
    server.kill();
  }
}

// ---------------------------------------------------------------------------------------- run

export async function run(log = (line) => process.stderr.write(`${line}\n`)) {
  const rows = [];
  const row = (metric, value, unit, goal = null, note = undefined) =>
    rows.push({ bench: 'tui', metric, value, unit, goal, ...(note ? { note } : {}) });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-bench-tui-'));
  const load = [os.loadavg()[0]];
  try {
    log(`tui: filling workspaces with ${BOARD_TASKS} and ${TASKS} tasks`);
    const ws50 = makeWorkspace(dir, BOARD_TASKS);
    const big = makeWorkspace(dir, TASKS);
    // The TUI keeps V8's code cache of its bundle in $XDG_CACHE_HOME/nightshift: the bench's own here.
    // The warm-up start of each series writes it, as a person's first start does.
    const cacheHome = path.join(dir, 'cache');
    await asSeen({ dir, ws50, big, cacheHome, log, row, load });

    if (STREAM_SECONDS > 0) {
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
