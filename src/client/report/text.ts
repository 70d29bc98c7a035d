/**
 * Text for the human formats. Everything a task or an event carries (titles, reasons, summaries) is
 * untrusted: control characters are made visible, and each format escapes what its reader would obey.
 */
import { formatDuration } from '../../core/duration.js';
import { visible } from '../../lib/visible.js';

export { visible };

/** One line: newlines and tabs become spaces. */
export function oneLine(text: string): string {
  return visible(text.replace(/[\r\n\t]+/g, ' ').trim());
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Safe in HTML and SVG text and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return visible(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * Safe inside Markdown text and table cells: backslash-escapes what would become markup, a link, raw
 * HTML or a cell boundary. One line.
 */
export function escapeMarkdown(text: string): string {
  return oneLine(text).replace(/[\\`*_[\]<>&|#~!]/g, (c) => `\\${c}`);
}

/** A short UTC time: "2026-11-26 22:05". */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '-';
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}

/** "1h2m", "0s" for nothing, "-" for unknown. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  return ms <= 0 ? '0s' : formatDuration(ms);
}

export function percent(rate: number | null): string {
  return rate === null ? '-' : `${Math.round(rate * 100)}%`;
}

export function gradeText(points: number | null, letter: string | null): string {
  return points === null ? '-' : `${letter ?? '?'} (${points.toFixed(2)})`;
}
