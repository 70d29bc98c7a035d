/**
 * The spec parser against hostile input. Every case pins the exact outcome: either the values the
 * spec is accepted with, or the SpecError issue (file, line, field, message) that refuses it.
 */
import { describe, expect, it } from 'vitest';
import { SpecError, type SpecIssue } from '../../src/core/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { MAX_SPEC_BYTES, checkSpec, parseSpec, type ParsedSpec } from '../../src/spec/parse.js';

const config = parseConfig(
  'repos:\n  app: { path: /tmp/app }\nproviders:\n  glm: { kind: scripted }\n',
  'cfg.yaml',
);
const FILE = 'spec.md';
/** 24 words: enough that the short-body lint stays quiet. */
const BODY =
  'Add exponential backoff to the HTTP client so that retries on 503 responses wait longer each time ' +
  'and give up after five attempts.\n';

const enc = new TextEncoder();
const utf8 = (text: string): Uint8Array => enc.encode(text);
/** A spec with the given front matter lines (line 2 onwards) and a long enough body. */
const spec = (front: string, body = BODY): string => `---\n${front}\n---\n${body}`;

type Input = string | Uint8Array;
const toBytes = (input: Input): Uint8Array => (typeof input === 'string' ? utf8(input) : input);

function accept(input: Input, file = FILE): ParsedSpec {
  return parseSpec(toBytes(input), { file, config });
}

