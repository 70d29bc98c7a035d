/**
 * The Executor tab's live view, and the Architect view's: opened while shown, replaced when what it
 * follows changes (the key), closed when left. The view itself throttles its updates to four a second.
 */
import { useEffect, useState, useSyncExternalStore } from 'react';
import type {
  ArchitectStarted,
  LiveFrame,
  LiveTarget,
  LiveView,
  TuiSource,
} from '../../client/live/source.js';

const IDLE: LiveFrame = { mode: 'none', title: '', note: null, lines: [] };

type Opener = (size: { cols: number; rows: number }) => LiveView;

class LiveHolder {
  private view: LiveView | null = null;
  private key = '';
  private readonly listeners = new Set<() => void>();
  private unsubscribe: (() => void) | null = null;

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  frame = (): LiveFrame => this.view?.frame() ?? IDLE;

  set(key: string, open: Opener | null, size: { cols: number; rows: number }): void {
    if (key === this.key) {
      this.view?.resize(size.cols, size.rows);
      return;
    }
    this.close();
    this.key = key;
    if (open) {
      this.view = open(size);
      this.unsubscribe = this.view.subscribe(() => this.emit());
    }
    this.emit();
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.view?.dispose();
    this.view = null;
    this.key = '';
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

/** A live view keyed by `key` ('' for none): `open` is called when the key changes. */
function useLive(key: string, open: Opener | null, size: { cols: number; rows: number }): LiveFrame {
  const [holder] = useState(() => new LiveHolder());
  useEffect(() => {
    holder.set(key, open, size);
    // open and size are read through the key and numbers: a new object with the same values is no change
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [holder, key, size.cols, size.rows]);
  useEffect(() => () => holder.close(), [holder]);
  return useSyncExternalStore(holder.subscribe, holder.frame);
}

export function useLiveView(
  source: TuiSource,
  target: LiveTarget | null,
  size: { cols: number; rows: number },
): LiveFrame {
  const key = target ? `${target.taskId}#${target.attempt}@${target.host}:${target.running}` : '';
  return useLive(key, target ? (s) => source.openLive(target, s) : null, size);
}

/** The Architect view's live pane of the review in progress (null: none, or the view is not shown). */
export function useArchitectLive(
  source: TuiSource,
  started: ArchitectStarted | null,
  size: { cols: number; rows: number },
): LiveFrame {
  const key = started
    ? `${started.task}#${started.round}@${started.time}:${started.session ?? ''}:${started.stream ?? ''}`
    : '';
  return useLive(key, started ? (s) => source.openArchitectLive(started, s) : null, size);
}
