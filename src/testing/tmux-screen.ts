/**
 * A terminal for end-to-end tests of the TUI: a detached session on a private tmux server, driven
 * with `send-keys` and read with `capture-pane`. Waits poll the screen against a predicate with a
 * deadline (never a fixed sleep) and, when they time out, say what the screen showed last.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { deadlineStretch, waitFor } from './wait.js';

export interface TmuxResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `tmux -L <socket> <args>` (no config file: the defaults, prefix C-b). */
export function tmuxOn(socket: string, args: readonly string[], env?: NodeJS.ProcessEnv): TmuxResult {
  const r = spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], {
    encoding: 'utf8',
    ...(env ? { env } : {}),
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Kills the server on `socket` if one runs, and removes its socket file; never throws. */
export function killServer(socket: string): void {
  const r = tmuxOn(socket, ['display-message', '-p', '#{socket_path}']);
  tmuxOn(socket, ['kill-server']);
  const file = r.stdout.trim();
  if (r.status === 0 && file) rmSync(file, { force: true });
}

/** This process's environment without tmux's own variables, so children do not think they are nested. */
export function envOutsideTmux(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { TMUX: _tmux, TMUX_PANE: _pane, ...env } = process.env;
  return { ...env, ...extra };
}

export class TmuxScreen {
  /** The last screen a wait looked at, for failure messages. */
  last = '';

  constructor(
    readonly socket: string,
    readonly session: string,
  ) {}

  /** Starts the server and its first window `name` running `argv`, cols × rows. */
  static start(opts: {
    socket: string;
    session: string;
    window: string;
    argv: readonly string[];
    env: NodeJS.ProcessEnv;
    cwd: string;
    cols: number;
    rows: number;
  }): TmuxScreen {
    const r = tmuxOn(
      opts.socket,
      [
        'new-session',
        '-d',
        '-s',
        opts.session,
        '-n',
        opts.window,
        '-x',
        String(opts.cols),
        '-y',
        String(opts.rows),
        '-c',
        opts.cwd,
        '--',
        ...opts.argv,
      ],
      opts.env,
    );
    if (r.status !== 0) throw new Error(`tmux new-session failed: ${r.stderr.trim()}`);
    const screen = new TmuxScreen(opts.socket, opts.session);
    // Keep a window whose program ended, so a test can read how it ended.
    screen.tmux(['set-option', '-g', 'remain-on-exit', 'on']);
    return screen;
  }

  tmux(args: readonly string[], env?: NodeJS.ProcessEnv): string {
    const r = tmuxOn(this.socket, args, env);
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${r.stderr.trim()}`);
    return r.stdout;
  }

  target(window: string): string {
    return `=${this.session}:${window}`;
  }

  /** A new window running `argv`; `env` entries are set for it (an empty string sets it empty). */
  newWindow(window: string, argv: readonly string[], cwd: string, env: Record<string, string> = {}): void {
    const vars = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    this.tmux([
      'new-window',
      '-d',
      '-t',
      `=${this.session}:`,
      '-n',
      window,
      '-c',
      cwd,
      ...vars,
      '--',
      ...argv,
    ]);
  }

  killWindow(window: string): void {
    this.tmux(['kill-window', '-t', this.target(window)]);
  }

  /** Keys by tmux name (`Escape`, `Enter`, `Tab`, `C-b`, or a single character). */
  keys(window: string, ...keys: string[]): void {
    this.tmux(['send-keys', '-t', this.target(window), ...keys]);
  }

  /** Literal text, character by character as typed. */
  type(window: string, text: string): void {
    this.tmux(['send-keys', '-t', this.target(window), '-l', text]);
  }

  /** The visible screen of the window's pane, as plain text. */
  capture(window: string): string {
    return this.tmux(['capture-pane', '-p', '-t', this.target(window)]);
  }

  /** `#{pane_dead} #{pane_dead_status}` style queries about the window's pane. */
  paneFormat(window: string, format: string): string {
    return this.tmux(['display-message', '-p', '-t', this.target(window), format]).trim();
  }

  /**
   * Nudges the server to reap its children. A tmux built with libutempter (Debian's is) can miss the
   * SIGCHLD of a pane's program that exits while utempter's helper runs: the program stays a zombie
   * and its pane never reports an exit status (tmux/tmux#311, #4559). Another SIGCHLD makes it look.
   */
  reap(): void {
    const pid = Number(tmuxOn(this.socket, ['display-message', '-p', '#{pid}']).stdout.trim());
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGCHLD');
      } catch {
        /* the server is gone */
      }
    }
  }

  /** Waits for the window's program to end (the pane stays: remain-on-exit); returns its exit status. */
  waitForExit(window: string, timeoutMs = 15_000): Promise<number> {
    return waitFor(
      `the program in window ${window} to end`,
      () => {
        this.reap();
        const [dead, status] = this.paneFormat(window, '#{pane_dead} #{pane_dead_status}').split(' ');
        return dead === '1' && status ? Number(status) : null;
      },
      timeoutMs,
      100,
    );
  }

  /** Polls the screen every `everyMs` until `predicate` holds; returns that screen. */
  async waitForScreen(
    window: string,
    what: string,
    predicate: (screen: string) => boolean,
    timeoutMs = 15_000,
    everyMs = 100,
  ): Promise<string> {
    // Stretched on a busy machine, as waitFor's deadlines are (src/testing/wait.ts).
    const allowedMs = Math.round(timeoutMs * deadlineStretch().factor);
    const deadline = Date.now() + allowedMs;
    for (;;) {
      this.last = this.capture(window);
      if (predicate(this.last)) return this.last;
      if (Date.now() > deadline)
        throw new Error(`timed out after ${allowedMs} ms waiting for ${what}; the screen:\n${this.last}`);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }

  /** Kills the server and everything in it; never throws. */
  kill(): void {
    killServer(this.socket);
  }
}
