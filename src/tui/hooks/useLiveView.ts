/**
 * The Executor tab's live view: opened while the tab shows a task, replaced when the attempt changes,
 * closed when the tab is left. The view itself throttles its updates to four a second.
 */
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { LiveFrame, LiveTarget, LiveView, TuiSource } from '../../client/live/source.js';

const IDLE: LiveFrame = { mode: 'none', title: '', note: null, lines: [] };

class LiveHolder {
  private view: LiveView | null = null;
  private key = '';
  private readonly listeners = new Set<() => void>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly source: TuiSource) {}

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  frame = (): LiveFrame => this.view?.frame() ?? IDLE;

  set(target: LiveTarget | null, size: { cols: number; rows: number }): void {
    const key = target ? `${target.taskId}#${target.attempt}@${target.host}:${target.running}` : '';
    if (key === this.key) {
      this.view?.resize(size.cols, size.rows);
      return;
    }
    this.close();
    this.key = key;
    if (target) {
      this.view = this.source.openLive(target, size);
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

export function useLiveView(
  source: TuiSource,
  target: LiveTarget | null,
  size: { cols: number; rows: number },
): LiveFrame {
  const [holder] = useState(() => new LiveHolder(source));
  const key = target ? `${target.taskId}#${target.attempt}@${target.host}:${target.running}` : '';
  useEffect(() => {
    holder.set(target, size);
    // target and size are read through their key and numbers: a new object with the same values is no change
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [holder, key, size.cols, size.rows]);
  useEffect(() => () => holder.close(), [holder]);
  return useSyncExternalStore(holder.subscribe, holder.frame);
}
