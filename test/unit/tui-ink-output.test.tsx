/**
 * src/tui/ink/ replaces four of Ink 6.8's internal modules (scripts/patch-ink.js puts them into the
 * installed Ink, which the tests, an unbundled run and the TUI's bundle all use). These tests render the
 * real screen with that Ink and replay every frame's drawing operations into Ink's own output stage (kept
 * by the patch in ink/build/nightshift-upstream/): the text must be the same, byte for byte (colours and
 * all), frame after frame (our caches and the reuse of unchanged rows carry over from one frame to the
 * next, as in the TUI).
 */
import { EventEmitter } from 'node:events';
import { styledCharsFromTokens, tokenize } from '@alcalzone/ansi-tokenize';
import chalk from 'chalk';
import fc from 'fast-check';
import { render } from 'ink';
import stringWidth from 'string-width';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The output stage the installed (patched) Ink renders with: ours, as scripts/patch-ink.js put it there.
import ShippedOutput from '../../node_modules/ink/build/output.js';
// Ink's own modules, which the patch replaces (kept beside them; not exported: reached by path).
import InkOutput from '../../node_modules/ink/build/nightshift-upstream/output.js';
import inkMeasureText from '../../node_modules/ink/build/nightshift-upstream/measure-text.js';
import inkWrapText from '../../node_modules/ink/build/nightshift-upstream/wrap-text.js';
import inkWidestLine from 'widest-line';
import { waitFor } from '../../src/testing/wait.js';
import { App } from '../../src/tui/app/App.js';
import { MemorySource, sampleTask } from '../../src/tui/data/memory-source.js';
import measureText, { measureCacheSize } from '../../src/tui/ink/measure-text.js';
import Output, { cacheSizes, CACHE_LIMIT, LINE_CACHE_LIMIT } from '../../src/tui/ink/output.js';
import { styledCells, textWidth } from '../../src/tui/ink/text-width.js';
import widestLine from '../../src/tui/ink/widest-line.js';
import wrapText, { wrapCacheSize } from '../../src/tui/ink/wrap-text.js';

type Op =
  | { type: 'write'; x: number; y: number; text: string; transformers: ((s: string, i: number) => string)[] }
  | { type: 'clip'; clip: { x1?: number; x2?: number; y1?: number; y2?: number } }
  | { type: 'unclip' };

interface Compared {
  expected: string;
  actual: string;
}

const compared: Compared[] = [];
// eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(), on an Output
const shippedGet = ShippedOutput.prototype.get;
const savedLevel = chalk.level;

/** Every frame the patched Ink draws is also drawn by Ink's own Output from the same operations. */
function replaying(this: ShippedOutput): { output: string; height: number } {
  const self = this as unknown as { operations: Op[]; width: number; height: number };
  const ink = new InkOutput({ width: self.width, height: self.height });
  for (const op of self.operations) {
    if (op.type === 'write') ink.write(op.x, op.y, op.text, { transformers: op.transformers });
    else if (op.type === 'clip') ink.clip({ x1: op.clip.x1, x2: op.clip.x2, y1: op.clip.y1, y2: op.clip.y2 });
    else ink.unclip();
  }
  const actual = shippedGet.call(this);
  const expected = ink.get();
  expect(actual.height).toBe(expected.height);
  compared.push({ expected: expected.output, actual: actual.output });
  return actual;
}

beforeAll(() => {
  chalk.level = 3; // colours on, though the tests' stdout is no terminal: the styles must match too
  ShippedOutput.prototype.get = replaying;
});
afterAll(() => {
  ShippedOutput.prototype.get = shippedGet;
  chalk.level = savedLevel;
});

const KEY = { right: '\u001b[C', esc: '\u001b', down: '\u001b[B' };

