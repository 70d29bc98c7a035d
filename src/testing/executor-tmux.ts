/** The executors' tmux server in tests: found by its workdir (hosts/layout.ts), not by `-L <name>`. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { executorSocketPath } from '../hosts/layout.js';

/** The executors' socket of a local host whose workspace is `root` (workdir `<root>/hosts/<host>`). */
export function localExecutorSocket(root: string, socket: string, host = 'local'): string {
  return executorSocketPath(path.join(root, 'hosts', host), socket);
}

/** Runs `tmux -S <socketPath> <args>`; returns its status and output. */
export function tmuxAt(socketPath: string, args: readonly string[]): { status: number; stdout: string } {
  const r = spawnSync('tmux', ['-S', socketPath, ...args], { encoding: 'utf8' });
  return { status: r.status ?? 1, stdout: r.stdout ?? '' };
}

/** Kills the server on `-L <socket>` (a TUI's) and on each executor socket path given; none is fine. */
export function killTmuxServers(socket: string | null, socketPaths: readonly string[] = []): void {
  if (socket) spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
  for (const p of socketPaths) spawnSync('tmux', ['-S', p, 'kill-server'], { stdio: 'ignore' });
}
