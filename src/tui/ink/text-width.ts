/**
 * string-width's answer, faster for the text a terminal mostly shows. string-width takes any text that
 * is not printable ASCII through Intl.Segmenter and a few Unicode regexes: a log line with one `…` or
 * `—` costs ~100× an ASCII one, and Ink measures each line up to three times a frame. When every code
 * point of a text stands alone as a grapheme (no marks, joiners, variation selectors, emoji, regional
 * indicators or conjoining jamo) and comes from a few common blocks, the width is the sum of the code
 * points' widths, which are asked of string-width once each and kept. Anything else goes to string-width.
 * A unit test compares both on random text.
 */
import { tokenize, type StyledChar } from '@alcalzone/ansi-tokenize';
import stringWidth from 'string-width';

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
            width: stringWidth(ch),
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

/** The same as string-width's default export (default options). */
export function textWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  if (!text.includes('\u001B') && !text.includes('\u009B')) {
    const width = simpleWidth(text);
    if (width !== null) return width;
  }
  return stringWidth(text);
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
