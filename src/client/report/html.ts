/**
 * The report as one self-contained HTML file: inline CSS, inline SVG charts, no scripts and no external
 * references, so it opens the same from a mail attachment or a laptop with no network. Every piece of
 * recorded text is escaped.
 */
import { attentionHtml } from './attention.js';
import { summaryLabel } from './attention-words.js';
import { activeText } from './time-axis.js';
import { gradeHistogram, noGradesLine, OUTCOME_COLORS, slotChart, throughputChart } from './charts.js';
import type { ProviderFigures, ReportData, TaskDigest } from './model.js';
import { costHtml } from './cost.js';
import { followUpsHtml } from './follow-ups.js';
import { triageHtml } from './triage.js';
import { duration, escapeHtml as esc, gradeText, percent, shortTime } from './text.js';

const CSS = `
:root { color-scheme: light; --fg: #1d232b; --muted: #5d6875; --line: #d9dee4; --bg: #fbfcfd; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1760px; padding: 24px clamp(10px, 2.5vw, 32px); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.muted, .note { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 120px; }
.card b { display: block; font-size: 20px; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
p { max-width: 120ch; }
svg { max-width: 100%; height: auto; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px; overflow-x: auto; }
figcaption { font-weight: 600; margin-bottom: 6px; }
svg text { font: 11px system-ui, sans-serif; fill: var(--fg); }
svg .note { fill: var(--muted); }
svg .strong { font-weight: 700; font-size: 13px; }
svg .grid { stroke: #eceff3; }
svg .axis { stroke: #9aa4b0; }
svg .lane { fill: #f1f3f6; }
.grade-A { fill: #3f9b52; } .grade-B { fill: #86b04a; } .grade-C { fill: #d6b21f; } .grade-D { fill: #e08a1e; } .grade-F { fill: #c8413b; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f1f3f6; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.attention { background: #fff8e6; border: 1px solid #ecd9a6; border-radius: 6px; padding: 4px 16px 8px; margin: 14px 0; }
.attention h2 { border: 0; margin-top: 8px; }
.attention ol, .attention ul { padding-left: 22px; }
.attention li { margin: 8px 0; }
.attention li p { margin: 2px 0; }
kbd { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; border: 1px solid #b9c0c8; border-bottom-width: 2px; border-radius: 3px; padding: 0 4px; background: #fff; }
.table-wrap { overflow-x: auto; }
table.tasks td.task { min-width: 14em; }
table.tasks td.result { min-width: 18em; }
@media (max-width: 760px) {
  table.tasks thead { display: none; }
  table.tasks tr, table.tasks td { display: block; }
  table.tasks tr { border: 1px solid var(--line); margin-bottom: 10px; }
  table.tasks td { border: 0; min-width: 0; }
  table.tasks td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; }
  table.tasks td.num { text-align: left; }
}
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
ul.attempts { margin: 0; padding-left: 16px; }
.state { font-weight: 600; }
.state-done { color: #2e7d40; } .state-failed { color: #b3322c; } .state-review { color: #8a6d00; }
.pass { color: #2e7d40; } .fail { color: #b3322c; font-weight: 600; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
`;

