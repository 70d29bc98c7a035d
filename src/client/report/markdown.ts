/** The report as Markdown: a summary, one section per task, a provider table, the timeline. */
import type { AttemptDigest, ProviderFigures, ReportData, TaskDigest } from './model.js';
import { attentionMarkdown } from './attention.js';
import { summaryLabel } from './attention-words.js';
import { activeMs, activeText } from './time-axis.js';
import { noGradesLine } from './charts.js';
import { costMarkdown } from './cost.js';
import { followUpsMarkdown } from './follow-ups.js';
import { triageMarkdown } from './triage.js';
import { duration, escapeMarkdown as md, gradeText, percent, shortTime } from './text.js';

export function renderMarkdown(r: ReportData): string {
  const t = r.totals;
  const out: string[] = [
    `# nightshift report: ${shortTime(r.window.since)} → ${shortTime(r.window.until)} UTC`,
    '',
    `**${t.tasks} task(s)** touched in ${r.window.hours} h: ${t.merged} merged, ${t.failed} failed, ` +
      `${t.parked} parked, ${t.byState.running} running, ${t.byState.pending} pending; ${activeText(r.window)}.`,
    '',
    ...attentionMarkdown(r.attention),
    '## Summary',
    '',
    `- attempts: ${t.attempts} (${t.exitedCleanly}/${t.finished} exited cleanly, ${percent(t.successRate)})`,
    `- throughput: ${t.tasksPerHour} merged/hour over ${duration(activeMs(r.window))} of activity`,
    `- ${gradesLine(r)}`,
    `- slot time: ${duration(t.slotMs)}, wasted ${duration(t.wastedMs)}`,
    `- probe failures: ${t.probeFailures}, breaker events: ${t.breakerEvents}, kills: ${t.killed}`,
    '',
    '## Tasks',
    '',
  ];
  if (r.tasks.length === 0) out.push('No task was touched in this window.', '');
  for (const task of r.tasks) out.push(...taskSection(task));

  out.push('## Providers', '');
  if (r.providers.length === 0) out.push('No provider is configured.', '');
  else out.push(...providerTable(r.providers), '');
  for (const p of r.providers) {
    if (p.limitHistory.length === 0 && !p.lastProbeFailure) continue;
    out.push(`### ${md(p.name)}`, '');
    if (p.lastProbeFailure) {
      out.push(
        `- last probe failure ${shortTime(p.lastProbeFailure.at)} on ${md(p.lastProbeFailure.host)}: ${md(p.lastProbeFailure.reason)}`,
      );
    }
    for (const l of p.limitHistory) {
      out.push(`- ${shortTime(l.at)} limit ${l.limit}, breaker ${md(l.breaker)}: ${md(l.reason)}`);
    }
    out.push('');
  }

  out.push(...costMarkdown(r.cost));
  out.push(...followUpsMarkdown(r.followUps));
  out.push(...triageMarkdown(r.triage));
  out.push('## Timeline', '');
  if (r.timeline.length === 0) out.push('Nothing merged, failed, parked, killed or tripped.', '');
  else {
    out.push('| time (UTC) | event | task | where | what |', '|---|---|---|---|---|');
    for (const e of r.timeline) {
      const where = [e.provider, e.host].filter(Boolean).join('@');
      out.push(
        `| ${shortTime(e.at)} | ${e.kind} | ${e.task ? md(e.task) : '-'} | ${where ? md(where) : '-'} | ${md(e.text)} |`,
      );
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

function gradesLine(r: ReportData): string {
  const t = r.totals;
  const none = noGradesLine(r);
  return none ?? `average grade: ${gradeText(t.averageGrade, t.averageGradeLetter)} over ${t.graded} graded`;
}

const STATE_MARK: Record<string, string> = {
  done: 'merged',
  failed: 'FAILED',
  review: 'in review',
  running: 'running',
  pending: 'pending',
};

/** pr mode: the task's pull request, linked. */
function pullRequestLine(pr: NonNullable<TaskDigest['pullRequest']>): string {
  // An autolink only for a plain https URL: nothing in it that Markdown would read.
  const link = /^https:\/\/[A-Za-z0-9.-]+\/[A-Za-z0-9._~/-]+$/.test(pr.url) ? `<${pr.url}>` : md(pr.url);
  return `- pull request: ${link} opened at ${shortTime(pr.at)}`;
}

function taskSection(t: TaskDigest): string[] {
  const mark = t.pullRequest ? 'pull request open' : (STATE_MARK[t.state] ?? t.state);
  const state = `${mark}${t.parked ? `, parked: ${md(t.parked)}` : ''}`;
  const lines = [`### ${md(t.title)} (${md(t.id)}): ${state}`, ''];
  if (t.merge) lines.push(`- merged as ${md(t.merge.short)} at ${shortTime(t.merge.at)}`);
  if (t.pullRequest) lines.push(pullRequestLine(t.pullRequest));
  if (t.why) lines.push(`- why: ${md(t.why)}`);
  lines.push(
    `- duration: ${duration(t.durationMs)} (${shortTime(t.startedAt)} → ${t.endedAt ? shortTime(t.endedAt) : 'still going'}), round ${t.round}`,
  );
  lines.push(`- attempts: ${t.attemptCount}`);
  for (const a of t.attempts) lines.push(`  - ${attemptLine(a)}`);
  if (t.gates.length) {
    lines.push(`- gates: ${t.gates.map((g) => `${md(g.name)} ${g.passed ? 'pass' : 'FAIL'}`).join(', ')}`);
  }
  if (t.grade || t.verdict) {
    lines.push(`- grade: ${t.grade ? md(t.grade) : '-'}, verdict: ${t.verdict ?? '-'}`);
  }
  if (t.summary) lines.push(`- ${summaryLabel(t.verdict)} ${md(t.summary)}`);
  lines.push('');
  return lines;
}

export function attemptLine(a: AttemptDigest): string {
  const blame = [a.code, a.attribution].filter(Boolean).join(', ');
  return (
    `#${a.n} ${md(a.provider)}@${md(a.host)} ${duration(a.durationMs)} ${a.outcome}` +
    `${a.exitCode !== null ? ` (exit ${a.exitCode})` : ''}${blame ? ` [${md(blame)}]` : ''}` +
    `${a.reason ? `: ${md(a.reason)}` : ''}`
  );
}

function providerTable(providers: readonly ProviderFigures[]): string[] {
  const rows = [
    '| provider | attempts | success | merged/h | avg grade | wasted | limit | probe failures |',
    '|---|---:|---:|---:|---|---:|---|---|',
  ];
  for (const p of providers) {
    const probe = p.lastProbeFailure ? `${p.probeFailures} (last: ${md(p.lastProbeFailure.reason)})` : '0';
    const limit = p.limit === null ? '-' : `${p.limit} (${md(p.breaker ?? '?')})`;
    rows.push(
      `| ${md(p.name)}${p.configured ? '' : ' (not in config)'} | ${p.attempts} | ${percent(p.successRate)} ` +
        `| ${p.tasksPerHour} | ${gradeText(p.averageGrade, p.averageGradeLetter)} | ${duration(p.wastedMs)} ` +
        `| ${limit} | ${probe} |`,
    );
  }
  return rows;
}
