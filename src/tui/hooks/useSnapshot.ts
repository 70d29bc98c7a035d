/** The workspace snapshot as React state: the source is an external store (already throttled). */
import { useSyncExternalStore } from 'react';
import type { TuiSnapshot, TuiSource } from '../../client/live/source.js';

export function useSnapshot(source: TuiSource): TuiSnapshot {
  return useSyncExternalStore(source.subscribe, source.getSnapshot);
}
