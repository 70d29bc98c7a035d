/**
 * Ids reach paths, tmux session names, git refs and argv. They are validated once, at the boundary
 * where they enter (a spec, a CLI argument, a request file, a queue directory, a task.json), and
 * carried from there as a `TaskId`: nothing downstream ever has to check, quote or escape them.
 */
import { ErrorCode, NightshiftError, type ErrorContext } from './errors.js';

declare const taskIdBrand: unique symbol;
/** A string that passed `idProblem`. Only `isTaskId` and `parseTaskId` make one. */
export type TaskId = string & { readonly [taskIdBrand]: true };

export const TASK_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Names the queue uses for its own directories: never a task id. */
export const RESERVED_IDS: ReadonlySet<string> = new Set([
  'tmp',
  'pending',
  'running',
  'review',
  'done',
  'failed',
  'requests',
  'state',
  'lock',
]);

/** Why an id is invalid, or null when it is fine. */
export function idProblem(id: string): string | null {
  if (!TASK_ID_PATTERN.test(id)) {
    return `expected 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit; found ${JSON.stringify(id)}`;
  }
  if (RESERVED_IDS.has(id)) return `"${id}" is reserved for the queue's own directories`;
  return null;
}

export function isTaskId(id: string): id is TaskId {
  return idProblem(id) === null;
}

/**
 * The one check at a boundary: the id, or a NightshiftError (`code`, `usage` by default) that names
 * where the value came from (`context`) and what is wrong with it.
 */
export function parseTaskId(
  id: string,
  context: ErrorContext = {},
  code: ErrorCode = ErrorCode.usage,
): TaskId {
  const problem = idProblem(id);
  if (problem !== null) throw new NightshiftError(code, `invalid task id: ${problem}`, context);
  return id as TaskId;
}

/** Turns a file name into a candidate id ("Add Backoff.md" → "add-backoff"); may still be invalid. */
export function idFromFileName(fileName: string): string {
  const stem = fileName.replace(/\.[^./]*$/, '');
  return stem
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/**
 * Git ref component rules (git check-ref-format), strict enough that a value is safe as an argv word:
 * no leading "-", no "..", no control or special characters, no "@{", no trailing "." or ".lock".
 */
export function refNameProblem(name: string): string | null {
  if (name.length === 0 || name.length > 200) return 'expected a branch name of 1-200 characters';
  if (name.startsWith('-')) return `a branch name cannot start with "-"; found ${JSON.stringify(name)}`;
  if (!/^[A-Za-z0-9._/-]+$/.test(name)) {
    return `a branch name may use only letters, digits, ".", "_", "/" and "-"; found ${JSON.stringify(name)}`;
  }
  if (
    name.includes('..') ||
    name.includes('//') ||
    name.startsWith('/') ||
    name.endsWith('/') ||
    name.endsWith('.') ||
    name.endsWith('.lock') ||
    name.split('/').some((part) => part.startsWith('.'))
  ) {
    return `expected a valid git branch name (no "..", "//", ".lock" ending, or part that starts or ends with "." or "/"); found ${JSON.stringify(name)}`;
  }
  return null;
}
