/** Small domain fixtures shared by tests. */
import type { TaskSpec } from '../core/task.js';

/** A resolved TaskSpec with short limits; override what a test cares about. */
export function taskSpec(over: Partial<TaskSpec> = {}): TaskSpec {
  return {
    title: 't',
    repo: 'app',
    base: 'main',
    provider: null,
    priority: 0,
    dependsOn: [],
    timeoutMs: 1000,
    idleMs: 1000,
    attempts: 3,
    reviewRounds: 2,
    tests: [],
    stop: null,
    gates: null,
    source: 't.md',
    ...over,
  };
}