/** A terminal of the given size (ink-testing-library's is always 100 columns wide). */
class FakeStdout extends EventEmitter {
  isTTY = true;
  frames: string[] = [];
  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    super();
  }
  write(data: string): boolean {
    this.frames.push(data);
    return true;
  }
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  private queue: string[] = [];
  setRawMode(): void {}
  setEncoding(): void {}
  ref(): void {}
  unref(): void {}
  resume(): void {}
  pause(): void {}
  read(): string | null {
    return this.queue.shift() ?? null;
  }
  type(data: string): void {
    this.queue.push(data);
    this.emit('readable');
  }
}

function start(size: { rows: number; cols: number }) {
  const tasks = [
    sampleTask('alpha', 'running', {
      provider: 'glm',
      host: 'oci',
      title: 'Add exponential backoff — 日本語 ✓',
    }),
    sampleTask('beta', 'review', { grade: 'B+' }),
    sampleTask('gamma', 'pending', { title: 'An emoji 🚀 and a very long title '.repeat(6) }),
    sampleTask('delta', 'failed'),
    ...Array.from({ length: 60 }, (_, i) => sampleTask(`done-${i}`, 'done', { grade: 'A' })),
  ];
  const source = new MemorySource({
    tasks,
    providers: [{ name: 'glm', kind: 'claude-code', hosts: ['oci'], ceiling: 2 }],
    hosts: [{ name: 'oci', kind: 'ssh' }],
    gates: [{ name: 'tests', enabled: true, runnable: true }],
  });
  const stdout = new FakeStdout(size.cols, size.rows);
  const stdin = new FakeStdin();
  const instance = render(
    <App
      source={source}
      readOnly={false}
      env={{}}
      terminal={{ handOver: () => ({ ok: true, code: 0, message: '' }) }}
    />,
    {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      exitOnCtrlC: false,
      patchConsole: false,
      incrementalRendering: false,
    },
  );
  // The last frame as text (the predicates below look for words, not colours).
  const frame = () => (compared.at(-1)?.expected ?? '').replace(/\u001b\[[0-9;]*m/g, '');
  const until = (what: string, test: (f: string) => boolean) =>
    waitFor(what, () => test(frame()), 5000, 5).catch((err: Error) => {
      throw new Error(`${err.message}; the last frame:\n${frame()}`);
    });
  const press = async (key: string, settled: (f: string) => boolean) => {
    stdin.type(key);
    await until(`the frame after ${JSON.stringify(key)}`, settled);
  };
  return { source, unmount: () => instance.unmount(), frame, until, press };
}

describe("nightshift's output stage, in the patched Ink", () => {
  it.each([
    { rows: 50, cols: 200 },
    { rows: 24, cols: 80 },
  ])('draws every frame of the TUI exactly as Ink does ($cols×$rows)', async (size) => {
    compared.length = 0;
    const app = start(size);
    try {
      await app.until('the board', (f) => f.includes('alpha'));
      await app.press('2', (f) => f.includes('[] tab'));
      await app.press(']', (f) => f.includes('live output of alpha'));
      const live = app.source.lives.at(-1)!;
      // A live pane streaming: new lines each frame, some wider than the pane, some not ASCII.
      for (let n = 0; n < 12; n++) {
        const lines = Array.from({ length: 40 }, (_, i) =>
          i % 7 === 3
            ? `wide ${n}-${i} 表示 ✓ ${'x'.repeat(size.cols)}`
            : `stream ${String(n * 40 + i).padStart(6, '0')} ${'lorem ipsum '.repeat(n % 3)}`,
        );
        live.push({ lines });
        await app.until(`stream frame ${n}`, (f) => f.includes(`stream ${String(n * 40).padStart(6, '0')}`));
      }
      await app.press('x', (f) => f.includes('Kill alpha on oci?'));
      await app.press(KEY.esc, (f) => !f.includes('Kill alpha on oci?'));
      await app.press('1', (f) => !f.includes('[] tab'));
      await app.press('G', (f) => f.includes('done-59'));
      await app.press('?', (f) => f.includes('Esc closes'));
    } finally {
      app.unmount();
    }
    expect(compared.length).toBeGreaterThan(15);
    // The screen has colours: the comparison covers styles, not just text.
    expect(compared.some((c) => c.expected.includes('\u001b['))).toBe(true);
    for (const [i, c] of compared.entries()) {
      if (c.actual !== c.expected) {
        const a = c.actual.split('\n');
        const e = c.expected.split('\n');
        const row = e.findIndex((line, y) => line !== a[y]);
        throw new Error(
          `frame ${i}, row ${row} differs:\n  Ink:  ${JSON.stringify(e[row])}\n  ours: ${JSON.stringify(a[row])}`,
        );
      }
    }
  });

  it('clips and slices as Ink does, wide characters at the edges included', () => {
    const cases: { width: number; height: number; ops: Op[] }[] = [
      {
        width: 12,
        height: 3,
        ops: [
          { type: 'clip', clip: { x1: 2, x2: 8, y1: 0, y2: 2 } },
          { type: 'write', x: 0, y: 0, text: '日本語のテキスト\nabcdefghijkl\n🚀x🚀y', transformers: [] },
          {
            type: 'write',
            x: 5,
            y: 1,
            text: chalk.red('red ') + chalk.bold.inverse('bold'),
            transformers: [],
          },
          { type: 'unclip' },
          { type: 'write', x: 9, y: 2, text: 'end', transformers: [(s) => chalk.green(s)] },
        ],
      },
    ];
    for (const { width, height, ops } of cases) {
      const ink = new InkOutput({ width, height });
      const ours = new Output({ width, height });
      for (const out of [ink, ours] as const) {
        for (const op of ops) {
          if (op.type === 'write') out.write(op.x, op.y, op.text, { transformers: op.transformers });
          else if (op.type === 'clip')
            out.clip({ x1: op.clip.x1, x2: op.clip.x2, y1: op.clip.y1, y2: op.clip.y2 });
          else out.unclip();
        }
      }
      expect(ours.get()).toEqual(ink.get());
    }
  });
});

/** Characters that stand alone, and ones that join their neighbours or are wide, with colour codes. */
const PIECES = [
  'a',
  'Z',
  '7',
  ' ',
  '#',
  '…',
  '—',
  '·',
  'é',
  'ß',
  'Ω',
  'ж',
  'א',
  'ب',
  '│',
  '─',
  '●',
  '✓',
  '✗',
  '◆',
  '日',
  '本',
  '한',
  '가',
  'ｱ',
  'Ａ',
  'ﾞ',
  '\u0301',
  '\u0903',
  '\u200d',
  '\ufe0f',
  '\u20e3',
  '🚀',
  '👍🏽',
  '🇫🇷',
  '\u1100',
  '\u1161',
  '\u11a8',
  '\u00ad',
  '\u3164',
  '\u0600',
  '\t',
  chalk.red('r'),
  chalk.bold.inverse('b '),
  '\u001b[0m',
  '\u001b[32m',
  '\u001b[39m',
  '\u001b[1m',
  '\u001b[2m',
  '\u001b[22m',
  '\u001b[m',
  '\u001b[1;31m',
  '\u001b[38;5;208m',
  '\u001b[48;2;1;2;3m',
  '\u001b[2K',
  '\u001b]8;;https://example.com\u0007',
  '\u001b',
];
const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 30 }).map((parts) => parts.join(''));

