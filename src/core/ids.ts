/**
 * Ids reach paths, tmux session names, git refs and argv. They are validated once, here, and
 * nothing downstream ever has to quote or escape them.
 */
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

export function isTaskId(id: string): boolean {
  return idProblem(id) === null;
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
