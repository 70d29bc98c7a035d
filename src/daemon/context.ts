/**
 * What the daemon's single-job modules (launcher, watcher, collector, adoption, monitor) share: the
 * workspace's stores, the fleet, the attempt registry, the injected clock, and the one way an attempt
 * fails (failAttempt). The supervisor builds it once; no module builds its own collaborators.
 */
import { ruleFor, type BackoffPolicy, type FailureCode } from '../core/failures.js';
import type { AttemptOutcome, TaskRecord } from '../core/task.js';
import type { Clock } from '../lib/clock.js';
import type { Redactor } from '../lib/redact.js';
import type { WorkspacePaths } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import type { HostPort } from './host-port.js';
import type { EventLog } from '../queue/eventlog.js';
import type { QueueStore } from '../queue/store.js';
import type { ToggleStore } from '../queue/toggles.js';
import { attemptSucceeded, liveLimit, providerFailed } from './health.js';
import { decideFailure } from './outcomes.js';
import type { Fleet } from './fleet.js';
import type { Notice } from './notify.js';
import type { SetupHooks } from './setup-hooks.js';
import type { AttemptRegistry } from './registry.js';
import type { Spend } from './spend-state.js';

export interface DaemonContext {
  readonly paths: WorkspacePaths;
  readonly config: Config;
  readonly clock: Clock;
  readonly env: NodeJS.ProcessEnv;
  readonly hosts: ReadonlyMap<string, HostPort>;
  readonly store: QueueStore;
  readonly toggles: ToggleStore;
  readonly events: EventLog;
  readonly fleet: Fleet;
  readonly attempts: AttemptRegistry;
  /** Tokens, cost and the night's budgets (spend.ts). */
  readonly spend: Spend;
  readonly redact: Redactor;
  readonly random: () => number;
  /** The repos' setup hooks: failures' blame, repos held back, the hosts' afterCreate caches. */
  readonly setupHooks: SetupHooks;
  /** The retry backoff (a reload may change it). */
  backoff: BackoffPolicy;
  /** One line for logs/daemon.log (already redacted by the caller's sink). */
  log(line: string): void;
  /** Asks the loop for a tick as soon as it can. */
  wake(): void;
  /** Asks the loop to poll running attempts at its next tick. */
  pollSoon(): void;
  /** Whether the daemon is stopping (background loops end). */
  stopping(): boolean;
  /** Tells people (the config's `notify` list, notify.ts): never throws, never waits. Optional for test contexts. */
  notify?(n: Notice): void;
}

export type AttemptFailOutcome = Extract<AttemptOutcome, 'failed' | 'timeout' | 'idle' | 'lost'>;

export function isoNow(ctx: Pick<DaemonContext, 'clock'>): string {
  return new Date(ctx.clock.now()).toISOString();
}

/**
 * Ends a running task's attempt as failed: the failure table decides retry, backoff and blame; a
 * provider's fault moves its breaker and live limit. A task no longer running is left alone.
 */
export function failAttempt(
  ctx: DaemonContext,
  task: TaskRecord,
  code: FailureCode,
  reason: string,
  outcome: AttemptFailOutcome,
  exitCode: number | null,
): void {
  if (task.state !== 'running') return;
  const decision = decideFailure(
    task,
    { code, reason, outcome, exitCode, now: ctx.clock.now() },
    ctx.backoff,
    ctx.random,
  );
  const provider = task.attempts.at(-1)?.provider;
  ctx.store.transition(task.id, () => decision.transition);
  if (decision.providerFault && provider) {
    const run = { task: task.id, crash: ruleFor(code).crash === true };
    const next = ctx.fleet.update(provider, (h) => providerFailed(h, reason, ctx.clock.monotonic(), run));
    if (next) {
      ctx.events.emit({
        type: 'provider.health',
        time: isoNow(ctx),
        provider,
        reason: next.reason,
        breaker: next.breaker,
        limit: liveLimit(next),
      });
    }
  }
}

/** A clean run on `provider`: its live limit may grow. */
export function providerSucceeded(ctx: DaemonContext, provider: string): void {
  ctx.fleet.update(provider, (h) => attemptSucceeded(h, ctx.clock.monotonic()));
}