describe('text widths', () => {
  it('are what string-width says, for any mix of characters', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(textWidth(t)).toBe(stringWidth(t));
      }),
      { numRuns: 2000 },
    );
  });

  it('are what string-width says for every code point of the Basic Multilingual Plane, alone', () => {
    const wrong: string[] = [];
    for (let cp = 0x20; cp <= 0xffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      if (textWidth(ch) !== stringWidth(ch)) wrong.push(`U+${cp.toString(16)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('give the same cells as Ink for random lines, clipped or not', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(20), fc.nat(3), text), { minLength: 1, maxLength: 6 }),
        fc.nat(10),
        fc.nat(30),
        (writes, x1, span) => {
          const ink = new InkOutput({ width: 24, height: 4 });
          const ours = new Output({ width: 24, height: 4 });
          for (const out of [ink, ours] as const) {
            out.clip({ x1, x2: x1 + span, y1: 0, y2: 3 });
            for (const [x, y, t] of writes) out.write(x, y, t, { transformers: [] });
            out.unclip();
          }
          expect(ours.get()).toEqual(ink.get());
        },
      ),
      { numRuns: 500 },
    );
  });
});

/** Lines as Ink's <Text> makes them: chalk styles nested in any order around standalone characters. */
const STYLES: ((s: string) => string)[] = [
  (s) => chalk.red(s),
  (s) => chalk.bold(s),
  (s) => chalk.dim(s),
  (s) => chalk.inverse(s),
  (s) => chalk.bgGreen(s),
  (s) => chalk.hex('#ff8800')(s),
  (s) => chalk.gray(s),
  (s) => chalk.underline(s),
  (s) => chalk.bold.red(s),
  (s) => chalk.dim.italic(s),
  (s) => s,
];
const { styled } = fc.letrec<{ styled: string }>((tie) => ({
  styled: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom('a', 'b c', ' ', '…', '│', '●', '日', 'x'),
    fc
      .tuple(fc.nat(STYLES.length - 1), fc.array(tie('styled'), { maxLength: 4 }))
      .map(([i, parts]) => STYLES[i]!(parts.join(''))),
  ),
}));
const styledLine = fc.array(styled, { maxLength: 6 }).map((parts) => parts.join(''));

describe('styled lines (the fast paths for text with colour codes)', () => {
  it('become the cells ansi-tokenize makes of them', () => {
    fc.assert(
      fc.property(fc.oneof(styledLine, text), (line) => {
        const fast = styledCells(line);
        if (fast) expect(fast.cells).toEqual(styledCharsFromTokens(tokenize(line)));
      }),
      { numRuns: 2000 },
    );
  });

  it('draw as Ink draws them, clipped or not, whole or sliced, with transformers', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(20), fc.nat(3), styledLine), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(STYLES.length - 1), { maxLength: 3 }),
        fc.nat(10),
        fc.nat(40),
        (writes, outer, x1, span) => {
          const transformers = outer.map((i) => STYLES[i]!);
          const ink = new InkOutput({ width: 30, height: 4 });
          const ours = new Output({ width: 30, height: 4 });
          for (const out of [ink, ours] as const) {
            out.clip({ x1, x2: x1 + span, y1: 0, y2: 3 });
            for (const [x, y, t] of writes) out.write(x, y, t, { transformers });
            out.unclip();
          }
          expect(ours.get()).toEqual(ink.get());
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('bounded caches (Ink keeps every text it has seen)', () => {
  it('measure, wrap, widths and lines forget old entries, and still answer as Ink does', () => {
    for (let i = 0; i < CACHE_LIMIT + 500; i++) {
      const text = `streamed line ${i} ✓`;
      expect(measureText(text)).toEqual(inkMeasureText(text));
      expect(wrapText(`${text} and more`, 12, 'truncate-end')).toBe(
        inkWrapText(`${text} and more`, 12, 'truncate-end'),
      );
      expect(widestLine(`${text}\nsecond`)).toBe(inkWidestLine(`${text}\nsecond`));
      const out = new Output({ width: 40, height: 1 });
      out.write(0, 0, text, { transformers: [] });
      out.get();
    }
    expect(measureCacheSize()).toBeLessThanOrEqual(CACHE_LIMIT);
    expect(wrapCacheSize()).toBeLessThanOrEqual(CACHE_LIMIT);
    expect(cacheSizes().widths).toBeLessThanOrEqual(CACHE_LIMIT);
    expect(cacheSizes().lines).toBeLessThanOrEqual(LINE_CACHE_LIMIT);
  });
});
