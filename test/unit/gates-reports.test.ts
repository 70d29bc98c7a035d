/** The structured test-report parsers (JUnit XML, TAP, vitest/jest JSON): pure, on captured shapes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { namedTestStatus } from '../../src/review/named-tests.js';
import {
  decodeEntities,
  detectFormat,
  parseJestJson,
  parseJUnit,
  parseReport,
  parseTap,
  ranCount,
  ReportError,
  xmlTags,
} from '../../src/review/test-reports.js';

const seed = Number(process.env['FC_SEED'] ?? Date.now());
console.log('fast-check seed', seed);

const PYTEST_JUNIT = `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="4" time="0.03">
<testcase classname="test_calc" name="test_add_small" time="0.001" />
<testcase classname="test_calc.TestNegative" name="test_add_negative" time="0.001"><failure message="assert -3 == 3">def test_add_negative(self):
&gt;       assert add(-1, -2) == 3
E       assert -3 == 3</failure></testcase>
<testcase classname="test_calc" name="test_skip" time="0.000"><skipped type="pytest.skip" message="later">/x.py:3: later</skipped></testcase>
<testcase classname="test_calc" name="test_param[1-2]" time="0.001"><system-out>✓ test_fake</system-out></testcase>
</testsuite></testsuites>`;

const VITEST_JUNIT = `<?xml version="1.0" encoding="UTF-8" ?>
<testsuites name="vitest tests" tests="2" failures="1" errors="0" time="0.01">
    <testsuite name="sum.test.ts" timestamp="2026-12-07T10:00:00" hostname="h" tests="2" failures="1" errors="0" skipped="0" time="0.004">
        <testcase classname="sum.test.ts" name="sum &gt; adds two numbers" time="0.001">
        </testcase>
        <testcase classname="sum.test.ts" name="sum &gt; adds negatives" time="0.002">
            <failure message="expected -3 to be 3" type="AssertionError"><![CDATA[AssertionError: expected -3 to be 3 <testcase name="fake"/>]]></failure>
        </testcase>
    </testsuite>
</testsuites>`;

describe('JUnit XML', () => {
  it("reads pytest's junitxml: classes, failures, skips, parameters", () => {
    const results = parseJUnit(PYTEST_JUNIT);
    expect(results).toEqual([
      { path: ['test_calc', 'test_add_small'], status: 'passed' },
      { path: ['test_calc', 'TestNegative', 'test_add_negative'], status: 'failed' },
      { path: ['test_calc', 'test_skip'], status: 'skipped' },
      { path: ['test_calc', 'test_param[1-2]'], status: 'passed' },
    ]);
    expect(namedTestStatus('TestNegative::test_add_negative', results)).toBe('failed');
    expect(namedTestStatus('test_add_small', results)).toBe('passed');
    expect(namedTestStatus('test_param', results)).toBe('passed');
    // Text inside a test's output is not a test.
    expect(namedTestStatus('test_fake', results)).toBe('missing');
    expect(ranCount(results)).toBe(3);
  });

  it("reads vitest's junit reporter: suites in the name, a file as the class, CDATA skipped", () => {
    const results = parseJUnit(VITEST_JUNIT);
    expect(results).toEqual([
      { path: ['sum.test.ts', 'sum', 'adds two numbers'], status: 'passed' },
      { path: ['sum.test.ts', 'sum', 'adds negatives'], status: 'failed' },
    ]);
    expect(namedTestStatus('sum > adds two numbers', results)).toBe('passed');
    expect(namedTestStatus('fake', results)).toBe('missing');
  });

  it('refuses what is not a JUnit report, or one cut short', () => {
    expect(() => parseJUnit('<html><body>✓ test_x</body></html>')).toThrow(ReportError);
    expect(() => parseJUnit('<testsuite><testcase name="a">')).toThrow(/cut short/);
    expect(() => parseJUnit('<testsuite><testcase name="a"')).toThrow(/unterminated/);
  });

  it('skips comments, processing instructions and a DOCTYPE without expanding its entities', () => {
    const xml =
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>' +
      '<!-- <testcase name="commented"/> --><testsuite><testcase name="t &b; &amp; &#x263A;"/></testsuite>';
    expect(parseJUnit(xml)).toEqual([{ path: ['t &b; & ☺'], status: 'passed' }]);
  });

  it('decodes attribute values and keeps `>` inside quotes', () => {
    expect(xmlTags('<a x="1 > 2" y=\'&lt;&quot;&apos;\'/>')).toEqual([
      { kind: 'empty', name: 'a', attrs: { x: '1 > 2', y: '<"\'' } },
    ]);
  });

  it('round-trips any test name through the attribute encoding', () => {
    const encode = (s: string) =>
      s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (name) => {
        const clean = name.replace(/[\u0000-\u001f]/g, '');
        const [tag] = xmlTags(`<testcase name="${encode(clean)}"/>`);
        expect(tag!.attrs['name']).toBe(clean);
        expect(decodeEntities(encode(clean))).toBe(clean);
      }),
      { seed, numRuns: 300 },
    );
  });

  it('never throws anything but a ReportError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseJUnit(`<testsuite>${text}`);
        } catch (err) {
          expect(err).toBeInstanceOf(ReportError);
        }
      }),
      { seed, numRuns: 300 },
    );
  });
});

describe('TAP', () => {
  it("reads node --test's TAP: subtests are suites, not tests; skips and todos did not run", () => {
    const tap = [
      'TAP version 13',
      '# Subtest: math',
      '    # Subtest: adds',
      '    ok 1 - adds',
      '      ---',
      '      duration_ms: 0.5',
      '      ...',
      '    # Subtest: subtracts',
      '    not ok 2 - subtracts',
      '      ---',
      "      error: 'ok 9 - fake'",
      '      ...',
      '    # Subtest: later',
      '    ok 3 - later # SKIP',
      '    1..3',
      'not ok 1 - math',
      '# Subtest: top',
      'ok 2 - top',
      'ok 3 - todo thing # TODO not yet',
      '1..3',
      '# pass 2',
    ].join('\n');
    const results = parseTap(tap);
    expect(results).toEqual([
      { path: ['math', 'adds'], status: 'passed' },
      { path: ['math', 'subtracts'], status: 'failed' },
      { path: ['math', 'later'], status: 'skipped' },
      { path: ['top'], status: 'passed' },
      { path: ['todo thing'], status: 'skipped' },
    ]);
    expect(ranCount(results)).toBe(3);
    expect(namedTestStatus('math > adds', results)).toBe('passed');
  });

  it('keeps a failing suite whose tests all passed (a hook failed), and a bail out', () => {
    const tap = ['# Subtest: s', '    ok 1 - a', 'not ok 1 - s', 'Bail out! database down'].join('\n');
    expect(parseTap(tap).map((r) => r.status)).toEqual(['passed', 'failed', 'failed']);
  });

  it('refuses text with no TAP in it', () => {
    expect(() => parseTap('✓ test_backoff_doubles\nall good')).toThrow(ReportError);
  });
});

describe('vitest and jest JSON', () => {
  const json = JSON.stringify({
    numTotalTests: 4,
    testResults: [
      {
        name: '/w/src/sum.test.ts',
        assertionResults: [
          { ancestorTitles: ['sum'], title: 'adds', fullName: 'sum adds', status: 'passed' },
          { ancestorTitles: ['sum'], title: 'subtracts', status: 'failed' },
          { ancestorTitles: [], title: 'later', status: 'pending' },
          { ancestorTitles: [], title: 'someday', status: 'todo' },
          { title: 'bogus', status: 'weird' },
        ],
      },
    ],
  });

  it('reads files, suites, titles and statuses', () => {
    const results = parseJestJson(json);
    expect(results).toEqual([
      { path: ['/w/src/sum.test.ts', 'sum', 'adds'], status: 'passed' },
      { path: ['/w/src/sum.test.ts', 'sum', 'subtracts'], status: 'failed' },
      { path: ['/w/src/sum.test.ts', 'later'], status: 'skipped' },
      { path: ['/w/src/sum.test.ts', 'someday'], status: 'skipped' },
    ]);
    expect(namedTestStatus('sum > adds', results)).toBe('passed');
    expect(ranCount(results)).toBe(2);
  });

  it('refuses JSON of another shape, and text that is not JSON', () => {
    expect(() => parseJestJson('{"tests": []}')).toThrow(/testResults/);
    expect(() => parseJestJson('{"testResults": [')).toThrow(/not JSON/);
  });
});

it('detects the format from the first characters', () => {
  expect(detectFormat('\uFEFF  <?xml version="1.0"?>')).toBe('junit');
  expect(detectFormat('{"testResults":[]}')).toBe('vitest-json');
  expect(detectFormat('TAP version 13\nok 1')).toBe('tap');
  expect(parseReport('ok 1 - a\n', 'tap')).toEqual([{ path: ['a'], status: 'passed' }]);
});
