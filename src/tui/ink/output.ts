/**
 * A drop-in for Ink 6.8's `build/output.js`: the stage that turns the laid-out tree into the screen's
 * text, every frame. scripts/patch-ink.js puts this module in place of Ink's in the installed Ink
 * (at `npm install`/`npm ci`, before the tests, in `npm run build`), so the tests, an unbundled run and
 * the TUI's bundle all render with it.
 *
 * The algorithm is Ink's, step for step (clip, slice, transform, place each character, serialize each
 * row), built from the same libraries. What changes is what is done again each frame. Ink creates a new
 * Output, with new caches, for every frame, so it re-tokenizes the ANSI of every line, re-measures every
 * line and character and re-serializes all rows, though between two frames of this screen most lines are
 * the same. Here:
 * - the styled characters and widths of a line are cached across frames (bounded: cleared when full);
 * - a line that already fits its clip is not sliced (slicing it is the identity);
 * - a row whose cells are the very cells of the previous frame's row reuses that row's text.
 * A unit test (test/unit/tui-ink-output.test.tsx) renders real screens through both and compares them.
 */
import {
  ansiCodesToString,
  diffAnsiCodes,
  styledCharsFromTokens,
  tokenize,
  type AnsiCode,
  type StyledChar,
} from '@alcalzone/ansi-tokenize';
import sliceAnsi from 'slice-ansi';
import { allVisible, plainCells, sameCodes, styledCells, textWidth } from './text-width.js';

/** Ink's `OutputTransformer` (render-node-to-output.d.ts). */
export type OutputTransformer = (s: string, index: number) => string;

interface Clip {
  x1: number | undefined;
  x2: number | undefined;
  y1: number | undefined;
  y2: number | undefined;
}

type Operation =
  | { type: 'write'; x: number; y: number; text: string; transformers: OutputTransformer[] }
  | { type: 'clip'; clip: Clip }
  | { type: 'unclip' };

/** A line as cells: its styled characters and the columns each takes (at least 1, as Ink counts). */
interface LineCells {
  chars: StyledChar[];
  widths: number[] | null; // null: every character takes one column
  /** Whether sliceAnsi(line, 0, its width) has these very cells (see StyledCells.sliceKeeps). */
  sliceKeeps: boolean;
}

/** Past this many entries a cache is dropped and refilled: bounded memory, whatever streams through. */
export const CACHE_LIMIT = 4096;
/** Lines are bigger (an object per character): a screen of 200×50 has a few hundred distinct ones. */
export const LINE_CACHE_LIMIT = 1024;

class BoundedCache<V> {
  private map = new Map<string, V>();
  constructor(private readonly limit: number) {}
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    if (this.map.size >= this.limit) this.map = new Map();
    this.map.set(key, value);
  }
  get size(): number {
    return this.map.size;
  }
}

const widths = new BoundedCache<number>(CACHE_LIMIT);
const blockWidths = new BoundedCache<number>(CACHE_LIMIT);
const lines = new BoundedCache<LineCells>(LINE_CACHE_LIMIT);
const slices = new BoundedCache<string>(CACHE_LIMIT);
/** The cells that follow a wide character (Ink makes new ones each time; these are made once). */
const fillers = new WeakMap<StyledChar, StyledChar>();
const BLANK: StyledChar = Object.freeze({ type: 'char', value: ' ', fullWidth: false, styles: [] });
const PRINTABLE_ASCII = /^[\u0020-\u007E]*$/;
const NO_STYLES: AnsiCode[] = [];

/** The previous frame's rows, cells and text, to reuse a row that did not change. */
let previous: { width: number; rows: { cells: StyledChar[]; text: string }[] } = { width: -1, rows: [] };

/** stringWidth(text), cached (shared with ./widest-line.ts, so Yoga's measure and this stage agree). */
export function width(text: string): number {
  let cached = widths.get(text);
  if (cached === undefined) {
    cached = textWidth(text);
    widths.set(text, cached);
  }
  return cached;
}

function widestLine(text: string): number {
  let cached = blockWidths.get(text);
  if (cached === undefined) {
    cached = 0;
    for (const line of text.split('\n')) cached = Math.max(cached, width(line));
    blockWidths.set(text, cached);
  }
  return cached;
}

function cellsOf(line: string): LineCells {
  let cached = lines.get(line);
  if (cached === undefined) {
    // Plain cells are shared between lines (never to be mutated); styled ones are this line's own.
    const plain = plainCells(line);
    const styled = plain ? null : styledCells(line);
    const chars = plain ?? styled?.cells ?? styledCharsFromTokens(tokenize(line));
    const sliceKeeps = plain ? allVisible(line) : (styled?.sliceKeeps ?? false);
    let perChar: number[] | null = null;
    for (let i = 0; i < chars.length; i++) {
      // Neighbours in the same style share one styles array, so rowText() can skip the diff.
      const previousStyles = i ? chars[i - 1]!.styles : NO_STYLES;
      if (!plain && chars[i]!.styles !== previousStyles && sameCodes(chars[i]!.styles, previousStyles))
        chars[i]!.styles = previousStyles;
      const w = Math.max(1, width(chars[i]!.value));
      if (w !== 1 && !perChar) perChar = chars.map(() => 1);
      if (perChar) perChar[i] = w;
    }
    cached = { chars, widths: perChar, sliceKeeps };
    lines.set(line, cached);
  }
  return cached;
}

function fillerOf(char: StyledChar): StyledChar {
  let filler = fillers.get(char);
  if (!filler) {
    filler = { type: 'char', value: '', fullWidth: false, styles: char.styles };
    fillers.set(char, filler);
  }
  return filler;
}

