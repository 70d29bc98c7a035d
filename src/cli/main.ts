/**
 * The command line (DESIGN.md §9). `main` takes its IO as an argument so tests can run it in-process;
 * bin/nightshift.js passes the real one. Exit codes: 0 ok, 1 failure, 2 usage or invalid input.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { coerceError } from '../core/errors.js';
import { makeContext } from './context.js';
import type { CliIO } from './io.js';
import { reportError } from './output.js';
import { registerAdd } from './commands/add.js';
import { registerDaemon, runDaemon } from './commands/daemon.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerFreeze } from './commands/freeze.js';
import { registerGate } from './commands/gate.js';
import { registerInit } from './commands/init.js';
import { registerLint } from './commands/lint.js';
import { registerLs } from './commands/ls.js';
import { registerProviders } from './commands/providers.js';
import { registerReport } from './commands/report.js';
import { registerSchema } from './commands/schema.js';
import { registerShow } from './commands/show.js';
import { registerTaskRequests } from './commands/task-requests.js';

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function buildProgram(io: CliIO) {
  const program = new Command('nightshift');
  program
    .description('Supervise autonomous AI coding agents overnight: specs in, graded and merged branches out.')
    .version(version(), '-V, --version')
    .option(
      '-w, --workspace <dir>',
      'workspace directory (default: $NIGHTSHIFT_WORKSPACE or the current directory)',
    )
    // Without these two the bare `nightshift` never made its tmux session, and that session's TUI
    // window (`nightshift -w <dir> --no-tmux`) died on "unknown option".
    .option(
      '--no-tmux',
      'with no command: run the TUI in this terminal, not in the tmux session "nightshift"',
    )
    .option('--read-only', 'with no command: open a TUI that cannot change anything')
    .option('--daemon', 'run the headless supervisor (the same as `nightshift daemon`)')
    .option('--until-idle', 'with --daemon: exit 0 once nothing can progress')
    .option('--once', 'with --daemon: run one monitor cycle and exit')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .exitOverride();
  const ctx = makeContext(io, program);
  program.action(
    async (opts: {
      daemon?: boolean;
      untilIdle?: boolean;
      once?: boolean;
      tmux: boolean;
      readOnly?: boolean;
    }) => {
      if (opts.daemon)
        return runDaemon(ctx, { untilIdle: opts.untilIdle === true, once: opts.once === true });
      const { runHome } = await import('./commands/home.js');
      return runHome(ctx, { tmux: opts.tmux, readOnly: opts.readOnly === true });
    },
  );
  registerInit(ctx);
  registerAdd(ctx);
  registerLint(ctx);
  registerSchema(ctx);
  registerLs(ctx);
  registerShow(ctx);
  registerTaskRequests(ctx);
  registerFreeze(ctx);
  registerGate(ctx);
  registerDoctor(ctx);
  registerDaemon(ctx);
  registerDemo(ctx);
  registerProviders(ctx);
  registerReport(ctx);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
    for (const sub of cmd.commands) {
      sub.exitOverride();
      sub.configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
    }
  }
  return { program, ctx };
}

export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const { program, ctx } = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return 0;
      return 2; // commander already printed the usage error
    }
    const e = coerceError(err);
    return reportError(io, e);
  }
}
