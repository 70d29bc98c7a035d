/** `nightshift daemon` (also `nightshift --daemon`): registration only; the runner loads on demand. */
import type { CommandContext } from '../context.js';

export interface DaemonFlags {
  untilIdle?: boolean;
  once?: boolean;
  untilWindowEnd?: boolean;
}

export async function runDaemon(ctx: CommandContext, flags: DaemonFlags): Promise<void> {
  const { runDaemon: run } = await import('./daemon-run.js');
  await run(ctx, flags);
}

export function registerDaemon(ctx: CommandContext): void {
  ctx.program
    .command('daemon')
    .description('run the headless supervisor in the foreground (one per workspace)')
    .option('--until-idle', 'exit 0 when nothing is pending, running or in review that can progress')
    .option('--once', 'run one monitor cycle and exit')
    .option(
      '--until-window-end',
      "exit 0 at the night window's end, once running work is parked and the report written",
    )
    .action((opts: DaemonFlags) => {
      // The root program has --until-idle and --once too (for `nightshift --daemon`), and commander
      // matches a root option after the subcommand as well: `nightshift daemon --once` sets the root's.
      const root = ctx.program.opts<DaemonFlags>();
      return runDaemon(ctx, {
        untilIdle: opts.untilIdle === true || root.untilIdle === true,
        once: opts.once === true || root.once === true,
        untilWindowEnd: opts.untilWindowEnd === true,
      });
    });
}
