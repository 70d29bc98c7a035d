/**
 * Controlling a running daemon: `nightshift stop` and `nightshift reload` arrive as requests
 * (queue/requests.ts), SIGHUP as a reload request the daemon writes to itself, so both are applied in
 * order with everything else, in a tick, and leave an outcome in requests/.applied/.
 *
 *  - stop: the daemon stops dispatching and exits as on SIGTERM; executors keep running in tmux and the
 *    next daemon adopts them. A stop names the daemon's pid: one left over for a later daemon is refused.
 *  - reload: the config file is read and validated again; what can change live is applied
 *    (config/reload.ts decides), the rest waits for a restart and is named. An invalid file changes
 *    nothing: the daemon keeps its config and says why, naming the file, line and field.
 */
import { coerceError } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import { describePlan, planReload } from '../config/reload.js';
import type { RequestHooks, RequestOutcome } from '../queue/requests.js';
import type { ProviderHealth } from './health.js';

/** What a reload changes in the running daemon (the supervisor). */
export interface ReloadTarget {
  reload(next: Config): void;
}

export interface ControlDeps {
  /** The config the daemon runs with: the one object its parts share (replaced in place on reload). */
  config: Config;
  /** Reads and validates the config file (throws a SpecError naming file, line and field). */
  load: () => Config;
  configFile: string;
  pid: number;
  log: (line: string) => void;
}

export class DaemonControl {
  /** Resolves with the reason once a stop request for this daemon was applied. */
  readonly stopped: Promise<string>;
  private resolveStop!: (reason: string) => void;
  private target: ReloadTarget | null = null;

  constructor(private readonly deps: ControlDeps) {
    this.stopped = new Promise((resolve) => (this.resolveStop = resolve));
  }

  attach(target: ReloadTarget): void {
    this.target = target;
  }

  /** The request applier's hooks (plain functions: they are spread into the hooks object). */
  hooks(): Required<Pick<RequestHooks, 'stop' | 'reload'>> {
    return { stop: (pid) => this.stop(pid), reload: () => this.reload() };
  }

  stop(pid: number): RequestOutcome {
    if (pid !== this.deps.pid) {
      return {
        ok: false,
        message: `this stop request was for daemon pid ${pid}, which is gone; this daemon (pid ${this.deps.pid}) keeps running — run nightshift stop again`,
        code: 'invalid-transition',
        exitCode: 1,
      };
    }
    this.resolveStop('stop requested (nightshift stop): executors keep running in tmux');
    return {
      ok: true,
      message: `daemon pid ${pid} is stopping: nothing new starts; running executors keep running in tmux and the next daemon adopts them`,
    };
  }

  reload(): RequestOutcome {
    let next: Config;
    try {
      next = this.deps.load();
    } catch (err) {
      const e = coerceError(err);
      const message = `config not reloaded, the daemon keeps the config it had: ${e.describe()}`;
      this.deps.log(`reload: ${message}`);
      return { ok: false, message, code: e.code, exitCode: e.exitCode };
    }
    const plan = planReload(this.deps.config, next);
    this.target?.reload(plan.config);
    const message = `reloaded ${this.deps.configFile}: ${describePlan(plan)}`;
    this.deps.log(`reload: ${message}`);
    return { ok: true, message };
  }
}

/**
 * A provider's health after its `concurrency` (the ceiling) changed: raising it raises the live limit by
 * the same step (the room a person granted; negative feedback then moves it as before), lowering it caps
 * the limit. Pure.
 */
export function reconfiguredHealth(h: ProviderHealth, ceiling: number, now: number): ProviderHealth {
  if (ceiling === h.ceiling) return h;
  const limit = Math.max(1, Math.min(ceiling, h.limit + Math.max(0, ceiling - h.ceiling)));
  return {
    ...h,
    ceiling,
    limit,
    cleanStreak: limit === h.limit ? h.cleanStreak : 0,
    limitHistory: [
      ...h.limitHistory,
      { at: now, limit, reason: `reload: concurrency ${h.ceiling} → ${ceiling}` },
    ],
  };
}