/**
 * `sliceAnsi(line, from, to)`, or a line with the same cells: the line itself when it fits and slicing
 * it whole keeps its cells (a plain line with every character visible: a zero-width one at the edge
 * would be cut; or a styled one, see StyledCells.sliceKeeps), String.slice for ASCII, else sliceAnsi,
 * cached.
 */
function slice(line: string, from: number, to: number, lineWidth: number): string {
  if (PRINTABLE_ASCII.test(line)) return line.slice(Math.max(0, from), Math.max(0, to));
  if (from <= 0 && to >= lineWidth && cellsOf(line).sliceKeeps) return line;
  const key = `${from}:${to}:${line}`;
  let sliced = slices.get(key);
  if (sliced === undefined) {
    sliced = sliceAnsi(line, from, to);
    slices.set(key, sliced);
  }
  return sliced;
}

/**
 * ansi-tokenize's styledCharsToString(): each cell's text, with the codes that lead from the previous
 * cell's style to its own, and at the end the codes that undo the last style. The diff between two cells
 * that share a styles array is empty, so it is not computed.
 */
function rowText(cells: readonly StyledChar[]): string {
  let text = '';
  let styles: AnsiCode[] = NO_STYLES;
  for (const cell of cells) {
    if (cell.styles !== styles && (cell.styles.length || styles.length))
      text += ansiCodesToString(diffAnsiCodes(styles, cell.styles));
    text += cell.value;
    styles = cell.styles;
  }
  if (styles.length) text += ansiCodesToString(diffAnsiCodes(styles, NO_STYLES));
  return text;
}

function sameCells(a: readonly StyledChar[], b: readonly StyledChar[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export default class Output {
  width: number;
  height: number;
  private readonly operations: Operation[] = [];

  constructor(options: { width: number; height: number }) {
    this.width = options.width;
    this.height = options.height;
  }

  write(x: number, y: number, text: string, options: { transformers: OutputTransformer[] }): void {
    if (!text) return;
    this.operations.push({ type: 'write', x, y, text, transformers: options.transformers });
  }

  clip(clip: Clip): void {
    this.operations.push({ type: 'clip', clip });
  }

  unclip(): void {
    this.operations.push({ type: 'unclip' });
  }

  get(): { output: string; height: number } {
    const output: StyledChar[][] = [];
    for (let y = 0; y < this.height; y++) output.push(new Array<StyledChar>(this.width).fill(BLANK));
    const clips: Clip[] = [];
    for (const operation of this.operations) {
      if (operation.type === 'clip') {
        clips.push(operation.clip);
        continue;
      }
      if (operation.type === 'unclip') {
        clips.pop();
        continue;
      }
      const { text, transformers } = operation;
      let { x, y } = operation;
      let textLines = text.split('\n');
      const clip = clips.at(-1);
      if (clip) {
        const clipHorizontally = typeof clip.x1 === 'number' && typeof clip.x2 === 'number';
        const clipVertically = typeof clip.y1 === 'number' && typeof clip.y2 === 'number';
        // Outside the clip altogether: nothing to draw.
        if (clipHorizontally && (x + widestLine(text) < clip.x1! || x > clip.x2!)) continue;
        if (clipVertically && (y + textLines.length < clip.y1! || y > clip.y2!)) continue;
        if (clipHorizontally) {
          const x1 = clip.x1!;
          const x2 = clip.x2!;
          textLines = textLines.map((line) => {
            const from = x < x1 ? x1 - x : 0;
            const lineWidth = width(line);
            const to = x + lineWidth > x2 ? x2 - x : lineWidth;
            return slice(line, from, to, lineWidth);
          });
          if (x < x1) x = x1;
        }
        if (clipVertically) {
          const from = y < clip.y1! ? clip.y1! - y : 0;
          const height = textLines.length;
          const to = y + height > clip.y2! ? clip.y2! - y : height;
          textLines = textLines.slice(from, to);
          if (y < clip.y1!) y = clip.y1!;
        }
      }
      let offsetY = 0;
      for (let index = 0; index < textLines.length; index++) {
        const currentLine = output[y + offsetY];
        // Ink: a line can fall below the pre-initialized rows when the text is taller than the output.
        if (!currentLine) continue;
        let line = textLines[index]!;
        for (const transformer of transformers) line = transformer(line, index);
        const { chars, widths: charWidths } = cellsOf(line);
        let offsetX = x;
        if (!charWidths) {
          for (const char of chars) currentLine[offsetX++] = char;
        } else {
          for (let i = 0; i < chars.length; i++) {
            const char = chars[i]!;
            const w = charWidths[i]!;
            currentLine[offsetX] = char;
            for (let k = 1; k < w; k++) currentLine[offsetX + k] = fillerOf(char);
            offsetX += w;
          }
        }
        offsetY++;
      }
    }
    const reuse = previous.width === this.width ? previous.rows : [];
    const rows = output.map((cells, y) => {
      const before = reuse[y];
      if (before && sameCells(before.cells, cells)) return before;
      // See https://github.com/vadimdemedes/ink/pull/564#issuecomment-1637022742 (Ink drops holes)
      const dense = cells.filter((item) => item !== undefined);
      return { cells, text: rowText(dense).trimEnd() };
    });
    previous = { width: this.width, rows };
    return { output: rows.map((r) => r.text).join('\n'), height: output.length };
  }
}

/** For tests: how many entries the caches hold. */
export function cacheSizes(): { widths: number; lines: number } {
  return { widths: widths.size, lines: lines.size };
}
