/**
 * Per-test results from a test runner's structured report, as pure functions over the report's text:
 * JUnit XML (also pytest's `--junitxml`, vitest's and jest-junit's), TAP, and the JSON of vitest
 * (`--reporter=json`) and jest (`--json`), which share one shape. The named-tests and tests-kept gates
 * trust these over console text: a test that prints `✓ test_x` proves nothing; a report entry is written
 * by the runner for a test it ran.
 *
 * JUnit is read with a small XML subset reader (elements, attributes, the five named entities and
 * character references; comments, CDATA, processing instructions and DOCTYPE skipped, never expanded),
 * which is all a test report uses: no dependency for it.
 */
import type { TestResult, TestStatus } from './named-tests.js';

export const REPORT_FORMATS = ['junit', 'tap', 'vitest-json', 'jest-json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Names for the evidence: "from the JUnit report at …". */
export const REPORT_LABEL: Record<ReportFormat, string> = {
  junit: 'JUnit',
  tap: 'TAP',
  'vitest-json': 'vitest JSON',
  'jest-json': 'jest JSON',
};

export class ReportError extends Error {}

/** The format of a report by its first characters: `<` JUnit, `{` JSON, else TAP. */
export function detectFormat(text: string): ReportFormat {
  const start = text.replace(/^\uFEFF/, '').trimStart();
  if (start.startsWith('<')) return 'junit';
  if (start.startsWith('{')) return 'vitest-json';
  return 'tap';
}

/** Every test the report lists. Throws ReportError when the text is not a report of that format. */
export function parseReport(text: string, format: ReportFormat): TestResult[] {
  switch (format) {
    case 'junit':
      return parseJUnit(text);
    case 'tap':
      return parseTap(text);
    case 'vitest-json':
    case 'jest-json':
      return parseJestJson(text);
  }
}

/** How many tests ran (passed or failed; skipped and todo tests did not run). */
export function ranCount(results: readonly TestResult[]): number {
  return results.filter((r) => r.status !== 'skipped').length;
}

// ---- JUnit XML -----------------------------------------------------------------------------------

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[ref] ?? whole;
  });
}

export interface XmlTag {
  kind: 'open' | 'close' | 'empty';
  name: string;
  attrs: Record<string, string>;
}

const ATTR = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/** The tags of an XML document in order; text, comments, CDATA, `<?…?>` and `<!…>` are skipped. */
export function xmlTags(text: string): XmlTag[] {
  const tags: XmlTag[] = [];
  let i = 0;
  for (;;) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    const skip = (open: string, close: string): boolean => {
      if (!text.startsWith(open, lt)) return false;
      const end = text.indexOf(close, lt + open.length);
      if (end < 0) throw new ReportError(`unterminated ${open}`);
      i = end + close.length;
      return true;
    };
    if (skip('<!--', '-->') || skip('<![CDATA[', ']]>') || skip('<?', '?>')) continue;
    if (text.startsWith('<!', lt)) {
      // DOCTYPE, possibly with an internal subset in brackets: skipped whole, nothing in it is used.
      const bracket = text.indexOf('[', lt);
      const gt = text.indexOf('>', lt);
      const end = bracket >= 0 && bracket < gt ? text.indexOf(']>', bracket) + 1 : gt;
      if (end <= 0) throw new ReportError('unterminated <!');
      i = end + 1;
      continue;
    }
    const gt = findTagEnd(text, lt + 1);
    if (gt < 0) throw new ReportError(`unterminated tag at offset ${lt}`);
    const body = text.slice(lt + 1, gt);
    i = gt + 1;
    if (body.startsWith('/')) {
      tags.push({ kind: 'close', name: body.slice(1).trim(), attrs: {} });
      continue;
    }
    const empty = body.endsWith('/');
    const inner = empty ? body.slice(0, -1) : body;
    const name = /^[^\s/>]+/.exec(inner)?.[0];
    if (!name) throw new ReportError(`a tag without a name at offset ${lt}`);
    const attrs: Record<string, string> = {};
    for (const m of inner.slice(name.length).matchAll(ATTR)) {
      attrs[m[1]!] = decodeEntities(m[2] ?? m[3] ?? '');
    }
    tags.push({ kind: empty ? 'empty' : 'open', name, attrs });
  }
  return tags;
}

/** The `>` that ends a tag begun at `from`, skipping quoted attribute values. */
function findTagEnd(text: string, from: number): number {
  let quote: string | null = null;
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return i;
  }
  return -1;
}

const FILE_LIKE = /\.(?:[cm]?[jt]sx?|py|rb|go|rs|java|kt|cs|php|exs?)$/;

/** A testcase's `classname` as path parts: `pkg.mod.Class` → 3 parts; a file path stays one. */
function classParts(classname: string): string[] {
  const name = classname.trim();
  if (!name) return [];
  if (name.includes('/') || name.includes('\\') || FILE_LIKE.test(name)) return [name];
  return name.split('.').filter(Boolean);
}

