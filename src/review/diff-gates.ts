/**
 * The verdicts of the gates that judge the branch's git history alone — the diff budget, deletions and
 * commits — as pure functions of what gate-git.ts read. They run no command of the branch's.
 */
import type { Config } from '../config/schema.js';
import type { Definition } from './declarations.js';
import { findDeletions } from './deletions.js';
import { plural, type Verdict } from './evidence.js';
import type { DiffFile } from './unified-diff.js';

/** The schema's defaults, for a gate turned on by a toggle without a config section. */
const DEFAULTS = { maxLines: 1500, maxFiles: 40, maxCommits: 15 };

/** The diff gate: changed lines and files (`git diff --numstat`) within gates.diff's budget. */
export function diffBudgetVerdict(config: Config, numstat: string): Verdict {
  const maxLines = config.gates.diff?.maxLines ?? DEFAULTS.maxLines;
  const maxFiles = config.gates.diff?.maxFiles ?? DEFAULTS.maxFiles;
  const files = numstat
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const [plus = '-', minus = '-', ...name] = line.split('\t');
      const added = plus === '-' ? 0 : Number(plus);
      const deleted = minus === '-' ? 0 : Number(minus);
      return { name: name.join('\t'), added, deleted, binary: plus === '-' };
    });
  const added = files.reduce((sum, f) => sum + f.added, 0);
  const deleted = files.reduce((sum, f) => sum + f.deleted, 0);
  const lines = added + deleted;
  const summary = `${plural(lines, 'changed line')} (+${added} −${deleted}) in ${plural(files.length, 'file')}; the budget is ${plural(maxLines, 'line')} and ${plural(maxFiles, 'file')}.`;
  if (lines <= maxLines && files.length <= maxFiles) return { passed: true, evidence: summary };
  const over = [
    lines > maxLines ? plural(lines - maxLines, 'line') : null,
    files.length > maxFiles ? plural(files.length - maxFiles, 'file') : null,
  ].filter(Boolean);
  const largest = [...files]
    .sort((a, b) => b.added + b.deleted - (a.added + a.deleted))
    .slice(0, 10)
    .map((f) => `  ${f.binary ? 'binary' : `+${f.added} −${f.deleted}`}  ${f.name}`);
  return {
    passed: false,
    evidence:
      `${summary} Over by ${over.join(' and ')}: keep to what the spec asks (no reformatting, generated or ` +
      `unrelated files), or the spec must be split. The largest changes:\n${largest.join('\n')}`,
  };
}

/** The deletions gate: no definition removed unless the spec names it (deletions.ts finds them). */
export function deletionsVerdict(files: readonly DiffFile[], specText: string): Verdict {
  const report = findDeletions(files, specText);
  const where = (d: Definition): string => `${d.file}:${d.line}`;
  const notes: string[] = [];
  if (report.named.length) {
    notes.push(
      `Removed as the spec names them: ${report.named.map((d) => `${d.key} (${where(d)})`).join(', ')}.`,
    );
  }
  if (report.moved.length)
    notes.push(
      `${plural(report.moved.length, 'definition')} moved or changed in place, under the same name.`,
    );
  if (report.removed.length === 0) {
    return {
      passed: true,
      evidence: ['No function, method, class or export definition removed.', ...notes].join(' '),
    };
  }
  const list = report.removed.slice(0, 40).map((d) => `  ${where(d)}  ${d.kind} ${d.key}: ${d.text}`);
  if (report.removed.length > 40) list.push(`  … and ${report.removed.length - 40} more`);
  return {
    passed: false,
    evidence: [
      `The diff removes ${plural(report.removed.length, 'definition')} that the spec does not name. Restore them ` +
        '(moving one is fine: keep its name); a removal passes only when the spec names what it removes.',
      ...list,
      ...notes,
    ].join('\n'),
  };
}

/** The commits gate: at most gates.commits.max commits in `range` (`<base sha>..<head sha>`). */
export function commitsVerdict(config: Config, count: number, range: string): Verdict {
  const max = config.gates.commits?.max ?? DEFAULTS.maxCommits;
  const base = range.slice(0, 12);
  if (count <= max) return { passed: true, evidence: `${plural(count, 'commit')} (the limit is ${max}).` };
  return {
    passed: false,
    evidence:
      `${plural(count, 'commit')} on the branch, more than the limit of ${max}. Squash related commits ` +
      `(e.g. \`git rebase -i ${base}\`) so that at most ${max} remain.`,
  };
}
