/** The demo's headless night, loaded on demand: the daemon in this process, then the morning report. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dropDemoSpecs } from '../../client/demo/scenario.js';
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
