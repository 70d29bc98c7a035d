/**
 * The fleet: each host's readiness and load, each provider's health, and the probes that move it.
 * The supervisor asks it where work may go; it never touches the queue.
 */
import { coerceError } from '../core/errors.js';
import type { TaskId } from '../core/ids.js';
import type { TaskRecord } from '../core/task.js';
import type { Clock } from '../lib/clock.js';
import type { Config } from '../config/schema.js';
import { sampleLoad } from '../hosts/load.js';
import { LinkError } from '../hosts/runner.js';
import type { WorkerHost } from '../hosts/worker.js';
import { runProbe } from '../providers/probe.js';
import type { EventSink } from '../queue/eventlog.js';
import { averagePoints, gradesFromRecords, gradeThrottle } from './grades.js';
import {
  initialHealth,
  liveLimit,
  probeDue,
  probeFinished,
  probeStarted,
  withGradeCap,
  type ProviderHealth,
} from './health.js';

export interface HostState {
  ready: boolean;
  over: string[];
  sampledMono: number;
  /** Unready because its link failed after it was prepared (linkDown): a command that answers is enough. */
  linkDown?: boolean;
  /** Since when (monotonic ms) it has been unreachable, kept while it stays so. */
  downSinceMono?: number;
}

/** An attempt given up while its host was unreachable: its session is ended when the host answers. */
export interface Abandoned {
  host: string;
  repo: string;
  id: TaskId;
  attempt: number;
}

export interface FleetDeps {
  config: Config;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  hosts: Map<string, WorkerHost>;
  events: EventSink;
  random: () => number;
  loadEveryMs?: number;
  probeBackoff?: { initialMs: number; maxMs: number };
  /** Called when a probe finishes, so the supervisor can dispatch. */
  wake: () => void;
}

export class Fleet {
  readonly health = new Map<string, ProviderHealth>();
  /** Providers a person asked to probe now (see requestProbe). */
  private readonly forcedProbes = new Set<string>();
  /** Probes under way: stop() waits for them (each is bounded by its provider's probeTimeout). */
  private readonly probes = new Set<Promise<void>>();
  readonly hostState = new Map<string, HostState>();
  /** Recent grade points per provider (the last RECENT_GRADES), for routing and `providers`. */
  readonly grades = new Map<string, number[]>();

  constructor(private readonly deps: FleetDeps) {
    for (const [name, cfg] of Object.entries(deps.config.providers)) {
      this.health.set(name, initialHealth(name, cfg.concurrency, deps.clock.monotonic(), deps.probeBackoff));
    }
  }

  async prepareAll(): Promise<void> {
    await Promise.all([...this.deps.hosts].map(([name, worker]) => this.prepareHost(name, worker)));
  }

  /**
   * The recent grades the task records hold: at start-up (a restart keeps them) and after each verdict.
   * Each provider's live limit is capped while its grades are below `defaults.gradeFloor`, and the cap
   * lifts as they recover; a change of the live limit is a `provider.health` event.
   */
  seedGrades(tasks: readonly TaskRecord[]): void {
    this.grades.clear();
    for (const [provider, points] of gradesFromRecords(tasks)) this.grades.set(provider, points);
    const floor = this.deps.config.defaults.gradeFloor;
    for (const [name, h] of this.health) {
      const next = withGradeCap(h, gradeThrottle(this.grades.get(name), floor), this.deps.clock.monotonic());
      this.health.set(name, next);
      if (liveLimit(next) === liveLimit(h)) continue;
      this.deps.events.emit({
        type: 'provider.health',
        time: new Date(this.deps.clock.now()).toISOString(),
        provider: name,
        reason: next.limitHistory.at(-1)?.reason ?? 'grades',
        breaker: next.breaker,
        limit: liveLimit(next),
      });
    }
  }

  averageGrade(provider: string): number | null {
    return averagePoints(this.grades.get(provider));
  }

  /** Attempts given up while their host was unreachable, whose sessions wait to be ended. */
  readonly abandoned: Abandoned[] = [];

  /** How long `host` has been unreachable (ms), or null while it is reachable. */
  downFor(host: string): number | null {
    const state = this.hostState.get(host);
    if (!state || state.ready || state.downSinceMono === undefined) return null;
    return this.deps.clock.monotonic() - state.downSinceMono;
  }

