/**
 * A client's view of a workspace: read snapshots, send requests. Used by the CLI and the TUI.
 *
 * While a daemon holds the workspace lock, clients only read and write request files. When no daemon
 * runs, a client takes the lock briefly, runs startup recovery, sweeps the inbox and applies pending
 * requests itself, so the queue never waits for a daemon that is not there.
 */
import type { Clock } from '../lib/clock.js';
import { loadConfig } from '../config/load.js';
import { workspacePaths, type WorkspacePaths } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { secretRedactor } from '../config/secrets.js';
import type { TaskRecord } from '../core/task.js';
import { readDaemonState, type DaemonState } from '../daemon/state-file.js';
import { EventLog } from '../queue/eventlog.js';
import { REJECT_SETTLE_MS, sweepInbox, type InboxResult } from '../queue/inbox.js';

/** How long a command waits for inbox files that are still settling (an invalid one takes longest). */
const SETTLE_WAIT_MS = REJECT_SETTLE_MS + 500;
import { WorkspaceLock, type LockInfo } from '../queue/lock.js';
import { runningDaemon } from './daemon-status.js';
import {
  applyPendingRequests,
  readOutcome,
  writeRequest,
  type AppliedRequest,
  type Request,
  type RequestOutcome,
} from '../queue/requests.js';
import { QueueStore, type RecoveryReport } from '../queue/store.js';
import { ToggleStore, type Toggles } from '../queue/toggles.js';

/** What the CLI needs of the queue's and the daemon's types, so that it reads them through the client. */
export type { DaemonState, LockInfo, Request, RequestOutcome, Toggles };

export interface SyncReport {
  recovery: RecoveryReport;
  inbox: InboxResult;
  applied: AppliedRequest[];
}

export interface Snapshot {
  tasks: TaskRecord[];
  toggles: Toggles;
  daemon: LockInfo | null;
}

export interface OpenOptions {
  /**
   * Keep task records in memory (the default: right for a short command). A long-lived reader beside a
   * daemon (the TUI) passes false so every snapshot re-reads the disk.
   */
  cache?: boolean;
  /** The environment whose secret values (config/secrets.ts) are redacted from what this client writes. */
  env?: NodeJS.ProcessEnv;
}

export class WorkspaceClient {
  readonly store: QueueStore;
  readonly toggles: ToggleStore;
  readonly events: EventLog;

  private constructor(
    readonly paths: WorkspacePaths,
    readonly config: Config,
    readonly clock: Clock,
    opts: OpenOptions,
  ) {
    const redact = secretRedactor(config, opts.env ?? process.env);
    this.events = new EventLog(paths.events);
    this.events.redact = redact;
    this.store = new QueueStore(paths, clock, this.events, { cache: opts.cache ?? true, redact });
    this.toggles = new ToggleStore(paths);
  }

  /** Opens a workspace; throws a clear error when it has no (valid) config. */
  static open(root: string, clock: Clock, opts: OpenOptions = {}): WorkspaceClient {
    const paths = workspacePaths(root);
    const config = loadConfig(paths);
    const client = new WorkspaceClient(paths, config, clock, opts);
    client.store.ensureLayout();
    return client;
  }

  /** The running daemon, if any. */
  daemon(): LockInfo | null {
    return runningDaemon(this.paths);
  }

  /** What the running daemon publishes (queue/state/daemon.json), or null with no daemon. */
  daemonState(): DaemonState | null {
    return this.daemon() ? readDaemonState(this.paths) : null;
  }

  /** With no daemon: recover, sweep the inbox and apply requests under the lock. Null when a daemon runs. */
  async sync(): Promise<SyncReport | null> {
    if (this.daemon()) return null;
    return this.withLock(async () => {
      const recovery = this.store.recover();
      const sweep = () =>
        sweepInbox({ paths: this.paths, config: this.config, store: this.store, clock: this.clock });
      const inbox = sweep();
      // A spec dropped a moment ago (or still being written) is waited for, briefly, so that
      // `cp x.md specs/ && nightshift ls` shows it queued; one that keeps changing is left for later.
      const deadline = Date.now() + SETTLE_WAIT_MS;
      while (inbox.settling.length && Date.now() < deadline) {
        const wait = Math.min(...inbox.settling.map((s) => s.readyInMs), deadline - Date.now());
        await new Promise((resolve) => setTimeout(resolve, Math.max(wait, 10)));
        const again = sweep();
        inbox.accepted.push(...again.accepted);
        inbox.rejected.push(...again.rejected);
        inbox.settling = again.settling;
      }
      const applied = await applyPendingRequests(this.applierDeps());
      return { recovery, inbox, applied };
    });
  }

  snapshot(): Snapshot {
    return { tasks: this.store.list(), toggles: this.toggles.read(), daemon: this.daemon() };
  }

  /**
   * Sends a request. Without a daemon it is applied at once (after any earlier ones) and its outcome
   * returned; with a daemon, waits up to `waitMs` for the daemon to apply it.
   */
  async submit(request: Request, waitMs = 10_000): Promise<RequestOutcome & { queued?: boolean }> {
    const name = writeRequest(this.paths, request, this.clock);
    if (!this.daemon()) {
      const report = await this.sync();
      const mine = report?.applied.find((a) => a.name === name);
      if (mine) return mine.outcome;
    }
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      const done = readOutcome(this.paths, name);
      if (done) return done.outcome;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { ok: true, queued: true, message: `request ${name} is queued; the daemon will apply it` };
  }

  private applierDeps() {
    return {
      paths: this.paths,
      config: this.config,
      store: this.store,
      toggles: this.toggles,
      clock: this.clock,
    };
  }

  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const lock = await WorkspaceLock.acquire(this.paths.lock, 'cli', () => this.clock.now());
    try {
      return await fn();
    } finally {
      this.store.closeIndex();
      lock.release();
    }
  }
}
