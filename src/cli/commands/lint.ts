/** `nightshift lint <files...>`: validate specs; warnings for missing tests/stop; exit 2 on errors. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { checkNewSpecs, graphOf, type DependencyGraph } from '../../core/dependencies.js';
import { coerceError, formatIssue, type SpecIssue } from '../../core/errors.js';
import { loadConfig } from '../../config/load.js';
import { workspacePaths } from '../../config/paths.js';
import { configSchema, type Config } from '../../config/schema.js';
import { readRegularFile } from '../../queue/fsx.js';
import { checkSpec, MAX_SPEC_BYTES, type ParsedSpec } from '../../spec/parse.js';
import type { CommandContext } from '../context.js';
import { visible } from '../../lib/visible.js';

/** The workspace config if there is one; otherwise defaults (repo and provider names go unchecked). */
export function configForSpecs(ctx: CommandContext): { config: Config; fromWorkspace: boolean } {
  const paths = workspacePaths(ctx.workspaceRoot());
  if (existsSync(paths.configFile)) return { config: loadConfig(paths), fromWorkspace: true };
  return { config: configSchema.parse({}), fromWorkspace: false };
}

export interface FileCheck {
  file: string;
  spec: ParsedSpec | null;
  errors: SpecIssue[];
  warnings: SpecIssue[];
}

export function checkFiles(ctx: CommandContext, files: readonly string[], config: Config): FileCheck[] {
  return files.map((f) => {
    const file = path.relative(ctx.io.cwd, path.resolve(ctx.io.cwd, f)) || f;
    try {
      const bytes = readRegularFile(path.resolve(ctx.io.cwd, f), MAX_SPEC_BYTES);
      return { file, ...checkSpec(bytes, { file, config }) };
    } catch (err) {
      const e = coerceError(err);
      const message =
        (e.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ? 'no such file' : e.message;
      return { file, spec: null, errors: [{ file, message }], warnings: [] };
    }
  });
}

/**
 * Adds the batch's dependency problems to its checks: a cycle (within the batch or closing through
 * `queued`) always; a dependency neither queued nor in the batch unless `allowUnknown`, and only when
 * the queue is known (`queued` not null).
 */
export function checkDependencies(
  checks: readonly FileCheck[],
  queued: DependencyGraph | null,
  allowUnknown: boolean,
): void {
  const valid = checks.filter((c): c is FileCheck & { spec: ParsedSpec } => c.spec !== null);
  const problems = checkNewSpecs(
    valid.map((c) => ({ id: c.spec.id, dependsOn: c.spec.spec.dependsOn })),
    queued ?? new Map(),
    { allowUnknown: allowUnknown || queued === null },
  );
  for (const p of problems) {
    const check = valid.find((c) => c.spec.id === p.id);
    if (!check) continue;
    check.errors.push({ file: check.file, field: 'dependsOn', message: p.message });
  }
}

export function printChecks(ctx: CommandContext, checks: readonly FileCheck[], strict: boolean): void {
  for (const c of checks) {
    for (const issue of c.errors) ctx.io.stderr(`error: ${visible(formatIssue(issue))}\n`);
    for (const issue of c.warnings)
      ctx.io.stderr(`${strict ? 'error' : 'warning'}: ${visible(formatIssue(issue))}\n`);
  }
}

export function registerLint(ctx: CommandContext): void {
  ctx.program
    .command('lint')
    .description('validate spec files; warn about missing tests, stop condition and thin bodies')
    .argument('<files...>', 'spec files')
    .option('--strict', 'treat warnings as errors (also `lint.strict: true` in the config)')
    .option('--json', 'print the findings as JSON')
    .option(
      '--allow-unknown-deps',
      'accept dependsOn ids that are neither queued nor among the files (they are waited for)',
    )
    .action(
      async (files: string[], opts: { strict?: boolean; json?: boolean; allowUnknownDeps?: boolean }) => {
        const { config, fromWorkspace } = configForSpecs(ctx);
        const strict = opts.strict === true || config.lint.strict;
        const checks = checkFiles(ctx, files, config);
        // Against the workspace's queue when there is one: a cycle may close through queued tasks.
        const queued = fromWorkspace ? graphOf((await ctx.open({ sync: false })).store.list()) : null;
        checkDependencies(checks, queued, opts.allowUnknownDeps === true);
        const bad = checks.filter((c) => c.errors.length > 0 || (strict && c.warnings.length > 0));
        if (opts.json) {
          ctx.io.stdout(
            `${JSON.stringify(
              checks.map((c) => ({
                file: c.file,
                id: c.spec?.id ?? null,
                ok: !bad.includes(c),
                errors: c.errors,
                warnings: c.warnings,
              })),
              null,
              2,
            )}\n`,
          );
        } else {
          printChecks(ctx, checks, strict);
          const warned = checks.reduce((n, c) => n + c.warnings.length, 0);
          ctx.io.stdout(
            `${checks.length - bad.length}/${checks.length} spec(s) valid, ${warned} warning(s)${fromWorkspace ? '' : ' (no workspace config: repo and provider names not checked)'}\n`,
          );
        }
        if (bad.length) ctx.exitCode = 2;
      },
    );
}
