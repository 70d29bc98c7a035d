/**
 * Handing the real terminal to another program (tmux attach, a pager) and taking it back. The TUI
 * may not start processes itself, so it pauses its own rendering and calls this; the call blocks
 * until the program exits (a person detaches from tmux or quits the pager).
 */
import { spawnSync } from 'node:child_process';

export interface HandOverResult {
  ok: boolean;
  /** Exit status, or null when the program could not start or died on a signal. */
  code: number | null;
  /** One line for a status bar: what ran and how it ended. */
  message: string;
}

export interface HandOverOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Runs `argv` with this process's stdin, stdout and stderr and waits for it. The environment drops
 * $TMUX so that attaching to a tmux session from inside tmux is allowed (a nested client).
 */
export function handOverTerminal(argv: readonly string[], opts: HandOverOptions = {}): HandOverResult {
  const [file, ...args] = argv;
  if (!file) return { ok: false, code: null, message: 'nothing to run' };
  const { TMUX: _tmux, ...env } = opts.env ?? process.env;
  const result = spawnSync(file, args, {
    stdio: 'inherit',
    env,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `${file} is not installed or not on PATH` : result.error.message;
    return { ok: false, code: null, message: `could not run ${file}: ${why}` };
  }
  if (result.signal) return { ok: false, code: null, message: `${file} ended on ${result.signal}` };
  const status = result.status ?? 0;
  return {
    ok: status === 0,
    code: status,
    message: status === 0 ? `${file} finished` : `${file} exited with ${status}`,
  };
}

/**
 * The argv that shows `file` in the user's $PAGER (default `less -R`). $PAGER is a shell command
 * line by convention (git and man treat it so); the file travels as "$1", never inside the text.
 */
export function pagerArgv(file: string, env: NodeJS.ProcessEnv): string[] {
  const pager = env['PAGER']?.trim() || 'less -R';
  return ['sh', '-c', `${pager} "$1"`, 'sh', file];
}
