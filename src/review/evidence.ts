/**
 * A gate's verdict and its evidence: what failed, trimmed to about 4 KB, and what to do about it (the
 * executor reads it in its next round). Pure text helpers, shared by the gates.
 */
import { outputLines } from './named-tests.js';

/** Evidence is trimmed to about this many characters (the tail of a command's output is kept). */
export const EVIDENCE_LIMIT = 4096;

/** One gate's pass/fail with its evidence. */
export interface Verdict {
  passed: boolean;
  evidence: string;
}

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Output fit to show: no terminal escapes or control characters, `\n` line ends. */
export function clean(text: string): string {
  return outputLines(text)
    .join('\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}

/** The last `max` characters of `text`, from a line start, saying how much came before. */
export function tail(text: string, max: number): string {
  const body = text.trim();
  if (!body) return '(no output)';
  if (body.length <= max) return body;
  const budget = Math.max(max - 40, 200);
  let kept = body.slice(-budget);
  const newline = kept.indexOf('\n');
  if (newline >= 0 && newline < kept.length / 2) kept = kept.slice(newline + 1);
  return `[… ${body.length - kept.length} earlier characters cut]\n${kept}`;
}

/** Evidence longer than the limit keeps its beginning (the lists and what to do come first). */
export function clip(text: string): string {
  if (text.length <= EVIDENCE_LIMIT) return text;
  return `${text.slice(0, EVIDENCE_LIMIT - 30).trimEnd()}\n[… ${text.length - EVIDENCE_LIMIT + 30} characters cut]`;
}
