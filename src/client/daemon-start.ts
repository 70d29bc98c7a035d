/**
 * Starting the supervisor for a workspace from a client (the TUI's `D`): in a `daemon` window of the
 * tmux session "nightshift" on nightshift's socket when that session exists (so an ssh drop changes
 * nothing and the person can look at it), else as a detached child in its own process group. Either
 * way the daemon outlives the client, and it writes logs/daemon.log itself.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { workspacePaths } from '../config/paths.js';
import { tmuxWord } from '../hosts/tmux.js';

/** The tmux session the TUI and the daemon live in. */
export const NIGHTSHIFT_SESSION = 'nightshift';

/** How processes are started; tests pass a fake and assert the exact argv. */
export interface ProcessStarter {
  /** Runs a short command to completion. */
  run(argv: readonly string[]): { status: number | null; stderr: string };
  /**
   * Starts a long-lived process in its own process group, its output discarded (the daemon writes
   * logs/daemon.log itself and echoes it to stderr).
   */
  detach(argv: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): number | null;
}

export const realStarter: ProcessStarter = {
  run(argv) {
    const [file, ...args] = argv;
    const r = spawnSync(file ?? 'false', args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    return { status: r.error ? null : r.status, stderr: r.error ? r.error.message : (r.stderr ?? '') };
  },
  detach(argv, opts) {
    const [file, ...args] = argv;
    const child = spawn(file ?? 'false', args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: 'ignore',
    });
    child.on('error', () => undefined); // a missing binary is reported by the pid being absent
    child.unref();
    return child.pid ?? null;
  },
};

/** `node <package>/bin/nightshift.js`: the same nightshift as the one running this code. */
export function nightshiftCommand(): string[] {
  return [process.execPath, fileURLToPath(new URL('../../bin/nightshift.js', import.meta.url))];
}

export interface StartDaemonOptions {
  root: string;
  socket: string;
  env: NodeJS.ProcessEnv;
  /** The nightshift command line (default: nightshiftCommand()). */
  command?: readonly string[];
  starter?: ProcessStarter;
}

export interface StartDaemonResult {
  ok: boolean;
  how: 'tmux' | 'detached' | 'failed';
  message: string;
}

export function startDaemon(opts: StartDaemonOptions): StartDaemonResult {
  const starter = opts.starter ?? realStarter;
  const paths = workspacePaths(opts.root);
  const daemonArgv = [...(opts.command ?? nightshiftCommand()), 'daemon', '--workspace', paths.root];
  const tmux = ['tmux', '-L', opts.socket];
  const has = starter.run([...tmux, 'has-session', '-t', `=${NIGHTSHIFT_SESSION}`]);
  if (has.status === 0) {
    const started = starter.run([
      ...tmux,
      'new-window',
      '-d',
      '-t',
      `=${NIGHTSHIFT_SESSION}:`,
      '-n',
      'daemon',
      '-c',
      tmuxWord(paths.root),
      '-e',
      `NIGHTSHIFT_TMUX_SOCKET=${opts.socket}`,
      '--',
      ...daemonArgv.map(tmuxWord),
    ]);
    if (started.status === 0) {
      return {
        ok: true,
        how: 'tmux',
        message: `daemon starting in tmux window ${NIGHTSHIFT_SESSION}:daemon (socket ${opts.socket})`,
      };
    }
    return {
      ok: false,
      how: 'failed',
      message: `tmux new-window failed: ${started.stderr.trim() || 'no reason'}`,
    };
  }
  const pid = starter.detach(daemonArgv, {
    cwd: paths.root,
    env: { ...opts.env, NIGHTSHIFT_TMUX_SOCKET: opts.socket },
  });
  if (pid === null)
    return { ok: false, how: 'failed', message: `could not start ${daemonArgv[0] ?? 'nightshift'}` };
  return { ok: true, how: 'detached', message: `daemon starting as pid ${pid} (its log: logs/daemon.log)` };
}
