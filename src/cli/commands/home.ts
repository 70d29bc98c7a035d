/**
 * `nightshift` with no command: the TUI. Outside tmux it creates (or reattaches to) the tmux session
 * `nightshift` on nightshift's own socket, with the TUI in one window and, if no daemon holds the
 * workspace, the daemon in another; losing the terminal only detaches. Inside the person's own tmux the
 * TUI runs in place and the daemon, if none holds the workspace, gets a window beside it in their
 * session. With --no-tmux the TUI runs in place alone; with --read-only no daemon is ever started.
 */
import { existsSync } from 'node:fs';
import {
  attachSession,
  ensureSession,
  openBesideInCurrentTmux,
  selfArgv,
  sessionExists,
  tmuxAvailable,
} from '../../client/session.js';
import { runningDaemon } from '../../client/daemon-status.js';
import { workspacePaths } from '../../config/paths.js';
import { ErrorCode, NightshiftError } from '../../core/errors.js';
import type { CommandContext } from '../context.js';

export const HOME_SESSION = 'nightshift';
/** The daemon's window beside an in-place TUI in the person's own tmux. */
export const DAEMON_WINDOW = 'nightshift-daemon';

export interface HomeFlags {
  tmux: boolean;
  readOnly?: boolean;
}

export async function runHome(ctx: CommandContext, flags: HomeFlags): Promise<void> {
  const root = ctx.workspaceRoot();
  const paths = workspacePaths(root);
  if (!existsSync(paths.configFile)) {
    throw new NightshiftError(ErrorCode.noWorkspace, `no nightshift.config.yaml in ${root}`, {
      hint: 'run `nightshift init <dir>` and pass -w <dir>, or try `nightshift demo`',
    });
  }
  const inTmux = Boolean(ctx.io.env['TMUX']);
  const readOnly = flags.readOnly === true;
  if (flags.tmux && inTmux && !readOnly && process.stdout.isTTY && runningDaemon(paths) === null) {
    // The README's promise, "the TUI, in tmux, with the daemon beside it", kept in the person's tmux too.
    openBesideInCurrentTmux(DAEMON_WINDOW, root, selfArgv('-w', root, 'daemon'));
  }
  if (!flags.tmux || inTmux || !tmuxAvailable() || !process.stdout.isTTY) {
    const { runTui } = await import('./tui.js');
    await runTui(ctx, { readOnly });
    return;
  }
  const socket = ctx.io.env['NIGHTSHIFT_TMUX_SOCKET'] ?? 'nightshift';
  const daemonUp = runningDaemon(paths) !== null;
  const reattach = sessionExists(socket, HOME_SESSION);
  ensureSession(socket, HOME_SESSION, root, [
    { name: 'tui', argv: selfArgv('-w', root, '--no-tmux', ...(readOnly ? ['--read-only'] : [])) },
    ...(daemonUp || readOnly ? [] : [{ name: 'daemon', argv: selfArgv('-w', root, 'daemon') }]),
  ]);
  ctx.io.stderr(
    `${reattach ? 'reattaching to' : 'starting'} tmux session "${HOME_SESSION}" (socket ${socket}); detach with your tmux prefix + d — the daemon keeps running\n`,
  );
  attachSession(socket, HOME_SESSION);
}
