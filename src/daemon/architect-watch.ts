/**
 * What a review by the llm architect leaves for people to watch (docs/architect.md, "The Architect
 * view"): an `architect.started` event naming the file its answer streams to (architect-stream.ts), the
 * streamed text itself, and an `architect.verdict` event when it is over, usable or not.
 */
import path from 'node:path';
import type { TaskRecord } from '../core/task.js';
import type { Verdict } from '../review/architect.js';
import { openArchitectStream } from './architect-stream.js';
import type { JudgmentDeps } from './judgment-context.js';

export interface ArchitectWatch {
  onText: (piece: string) => void;
  /** The verdict, or null with the reason the architect gave none. */
  end(verdict: Verdict | null, failure: string): void;
}

export function startArchitectWatch(
  deps: Pick<JudgmentDeps, 'paths' | 'events' | 'clock' | 'redact' | 'log'>,
  task: Pick<TaskRecord, 'id' | 'round' | 'title'>,
  model: string,
): ArchitectWatch {
  const iso = () => new Date(deps.clock.now()).toISOString();
  const file = deps.paths.architectStream(task.id, task.round);
  const stream = openArchitectStream(
    file,
    `# ${model} reviews ${task.id}, round ${task.round + 1} (${iso()})`,
    deps.redact,
    deps.log,
  );
  deps.events.emit({
    type: 'architect.started',
    time: iso(),
    task: task.id,
    round: task.round,
    mode: 'llm',
    reason: `${model} reviews round ${task.round + 1}`,
    stream: path.relative(deps.paths.root, file),
  });
  return {
    onText: (piece) => stream.write(piece),
    end: (verdict, failure) => {
      stream.close(
        verdict
          ? `# verdict: ${verdict.verdict} (${verdict.grade}) at ${iso()}`
          : `# no usable verdict at ${iso()}: ${failure}`,
      );
      deps.events.emit({
        type: 'architect.verdict',
        time: iso(),
        task: task.id,
        round: task.round,
        grade: verdict?.grade ?? null,
        verdict: verdict?.verdict ?? 'unavailable',
        reason: verdict ? verdict.summary : failure,
      });
    },
  };
}
