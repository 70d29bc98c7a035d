/**
 * `daemon --until-idle`: whether the queue's pending work can still progress, and, when it cannot, the
 * tasks that wait for a dependency that was never queued are failed (nothing can add it any more), so
 * the daemon exits leaving each task with a reason. The decisions are core/dependencies.ts's.
 */
import { pendingCanProgress, unmeetable } from '../core/dependencies.js';
import { enterFailed } from '../core/task.js';
import type { Clock } from '../lib/clock.js';
import type { Config } from '../config/schema.js';
import type { QueueStore } from '../queue/store.js';
import type { ToggleStore } from '../queue/toggles.js';

export interface IdleDeps {
  store: QueueStore;
  toggles: ToggleStore;
  config: Config;
  clock: Clock;
}

/**
 * True when no pending task can progress (the caller has checked running, collecting and reviewing
 * work). Then every pending task whose dependencies can never be met, counting never-queued ids as
 * final, fails as `dependency-failed` (charged to the spec) with the reason.
 */
export function settleWhenIdle(deps: IdleDeps): boolean {
  const tasks = deps.store.list();
  const providers = new Set(Object.keys(deps.config.providers));
  if (pendingCanProgress(tasks, { frozen: deps.toggles.read().frozen, providers })) return false;
  for (const [id, reason] of unmeetable(tasks, { unknownIsFinal: true })) {
    deps.store.transition(id, (t) =>
      enterFailed(t, {
        now: deps.clock.now(),
        code: 'dependency-failed',
        attribution: 'spec',
        reason,
      }),
    );
  }
  return true;
}
