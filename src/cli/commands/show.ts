/** `nightshift show <id> [--json]`: one task with its attempts, gates, review and history. */
import { formatDuration } from '../../core/duration.js';
import type { NightshiftEvent } from '../../core/events.js';
import type { TaskId } from '../../core/ids.js';
import type { TaskRecord } from '../../core/task.js';
import { readEvents } from '../../client/events.js';
import type { CommandContext } from '../context.js';
import { printJson } from '../output.js';
import { visible } from '../../lib/visible.js';
import { parseTaskId } from './task-requests.js';
import { costLines } from './cost-lines.js';
import { taskUsage } from '../../core/usage-totals.js';
import { describeUsage } from '../../core/usage.js';

/** An attempt whose log passed defaults.logCap: the bytes left out (the attempt.log-cut events). */
export interface LogCut {
  attempt: number;
  cutBytes: number;
  cap: number;
}

/** The last attempt.log-cut event of each attempt of `taskId`. */
export function logCuts(events: readonly NightshiftEvent[], taskId: string): LogCut[] {
  const byAttempt = new Map<number, LogCut>();
  for (const e of events) {
    if (e.type === 'attempt.log-cut' && e.task === taskId)
      byAttempt.set(e.attempt, { attempt: e.attempt, cutBytes: e.cutBytes, cap: e.cap });
  }
  return [...byAttempt.values()];
}

/** pr mode: the pull request a task ended with, and the branch it shows. */
function pullRequestLine(pr: NonNullable<TaskRecord['pullRequest']>): string {
  return `  pull req.  ${visible(pr.url)} (${visible(pr.remote)} ${visible(pr.branch)} at ${pr.sha.slice(0, 12)} → ${visible(pr.base)})`;
}

export function describeTask(task: TaskRecord, cuts: readonly LogCut[] = []): string {
  const s = task.spec;
  const lines = [
    `${task.id}  ${visible(task.title)}`,
    `  state      ${task.state}${task.parked ? ` (${task.parked})` : ''}${task.failure ? ` — ${task.failure.code} (${task.failure.attribution}): ${visible(task.failure.reason)}` : ''}`,
    `  repo       ${s.repo} from ${s.base} on branch ${task.branch}`,
    `  priority   ${s.priority}${s.provider ? `, pinned to ${s.provider}` : ''}${s.dependsOn.length ? `, after ${s.dependsOn.join(', ')}` : ''}`,
    `  limits     timeout ${formatDuration(s.timeoutMs)}, idle ${formatDuration(s.idleMs)}, ${s.attempts} attempts, ${s.reviewRounds} review rounds (used ${task.round})`,
    `  tests      ${s.tests.length ? s.tests.join(', ') : '(none named)'}`,
    `  stop       ${s.stop ? visible(s.stop) : '(none)'}`,
    `  gates      ${s.gates ? s.gates.join(', ') : 'workspace default'}`,
  ];
  if (task.attempts.length) {
    lines.push('  attempts');
    for (const a of task.attempts) {
      lines.push(
        `    #${a.n} ${a.provider}@${a.host}  ${a.startedAt} → ${a.endedAt ?? 'running'}  ${a.outcome}${a.exitCode !== null ? ` exit ${a.exitCode}` : ''}${a.attribution ? ` [${a.attribution}]` : ''}${a.reason ? ` ${visible(a.reason)}` : ''}`,
      );
      if (a.usage) lines.push(`       used ${describeUsage(a.usage)}`);
      const cut = cuts.find((c) => c.attempt === a.n);
      if (cut) {
        lines.push(
          `       log cut: ${cut.cutBytes.toLocaleString('en-US')} bytes of output left out between the first and the last ${(cut.cap / 2).toLocaleString('en-US')} (defaults.logCap)`,
        );
      }
    }
  }
  if (task.gates.length) {
    lines.push('  gates');
    for (const g of task.gates)
      lines.push(`    ${g.passed ? 'pass' : 'FAIL'} ${g.name} (${formatDuration(g.durationMs)})`);
  }
  if (task.review) {
    lines.push(
      `  review     ${task.review.verdict ?? '-'} ${task.review.grade ?? ''}${task.review.approvedBy ? ` by ${task.review.approvedBy}` : ''}${task.review.attribution ? ` [${task.review.attribution}]` : ''}`,
    );
    if (task.review.summary) lines.push(`             ${visible(task.review.summary)}`);
  }
  if (task.merge) lines.push(`  merged     ${task.merge.sha} at ${task.merge.at}`);
  if (task.pullRequest) lines.push(pullRequestLine(task.pullRequest));
  lines.push(...costLines(taskUsage(task)));
  lines.push('  history');
  for (const h of task.history)
    lines.push(`    ${h.at}  ${h.from ?? '(new)'} → ${h.to}  ${visible(h.reason)}`);
  return `${lines.join('\n')}\n`;
}

export function registerShow(ctx: CommandContext): void {
  ctx.program
    .command('show')
    .description('show one task: spec fields, attempts, gates, review, history')
    .argument('<id>', 'task id', parseTaskId)
    .option('--json', 'print the whole task record, with its usage added up (`cost`)')
    .action(async (id: TaskId, opts: { json?: boolean }) => {
      const client = await ctx.open();
      const task = client.store.get(id);
      // The record as stored, with its usage added up (docs/cost.md).
      if (opts.json) printJson(ctx.io, { ...task, cost: taskUsage(task) });
      else ctx.io.stdout(describeTask(task, logCuts(readEvents(client.paths.events), id)));
    });
}
