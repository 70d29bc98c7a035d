/** Output helpers: aligned tables, JSON, and errors that name what is at fault. */
import { coerceError, SpecError } from '../core/errors.js';
import { visible } from '../lib/visible.js';
import type { CliIO } from './io.js';

export function printJson(io: CliIO, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** Renders rows as an aligned table; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** Prints an error and returns its exit code. */
export function reportError(io: CliIO, err: unknown): number {
  const e = coerceError(err);
  if (e instanceof SpecError) {
    for (const issue of e.issues) {
      io.stderr(
        `error: ${visible(`${issue.line ? `${issue.file}:${issue.line}` : issue.file}: ${issue.field ? `${issue.field}: ` : ''}${issue.message}`)}\n`,
      );
    }
  } else {
    io.stderr(`nightshift: ${visible(e.describe())}\n`);
  }
  return e.exitCode;
}

export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}
