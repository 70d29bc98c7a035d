/** `nightshift freeze|thaw [--provider P]`: running work continues, nothing new starts. Persisted. */
import type { CommandContext } from '../context.js';
import { parseTaskId, sendRequest } from './task-requests.js';

export function registerFreeze(ctx: CommandContext): void {
  for (const kind of ['freeze', 'thaw'] as const) {
    ctx.program
      .command(kind)
      .description(
        kind === 'freeze' ? 'stop starting new work (running work continues)' : 'resume starting new work',
      )
      .option('--provider <name>', 'only this provider', parseTaskId)
      .action((opts: { provider?: string }) => sendRequest(ctx, { kind, provider: opts.provider ?? null }));
  }
}
