/**
 * A drop-in for Ink 6.8's `build/measure-text.js` (how big a text node is, for Yoga), put into the
 * installed Ink by scripts/patch-ink.js like ./output.ts. Ink caches every distinct text it has
 * measured in a Map it never clears: a live pane that shows new lines four times a second grows it
 * without end (~160 MiB a night). This cache is bounded.
 */
import widestLine from './widest-line.js';
import { CACHE_LIMIT } from './output.js';

let cache = new Map<string, { width: number; height: number }>();

export default function measureText(text: string): { width: number; height: number } {
  if (text.length === 0) return { width: 0, height: 0 };
  const cached = cache.get(text);
  if (cached) return cached;
  const dimensions = { width: widestLine(text), height: text.split('\n').length };
  if (cache.size >= CACHE_LIMIT) cache = new Map();
  cache.set(text, dimensions);
  return dimensions;
}

/** For tests. */
export function measureCacheSize(): number {
  return cache.size;
}
