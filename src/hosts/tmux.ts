/**
 * tmux on a dedicated socket (`tmux -S <workdir>/tmux/nightshift`, the name overridable for tests; see
 * hosts/layout.ts), started with an empty environment (cleanEnvWords), always with exact targets
 * (`-t =name`), session names built from validated ids only (session-names.ts), commands passed as argv words. Every
 * session's pane stays after its command exits (remain-on-exit, set on the session's window by the very
 * tmux command that creates it, so it holds whoever started the server and with whatever config) so the
 * exit status can be read. Nothing is ever typed into a pane: there is no send-keys here.
 */
import { ErrorCode, NightshiftError } from '../core/errors.js';
import type { CommandRunner } from './runner.js';

/**
 * The claude-code architect's session for one kind of work (a review, a plan), on the architect's own
 * socket (layout.ts: architectSocketPath), which is the workspace's own: no workspace id is needed.
 */
export function architectSessionName(purpose: 'review' | 'plan' | 'follow-up' | 'triage'): string {
  return `ns-architect-${purpose}`;
}

/**
 * The tmux server config nightshift writes on each host (the -f file). It applies only when nightshift's
 * command starts the server: on the local host the TUI's `nightshift` session may have started it with
 * the user's own config. So remain-on-exit is not here but per ns- window (newSessionArgs), which also
 * keeps it off the TUI's session on a shared server.
 */
export const TMUX_CONF = [
  'set -g history-limit 5000',
  'set -g exit-empty on',
  // A client's environment never reaches a session: nothing is copied from whoever runs new-session.
  'set -g update-environment ""',
  '',
].join('\n');

/**
 * The variables the executors' tmux server may hold in its global environment: what tmux itself needs,
 * as cleanEnvWords gives it, plus what tmux adds (PWD). A server whose `show-environment -g` names any
 * other was not started by nightshift (a person's `tmux -S`, an older nightshift that passed its whole
 * environment) and may hold secrets that every executor on it could read: launches refuse it (STAGE_SH).
 */
export const SERVER_ENV_ALLOWED = ['HOME', 'LANG', 'LC_ALL', 'PATH', 'PWD', 'SHELL', 'TERM'] as const;

/** An ERE matching a `show-environment -g` line of an allowed variable (set, or removed: `-NAME`). */
export const SERVER_ENV_OK_ERE = `^-?(${SERVER_ENV_ALLOWED.join('|')})(=|$)`;

/**
 * The names in `show-environment -g` output that SERVER_ENV_ALLOWED does not allow, for the error
 * message: only well-formed names are shown (the text comes from a server someone else started), the
 * rest are counted as "?".
 */
export function foreignServerVariables(text: string): string[] {
  const ok = new RegExp(SERVER_ENV_OK_ERE);
  const names: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || ok.test(line)) continue;
    const name = line.replace(/^-/, '').split('=')[0] ?? '';
    names.push(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name) ? name : '?');
  }
  return [...new Set(names)];
}

/** The host facts a clean tmux client needs: nothing else of the caller's environment goes through. */
export interface TmuxEnv {
  path: string;
  home: string;
}

/**
 * `env -i` and the few variables tmux needs. Every tmux command is run this way, so the one that starts
 * the server (new-session) gives it this environment and nothing of the daemon's or the user's.
 */
export function cleanEnvWords(env: TmuxEnv): string[] {
  return ['env', '-i', `PATH=${env.path}`, `HOME=${env.home}`, 'LANG=C.UTF-8'];
}

export interface PaneInfo {
  session: string;
  dead: boolean;
  exitStatus: number | null;
  pid: number | null;
}

/** list-panes' format: one line per pane, parsed by parsePanes. */
export const PANE_FORMAT = '#{session_name}\t#{pane_dead}\t#{pane_dead_status}\t#{pane_pid}';

/** What tmux says when no server runs on the socket: no server means no sessions. */
export const NO_SERVER = /no server running|error connecting|No such file/i;

export function parsePanes(text: string): PaneInfo[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [session = '', dead, status, pid] = line.split('\t');
      return {
        session,
        dead: dead === '1',
        exitStatus: status ? Number(status) : null,
        pid: pid ? Number(pid) : null,
      };
    });
}

/**
 * new-session's arguments after base(): detached, `name`, in `cwd`, running `argv` (see tmuxWord), then —
 * chained in the same tmux command (the lone ";" word) — remain-on-exit on the new window. The server runs
 * a command's chain in one go before it handles any child's exit, so even a command that exits at once
 * leaves its pane, and its exit status, behind.
 */
