/**
 * Reads what the report needs from a workspace (task records, logs/events.jsonl, the config) and
 * builds it. Read-only: it starts no process, takes no lock and writes nothing.
 */
import type { Config } from '../../config/schema.js';
import type { TaskRecord } from '../../core/task.js';
import { secretRedactor } from '../../config/secrets.js';
import { readEvents } from '../events.js';
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

export { readEvents };