function reject(input: Input, file = FILE, cfg = config): SpecError {
  let thrown: unknown;
  try {
    parseSpec(toBytes(input), { file, config: cfg });
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(SpecError);
  return thrown as SpecError;
}

const issues = (input: Input, file = FILE): readonly SpecIssue[] => reject(input, file).issues;

function utf16le(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf16le'));
}

function utf16be(text: string): Uint8Array {
  const le = utf16le(text);
  const be = new Uint8Array(le.length);
  for (let i = 0; i + 1 < le.length; i += 2) {
    be[i] = le[i + 1] ?? 0;
    be[i + 1] = le[i] ?? 0;
  }
  return be;
}

/** Asymmetric matchers typed as the string they stand for. */
const matching = (pattern: RegExp): string => expect.stringMatching(pattern) as string;
const containing = (text: string): string => expect.stringContaining(text) as string;

const concat = (...parts: (Input | number[])[]): Uint8Array =>
  new Uint8Array(parts.flatMap((p) => [...(Array.isArray(p) ? p : toBytes(p))]));

const CONTROL_IN_FRONT = 'front matter contains control characters or terminal escapes';
const BIDI_IN_FRONT = 'front matter contains invisible bidirectional-override characters';
const NUL_MESSAGE = 'the file contains NUL bytes (binary or UTF-16?); specs are UTF-8 text';
const NOT_UTF8 = 'the file is not valid UTF-8; save it as UTF-8';
const BAD_ID = 'expected 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit';
const TOO_DEEP = 'YAML is nested more than 32 levels deep; flatten it';
const TITLE_REQUIRED = 'required: add `title:` to the front matter or a `# Heading` to the body';
const BAD_HEADING = 'the heading used as title must be plain text of at most 200 characters';
const BAD_CHARS = 'control or bidirectional-override characters';
/** The "expected … found" tail of a refused front matter line. */
const foundAt = (ch: string, column: number): string =>
  `expected plain text; found U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')} at column ${column}`;
const NO_TESTS = {
  file: FILE,
  field: 'tests',
  message: 'no tests: name the exact tests the change must add and pass',
};
const NO_STOP = {
  file: FILE,
  field: 'stop',
  message: 'no stop condition: say when the executor should stop',
};

describe('a well-formed spec (baseline)', () => {
  it('is accepted with every field resolved against the config and no warnings', () => {
    const parsed = accept(
      spec(
        [
          'title: Add backoff',
          'id: add-backoff',
          'repo: app',
          'base: release/1.2',
          'provider: glm',
          'priority: 5',
          'dependsOn: [fix-client, fix-client]',
          'timeout: 1h30m',
          'idle: 90s',
          'attempts: 2',
          'reviewRounds: 0',
          'tests: [retries_on_503]',
          'stop: when the test passes',
          'gates: [tests, lint, tests]',
        ].join('\n'),
      ),
    );
    expect(parsed.id).toBe('add-backoff');
    expect(parsed.warnings).toEqual([]);
    expect(parsed.body).toBe(BODY);
    expect(parsed.dedupKey).toMatch(/^[0-9a-f]{32}$/);
    expect(parsed.spec).toEqual({
      title: 'Add backoff',
      repo: 'app',
      base: 'release/1.2',
      provider: 'glm',
      priority: 5,
      dependsOn: ['fix-client'],
      timeoutMs: 5_400_000,
      idleMs: 90_000,
      attempts: 2,
      reviewRounds: 0,
      tests: ['retries_on_503'],
      stop: 'when the test passes',
      gates: ['tests', 'lint'],
      source: 'spec.md',
    });
  });

  it('takes the defaults from the config when the front matter names nothing', () => {
    const parsed = accept(spec('title: T'));
    expect(parsed.spec).toMatchObject({
      repo: 'app',
      base: 'main',
      provider: null,
      priority: 0,
      dependsOn: [],
      timeoutMs: 7_200_000,
      idleMs: 1_200_000,
      attempts: 3,
      reviewRounds: 2,
      tests: [],
      stop: null,
      gates: null,
    });
  });

  it('SpecError.message says file:line: field: message, one issue per line', () => {
    const err = reject(spec('title: T\npriority: high\nattempts: "three"'));
    expect(err.message).toBe(
      'spec.md:3: priority: expected number; found the text "high"\n' +
        'spec.md:4: attempts: expected number; found the text "three"',
    );
    expect(err.context).toEqual({ file: FILE, line: 3 });
    expect(err.exitCode).toBe(2);
  });
});

describe('bytes and encodings', () => {
  it('refuses an empty file', () => {
    expect(issues('')).toEqual([
      { file: FILE, message: 'the file is empty; a spec needs at least a title and some text' },
    ]);
  });

  it('refuses a whitespace-only file for want of a title', () => {
    expect(issues(' \n\n\t\n')).toEqual([{ file: FILE, field: 'title', message: TITLE_REQUIRED }]);
  });

  it('accepts a UTF-8 BOM and strips it from the stored text', () => {
    const parsed = accept(concat([0xef, 0xbb, 0xbf], spec('title: Hello')));
    expect(parsed.spec.title).toBe('Hello');
    expect(parsed.text).toBe(spec('title: Hello'));
    expect(parsed.text.charCodeAt(0)).toBe(0x2d);
  });

  it('a BOM does not hide the front matter fence or shift line numbers', () => {
    expect(issues(concat([0xef, 0xbb, 0xbf], spec('title: T\nattempts: x')))).toEqual([
      { file: FILE, line: 3, field: 'attempts', message: 'expected number; found the text "x"' },
    ]);
  });

  it.each([
    ['UTF-16 LE with BOM', concat([0xff, 0xfe], utf16le(spec('title: T')))],
    ['UTF-16 BE with BOM', concat([0xfe, 0xff], utf16be(spec('title: T')))],
  ])('refuses %s', (_name, bytes) => {
    expect(issues(bytes)).toEqual([{ file: FILE, message: 'the file is UTF-16; save it as UTF-8' }]);
  });

  it.each([
    ['UTF-16 LE without BOM', utf16le(spec('title: T'))],
    ['UTF-16 BE without BOM', utf16be(spec('title: T'))],
  ])('refuses %s by its NUL bytes, on line 1', (_name, bytes) => {
    expect(issues(bytes)).toEqual([{ file: FILE, line: 1, message: NUL_MESSAGE }]);
  });

  it.each([
    ['a lone 0xff byte', [0xff], 5],
    ['a truncated 3-byte sequence', [0xe2, 0x82], 5],
    ['an overlong "/" (0xc0 0xaf)', [0xc0, 0xaf], 5],
    ['a UTF-16 surrogate encoded in UTF-8', [0xed, 0xa0, 0x80], 5],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 5],
  ])('refuses invalid UTF-8 (%s) and reports its line', (_name, bad, line) => {
    expect(issues(concat('---\ntitle: T\n---\nfine line\nbad here: ', bad, ' and more\n', BODY))).toEqual([
      { file: FILE, line, message: NOT_UTF8 },
    ]);
  });

  it('reports the line of invalid UTF-8 inside the front matter', () => {
    expect(issues(concat('---\ntitle: caf', [0xc3], '\n---\n', BODY))).toEqual([
      { file: FILE, line: 2, message: NOT_UTF8 },
    ]);
  });

  it('is not fooled by a genuine U+FFFD earlier in the file when reporting the bad line', () => {
    expect(issues(concat('---\ntitle: "\ufffd"\n---\nok\n', [0xff], '\n'))).toEqual([
      { file: FILE, line: 5, message: NOT_UTF8 },
    ]);
  });

  it('counts lone CR and CRLF as line ends when reporting invalid UTF-8 and NUL bytes', () => {
    expect(issues(concat('---\rtitle: T\r---\rok\r', [0xff], '\r'))).toEqual([
      { file: FILE, line: 5, message: NOT_UTF8 },
    ]);
    expect(issues(concat('---\r\ntitle: T\r\n---\r\nok\r\n', [0xff], '\r\n'))).toEqual([
      { file: FILE, line: 5, message: NOT_UTF8 },
    ]);
    expect(issues('---\rtitle: T\r---\rok\r\0\r')).toEqual([{ file: FILE, line: 5, message: NUL_MESSAGE }]);
  });

  it('refuses a NUL byte in the front matter, naming its line', () => {
    expect(issues(spec('title: T\nstop: a\0b'))).toEqual([{ file: FILE, line: 3, message: NUL_MESSAGE }]);
  });

  it('refuses a NUL byte in the body too: NUL is how binary and BOM-less UTF-16 are told apart', () => {
    expect(issues(spec('title: T', `${BODY}tail\0\n`))).toEqual([
      { file: FILE, line: 5, message: NUL_MESSAGE },
    ]);
  });

  it.each([
    ['BEL', '\u0007'],
    ['backspace', '\u0008'],
    ['vertical tab', '\u000b'],
    ['form feed', '\u000c'],
    ['ESC', '\u001b'],
    ['unit separator', '\u001f'],
    ['DEL', '\u007f'],
    ['C1 NEL', '\u0085'],
    ['C1 CSI', '\u009b'],
  ])('refuses %s in the front matter with its line', (_name, ch) => {
    expect(issues(spec(`title: T\nstop: a${ch}b`))).toEqual([
      { file: FILE, line: 3, field: 'stop', message: `${CONTROL_IN_FRONT}: ${foundAt(ch, 8)}` },
    ]);
  });

  it.each([
    ['BEL', '\u0007'],
    ['ESC', '\u001b'],
    ['DEL', '\u007f'],
    ['C1 CSI', '\u009b'],
  ])('accepts %s in the body with a warning naming the line, keeping it as data', (_name, ch) => {
    const parsed = accept(spec('title: T\ntests: [t]\nstop: s', `${BODY}\nbeep${ch}beep\n`));
    expect(parsed.warnings).toEqual([
      {
        file: FILE,
        line: 8,
        message: 'body contains control characters or terminal escapes; they are kept as data, shown escaped',
      },
    ]);
    expect(parsed.body).toContain(`beep${ch}beep`);
  });

  it('accepts a tab in the front matter and body (not a control character here)', () => {
    expect(accept(spec('title: "a\tb"', `${BODY}\tindented\n`)).spec.title).toBe('a\tb');
  });
});

