/** The report's "Follow-ups" section: each spec the architect drafted in the window, with its origin. */
import type { NightshiftEvent } from '../../core/events.js';
import type { FollowUpDigest } from './model.js';
import { escapeHtml as esc, escapeMarkdown as md, shortTime } from './text.js';

export function followUpsOf(events: readonly NightshiftEvent[]): FollowUpDigest[] {
  return events.flatMap((e) =>
    e.type === 'architect.follow-up' ? [{ at: e.time, id: e.task, origin: e.origin, reason: e.reason }] : [],
  );
}

export function followUpsMarkdown(list: readonly FollowUpDigest[] | undefined): string[] {
  if (!list?.length) return [];
  return [
    '## Follow-ups',
    '',
    ...list.map((f) => `- ${shortTime(f.at)} **${md(f.id)}** follows up ${md(f.origin)}: ${md(f.reason)}`),
    '',
  ];
}

export function followUpsHtml(list: readonly FollowUpDigest[] | undefined): string {
  if (!list?.length) return '';
  const rows = list.map(
    (f) =>
      `<tr><td>${esc(shortTime(f.at))}</td><td>${esc(f.id)}</td><td>${esc(f.origin)}</td><td>${esc(f.reason)}</td></tr>`,
  );
  return `<h2>Follow-ups</h2>\n<table><tr><th>time (UTC)</th><th>draft</th><th>follows up</th><th>why</th></tr>${rows.join('')}</table>`;
}
