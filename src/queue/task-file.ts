/**
 * The parse boundary of a task.json. The fields other code branches on (state, parked, failure codes)
 * are checked against their closed sets here, once; a value this version does not know (a hand edit, a
 * newer nightshift) is refused with an error naming the file, the field and the values it accepts,
 * never carried on as a string that later reads as "supervisor, not retryable".
 */
import { z } from 'zod';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import { FAILURE_CODES, type FailureCode } from '../core/failures.js';
import type { TaskId } from '../core/ids.js';
import { PARK_REASONS } from '../core/park.js';
import { TaskState, type TaskRecord } from '../core/task.js';
import { MAX_COST_USD, MAX_TOKENS } from '../core/usage.js';
import { describeFound, fieldPath } from '../config/issues.js';

const failureCode = z.enum(FAILURE_CODES as [FailureCode, ...FailureCode[]]);

/** A recorded usage (core/usage.ts), cleaned: a bad figure becomes 0 tokens or an unknown cost. */
const tokens = z.number().finite().nonnegative().max(MAX_TOKENS).transform(Math.round).catch(0);
const usageSchema = z.object({
  inputTokens: tokens,
  outputTokens: tokens,
  costUsd: z.number().finite().nonnegative().max(MAX_COST_USD).nullable().catch(null),
});

/** What is checked; everything else in the record is kept as written. */
const TaskFileSchema = z.looseObject({
  id: z.string(),
  state: z.enum(TaskState),
  parked: z.enum(PARK_REASONS).nullable(),
  failure: z.looseObject({ code: failureCode }).nullable(),
  attempts: z.array(z.looseObject({ code: failureCode.nullish(), usage: usageSchema.nullish().catch(null) })),
  // Usage figures are cleaned, not refused: a bad one costs a figure, never the task.
  architectUsage: z
    .array(z.looseObject({ usage: usageSchema }))
    .optional()
    .catch(undefined),
});

/** The record in `file`, which must be the task `id` (the name of its directory, already a TaskId). */
export function parseTaskFile(raw: string, file: string, id: TaskId): TaskRecord {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new NightshiftError(ErrorCode.corruptTask, 'task.json is not valid JSON', { file, taskId: id });
  }
  const result = TaskFileSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue ? fieldPath(issue.path) : undefined;
    const found = issue ? `; found ${describeFound(valueAt(json, issue.path))}` : '';
    const expected =
      issue?.code === 'invalid_value'
        ? `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`
        : (issue?.message ?? 'invalid');
    throw new NightshiftError(
      ErrorCode.corruptTask,
      `task.json is not a record this nightshift reads: ${expected}${found}`,
      {
        file,
        taskId: id,
        ...(field ? { field } : {}),
        hint: 'it may come from a newer nightshift or a hand edit; fix the field or move the task directory out of the queue',
      },
    );
  }
  if (result.data.id !== id) {
    throw new NightshiftError(ErrorCode.corruptTask, 'task.json does not describe this task', {
      file,
      taskId: id,
    });
  }
  // The checked fields have their types now; the rest is the record as this nightshift wrote it.
  return result.data as unknown as TaskRecord;
}

function valueAt(json: unknown, at: readonly PropertyKey[]): unknown {
  let value = json;
  for (const key of at) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
