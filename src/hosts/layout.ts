/**
 * Where things live on a worker host, as pure functions: the client (attach) and the daemon (WorkerHost)
 * must agree on them, and the client may not load the runners.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { WorkspacePaths } from '../config/paths.js';
import type { HostConfig } from '../config/schema.js';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import type { WorkspaceId } from '../core/workspace-id.js';

/** The workdir: as configured (ssh hosts must name one), else the workspace's own `hosts/<name>`. */
export function defaultWorkdir(name: string, cfg: HostConfig, paths: WorkspacePaths): string {
  return cfg.workdir ?? path.join(paths.root, 'hosts', name);
}

/**
 * The directory under the workdir that holds one directory per workspace using the host, named by the
 * workspace's id (core/workspace-id.ts): `<workdir>/ws/<id>/` holds that workspace's mirrors, task
 * directories, worktrees, scripts and provider state. Only the tmux socket (TMUX_DIR) is shared, so that
 * load sensing sees every workspace's executors.
 */
export const WORKSPACES_DIR = 'ws';

/** One workspace's directory under a host's workdir (which may start with `~/`). */
export function workspaceDir(workdir: string, workspace: WorkspaceId): string {
  return path.posix.join(workdir, WORKSPACES_DIR, workspace);
}

/** The 0700 directory under the workdir that holds the executors' tmux socket. */
export const TMUX_DIR = 'tmux';

/**
 * A socket path's limit (sun_path is 108 bytes on Linux, 104 on the BSDs and macOS, NUL included).
 */
export const SOCKET_PATH_MAX = 103;

const SOCKET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The executors' tmux socket: `<workdir>/tmux/<name>`, in a directory only nightshift's user can enter,
 * never under /tmp/tmux-<uid>/, where every server of the user (the TUI's, which holds the daemon's
 * environment) is reachable by name. When that path is too long for a socket, `/tmp/ns-tmux-<hash>/<name>`
 * instead, the hash being of `key` (the workdir as configured, which every caller knows): prepare()
 * creates that directory 0700 and refuses one that is not its own. `workdir` may start with `~/` (an ssh
 * host's configured workdir): the result then starts with `~/` too (see attachSocketPath).
 */
export function executorSocketPath(workdir: string, name: string, key: string = workdir): string {
  if (!SOCKET_NAME.test(name)) {
    throw new NightshiftError(ErrorCode.invalidConfig, `not a tmux socket name: ${JSON.stringify(name)}`, {
      hint: 'NIGHTSHIFT_TMUX_SOCKET must be at most 64 letters, digits, ".", "_" or "-"',
    });
  }
  const socket = path.posix.join(workdir, TMUX_DIR, name);
  if (Buffer.byteLength(socket) <= SOCKET_PATH_MAX) return socket;
  return path.posix.join(shortSocketDir(key), name);
}

/** The socket's directory when the workdir's path is too long: one per workdir, under /tmp. */
export function shortSocketDir(key: string): string {
  return `/tmp/ns-tmux-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/**
 * The socket path as a command run on the host must spell it: a leading `~/` is dropped, since a
 * command run over ssh starts in the home directory and a quoted `~` is never expanded; for the local
 * host it is resolved against `home`. (Over ssh the home directory's length is not known here: a `~/`
 * workdir whose full path is too long for a socket is not found by an attach.)
 */
export function attachSocketPath(workdir: string, name: string, local: { home: string } | null): string {
  if (workdir.startsWith('~/') && local) {
    return executorSocketPath(path.posix.join(local.home, workdir.slice(2)), name, workdir);
  }
  const socket = executorSocketPath(workdir, name);
  return socket.startsWith('~/') ? socket.slice(2) : socket;
}

/** The claude-code architect's tmux socket name (docs/architect.md). */
export const ARCHITECT_SOCKET = 'architect';

/**
 * The claude-code architect's tmux socket on the supervisor's host: `<architectDir>/tmux/architect`
 * (or under /tmp when that path is too long, as for executors), so the TUI and `a` can find it.
 */
export function architectSocketPath(paths: Pick<WorkspacePaths, 'architectDir'>): string {
  return executorSocketPath(paths.architectDir, ARCHITECT_SOCKET);
}
