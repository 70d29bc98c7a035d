/** The demo's night, loaded on demand: the daemon in-process (headless) or beside the TUI. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dropDemoSpecs } from '../../client/demo/scenario.js';
import { selfArgv } from '../../client/session.js';
import { loadConfig } from '../../config/load.js';
import { workspacePaths } from '../../config/paths.js';
import { describeEvent } from '../../daemon/describe.js';
import { Supervisor } from '../../daemon/supervisor.js';
import { buildHosts } from '../../hosts/registry.js';
import type { CommandContext } from '../context.js';

const NIGHT_LIMIT_MS = 6 * 60_000;

/** Runs the whole demo night with the daemon in this process and prints what happens. */
export async function runHeadlessNight(ctx: CommandContext, root: string): Promise<void> {
  const paths = workspacePaths(root);
  const config = loadConfig(paths);
  const socket = ctx.io.env['NIGHTSHIFT_TMUX_SOCKET'] ?? 'nightshift';
  const supervisor = new Supervisor({
    paths,
    config,
    clock: ctx.io.clock,
    env: ctx.io.env,
    hosts: buildHosts(config, paths, { tmuxSocket: socket }),
    exit: (code, message) => {
      ctx.exitCode = code;
      ctx.io.stderr(`nightshift demo: ${message}\n`);
    },
  });
  supervisor.events.subscribe((e) => {
    if (e.type === 'task.created' || e.type === 'inbox.accepted' || e.type === 'request.applied') return;
    ctx.io.stdout(`${describeEvent(e)}\n`);
  });
  await supervisor.start();
  dropDemoSpecs(root);
  const limit = new Promise<'limit'>((resolve) => setTimeout(() => resolve('limit'), NIGHT_LIMIT_MS).unref());
  const ended = await Promise.race([supervisor.untilIdle().then(() => 'idle' as const), limit]);
  await supervisor.stop(ended === 'idle' ? 'the demo night is over' : 'the demo ran out of time');
  const { collectReport, renderReport } = await import('../../client/report/index.js');
  const until = ctx.io.clock.now();
  const data = collectReport({
    tasks: supervisor.store.list(),
    eventsFile: paths.events,
    config,
    env: ctx.io.env,
    since: until - 24 * 3600_000,
    until,
  });
  const report = renderReport(data, 'md');
  mkdirSync(paths.reports, { recursive: true });
  writeFileSync(path.join(paths.reports, 'demo.html'), renderReport(data, 'html'));
  writeFileSync(path.join(paths.reports, 'demo.md'), report);
  ctx.io.stdout(`\n${report}`);
}

/** --no-tmux: the daemon as a detached child, the TUI in this terminal. */
export async function runInteractive(ctx: CommandContext, root: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  const paths = workspacePaths(root);
  mkdirSync(paths.logs, { recursive: true });
  const [node = process.execPath, ...args] = selfArgv('-w', root, 'daemon');
  const daemon = spawn(node, args, { detached: true, stdio: 'ignore', env: ctx.io.env });
  daemon.unref();
  dropDemoSpecs(root);
  const { runTui } = await import('./tui.js');
  ctx.program.setOptionValue('workspace', root);
  await runTui(ctx, { readOnly: false });
  ctx.io.stdout(
    `the demo daemon (pid ${daemon.pid ?? '?'}) keeps running; stop it with: kill ${daemon.pid ?? '<pid>'}\n`,
  );
}
