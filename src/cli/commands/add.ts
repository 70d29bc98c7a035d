/** `nightshift add <files...> [--force]`: validate and enqueue. All files are validated before any is queued. */
import type { CommandContext } from '../context.js';
import { checkDependencies, checkFiles, printChecks } from './lint.js';
import { dependencyOrder, graphOf } from '../../core/dependencies.js';
import { visible } from '../../lib/visible.js';

export function registerAdd(ctx: CommandContext): void {
  ctx.program
    .command('add')
    .description('validate spec files and queue them (nothing is queued if any file is invalid)')
    .argument('<files...>', 'spec files')
    .option('--force', 'queue even if an identical spec (same repo, base, body, tests) is active or done')
    .option(
      '--allow-unknown-deps',
      'queue specs whose dependsOn names ids not queued yet: they wait for them (a cycle is still refused)',
    )
    .action(async (files: string[], opts: { force?: boolean; allowUnknownDeps?: boolean }) => {
      const client = await ctx.open();
      const strict = client.config.lint.strict;
      const allowUnknownDeps = opts.allowUnknownDeps === true;
      const checks = checkFiles(ctx, files, client.config);
      checkDependencies(checks, graphOf(client.store.list()), allowUnknownDeps);
      printChecks(ctx, checks, strict);
      const bad = checks.filter((c) => c.errors.length > 0 || (strict && c.warnings.length > 0));
      if (bad.length) {
        ctx.io.stderr(
          `nothing queued: ${bad.length} of ${checks.length} file(s) invalid; fix them and run add again\n`,
        );
        ctx.exitCode = 2;
        return;
      }
      // Dependencies first: the queue checks each spec's dependsOn against what is queued already.
      const ordered = dependencyOrder(
        checks.flatMap((c) => (c.spec ? [{ id: c.spec.id, dependsOn: c.spec.spec.dependsOn, c }] : [])),
      );
      for (const { c } of ordered) {
        if (!c.spec) continue;
        const outcome = await client.submit({
          kind: 'add',
          file: c.file,
          text: c.spec.text,
          force: opts.force === true,
          ...(allowUnknownDeps ? { allowUnknownDeps } : {}),
        });
        if (outcome.ok)
          ctx.io.stdout(`${outcome.queued ? 'sent' : 'queued'} ${c.spec.id}  ${visible(c.file)}\n`);
        else {
          // An outcome that names a file (its error's context) has said where: do not say it twice.
          ctx.io.stderr(`error: ${outcome.file ? outcome.message : `${c.file}: ${outcome.message}`}\n`);
          ctx.exitCode = Math.max(ctx.exitCode, outcome.exitCode ?? 1);
        }
      }
    });
}
