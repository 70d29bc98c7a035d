/**
 * The interactive demo's daemon and its ending, loaded on demand. The daemon runs detached with
 * --until-idle, so it exits by itself once the night is over; the TUI (in tmux, or in this terminal with
 * --no-tmux) is only a window on it. When the TUI ends (q) or the person detaches, the demo says where
 * the night stands: over (with the morning report it writes) or still going, whether the daemon still
 * runs and the command that stops it, and a clean-up command that stops it before removing the workspace.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { describeNightEnd, nightEnd } from '../../client/night.js';
import { writeMorningReport } from '../../client/report/write.js';
import { selfArgv, sessionExists } from '../../client/session.js';
import { WorkspaceClient } from '../../client/workspace.js';
import { workspacePaths } from '../../config/paths.js';
import { defaultWorkdir, executorSocketPath } from '../../hosts/layout.js';
import type { CommandContext } from '../context.js';

/** What the demo's report reaches back over: the demo night is minutes old. */
const DEMO_REPORT_SPAN_MS = 24 * 3600_000;

/** Starts the demo's daemon detached (its lines go to logs/daemon.log); returns its pid. */
export function startDemoDaemon(ctx: CommandContext, root: string): { pid: number | undefined } {
  mkdirSync(workspacePaths(root).logs, { recursive: true });
  const [node = process.execPath, ...args] = selfArgv('-w', root, 'daemon', '--until-idle');
  const daemon = spawn(node, args, { detached: true, stdio: 'ignore', cwd: root, env: ctx.io.env });
  daemon.unref();
  return { pid: daemon.pid };
}

/** --no-tmux: the TUI in this terminal, on the daemon startDemoDaemon started. */
export async function runInteractive(ctx: CommandContext, root: string): Promise<void> {
  const { runTui } = await import('./tui.js');
  ctx.program.setOptionValue('workspace', root);
  await runTui(ctx, { readOnly: false });
}

export interface DemoEnd {
  root: string;
  /** How to run nightshift again, as the person did ("npx nightshift" or "nightshift"). */
  cli: string;
  socket: string;
  /** The demo's tmux session, or null (--no-tmux). */
  session: string | null;
}

/** What the demo says when its TUI ends or is detached from. */
export function demoEnding(ctx: CommandContext, end: DemoEnd): string[] {
  const { root, cli, socket, session } = end;
  const lines = [''];
  if (session && sessionExists(socket, session))
    lines.push(
      `The demo's TUI is still in tmux session "${session}": come back with \`tmux -L ${socket} attach -t =${session}\``,
    );
  const client = WorkspaceClient.open(root, ctx.io.clock, { env: ctx.io.env });
  const tasks = client.store.list();
  const daemon = client.daemon();
  const over = nightEnd({ tasks, daemon, daemonState: client.daemonState() });
  if (over) {
    const until = ctx.io.clock.now();
    const report = writeMorningReport({
      paths: client.paths,
      config: client.config,
      env: ctx.io.env,
      tasks,
      since: until - DEMO_REPORT_SPAN_MS,
      until,
    });
    lines.push(`${capitalized(describeNightEnd(over))}.`, `  morning report: ${report.path}`);
  } else {
    const open = tasks.filter((t) => t.state === 'pending' || t.state === 'running' || t.state === 'review');
    lines.push(
      `The demo night is not over: ${open.length} of ${tasks.length} task(s) still pending, running or in review.`,
    );
  }
  const stop = `${cli} -w ${root} stop`;
  lines.push(
    daemon
      ? `The demo's daemon (pid ${daemon.pid}) keeps running, detached from this terminal${over ? '' : ', until the night is over'}; stop it now with: ${stop}`
      : "The demo's daemon has exited.",
  );
  // Clean-up stops the daemon, then what it leaves in tmux (the demo's TUI, executors still running).
  const tmuxes = [
    ...(session ? [`tmux -L ${socket} kill-session -t =${session} 2>/dev/null`] : []),
    ...executorSockets(client, socket).map((s) => `tmux -S ${s} kill-server 2>/dev/null`),
  ];
  lines.push(
    `\nThe demo workspace stays at ${root}`,
    `  read the report:  ${cli} -w ${root} report`,
    `  clean up:         ${[stop, ...tmuxes, `rm -rf ${root}`].join('; ')}`,
  );
  return lines;
}

/** The executors' tmux sockets of the demo's hosts (all local: under the workspace or /tmp). */
function executorSockets(client: WorkspaceClient, socket: string): string[] {
  return Object.entries(client.config.hosts).map(([name, cfg]) =>
    executorSocketPath(defaultWorkdir(name, cfg, client.paths), socket),
  );
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
