/**
 * Reads what the report needs from a workspace (task records, logs/events.jsonl, the config) and
 * builds it. Read-only: it starts no process, takes no lock and writes nothing.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../../config/schema.js';
import type { NightshiftEvent } from '../../core/events.js';
import type { TaskRecord } from '../../core/task.js';
import { secretRedactor } from '../../config/secrets.js';
import { redactDeep, type Redactor } from '../../lib/redact.js';
import { buildReport } from './build.js';
import type { ReportData } from './model.js';

export interface CollectInput {
  tasks: readonly TaskRecord[];
  eventsFile: string;
  config: Config;
  /** The environment whose secret values must never appear. */
  env: NodeJS.ProcessEnv;
  since: number;
  until: number;
}

export function collectReport(input: CollectInput): ReportData {
  const data = buildReport({
    tasks: input.tasks,
    events: readEvents(input.eventsFile),
    since: input.since,
    until: input.until,
    providers: Object.keys(input.config.providers),
  });
  return redactDeep(data, reportRedactor(input.config, input.env));
}

/**
 * A redactor for every secret the workspace knows of (config/secrets.ts). Recorded fields hold no
 * secret already (the store and the event log redact what they write); this is the second line.
 */
export function reportRedactor(config: Config, env: NodeJS.ProcessEnv): Redactor {
  return secretRedactor(config, env);
}

export { redactDeep };

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
