/**
 * The argv that attaches to an executor's tmux session, locally or over ssh. The TUI may not import
 * hosts/ (it is a client), so this is where the host config turns into a command line: ssh joins its
 * remote words, and hosts/ quotes them with the one audited quoting function. Only hosts/' pure argv
 * builders are imported (hosts/ssh-argv.ts, the same one SshRunner uses), not the runner: the TUI loads
 * this module before its first frame, and the runner would bring execa.
 */
import os from 'node:os';
import type { WorkspacePaths } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import { isSessionName } from './architect.js';
import type { TaskId } from '../core/ids.js';
import { attachSocketPath, defaultWorkdir } from '../hosts/layout.js';
import { controlPathFor, interactiveSshArgv, sshTargetFor } from '../hosts/ssh-argv.js';
import { sessionName } from '../hosts/session-names.js';
import { workspaceId } from '../config/workspace-identity.js';
import type { WorkspaceId } from '../core/workspace-id.js';

/**
 * The tmux socket's name nightshift uses: $NIGHTSHIFT_TMUX_SOCKET, else "nightshift". The TUI's own
 * session is on `-L <name>`; the executors' server is on `-S <workdir>/tmux/<name>` (hosts/layout.ts), a
 * different server that never holds the user's environment.
 */
export function tmuxSocket(env: NodeJS.ProcessEnv): string {
  return env['NIGHTSHIFT_TMUX_SOCKET'] || 'nightshift';
}

export interface AttachOptions {
  /** The executors' socket: its path for tmuxAttachWords, its name for attachArgv. */
  socket: string;
  /**
   * `view`: the TUI's live pane — read-only, UTF-8 (`-u`), and `ignore-size` so a small pane never
   * resizes the executor's window. `person`: a person's own terminal takes over (read-only on request).
   */
  purpose: 'view' | 'person';
  readOnly: boolean;
}

/** The attach words also name the workspace: its session of the task (hosts/session-names.ts). */
export interface AttachTarget {
  workspace: WorkspaceId;
  taskId: TaskId;
}

/** The tmux words of an attach, before any ssh wrapping; `opts.socket` is the socket's path. */
export function tmuxAttachWords(task: AttachTarget, opts: AttachOptions): string[] {
  const target = ['-t', `=${sessionName(task.workspace, task.taskId)}`];
  if (opts.purpose === 'view') {
    return ['tmux', '-u', '-S', opts.socket, 'attach-session', '-r', '-f', 'ignore-size', ...target];
  }
  return ['tmux', '-S', opts.socket, 'attach-session', ...(opts.readOnly ? ['-r'] : []), ...target];
}

/**
 * Attach argv for task `taskId` on host `hostName` (`opts.socket` the socket's name, found in the host's
 * workdir): the tmux words themselves for a local host;
 * `ssh <options> -t -- <destination> '<quoted tmux words>'` for an ssh host (its port, identity file
 * and ssh config file from the host's config, sharing the daemon's ControlMaster).
 */
export function attachArgv(
  config: Config,
  paths: WorkspacePaths,
  hostName: string,
  taskId: TaskId,
  opts: AttachOptions,
): string[] {
  const host = config.hosts[hostName];
  if (!host) {
    throw new NightshiftError(ErrorCode.invalidConfig, `host "${hostName}" is not in the config`, {
      host: hostName,
      hint: `the hosts are: ${Object.keys(config.hosts).join(', ') || 'none'}`,
    });
  }
  const socket = attachSocketPath(
    defaultWorkdir(hostName, host, paths),
    opts.socket,
    host.kind === 'local' ? { home: os.homedir() } : null,
  );
  // Only this workspace's session: another workspace's session of the same task id is never reached.
  const words = tmuxAttachWords({ workspace: workspaceId(paths), taskId }, { ...opts, socket });
  if (host.kind === 'local') return words;
  const target = sshTargetFor(hostName, host, paths);
  return interactiveSshArgv(target, controlPathFor(target.controlDir), words);
}

/**
 * The argv that attaches to the architect's tmux session (claude-code mode), which runs on the
 * supervisor's host on nightshift's own server (`tmux -L <socket>`, the one the daemon's session is on).
 * `view` is the Architect view's read-only pane; `person` hands a person's terminal over.
 */
/**
 * The tmux argv that shows the claude-code architect's session: on the architect's own server, at
 * `socketPath` (hosts/layout.ts architectSocketPath: under the workspace's architect directory).
 */
export function architectAttachArgv(
  session: string,
  socketPath: string,
  opts: Omit<AttachOptions, 'socket'>,
): string[] {
  if (!isSessionName(session)) {
    throw new NightshiftError(
      ErrorCode.invalidConfig,
      `"${session}" is not a tmux session name nightshift uses`,
      {
        hint: 'the architect.started event names the session; check logs/events.jsonl',
      },
    );
  }
  const target = ['-t', `=${session}`];
  if (opts.purpose === 'view') {
    return ['tmux', '-u', '-S', socketPath, 'attach-session', '-r', '-f', 'ignore-size', ...target];
  }
  return ['tmux', '-S', socketPath, 'attach-session', ...(opts.readOnly ? ['-r'] : []), ...target];
}
