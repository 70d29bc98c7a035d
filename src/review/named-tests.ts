/**
 * The named-tests gate's two checks, as pure functions over text:
 *
 * - `testResults(output)` reads per-test results out of a test runner's output: vitest (verbose and the
 *   default reporter's failure listing), jest (`--verbose`), mocha and `node --test` (`✓ name` under
 *   indented suite lines, which make the test's path), TAP (`ok 1 - name`), pytest (`-v`, `-rA`),
 *   unittest (`-v`), go test (`-v`, `-json`, subtests as `TestX/sub`), cargo test and cargo nextest.
 * - `addedMentions(name, addedLines)` tells whether a test name appears in the diff's added lines.
 *
 * Runners print only what they are told to: a passing test shows up only when the command prints each
 * test (vitest --reporter=verbose, jest --verbose, pytest -v, go test -v; cargo test always does).
 */

export type TestStatus = 'passed' | 'failed' | 'skipped';

export interface TestResult {
  /** The test's path as the runner prints it, outermost first (file, suites, test). */
  path: string[];
  status: TestStatus;
}

const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

/** Text without terminal escapes and carriage-return progress lines, split into lines. */
export function outputLines(output: string): string[] {
  return output.replace(ANSI, '').split(/\r\n|\r|\n/);
}

const PASS_MARK = /^\s*(?:✓|✔|√|✅)\s+(.+?)\s*$/u;
const FAIL_MARK = /^\s*(?:×|✕|✖|✗|❌)\s+(.+?)\s*$/u;
/** vitest `↓ name`, jest `○ skipped name`, node `﹣ name (0.1ms) # SKIP`. */
const SKIP_MARK = /^\s*(?:↓|﹣|○(?:\s+skipped)?)\s+(.+?)(?:\s+#\s*(?:SKIP|TODO)\b.*)?\s*$/u;
/** vitest's failure headers: ` FAIL  file > suite > test`; jest's: `● suite › test`. */
const VITEST_FAIL = /^\s*FAIL\s+(.+?\s>\s.+?)\s*$/;
const JEST_FAIL = /^\s*●\s+(.+?)\s*$/u;
/** mocha lists failures as `  1) name`. */
const MOCHA_FAIL = /^\s+\d+\)\s+(.+?):?\s*$/;
const TAP = /^\s*(not ok|ok)\s+\d+\s*(?:-\s*)?(.+?)\s*$/;
/** pytest -v: `path::test PASSED  [ 50%]`; also `test_x PASSED`. */
const PYTEST_V =
  /^\s*(?:\[gw\d+\]\s+(?:\[\s*\d+%\]\s+)?)?(\S+?)\s+(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b/;
/** pytest -rA / xdist: `PASSED path::test`, `FAILED path::test - reason`. */
const PYTEST_SUMMARY =
  /^\s*(?:\[gw\d+\]\s+(?:\[\s*\d+%\]\s+)?)?(PASSED|FAILED|ERROR|XPASS|XFAIL)\s+(\S+?)(?:\s+-\s.*)?$/;
/** go test -v: `--- PASS: TestX (0.00s)`, indented for subtests. */
const GO_TEST = /^\s*---\s+(PASS|FAIL|SKIP):\s+(\S+)/;
/** cargo test: `test path::name ... ok`. */
const CARGO_TEST = /^\s*test\s+(.+?)\s+\.\.\.\s+(ok|FAILED|ignored|bench)\b/;
/** cargo nextest: `        PASS [   0.004s] crate path::name`. */
const NEXTEST = /^\s*(PASS|FAIL|SIGSEGV|SIGABRT|TIMEOUT|LEAK|SKIP)\s+\[\s*[\d.]+s\]\s+(?:\S+\s+)?(\S+)\s*$/;
/** unittest -v: `test_add (pkg.TestMath.test_add) ... ok`. */
const UNITTEST =
  /^\s*(\w+)\s+\(([\w.]+)\)\s+\.\.\.\s+(ok|FAIL|ERROR|skipped|expected failure|unexpected success)\b/;

const STATUS_OF: Record<string, TestStatus> = {
  PASS: 'passed',
  PASSED: 'passed',
  XPASS: 'passed',
  ok: 'passed',
  'unexpected success': 'passed',
  FAIL: 'failed',
  FAILED: 'failed',
  ERROR: 'failed',
  SIGSEGV: 'failed',
  SIGABRT: 'failed',
  TIMEOUT: 'failed',
  LEAK: 'failed',
  'not ok': 'failed',
  SKIP: 'skipped',
  SKIPPED: 'skipped',
  XFAIL: 'skipped',
  ignored: 'skipped',
  skipped: 'skipped',
  bench: 'skipped',
  'expected failure': 'skipped',
};

const splitPath = (text: string, separator: RegExp): string[] =>
  text
    .split(separator)
    .map((s) => s.trim())
    .filter(Boolean);

/** `|unit| test/a.test.ts > suite > name` → [test/a.test.ts, suite, name] (vitest's project tag dropped). */
const markedPath = (text: string): string[] => splitPath(text.replace(/^\|[^|]+\|\s*/, ''), /\s+(?:>|›)\s+/);

function goJson(line: string): TestResult | null {
  if (!line.startsWith('{') || !line.includes('"Action"')) return null;
  try {
    const event = JSON.parse(line) as { Action?: unknown; Test?: unknown };
    if (typeof event.Test !== 'string' || typeof event.Action !== 'string') return null;
    const status = { pass: 'passed', fail: 'failed', skip: 'skipped' }[event.Action] as
      TestStatus | undefined;
    return status ? { path: goPath(event.Test), status } : null;
  } catch {
    return null;
  }
}

/** go test's subtests: `TestTable/positive` → [TestTable, positive]. */
const goPath = (name: string): string[] => splitPath(name, /\//);

/**
 * A line that the runner prints with its own full path (or that needs none): go, cargo, nextest,
 * unittest, pytest. Null when the line is not one of those.
 */
function parseFlatLine(line: string): TestResult | null {
  let m: RegExpExecArray | null;
  if ((m = GO_TEST.exec(line))) return { path: goPath(m[2]!), status: STATUS_OF[m[1]!]! };
  if ((m = CARGO_TEST.exec(line))) return { path: splitPath(m[1]!, /::/), status: STATUS_OF[m[2]!]! };
  if ((m = NEXTEST.exec(line))) return { path: splitPath(m[2]!, /::/), status: STATUS_OF[m[1]!]! };
  if ((m = UNITTEST.exec(line))) {
    const dotted = splitPath(m[2]!, /\./);
    return { path: dotted.at(-1) === m[1] ? dotted : [...dotted, m[1]!], status: STATUS_OF[m[3]!]! };
  }
  if ((m = PYTEST_SUMMARY.exec(line))) return { path: splitPath(m[2]!, /::/), status: STATUS_OF[m[1]!]! };
  if ((m = PYTEST_V.exec(line))) return { path: splitPath(m[1]!, /::/), status: STATUS_OF[m[2]!]! };
  return null;
}

/**
 * A test line of a runner that may print suites as an indented tree (jest, mocha, `node --test`, TAP):
 * the path as the line prints it, to be put under the suites that enclose it.
 */
function parseTreeLine(line: string): TestResult | null {
  let m: RegExpExecArray | null;
  if ((m = TAP.exec(line))) {
    const skipped = /\s#\s*(?:SKIP|TODO)\b/i.test(m[2]!);
    const name = m[2]!.replace(/\s+#\s*(?:SKIP|TODO)\b.*$/i, '');
    return { path: [name], status: skipped ? 'skipped' : STATUS_OF[m[1]!]! };
  }
  if ((m = PASS_MARK.exec(line))) return { path: markedPath(m[1]!), status: 'passed' };
  if ((m = FAIL_MARK.exec(line))) return { path: markedPath(m[1]!), status: 'failed' };
  if ((m = SKIP_MARK.exec(line))) return { path: markedPath(m[1]!), status: 'skipped' };
  if ((m = VITEST_FAIL.exec(line))) return { path: markedPath(m[1]!), status: 'failed' };
  if ((m = JEST_FAIL.exec(line))) return { path: markedPath(m[1]!), status: 'failed' };
  if ((m = MOCHA_FAIL.exec(line))) return { path: [m[1]!], status: 'failed' };
  return null;
}

/** `▶ math` (node --test), `# Subtest: math` (TAP), ` PASS  src/a.test.js` (jest's file line). */
const SUITE_MARK = /^\s*(?:▶|# Subtest:|PASS|FAIL)\s+(.+?)\s*$/u;
/** Not suite names: runner chatter that can sit at a suite's indentation. */
const NOT_A_SUITE =
  /^(?:\d+ (?:passing|failing|pending)\b|Tests?:|Test Suites:|Snapshots:|Time:|Ran all|ℹ|---|\.\.\.|\d+\.\.\d+$|at\s)/u;

/**
 * A suite header of an indented tree: jest's and mocha's plain `  math` lines, node's `▶ math`, TAP's
 * `# Subtest: math`. Plain lines count only when indented (top-level chatter is not a suite).
 */
function suiteHeader(line: string): string | null {
  const marked = SUITE_MARK.exec(line);
  if (marked) return marked[1]!.replace(DURATION, '');
  const text = line.trim();
  if (!/^\s/.test(line) || NOT_A_SUITE.test(text)) return null;
  return text.replace(/:$/, '');
}

const indentOf = (line: string): number => /^\s*/.exec(line)![0].length;

/**
 * Every per-test result the output shows, in order (a test may appear more than once). Runners that
 * print a tree (jest `  math` / `    ✓ adds`, mocha, `node --test`'s `▶ math`, TAP's `# Subtest:`) get
 * each test's path with its enclosing suites, from the indentation: a line closes every suite indented
 * as deep as it or deeper.
 */
export function testResults(output: string): TestResult[] {
  const results: TestResult[] = [];
  const suites: { indent: number; name: string }[] = [];
  for (const line of outputLines(output)) {
    if (!line.trim()) continue;
    const flat = goJson(line.trim()) ?? parseFlatLine(line);
    if (flat) {
      if (flat.path.length) results.push(flat);
      continue;
    }
    const indent = indentOf(line);
    while (suites.length && suites.at(-1)!.indent >= indent) suites.pop();
    const test = parseTreeLine(line);
    if (test) {
      // A path the runner printed whole (vitest's `file > suite > test`, jest's `● suite › test`)
      // needs no enclosing suites.
      const path = test.path.length > 1 ? test.path : [...suites.map((s) => s.name), ...test.path];
      if (test.path.length) results.push({ path, status: test.status });
      continue;
    }
    const suite = suiteHeader(line);
    if (suite) suites.push({ indent, name: suite });
  }
  return results;
}

/** One form of a name for comparison: spaces collapsed, `›` and `>` separators alike. */
function canon(text: string): string {
  return text
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/\s*[>›]\s*/gu, ' > ');
}

/** A runner's trailing duration: ` 5ms` (vitest), ` (3 ms)` (jest), ` (0.95ms)` (node, mocha). */
const DURATION = /\s+(?:\(\d+(?:\.\d+)?\s?m?s\)|\d+(?:\.\d+)?m?s)$/;
/** vitest's per-file summary, ` (5 tests | 1 skipped)`; pytest's parameters, `[1-2]`. */
const PARAMS = /\[[^\]]*\]$/;

/** Every way a spec could name this result: the test itself, or it with its suites, in common notations. */
function namesOf(path: readonly string[]): Set<string> {
  const names = new Set<string>();
  const last = path.at(-1) ?? '';
  const lastForms = new Set([last, last.replace(DURATION, ''), last.replace(PARAMS, '')]);
  for (const form of lastForms) {
    if (!form) continue;
    const full = [...path.slice(0, -1), form];
    for (let i = full.length - 1; i >= 0; i--) {
      const suffix = full.slice(i);
      for (const sep of [' > ', '::', ' ', '.', '/']) names.add(canon(suffix.join(sep)));
    }
  }
  return names;
}

const NAMES = new WeakMap<TestResult, Set<string>>();

export type NamedTestStatus = TestStatus | 'missing';

/**
 * Whether the named test passed: some result by that name passed and none failed. A name matches a
 * result by its last part (`adds two numbers`, `test_add`, `TestAdd`) or with its suites
 * (`math > adds two numbers`, `TestMul::test_mul`, `tests::adds_two`).
 */
export function namedTestStatus(name: string, results: readonly TestResult[]): NamedTestStatus {
  const wanted = canon(name);
  let status: NamedTestStatus = 'missing';
  for (const result of results) {
    let names = NAMES.get(result);
    if (!names) NAMES.set(result, (names = namesOf(result.path)));
    if (!names.has(wanted)) continue;
    if (result.status === 'failed') return 'failed';
    if (result.status === 'passed' || status === 'missing') status = result.status;
  }
  return status;
}

/**
 * The part of a test name that appears in its source: the last segment, without parameters
 * (`math > adds two numbers` → `adds two numbers`, `TestMul::test_mul` → `test_mul`, `TestT/one` → `one`).
 */
export function sourceName(name: string): string {
  const separators = /\s/.test(name.trim()) ? /\s*(?:>|›|::)\s*/u : /\s*(?:>|›|::|\/)\s*/u;
  const last = name.split(separators).at(-1) ?? name;
  return last.replace(PARAMS, '').trim() || name.trim();
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether the test's name appears in an added line, as a whole word when it starts or ends with one. */
export function addedMentions(name: string, addedLines: readonly string[]): boolean {
  const needle = sourceName(name);
  const head = /^[\w$]/.test(needle) ? '(?<![\\w$])' : '';
  const tail = /[\w$]$/.test(needle) ? '(?![\\w$])' : '';
  const pattern = new RegExp(head + escapeRegExp(needle) + tail);
  return addedLines.some((line) => pattern.test(line));
}
