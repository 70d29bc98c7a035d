/**
 * Property: for any bytes at all, parseSpec either returns a spec or throws a SpecError (never
 * anything else), quickly. Reproduce a failure with FC_SEED=<printed seed>.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../../src/core/errors.js';
import { TASK_ID_PATTERN } from '../../src/core/ids.js';
import { parseConfig } from '../../src/config/load.js';
import { checkSpec, parseSpec } from '../../src/spec/parse.js';
import { FRONT_MATTER_KEYS } from '../../src/spec/schema.js';

const config = parseConfig(
  'repos:\n  app: { path: /tmp/app }\nproviders:\n  glm: { kind: scripted }\n',
  'cfg.yaml',
);
const FILE = 'specs/fuzz.md';
const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now();
console.log('fast-check seed', seed);

const enc = new TextEncoder();

const FRAGMENTS = [
  '---\n',
  '---',
  '---js\n',
  '---json\n',
  '\n',
  '\r\n',
  '\r',
  '\t',
  '  ',
  ...FRONT_MATTER_KEYS.map((key) => `${key}: `),
  'depends_on: ',
  '__proto__: ',
  'constructor: ',
  'prototype: ',
  '<<: ',
  '&a ',
  '*a',
  '&b ',
  '*b',
  '*nope',
  '[',
  ']',
  '{',
  '}',
  ', ',
  '- ',
  '? ',
  ': ',
  '!!',
  '!!binary ',
  '!!js/function ',
  '!!str ',
  '!foo ',
  '!<tag:yaml.org,2002:js/regexp> ',
  '%TAG ! tag:evil.com,2000:\n',
  '...\n',
  '|\n',
  '>-\n',
  '"',
  "'",
  '\\',
  '\\e',
  '\\u202e',
  '#',
  '# Title\n',
  'no',
  '~',
  'null',
  '0777',
  '0x1F',
  '.inf',
  '12:30:00',
  '2h',
  'app',
  'glm',
  'tests',
  '../etc',
  '$(touch x)',
  '-rf',
  'pending',
  'a..b',
  'x.lock',
  '@{',
  '\u202e',
  '\u2066',
  '\u0430',
  '\u0000',
  '\u0007',
  '\u001b[31m',
  '\u0085',
  '\ufeff',
  '\ufffd',
  '\ud83d\ude00',
];

/** Text assembled from front-matter-ish fragments and short random strings. */
const fragmentText = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...FRAGMENTS) },
      { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
    ),
    {
      maxLength: 120,
    },
  )
  .map((parts) => parts.join(''));

/** Values that are valid for some key, so that some generated specs get past the schema. */
const PLAUSIBLE_VALUES = [
  'T',
  'app',
  'glm',
  'main',
  'release/1.2',
  '3',
  '0',
  '2h',
  '20m',
  '[a, b]',
  '[tests, lint]',
  '[]',
  'x-y',
];

/** A spec with a plausible front matter: key/value lines with hostile values and indentation. */
const structuredSpec = fc
  .tuple(
    fc.boolean(),
    fc.array(
      fc.tuple(
        fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...FRONT_MATTER_KEYS) },
          { weight: 1, arbitrary: fc.constantFrom('depends_on', '__proto__', 'Title', '<<') },
          { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
        ),
        fc.oneof(
          { weight: 2, arbitrary: fc.constantFrom(...PLAUSIBLE_VALUES) },
          { weight: 1, arbitrary: fragmentText },
        ),
        fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat({ max: 6 }) }),
      ),
      { maxLength: 12 },
    ),
    fc.constantFrom('\n', '\r\n', '\r'),
    fc.oneof(fc.string({ unit: 'grapheme', maxLength: 200 }), fragmentText),
  )
  .map(([withHeading, lines, eol, body]) =>
    [
      '---',
      ...lines.map(([key, value, indent]) => `${' '.repeat(indent)}${key}: ${value}`),
      '---',
      ...(withHeading ? ['# Heading'] : []),
      body,
    ].join(eol),
  );

const input: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc.string({ unit: 'binary', maxLength: 1024 }).map((s) => enc.encode(s)),
  fc.string({ unit: 'grapheme', maxLength: 1024 }).map((s) => enc.encode(`---\n${s}`)),
  fragmentText.map((s) => enc.encode(s)),
  fragmentText.map((s) => enc.encode(`---\n${s}\n---\n${s}`)),
  { weight: 3, arbitrary: structuredSpec.map((s) => enc.encode(s)) },
  // Raw byte prefixes: BOMs, UTF-16 BOMs and stray continuation bytes before fragment text.
  fc
    .tuple(fc.constantFrom([0xef, 0xbb, 0xbf], [0xff, 0xfe], [0xfe, 0xff], [0xc3], [0x80], []), fragmentText)
    .map(([prefix, text]) => new Uint8Array([...prefix, ...enc.encode(text)])),
);

describe('parseSpec on arbitrary input', () => {
  // Its time per call is a figure for bench/spec.js, not a bound here (the machine may be busy).
  it('returns a valid spec or throws a SpecError', () => {
    fc.assert(
      fc.property(input, (bytes) => {
        let outcome: unknown;
        let thrown: unknown;
        try {
          outcome = parseSpec(bytes, { file: FILE, config });
        } catch (err) {
          thrown = err;
        }

        const check = checkSpec(bytes, { file: FILE, config });
        if (thrown !== undefined) {
          expect(thrown).toBeInstanceOf(SpecError);
          const err = thrown as SpecError;
          expect(err.issues.length).toBeGreaterThan(0);
          for (const issue of err.issues) {
            expect(issue.file).toBe(FILE);
            expect(typeof issue.message).toBe('string');
            expect(issue.message.length).toBeGreaterThan(0);
            if (issue.line !== undefined) expect(Number.isInteger(issue.line) && issue.line >= 1).toBe(true);
          }
          expect(check.spec).toBeNull();
          expect(check.errors).toEqual(err.issues);
        } else {
          const parsed = outcome as NonNullable<typeof check.spec>;
          expect(TASK_ID_PATTERN.test(parsed.id)).toBe(true);
          expect(parsed.text).not.toContain('\r');
          expect(parsed.spec.title.length).toBeGreaterThan(0);
          expect(Object.keys(config.repos)).toContain(parsed.spec.repo);
          expect(check.errors).toEqual([]);
        }
      }),
      { seed, numRuns: 500 },
    );

    // Nothing the parser saw was able to touch the prototype chain.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
