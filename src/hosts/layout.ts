/**
 * Where things live on a worker host, as pure functions: the client (attach) and the daemon (WorkerHost)
 * must agree on them, and the client may not load the runners.
 */
import path from 'node:path';
import type { WorkspacePaths } from '../config/paths.js';
import type { HostConfig } from '../config/schema.js';
import { ErrorCode, NightshiftError } from '../core/errors.js';

/** The workdir: as configured (ssh hosts must name one), else the workspace's own `hosts/<name>`. */
export function defaultWorkdir(name: string, cfg: HostConfig, paths: WorkspacePaths): string {
  return cfg.workdir ?? path.join(paths.root, 'hosts', name);
}

/** The 0700 directory under the workdir that holds the executors' tmux socket. */
export const TMUX_DIR = 'tmux';

/**
 * A socket path's limit (sun_path is 108 bytes on Linux, 104 on the BSDs and macOS, NUL included).
 */
export const SOCKET_PATH_MAX = 103;

const SOCKET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The executors' tmux socket: `<workdir>/tmux/<name>`, in a directory only nightshift's user can enter,
 * never under /tmp/tmux-<uid>/, where every server of the user (the TUI's, which holds the daemon's
 * environment) is reachable by name. `workdir` may start with `~/` (an ssh host's configured workdir):
 * the result then starts with `~/` too (see attachSocketPath).
 */
export function executorSocketPath(workdir: string, name: string): string {
  if (!SOCKET_NAME.test(name)) {
    throw new NightshiftError(ErrorCode.invalidConfig, `not a tmux socket name: ${JSON.stringify(name)}`, {
      hint: 'NIGHTSHIFT_TMUX_SOCKET must be letters, digits, ".", "_" or "-"',
    });
  }
  const socket = path.posix.join(workdir, TMUX_DIR, name);
  if (Buffer.byteLength(socket) > SOCKET_PATH_MAX) {
    throw new NightshiftError(
      ErrorCode.invalidConfig,
      `the tmux socket path ${socket} is ${Buffer.byteLength(socket)} bytes, over the ${SOCKET_PATH_MAX} a Unix socket allows`,
      { hint: 'give the host a shorter workdir' },
    );
  }
  return socket;
}

/**
 * The socket path as a command run on the host must spell it: a leading `~/` is dropped, since a
 * command run over ssh starts in the home directory and a quoted `~` is never expanded; for the local
 * host it is resolved against `home`.
 */
export function attachSocketPath(workdir: string, name: string, local: { home: string } | null): string {
  const socket = executorSocketPath(workdir, name);
  if (!socket.startsWith('~/')) return socket;
  return local ? path.posix.join(local.home, socket.slice(2)) : socket.slice(2);
}
