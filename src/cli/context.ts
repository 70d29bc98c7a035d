/** Shared plumbing for subcommands: the IO, the workspace and the exit code. */
import type { Command } from 'commander';
import type { WorkspaceClient } from '../client/workspace.js';
import { resolveWorkspaceRoot } from '../config/paths.js';
import type { CliIO } from './io.js';

export interface CommandContext {
  io: CliIO;
  program: Command;
  workspaceRoot(): string;
  /** Opens the workspace (and, with no daemon, recovers, sweeps the inbox and applies requests). */
  open(opts?: { sync?: boolean }): Promise<WorkspaceClient>;
  exitCode: number;
}

export function makeContext(io: CliIO, program: Command): CommandContext {
  const ctx: CommandContext = {
    io,
    program,
    exitCode: 0,
    workspaceRoot: () =>
      resolveWorkspaceRoot(program.opts<{ workspace?: string }>().workspace, io.env, io.cwd),
    async open(opts = {}) {
      // Loaded on first use: the TUI's path (`nightshift` alone) never opens a client here.
      const { WorkspaceClient } = await import('../client/workspace.js');
      const client = WorkspaceClient.open(ctx.workspaceRoot(), io.clock, { env: io.env });
      if (opts.sync !== false) {
        const report = await client.sync();
        for (const r of report?.inbox.rejected ?? []) {
          const first = r.reason.split('\n')[0] ?? '';
          io.stderr(
            `inbox: rejected ${r.file}: ${first} (moved to specs/.rejected/${r.moved}; see specs/.rejected/${r.moved}.error.txt)\n`,
          );
        }
        for (const a of report?.inbox.accepted ?? []) io.stderr(`inbox: queued ${a.task} from ${a.file}\n`);
        for (const r of report?.inbox.refused ?? [])
          io.stderr(`inbox: refused specs/${r.file}: ${r.reason}\n`);
        for (const r of report?.inbox.settling ?? [])
          io.stderr(
            `inbox: specs/${r.file} is still changing; it is left in specs/ and taken once it has not changed for a moment\n`,
          );
        for (const r of report?.inbox.ignored ?? [])
          io.stderr(`inbox: ignored specs/${r.file}: ${r.reason}\n`);
        for (const r of report?.recovery.refused ?? []) io.stderr(`queue: refused ${r.path}: ${r.reason}\n`);
      }
      return client;
    },
  };
  return ctx;
}
