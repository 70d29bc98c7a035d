/**
 * The app's only useInput: every key goes to the one dispatcher (keys/dispatcher.ts). The handler
 * given to Ink never changes — Ink re-subscribes whenever it does, and a key arriving in between
 * would be lost — and it calls the latest onKey, updated as each render commits.
 *
 * Several keys in one chunk ("jjj" from a held key, a paste) are handled one at a time, each after
 * the render the previous one caused, so each sees the state the previous one made. A key that
 * changes nothing causes no render: the next one then goes after a short wait.
 */
import { useInput, type Key } from 'ink';
import { useCallback, useLayoutEffect, useRef } from 'react';
import { normalizeInput, type KeyPress } from '../keys/normalize.js';

const NO_RENDER_WAIT_MS = 50;

export function useKeyInput(onKey: (key: KeyPress) => void): void {
  const latest = useRef(onKey);
  const queue = useRef<KeyPress[]>([]);
  const waiting = useRef<NodeJS.Timeout | null>(null);

  const step = useCallback(function step() {
    if (waiting.current) clearTimeout(waiting.current);
    waiting.current = null;
    const next = queue.current.shift();
    if (!next) return;
    latest.current(next);
    if (queue.current.length) waiting.current = setTimeout(step, NO_RENDER_WAIT_MS);
  }, []);

  useLayoutEffect(() => {
    latest.current = onKey;
    if (waiting.current) {
      // The previous key's render is in: go on with the next key at once.
      clearTimeout(waiting.current);
      waiting.current = null;
      setImmediate(step);
    }
  });

  const handler = useCallback(
    (input: string, key: Key) => {
      const busy = queue.current.length > 0 || waiting.current !== null;
      queue.current.push(...normalizeInput(input, key));
      if (!busy) step();
    },
    [step],
  );
  useInput(handler);
}
