/**
 * `nightshift import github owner/repo --label L [--queue]`: labelled open issues become spec drafts in
 * specs/drafts/ (client/github-import.ts), each linted as `nightshift lint` would; with --queue, the valid
 * ones move to the inbox and the invalid ones stay with the reasons printed (docs/integrations.md#github).
 */
import path from 'node:path';
import { graphOf } from '../../core/dependencies.js';
import { coerceError } from '../../core/errors.js';
import { acceptDraft, importedDrafts, importGithubIssues } from '../../client/github-import.js';
import { workspacePaths } from '../../config/paths.js';
import { visible } from '../../lib/visible.js';
import type { CommandContext } from '../context.js';
import { checkDependencies, checkFiles, printChecks } from './lint.js';

interface ImportOptions {
  label: string;
  queue?: boolean;
  limit: string;
}

export function registerImport(ctx: CommandContext): void {
  const cmd = ctx.program
    .command('import')
    .description('turn outside items into spec drafts (specs/drafts/)');
  cmd
    .command('github')
    .description('open GitHub issues with a label become spec drafts, through the gh CLI')
    .argument('<owner/repo>', 'the GitHub repository, e.g. acme/app')
    .requiredOption('--label <label>', 'only issues with this label')
    .option('--queue', 'send the drafts that pass lint to the inbox (specs/)')
    .option('--limit <n>', 'at most this many issues', '100')
    .action(async (repo: string, opts: ImportOptions) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        ctx.io.stderr(`error: --limit expects a whole number from 1 to 1000; found ${visible(opts.limit)}\n`);
        ctx.exitCode = 2;
        return;
      }
      if (opts.label.startsWith('-') || /[\n\r,]/.test(opts.label)) {
        ctx.io.stderr(`error: --label ${visible(opts.label)}: expected one label name\n`);
        ctx.exitCode = 2;
        return;
      }
      const client = await ctx.open();
      const paths = workspacePaths(ctx.workspaceRoot());
      const result = await importGithubIssues({
        paths,
        repo,
        label: opts.label,
        limit,
        now: ctx.io.clock.now(),
        env: ctx.io.env,
      });
      const rel = (file: string) => path.relative(ctx.io.cwd, file) || file;
      for (const k of result.known)
        ctx.io.stdout(`known   ${visible(k.source)}  drafted before as ${visible(k.draft)}\n`);
      for (const w of result.written) {
        ctx.io.stdout(`drafted ${visible(w.source)}  ${visible(rel(w.file))}\n`);
        for (const note of w.notes) ctx.io.stdout(`        note: ${visible(note)}\n`);
      }
      // Every draft of this repository still waiting, this import's and earlier ones (fixed since, say).
      const drafts = importedDrafts(paths, repo);
      const strict = client.config.lint.strict;
      const checks = checkFiles(
        ctx,
        drafts.map((d) => d.file),
        client.config,
      );
      checkDependencies(checks, graphOf(client.store.list()), false);
      printChecks(ctx, checks, strict);
      const bad = checks.filter((c) => c.errors.length > 0 || (strict && c.warnings.length > 0));
      ctx.io.stdout(`${checks.length - bad.length}/${checks.length} draft(s) of ${repo} valid\n`);
      if (!opts.queue) return;
      for (const [i, draft] of drafts.entries()) {
        const check = checks[i];
        if (!check || bad.includes(check)) {
          ctx.io.stdout(
            `kept    ${visible(rel(draft.file))}: not valid (see above); fix it and import again\n`,
          );
          continue;
        }
        try {
          const to = path.join(paths.specs, acceptDraft(paths, draft.name));
          ctx.io.stdout(`queued  ${visible(rel(to))}\n`);
        } catch (err) {
          ctx.io.stderr(`error: ${visible(coerceError(err).describe())}\n`);
          ctx.exitCode = 1;
        }
      }
      if (bad.length) ctx.exitCode = Math.max(ctx.exitCode, 2);
    });
}