  isReady(host: string): boolean {
    return this.hostState.get(host)?.ready === true;
  }

  over(host: string): string[] {
    return this.hostState.get(host)?.over ?? ['not prepared'];
  }

  update(provider: string, fn: (h: ProviderHealth) => ProviderHealth): ProviderHealth | null {
    const h = this.health.get(provider);
    if (!h) return null;
    const next = fn(h);
    this.health.set(provider, next);
    return next;
  }

  // ---- hosts -------------------------------------------------------------------------------

  async prepareHost(name: string, worker: WorkerHost): Promise<void> {
    const before = this.hostState.get(name);
    try {
      await worker.prepare();
      this.hostState.set(name, { ready: true, over: [], sampledMono: -Infinity });
      if (before && !before.ready) {
        this.deps.events.emit({
          type: 'host.status',
          time: new Date(this.deps.clock.now()).toISOString(),
          host: name,
          reason: 'reachable again: it takes launches',
        });
      }
    } catch (err) {
      const reason = coerceError(err).describe();
      const now = this.deps.clock.monotonic();
      this.hostState.set(name, {
        ready: false,
        over: [`unreachable: ${reason}`],
        sampledMono: now,
        downSinceMono: before?.ready === false ? (before.downSinceMono ?? now) : now,
      });
      // The link's changes of state are news; the same failure at every retry is not.
      if (before?.ready !== false) {
        this.deps.events.emit({
          type: 'host.status',
          time: new Date(this.deps.clock.now()).toISOString(),
          host: name,
          reason: `unreachable: ${reason}`,
        });
      }
    }
  }

  /**
   * The link to `name` failed (a launch, a poll): the host takes no new launch until a sample or a
   * preparation reaches it again, like a provider's open breaker. Reported once, when it changes.
   */
  linkDown(name: string, reason: string): void {
    const state = this.hostState.get(name);
    if (state && !state.ready) return;
    const over = [`unreachable: ${reason}`];
    const now = this.deps.clock.monotonic();
    this.hostState.set(name, { ready: false, over, sampledMono: now, linkDown: true, downSinceMono: now });
    this.deps.events.emit({
      type: 'host.status',
      time: new Date(this.deps.clock.now()).toISOString(),
      host: name,
      reason: `${over[0]}; no new launches there until it answers again`,
    });
  }

  /** A command on `name` answered (a poll): a host whose link had failed takes launches again. */
  linkUp(name: string): void {
    const state = this.hostState.get(name);
    if (!state?.linkDown) return;
    this.hostState.set(name, { ready: true, over: [], sampledMono: -Infinity });
    this.deps.events.emit({
      type: 'host.status',
      time: new Date(this.deps.clock.now()).toISOString(),
      host: name,
      reason: 'reachable again: it takes launches',
    });
    this.deps.wake();
  }

  /**
   * Samples each host's load: every `loadEveryMs` while work is pending, and at once, whenever it was
   * last sampled, when `force`d (a person asked, or the monitor cycle). A host that cannot be reached is
   * marked unready; one whose load cannot be read gets no new work until a sample succeeds.
   */
  async sampleHosts(force: boolean, anyPending: boolean): Promise<void> {
    const now = this.deps.clock.monotonic();
    const every = this.deps.loadEveryMs ?? 30_000;
    if (!force && !anyPending) return;
    await Promise.all(
      [...this.deps.hosts].map(async ([name, worker]) => {
        const state = this.hostState.get(name);
        if (!state || (!force && now - state.sampledMono < every)) return;
        if (!state.ready) {
          await this.prepareHost(name, worker);
          return;
        }
        const cfg = this.deps.config.hosts[name];
        if (!cfg) return;
        let next: HostState;
        try {
          const sample = await sampleLoad(worker, cfg, this.deps.clock.now());
          next = { ready: true, over: sample.over, sampledMono: now };
        } catch (err) {
          const reason = coerceError(err).describe();
          next =
            err instanceof LinkError
              ? { ready: false, over: [`unreachable: ${reason}`], sampledMono: now, downSinceMono: now }
              : { ready: true, over: [`load unknown: ${reason}`], sampledMono: now };
        }
        this.hostState.set(name, next);
        if (next.over.join() !== state.over.join()) {
          this.deps.events.emit({
            type: 'host.status',
            time: new Date(this.deps.clock.now()).toISOString(),
            host: name,
            reason: next.over.length ? next.over.join('; ') : 'under its thresholds',
          });
        }
      }),
    );
  }

