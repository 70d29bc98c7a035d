/**
 * The full-screen TUI for a workspace (`nightshift` with no arguments). Loaded on demand so the other
 * commands never pay for React and Ink. Resolves when the person quits; the daemon keeps running.
 */
import type { CommandContext } from '../context.js';

export async function runTui(ctx: CommandContext, opts: { readOnly: boolean }): Promise<void> {
  const { startTui } = await import('../../tui/app/run.js');
  await startTui({
    root: ctx.workspaceRoot(),
    clock: ctx.io.clock,
    env: ctx.io.env,
    readOnly: opts.readOnly,
  });
}
