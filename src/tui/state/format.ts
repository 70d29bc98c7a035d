/**
 * Text helpers for the screen. Everything a task carries (titles, reasons, evidence, log lines) is
 * untrusted: control characters are made visible so text can never drive the terminal.
 */

import { clean } from '../../lib/screen-text.js';

export { clean, stripAnsi, textLines } from '../../lib/screen-text.js';

/** One line of untrusted text: line breaks become spaces. */
export function oneLine(text: string): string {
  return clean(text.replace(/[\r\n]+/g, ' ').trim());
}

/** Exactly `width` columns: cut with "…" or padded with spaces. (One column per code point.) */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = [...text];
  if (chars.length > width) return `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
  return text + ' '.repeat(width - chars.length);
}

/** At most `width` columns, not padded. */
export function cut(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = [...text];
  return chars.length > width ? `${chars.slice(0, Math.max(0, width - 1)).join('')}…` : text;
}

/** A compact duration: "42s", "12m", "3h04m", "2d3h". */
export function short(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

/** "5m ago" style, from an ISO time. */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '-' : `${short(now - t)} ago`;
}

/** "22:05:13" (UTC) from an ISO time. */
export function clockTime(iso: string | null | undefined): string {
  if (!iso) return '--:--:--';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '--:--:--' : new Date(t).toISOString().slice(11, 19);
}
