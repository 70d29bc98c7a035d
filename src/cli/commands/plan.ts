/** `nightshift plan "<goal>" | --from goal.md [--repo name] [--queue]`: the architect drafts specs. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { visible } from '../../lib/visible.js';
import type { CommandContext } from '../context.js';

const MAX_GOAL_BYTES = 64 * 1024;

export function registerPlan(ctx: CommandContext): void {
  ctx.program
    .command('plan')
    .description('the architect drafts specs for a goal into specs/drafts/ (each passes lint --strict)')
    .argument('[goal]', 'what to reach, in a sentence or a paragraph')
    .option('--from <file>', 'read the goal from a file')
    .option('--repo <name>', 'the repo to plan for (default: the default repo)')
    .option('--queue', 'put the valid drafts straight into the inbox (specs/) instead of specs/drafts/')
    .option('--json', 'print the outcome as JSON')
    .action(
      async (
        goalArg: string | undefined,
        opts: { from?: string; repo?: string; queue?: boolean; json?: boolean },
      ) => {
        let goal = goalArg ?? '';
        if (opts.from) {
          const buf = readFileSync(path.resolve(ctx.io.cwd, opts.from));
          if (buf.length > MAX_GOAL_BYTES) {
            ctx.io.stderr(`error: ${opts.from}: the goal is ${buf.length} bytes; keep it under 64 KiB\n`);
            ctx.exitCode = 2;
            return;
          }
          goal = buf.toString('utf8');
        }
        if (!goal.trim()) {
          ctx.io.stderr('error: no goal: pass it as an argument or with --from <file>\n');
          ctx.exitCode = 2;
          return;
        }
        const client = await ctx.open({ sync: false });
        // The architect's SDK loads here, never for help or another command (cli/command-table.ts).
        const { runPlan } = await import('../../client/plan.js');
        const out = await runPlan(client, {
          goal,
          ...(opts.repo ? { repo: opts.repo } : {}),
          queue: opts.queue === true,
          env: ctx.io.env,
        });
        if (opts.json) {
          ctx.io.stdout(`${JSON.stringify(out, null, 2)}\n`);
        } else {
          for (const w of out.written)
            ctx.io.stdout(`${opts.queue ? 'queued' : 'drafted'} ${w.id}  ${visible(w.file)}\n`);
          for (const d of out.dropped) ctx.io.stderr(`dropped ${visible(d.id)}: ${visible(d.reason)}\n`);
          const tokens = out.usage
            ? `; ${out.usage.inputTokens} in / ${out.usage.outputTokens} out tokens`
            : '';
          ctx.io.stdout(
            `${out.written.length} spec(s) ${opts.queue ? 'sent to the inbox' : 'drafted in specs/drafts/'}, ${out.dropped.length} dropped${out.repaired ? ' (repaired once)' : ''}${tokens}\n`,
          );
        }
        if (out.written.length === 0) ctx.exitCode = 2;
      },
    );
}
