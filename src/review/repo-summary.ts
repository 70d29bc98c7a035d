/**
 * What the `llm` architect gets of a repository when it plans (`nightshift plan`): the main branch's
 * file list, its README, and the files the goal names, each within a budget of characters. Read from git
 * objects only (git/repo.ts: ls-tree, show): nothing of the repository is checked out or executed.
 */
import type { RepoSummary } from './planner-prompt.js';

export interface TreeSource {
  files(ref: string): Promise<{ path: string; size: number }[]>;
  show(ref: string, file: string): Promise<string | null>;
}

export interface SummaryBudget {
  tree: number;
  readme: number;
  /** All named files together. */
  files: number;
}

export const DEFAULT_SUMMARY_BUDGET: SummaryBudget = { tree: 20_000, readme: 12_000, files: 40_000 };

const README = /^readme(\.(md|markdown|rst|txt))?$/i;

/**
 * The paths of `tree` the goal names: written whole (`src/a.ts`), or by a file name of at least five
 * characters with an extension (`parse.ts`), in the order they appear in the goal.
 */
export function namedFiles(goal: string, paths: readonly string[]): string[] {
  const found: { at: number; path: string }[] = [];
  for (const p of paths) {
    let at = goal.indexOf(p);
    if (at === -1) {
      const base = p.slice(p.lastIndexOf('/') + 1);
      if (base.length >= 5 && base.includes('.')) {
        const m = new RegExp(`(^|[^\\w./-])${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\w/-])`).exec(
          goal,
        );
        at = m ? m.index : -1;
      }
    }
    if (at !== -1) found.push({ at, path: p });
  }
  return found.sort((a, b) => a.at - b.at || a.path.localeCompare(b.path)).map((f) => f.path);
}

function cut(text: string, max: number): { text: string; cut: boolean } {
  return text.length <= max
    ? { text, cut: false }
    : { text: `${text.slice(0, max)}\n[… cut at ${max} characters]`, cut: true };
}

export async function summarizeRepo(
  source: TreeSource,
  ref: string,
  goal: string,
  queued: readonly string[],
  budget: SummaryBudget = DEFAULT_SUMMARY_BUDGET,
): Promise<RepoSummary> {
  const files = await source.files(ref);
  const listing = cut(files.map((f) => f.path).join('\n'), budget.tree);
  const readmePath = files.map((f) => f.path).find((p) => README.test(p));
  const readmeText = readmePath ? await source.show(ref, readmePath) : null;
  const readme =
    readmePath && readmeText !== null && !readmeText.includes('\0')
      ? { path: readmePath, ...cut(readmeText, budget.readme) }
      : null;
  const named: { path: string; content: string }[] = [];
  let room = budget.files;
  let anyCut = listing.cut || (readme?.cut ?? false);
  for (const p of namedFiles(
    goal,
    files.map((f) => f.path),
  )) {
    if (p === readmePath || room <= 0) continue;
    const text = await source.show(ref, p);
    if (text === null || text.includes('\0')) continue;
    const c = cut(text, room);
    anyCut ||= c.cut;
    named.push({ path: p, content: c.text });
    room -= c.text.length;
  }
  return {
    tree: listing.text,
    readme: readme ? { path: readme.path, content: readme.text } : null,
    files: named,
    queued: [...queued],
    cut: anyCut,
  };
}