export function parseJUnit(text: string): TestResult[] {
  const tags = xmlTags(text);
  if (!tags.some((t) => t.name === 'testsuites' || t.name === 'testsuite' || t.name === 'testcase')) {
    throw new ReportError('no <testsuite> or <testcase> element: not a JUnit report');
  }
  const results: TestResult[] = [];
  let open: { path: string[]; status: TestStatus } | null = null;
  for (const tag of tags) {
    if (tag.name === 'testcase') {
      if (tag.kind === 'close') {
        if (open) results.push(open);
        open = null;
        continue;
      }
      const name = tag.attrs['name'] ?? '';
      const path = [...classParts(tag.attrs['classname'] ?? ''), ...splitTitle(name)];
      const status: TestStatus = 'passed';
      if (tag.kind === 'empty') results.push({ path, status });
      else open = { path, status };
      continue;
    }
    if (!open || tag.kind === 'close') continue;
    if (tag.name === 'failure' || tag.name === 'error') open.status = 'failed';
    else if (tag.name === 'skipped' && open.status !== 'failed') open.status = 'skipped';
  }
  if (open) throw new ReportError('a <testcase> is not closed: the report is cut short');
  return results.filter((r) => r.path.length > 0);
}

/** vitest's and jest's titles hold their suites: `sum > adds two`. */
const splitTitle = (title: string): string[] =>
  title
    .split(/\s+(?:>|›)\s+/u)
    .map((s) => s.trim())
    .filter(Boolean);

// ---- TAP ---------------------------------------------------------------------------------------

const TEST_POINT = /^(\s*)(not ok|ok)\b\s*(?:\d+)?\s*(?:-\s*)?(.*?)\s*$/;
const SUBTEST = /^(\s*)# Subtest:\s*(.*?)\s*$/;

/**
 * TAP 13/14, with subtests (`# Subtest: name` and indented test points, as node --test writes them).
 * A test point that closes a subtest is its suite, not another test: it counts only when it failed
 * with no failing test inside (a failing hook).
 */
export function parseTap(text: string): TestResult[] {
  const lines = text.split(/\r?\n/);
  if (!lines.some((l) => TEST_POINT.test(l) || /^\s*TAP version/.test(l) || /^\s*1\.\.\d+/.test(l))) {
    throw new ReportError('no TAP test point, plan or version line: not a TAP report');
  }
  const results: TestResult[] = [];
  /** Open subtests, by indentation: their names and whether a test inside failed. */
  const stack: { indent: number; name: string; count: number; failed: boolean }[] = [];
  let yaml = false;
  for (const line of lines) {
    if (yaml) {
      if (/^\s*\.\.\.\s*$/.test(line)) yaml = false;
      continue;
    }
    if (/^\s*---\s*$/.test(line)) {
      yaml = true;
      continue;
    }
    const sub = SUBTEST.exec(line);
    if (sub) {
      stack.push({ indent: sub[1]!.length, name: sub[2]!, count: 0, failed: false });
      continue;
    }
    if (/^\s*Bail out!/.test(line)) {
      results.push({ path: [...stack.map((s) => s.name), line.trim()], status: 'failed' });
      continue;
    }
    const point = TEST_POINT.exec(line);
    if (!point) continue;
    const indent = point[1]!.length;
    const directive = /\s#\s*(SKIP|TODO)\b.*$/i.exec(point[3]!);
    const name = directive ? point[3]!.slice(0, directive.index).trim() : point[3]!;
    const status: TestStatus = directive ? 'skipped' : point[2] === 'ok' ? 'passed' : 'failed';
    // The subtest whose points sat deeper than this one ends here: this point is its summary.
    const closing = stack.length && stack.at(-1)!.indent >= indent ? stack.pop()! : null;
    if (closing && closing.count > 0) {
      if (status === 'failed' && !closing.failed)
        results.push({ path: [...stack.map((s) => s.name), name], status });
      propagate(stack, closing.failed || status === 'failed');
      continue;
    }
    results.push({ path: [...stack.map((s) => s.name), name || '(unnamed)'], status });
    propagate(stack, status === 'failed');
  }
  return results;
}

function propagate(stack: { count: number; failed: boolean }[], failed: boolean): void {
  const parent = stack.at(-1);
  if (!parent) return;
  parent.count += 1;
  parent.failed ||= failed;
}

// ---- vitest / jest JSON --------------------------------------------------------------------------

const JSON_STATUS: Record<string, TestStatus> = {
  passed: 'passed',
  failed: 'failed',
  pending: 'skipped',
  skipped: 'skipped',
  todo: 'skipped',
  disabled: 'skipped',
  focused: 'passed',
};

export function parseJestJson(text: string): TestResult[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ReportError(`not JSON: ${(err as Error).message}`);
  }
  const files = (doc as { testResults?: unknown })?.testResults;
  if (!Array.isArray(files))
    throw new ReportError('no "testResults" array: not a vitest or jest JSON report');
  const results: TestResult[] = [];
  for (const file of files as unknown[]) {
    const f = file as { name?: unknown; assertionResults?: unknown };
    if (!Array.isArray(f.assertionResults)) continue;
    const fileName = typeof f.name === 'string' ? [f.name] : [];
    for (const entry of f.assertionResults as unknown[]) {
      const a = entry as { ancestorTitles?: unknown; title?: unknown; status?: unknown };
      if (typeof a.title !== 'string' || typeof a.status !== 'string') continue;
      const status = JSON_STATUS[a.status];
      if (!status) continue;
      const suites = Array.isArray(a.ancestorTitles)
        ? a.ancestorTitles.filter((t): t is string => typeof t === 'string')
        : [];
      results.push({ path: [...fileName, ...suites, a.title], status });
    }
  }
  return results;
}
