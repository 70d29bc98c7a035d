/** `nightshift notify test`: a test notice to each notifier of the config, and ok or why not for each. */
import { loadConfig } from '../../config/load.js';
import { workspacePaths } from '../../config/paths.js';
import { visible } from '../../lib/visible.js';
import type { CommandContext } from '../context.js';

export function registerNotify(ctx: CommandContext): void {
  const notify = ctx.program
    .command('notify')
    .description('notifications (the `notify:` list of the config)');
  notify
    .command('test')
    .description('send a test notice to each configured notifier and say which worked (exit 1 if one failed)')
    .option('--json', 'print the results as JSON')
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfig(workspacePaths(ctx.workspaceRoot()));
      if (config.notify.length === 0) {
        ctx.io.stderr('notify: no notifiers configured (add a `notify:` list; see docs/integrations.md)\n');
        ctx.exitCode = 1;
        return;
      }
      // Loaded here: the notifiers' code is the daemon's (cli/command-table.ts keeps help cheap).
      const { testNotifiers } = await import('../../client/notify-test.js');
      const results = await testNotifiers(config, ctx.io.env, ctx.io.clock);
      if (opts.json) ctx.io.stdout(`${JSON.stringify(results, null, 2)}\n`);
      else
        for (const r of results)
          ctx.io.stdout(visible(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.name}: ${r.reason}\n`));
      if (results.some((r) => !r.ok)) ctx.exitCode = 1;
    });
}
