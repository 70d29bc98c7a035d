/**
 * A drop-in for the `widest-line` package as Ink 6.8 uses it (the width of every text node, every
 * frame, and Yoga's measure of each new text), put into the installed Ink by scripts/patch-ink.js like
 * ./output.ts: the same answer, from the output stage's cache of line widths.
 */
import { width } from './output.js';

export default function widestLine(text: string): number {
  let widest = 0;
  for (const line of text.split('\n')) widest = Math.max(widest, width(line));
  return widest;
}
