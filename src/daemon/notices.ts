/**
 * What the daemon tells people (daemon/notify.ts sends it): it follows the event log and turns the
 * moments that need a person into notices — a provider's breaker opening, a task parked for a person
 * (core/park.ts PARK_NEEDS_PERSON) — plus the ones the supervisor sends itself (the daemon stopping on
 * its own, the window's end and its report). The decisions are pure functions of before and after.
 */
import type { NightshiftEvent } from '../core/events.js';
import type { Clock } from '../lib/clock.js';
import type { Config } from '../config/schema.js';
import type { EventLog, EventSink } from '../queue/eventlog.js';
import type { QueueStore } from '../queue/store.js';
import type { DaemonContext } from './context.js';
import type { Fleet } from './fleet.js';
import type { WindowEnd } from './night-window.js';
import { realTimers, type Timers } from './loop.js';
import type { TaskId } from '../core/ids.js';
import { PARK_NEEDS_PERSON, type ParkReason } from '../core/park.js';
import type { TaskRecord } from '../core/task.js';
import type { ProviderHealth } from './health.js';
import { Notifier, resolveTargets, type Notice } from './notify.js';

/** A notice when `provider`'s breaker has just opened (not while it stays open). */
export function breakerNotice(
  provider: string,
  before: string | undefined,
  after: Pick<ProviderHealth, 'breaker' | 'reason'>,
): Notice | null {
  if (after.breaker !== 'open' || before === 'open') return null;
  return {
    kind: 'breaker-open',
    title: `nightshift: provider ${provider} is paused (breaker open)`,
    text: `${after.reason}. Nothing starts on ${provider} until a probe passes; \`nightshift providers\` shows its state.`,
  };
}

/** A notice when `task` has just been parked for a reason a person must act on. */
export function parkNotice(task: TaskRecord, before: ParkReason | null | undefined): Notice | null {
  const reason = task.parked;
  if (!reason || reason === before || !PARK_NEEDS_PERSON[reason]) return null;
  const last = task.history.at(-1)?.reason ?? '';
  return {
    kind: 'parked',
    title: `nightshift: ${task.id} waits for you (${reason})`,
    text: `${task.title}\n${last}\n\`nightshift show ${task.id}\` has the review; docs/merge.md#parks says what to do.`,
  };
}

export interface NoticePorts {
  send(n: Notice): void;
  /** The record as it is now (null when unknown). */
  task(id: string): TaskRecord | null;
  /** A provider's health now (null when unknown). */
  health(provider: string): ProviderHealth | null;
}

/** Follows the events; remembers the last breaker and park it saw, so each change notifies once. */
export class EventNotices {
  private readonly breakers = new Map<string, string>();
  private readonly parks = new Map<string, ParkReason | null>();

  constructor(private readonly ports: NoticePorts) {}

  /** Seeds what is already so at start-up (a task parked before a restart is not news). */
  seed(tasks: readonly TaskRecord[], health: Iterable<ProviderHealth>): void {
    for (const t of tasks) this.parks.set(t.id, t.parked);
    for (const h of health) this.breakers.set(h.name, h.breaker);
  }

  onEvent(e: NightshiftEvent): void {
    if (e.type === 'provider.health' || e.type === 'provider.probe') {
      const h = this.ports.health(e.provider);
      if (!h) return;
      const n = breakerNotice(e.provider, this.breakers.get(e.provider), h);
      this.breakers.set(e.provider, h.breaker);
      if (n) this.ports.send(n);
    } else if (e.type === 'task.updated' || e.type === 'task.transition') {
      const t = this.ports.task(e.task);
      if (!t) return;
      const n = parkNotice(t, this.parks.get(t.id));
      this.parks.set(t.id, t.parked);
      if (n) this.ports.send(n);
    }
  }
}

export interface DaemonNotifierDeps {
  config: Pick<Config, 'notify'>;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  events: EventSink;
  redact: (text: string) => string;
  log: (line: string) => void;
  timers?: Timers;
  fetch?: typeof fetch;
}

/**
 * The daemon's notifier over the configured targets (node's fetch, real timers): a notifier that cannot
 * be used (its variable unset) is said once in the log and left out; a notice given up on is one
 * `notify.failed` event.
 */
export function daemonNotifier(deps: DaemonNotifierDeps): Notifier {
  const { targets, problems } = resolveTargets(deps.config, deps.env);
  for (const p of problems) deps.log(`notify: ${p}; it is left out`);
  return new Notifier(targets, {
    fetch: deps.fetch ?? globalThis.fetch,
    timers: deps.timers ?? realTimers,
    now: () => deps.clock.now(),
    redact: deps.redact,
    log: (line) => deps.log(deps.redact(line)),
    gaveUp: (notifier, notice, reason) =>
      deps.events.emit({
        type: 'notify.failed',
        time: new Date(deps.clock.now()).toISOString(),
        notifier,
        notice: notice.kind,
        reason,
      }),
  });
}

/** Follows `events` for the notices they imply (a breaker opening, a park for a person). */
export function followEvents(
  events: EventLog,
  notifier: Notifier,
  store: QueueStore,
  fleet: Pick<Fleet, 'health'>,
): EventNotices {
  const notices = new EventNotices({
    send: (n) => notifier.send(n),
    task: (id) => {
      try {
        return store.get(id as TaskId);
      } catch {
        return null;
      }
    },
    health: (provider) => fleet.health.get(provider) ?? null,
  });
  events.subscribe((e) => notices.onEvent(e));
  return notices;
}

/** The window's end (night-window.ts): a notice of it, the morning report written and a notice of it. */
export function windowEndNotices(
  ctx: Pick<DaemonContext, 'config' | 'log'>,
  notifier: Notifier,
  end: WindowEnd,
  report?: (end: WindowEnd) => { path: string; summary: string } | null,
): Promise<void> {
  const w = ctx.config.window;
  notifier.send({
    kind: 'window-ended',
    title: `nightshift: the night window ended (${w?.end ?? ''})`,
    text: end.parked.length
      ? `${end.parked.length} running attempt(s) parked window-ended, for the next window: ${end.parked.join(', ')}`
      : 'nothing was running',
  });
  const written = report?.(end) ?? null;
  if (written) {
    ctx.log(`window end: the morning report is in ${written.path}`);
    notifier.send({
      kind: 'report',
      title: 'nightshift: the morning report',
      text: written.summary,
      link: written.path,
    });
  }
  return Promise.resolve();
}
