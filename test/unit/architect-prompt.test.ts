/** The architect's user message: diff trimming within the budget, gate evidence, rounds. Pure. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildUserContent,
  splitDiff,
  trimDiff,
  type ReviewInput,
} from '../../src/review/architect-prompt.js';

const section = (path: string, body: string) =>
  `diff --git a/${path} b/${path}\n--- a/${path}\n+++ b/${path}\n@@ -1 +1 @@\n${body}`;

const input = (over: Partial<ReviewInput> = {}): ReviewInput => ({
  title: 't',
  specText: 'spec',
  gates: [],
  diff: '',
  round: 0,
  reviewRounds: 2,
  ...over,
});

describe('splitDiff', () => {
  it('splits at diff --git headers and names each file by its b/ path', () => {
    const diff = 'preamble\n' + section('a.ts', '+a\n') + section('dir/b c.ts', '+b\n');
    expect(splitDiff(diff).map((s) => s.path)).toEqual(['(preamble)', 'a.ts', 'dir/b c.ts']);
    expect(
      splitDiff(diff)
        .map((s) => s.text)
        .join(''),
    ).toBe(diff);
    expect(splitDiff('--- x\n+++ x\n')).toEqual([{ path: '(diff)', text: '--- x\n+++ x\n' }]);
    expect(splitDiff('')).toEqual([]);
  });
});

describe('trimDiff', () => {
  it('leaves a diff within the budget alone', () => {
    const diff = section('a.ts', '+a\n');
    expect(trimDiff(diff, diff.length)).toEqual({ text: diff, totalChars: diff.length, cuts: [] });
  });

  it('never exceeds the budget, and accounts for every cut character', () => {
    const file = fc.record({
      path: fc.stringMatching(/^[a-z]{1,8}\/[a-z]{1,8}\.ts$/),
      lines: fc.array(
        fc.string({ maxLength: 120 }).map((l) => `+${l.replace(/\n/g, ' ')}\n`),
        {
          maxLength: 60,
        },
      ),
    });
    fc.assert(
      fc.property(
        fc.array(file, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 6000 }),
        (files, budget) => {
          const diff = files.map((f) => section(f.path, f.lines.join(''))).join('');
          const out = trimDiff(diff, budget);
          expect(out.text.length).toBeLessThanOrEqual(budget);
          expect(out.totalChars).toBe(diff.length);
          if (diff.length <= budget) expect(out.text).toBe(diff);
          for (const cut of out.cuts) expect(cut.cutChars + cut.keptChars).toBeGreaterThan(0);
          const sections = splitDiff(diff);
          const cutTotal = out.cuts.reduce((n, c) => n + c.cutChars, 0);
          const keptTotal =
            out.cuts.reduce((n, c) => n + c.keptChars, 0) +
            sections
              .filter((s) => !out.cuts.some((c) => c.path === s.path))
              .reduce((n, s) => n + s.text.length, 0);
          if (new Set(sections.map((s) => s.path)).size === sections.length) {
            expect(cutTotal + keptTotal).toBe(diff.length);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps the head of each cut file on a line boundary and marks the cut', () => {
    const big = section('big.ts', Array.from({ length: 100 }, (_, i) => `+line ${i}\n`).join(''));
    const out = trimDiff(section('small.ts', '+s\n') + big, 400);
    expect(out.text.startsWith(section('small.ts', '+s\n'))).toBe(true);
    expect(out.cuts).toEqual([
      { path: 'big.ts', cutChars: expect.any(Number) as number, keptChars: expect.any(Number) as number },
    ]);
    expect(out.text).toMatch(
      /\+line \d+\n\[… nightshift cut [\d,]+ of [\d,]+ characters of the diff of big\.ts here …\]\n$/,
    );
  });
});

describe('buildUserContent', () => {
  it('says when the diff is empty', () => {
    expect(buildUserContent(input(), 100).text).toContain('The diff is empty: the branch changes nothing.');
  });

  it('keeps the head and tail of long gate evidence', () => {
    const evidence = `first line\n${'x'.repeat(10_000)}\nFAILED test_backoff_caps_at_max`;
    const { text } = buildUserContent(
      input({ gates: [{ name: 'tests', passed: false, durationMs: 61_000, evidence }] }),
      100,
    );
    expect(text).toContain('1 of 1 gates FAILED.');
    expect(text).toContain('- tests: FAILED (61.0 s)');
    expect(text).toContain('    first line');
    expect(text).toContain('FAILED test_backoff_caps_at_max');
    expect(text).toMatch(/\[… [\d,]+ characters cut …\]/);
    expect(text.length).toBeLessThan(5_000);
  });

  it('says when "changes" would park the task', () => {
    expect(buildUserContent(input({ round: 2, reviewRounds: 2 }), 100).text).toContain(
      'No "changes" rounds are left: "changes" now parks the task for a person.',
    );
    expect(buildUserContent(input({ reviewRounds: 0 }), 100).text).toContain(
      'No "changes" rounds are allowed: "changes" parks the task for a person.',
    );
  });
});
