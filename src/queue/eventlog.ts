/** logs/events.jsonl: one JSON object per line, appended with O_APPEND so lines never interleave. */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { NightshiftEvent } from '../core/events.js';
import { redactDeep } from '../lib/redact.js';

export interface EventSink {
  emit(event: NightshiftEvent): void;
}

export class EventLog implements EventSink {
  private readonly listeners = new Set<(event: NightshiftEvent) => void>();
  /** Secrets known to the process are replaced before anything is written. */
  redact: (text: string) => string = (t) => t;
  /**
   * Where a failed append goes (a full disk, the workspace deleted) when set: the daemon stops once
   * instead of an emit deep in a callback throwing where nothing catches it. Unset, emit throws.
   */
  onWriteError: ((err: unknown) => void) | null = null;
  constructor(private readonly file: string) {}

  emit(event: NightshiftEvent): void {
    // Each string is redacted before JSON escapes it: a secret holding a quote or a backslash is still found.
    const line = `${JSON.stringify(redactDeep(event, this.redact))}\n`;
    try {
      try {
        appendFileSync(this.file, line, { mode: 0o600 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        // Its own directory only: a workspace deleted under the daemon is not created again.
        mkdirSync(path.dirname(this.file));
        appendFileSync(this.file, line, { mode: 0o600 });
      }
    } catch (err) {
      if (!this.onWriteError) throw err;
      this.onWriteError(err);
    }
    for (const listener of this.listeners) listener(event);
  }

  subscribe(listener: (event: NightshiftEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** For code paths that must not record anything. */
export const nullSink: EventSink = { emit: () => undefined };
