/**
 * string-width's answer, faster for the text a terminal mostly shows. string-width takes any text that
 * is not printable ASCII through Intl.Segmenter and a few Unicode regexes: a log line with one `…` or
 * `—` costs ~100× an ASCII one, and Ink measures each line up to three times a frame. When every code
 * point of a text stands alone as a grapheme (no marks, joiners, variation selectors, emoji, regional
 * indicators or conjoining jamo) and comes from a few common blocks, the width is the sum of the code
 * points' widths, computed once each by string-width's own rule and kept. Anything else goes to
 * string-width. Unit tests compare both on random text and on every code point of those blocks.
 */
import {
  reduceAnsiCodesIncremental,
  tokenize,
  type AnsiCode,
  type StyledChar,
} from '@alcalzone/ansi-tokenize';
import { eastAsianWidth } from 'get-east-asian-width';
import stringWidth from 'string-width';
import stripAnsi from 'strip-ansi';

const PRINTABLE_ASCII = /^[\u0020-\u007E]*$/;
/** Code points that never join a neighbour in a grapheme (with the blocks below, see isSimple). */
const STANDALONE = /^\p{Grapheme_Base}$/u;
const JOINING =
  /\p{Grapheme_Extend}|\p{Mc}|\p{Extended_Pictographic}|\p{Emoji_Component}|\p{Regional_Indicator}/u;

/** Latin to Arabic; punctuation, symbols, arrows, box drawing, shapes, dingbats; CJK; Hangul syllables; fullwidth. */
function inCommonBlocks(cp: number): boolean {
  return (
    (cp >= 0xa0 && cp < 0x900) ||
    (cp >= 0x2000 && cp < 0x2c00) ||
    (cp >= 0x3000 && cp < 0xa000) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xff01 && cp <= 0xff60)
  );
}

/**
 * string-width's test for a printing character. A standalone code point (simple() below) that fails it
 * takes no column; one that passes takes its East Asian Width, as string-width counts a one-code-point
 * grapheme that is no emoji (emoji never pass simple()). Asking string-width itself would cost its first
 * call ~35 ms of the TUI's first frame (Intl.Segmenter and its emoji regex, built on first use).
 */
const VISIBLE =
  /[^\p{Default_Ignorable_Code_Point}\p{Control}\p{Format}\p{Nonspacing_Mark}\p{Enclosing_Mark}\p{Surrogate}]/u;

/** Per code point: its width and its cell, or null when it may join a neighbour (then: string-width). */
const codePoints = new Map<number, { width: number; cell: StyledChar } | null>();
const NO_STYLES: StyledChar['styles'] = [];

function simple(cp: number, ch: string): { width: number; cell: StyledChar } | null {
  let known = codePoints.get(cp);
  if (known === undefined) {
    const ok = (cp >= 0x20 && cp <= 0x7e) || (inCommonBlocks(cp) && STANDALONE.test(ch) && !JOINING.test(ch));
    const token = ok ? tokenize(ch)[0] : undefined;
    known =
      token?.type === 'char'
        ? {
            width: VISIBLE.test(ch) ? eastAsianWidth(cp, { ambiguousAsWide: false }) : 0,
            cell: { type: 'char', value: token.value, fullWidth: token.fullWidth, styles: NO_STYLES },
          }
        : null;
    codePoints.set(cp, known);
  }
  return known;
}

/** stringWidth(text), summed per code point when that is the same thing; null when it may not be. */
function simpleWidth(text: string): number | null {
  let width = 0;
  for (const ch of text) {
    const known = simple(ch.codePointAt(0)!, ch);
    if (!known) return null;
    width += known.width;
  }
  return width;
}

const hasEscape = (text: string) => text.includes('\u001B') || text.includes('\u009B');

/**
 * The same as string-width's default export (default options). string-width first strips the escape
 * codes with strip-ansi, as here; what is left is measured as plain text when it holds no escape.
 */
export function textWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  const plain = hasEscape(text) ? stripAnsi(text) : text;
  if (!hasEscape(plain)) {
    if (PRINTABLE_ASCII.test(plain)) return plain.length;
    const width = simpleWidth(plain);
    if (width !== null) return width;
  }
  return stringWidth(text);
}