export function newSessionArgs(name: string, cwd: string, argv: readonly string[]): string[] {
  return [
    'new-session',
    '-d',
    '-s',
    name,
    '-c',
    tmuxWord(cwd),
    '-x',
    '200',
    '-y',
    '50',
    '--',
    ...argv.map(tmuxWord),
    ';',
    'set-option',
    '-w',
    '-t',
    `=${name}:`,
    'remain-on-exit',
    'on',
  ];
}

/**
 * tmux splits its argv into commands at every word that ends in ";" (dropping the ";"), even after
 * `--`: `new-session -- sh x ';' run-shell cmd` runs `cmd`. A word that ends in `\;` keeps a literal
 * ";", so every such word is passed that way.
 */
export function tmuxWord(word: string): string {
  return word.endsWith(';') ? `${word.slice(0, -1)}\\;` : word;
}

export class Tmux {
  constructor(
    private readonly runner: CommandRunner,
    /** The socket's path on the host (executorSocketPath); null until the host is prepared. */
    private readonly socketPath: string | null,
    /** Path of the server config file on the host. */
    private readonly confFile: string,
    private readonly env: TmuxEnv = { path: '/usr/bin:/bin', home: '/' },
  ) {}

  /** The socket's path; throws before the host is prepared. */
  get socket(): string {
    if (this.socketPath === null)
      throw new NightshiftError(ErrorCode.internal, 'tmux used before the host was prepared', {
        host: this.runner.host,
      });
    return this.socketPath;
  }

  /**
   * `-u`: without a UTF-8 locale (the usual case for a command run over ssh) tmux prints every tab and
   * non-ASCII character of its output as `_`, which garbles list-panes' fields and captured text.
   */
  base(): string[] {
    return [...cleanEnvWords(this.env), 'tmux', '-u', '-S', this.socket, '-f', this.confFile];
  }

  /** The two words a fixed script needs to spell base() (ns_tmux, hosts/sh/tmux-fn.sh): `TS` and `TC`, in that order. */
  shellBase(): [string, string] {
    return [this.socket, this.confFile];
  }

  /** Starts a detached session running `argv` in `cwd`. Fails if the session exists. */
  async newSession(name: string, cwd: string, argv: readonly string[]): Promise<void> {
    await this.runner.run([...this.base(), ...newSessionArgs(name, cwd, argv)], { check: true });
  }

  async has(name: string): Promise<boolean> {
    const r = await this.runner.run([...this.base(), 'has-session', '-t', `=${name}`]);
    return r.exitCode === 0;
  }

  /** Every pane on the socket (one per session for us). No server means no sessions. */
  async list(): Promise<PaneInfo[]> {
    const r = await this.runner.run([...this.base(), 'list-panes', '-a', '-F', PANE_FORMAT]);
    if (r.exitCode !== 0) {
      if (NO_SERVER.test(r.stderr)) return [];
      throw new NightshiftError(ErrorCode.io, `tmux list-panes failed: ${r.stderr.trim()}`, {
        host: this.runner.host,
      });
    }
    return parsePanes(r.stdout);
  }

  /** The last `lines` lines of the pane as text. */
  async capture(name: string, lines = 200): Promise<string> {
    const r = await this.runner.run([
      ...this.base(),
      'capture-pane',
      '-p',
      '-J',
      '-t',
      `=${name}:`,
      '-S',
      `-${lines}`,
    ]);
    return r.exitCode === 0 ? r.stdout : '';
  }

  async kill(name: string): Promise<boolean> {
    const r = await this.runner.run([...this.base(), 'kill-session', '-t', `=${name}`]);
    return r.exitCode === 0;
  }

  /**
   * Waits on a tmux wait-for channel until it is signalled, the server exits, or `timeoutMs` passes.
   * tmux remembers a signal sent while nobody waits, so a signal between two waits is not lost.
   */
  async waitFor(channel: string, timeoutMs: number): Promise<'signalled' | 'timeout' | 'failed'> {
    const r = await this.runner.run([...this.base(), 'wait-for', channel], { timeoutMs });
    if (r.exitCode === 0) return 'signalled';
    return r.timedOut ? 'timeout' : 'failed';
  }

  /** Signals a wait-for channel (wakes every waiter; remembered when none waits). */
  async signal(channel: string): Promise<boolean> {
    const r = await this.runner.run([...this.base(), 'wait-for', '-S', channel]);
    return r.exitCode === 0;
  }

  /** Attach argv (read-only optional) for a person or the TUI's live view. */
  attachArgv(name: string, readOnly: boolean): string[] {
    // No -u here: a person's terminal decides its own encoding.
    return [
      'tmux',
      '-S',
      this.socket,
      '-f',
      this.confFile,
      'attach-session',
      ...(readOnly ? ['-r'] : []),
      '-t',
      `=${name}`,
    ];
  }
}
