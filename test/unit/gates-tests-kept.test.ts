/** The tests-kept gate's decisions: test files, the spec's permission, assertions, the count comparison. */
import { describe, expect, it } from 'vitest';
import type { DiffFile } from '../../src/review/deletions.js';
import {
  assertionCount,
  assertionLosses,
  deletedTestFiles,
  isTestFile,
  specNames,
  testsKeptVerdict,
} from '../../src/review/tests-kept.js';

const file = (
  oldPath: string | null,
  newPath: string | null,
  removed: string[] = [],
  added: string[] = [],
): DiffFile => ({
  oldPath,
  newPath,
  removed: removed.map((text, i) => ({ line: i + 1, text })),
  added: added.map((text, i) => ({ line: i + 1, text })),
});

it('knows test files of common runners, and not source files', () => {
  for (const f of [
    'src/a.test.ts',
    'a.spec.js',
    'test/unit/x.ts',
    'pkg/__tests__/x.jsx',
    'tests/test_calc.py',
    'test_calc.py',
    'calc_test.go',
    'spec/models/user_spec.rb',
    'src/test/java/FooTest.java',
    't/basic.t',
  ]) {
    expect(isTestFile(f), f).toBe(true);
  }
  for (const f of ['src/a.ts', 'calc.py', 'testing.md', 'src/contest.ts', 'latest.go', 'test', 'README.md']) {
    expect(isTestFile(f), f).toBe(false);
  }
});

it('finds deleted test files, and renames that leave no test file', () => {
  expect(
    deletedTestFiles([
      file('a.test.ts', null),
      file('b.test.ts', 'moved/b.test.ts'),
      file('c.test.ts', 'c.ts.bak'),
      file('src/x.ts', null),
      file(null, 'new.test.ts'),
    ]),
  ).toEqual(['a.test.ts', 'c.test.ts']);
});

it('takes a file as allowed only when the spec names its whole path', () => {
  expect(specNames('test/old.test.ts', 'Remove `test/old.test.ts`: it tests the old API.')).toBe(true);
  expect(specNames('test/old.test.ts', 'Remove ./test/old.test.ts.')).toBe(true);
  expect(specNames('test/old.test.ts', 'Remove old.test.ts.')).toBe(false);
  expect(specNames('test/old.test.ts', 'See test/old.test.tsx and mytest/old.test.ts.')).toBe(false);
});

it('counts assertion calls in common test languages', () => {
  expect(assertionCount('expect(a).toBe(1); expect(b).toBe(2);')).toBe(2);
  expect(assertionCount('assert.equal(sum(1, 2), 3)')).toBe(1);
  expect(assertionCount('    assert add(1, 2) == 3')).toBe(1);
  expect(assertionCount('self.assertEqual(x, 1)')).toBe(1);
  expect(assertionCount('assert_eq!(add(1, 2), 3);')).toBe(1);
  expect(assertionCount('t.Fatalf("bad %d", x)')).toBe(1);
  expect(assertionCount('require.NoError(t, err)')).toBe(1);
  expect(assertionCount('const expected = 3; // no call here')).toBe(0);
});

it('reports existing test files that lose assertions, not new or moved-with-them ones', () => {
  expect(
    assertionLosses([
      file(
        'a.test.ts',
        'a.test.ts',
        ['  expect(sum(1, 2)).toBe(3);', '  expect(sum(0, 0)).toBe(0);'],
        ['  // later'],
      ),
      file('b.test.ts', 'b.test.ts', ['  expect(x).toBe(1);'], ['  expect(x).toEqual(1);']),
      file(null, 'c.test.ts', [], []),
      file('src/a.ts', 'src/a.ts', ['assert(x)'], []),
    ]),
  ).toEqual([{ file: 'a.test.ts', removed: 2, added: 0 }]);
});

describe('testsKeptVerdict', () => {
  const base = { ran: 5, source: 'from the JUnit report at junit.xml' };

  it('passes when nothing is deleted and at least as many tests run', () => {
    const v = testsKeptVerdict({ files: [], specText: '', base, head: { ...base, ran: 6 } });
    expect(v.passed).toBe(true);
    expect(v.evidence).toContain(
      'The suite ran 5 on the base (from the JUnit report at junit.xml) and 6 on the branch',
    );
  });

  it('fails when fewer tests run than on the base, saying how many and from where', () => {
    const v = testsKeptVerdict({
      files: [],
      specText: '',
      base,
      head: { ran: 4, source: 'from console output' },
    });
    expect(v.passed).toBe(false);
    expect(v.evidence).toMatch(
      /ran 5 on the base \(from the JUnit report at junit.xml\) and 4 on the branch \(from console output\): 1 fewer/,
    );
  });

  it('fails a deleted test file unless the spec names it', () => {
    const files = [file('test/old.test.ts', null, ['expect(1).toBe(1)'])];
    const failed = testsKeptVerdict({ files, specText: 'Tidy up.', base, head: base });
    expect(failed.passed).toBe(false);
    expect(failed.evidence).toContain(
      'deletes existing test files that the spec does not name: test/old.test.ts',
    );
    const allowed = testsKeptVerdict({ files, specText: 'Delete test/old.test.ts.', base, head: base });
    expect(allowed.passed).toBe(true);
    expect(allowed.evidence).toContain('Deleted as the spec names them: test/old.test.ts.');
  });

  it('fails emptied assertions unless the spec names the file; counts alone are not enough', () => {
    const files = [file('a.test.ts', 'a.test.ts', ['  expect(sum(1, 2)).toBe(3);'], [])];
    const v = testsKeptVerdict({ files, specText: '', base, head: base });
    expect(v.passed).toBe(false);
    expect(v.evidence).toContain('removes assertions from existing tests: a.test.ts (−1 +0)');
    expect(testsKeptVerdict({ files, specText: 'rewrite a.test.ts', base, head: base }).passed).toBe(true);
  });

  it('without a tests command, checks the files only and says so', () => {
    const v = testsKeptVerdict({ files: [], specText: '', base: null, head: null });
    expect(v.passed).toBe(true);
    expect(v.evidence).toContain('number of tests was not compared');
  });
});
