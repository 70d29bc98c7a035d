/**
 * The report's words for a person: what each park and each failure code means and what to do about it.
 * They follow docs/merge.md#parks and the failure table (core/failures.ts); a new park reason or failure
 * code does not compile until it has its words here. `<id>` and `<branch>` are filled in by attention.ts.
 */
import type { Attribution } from '../../core/errors.js';
import type { FailureCode } from '../../core/failures.js';
import type { ParkReason } from '../../core/park.js';

export interface ParkWords {
  what: string;
  todo: string;
}

export const PARK_WORDS: Readonly<Record<ParkReason, ParkWords>> = {
  'awaiting-approval': {
    what: 'The gates passed; your configuration has a person approve each merge.',
    todo: 'Look at the change on <branch>, then approve it to merge, or reject it.',
  },
  'needs-human': {
    what: 'The review rounds are used up and the work is still not ready to merge (the review still asks for changes, or a conflict or a gate failed on top of main).',
    todo: 'Finish it by hand on <branch> and approve it, or reject it.',
  },
  'architect-unavailable': {
    what: 'The architect could not be reached or gave no usable answer.',
    todo: 'Nothing: it is reviewed again when the architect answers.',
  },
  'checkout-dirty': {
    what: "The main branch is checked out with uncommitted changes in the merge's way.",
    todo: 'Commit or stash the changes in that checkout; the merge then resumes by itself.',
  },
  'judgment-error': {
    what: 'nightshift itself failed while judging it (a git error, say).',
    todo: "Read the reason and the daemon's log, fix the cause, then approve it.",
  },
  'missing-branch': {
    what: "Its branch <branch> is missing from the supervisor's repo.",
    todo: 'Fetch or recreate <branch>, then approve it.',
  },
  'no-main': {
    what: "The repo's main branch does not exist.",
    todo: 'Fix repos.<repo>.main in the config (or create the branch), then approve it.',
  },
  diverged: {
    what: 'The remote main and the local main each have commits the other lacks.',
    todo: 'Reconcile the two by hand so that one descends from the other, then approve it.',
  },
  'push-failed': {
    what: 'Pushing the merge failed (not a rejection); the local main was put back.',
    todo: 'Fix the remote or its credentials, then approve it.',
  },
  'merge-retries': {
    what: 'Three merge tries in a row were lost to a main branch that kept moving.',
    todo: 'Approve it to queue the merge again.',
  },
  'pr-retry': {
    what: 'Pushing the branch or opening its pull request failed.',
    todo: 'Nothing: it is tried again by itself.',
  },
  'pr-failed': {
    what: 'The pull request could not be opened after every retry.',
    todo: 'Fix the cause the reason names (gh auth login, say), then approve it.',
  },
  'window-ended': {
    what: 'The night window ended while it ran; its work was kept and no attempt was charged.',
    todo: 'Nothing: it starts again in the next window.',
  },
};

/** What each failure code means, as a sentence about the task. */
export const FAILURE_WORDS: Readonly<Record<FailureCode, string>> = {
  'exit-nonzero': 'The agent exited with an error after doing some work.',
  timeout: 'The attempt ran longer than its time limit and was stopped.',
  idle: 'The agent went quiet for too long and was stopped.',
  'main-touched': 'The attempt changed the main branch directly; its work was not merged.',
  'not-descendant': 'Its branch does not descend from the base it was given.',
  'bad-base': 'The base the task starts from could not be found.',
  'dependency-failed': 'A task it depends on failed, so it never ran.',
  rejected: 'The review (or a person) rejected the work.',
  'cap-reached': 'It reached a configured cap and was not run again.',
  'prompt-too-large': "Its prompt is too large for the provider's command line.",
  poison: 'The agent crashed three times on it.',
  'attempts-exhausted': 'Every attempt the spec allows was used up without a mergeable result.',
  'retries-exhausted':
    'Too many tries failed without using up an attempt (the provider or host kept failing).',
  'max-turns': 'The agent ran out of turns: the task is probably too big for one attempt.',
  'empty-output': 'The agent finished without an answer.',
  auth: 'The provider refused the credentials (or the model or URL was not found).',
  'rate-limit': 'The provider was rate-limited or out of quota.',
  overloaded: 'The provider was overloaded.',
  'crash-on-start': "The agent's command died at once (a missing binary or a broken install, say).",
  'server-error': "The provider's endpoint failed or refused the connection.",
  'agent-error': 'The agent reported an error.',
  'link-down': 'The connection to the host was lost.',
  'session-lost': "The attempt's tmux session on the host was lost.",
  'launch-failed': 'The attempt could not be started on the host.',
  'hook-failed': "The repo's setup hook failed on the host.",
  'hook-timeout': "The repo's setup hook ran out of time on the host.",
  killed: 'It was killed on request.',
  'merge-conflict': 'Merging it into main conflicted.',
  'gate-infra': 'A gate could not run (a problem on our side, not in the work).',
  'launch-interrupted': 'The launch was interrupted (the daemon stopped, say).',
  'session-collision': 'A tmux session with its name already existed on the host.',
  'fetch-failed': 'Its branch could not be fetched from the host.',
};

/** What to do about a failed task, by who the failure is charged to. */
export const FAILED_TODO: Readonly<Record<Attribution, string>> = {
  spec: 'Read what the agent did (nightshift show <id>), change the spec if it asks too much, then retry it.',
  provider: 'Check the provider (nightshift providers, nightshift doctor), then retry it.',
  worker: 'Check the host (nightshift doctor), then retry it.',
  supervisor: 'Retry it when the cause is fixed.',
};

/** Failures that are a decision rather than a fault: what to do instead of FAILED_TODO's. */
export const FAILED_TODO_BY_CODE: Readonly<Partial<Record<FailureCode, string>>> = {
  killed: 'Nothing, unless it should run after all: then retry it.',
  rejected: 'Read why it was rejected; change the spec and retry it if it should run after all.',
  'dependency-failed': 'Deal with the task it depends on first, then retry it.',
};

/**
 * How the report introduces a review's summary. A summary that sent the work back is the architect's
 * (or the gates') instruction to the agent ("Fix them on this branch."): it is shown as such, not as
 * if it spoke to the reader.
 */
export function summaryLabel(verdict: 'approve' | 'changes' | 'reject' | null): string {
  if (verdict === 'changes') return 'sent back to the agent with these notes:';
  if (verdict === 'reject') return 'rejected by the review:';
  return 'review:';
}
