/**
 * Turns file changes in the inbox, the requests directory and the queue into batched, typed events.
 * The daemon subscribes to wake its loop; the TUI subscribes to refresh (throttled at the source).
 */
import { watch, type FSWatcher } from 'chokidar';
import path from 'node:path';
import type { WorkspacePaths } from '../config/paths.js';

export type WatchTopic = 'inbox' | 'requests' | 'queue';

/** What happened to a path (chokidar's event names). */
export type WatchKind = 'add' | 'addDir' | 'change' | 'unlink' | 'unlinkDir';
const WATCH_KINDS: ReadonlySet<string> = new Set<WatchKind>([
  'add',
  'addDir',
  'change',
  'unlink',
  'unlinkDir',
]);

export interface WatchBatch {
  topics: Set<WatchTopic>;
  paths: string[];
  /** Each change in order, with its kind; `paths` is the same list without the kinds. */
  changes: { kind: WatchKind; path: string }[];
}

const ALL_TOPICS: readonly WatchTopic[] = ['inbox', 'requests', 'queue'];

export class QueueWatcher {
  private readonly watcher: FSWatcher;
  private pending: WatchBatch = { topics: new Set(), paths: [], changes: [] };
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(batch: WatchBatch) => void>();

  /**
   * `topics` limits what is watched. Watching `queue` costs one inotify watch per task directory and
   * file (~3 per task, done and failed ones included), so the daemon, the queue's only writer, leaves
   * it out. `awaitWriteFinish` (on by default) holds each event until the file has stopped changing
   * for 200 ms, by polling its size every 50 ms: the daemon turns it off, since its inbox sweep judges
   * a file still being written itself (queue/inbox.ts: a writer that has it open, else 1 s unchanged)
   * and requests arrive by rename, whole. Without it an event reaches the daemon in `batchMs`.
   */
  constructor(
    private readonly paths: WorkspacePaths,
    private readonly batchMs = 100,
    topics: readonly WatchTopic[] = ALL_TOPICS,
    opts: { awaitWriteFinish?: boolean } = {},
  ) {
    const roots = { inbox: paths.specs, requests: paths.requests, queue: paths.queue };
    const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir}${path.sep}`);
    this.watcher = watch(
      [...new Set(topics)].map((t) => roots[t]),
      {
        ignoreInitial: true,
        depth: 2,
        awaitWriteFinish:
          opts.awaitWriteFinish === false ? false : { stabilityThreshold: 200, pollInterval: 50 },
        // specs/.accepted and .rejected only grow, and topicOf() drops their events anyway.
        ignored: (p: string) =>
          p.startsWith(paths.tmp) ||
          p.startsWith(paths.stateStore) ||
          p.endsWith('.tmp') ||
          under(p, paths.accepted) ||
          under(p, paths.rejected),
      },
    );
    this.watcher.on('all', (kind, changed) => {
      if (WATCH_KINDS.has(kind)) this.note(kind as WatchKind, changed);
    });
  }

  /** Resolves once the initial scan is done and events will flow. */
  ready(): Promise<void> {
    return new Promise((resolve) => this.watcher.once('ready', () => resolve()));
  }

  subscribe(listener: (batch: WatchBatch) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.watcher.close();
  }

  private note(kind: WatchKind, changed: string): void {
    const topic = this.topicOf(changed);
    if (!topic) return;
    this.pending.topics.add(topic);
    this.pending.paths.push(changed);
    this.pending.changes.push({ kind, path: changed });
    this.timer ??= setTimeout(() => this.flush(), this.batchMs);
  }

  private topicOf(changed: string): WatchTopic | null {
    const rel = (base: string) => path.relative(base, changed);
    if (!rel(this.paths.specs).startsWith('..')) {
      const r = rel(this.paths.specs);
      return r.startsWith('.') ? null : 'inbox';
    }
    if (!rel(this.paths.requests).startsWith('..')) return 'requests';
    return 'queue';
  }

  private flush(): void {
    this.timer = null;
    const batch = this.pending;
    this.pending = { topics: new Set(), paths: [], changes: [] };
    for (const listener of this.listeners) listener(batch);
  }
}
