/** Turns zod issues into SpecIssues that name the file, line, field, what was expected and what was found. */
import type { z } from 'zod';
import type { SpecIssue } from '../core/errors.js';

export function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `the text ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}

export function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

export function zodIssues(
  error: z.ZodError,
  file: string,
  lineOf: (path: readonly PropertyKey[]) => number | undefined,
  /** Where the valid keys are listed, for an unknown key's message. */
  keysAt = '`nightshift schema`',
): SpecIssue[] {
  const out: SpecIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const keyPath = [...path, key];
        const line = lineOf(keyPath);
        out.push({
          file,
          ...(line ? { line } : {}),
          field: fieldPath(keyPath),
          message: `unknown key; check its spelling against ${keysAt}`,
        });
      }
      continue;
    }
    const line = lineOf(path) ?? lineOf(path.slice(0, -1));
    const found =
      'input' in issue && !/\bfound\b/.test(issue.message) ? `; found ${describeFound(issue.input)}` : '';
    let expected = issue.message.replace(/^Invalid input: /, '').replace(/, received [-\w]+$/, '');
    if (issue.code === 'invalid_value')
      expected = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    out.push({
      file,
      ...(line ? { line } : {}),
      ...(path.length ? { field: fieldPath(path) } : {}),
      message: `${expected}${found}`,
    });
  }
  return out;
}
