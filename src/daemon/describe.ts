/** One human line per event, for logs/daemon.log and the daemon's stderr. */
import type { NightshiftEvent } from '../core/events.js';

export function describeEvent(e: NightshiftEvent): string {
  const bits: string[] = [e.time, e.type];
  for (const key of ['task', 'provider', 'host', 'from', 'to', 'attempt', 'session'] as const) {
    const v = (e as Record<string, unknown>)[key];
    if (typeof v === 'string' || typeof v === 'number') bits.push(`${key}=${v}`);
  }
  if ('reason' in e) bits.push(`— ${e.reason}`);
  return bits.join(' ');
}
