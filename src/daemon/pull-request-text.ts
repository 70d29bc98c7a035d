/**
 * What pr mode (pull-request.ts, docs/merge.md#pull-requests) says to gh, as pure functions: the
 * arguments of `gh pr create` and `gh pr list`, the pull request's body, the URL in gh's answer, and
 * when a failed push or gh call is tried again.
 *
 * Everything a spec, an issue, an executor or the architect wrote is untrusted here. It reaches gh
 * only as the value of a `--flag=value` argument (never an argument of its own, which gh would read as
 * a flag when it starts with "-") or in the body file; in the body it sits inside fenced code blocks,
 * where GitHub neither links mentions nor acts on "Closes #N". Only nightshift's own words (the task
 * id, gate names, a grade of the known scale, the issue the spec was imported from) are outside them.
 */
import { formatDuration } from '../core/duration.js';
import { isGrade } from '../core/grades.js';
import type { TaskRecord } from '../core/task.js';

/** GitHub refuses a pull request body over 65,536 characters: the spec is cut to keep under it. */
export const MAX_BODY_CHARS = 60_000;
const MAX_SPEC_CHARS = 30_000;
const MAX_LINE_CHARS = 2_000;

/** The branch a task's work is pushed to on the remote. */
export function prBranch(task: Pick<TaskRecord, 'id'>): string {
  return `nightshift/${task.id}`;
}

/** One line of plain text: control characters and line breaks become spaces, cut at `max`. */
export function oneLine(text: string, max = MAX_LINE_CHARS): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `text` in a fenced block no line of it can close: the fence is longer than any backtick run in it. */
export function fenced(text: string, info = 'text'): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${text.replace(/\n*$/, '')}\n${fence}`;
}

export interface PrCreateInput {
  title: string;
  bodyFile: string;
  base: string;
  head: string;
  labels: readonly string[];
  draft: boolean;
}

/** `gh pr create`'s arguments: every value joined to its flag, so none can be read as a flag. */
export function prCreateArgs(input: PrCreateInput): string[] {
  return [
    'pr',
    'create',
    `--title=${oneLine(input.title, 256) || 'nightshift task'}`,
    `--body-file=${input.bodyFile}`,
    `--base=${input.base}`,
    `--head=${input.head}`,
    ...input.labels.map((l) => `--label=${l}`),
    ...(input.draft ? ['--draft'] : []),
  ];
}

/** `gh pr list`'s arguments for the pull requests (any state) whose head is `head`. */
export function prListArgs(head: string): string[] {
  return ['pr', 'list', `--head=${head}`, '--state=all', '--json=url,number', '--limit=5'];
}

/** The first pull request in `gh pr list --json url,number` output, or null (none, or not that shape). */
export function existingPr(stdout: string): { url: string; number: number | null } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed)) return null;
  for (const item of parsed as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const { url, number } = item as { url?: unknown; number?: unknown };
    if (typeof url === 'string' && isPrUrl(url))
      return { url, number: typeof number === 'number' ? number : prNumber(url) };
  }
  return null;
}

function isPrUrl(text: string): boolean {
  return /^https?:\/\/[^\s/]+\/\S+$/.test(text);
}

/** The pull request's URL in `gh pr create`'s output: its last line that is one. */
export function createdPrUrl(stdout: string): string | null {
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(isPrUrl);
  return lines.at(-1) ?? null;
}

export function prNumber(url: string): number | null {
  const m = /\/pull\/(\d{1,9})\/?$/.exec(url);
  return m ? Number(m[1]) : null;
}

/** The issue a spec was imported from (its front matter's `source: github:owner/repo#N`), or null. */
export function issueOf(source: string | null | undefined): { repo: string; number: number } | null {
  const m = /^github:([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)#(\d{1,9})$/.exec(source ?? '');
  return m ? { repo: m[1]!, number: Number(m[2]) } : null;
}

export interface BodyInput {
  task: TaskRecord;
  /** The spec as queued (spec.md). */
  specText: string;
  /** The spec's `source:` (github:owner/repo#N) when it was imported from an issue. */
  source: string | null;
  sha: string;
  /** Removes known secret values. */
  redact: (text: string) => string;
}

/** The pull request's body (Markdown): provenance, the review, the gates, then the spec. */
export function prBody(input: BodyInput): string {
  const { task, redact } = input;
  const last = task.attempts.at(-1);
  const out: string[] = [
    `<!-- nightshift task ${task.id} -->`,
    `Opened by nightshift for task \`${task.id}\`: commit \`${input.sha.slice(0, 12)}\`${last ? `, attempt ${last.n} of ${task.spec.attempts}` : ''}, review round ${task.round}.`,
  ];
  const issue = issueOf(input.source);
  if (issue) out.push('', `Closes #${issue.number}`);
  const review = task.review;
  out.push('', '## Review', '');
  if (review) {
    const grade = isGrade(review.grade) ? review.grade : 'none';
    out.push(
      `Grade **${grade}**, approved by ${review.approvedBy === 'human' ? 'a person' : (review.approvedBy ?? 'nobody')}.`,
    );
    if (review.summary.trim()) out.push('', fenced(redact(review.summary).slice(0, 4_000)));
    if (review.findings.length) {
      const lines = review.findings
        .slice(0, 50)
        .map((f) => oneLine(`[${f.severity}] ${f.file}${f.line !== null ? `:${f.line}` : ''} ${f.text}`));
      out.push('', `Findings (${review.findings.length}):`, '', fenced(redact(lines.join('\n'))));
    }
  } else {
    out.push('No review recorded.');
  }
  out.push('', '## Gates', '');
  if (task.gates.length) {
    out.push('| gate | result | time |', '|---|---|---|');
    for (const g of task.gates)
      out.push(`| ${g.name} | ${g.passed ? 'pass' : 'FAIL'} | ${formatDuration(g.durationMs)} |`);
    const evidence = task.gates
      .filter((g) => g.evidence.trim())
      .map((g) => `${g.name}: ${oneLine(g.evidence, 300)}`);
    if (evidence.length) out.push('', fenced(redact(evidence.join('\n'))));
  } else {
    out.push('No gates ran.');
  }
  const spec = redact(input.specText);
  const shown = spec.length > MAX_SPEC_CHARS ? `${spec.slice(0, MAX_SPEC_CHARS)}\n… (cut)` : spec;
  out.push(
    '',
    '## Spec',
    '',
    '<details><summary>the spec as queued</summary>',
    '',
    fenced(shown, 'markdown'),
  );
  out.push('', '</details>', '');
  const body = out.join('\n');
  return body.length > MAX_BODY_CHARS ? body.slice(0, MAX_BODY_CHARS) : body;
}

export interface PrRetryPolicy {
  /** Tries before the task parks as pr-failed for a person. */
  maxTries: number;
  initialMs: number;
  maxMs: number;
}

export type PrRetry = { retry: true; at: number } | { retry: false };

/**
 * After failed try `tries` (1 for the first) of pushing or opening the pull request: when to try
 * again (the delay doubles from `initialMs` up to `maxMs`), or not at all once `maxTries` failed.
 */
export function prRetry(tries: number, now: number, policy: PrRetryPolicy): PrRetry {
  if (tries >= policy.maxTries) return { retry: false };
  const delay = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, tries - 1));
  return { retry: true, at: now + delay };
}
