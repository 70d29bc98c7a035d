/**
 * `lint --strict` for a batch of spec texts that exist only in memory (the architect's drafts): every
 * error, every warning (strict), and the batch's dependency problems, per text. The same checks as
 * `nightshift lint --strict` (cli/commands/lint.ts), so a draft that passes here passes there.
 */
import { checkNewSpecs, type DependencyGraph } from '../core/dependencies.js';
import { formatIssue } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import { checkSpec, type ParsedSpec } from './parse.js';

export interface StrictCheck {
  file: string;
  spec: ParsedSpec | null;
  /** Each problem as `lint` prints it (file:line: field: message). Empty: the spec passes `lint --strict`. */
  problems: string[];
}

/** A fenced block the scripted test provider would follow: never in a spec the architect wrote. */
const SCRIPT_FENCE = /^[ \t]*(`{3,}|~{3,})[ \t]*nightshift-script\b/im;

/**
 * Checks each `{file, text}` strictly. `queued` is the workspace's dependency graph: a `dependsOn` must
 * name a queued task or another spec of the batch, and no cycle may close. `architectWritten` also
 * refuses a `nightshift-script` block (the scripted provider's instructions: a test harness, never a
 * thing a model may hand an executor).
 */
export function lintStrict(
  batch: readonly { file: string; text: string }[],
  config: Config,
  queued: DependencyGraph,
  opts: { architectWritten?: boolean; allowUnknownDeps?: boolean } = {},
): StrictCheck[] {
  const checks = batch.map(({ file, text }) => {
    const c = checkSpec(Buffer.from(text, 'utf8'), { file, config });
    const problems = [...c.errors, ...c.warnings].map(formatIssue);
    if (opts.architectWritten && SCRIPT_FENCE.test(text)) {
      problems.push(
        `${file}: a nightshift-script block is the scripted test provider's; a spec the architect wrote may not carry one`,
      );
    }
    return { file, spec: c.spec, problems };
  });
  const valid = checks.filter((c): c is StrictCheck & { spec: ParsedSpec } => c.spec !== null);
  const seen = new Map<string, number>();
  for (const c of valid) seen.set(c.spec.id, (seen.get(c.spec.id) ?? 0) + 1);
  for (const c of valid) {
    if ((seen.get(c.spec.id) ?? 0) > 1) c.problems.push(`${c.file}: id "${c.spec.id}" is used by two drafts`);
    if (queued.has(c.spec.id)) c.problems.push(`${c.file}: id "${c.spec.id}" is already a queued task's`);
  }
  const deps = checkNewSpecs(
    valid.map((c) => ({ id: c.spec.id, dependsOn: c.spec.spec.dependsOn })),
    queued,
    { allowUnknown: opts.allowUnknownDeps === true },
  );
  for (const p of deps) {
    const c = valid.find((v) => v.spec.id === p.id);
    c?.problems.push(`${c.file}: dependsOn: ${p.message}`);
  }
  return checks;
}
