/**
 * The morning report the daemon writes at the night window's end: Markdown under `reports/`
 * (`reports/report-<time>.md`, mode 0600: the workspace's), and one line that sums it up for a notice.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkspacePaths } from '../../config/paths.js';
import type { Config } from '../../config/schema.js';
import type { TaskRecord } from '../../core/task.js';
import { collectReport } from './collect.js';
import { renderMarkdown } from './markdown.js';
import type { ReportTotals } from './model.js';

/** "3 merged, 1 failed, 2 parked of 7 tasks; 12 attempts" */
export function reportSummary(t: ReportTotals): string {
  return `${t.merged} merged, ${t.failed} failed, ${t.parked} parked of ${t.tasks} task(s); ${t.attempts} attempt(s)`;
}

export function writeMorningReport(input: {
  paths: WorkspacePaths;
  config: Config;
  env: NodeJS.ProcessEnv;
  tasks: TaskRecord[];
  since: number;
  until: number;
}): { path: string; summary: string } {
  const data = collectReport({
    tasks: input.tasks,
    eventsFile: input.paths.events,
    config: input.config,
    env: input.env,
    since: input.since,
    until: input.until,
  });
  mkdirSync(input.paths.reports, { recursive: true, mode: 0o700 });
  const stamp = new Date(input.until).toISOString().replace(/[:.]/g, '-');
  const file = path.join(input.paths.reports, `report-${stamp}.md`);
  writeFileSync(file, renderMarkdown(data), { mode: 0o600 });
  chmodSync(file, 0o600);
  return { path: file, summary: reportSummary(data.totals) };
}
