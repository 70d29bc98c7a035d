/**
 * Rate limits at the source: a burst of watcher batches or pane output becomes at most one update
 * per `ms` (leading and trailing edge, so the last change is never lost).
 */
export interface Throttled {
  (): void;
  cancel(): void;
}

/** The most updates per second the screen takes from any one source. */
export const MAX_UPDATES_PER_SECOND = 4;
export const UPDATE_INTERVAL_MS = 1000 / MAX_UPDATES_PER_SECOND;

export function throttle(fn: () => void, ms: number, now: () => number = () => performance.now()): Throttled {
  let last = -Infinity;
  let timer: NodeJS.Timeout | null = null;
  const fire = () => {
    timer = null;
    last = now();
    fn();
  };
  const call = (() => {
    if (timer) return;
    const wait = last + ms - now();
    if (wait <= 0) fire();
    else timer = setTimeout(fire, wait);
  }) as Throttled;
  call.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return call;
}
