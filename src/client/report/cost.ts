/**
 * The report's tokens and cost (docs/cost.md, docs/report.md `cost`): the window's totals, per provider,
 * per task, and the architect's share. Built from the task records alone; rendered as a Markdown
 * section and an HTML block. Pure.
 */
import type { NightshiftEvent } from '../../core/events.js';
import type { TaskRecord } from '../../core/task.js';
import {
  architectCallsOf,
  architectShare,
  describeTotal,
  nightUsage,
  taskUsage,
  type UsageTotal,
} from '../../core/usage-totals.js';
import { escapeHtml as esc, escapeMarkdown as md, percent } from './text.js';

export interface CostFigures {
  /** Executors and architect together, over the window. A null `costUsd` means part of it is unpriced. */
  total: UsageTotal;
  /** The architect's calls (reviews, and any other call recorded on a task). */
  architect: UsageTotal;
  /** The architect's share of the window's tokens (0..1), or null with no tokens. */
  architectShare: number | null;
  /** Executors' usage by provider, in config order then any other. */
  providers: { name: string; usage: UsageTotal }[];
  /** Tasks that used anything in the window, most tokens first. */
  tasks: { id: string; title: string; executor: UsageTotal; architect: UsageTotal; total: UsageTotal }[];
}

export function buildCost(
  tasks: readonly TaskRecord[],
  since: number,
  until: number,
  providerNames: readonly string[],
  /** The window's events: architect calls about no task (`architect.usage`) count in the night. */
  events: readonly NightshiftEvent[] = [],
): CostFigures {
  const night = nightUsage(tasks, since, until, [], architectCallsOf(events));
  const names = [...new Set([...providerNames, ...night.providers.keys()])];
  const tokens = (t: UsageTotal) => t.inputTokens + t.outputTokens;
  return {
    total: night.total,
    architect: night.architect,
    architectShare: architectShare(night),
    providers: names.flatMap((name) => {
      const usage = night.providers.get(name);
      return usage ? [{ name, usage }] : [];
    }),
    tasks: tasks
      .map((t) => ({ id: t.id, title: t.title, ...taskUsage(t, since, until) }))
      .filter((t) => t.total.calls > 0)
      .sort((a, b) => tokens(b.total) - tokens(a.total) || a.id.localeCompare(b.id)),
  };
}

const share = (c: CostFigures) => (c.architectShare === null ? '–' : percent(c.architectShare));

export function costMarkdown(c: CostFigures): string[] {
  const out = ['## Tokens and cost', ''];
  if (c.total.calls === 0) return [...out, 'No usage was recorded in this window.', ''];
  out.push(
    `- total: ${describeTotal(c.total)}`,
    `- architect: ${describeTotal(c.architect)} (${share(c)} of the tokens)`,
    '',
    '| provider | tokens and cost |',
    '|---|---|',
    ...c.providers.map((p) => `| ${md(p.name)} | ${describeTotal(p.usage)} |`),
    '',
    '| task | executors | architect |',
    '|---|---|---|',
    ...c.tasks.map(
      (t) =>
        `| ${md(t.id)} | ${t.executor.calls ? describeTotal(t.executor) : '-'} | ${t.architect.calls ? describeTotal(t.architect) : '-'} |`,
    ),
    '',
  );
  return out;
}

export function costHtml(c: CostFigures): string {
  if (c.total.calls === 0) return '<h2>Tokens and cost</h2><p class="muted">No usage was recorded.</p>';
  const row = (cells: string[]) => `<tr>${cells.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`;
  return [
    '<h2>Tokens and cost</h2>',
    `<p>total ${esc(describeTotal(c.total))}; architect ${esc(describeTotal(c.architect))} (${esc(share(c))} of the tokens)</p>`,
    '<table><tr><th>provider</th><th>tokens and cost</th></tr>',
    ...c.providers.map((p) => row([p.name, describeTotal(p.usage)])),
    '</table>',
  ].join('\n');
}
