/** `nightshift kill|retry|approve|reject <id>`: requests applied by the daemon (or at once without one). */
import { InvalidArgumentError } from 'commander';
import { idProblem, type TaskId } from '../../core/ids.js';
import { visible } from '../../lib/visible.js';
import type { Request } from '../../client/workspace.js';
import type { CommandContext } from '../context.js';

/** A task id argument, checked once here (commander's parser): the command gets a TaskId. */
export function parseTaskId(value: string): TaskId {
  const problem = idProblem(value);
  if (problem) throw new InvalidArgumentError(`not a task id: ${problem}`);
  return value as TaskId;
}

export async function sendRequest(ctx: CommandContext, request: Request): Promise<void> {
  const client = await ctx.open();
  const outcome = await client.submit(request);
  if (outcome.ok) ctx.io.stdout(`${visible(outcome.message)}\n`);
  else {
    ctx.io.stderr(`nightshift: ${outcome.message}\n`);
    ctx.exitCode = outcome.exitCode ?? 1;
  }
}

export function registerTaskRequests(ctx: CommandContext): void {
  ctx.program
    .command('kill')
    .description('stop a pending or running task (salvaging its work) and fail it as killed; no retry')
    .argument('<id>', 'task id', parseTaskId)
    .action((task: TaskId) => sendRequest(ctx, { kind: 'kill', task }));
  ctx.program
    .command('retry')
    .description('send a failed task back to pending, keeping its history')
    .argument('<id>', 'task id', parseTaskId)
    .action((task: TaskId) => sendRequest(ctx, { kind: 'retry', task }));
  ctx.program
    .command('approve')
    .description('approve a task in review: it joins the merge queue')
    .argument('<id>', 'task id', parseTaskId)
    .action((task: TaskId) => sendRequest(ctx, { kind: 'approve', task }));
  ctx.program
    .command('reject')
    .description('reject a task in review: it fails with reason "rejected"')
    .argument('<id>', 'task id', parseTaskId)
    .action((task: TaskId) => sendRequest(ctx, { kind: 'reject', task }));
}
