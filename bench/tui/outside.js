// A TUI as a person sees it, measured from outside its process (issue 15, issue 17): the program runs in
// a real tmux server of its own (`tmux -L <unique socket>`), the bench reads the screen with
// `capture-pane` and the process's CPU time and RSS from /proc. Nothing here runs inside the program.
//   startInTmux   `tmux new-session` running the program; resolves when `ready(lines)` holds on the
//                 captured screen: the time from the spawn of `tmux new-session` to that capture, the
//                 program's pid (the pane's), its RSS and CPU time then.
//   idleCpu       the program's CPU use (% of one core) over a window in which nothing changes, from
//                 /proc/<pid>/stat, and how many times its screen changed meanwhile (captures compared).
// Not a bench itself: bench/run.js reads only bench/*.js.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** RSS (MiB) and CPU time so far (ms, user + system, all threads) of one process, from /proc. */
export function procStat(pid) {
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

/** The process and its descendants (pids). */
export function processTree(pid) {
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

/** CPU time (ms) of a whole process tree: a program that starts helpers is charged for them. */
export function treeCpuMs(pid) {
  return processTree(pid).reduce((sum, p) => sum + (procStat(p).cpuMs || 0), 0);
}

/** A tmux server of the bench's own, on `-L socket`, with no config file. */
export class TmuxServer {
  /** `env`: the environment the server starts with, and so its programs' (tmux copies it). */
  constructor(socket, env = process.env) {
    this.socket = socket;
    this.env = { ...env };
    delete this.env['TMUX']; // a bench started inside tmux would otherwise talk to that server's session
  }

  tmux(...args) {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: this.env,
    });
  }

  tmuxAsync(...args) {
    return new Promise((resolve, reject) =>
      execFile(
        'tmux',
        ['-L', this.socket, '-f', '/dev/null', ...args],
        { encoding: 'utf8', env: this.env },
        (err, out) => (err ? reject(err) : resolve(out)),
      ),
    );
  }

  /**
   * Starts the server with a session that only waits, so each program's start is timed without the
   * server's own (a person's tmux is already running), and no status line (the screen is the program's).
   */
  start(cols, rows) {
    this.tmux('new-session', '-d', '-s', 'bench-idle', '-x', String(cols), '-y', String(rows), 'sleep 86400');
    this.tmux('set-option', '-g', 'status', 'off');
    this.cols = cols;
    this.rows = rows;
  }

  async capture(session) {
    try {
      return (await this.tmuxAsync('capture-pane', '-p', '-t', `=${session}:`)).split('\n');
    } catch {
      return null; // the session is gone
    }
  }

  kill() {
    try {
      this.tmux('kill-server');
    } catch {
      /* no server left */
    }
    const dir = process.env['TMUX_TMPDIR'] || '/tmp';
    rmSync(path.join(dir, `tmux-${process.getuid?.() ?? 0}`, this.socket), { force: true });
  }
}

let sessions = 0;

/**
 * `tmux new-session` running argv (no shell) in `cwd` with `env`; waits until `ready(lines)` holds on the
 * captured pane, polling every `pollMs`. Resolves with { session, pid, ms, rssMiB, cpuMs } (ms: from the
 * spawn of `tmux new-session` to the capture that showed it; CPU and RSS of the pane's process then).
 */
export async function startInTmux(server, { argv, cwd, env, ready, what, timeoutMs = 30_000, pollMs = 10 }) {
  const session = `bench-${++sessions}`;
  const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const started = performance.now();
  await server.tmuxAsync(
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    String(server.cols),
    '-y',
    String(server.rows),
    '-c',
    cwd,
    ...envArgs,
    '--',
    ...argv,
  );
  const pid = Number(
    (await server.tmuxAsync('display-message', '-p', '-t', `=${session}:`, '#{pane_pid}')).trim(),
  );
  let lines = [];
  for (;;) {
    const captured = await server.capture(session);
    const at = performance.now();
    if (captured === null) throw new Error(`${what}: the program exited first:\n${lines.join('\n')}`);
    lines = captured;
    if (ready(lines)) {
      const stat = procStat(pid);
      return { session, pid, ms: at - started, rssMiB: stat.rssMiB, cpuMs: stat.cpuMs };
    }
    if (at - started > timeoutMs)
      throw new Error(`${what}: not on screen within ${timeoutMs} ms:\n${lines.join('\n').trimEnd()}`);
    await sleep(pollMs);
  }
}

/**
 * CPU use (% of one core, the process tree's) over `seconds` while nothing changes, after `settleMs`;
 * and how many times the captured screen differed from the one before, captured every `captureMs`.
 */
export async function idleCpu(
  server,
  { session, pid },
  { seconds = 20, settleMs = 3000, captureMs = 500, outputFile = null } = {},
) {
  await sleep(settleMs);
  // Every byte the program writes to its terminal in the window, as tmux receives it.
  if (outputFile) server.tmux('pipe-pane', '-O', '-t', `=${session}:`, `cat > '${outputFile}'`);
  const cpu0 = treeCpuMs(pid);
  const t0 = performance.now();
  let last = (await server.capture(session))?.join('\n');
  let changes = 0;
  while (performance.now() - t0 < seconds * 1000) {
    await sleep(captureMs);
    const now = (await server.capture(session))?.join('\n');
    if (now !== last) changes++;
    last = now;
  }
  const ms = performance.now() - t0;
  const cpuPercent = ((treeCpuMs(pid) - cpu0) / ms) * 100;
  const rssMiB = procStat(pid).rssMiB;
  let bytesWritten = null;
  if (outputFile) {
    server.tmux('pipe-pane', '-t', `=${session}:`); // stops the pipe
    await sleep(100);
    bytesWritten = statSync(outputFile).size;
  }
  return { cpuPercent, seconds: ms / 1000, screenChanges: changes, rssMiB, bytesWritten };
}

/** Types `keys` into the session (the program's quit key), then kills what is left of the tree. */
export async function stopInTmux(server, { session, pid }, keys, graceMs = 5000) {
  const tree = processTree(pid);
  if (keys) {
    try {
      server.tmux('send-keys', '-t', `=${session}:`, keys);
    } catch {
      /* already gone */
    }
    const deadline = performance.now() + graceMs;
    while (performance.now() < deadline && (await server.capture(session)) !== null) await sleep(50);
  }
  for (const p of tree.reverse()) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  try {
    server.tmux('kill-session', '-t', `=${session}`);
  } catch {
    /* already gone */
  }
}
