/**
 * The deletions gate's decision, as a pure function: of the definitions a diff removes (declarations.ts
 * reads them from the lines of the diff, unified-diff.ts reads the diff), which were not put back.
 * A definition removed in one place and added in another (a move, or an edited signature) under the same
 * name is not a deletion — unless it lost its `export`/`pub`, which is reported as such.
 */
import { definitions, type Definition } from './declarations.js';
import type { DiffFile } from './unified-diff.js';

export { declaredIn, languageOf, type Declared, type Definition, type Language } from './declarations.js';
export { parseUnifiedDiff, type DiffFile, type DiffLine } from './unified-diff.js';

export interface DeletionReport {
  /** Removed and not put back, and the spec does not name them: these fail the gate. */
  removed: Definition[];
  /** Removed, and named by the spec's text: allowed. */
  named: Definition[];
  /** Removed and added again under the same name (moved or edited). */
  moved: Definition[];
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `word` occurs in `text` on its own (not inside a longer identifier). */
export function mentions(text: string, word: string): boolean {
  const head = /^[\w$]/.test(word) ? '(?<![\\w$])' : '';
  const tail = /[\w$]$/.test(word) ? '(?![\\w$])' : '';
  return new RegExp(head + escapeRegExp(word) + tail).test(text);
}

/**
 * Sorts the definitions the diff removes: put back under the same name anywhere in the diff (`moved`),
 * named by the spec (`named`), or really removed (`removed`). A definition that was exported and comes
 * back only unexported counts as removed.
 */
export function findDeletions(files: readonly DiffFile[], specText: string): DeletionReport {
  const added = new Map<string, { exported: boolean }>();
  for (const def of definitions(files, 'added')) {
    const seen = added.get(def.key);
    added.set(def.key, { exported: (seen?.exported ?? false) || def.exported });
  }
  const report: DeletionReport = { removed: [], named: [], moved: [] };
  for (const def of definitions(files, 'removed')) {
    const back = added.get(def.key);
    if (back && (back.exported || !def.exported)) report.moved.push(def);
    else if (def.words.some((word) => mentions(specText, word))) report.named.push(def);
    else report.removed.push(back ? { ...def, kind: `${def.kind} (no longer exported)` } : def);
  }
  return report;
}
