/**
 * Why a task in `review` (or, for `window-ended`, `pending`) waits (its `parked` field). One closed set: the merge queue skips a parked task,
 * and docs/merge.md#parks says what each means and what to do. Records on disk are checked against it
 * where task.json is read (queue/task-file.ts).
 */
export const PARK_REASONS = [
  /** Manual approval is configured: the review passed and a person approves the merge. */
  'awaiting-approval',
  /** A conflict or a staging gate failure came after the review rounds were used up. */
  'needs-human',
  /** The architect's answer was unusable (or it could not be reached); retried when it is back. */
  'architect-unavailable',
  /** `main` is checked out with changes in the merge's way; the merge resumes by itself. */
  'checkout-dirty',
  /** The supervisor itself failed while judging (a git error, say). */
  'judgment-error',
  /** `ns/<id>` is not in the supervisor's repo. */
  'missing-branch',
  /** The repo's main branch does not exist. */
  'no-main',
  /** The remote's main and the local main each have commits the other lacks. */
  'diverged',
  /** The push failed for another reason than a rejection. */
  'push-failed',
  /** Three tries in a row were lost to a moving main. */
  'merge-retries',
  /** pr mode: pushing the branch or opening its pull request failed; retried by itself at `retryAt`. */
  'pr-retry',
  /** pr mode: the pull request could not be opened after every retry (gh not logged in, say). */
  'pr-failed',
  /**
   * The night window ended while the attempt ran (core/window.ts): it was salvaged and its task waits,
   * pending, for the next window. No attempt is charged: it is nobody's fault.
   */
  'window-ended',
] as const;

export type ParkReason = (typeof PARK_REASONS)[number];

/**
 * The parks a person must act on (a notice says so): not those that resume by themselves (the
 * architect back, a checkout clean again, the next window).
 */
export const PARK_NEEDS_PERSON: Readonly<Record<ParkReason, boolean>> = {
  'awaiting-approval': true,
  'needs-human': true,
  'architect-unavailable': false,
  'checkout-dirty': false,
  'judgment-error': true,
  'missing-branch': true,
  'no-main': true,
  diverged: true,
  'push-failed': true,
  'merge-retries': true,
  'pr-retry': false,
  'pr-failed': true,
  'window-ended': false,
};

export function isParkReason(value: unknown): value is ParkReason {
  return typeof value === 'string' && (PARK_REASONS as readonly string[]).includes(value);
}
