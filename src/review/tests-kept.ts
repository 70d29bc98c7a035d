/**
 * The tests-kept gate's decisions, as pure functions: a branch must not weaken the suite that judges it.
 * It fails when the branch
 * - deletes an existing test file (or renames it to a name no runner picks up), unless the spec names it;
 * - removes more assertions from existing test files than it adds (an emptied test still "passes"),
 *   unless the spec names the file;
 * - makes the suite run fewer tests than it ran on the branch's base (skipped tests did not run).
 */
import type { DiffFile } from './unified-diff.js';

/** Where runners look for tests: a test directory, or a test file name of a common runner. */
const TEST_DIR = /(?:^|\/)(?:tests?|__tests__|spec|specs|e2e|testing)\//;
const TEST_NAME =
  /(?:[._-](?:test|spec|e2e)\.[cm]?[jt]sx?$|(?:^|\/)test_[^/]*\.py$|_test\.(?:py|go|rb|exs?)$|_spec\.rb$|(?:Test|Tests|IT)\.(?:java|kt|cs|scala|swift)$|\.t$|\.bats$)/;

export function isTestFile(file: string): boolean {
  return TEST_NAME.test(file) || (TEST_DIR.test(file) && /\.[A-Za-z0-9]+$/.test(file));
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether the spec's text names `file` by its path (as a whole, not inside a longer path). */
export function specNames(file: string, specText: string): boolean {
  const pattern = new RegExp(`(?<![\\w./-])(?:\\./)?${escapeRegExp(file)}(?![\\w/-]|\\.\\w)`);
  return pattern.test(specText);
}

/** Existing test files that the branch deletes, or renames to a name that is not a test file's. */
export function deletedTestFiles(files: readonly DiffFile[]): string[] {
  return files
    .filter(
      (f) => f.oldPath !== null && isTestFile(f.oldPath) && (f.newPath === null || !isTestFile(f.newPath)),
    )
    .map((f) => f.oldPath!);
}

/**
 * An assertion call or statement in a common test language: expect(…), assert…(…), assert x (Python),
 * assert_eq!(…) (Rust), t.Error/t.Fatal (Go), require.X(…) (testify), .should, XCTAssert…(…).
 */
const ASSERTION =
  /\bexpect\s*\(|\bassert(?:[._]?\w+)?\s*[!(]|^\s*assert\s|\.should\b|\bt\.(?:Errorf?|Fatalf?|Fail(?:Now)?)\s*\(|\brequire\.\w+\s*\(|\bXCTAssert\w*\s*\(/g;

export function assertionCount(line: string): number {
  return line.match(ASSERTION)?.length ?? 0;
}

export interface AssertionLoss {
  file: string;
  removed: number;
  added: number;
}

/**
 * Test files (existing before the branch, and kept by it) that lose assertions: more assertion calls
 * in the lines removed than in the lines added.
 */
export function assertionLosses(files: readonly DiffFile[]): AssertionLoss[] {
  const losses: AssertionLoss[] = [];
  for (const f of files) {
    if (!f.oldPath || !f.newPath || !isTestFile(f.oldPath)) continue;
    const removed = f.removed.reduce((n, l) => n + assertionCount(l.text), 0);
    const added = f.added.reduce((n, l) => n + assertionCount(l.text), 0);
    if (removed > added) losses.push({ file: f.newPath, removed, added });
  }
  return losses;
}

/** How many tests ran on one side, and where the number comes from ("from the JUnit report at …"). */
export interface SuiteCount {
  ran: number;
  source: string;
}

export interface TestsKeptInput {
  files: readonly DiffFile[];
  specText: string;
  /** Null when no count could be made (no tests command): only the file checks apply. */
  base: SuiteCount | null;
  head: SuiteCount | null;
}

export function testsKeptVerdict(input: TestsKeptInput): { passed: boolean; evidence: string } {
  const problems: string[] = [];
  const notes: string[] = [];
  const deleted = deletedTestFiles(input.files);
  const deletedNotAllowed = deleted.filter((f) => !specNames(f, input.specText));
  const deletedAllowed = deleted.filter((f) => specNames(f, input.specText));
  if (deletedNotAllowed.length) {
    problems.push(
      `The branch deletes existing test files that the spec does not name: ${deletedNotAllowed.join(', ')}. ` +
        'Restore them (moving a test file is fine when it keeps a test file name); a test file may go only ' +
        'when the spec names its path.',
    );
  }
  if (deletedAllowed.length) notes.push(`Deleted as the spec names them: ${deletedAllowed.join(', ')}.`);
  const losses = assertionLosses(input.files).filter((l) => !specNames(l.file, input.specText));
  if (losses.length) {
    problems.push(
      'The branch removes assertions from existing tests: ' +
        losses.map((l) => `${l.file} (−${l.removed} +${l.added})`).join(', ') +
        '. Keep what the tests check (make the code pass them, do not weaken them); a test file may lose ' +
        'assertions only when the spec names its path.',
    );
  }
  if (input.base && input.head) {
    const counts = `The suite ran ${input.base.ran} on the base (${input.base.source}) and ${input.head.ran} on the branch (${input.head.source})`;
    const allowed = deletedAllowed.length > 0 || assertionLosses(input.files).length > losses.length;
    if (input.head.ran < input.base.ran && allowed) {
      notes.push(`${counts}: fewer, as the spec allows removing tests.`);
    } else if (input.head.ran < input.base.ran) {
      problems.push(
        `${counts}: ${input.base.ran - input.head.ran} fewer. Do not skip, remove or disable existing tests; ` +
          'make them pass.',
      );
    } else notes.push(`${counts}.`);
  } else {
    notes.push(
      'No tests command is configured (gates.tests.command), so the number of tests was not compared.',
    );
  }
  if (problems.length) return { passed: false, evidence: [...problems, ...notes].join('\n') };
  return {
    passed: true,
    evidence: ['No existing test file deleted and no assertion removed.', ...notes].join(' '),
  };
}