describe('terminal escapes', () => {
  it('refuses a raw ANSI escape in the title by its line', () => {
    expect(issues(spec('title: \u001b[31mred\u001b[0m'))).toEqual([
      { file: FILE, line: 2, field: 'title', message: `${CONTROL_IN_FRONT}: ${foundAt('\u001b', 8)}` },
    ]);
  });

  it.each([
    ['\\e', 'title: "\\e[31mred"'],
    ['\\x1b', 'title: "\\x1b[31mred"'],
    ['\\u001b', 'title: "\\u001b[31mred"'],
    ['\\u009b (C1 CSI)', 'title: "\\u009b31mred"'],
  ])('refuses an ANSI escape written as the YAML escape %s, naming field title', (_name, line) => {
    const [issue] = issues(spec(line));
    expect(issue).toEqual({
      file: FILE,
      line: 2,
      field: 'title',
      message: matching(/^must not contain control characters or terminal escapes; found the text "/),
    });
  });

  it('refuses escapes smuggled into stop and tests through YAML escapes, naming the field', () => {
    expect(issues(spec('title: T\ntests: ["a\\eb"]\nstop: "done\\e]0;pwned\\a"'))).toEqual([
      {
        file: FILE,
        line: 3,
        field: 'tests[0]',
        message: 'must not contain control characters or terminal escapes; found the text "a\\u001bb"',
      },
      {
        file: FILE,
        line: 4,
        field: 'stop',
        message:
          'must not contain control characters or terminal escapes; found the text "done\\u001b]0;pwned\\u0007"',
      },
    ]);
  });

  it('refuses a heading with an escape as the title, and warns about the body line', () => {
    const err = reject('# \u001b[2Jcleared\n' + BODY);
    expect(err.issues).toEqual([
      { file: FILE, line: 1, field: 'title', message: `${BAD_HEADING}; found ${BAD_CHARS}` },
    ]);
    expect(err.warnings[0]).toEqual({
      file: FILE,
      line: 1,
      message: 'body contains control characters or terminal escapes; they are kept as data, shown escaped',
    });
  });

  it('accepts an escape in the body with a warning (it is data for the executor)', () => {
    const parsed = accept(spec('title: T\ntests: [t]\nstop: s', `${BODY}\u001b[31mred text\u001b[0m\n`));
    expect(parsed.warnings).toEqual([
      {
        file: FILE,
        line: 7,
        message: 'body contains control characters or terminal escapes; they are kept as data, shown escaped',
      },
    ]);
  });
});

describe('line endings', () => {
  const lf = spec('title: T\ntests: [t]\nstop: s');

  it('accepts CRLF and normalises the stored text to LF', () => {
    const parsed = accept(lf.replace(/\n/g, '\r\n'));
    expect(parsed.text).toBe(lf);
    expect(parsed.body).toBe(BODY);
    expect(parsed.spec.stop).toBe('s');
  });

  it('accepts lone CR (classic Mac) and normalises it to LF', () => {
    const parsed = accept(lf.replace(/\n/g, '\r'));
    expect(parsed.text).toBe(lf);
    expect(parsed.spec.title).toBe('T');
  });

  it('accepts mixed line endings', () => {
    expect(accept('---\r\ntitle: T\rtests: [t]\nstop: s\r\n---\r' + BODY).text).toBe(lf);
  });

  it('reports front matter lines correctly in a CRLF file', () => {
    expect(issues(spec('title: T\nid: t\nattempts: x').replace(/\n/g, '\r\n'))).toEqual([
      { file: FILE, line: 4, field: 'attempts', message: 'expected number; found the text "x"' },
    ]);
  });

  it('keeps the same dedup key whatever the line endings', () => {
    expect(accept(lf.replace(/\n/g, '\r\n')).dedupKey).toBe(accept(lf).dedupKey);
  });
});

describe('front matter fences', () => {
  it('refuses front matter that is never closed', () => {
    expect(issues('---\ntitle: T\n' + BODY)).toEqual([
      {
        file: FILE,
        line: 1,
        message: 'front matter opened with --- is never closed; add a line with --- after it',
      },
    ]);
    expect(issues('---')).toEqual([
      {
        file: FILE,
        line: 1,
        message: 'front matter opened with --- is never closed; add a line with --- after it',
      },
    ]);
  });

  it('accepts fences with trailing blanks and an empty front matter (title from the heading)', () => {
    expect(accept('--- \t\n---\t\n# From heading\n' + BODY).spec.title).toBe('From heading');
  });

  it.each(['js', 'javascript', 'json', 'yaml', 'toml', 'coffee', 'JS'])(
    'refuses ---%s with line 1',
    (lang) => {
      expect(issues(`---${lang}\ntitle: T\n---\n${BODY}`)).toEqual([
        {
          file: FILE,
          line: 1,
          message: `front matter with a language tag ("---${lang}") is not supported and is never evaluated; use plain --- and YAML`,
        },
      ]);
    },
  );

  it('never evaluates a ---js block (globalThis.pwned stays undefined)', () => {
    const g = globalThis as { pwned?: unknown };
    delete g.pwned;
    const payloads = [
      `---js\n{ title: (globalThis.pwned = 1, 'x') }\n---\n${BODY}`,
      `---javascript\nglobalThis.pwned = 1; module.exports = { title: 'x' }\n---\n${BODY}`,
      `---json\n{"title": "x", "__proto__": {"pwned": 1}}\n---\n${BODY}`,
      `--- js\n{ title: (globalThis.pwned = 1, 'x') }\n---\n${BODY}`,
      `\ufeff---js\n(() => { globalThis.pwned = 1 })()\n---\n${BODY}`,
    ];
    for (const text of payloads) {
      expect(() => accept(text)).toThrow(SpecError);
      expect(g.pwned).toBeUndefined();
      expect(({} as { pwned?: unknown }).pwned).toBeUndefined();
    }
  });

  it('treats JavaScript-looking text in plain YAML front matter as a string, never code', () => {
    const g = globalThis as { pwned?: unknown };
    delete g.pwned;
    const parsed = accept(spec('title: (globalThis.pwned = 1)\nstop: "${globalThis.pwned = 2}"'));
    expect(parsed.spec.title).toBe('(globalThis.pwned = 1)');
    expect(parsed.spec.stop).toBe('${globalThis.pwned = 2}');
    expect(g.pwned).toBeUndefined();
  });

  it('treats a file without a leading --- as all body (a later --- is just a rule)', () => {
    const parsed = accept(`# Title\n\n---\nid: not-front-matter\n---\n${BODY}`);
    expect(parsed.id).toBe('spec');
    expect(parsed.body).toContain('id: not-front-matter');
  });

  it.each([
    ['a scalar', 'just a sentence', 'the text "just a sentence"'],
    ['a list', '- a\n- b', 'a list of 2'],
  ])('refuses front matter that is %s instead of a mapping', (_name, front, found) => {
    expect(issues(spec(front))).toEqual([
      {
        file: FILE,
        line: 2,
        message: `front matter must be a mapping of keys to values (key: value); found ${found}`,
      },
    ]);
  });

  it('accepts front matter that is only a comment or null (title from the heading)', () => {
    expect(accept(spec('# just a comment', `# Heading\n${BODY}`)).spec.title).toBe('Heading');
    expect(accept(spec('~', `# Heading\n${BODY}`)).spec.title).toBe('Heading');
  });

  it('refuses front matter over 64 KiB, pointing at its first line', () => {
    expect(issues(spec(`title: T\nstop: "${'x'.repeat(70_000)}"`))).toEqual([
      { file: FILE, line: 2, message: 'the front matter is over 64 KiB; keep long text in the body' },
    ]);
  });
});

describe('YAML aliases', () => {
  it('refuses a billion-laughs alias bomb (its time: bench/spec.js)', () => {
    const bomb = [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
      'h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
      'i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]',
    ].join('\n');
    const value = issues(spec(bomb));
    expect(value).toEqual([
      {
        file: FILE,
        line: 4,
        field: 'c[0]',
        message: 'alias *b points at a collection that itself uses aliases; write the values out',
      },
    ]);
  });

  it('refuses a wide alias fan-out (more than 16 aliases)', () => {
    const value = issues(spec(`a: &a x\nb: [${Array(5000).fill('*a').join(',')}]`));
    expect(value).toEqual([
      {
        file: FILE,
        line: 3,
        field: 'b[16]',
        message: 'expected at most 16 YAML aliases; found more (*a is one too many): write the values out',
      },
    ]);
  });

  it.each([
    ['a flow sequence', 'a: &a [*a]', 'a[0]'],
    ['a flow mapping', 'a: &a { b: *a }', 'a.b'],
    ['a block mapping', 'a: &a\n  b: *a', 'a.b'],
  ])('refuses a recursive alias in %s', (_name, front, field) => {
    const value = issues(spec(front));
    const message = 'recursive YAML alias *a: it points into itself; write the value out';
    expect(value).toEqual([{ file: FILE, line: front.includes('\n') ? 3 : 2, field, message }]);
  });

  it('refuses an alias to an anchor that does not exist, with its line', () => {
    expect(issues(spec('title: T\nstop: *nope'))).toEqual([
      {
        file: FILE,
        line: 3,
        field: 'stop',
        message: 'unknown YAML alias *nope: define the anchor &nope before it',
      },
    ]);
  });

  it('accepts a plain scalar alias', () => {
    expect(accept(spec('title: &t Same words\nstop: *t')).spec.stop).toBe('Same words');
  });

  it('does not support merge keys (<<) — they are unknown keys', () => {
    expect(issues(spec('title: T\n<<: { stop: s }'))).toEqual([
      {
        file: FILE,
        line: 3,
        field: '<<',
        message: 'unknown key; check its spelling against `nightshift schema`',
      },
    ]);
  });
});

describe('duplicate and prototype keys', () => {
  it('refuses a duplicate key, naming the second occurrence', () => {
    expect(issues(spec('title: a\nid: x\ntitle: b'))).toEqual([
      {
        file: FILE,
        line: 4,
        field: 'title',
        message: 'duplicate key "title": each key may appear once (first on line 2)',
      },
    ]);
    expect(issues(spec('title: T\ngates: { x: 1, x: 2 }'))).toEqual([
      {
        file: FILE,
        line: 3,
        field: 'gates.x',
        message: 'duplicate key "x": each key may appear once (first on line 3)',
      },
    ]);
  });

  it('refuses a duplicate key spelled with quotes', () => {
    expect(issues(spec('title: a\n"title": b'))).toEqual([
      {
        file: FILE,
        line: 3,
        field: 'title',
        message: 'duplicate key "title": each key may appear once (first on line 2)',
      },
    ]);
  });

  it.each(['__proto__', 'constructor', 'prototype'])(
    'refuses the key %s and leaves Object.prototype alone',
    (key) => {
      const forms = [
        spec(`title: T\n${key}: { polluted: 1 }`),
        spec(`title: T\n"${key}": { polluted: 1 }`),
        spec(`title: T\ntests: [{ ${key}: { polluted: 1 } }]`),
      ];
      for (const text of forms) {
        expect(issues(text)).toEqual([
          { file: FILE, line: 3, field: key, message: `the key "${key}" is not allowed` },
        ]);
      }
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    },
  );

  it('refuses __proto__ in the config file too', () => {
    expect(() => parseConfig('__proto__: { polluted: 1 }\n', 'cfg.yaml')).toThrow(SpecError);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('refuses other Object.prototype names as unknown keys', () => {
    expect(issues(spec('title: T\ntoString: x\nhasOwnProperty: y'))).toEqual([
      {
        file: FILE,
        line: 3,
        field: 'toString',
        message: 'unknown key; check its spelling against `nightshift schema`',
      },
      {
        file: FILE,
        line: 4,
        field: 'hasOwnProperty',
        message: 'unknown key; check its spelling against `nightshift schema`',
      },
    ]);
  });
});

describe('YAML tags', () => {
  it.each([
    [
      '!!js/function',
      'title: !!js/function "function () { globalThis.pwned = 1 }"',
      'tag:yaml.org,2002:js/function',
    ],
    ['!!js/undefined', 'title: !!js/undefined ""', 'tag:yaml.org,2002:js/undefined'],
    ['!!python/object', 'title: !!python/object:os.system [id]', 'tag:yaml.org,2002:python/object:os.system'],
    ['!foo', 'title: !foo bar', '!foo'],
    ['!!binary', 'title: !!binary aGVsbG8=', 'tag:yaml.org,2002:binary'],
    ['!!timestamp', 'title: !!timestamp 2001-12-14', 'tag:yaml.org,2002:timestamp'],
    ['!!set', 'tests: !!set { a, b }', 'tag:yaml.org,2002:set'],
    ['!!omap', 'tests: !!omap [ a: 1 ]', 'tag:yaml.org,2002:omap'],
    ['!!pairs', 'tests: !!pairs [ a: 1 ]', 'tag:yaml.org,2002:pairs'],
    ['a verbatim tag', 'title: !<tag:yaml.org,2002:js/regexp> /x/', 'tag:yaml.org,2002:js/regexp'],
  ])('refuses %s with its line and field', (_name, front, _resolved) => {
    const g = globalThis as { pwned?: unknown };
    const [field, written] = front.split(/:? /);
    expect(issues(spec(front))).toEqual([
      {
        file: FILE,
        line: 2,
        field,
        message: `expected a plain YAML value; found the tag ${written} — custom and language tags are not allowed`,
      },
    ]);
    expect(g.pwned).toBeUndefined();
  });

  it('accepts the core schema tags (!!str)', () => {
    expect(accept(spec('title: !!str 123')).spec.title).toBe('123');
  });
});

describe('YAML 1.1 traps (the parser uses YAML 1.2 core)', () => {
  it.each(['no', 'yes', 'on', 'off', 'y', 'n', 'NO', 'True?'])('title: %s stays a string', (word) => {
    expect(accept(spec(`title: ${word}\nstop: ${word}`)).spec).toMatchObject({ title: word, stop: word });
  });

  it('title: 2024-01-01 stays a string, not a date', () => {
    expect(accept(spec('title: 2024-01-01')).spec.title).toBe('2024-01-01');
  });

  it.each([
    ['0777', 777, 'leading zeros are decimal in YAML 1.2 (not octal 511)'],
    ['0o17', 15, 'YAML 1.2 octal'],
    ['0x1F', 31, 'hex'],
    ['1e3', 1000, 'an integral float'],
  ])('priority: %s is %d (%s)', (text, value) => {
    expect(accept(spec(`title: T\npriority: ${text}`)).spec.priority).toBe(value);
  });

  it('attempts: 3.0 is the integer 3', () => {
    expect(accept(spec('title: T\nattempts: 3.0')).spec.attempts).toBe(3);
  });

  it.each([
    ['timeout', '12:30:00', 'expected a duration like "90s", "20m", "2h"'],
    ['idle', '20:00', 'expected a duration like "90s", "20m", "2h"'],
  ])('%s: %s (sexagesimal in YAML 1.1) is an error naming the field', (field, text, message) => {
    expect(issues(spec(`title: T\n${field}: ${text}`))).toEqual([
      {
        file: FILE,
        line: 3,
        field,
        message: containing(`${message}; found "${text}"`),
      },
    ]);
  });

  it.each([
    ['1:30', 'expected number; found the text "1:30"'],
    ['1_000', 'expected number; found the text "1_000"'],
  ])('priority: %s is an error', (text, message) => {
    expect(issues(spec(`title: T\npriority: ${text}`))).toEqual([
      { file: FILE, line: 3, field: 'priority', message },
    ]);
  });

  it.each(['.inf', '-.inf', '.nan'])('priority: %s (not finite) is an error', (text) => {
    expect(issues(spec(`title: T\npriority: ${text}`))).toEqual([
      { file: FILE, line: 3, field: 'priority', message: matching(/^expected number/) },
    ]);
  });

  it('title: ~ is null, not a string, and is refused', () => {
    expect(issues(spec('title: ~'))).toEqual([
      { file: FILE, line: 2, field: 'title', message: 'expected string; found null' },
    ]);
  });
});

describe('wrong types, every field', () => {
  // Line 2 is a comment so the bad field is always on line 3.
  it.each([
    ['title', '123', 'expected string; found number 123'],
    ['title', '[a]', 'expected string; found a list of 1'],
    ['title', '""', 'Too small: expected string to have >=1 characters; found the text ""'],
    ['title', '|\n  two\n  lines', 'must be one line; found the text "two\\nlines\\n"'],
    ['id', '5', 'expected string; found number 5'],
    ['repo', '[app]', 'expected string; found a list of 1'],
    ['base', '{ a: 1 }', 'expected string; found a mapping'],
    ['provider', 'true', 'expected string; found boolean true'],
    ['priority', 'high', 'expected number; found the text "high"'],
    ['priority', '1.5', 'expected int; found number 1.5'],
    ['priority', '1001', 'Too big: expected number to be <=1000; found number 1001'],
    ['dependsOn', '5', 'expected array; found number 5'],
    ['dependsOn', 'other-task', 'expected array; found the text "other-task"'],
    ['timeout', '90', 'expected string; found number 90'],
    ['idle', '[]', 'expected string; found a list of 0'],
    ['attempts', '"three"', 'expected number; found the text "three"'],
    ['attempts', '0', 'Too small: expected number to be >=1; found number 0'],
    ['attempts', '21', 'Too big: expected number to be <=20; found number 21'],
    ['reviewRounds', '2.5', 'expected int; found number 2.5'],
    ['reviewRounds', '-1', 'Too small: expected number to be >=0; found number -1'],
    ['tests', 'x', 'expected array; found the text "x"'],
    ['tests', '{ a: 1 }', 'expected array; found a mapping'],
    ['stop', 'false', 'expected string; found boolean false'],
    ['stop', '""', 'Too small: expected string to have >=1 characters; found the text ""'],
    ['gates', 'tests', 'expected array; found the text "tests"'],
    ['gates', 'null', 'expected array; found null'],
  ])('%s: %s', (field, value, message) => {
    const extra = field === 'title' ? '' : '\ntitle: T';
    expect(issues(spec(`# hostile\n${field}: ${value}${extra}`))).toEqual([
      { file: FILE, line: 3, field, message },
    ]);
  });

  it.each([
    ['tests', '[ok_name, 42]', 'tests[1]', 'expected string; found number 42'],
    ['tests', '[ok_name, "-rf"]', 'tests[1]', 'cannot start with "-"; found the text "-rf"'],
    ['tests', '[""]', 'tests[0]', 'Too small: expected string to have >=1 characters; found the text ""'],
    ['dependsOn', '[ok-task, Bad]', 'dependsOn[1]', `${BAD_ID}; found the text "Bad"`],
    [
      'gates',
      '[tests, nope]',
      'gates[1]',
      'expected one of "tests", "lint", "named-tests", "tests-kept", "diff", "deletions", "commits", "secrets"; found the text "nope"',
    ],
  ])('%s: %s names the element', (field, value, path, message) => {
    expect(issues(spec(`title: T\n${field}: ${value}`))).toEqual([
      { file: FILE, line: 3, field: path, message },
    ]);
  });

  it('names the line of the bad element in a block list', () => {
    expect(issues(spec('title: T\ntests:\n  - good_name\n  - 42\n  - also_good'))).toEqual([
      { file: FILE, line: 5, field: 'tests[1]', message: 'expected string; found number 42' },
    ]);
  });

  it('refuses over-long lists', () => {
    const tests = Array.from({ length: 101 }, (_, i) => `t${i}`).join(', ');
    expect(issues(spec(`title: T\ntests: [${tests}]`))).toEqual([
      {
        file: FILE,
        line: 3,
        field: 'tests',
        message: 'Too big: expected array to have <=100 items; found a list of 101',
      },
    ]);
  });

  it('refuses a zero duration and accepts a compound one', () => {
    expect(issues(spec('title: T\ntimeout: 0s'))).toEqual([
      {
        file: FILE,
        line: 3,
        field: 'timeout',
        message: containing('expected a duration like'),
      },
    ]);
    expect(accept(spec('title: T\ntimeout: 1h30m\nidle: 500ms')).spec).toMatchObject({
      timeoutMs: 5_400_000,
      idleMs: 500,
    });
  });

  it('reports every problem at once, each with its own line', () => {
    expect(issues(spec('title: 1\nattempts: x\ntests: y')).map((i) => [i.line, i.field])).toEqual([
      [2, 'title'],
      [3, 'attempts'],
      [4, 'tests'],
    ]);
  });

  it('refuses a task that depends on itself', () => {
    expect(issues(spec('title: T\nid: loop\ndependsOn: [loop]'))).toEqual([
      {
        file: FILE,
        line: 4,
        field: 'dependsOn[0]',
        message: 'a task cannot depend on itself; expected other task ids, found its own id "loop"',
      },
    ]);
  });
});

describe('size and nesting limits', () => {
  it('refuses a 10 MB single line for size, without decoding it', () => {
    const bytes = new Uint8Array(10 * 1024 * 1024).fill(0x61);
    const value = issues(bytes);
    expect(value).toEqual([
      {
        file: FILE,
        message: 'the file is 10485760 bytes; specs are limited to 1 MiB. Move large material into the repo',
      },
    ]);
  });

  it('accepts exactly 1 MiB and refuses one byte more', () => {
    const head = spec('title: Big\ntests: [t]\nstop: s');
    const padded = (n: number) => head + 'word '.repeat(Math.ceil(n / 5)).slice(0, n - utf8(head).length);
    const value = accept(padded(MAX_SPEC_BYTES));
    expect(value.spec.title).toBe('Big');
    expect(issues(padded(MAX_SPEC_BYTES + 1))).toEqual([
      {
        file: FILE,
        message: `the file is ${MAX_SPEC_BYTES + 1} bytes; specs are limited to 1 MiB. Move large material into the repo`,
      },
    ]);
  });

  it.each([
    ['10,000 [', 'title: T\nstop: ' + '['.repeat(10_000), 3],
    ['10,000 {', 'title: T\nstop: ' + '{'.repeat(10_000), 3],
    ['10,000 balanced [ ]', 'title: T\nid: x\nstop: ' + '['.repeat(10_000) + ']'.repeat(10_000), 4],
    ['10,000 compact "- "', 'title: T\ntests:\n' + '- '.repeat(10_000) + 'x', 4],
    ['10,000 compact "? "', '? '.repeat(10_000) + 'x', 2],
    [
      '200 indented mappings',
      Array.from({ length: 200 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n'),
      131,
    ],
  ])('refuses %s nesting with a clean error on the right line', (_name, front, line) => {
    const value = issues(spec(front));
    expect(value).toEqual([{ file: FILE, line, message: TOO_DEEP }]);
  });

  it('still parses 32 levels of flow nesting, and refuses 33', () => {
    expect(issues(spec(`title: T\ntests: ${'['.repeat(32)}${']'.repeat(32)}`))).toEqual([
      { file: FILE, line: 3, field: 'tests[0]', message: 'expected string; found a list of 1' },
    ]);
    expect(issues(spec(`title: T\ntests: ${'['.repeat(33)}${']'.repeat(33)}`))).toEqual([
      { file: FILE, line: 3, message: TOO_DEEP },
    ]);
  });

  it('10,000 [ in the body (no front matter) is just text', () => {
    expect(accept(`# T\n${BODY}${'['.repeat(10_000)}\n`).spec.title).toBe('T');
  });

  it.each([
    ['commas in a flow list', `tests: [${','.repeat(65_000)}]`],
    ['quotes', '"'.repeat(65_000)],
    ['anchors on one node', `${'&a '.repeat(21_000)}x`],
    ['tags on one node', `${'!!str '.repeat(10_800)}x`],
    ['unknown keys', Array.from({ length: 6_000 }, (_, i) => `k${i}: 1`).join('\n')],
  ])('refuses 64 KiB of hostile %s (its time: bench/spec.js)', (_name, front) => {
    const value = issues(spec(front));
    expect(value.length).toBeGreaterThan(0);
    expect(value.every((i) => i.file === FILE && (i.line === undefined || i.line >= 2))).toBe(true);
  });
});

describe('ids', () => {
  it.each([
    '../etc',
    '../../etc/passwd',
    'a;rm -rf /',
    '$(touch x)',
    '`touch x`',
    'a b',
    'a|b',
    'a&b',
    'a/b',
    'a\\b',
    '-rf',
    '--force',
    '.hidden',
    'Add-Backoff',
    'add_backoff',
    'a'.repeat(64),
    'x'.repeat(1000),
    '',
    ' ',
    'a\tb',
  ])('refuses id %j, naming field id and line 3', (id) => {
    const [issue, ...rest] = issues(spec(`title: T\nid: ${JSON.stringify(id)}`));
    expect(rest).toEqual([]);
    expect(issue).toEqual({
      file: FILE,
      line: 3,
      field: 'id',
      message: matching(
        /^expected 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit; found /,
      ),
    });
  });

  it('refuses a newline in an id', () => {
    expect(issues(spec('title: T\nid: "a\\nb"'))).toEqual([
      { file: FILE, line: 3, field: 'id', message: `${BAD_ID}; found the text "a\\nb"` },
    ]);
  });

  it.each(['pending', 'tmp', 'running', 'review', 'done', 'failed', 'requests', 'state', 'lock'])(
    'refuses the reserved id %s',
    (id) => {
      expect(issues(spec(`title: T\nid: ${id}`))).toEqual([
        {
          file: FILE,
          line: 3,
          field: 'id',
          message: `this name is reserved for the queue's own directories; found the text "${id}"`,
        },
      ]);
    },
  );

  it('accepts 63 characters, digits first and inner dashes', () => {
    expect(accept(spec(`title: T\nid: ${'a'.repeat(63)}`)).id).toBe('a'.repeat(63));
    expect(accept(spec('title: T\nid: 0-day--fix')).id).toBe('0-day--fix');
  });

  it('refuses a homoglyph id (Cyrillic а in аdd-backoff)', () => {
    expect(issues(spec('title: T\nid: \u0430dd-backoff'))).toEqual([
      { file: FILE, line: 3, field: 'id', message: `${BAD_ID}; found the text "\u0430dd-backoff"` },
    ]);
  });

  it('refuses homoglyphs in every name field', () => {
    expect(
      issues(spec('title: T\nrepo: \u0430pp\nprovider: gl\u043c\ndependsOn: [\u0430dd-backoff]')).map(
        (i) => i.field,
      ),
    ).toEqual(['repo', 'provider', 'dependsOn[0]']);
  });

  it.each([
    ['Add Backoff.md', 'add-backoff'],
    ['specs/Add Backoff.md', 'add-backoff'],
    ['../../etc/passwd.md', 'passwd'],
    ['a;rm -rf ~.md', 'a-rm-rf'],
    ['$(touch x).md', 'touch-x'],
    ['-rf.md', 'rf'],
    ['--Fix__THE   bug--.markdown', 'fix-the-bug'],
    ['\u0430dd-backoff.md', 'dd-backoff'],
  ])('derives the id from the file name %j → %s', (file, id) => {
    expect(accept(`# T\n${BODY}`, file).id).toBe(id);
  });

  it('derives at most 63 characters from a long file name', () => {
    expect(accept(`# T\n${BODY}`, `${'ab-'.repeat(40)}.md`).id).toBe(
      'ab-'.repeat(21).slice(0, 63).replace(/-+$/, ''),
    );
  });

  it('prefers the front matter id over the file name', () => {
    expect(accept(spec('title: T\nid: chosen'), 'Other Name.md').id).toBe('chosen');
  });

  it.each([
    ['pending.md', '"pending" is reserved for the queue\'s own directories'],
    ['tmp.md', '"tmp" is reserved for the queue\'s own directories'],
    ['ÄÖÜ.md', `${BAD_ID}; found ""`],
    ['---.md', `${BAD_ID}; found ""`],
  ])('refuses a file name %j that yields no usable id', (file, problem) => {
    expect(issues(`# T\n${BODY}`, file)).toEqual([
      {
        file,
        field: 'id',
        message: `no usable id in the file name (${problem}); add \`id:\` to the front matter`,
      },
    ]);
  });
});

describe('base (git refs)', () => {
  it.each([
    '..',
    'a..b',
    '-x',
    '--upload-pack=evil',
    'x.lock',
    'a b',
    '@{',
    'HEAD@{1}',
    'feature/',
    '/abs',
    'a//b',
    '.hidden',
    'a/.b',
    'x.',
    'a~1',
    'a^',
    'a:b',
    'a?',
    'a*',
    'a[b',
    'a\\b',
    '$(id)',
    'ma\u0131n',
  ])('refuses base %j, naming field base and line 3', (base) => {
    expect(issues(spec(`title: T\nbase: ${JSON.stringify(base)}`))).toEqual([
      {
        file: FILE,
        line: 3,
        field: 'base',
        message: matching(
          /^(a branch name cannot start with "-"|a branch name may use only letters, digits, "\.", "_", "\/" and "-"|expected a valid git branch name|expected a branch name of 1-200 characters)/,
        ),
      },
    ]);
    // The value is named once, not again by a generic "found" suffix.
    const [issue] = issues(spec(`title: T\nbase: ${JSON.stringify(base)}`));
    expect(issue?.message).toMatch(/; found ".*"$/);
    expect(issue?.message).not.toMatch(/found the text/);
  });

  it('refuses an empty base', () => {
    expect(issues(spec('title: T\nbase: ""'))).toEqual([
      {
        file: FILE,
        line: 3,
        field: 'base',
        message: matching(/^expected a branch name of 1-200 characters/),
      },
    ]);
  });

  it.each(['main', 'release/1.2', 'feature/x-y_z', 'v1.0.0'])('accepts base %s', (base) => {
    expect(accept(spec(`title: T\nbase: ${base}`)).spec.base).toBe(base);
  });
});

describe('bidirectional overrides', () => {
  it.each([
    ['title', 'title: safe\u202eexe.txt', '\u202e', 12],
    ['id', 'title: T\nid: a\u202eb', '\u202e', 6],
    ['tests', 'title: T\ntests: [ok, a\u202eb]', '\u202e', 14],
    ['stop', 'title: T\nstop: x\u2066y', '\u2066', 8],
  ])('refuses a raw U+202E/U+2066 in %s by its line and column', (field, front, ch, column) => {
    expect(issues(spec(front))).toEqual([
      {
        file: FILE,
        line: front.split('\n').length + 1,
        field,
        message: `${BIDI_IN_FRONT}: ${foundAt(ch, column)}`,
      },
    ]);
  });

  it.each([
    ['title', 'title: "a\\u202eb"', 'title'],
    ['title (RLM)', 'title: "a\\u200fb"', 'title'],
    ['tests', 'title: T\ntests: ["a\\u202eb"]', 'tests[0]'],
    ['stop', 'title: T\nstop: "a\\u2067b"', 'stop'],
  ])('refuses an escaped bidi character in %s, naming the field', (_name, front, field) => {
    const line = front.split('\n').length + 1;
    expect(issues(spec(front))).toEqual([
      {
        file: FILE,
        line,
        field,
        message: matching(/^must not contain invisible bidirectional-override characters; found the text/),
      },
    ]);
  });

  it('refuses an escaped bidi character in id as a bad id', () => {
    expect(issues(spec('title: T\nid: "a\\u202eb"'))).toEqual([
      { file: FILE, line: 3, field: 'id', message: `${BAD_ID}; found the text "a\u202eb"` },
    ]);
  });

  it('refuses a heading with a bidi override as the title', () => {
    expect(issues(`# invoice\u202efdp.exe\n${BODY}`)).toEqual([
      { file: FILE, line: 1, field: 'title', message: `${BAD_HEADING}; found ${BAD_CHARS}` },
    ]);
  });

  it('accepts a bidi override in the body with a warning on its line', () => {
    const parsed = accept(spec('title: T\ntests: [t]\nstop: s', `${BODY}abc\u202edef\n`));
    expect(parsed.warnings).toEqual([
      { file: FILE, line: 7, message: 'body contains bidirectional-override characters' },
    ]);
  });
});

describe('title', () => {
  it('is taken from the first "# " heading when the front matter has none', () => {
    const parsed = accept(`Intro line.\n## Not this\n#Nor this\n# Add backoff ##\n# Second\n${BODY}`);
    expect(parsed.spec.title).toBe('Add backoff');
  });

  it('prefers the front matter title to the heading', () => {
    expect(accept(spec('title: From front matter', `# From heading\n${BODY}`)).spec.title).toBe(
      'From front matter',
    );
  });

  it('does not take a YAML comment in the front matter as the heading', () => {
    expect(issues(spec('# Looks like a heading\nid: x'))).toEqual([
      { file: FILE, field: 'title', message: TITLE_REQUIRED },
    ]);
  });

  it('is required: no title and no heading is an error naming field title', () => {
    const err = reject(BODY);
    expect(err.issues).toEqual([{ file: FILE, field: 'title', message: TITLE_REQUIRED }]);
    expect(err.warnings).toEqual([NO_TESTS, NO_STOP]);
  });

  it('refuses an empty heading ("# " alone) as no title', () => {
    expect(issues(`# \n#\n${BODY}`)).toEqual([{ file: FILE, field: 'title', message: TITLE_REQUIRED }]);
  });

  it('refuses a heading over 200 characters, and a front matter title over 200', () => {
    expect(issues(`# ${'x'.repeat(201)}\n${BODY}`)).toEqual([
      { file: FILE, line: 1, field: 'title', message: `${BAD_HEADING}; found 201 characters` },
    ]);
    expect(issues(spec(`title: ${'x'.repeat(201)}`))).toEqual([
      {
        file: FILE,
        line: 2,
        field: 'title',
        message: matching(
          /^Too big: expected string to have <=200 characters; found the text "x{57}\.\.\."$/,
        ),
      },
    ]);
  });
});

describe('unknown keys and names', () => {
  it.each([
    ['depends_on', 'dependsOn'],
    ['Title', 'title'],
    ['review_rounds', 'reviewRounds'],
    ['TIMEOUT', 'timeout'],
    ['test', 'tests'],
    ['gate', 'gates'],
    ['stops', 'stop'],
  ])('suggests the right key for %s', (key, suggestion) => {
    expect(issues(spec(`title: T\n${key}: x`))).toEqual([
      { file: FILE, line: 3, field: key, message: `unknown key; did you mean "${suggestion}"?` },
    ]);
  });

  it('says to check the schema when nothing is close', () => {
    expect(issues(spec('title: T\ntimout: 2h'))).toEqual([
      {
        file: FILE,
        line: 3,
        field: 'timout',
        message: 'unknown key; check its spelling against `nightshift schema`',
      },
    ]);
  });

  it('refuses a repo and a provider the config does not name', () => {
    expect(issues(spec('title: T\nrepo: nope\nprovider: nope'))).toEqual([
      {
        file: FILE,
        line: 3,
        field: 'repo',
        message: 'unknown repo "nope"; expected one the config names: app',
      },
      {
        file: FILE,
        line: 4,
        field: 'provider',
        message: 'unknown provider "nope"; expected one the config names: glm',
      },
    ]);
  });

  it('checks neither provider nor repo names when the config names none (lint outside a workspace)', () => {
    const bare = parseConfig('{}\n', 'cfg.yaml');
    const parsed = parseSpec(utf8(spec('title: T\nrepo: anything\nprovider: nope')), {
      file: FILE,
      config: bare,
    });
    expect(parsed.spec.repo).toBe('anything');
    expect(parsed.spec.provider).toBe('nope');
  });

  it('points an unknown config key at docs/configuration.md, not the spec schema', () => {
    const err = (() => {
      try {
        parseConfig('repos: {}\nprovders: {}\n', 'cfg.yaml');
      } catch (e) {
        return e as SpecError;
      }
      return null;
    })();
    expect(err?.issues).toEqual([
      {
        file: 'cfg.yaml',
        line: 2,
        field: 'provders',
        message: 'unknown key; check its spelling against docs/configuration.md',
      },
    ]);
  });
});

describe('lint warnings', () => {
  it('warns about missing tests, missing stop and a short body, and still accepts', () => {
    const parsed = accept(spec('title: Fix it', 'Make it work.\n'));
    expect(parsed.warnings).toEqual([
      NO_TESTS,
      NO_STOP,
      { file: FILE, message: 'the body has 3 words; under 20 rarely tells an executor enough' },
    ]);
  });

  it('treats an empty tests list as no tests', () => {
    expect(accept(spec('title: T\ntests: []\nstop: s')).warnings).toEqual([NO_TESTS]);
  });

  it('warns about test names that are not plain identifiers', () => {
    expect(
      accept(spec('title: T\ntests: [good_one, "retries on 503", api.test.ts > retries]\nstop: s')).warnings,
    ).toEqual([
      {
        file: FILE,
        line: 3,
        field: 'tests[1]',
        message: '"retries on 503" is not a plain identifier (letters, digits, _)',
      },
      {
        file: FILE,
        line: 3,
        field: 'tests[2]',
        message: '"api.test.ts > retries" is not a plain identifier (letters, digits, _)',
      },
    ]);
  });

  it('checkSpec returns the same errors and warnings without throwing', () => {
    const result = checkSpec(utf8('# T\nshort\n'), { file: FILE, config });
    expect(result.errors).toEqual([]);
    expect(result.spec?.warnings).toEqual(result.warnings);
    const bad = checkSpec(utf8(spec('title: T\nattempts: 0')), { file: FILE, config });
    expect(bad.spec).toBeNull();
    expect(bad.errors).toEqual([
      {
        file: FILE,
        line: 3,
        field: 'attempts',
        message: 'Too small: expected number to be >=1; found number 0',
      },
    ]);
  });
});
