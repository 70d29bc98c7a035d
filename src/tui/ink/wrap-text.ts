/**
 * A drop-in for Ink 6.8's `build/wrap-text.js` (wrap or truncate a text to its box), put into the
 * installed Ink by scripts/patch-ink.js like ./output.ts. Ink keeps every result in an object it never
 * clears; this cache is bounded.
 */
import cliTruncate from 'cli-truncate';
import wrapAnsi from 'wrap-ansi';
import { CACHE_LIMIT } from './output.js';

type Wrap = 'wrap' | 'end' | 'middle' | 'truncate-end' | 'truncate' | 'truncate-middle' | 'truncate-start';

let cache = new Map<string, string>();

export default function wrapText(text: string, maxWidth: number, wrapType: Wrap): string {
  const key = text + String(maxWidth) + String(wrapType);
  const cached = cache.get(key);
  if (cached) return cached;
  let wrapped = text;
  if (wrapType === 'wrap') wrapped = wrapAnsi(text, maxWidth, { trim: false, hard: true });
  if (wrapType.startsWith('truncate')) {
    const position =
      wrapType === 'truncate-middle' ? 'middle' : wrapType === 'truncate-start' ? 'start' : 'end';
    wrapped = cliTruncate(text, maxWidth, { position });
  }
  if (cache.size >= CACHE_LIMIT) cache = new Map();
  cache.set(key, wrapped);
  return wrapped;
}

/** For tests. */
export function wrapCacheSize(): number {
  return cache.size;
}
