/**
 * `nightshift` with no command: the TUI. Outside tmux it creates (or reattaches to) the tmux session
 * `nightshift` on nightshift's own socket, with the TUI in one window and, if no daemon holds the
 * workspace, the daemon in another; losing the terminal only detaches. Inside tmux, or with --no-tmux,
 * the TUI runs in place.
 */
import { existsSync } from 'node:fs';
import {
  attachSession,
  ensureSession,
  selfArgv,
  sessionExists,
  tmuxAvailable,
} from '../../client/session.js';
import { runningDaemon } from '../../client/daemon-status.js';
import { workspacePaths } from '../../config/paths.js';
import { ErrorCode, NightshiftError } from '../../core/errors.js';
import type { CommandContext } from '../context.js';

export const HOME_SESSION = 'nightshift';

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
  if (!flags.tmux || inTmux || !tmuxAvailable() || !process.stdout.isTTY) {
    const { runTui } = await import('./tui.js');
    await runTui(ctx, { readOnly: flags.readOnly === true });
    return;
  }
  const socket = ctx.io.env['NIGHTSHIFT_TMUX_SOCKET'] ?? 'nightshift';
  const daemonUp = runningDaemon(paths) !== null;
  const reattach = sessionExists(socket, HOME_SESSION);
  ensureSession(socket, HOME_SESSION, root, [
    { name: 'tui', argv: selfArgv('-w', root, '--no-tmux', ...(flags.readOnly ? ['--read-only'] : [])) },
    ...(daemonUp ? [] : [{ name: 'daemon', argv: selfArgv('-w', root, 'daemon') }]),
  ]);
  ctx.io.stderr(
    `${reattach ? 'reattaching to' : 'starting'} tmux session "${HOME_SESSION}" (socket ${socket}); detach with your tmux prefix + d — the daemon keeps running\n`,
  );
  attachSession(socket, HOME_SESSION);
}
