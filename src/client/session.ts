/**
 * The tmux session that keeps the TUI and the daemon alive across SSH drops: `nightshift` with no
 * arguments creates or reattaches it; closing the terminal only detaches.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmuxWord } from '../hosts/tmux.js';

export interface SessionWindow {
  name: string;
  argv: string[];
}

/** The argv that runs this very nightshift (same node, same bin), whatever the cwd. */
export function selfArgv(...args: string[]): string[] {
  return [process.execPath, fileURLToPath(new URL('../../bin/nightshift.js', import.meta.url)), ...args];
}

export function tmuxAvailable(): boolean {
  return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
}

function tmux(socket: string, args: string[]) {
  return spawnSync('tmux', ['-L', socket, '-u', ...args], { encoding: 'utf8' });
}

export function sessionExists(socket: string, session: string): boolean {
  return tmux(socket, ['has-session', '-t', `=${session}`]).status === 0;
}

export function windowExists(socket: string, session: string, window: string): boolean {
  const r = tmux(socket, ['list-windows', '-t', `=${session}`, '-F', '#{window_name}']);
  return r.status === 0 && r.stdout.split('\n').includes(window);
}

/**
 * remain-on-exit off on a window of ours, chained after the command that creates it (a lone ";" word):
 * the server may have been started by the daemon or an older nightshift whose config turned it on for
 * every window, and a TUI or daemon that exits should take its window with it.
 */
function noRemain(session: string, window: string): string[] {
  return [';', 'set-option', '-w', '-t', `=${session}:=${window}`, 'remain-on-exit', 'off'];
}

/** Creates the session with its first window, or adds missing windows to an existing one. */
export function ensureSession(
  socket: string,
  session: string,
  cwd: string,
  windows: readonly SessionWindow[],
): void {
  const [first, ...rest] = windows;
  if (!first) return;
  if (!sessionExists(socket, session)) {
    const r = tmux(socket, [
      'new-session',
      '-d',
      '-s',
      session,
      '-n',
      first.name,
      '-c',
      cwd,
      '-x',
      '200',
      '-y',
      '50',
      '--',
      ...first.argv.map(tmuxWord),
      ...noRemain(session, first.name),
    ]);
    if (r.status !== 0) throw new Error(`tmux new-session failed: ${r.stderr.trim()}`);
  }
  for (const w of rest) {
    if (windowExists(socket, session, w.name)) continue;
    const r = tmux(socket, [
      'new-window',
      '-d',
      '-t',
      `=${session}:`,
      '-n',
      w.name,
      '-c',
      cwd,
      '--',
      ...w.argv.map(tmuxWord),
      ...noRemain(session, w.name),
    ]);
    if (r.status !== 0) throw new Error(`tmux new-window failed: ${r.stderr.trim()}`);
  }
}

/** Hands the terminal to `tmux attach` until the user detaches; returns its exit status. */
export function attachSession(socket: string, session: string): number {
  const r = spawnSync('tmux', ['-L', socket, '-u', 'attach-session', '-t', `=${session}`], {
    stdio: 'inherit',
  });
  return r.status ?? 1;
}

/**
 * Inside a tmux the person runs (TMUX is set): opens `window` beside theirs, in their current session on
 * their server, running `argv`, without switching to it. Used for the daemon next to an in-place TUI.
 */
export function openBesideInCurrentTmux(window: string, cwd: string, argv: readonly string[]): void {
  const r = spawnSync(
    'tmux',
    [
      'new-window',
      '-d',
      '-n',
      window,
      '-c',
      cwd,
      '--',
      ...argv.map(tmuxWord),
      ';',
      'set-option',
      '-w',
      '-t',
      `:=${window}`,
      'remain-on-exit',
      'off',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`tmux new-window failed: ${r.stderr.trim()}`);
}