  // ---- probes ------------------------------------------------------------------------------

  /**
   * A person asked for a probe of `name` (the `probe` request): it starts at the next tick, whatever
   * the breaker's state or backoff. A failing probe opens the breaker as any probe does.
   */
  requestProbe(name: string): { ok: boolean; message: string } {
    const h = this.health.get(name);
    if (!h) return { ok: false, message: `unknown provider "${name}"` };
    if (h.probeInFlight) return { ok: true, message: `a probe of ${name} is already running` };
    this.forcedProbes.add(name);
    return { ok: true, message: `probing ${name} now; its result shows in \`nightshift providers\`` };
  }

  /**
   * The next probe of each provider whose breaker is not closed, for the schedule (schedule.ts). A probe
   * that is due but has no ready host to run on is left out (it would wake the loop for nothing, over
   * and over): `probeWaitsForHost` says so, and the host's next sample, which prepares it again, wakes it.
   */
  probeSchedule(): { provider: string; at: number }[] {
    const out: { provider: string; at: number }[] = [];
    for (const [name, h] of this.health) {
      const forced = this.forcedProbes.has(name);
      if (h.probeInFlight || (h.breaker === 'closed' && !forced) || !this.probeHost(name)) continue;
      out.push({ provider: name, at: forced ? -Infinity : h.nextProbeAt });
    }
    return out;
  }

  /** A provider's probe is due and none of its hosts is ready to run it. */
  probeWaitsForHost(): boolean {
    const now = this.deps.clock.monotonic();
    for (const [name, h] of this.health)
      if ((this.forcedProbes.has(name) || probeDue(h, now)) && !this.probeHost(name)) return true;
    return false;
  }

  /** When the hosts' load is next sampled (monotonic): the stalest host's sample plus the interval. */
  nextSampleAt(): number {
    const every = this.deps.loadEveryMs ?? 30_000;
    let oldest = Infinity;
    for (const s of this.hostState.values()) oldest = Math.min(oldest, s.sampledMono);
    return oldest === Infinity ? Infinity : oldest + every;
  }

  private probeHost(name: string): WorkerHost | undefined {
    const cfg = this.deps.config.providers[name];
    const hostName = cfg?.hosts.find((hn) => this.hostState.get(hn)?.ready);
    return hostName ? this.deps.hosts.get(hostName) : undefined;
  }

  startDueProbes(): void {
    const now = this.deps.clock.monotonic();
    for (const [name, h] of this.health) {
      if (h.probeInFlight || !(this.forcedProbes.has(name) || probeDue(h, now))) continue;
      const cfg = this.deps.config.providers[name];
      const worker = this.probeHost(name);
      if (!cfg || !worker) continue;
      this.forcedProbes.delete(name);
      this.health.set(name, probeStarted(h));
      const probe = runProbe(worker, name, cfg, this.deps.env).then((outcome) => {
        const next = probeFinished(
          this.health.get(name) ?? h,
          outcome.ok,
          outcome.reason,
          this.deps.clock.monotonic(),
          this.deps.random,
        );
        this.health.set(name, next);
        this.deps.events.emit({
          type: 'provider.probe',
          time: new Date(this.deps.clock.now()).toISOString(),
          provider: name,
          host: worker.name,
          ok: outcome.ok,
          reason: outcome.reason,
        });
        this.deps.wake();
      });
      this.probes.add(probe);
      void probe.finally(() => this.probes.delete(probe));
    }
  }

  /**
   * Waits for the probes under way, for at most `ms`: a stopping daemon leaves no probe writing into its
   * host directories (or reporting after its last event), yet a hung one (bounded only by its provider's
   * probeTimeout, a minute by default) does not hold the stop.
   */
  async settleProbes(ms: number): Promise<void> {
    if (this.probes.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    await Promise.race([Promise.allSettled([...this.probes]), bound]);
    clearTimeout(timer);
  }
}
