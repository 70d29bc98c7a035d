/**
 * The command line (DESIGN.md §9). `main` takes its IO as an argument so tests can run it in-process;
 * bin/nightshift.js passes the real one. Exit codes: 0 ok, 1 failure, 2 usage or invalid input.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { coerceError } from '../core/errors.js';
import { COMMAND_MODULES, commandsFor, type CommandModule } from './command-table.js';
import { makeContext } from './context.js';
import { colorDisabled } from '../lib/color.js';
import { visible } from '../lib/visible.js';
import type { CliIO } from './io.js';
import { reportError } from './output.js';

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/**
 * Whether argv is the bare `nightshift` (the TUI, or `--daemon`): no command, no help, no version. That
 * path builds the program without the subcommands, whose modules it would otherwise load for nothing.
 * Anything else, or anything unusual, gets at least the command it names (command-table.ts).
 */
export function isBareInvocation(argv: readonly string[]): boolean {
  return commandsFor(argv) === 'bare';
}

/** The command `word` was most likely meant as: a close spelling, or the command it starts with. */
export function nearestCommand(word: string, names: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const name of names) {
    if (word.startsWith(`${name}-`) || (word.length >= 2 && name.startsWith(word))) return name;
    const d = editDistance(word, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  // At most about a third of the word wrong (lss → ls, shwo → show; never bogus → doctor).
  return best !== null && bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : null;
}

/** Levenshtein distance with adjacent transpositions (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function unknownCommand(program: Command, word: string): never {
  const near = nearestCommand(
    word,
    program.commands.map((c) => c.name()),
  );
  program.error(`error: unknown command '${word}'${near ? `\n(Did you mean ${near}?)` : ''}`, {
    code: 'commander.unknownCommand',
    exitCode: 2,
  });
}

/**
 * The program with the subcommands `commands` names: every one (the default), none, or one module's
 * (`nightshift ls` registers ls alone: command-table.ts).
 */
export async function buildProgram(io: CliIO, opts: { commands?: boolean | CommandModule } = {}) {
  const program = new Command('nightshift');
  // NO_COLOR: no colour in help or errors either (lib/color.ts, the decision the TUI takes too).
  const noColor = colorDisabled(io.env);
  const output = {
    writeOut: (s: string) => io.stdout(s),
    writeErr: (s: string) => io.stderr(s),
    ...(noColor ? { getOutHasColors: () => false, getErrHasColors: () => false } : {}),
  };
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
    // The bare program's action (the TUI) takes no operands: a word that is no command reaches it, and
    // is reported there as an unknown command with the nearest one, not as "too many arguments".
    .allowExcessArguments(true)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput(output)
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
      if (program.args.length) unknownCommand(program, program.args[0]!);
      if (opts.daemon) {
        const { runDaemon } = await import('./commands/daemon.js');
        return runDaemon(ctx, { untilIdle: opts.untilIdle === true, once: opts.once === true });
      }
      const { runHome } = await import('./commands/home.js');
      return runHome(ctx, { tmux: opts.tmux, readOnly: opts.readOnly === true });
    },
  );
  if (opts.commands === false) return { program, ctx };
  const modules = opts.commands === undefined || opts.commands === true ? COMMAND_MODULES : [opts.commands];
  // Loaded together, registered in help's order.
  for (const register of await Promise.all(modules.map((m) => m.load()))) register(ctx);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    cmd.configureOutput(output);
    for (const sub of cmd.commands) {
      sub.exitOverride();
      sub.configureOutput(output);
    }
  }
  return { program, ctx };
}

export async function main(argv: readonly string[], rawIo: CliIO): Promise<number> {
  // Everything on stderr is messages, many naming untrusted things (inbox file names, executor output,
  // reasons): control characters are made visible at this one sink (lib/visible.ts).
  const io: CliIO = { ...rawIo, stderr: (text) => rawIo.stderr(visible(text)) };
  const wanted = commandsFor(argv);
  const commands = wanted === 'all' ? true : wanted === 'bare' || wanted === 'version' ? false : wanted;
  const { program, ctx } = await buildProgram(io, { commands });
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
