/**
 * Every subcommand module, in the order `nightshift --help` lists them, with the command names each
 * registers. `main` loads only the module a command line names (`nightshift ls` loads ls.ts, never the
 * TUI, the daemon, the architect's SDK or the report); help, `help <cmd>` and a word that is no command
 * load them all, so help and "Did you mean" see every command. Each module keeps its heavy imports
 * inside its actions (dynamic `import()`), so loading all of them for help stays cheap: test/unit/
 * cli-startup.test.ts checks both, and that these names are the ones each module registers.
 */
import type { CommandContext } from './context.js';

export interface CommandModule {
  /** The commands the module registers on the program (top-level names only). */
  names: readonly string[];
  /** Imports the module; its register function adds the commands to `ctx.program`. */
  load(): Promise<(ctx: CommandContext) => void>;
}

export const COMMAND_MODULES: readonly CommandModule[] = [
  { names: ['init'], load: async () => (await import('./commands/init.js')).registerInit },
  { names: ['add'], load: async () => (await import('./commands/add.js')).registerAdd },
  { names: ['lint'], load: async () => (await import('./commands/lint.js')).registerLint },
  { names: ['plan'], load: async () => (await import('./commands/plan.js')).registerPlan },
  {
    names: ['schema'],
    load: async () => (await import('./commands/schema.js')).registerSchema,
  },
  { names: ['ls'], load: async () => (await import('./commands/ls.js')).registerLs },
  { names: ['show'], load: async () => (await import('./commands/show.js')).registerShow },
  {
    names: ['kill', 'retry', 'approve', 'reject'],
    load: async () => (await import('./commands/task-requests.js')).registerTaskRequests,
  },
  {
    names: ['freeze', 'thaw'],
    load: async () => (await import('./commands/freeze.js')).registerFreeze,
  },
  { names: ['gate'], load: async () => (await import('./commands/gate.js')).registerGate },
  {
    names: ['doctor'],
    load: async () => (await import('./commands/doctor.js')).registerDoctor,
  },
  {
    names: ['daemon'],
    load: async () => (await import('./commands/daemon.js')).registerDaemon,
  },
  {
    names: ['stop', 'reload'],
    load: async () => (await import('./commands/control.js')).registerControl,
  },
  { names: ['demo'], load: async () => (await import('./commands/demo.js')).registerDemo },
  {
    names: ['providers'],
    load: async () => (await import('./commands/providers.js')).registerProviders,
  },
  {
    names: ['report'],
    load: async () => (await import('./commands/report.js')).registerReport,
  },
  {
    names: ['import'],
    load: async () => (await import('./commands/import.js')).registerImport,
  },
  {
    names: ['notify'],
    load: async () => (await import('./commands/notify.js')).registerNotify,
  },
];

/** The program's own options that take a value (the next word is theirs, not a command). */
const VALUE_OPTIONS = new Set(['-w', '--workspace']);
/** The program's own flags: none of them is a command or asks for help. */
const FLAGS = new Set(['--no-tmux', '--read-only', '--daemon', '--until-idle', '--once']);

/**
 * What a command line needs registered: `bare` (no command: the TUI or `--daemon`), `version` (only
 * `-V`), one module (the command it names), or `all` (help, `help <cmd>`, a word that is no command, or
 * anything unusual: the full program is always right, only slower).
 */
export function commandsFor(argv: readonly string[]): 'bare' | 'version' | 'all' | CommandModule {
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (VALUE_OPTIONS.has(arg)) {
      i++;
      continue;
    }
    // `--workspace=dir`, `-wdir` (the value attached) and the flags.
    if (arg.startsWith('--workspace=') || (arg.startsWith('-w') && arg.length > 2) || FLAGS.has(arg))
      continue;
    if (arg === '-V' || arg === '--version') {
      version = true;
      continue;
    }
    if (arg.startsWith('-')) return 'all'; // help, `--`, grouped short flags, an unknown option
    if (version) return 'all';
    return COMMAND_MODULES.find((m) => m.names.includes(arg)) ?? 'all';
  }
  return version ? 'version' : 'bare';
}