/** An SGR escape (`ESC [ params m`) at the regex's lastIndex. */
const SGR = /\u001B\[([0-9;]*)m/y;
/** The ansi tokens of each SGR escape seen, as tokenize() makes them (null: not only ansi tokens). */
const sgrCodes = new Map<string, AnsiCode[] | null>();
const SGR_CACHE_LIMIT = 512;

function codesOf(escape: string): AnsiCode[] | null {
  let codes = sgrCodes.get(escape);
  if (codes === undefined) {
    const tokens = tokenize(escape);
    codes = tokens.every((t) => t.type === 'ansi') ? tokens : null;
    if (sgrCodes.size >= SGR_CACHE_LIMIT) sgrCodes.clear();
    sgrCodes.set(escape, codes);
  }
  return codes;
}

export interface StyledCells {
  /** What styledCharsFromTokens(tokenize(line)) makes of the line (neighbours in one style share styles). */
  cells: StyledChar[];
  /**
   * Whether the line's cells are also those of sliceAnsi(line, 0, width), the line sliced whole (with
   * the same transformers after): every character takes a column, and the only codes are colours and
   * styles opened and closed in turn, bold and dim never inside one another (slice-ansi and
   * ansi-tokenize disagree on nested intensities, resets and combined parameters). A unit test checks
   * this against both libraries on random styled lines.
   */
  sliceKeeps: boolean;
}

/**
 * A line of standalone characters (see simple()) and SGR escapes as cells, without tokenizing its text:
 * each escape is tokenized alone, once, and applied as styledCharsFromTokens does. Null for any other
 * line (other escapes, joining characters): then tokenize it.
 */
export function styledCells(line: string): StyledCells | null {
  if (line.includes('\u009B')) return null;
  const cells: StyledChar[] = [];
  let codes: AnsiCode[] = [];
  let sliceKeeps = true;
  let intensity = false;
  let i = 0;
  while (i < line.length) {
    if (line.charCodeAt(i) === 0x1b) {
      SGR.lastIndex = i;
      const match = SGR.exec(line);
      if (!match) return null;
      const found = codesOf(match[0]);
      if (!found) return null;
      const params = match[1] ?? '';
      if (params === '1' || params === '2') {
        if (intensity) sliceKeeps = false;
        intensity = true;
      } else if (params === '22') intensity = false;
      else if (params === '' || params === '0' || (params.includes(';') && !/^[34]8;/.test(params)))
        sliceKeeps = false;
      codes = reduceAnsiCodesIncremental(codes, found);
      i = SGR.lastIndex;
      continue;
    }
    const cp = line.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    const known = simple(cp, ch);
    if (!known) return null;
    if (known.width < 1) sliceKeeps = false;
    const previous = cells.at(-1);
    const styles = previous && sameCodes(previous.styles, codes) ? previous.styles : [...codes];
    cells.push({ ...known.cell, styles });
    i += ch.length;
  }
  return { cells, sliceKeeps };
}

/** Whether two style lists hold the same codes in the same order. */
export function sameCodes(a: readonly AnsiCode[], b: readonly AnsiCode[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++)
    if (a[i]!.code !== b[i]!.code || a[i]!.endCode !== b[i]!.endCode) return false;
  return true;
}

/**
 * What styledCharsFromTokens(tokenize(line)) makes of a line without escape codes whose code points
 * all stand alone: one shared, unstyled cell per code point. Null for any other line.
 */
export function plainCells(line: string): StyledChar[] | null {
  if (line.includes('\u001B') || line.includes('\u009B')) return null;
  const cells: StyledChar[] = [];
  for (const ch of line) {
    const known = simple(ch.codePointAt(0)!, ch);
    if (!known) return null;
    cells.push(known.cell);
  }
  return cells;
}

/** Whether a line is plain (see plainCells) and every code point in it takes at least one column. */
export function allVisible(line: string): boolean {
  if (line.includes('\u001B') || line.includes('\u009B')) return false;
  for (const ch of line) {
    const known = simple(ch.codePointAt(0)!, ch);
    if (!known || known.width < 1) return false;
  }
  return true;
}
