/**
 * `nightshift stop` and `nightshift reload`: a request to the running daemon (daemon/control.ts), then
 * what happened. stop waits for the daemon to exit (--timeout); reload prints what was applied, what
 * waits for a restart, or why the config was kept.
 */
import { parseDuration } from '../../core/duration.js';
import { ErrorCode, NightshiftError } from '../../core/errors.js';
import { workspacePaths } from '../../config/paths.js';
import { runningDaemon, sendToDaemon, waitForDaemonExit } from '../../client/control.js';
import type { CommandContext } from '../context.js';

function timeoutOf(value: string): number {
  const ms = parseDuration(value);
  if (ms === null || ms <= 0)
    throw new NightshiftError(
      ErrorCode.usage,
      `--timeout: expected a duration like "60s" or "2m"; found ${JSON.stringify(value)}`,
    );
  return ms;
}

export function registerControl(ctx: CommandContext): void {
  ctx.program
    .command('stop')
    .description('stop the daemon gracefully: nothing new starts, executors keep running in tmux')
    .option('--timeout <duration>', 'how long to wait for the daemon to exit', '60s')
    .action(async (opts: { timeout: string }) => {
      const timeoutMs = timeoutOf(opts.timeout);
      const paths = workspacePaths(ctx.workspaceRoot());
      const daemon = runningDaemon(paths);
      if (!daemon) {
        ctx.io.stdout(`no daemon is running for ${paths.root}\n`);
        return;
      }
      const started = Date.now();
      const outcome = await sendToDaemon(paths, { kind: 'stop', pid: daemon.pid }, ctx.io.clock, timeoutMs);
      if (!outcome.ok && !outcome.queued) {
        ctx.io.stderr(`error: ${outcome.message}\n`);
        ctx.exitCode = outcome.exitCode ?? 1;
        return;
      }
      const exited =
        !outcome.queued && (await waitForDaemonExit(paths, daemon.pid, timeoutMs - (Date.now() - started)));
      if (exited) {
        ctx.io.stdout(
          `daemon pid ${daemon.pid} stopped; executors keep running in tmux and the next daemon adopts them\n`,
        );
        return;
      }
      ctx.io.stderr(
        outcome.queued
          ? `error: daemon pid ${daemon.pid} on ${daemon.host} did not take the stop request within ${opts.timeout} (it stays queued: the daemon stops when it gets to it); to stop it now: kill ${daemon.pid}\n`
          : `error: daemon pid ${daemon.pid} on ${daemon.host} is stopping but has not exited within ${opts.timeout} (it may be finishing a collection or a review); wait, or: kill ${daemon.pid}\n`,
      );
      ctx.exitCode = 1;
    });

  ctx.program
    .command('reload')
    .description(
      're-read the config in the running daemon: apply what can change live, say what needs a restart',
    )
    .option('--timeout <duration>', 'how long to wait for the daemon to apply it', '30s')
    .action(async (opts: { timeout: string }) => {
      const timeoutMs = timeoutOf(opts.timeout);
      const paths = workspacePaths(ctx.workspaceRoot());
      const daemon = runningDaemon(paths);
      if (!daemon) {
        ctx.io.stderr(
          `error: no daemon is running for ${paths.root}; the next daemon reads ${paths.configFile} when it starts\n`,
        );
        ctx.exitCode = 1;
        return;
      }
      const outcome = await sendToDaemon(paths, { kind: 'reload' }, ctx.io.clock, timeoutMs);
      if (outcome.ok) {
        ctx.io.stdout(`${outcome.message}\n`);
        return;
      }
      ctx.io.stderr(
        outcome.queued
          ? `error: daemon pid ${daemon.pid} did not apply the reload within ${opts.timeout}; it stays queued and is applied when the daemon gets to it\n`
          : `error: ${outcome.message}\n`,
      );
      ctx.exitCode = outcome.exitCode ?? 1;
    });
}
