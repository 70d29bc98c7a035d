/** The gates' pure parts: test-runner output, test names in added lines, definitions in diff lines. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  declaredIn,
  findDeletions,
  languageOf,
  parseUnifiedDiff,
  type Declared,
  type Language,
} from '../../src/review/deletions.js';
import { tail } from '../../src/review/gates.js';
import { addedMentions, namedTestStatus, sourceName, testResults } from '../../src/review/named-tests.js';

const statuses = (output: string, names: string[]): Record<string, string> => {
  const results = testResults(output);
  return Object.fromEntries(names.map((name) => [name, namedTestStatus(name, results)]));
};

describe('test runner output', () => {
  it('reads vitest --reporter=verbose (with a project tag)', () => {
    const out = [
      ' RUN  v4.1.12 /repo',
      '',
      ' ✓ |unit| test/m.test.ts > math > adds two numbers 5ms',
      ' × |unit| test/m.test.ts > math > subtracts 8ms',
      '   → expected +0 to be 1 // Object.is equality',
      ' ↓ |unit| test/m.test.ts > math > skipped one',
      ' ✓ |unit| test/m.test.ts > math > nested > multiplies 0ms',
      ' ✓ |unit| test/m.test.ts > retries after 5s 12ms',
      '',
      ' FAIL  |unit| test/m.test.ts > math > subtracts',
      ' Test Files  1 failed (1)',
      '      Tests  1 failed | 3 passed | 1 skipped (5)',
    ].join('\n');
    expect(
      statuses(out, [
        'adds two numbers',
        'math > adds two numbers',
        'math adds two numbers',
        'subtracts',
        'skipped one',
        'multiplies',
        'nested > multiplies',
        'retries after 5s',
        'divides',
      ]),
    ).toEqual({
      'adds two numbers': 'passed',
      'math > adds two numbers': 'passed',
      'math adds two numbers': 'passed',
      subtracts: 'failed',
      'skipped one': 'skipped',
      multiplies: 'passed',
      'nested > multiplies': 'passed',
      'retries after 5s': 'passed',
      divides: 'missing',
    });
  });

  it("reads vitest's default reporter, escapes and all", () => {
    const out =
      '\n \u001b[31m❯\u001b[39m m.test.ts \u001b[2m(\u001b[22m\u001b[2m5 tests\u001b[22m\u001b[2m | \u001b[22m\u001b[31m1 failed\u001b[39m\u001b[2m | \u001b[22m\u001b[33m1 skipped\u001b[39m\u001b[2m)\u001b[22m\u001b[32m 10\u001b[2mms\u001b[22m\u001b[39m\n     \u001b[32m✓\u001b[39m adds two numbers\u001b[32m 3\u001b[2mms\u001b[22m\u001b[39m\n\u001b[31m     \u001b[31m×\u001b[31m subtracts\u001b[39m\u001b[32m 5\u001b[2mms\u001b[22m\u001b[39m\n     \u001b[2m\u001b[90m↓\u001b[39m\u001b[22m skipped one\n       \u001b[32m✓\u001b[39m multiplies\u001b[32m 0\u001b[2mms\u001b[22m\u001b[39m\n   \u001b[32m✓\u001b[39m top level test\u001b[32m 0\u001b[2mms\u001b[22m\u001b[39m\n\n';
    expect(
      statuses(out, ['adds two numbers', 'subtracts', 'skipped one', 'multiplies', 'top level test']),
    ).toEqual({
      'adds two numbers': 'passed',
      subtracts: 'failed',
      'skipped one': 'skipped',
      multiplies: 'passed',
      'top level test': 'passed',
    });
  });

  it('reads jest --verbose', () => {
    const out = `
 PASS  src/sum.test.js
  sum
    ✓ adds 1 + 2 to equal 3 (2 ms)
    ✓ adds negative numbers
 FAIL  src/math.test.js
  math
    ✓ multiplies (1 ms)
    ✕ divides by zero (4 ms)
    ○ skipped rounds half up
    ✎ todo handles NaN

  ● math › divides by zero

    expect(received).toThrow()

    Received function did not throw

      12 |   test('divides by zero', () => {
    > 13 |     expect(() => divide(1, 0)).toThrow();
         |                                ^

Test Suites: 1 failed, 1 passed, 2 total
Tests:       1 failed, 1 skipped, 1 todo, 3 passed, 6 total
`;
    expect(
      statuses(out, [
        'adds 1 + 2 to equal 3',
        'adds negative numbers',
        'multiplies',
        'divides by zero',
        'math › divides by zero',
        'rounds half up',
        'handles NaN',
      ]),
    ).toEqual({
      'adds 1 + 2 to equal 3': 'passed',
      'adds negative numbers': 'passed',
      multiplies: 'passed',
      'divides by zero': 'failed',
      'math › divides by zero': 'failed',
      'rounds half up': 'skipped',
      'handles NaN': 'missing',
    });
  });

  it('reads the mocha spec reporter', () => {
    const out = `
  Array
    #indexOf()
      ✔ should return -1 when the value is not present
      ✓ should return the index when present (52ms)
      1) should throw on undefined
    #push()
      - should grow


  2 passing (60ms)
  1 pending
  1 failing

  1) Array
       #indexOf()
         should throw on undefined:
     AssertionError [ERR_ASSERTION]: Missing expected exception.
`;
    expect(
      statuses(out, [
        'should return -1 when the value is not present',
        'should return the index when present',
        'should throw on undefined',
        'should grow',
      ]),
    ).toEqual({
      'should return -1 when the value is not present': 'passed',
      'should return the index when present': 'passed',
      'should throw on undefined': 'failed',
      'should grow': 'missing',
    });
  });

  it('reads node --test, spec and TAP', () => {
    const spec = `▶ math
  ✔ adds two numbers (0.95037ms)
  ✖ subtracts (1.948154ms)
    AssertionError [ERR_ASSERTION]: 0 == 1
✖ math (3.1ms)
✔ top level (0.2ms)
﹣ later (0.1ms) # SKIP
ℹ tests 4
`;
    expect(statuses(spec, ['adds two numbers', 'subtracts', 'top level', 'later'])).toEqual({
      'adds two numbers': 'passed',
      subtracts: 'failed',
      'top level': 'passed',
      later: 'skipped',
    });
    const tap = `TAP version 13
# Subtest: math
    # Subtest: adds two numbers
    ok 1 - adds two numbers
      ---
      duration_ms: 0.735784
      ...
    # Subtest: subtracts
    not ok 2 - subtracts
      ---
      duration_ms: 1.340851
      ...
ok 3 - later # SKIP not yet
1..3
`;
    expect(statuses(tap, ['adds two numbers', 'subtracts', 'later'])).toEqual({
      'adds two numbers': 'passed',
      subtracts: 'failed',
      later: 'skipped',
    });
  });

  it('reads pytest -v, -rA and bare `test_x PASSED` lines', () => {
    const verbose = `============================= test session starts ==============================
collecting ... collected 6 items

test_math.py::test_add PASSED                                            [ 16%]
test_math.py::test_sub FAILED                                            [ 33%]
test_math.py::test_param[1] PASSED                                       [ 50%]
test_math.py::test_param[2] FAILED                                       [ 66%]
test_math.py::TestMul::test_mul PASSED                                   [ 83%]
test_math.py::test_skipped SKIPPED (unconditional skip)                  [100%]

=================================== FAILURES ===================================
`;
    expect(
      statuses(verbose, [
        'test_add',
        'test_sub',
        'test_param',
        'test_param[1]',
        'test_mul',
        'TestMul::test_mul',
        'TestMul.test_mul',
        'test_skipped',
        'test_missing',
      ]),
    ).toEqual({
      test_add: 'passed',
      test_sub: 'failed',
      test_param: 'failed',
      'test_param[1]': 'passed',
      test_mul: 'passed',
      'TestMul::test_mul': 'passed',
      'TestMul.test_mul': 'passed',
      test_skipped: 'skipped',
      test_missing: 'missing',
    });
    const summary = `=========================== short test summary info ============================
PASSED test_math.py::test_add
PASSED test_math.py::TestMul::test_mul
SKIPPED [1] test_math.py:12: unconditional skip
FAILED test_math.py::test_sub - assert (1 - 1) == 1
[gw1] [ 50%] PASSED tests/test_io.py::test_reads
==================== 1 failed, 3 passed, 1 skipped in 1.27s ====================
`;
    expect(statuses(summary, ['test_add', 'test_mul', 'test_sub', 'test_reads'])).toEqual({
      test_add: 'passed',
      test_mul: 'passed',
      test_sub: 'failed',
      test_reads: 'passed',
    });
    expect(statuses('test_x PASSED\ntest_y FAILED\n', ['test_x', 'test_y'])).toEqual({
      test_x: 'passed',
      test_y: 'failed',
    });
    // Plain `pytest` prints dots: no names, so nothing passed as far as the gate can tell.
    expect(statuses('test_math.py .F.F.s                                  [100%]\n', ['test_add'])).toEqual({
      test_add: 'missing',
    });
  });

  it('reads unittest -v', () => {
    const out = `test_add (test_calc.TestCalc.test_add) ... ok
test_div (test_calc.TestCalc.test_div) ... FAIL
test_skip (test_calc.TestCalc.test_skip) ... skipped 'not today'

======================================================================
FAIL: test_div (test_calc.TestCalc.test_div)
`;
    expect(statuses(out, ['test_add', 'TestCalc.test_add', 'test_div', 'test_skip'])).toEqual({
      test_add: 'passed',
      'TestCalc.test_add': 'passed',
      test_div: 'failed',
      test_skip: 'skipped',
    });
  });

  it('reads go test -v and go test -json', () => {
    const verbose = `=== RUN   TestAdd
--- PASS: TestAdd (0.00s)
=== RUN   TestDivide
    math_test.go:14: Divide(1, 0) = 0, want error
--- FAIL: TestDivide (0.00s)
=== RUN   TestTable
=== RUN   TestTable/positive
--- PASS: TestTable (0.00s)
    --- PASS: TestTable/positive (0.00s)
=== RUN   TestSkipped
--- SKIP: TestSkipped (0.00s)
FAIL
exit status 1
FAIL	example.com/calc	0.003s
`;
    expect(
      statuses(verbose, [
        'TestAdd',
        'TestDivide',
        'TestTable',
        'TestTable/positive',
        'TestSkipped',
        'TestGone',
      ]),
    ).toEqual({
      TestAdd: 'passed',
      TestDivide: 'failed',
      TestTable: 'passed',
      'TestTable/positive': 'passed',
      TestSkipped: 'skipped',
      TestGone: 'missing',
    });
    const json = [
      '{"Time":"2025-01-02T10:00:00.1Z","Action":"run","Package":"example.com/calc","Test":"TestAdd"}',
      '{"Time":"2025-01-02T10:00:00.1Z","Action":"output","Package":"example.com/calc","Test":"TestAdd","Output":"--- PASS: TestAdd (0.00s)\\n"}',
      '{"Time":"2025-01-02T10:00:00.1Z","Action":"pass","Package":"example.com/calc","Test":"TestAdd","Elapsed":0}',
      '{"Time":"2025-01-02T10:00:00.2Z","Action":"output","Package":"example.com/calc","Test":"TestDivide","Output":"--- PASS: TestDivide (0.00s)\\n"}',
      '{"Time":"2025-01-02T10:00:00.2Z","Action":"fail","Package":"example.com/calc","Test":"TestDivide","Elapsed":0}',
      '{"Time":"2025-01-02T10:00:00.3Z","Action":"fail","Package":"example.com/calc","Elapsed":0.003}',
    ].join('\n');
    expect(statuses(json, ['TestAdd', 'TestDivide'])).toEqual({ TestAdd: 'passed', TestDivide: 'failed' });
  });

  it('reads cargo test and cargo nextest', () => {
    const cargo = `    Finished \`test\` profile [unoptimized + debuginfo] target(s) in 0.01s
     Running unittests src/lib.rs (target/debug/deps/rs-a35a48c092d3f767)

running 3 tests
test tests::adds_two ... ok
test tests::fails ... FAILED
test tests::ignored_one ... ignored

failures:

---- tests::fails stdout ----
thread 'tests::fails' (14292) panicked at src/lib.rs:8:18:

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.09s
`;
    expect(statuses(cargo, ['adds_two', 'tests::adds_two', 'fails', 'ignored_one'])).toEqual({
      adds_two: 'passed',
      'tests::adds_two': 'passed',
      fails: 'failed',
      ignored_one: 'skipped',
    });
    const nextest = `    Starting 2 tests across 1 binary
        PASS [   0.004s] calc tests::adds_two
        FAIL [   0.005s] calc tests::divides
`;
    expect(statuses(nextest, ['adds_two', 'divides'])).toEqual({ adds_two: 'passed', divides: 'failed' });
  });

  it('counts a name as passed only when no result by that name failed', () => {
    const out = 'test_math.py::test_x[a] PASSED\ntest_math.py::test_x[b] FAILED\n';
    expect(statuses(out, ['test_x'])).toEqual({ test_x: 'failed' });
  });
});

describe('test names with their suites', () => {
  it('reads the suite tree of jest --verbose, so `suite › test` matches a passing test', () => {
    const out = `
 PASS  src/sum.test.js
  sum
    ✓ adds two numbers (2 ms)
    with negatives
      ✓ adds two negatives (1 ms)
      ✕ subtracts (3 ms)
  ✓ runs at the top (1 ms)
 PASS  src/other.test.js
  other
    ✓ works

  ● sum › with negatives › subtracts

    expect(received).toBe(expected) // Object.is equality

Test Suites: 1 failed, 1 passed, 2 total
`;
    expect(
      statuses(out, [
        'sum › adds two numbers',
        'sum > adds two numbers',
        'adds two numbers',
        'sum › with negatives › adds two negatives',
        'with negatives › adds two negatives',
        'sum › with negatives › subtracts',
        'runs at the top',
        'sum › runs at the top',
        'other › works',
        'sum › works',
      ]),
    ).toEqual({
      'sum › adds two numbers': 'passed',
      'sum > adds two numbers': 'passed',
      'adds two numbers': 'passed',
      'sum › with negatives › adds two negatives': 'passed',
      'with negatives › adds two negatives': 'passed',
      'sum › with negatives › subtracts': 'failed',
      'runs at the top': 'passed',
      // A test outside a suite is not in it, and a suite's tests are not in the next file's suite.
      'sum › runs at the top': 'missing',
      'other › works': 'passed',
      'sum › works': 'missing',
    });
  });

  it('reads the suite tree of the mocha spec reporter', () => {
    const out = `

  Array
    #indexOf()
      ✔ should return -1 when the value is not present
      1) should throw on undefined
    #push()
      ✔ should grow (52ms)

  Map
    ✔ should grow


  3 passing (60ms)
  1 failing

  1) Array
       #indexOf()
         should throw on undefined:
     AssertionError [ERR_ASSERTION]: Missing expected exception.
`;
    expect(
      statuses(out, [
        'Array #indexOf() should return -1 when the value is not present',
        'Array > #push() > should grow',
        '#indexOf() > should throw on undefined',
        'Map > should grow',
        'Array > should grow',
      ]),
    ).toEqual({
      'Array #indexOf() should return -1 when the value is not present': 'passed',
      'Array > #push() > should grow': 'passed',
      '#indexOf() > should throw on undefined': 'failed',
      'Map > should grow': 'passed',
      'Array > should grow': 'missing',
    });
  });

  it('reads the suite tree of node --test (spec and TAP), as node prints it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-node-test-'));
    try {
      writeFileSync(
        path.join(dir, 'math.test.mjs'),
        [
          "import { describe, it, test } from 'node:test';",
          "import assert from 'node:assert';",
          "describe('math', () => {",
          "  it('adds two numbers', () => assert.equal(1 + 1, 2));",
          "  describe('nested suite', () => {",
          "    it('multiplies', () => assert.equal(2 * 2, 4));",
          "    it('fails here', () => assert.equal(1, 2));",
          '  });',
          '});',
          "test('top level', () => {});",
        ].join('\n'),
      );
      for (const reporter of ['spec', 'tap']) {
        // A real run: the exit status is 1 (one test fails); the output is what the gate reads.
        const run = spawnSync(process.execPath, ['--test', `--test-reporter=${reporter}`, 'math.test.mjs'], {
          cwd: dir,
          encoding: 'utf8',
          env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
        });
        expect(run.status, reporter).toBe(1);
        expect(
          statuses(run.stdout + run.stderr, [
            'math > adds two numbers',
            'adds two numbers',
            'math > nested suite > multiplies',
            'nested suite > multiplies',
            'math > nested suite > fails here',
            'top level',
            'math > top level',
          ]),
          reporter,
        ).toEqual({
          'math > adds two numbers': 'passed',
          'adds two numbers': 'passed',
          'math > nested suite > multiplies': 'passed',
          'nested suite > multiplies': 'passed',
          'math > nested suite > fails here': 'failed',
          'top level': 'passed',
          'math > top level': 'missing',
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names go subtests by their full path or their last segment, as the added-lines check does', () => {
    const verbose = `=== RUN   TestTable
=== RUN   TestTable/sub_case
=== RUN   TestTable/other_case
    table_test.go:20: got 3, want 4
--- FAIL: TestTable (0.00s)
    --- PASS: TestTable/sub_case (0.00s)
    --- FAIL: TestTable/other_case (0.00s)
FAIL
`;
    const json = [
      '{"Action":"pass","Package":"example.com/calc","Test":"TestTable/sub_case","Elapsed":0}',
      '{"Action":"fail","Package":"example.com/calc","Test":"TestTable/other_case","Elapsed":0}',
    ].join('\n');
    for (const out of [verbose, json]) {
      expect(statuses(out, ['sub_case', 'TestTable/sub_case', 'other_case', 'TestTable/other_case'])).toEqual(
        {
          sub_case: 'passed',
          'TestTable/sub_case': 'passed',
          other_case: 'failed',
          'TestTable/other_case': 'failed',
        },
      );
    }
    // The added-lines check looks for the same last segment.
    expect(sourceName('TestTable/sub_case')).toBe('sub_case');
    expect(addedMentions('TestTable/sub_case', ['\t\t{name: "sub_case", in: 1},'])).toBe(true);
  });
});

describe('test names in added lines', () => {
  it('finds the name as a whole word, by its last segment', () => {
    const lines = [
      "  it('adds two numbers', () => {",
      'def test_add_more():',
      'func TestAdd(t *testing.T) {',
    ];
    expect(addedMentions('adds two numbers', lines)).toBe(true);
    expect(addedMentions('math > adds two numbers', lines)).toBe(true);
    expect(addedMentions('test_add_more', lines)).toBe(true);
    expect(addedMentions('test_add', lines)).toBe(false);
    expect(addedMentions('TestAdd', lines)).toBe(true);
    expect(addedMentions('TestAd', lines)).toBe(false);
    expect(addedMentions('test_math.py::test_add_more[1]', lines)).toBe(true);
  });

  it('takes the source name from suite paths', () => {
    expect(sourceName('math > adds two')).toBe('adds two');
    expect(sourceName('TestMul::test_mul')).toBe('test_mul');
    expect(sourceName('TestTable/positive')).toBe('positive');
    expect(sourceName('test_param[1]')).toBe('test_param');
    expect(sourceName('reads a/b paths')).toBe('reads a/b paths');
  });
});

const names = (line: string, language: Language): string[] =>
  declaredIn(line, language).map((d: Declared) => `${d.kind}:${d.key}`);

describe('definitions in a line', () => {
  it('recognises TypeScript and JavaScript definitions', () => {
    const cases: [string, string[]][] = [
      ['function foo(a) {', ['function:foo']],
      ['export async function* gen() {', ['function:gen']],
      ['export default function main() {', ['function:main']],
      ['export class Store<T> extends Base {', ['class:Store']],
      ['export abstract class Shape {', ['class:Shape']],
      ['class Local {', ['class:Local']],
      ['export const LIMIT = 4;', ['export const:LIMIT']],
      ['export let state: State = init();', ['export const:state']],
      ['export const run = async (x: number): Promise<void> => {', ['export const:run']],
      ['const helper = (a, b) => a + b;', ['function:helper']],
      ['const wrap = async x => x;', ['function:wrap']],
      ['let legacy = function () {', ['function:legacy']],
      ['export interface Options {', ['export interface:Options']],
      ['export type Mode = "a" | "b";', ['export type:Mode']],
      ['export enum Color {', ['export enum:Color']],
      ['export const enum Flag {', ['export const enum:Flag']],
      ['export { a, b as c, type D };', ['export:a', 'export:c', 'export:D']],
      ["export { parse } from './parse.js';", ['export:parse']],
      ["export * from './lib.js';", ['export *:* from ./lib.js']],
      ["export * as lib from './lib.js';", ['export * as:lib']],
      ['export default router;', ['export default:default']],
      ['export const { x, y: z } = obj;', ['export const:x', 'export const:z']],
      ['module.exports.handler = function () {};', ['export:handler']],
      ['  async run(argv: string[]): Promise<void> {', ['method:run']],
      ['  constructor(private readonly x: string) {', ['method:constructor']],
      ['  get size(): number {', ['method:size']],
      ['  static create(', ['method:create']],
      ['  #secret() {', ['method:secret']],
      ['  private handle = async (e: Event) => {', ['method:handle']],
      ['  onClick = () => {', ['method:onClick']],
      // Not definitions:
      ['  const local = () => 1;', []],
      ['  if (x) {', []],
      ['  for (const a of b) {', []],
      ['  } else if (y) {', []],
      ["  it('adds', () => {", []],
      ["  test('adds', async function () {", []],
      ['  describe(name, () => {', []],
      ['  expect(x).toEqual({', []],
      ['  foo(a, b);', []],
      ['  run(argv: string[]): void;', []],
      ['// function commented() {', []],
      [' * function inDocs() {', []],
      ['const x = 5;', []],
      ['type Local = string;', []],
    ];
    for (const [line, expected] of cases) expect(names(line, 'js'), line).toEqual(expected);
  });

  it('recognises Python, Go and Rust definitions', () => {
    const cases: [string, Language, string[]][] = [
      ['def parse(text):', 'python', ['def:parse']],
      ['    async def fetch(self, url):', 'python', ['def:fetch']],
      ['class Store(Base):', 'python', ['class:Store']],
      ['# def commented():', 'python', []],
      ['    return parse(x)', 'python', []],
      ['func Parse(s string) (int, error) {', 'go', ['func:Parse']],
      ['func (s *Server) Start(ctx context.Context) error {', 'go', ['method:Server.Start']],
      ['func (Stack[T]) Len() int {', 'go', ['method:Stack.Len']],
      ['type Server struct {', 'go', ['struct:Server']],
      ['type Store interface {', 'go', ['interface:Store']],
      ['type ID string', 'go', ['type:ID']],
      ['\tx := parse(s)', 'go', []],
      ['pub fn parse(s: &str) -> u32 {', 'rust', ['pub fn:parse']],
      ['    pub(crate) async unsafe fn raw() {', 'rust', ['pub fn:raw']],
      ['    fn helper(&self) -> bool {', 'rust', ['fn:helper']],
      ['pub struct Config {', 'rust', ['pub struct:Config']],
      ['enum State {', 'rust', ['enum:State']],
      ['pub trait Store: Send {', 'rust', ['pub trait:Store']],
      ['impl Config {', 'rust', ['impl:impl Config']],
      ['impl<T: Into<String>> From<T> for Wrapper {', 'rust', ['impl:impl From<T> for Wrapper']],
      ['macro_rules! check {', 'rust', ['macro:check!']],
      ['    let x = parse(s);', 'rust', []],
    ];
    for (const [line, language, expected] of cases) expect(names(line, language), line).toEqual(expected);
  });

  it('knows languages by extension', () => {
    expect(['a.ts', 'b.tsx', 'c.mjs', 'd.py', 'e.go', 'f.rs', 'g.md', 'Makefile'].map(languageOf)).toEqual([
      'js',
      'js',
      'js',
      'python',
      'go',
      'rust',
      null,
      null,
    ]);
  });
});

describe('unified diffs', () => {
  it('follows hunk lengths, so a removed `-- x` line is not a header', () => {
    const diff = [
      'diff --git a/q.sql b/q.sql',
      'index 1..2 100644',
      '--- a/q.sql',
      '+++ b/q.sql',
      '@@ -3,2 +3 @@ select',
      '--- a comment',
      '-drop table x;',
      '+-- kept',
      'diff --git a/old name.ts b/new name.ts',
      'similarity index 90%',
      'rename from old name.ts',
      'rename to new name.ts',
      '--- a/old name.ts\t',
      '+++ b/new name.ts\t',
      '@@ -10,0 +11,2 @@',
      '+export function added() {',
      '+}',
      'diff --git a/gone.py b/gone.py',
      'deleted file mode 100644',
      '--- a/gone.py',
      '+++ /dev/null',
      '@@ -1,2 +0,0 @@',
      '-def gone():',
      '-    pass',
      '\\ No newline at end of file',
      'diff --git "a/odd\\"name.go" "b/odd\\"name.go"',
      '--- "a/odd\\"name.go"',
      '+++ "b/odd\\"name.go"',
      '@@ -1 +1 @@',
      '-func A() {}',
      '+func B() {}',
    ].join('\n');
    const files = parseUnifiedDiff(diff);
    expect(files.map((f) => [f.oldPath, f.newPath])).toEqual([
      ['q.sql', 'q.sql'],
      ['old name.ts', 'new name.ts'],
      ['gone.py', null],
      ['odd"name.go', 'odd"name.go'],
    ]);
    expect(files[0]!.removed).toEqual([
      { line: 3, text: '-- a comment' },
      { line: 4, text: 'drop table x;' },
    ]);
    expect(files[0]!.added).toEqual([{ line: 3, text: '-- kept' }]);
    expect(files[1]!.added.map((l) => l.line)).toEqual([11, 12]);
    expect(files[2]!.removed.map((l) => l.text)).toEqual(['def gone():', '    pass']);
    const report = findDeletions(files, 'Rename A to B.');
    expect(report.removed.map((d) => `${d.file}:${d.line} ${d.key}`)).toEqual(['gone.py:1 gone']);
    expect(report.named.map((d) => d.key)).toEqual(['A']);
  });

  it('treats a reflowed export list as unchanged, and a dropped export as removed', () => {
    const diff = [
      'diff --git a/i.ts b/i.ts',
      '--- a/i.ts',
      '+++ b/i.ts',
      '@@ -1,2 +1,5 @@',
      '-export { alpha, beta } from "./x.js";',
      '-export function gamma() {',
      '+export {',
      '+  alpha,',
      '+  beta,',
      '+} from "./x.js";',
      '+function gamma() {',
    ].join('\n');
    const report = findDeletions(parseUnifiedDiff(diff), '');
    expect(report.moved.map((d) => d.key)).toEqual(['alpha', 'beta']);
    expect(report.removed.map((d) => `${d.kind} ${d.key}`)).toEqual(['function (no longer exported) gamma']);
  });
});

describe('evidence', () => {
  it('keeps the tail of long output, from a line start', () => {
    const text = Array.from({ length: 1000 }, (_, i) => `line ${i + 1}`).join('\n');
    const kept = tail(text, 500);
    expect(kept.length).toBeLessThanOrEqual(500);
    expect(kept).toMatch(/^\[… \d+ earlier characters cut\]\nline \d+\n/);
    expect(kept.endsWith('line 1000')).toBe(true);
    expect(tail('   \n', 100)).toBe('(no output)');
  });
});
