/**
 * Runs the supervisor for `nightshift daemon` (loaded on demand: it pulls in the whole daemon).
 * `nightshift daemon` (also `nightshift --daemon`): the headless supervisor, in the foreground.
 * `--until-idle` exits 0 once nothing can progress; `--once` runs one monitor cycle and exits;
 * `--until-window-end` exits 0 at the night window's end, once its work is parked and the report written.
 * SIGTERM/SIGINT (or `nightshift stop`) stop dispatching and exit; executors keep running in tmux and the
 * next daemon adopts them. SIGHUP (or `nightshift reload`) reloads the config (daemon/control.ts).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { sendToDaemon } from '../../client/control.js';
import { loadConfig } from '../../config/load.js';
import { workspacePaths } from '../../config/paths.js';
import { writeMorningReport } from '../../client/report/write.js';
import { coerceError, ErrorCode, NightshiftError } from '../../core/errors.js';
import { MINUTES_PER_DAY, parseClockTime } from '../../core/window.js';
import type { Config } from '../../config/schema.js';
import { DaemonControl } from '../../daemon/control.js';
import { Supervisor } from '../../daemon/supervisor.js';
import { buildHosts } from '../../hosts/registry.js';
import { visible } from '../../lib/visible.js';
import type { CommandContext } from '../context.js';

export interface DaemonRunFlags {
  untilIdle?: boolean;
  once?: boolean;
  untilWindowEnd?: boolean;
}

export async function runDaemon(ctx: CommandContext, flags: DaemonRunFlags): Promise<void> {
  const paths = workspacePaths(ctx.workspaceRoot());
  const config = loadConfig(paths);
  if (flags.untilWindowEnd && !config.window)
    throw new NightshiftError(
      ErrorCode.usage,
      `--until-window-end: ${paths.configFile} has no \`window\` (e.g. window: { start: "22:00", stopStarting: "06:00", end: "07:00" })`,
    );
  const socket = ctx.io.env['NIGHTSHIFT_TMUX_SOCKET'];
  const hosts = buildHosts(config, paths, socket ? { tmuxSocket: socket } : {});
  mkdirSync(path.dirname(paths.daemonLog), { recursive: true });
  const log = (line: string) => {
    try {
      appendFileSync(paths.daemonLog, `${line}\n`, { mode: 0o600 });
    } catch {
      // A full disk or a deleted workspace: the echo on stderr still says it, and the daemon stops.
    }
  };
  // Set when the daemon stops on its own (an fsync error, a full disk, its workspace gone).
  let halted: ((message: string) => void) | null = null;
  // The one sink of the daemon's lines (logs/daemon.log and its echo): they name inbox files, executor
  // output and reasons, so control characters are made visible here (lib/visible.ts).
  const logLine = (raw: string) => {
    const line = visible(raw);
    log(line);
    if (!flags.once) ctx.io.stderr(`${line}\n`);
  };
  // `nightshift stop` and `nightshift reload` (and SIGHUP, below) reach the daemon as requests.
  const control = new DaemonControl({
    config,
    load: () => loadConfig(paths),
    configFile: paths.configFile,
    pid: process.pid,
    log: logLine,
  });
  const supervisor: Supervisor = new Supervisor({
    paths,
    config,
    clock: ctx.io.clock,
    env: ctx.io.env,
    hosts,
    log: logLine,
    watch: !flags.once,
    exit: (code, message) => {
      ctx.exitCode = code;
      halted?.(message);
    },
    control: control.hooks(),
    // At the window's end: the morning report of the window, under reports/ (client/report/write.ts).
    report: (): { path: string; summary: string } => {
      const until = ctx.io.clock.now();
      return writeMorningReport({
        paths,
        config,
        env: ctx.io.env,
        tasks: supervisor.store.list(),
        since: until - windowLengthMs(config),
        until,
      });
    },
  });
  control.attach(supervisor);
  await supervisor.start();
  ctx.io.stderr(`nightshift daemon: pid ${process.pid}, workspace ${paths.root}; log ${paths.daemonLog}\n`);
  if (flags.once) {
    await supervisor.monitorNow();
    await supervisor.stop('--once: one monitor cycle done');
    return;
  }
  // SIGHUP reloads the config, as a request to itself: applied in a tick and recorded like `nightshift reload`'s.
  const onHangup = () => {
    sendToDaemon(paths, { kind: 'reload' }, ctx.io.clock, 0).catch((err: unknown) =>
      logLine(`reload: SIGHUP could not queue a reload request: ${coerceError(err).describe()}`),
    );
  };
  process.on('SIGHUP', onHangup);
  const stopped = new Promise<string>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => resolve(`${signal}: executors keep running in tmux`);
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    halted = resolve;
    // Stopped on its own already (its workspace went while it started, say).
    if (supervisor.haltMessage) resolve(supervisor.haltMessage);
    void control.stopped.then(resolve);
    if (flags.untilWindowEnd)
      void supervisor
        .untilWindowEnd()
        .then(() => resolve(supervisor.haltMessage ?? '--until-window-end: the night window ended'));
    if (flags.untilIdle)
      void supervisor
        .untilIdle()
        .then(() => resolve(supervisor.haltMessage ?? '--until-idle: nothing left that can progress'));
  });
  const reason = await stopped;
  process.off('SIGHUP', onHangup);
  await supervisor.stop(reason);
  ctx.io.stderr(`nightshift daemon: stopped (${reason})\n`);
}

/** How far back the window's report reaches: from the window's start to its end (12 h without one). */
function windowLengthMs(config: Config): number {
  const w = config.window;
  if (!w) return 12 * 3_600_000;
  const start = parseClockTime(w.start) ?? 0;
  const end = parseClockTime(w.end) ?? 0;
  const minutes = (((end - start) % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  return (minutes || MINUTES_PER_DAY) * 60_000;
}
