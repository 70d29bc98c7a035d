/** `nightshift freeze|thaw [--provider P]`: running work continues, nothing new starts. Persisted. */
import { InvalidArgumentError } from 'commander';
import { idProblem } from '../../core/ids.js';
import type { CommandContext } from '../context.js';
import { sendRequest } from './task-requests.js';

/** Provider names follow the same rules as task ids (they reach argv and file names too). */
function parseProviderName(value: string): string {
  const problem = idProblem(value);
  if (problem) throw new InvalidArgumentError(`not a provider name: ${problem}`);
  return value;
}

export function registerFreeze(ctx: CommandContext): void {
  for (const kind of ['freeze', 'thaw'] as const) {
    ctx.program
      .command(kind)
      .description(
        kind === 'freeze' ? 'stop starting new work (running work continues)' : 'resume starting new work',
      )
      .option('--provider <name>', 'only this provider (a name from the config)', parseProviderName)
      .action((opts: { provider?: string }) => sendRequest(ctx, { kind, provider: opts.provider ?? null }));
  }
}
