/**
 * logs/events.jsonl read back: shared by `nightshift show` (an attempt's log cuts) and the morning report
 * (client/report/), apart from the report so that `show` loads none of it.
 */
import { readFileSync } from 'node:fs';
import type { NightshiftEvent } from '../core/events.js';

/**
 * The event log, oldest first. Lines that are not JSON, or events whose fields the report reads do not
 * have the expected types, are skipped: a torn last line or an older format must not stop the report.
 */
export function readEvents(file: string): NightshiftEvent[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const events: NightshiftEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    if (isUsableEvent(value)) events.push(value);
  }
  return events;
}

function isUsableEvent(value: unknown): value is NightshiftEvent {
  if (!value || typeof value !== 'object') return false;
  const e = value as Record<string, unknown>;
  if (typeof e['type'] !== 'string' || typeof e['time'] !== 'string' || Number.isNaN(Date.parse(e['time'])))
    return false;
  const str = (k: string) => typeof e[k] === 'string';
  if ('task' in e && !str('task')) return false;
  switch (e['type']) {
    case 'provider.probe':
      return str('provider') && str('host') && str('reason') && typeof e['ok'] === 'boolean';
    case 'provider.health':
      return str('provider') && str('reason') && str('breaker') && typeof e['limit'] === 'number';
    case 'task.killing':
      return str('task') && str('host') && str('reason') && typeof e['attempt'] === 'number';
    case 'task.updated':
      return str('task') && str('reason');
    case 'attempt.log-cut':
      return (
        str('task') &&
        typeof e['attempt'] === 'number' &&
        typeof e['cutBytes'] === 'number' &&
        typeof e['cap'] === 'number'
      );
    case 'monitor.breaker':
      return str('reason');
    case 'architect.follow-up':
      return str('task') && str('origin') && str('reason');
    default:
      return true;
  }
}