export function renderHtml(r: ReportData): string {
  const t = r.totals;
  const title = `nightshift report: ${shortTime(r.window.since)} → ${shortTime(r.window.until)} UTC`;
  const card = (value: string, label: string) =>
    `<div class="card"><b>${esc(value)}</b><span class="muted">${esc(label)}</span></div>`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8" />',
    '<meta name="viewport" content="width=device-width, initial-scale=1" />',
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    `<h1>${esc(title)}</h1>`,
    `<p class="muted">${t.tasks} task(s) touched in ${r.window.hours} h; ${esc(activeText(r.window))}. Times are UTC.</p>`,
    attentionHtml(r.attention),
    '<div class="cards">',
    card(String(t.merged), 'merged'),
    card(String(t.failed), 'failed'),
    card(String(t.parked), 'parked'),
    card(`${t.tasksPerHour}`, 'merged / active hour'),
    card(percent(t.successRate), `attempts exited cleanly (${t.exitedCleanly}/${t.finished})`),
    card(gradeText(t.averageGrade, t.averageGradeLetter), `average grade (${t.graded})`),
    card(duration(t.wastedMs), `slot time wasted of ${duration(t.slotMs)}`),
    card(String(t.probeFailures), 'probe failures'),
    '</div>',
    '<div class="charts">',
    `<figure><figcaption>Throughput: merged per provider over the active time</figcaption>${throughputChart(r)}</figure>`,
    `<figure><figcaption>Grades</figcaption>${gradeHistogram(r) ?? `<p class="muted no-grades">${esc(noGradesLine(r) ?? '')}</p>`}</figure>`,
    `<figure><figcaption>Slots: attempts per provider@host</figcaption>${slotChart(r)}</figure>`,
    '</div>',
    '<h2>Tasks</h2>',
    tasksTable(r.tasks),
    '<h2>Providers</h2>',
    providersTable(r.providers),
    ...r.providers.flatMap(providerDetails),
    costHtml(r.cost),
    followUpsHtml(r.followUps),
    ...triageHtml(r.triage),
    '<h2>Timeline</h2>',
    timelineTable(r),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function tasksTable(tasks: readonly TaskDigest[]): string {
  if (tasks.length === 0) return '<p class="muted">No task was touched in this window.</p>';
  const rows = tasks.map((t) => {
    const attempts = t.attempts
      .map((a) => {
        const blame = [a.code, a.attribution].filter(Boolean).join(', ');
        return (
          `<li><span class="swatch" style="background:${OUTCOME_COLORS[a.outcome]}"></span>` +
          `#${a.n} ${esc(a.provider)}@${esc(a.host)} ${esc(duration(a.durationMs))} ${esc(a.outcome)}` +
          `${a.exitCode !== null ? ` (exit ${a.exitCode})` : ''}${blame ? ` [${esc(blame)}]` : ''}` +
          `${a.reason ? `: ${esc(a.reason)}` : ''}</li>`
        );
      })
      .join('');
    const gates = t.gates
      .map((g) => `<span class="${g.passed ? 'pass' : 'fail'}">${esc(g.name)} ${g.passed ? '✓' : '✗'}</span>`)
      .join(' ');
    const result = [
      t.merge ? `merged <code>${esc(t.merge.short)}</code> ${esc(shortTime(t.merge.at))}` : '',
      t.pullRequest ? `pull request <a href="${esc(t.pullRequest.url)}">${esc(t.pullRequest.url)}</a>` : '',
      t.why ? esc(t.why) : '',
      t.summary ? `<span class="muted">${esc(`${summaryLabel(t.verdict)} ${t.summary}`)}</span>` : '',
    ]
      .filter(Boolean)
      .join('<br />');
    return (
      `<tr><td class="task">${esc(t.title)}<br /><code>${esc(t.id)}</code></td>` +
      `<td class="state state-${esc(t.state)}" data-label="State">${esc(t.state)}${t.parked ? `<br />parked: ${esc(t.parked)}` : ''}</td>` +
      `<td data-label="Attempts">${t.attemptCount}${attempts ? `<ul class="attempts">${attempts}</ul>` : ''}</td>` +
      `<td class="num" data-label="Duration">${esc(duration(t.durationMs))}</td>` +
      `<td data-label="Gates">${gates || '-'}</td>` +
      `<td data-label="Grade">${t.grade ? esc(t.grade) : '-'}${t.verdict ? `<br />${esc(t.verdict)}` : ''}</td>` +
      `<td class="result" data-label="Result">${result || '-'}</td></tr>`
    );
  });
  return (
    '<div class="table-wrap"><table class="tasks"><thead><tr><th>Task</th><th>State</th><th>Attempts</th>' +
    '<th>Duration</th><th>Gates</th><th>Grade</th><th>Result</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table></div>`
  );
}

function providersTable(providers: readonly ProviderFigures[]): string {
  if (providers.length === 0) return '<p class="muted">No provider is configured.</p>';
  const rows = providers.map(
    (p) =>
      `<tr><td>${esc(p.name)}${p.configured ? '' : ' <span class="muted">(not in config)</span>'}</td>` +
      `<td class="num">${p.attempts}</td><td class="num">${percent(p.successRate)}</td>` +
      `<td class="num">${p.merged}</td><td class="num">${p.tasksPerHour}</td>` +
      `<td>${esc(gradeText(p.averageGrade, p.averageGradeLetter))}</td>` +
      `<td class="num">${esc(duration(p.slotMs))}</td><td class="num">${esc(duration(p.wastedMs))}</td>` +
      `<td>${p.limit === null ? '-' : `${p.limit} (${esc(p.breaker ?? '?')})`}</td>` +
      `<td>${p.probeFailures}/${p.probes}${p.lastProbeFailure ? `: ${esc(p.lastProbeFailure.reason)}` : ''}</td></tr>`,
  );
  return (
    '<table><thead><tr><th>Provider</th><th>Attempts</th><th>Success</th><th>Merged</th><th>Merged/h</th>' +
    '<th>Avg grade</th><th>Slot time</th><th>Wasted</th><th>Live limit</th><th>Probe failures</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

function providerDetails(p: ProviderFigures): string[] {
  if (p.limitHistory.length === 0) return [];
  const items = p.limitHistory.map(
    (l) => `<li>${esc(shortTime(l.at))}: limit ${l.limit}, breaker ${esc(l.breaker)}: ${esc(l.reason)}</li>`,
  );
  return [`<h3>${esc(p.name)}: live-limit history</h3>`, `<ul>${items.join('')}</ul>`];
}

function timelineTable(r: ReportData): string {
  if (r.timeline.length === 0)
    return '<p class="muted">Nothing merged, failed, parked, killed or tripped.</p>';
  const rows = r.timeline.map((e) => {
    const where = [e.provider, e.host].filter(Boolean).join('@');
    return (
      `<tr><td>${esc(shortTime(e.at))}</td><td>${esc(e.kind)}</td>` +
      `<td>${e.task ? `<code>${esc(e.task)}</code>` : '-'}</td><td>${where ? esc(where) : '-'}</td>` +
      `<td>${esc(e.text)}</td></tr>`
    );
  });
  return (
    '<table><thead><tr><th>Time</th><th>Event</th><th>Task</th><th>Where</th><th>What</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}
