/**
 * `nightshift demo`: a whole night in a temporary workspace on the local host, with the scripted
 * simulator as the executor. In a terminal it opens the TUI inside tmux (or in place with --no-tmux);
 * with --headless, or without a terminal, it runs the night to the end and prints the morning report.
 */
import path from 'node:path';
import { createDemoWorkspace, dropDemoSpecs } from '../../client/demo/scenario.js';
import { attachSession, ensureSession, selfArgv, tmuxAvailable } from '../../client/session.js';
import type { CommandContext } from '../context.js';

export const DEMO_SESSION = 'nightshift-demo';

/**
 * The demo's tmux session, named after its workspace: a second demo gets a session of its own instead of
 * attaching to the first one's (which shows the first demo's workspace).
 */
export function demoSession(root: string): string {
  return `${DEMO_SESSION}-${path.basename(root).replace(/^nightshift-demo-/, '')}`;
}

export function registerDemo(ctx: CommandContext): void {
  ctx.program
    .command('demo')
    .description(
      'a whole night in a temp workspace, on the local host, with the scripted simulator (not an AI)',
    )
    .option('--no-tmux', 'run the TUI in this terminal instead of a tmux session')
    .option('--headless', 'no TUI: run the night to the end and print the morning report')
    .action(async (opts: { tmux: boolean; headless?: boolean }) => {
      const say = (line: string) => ctx.io.stdout(`${line}\n`);
      // Making the repository (git init, commits) takes a second or two on a busy machine: say so first.
      say('nightshift demo: making a temporary workspace and its small git repository…');
      const demo = await createDemoWorkspace(ctx.io.env);
      say(`nightshift demo: workspace ${demo.root}`);
      say(`  repository ${demo.repo} (a small app with a node --test suite)`);
      say(
        `  providers: "scripted" (healthy) and "flaky" (its probe answers nothing); architect: ${demo.mode}`,
      );
      say('  executors are the scripted simulator, not an AI: each spec carries its own script');
      // The root program has its own --no-tmux, which commander matches after the subcommand too.
      const tmux = ctx.program.opts<{ tmux?: boolean }>().tmux !== false;
      const interactive = !opts.headless && process.stdout.isTTY === true && process.stdin.isTTY === true;
      if (!interactive) {
        await runHeadless(ctx, demo.root);
        say(`\nThe demo workspace stays at ${demo.root}`);
        say(`  read the report:  ${cliName(ctx)} -w ${demo.root} report`);
        say(`  clean up:         rm -rf ${demo.root}`);
        return;
      }
      // The specs first, then the daemon: it takes them from the inbox on its first tick, and, run with
      // --until-idle, it exits once the night is over instead of staying behind the demo.
      dropDemoSpecs(demo.root);
      const run = await import('./demo-interactive.js');
      const daemon = run.startDemoDaemon(ctx, demo.root);
      say(`  the demo's daemon: pid ${daemon.pid ?? '?'}, detached; it exits once the night is over`);
      const socket = ctx.io.env['NIGHTSHIFT_TMUX_SOCKET'] ?? 'nightshift';
      let session: string | null = null;
      if (opts.tmux && tmux && tmuxAvailable()) {
        session = demoSession(demo.root);
        // The TUI alone: q ends it, and with it the session and the attach below (no window left behind).
        ensureSession(socket, session, demo.root, [
          { name: 'tui', argv: selfArgv('-w', demo.root, '--no-tmux') },
        ]);
        say(
          `  tmux session "${session}" on socket "${socket}": q ends the demo, Ctrl-b d detaches (come back with \`tmux -L ${socket} attach -t =${session}\`)`,
        );
        attachSession(socket, session);
      } else {
        await run.runInteractive(ctx, demo.root);
      }
      for (const line of run.demoEnding(ctx, { root: demo.root, cli: cliName(ctx), socket, session }))
        say(line);
    });
}

/** How the person ran us: through npx (`npx nightshift demo` in a clone) or an installed `nightshift`. */
function cliName(ctx: CommandContext): string {
  return ctx.io.env['npm_lifecycle_event'] === 'npx' ? 'npx nightshift' : 'nightshift';
}

async function runHeadless(ctx: CommandContext, root: string): Promise<void> {
  const { runHeadlessNight } = await import('./demo-run.js');
  await runHeadlessNight(ctx, root);
  ctx.io.stdout(`\nMorning report: ${path.join(root, 'reports', 'demo.md')}\n`);
}
