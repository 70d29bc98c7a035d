/**
 * Inline SVG charts for the HTML report: throughput per hour per provider, the grade histogram, and the
 * slots (one row per provider@host, one rect per attempt, coloured by outcome). Every text is escaped.
 */
import type { AttemptOutcome } from '../../core/task.js';
import { GRADE_LETTERS, gradeLetter } from './grades.js';
import type { AttemptDigest, ReportData } from './model.js';
import { duration, escapeHtml as esc, shortTime } from './text.js';
import { tickLabel, tickTimes, timeAxis } from './time-axis.js';
const PALETTE = ['#3b6fb6', '#e08a1e', '#4a9a5b', '#b5485d', '#7a5cad', '#2d9c9c', '#9c7a2d', '#6b6b6b'];

export const OUTCOME_COLORS: Record<AttemptOutcome, string> = {
  exited: '#3f9b52',
  running: '#3b6fb6',
  collecting: '#5f8fcf',
  failed: '#c8413b',
  timeout: '#e08a1e',
  idle: '#d6b21f',
  killed: '#7a5cad',
  lost: '#8a8a8a',
};

export function providerColor(index: number): string {
  return PALETTE[index % PALETTE.length] ?? '#6b6b6b';
}

const n = (value: number): string => String(Math.round(value * 10) / 10);

function svgOpen(width: number, height: number, label: string): string {
  return `<svg role="img" aria-label="${esc(label)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`;
}

/** Merged tasks per bucket of the active time (time-axis.ts), one bar per provider in each bucket. */
export function throughputChart(r: ReportData): string {
  const axis = timeAxis(r.window);
  const { from: since, bucketMs, buckets } = axis;
  const names = r.providers.map((p) => p.name);
  const counts = names.map(() => new Array<number>(buckets).fill(0));
  for (const t of r.tasks) {
    if (!t.merge || !t.provider) continue;
    const mergedAt = Date.parse(t.merge.at);
    // The axis ends at the last activity: a merge right at its end belongs to the last bucket.
    const i = mergedAt === axis.until ? buckets - 1 : Math.floor((mergedAt - since) / bucketMs);
    const row = counts[names.indexOf(t.provider)];
    if (row && i >= 0 && i < buckets) row[i] = (row[i] ?? 0) + 1;
  }
  const max = Math.max(1, ...counts.flat());
  const width = 760;
  const height = 220;
  const left = 34;
  const bottom = 34;
  const top = 10;
  const plotW = width - left - 10;
  const plotH = height - top - bottom;
  const groupW = plotW / buckets;
  const barW = Math.max(1, (groupW * 0.8) / Math.max(1, names.length));
  const parts = [
    svgOpen(width, height + 22 * Math.ceil(names.length / 4), 'merged tasks over time per provider'),
  ];
  for (let y = 0; y <= max; y += Math.max(1, Math.ceil(max / 4))) {
    const py = top + plotH - (y / max) * plotH;
    parts.push(
      `<line x1="${left}" y1="${n(py)}" x2="${width - 10}" y2="${n(py)}" class="grid" />`,
      `<text x="${left - 6}" y="${n(py + 4)}" text-anchor="end">${y}</text>`,
    );
  }
  const labelEvery = Math.ceil(buckets / 8);
  for (let b = 0; b < buckets; b++) {
    const gx = left + b * groupW + groupW * 0.1;
    counts.forEach((row, p) => {
      const value = row[b] ?? 0;
      if (value === 0) return;
      const h = (value / max) * plotH;
      parts.push(
        `<rect x="${n(gx + p * barW)}" y="${n(top + plotH - h)}" width="${n(barW)}" height="${n(h)}" fill="${providerColor(p)}"><title>${esc(`${names[p] ?? '?'}: ${value} merged, ${shortTime(new Date(since + b * bucketMs).toISOString())}`)}</title></rect>`,
      );
    });
    if (b % labelEvery === 0) {
      const label = tickLabel(axis, since + b * bucketMs);
      parts.push(`<text x="${n(left + b * groupW)}" y="${height - bottom + 16}">${label}</text>`);
    }
  }
  parts.push(
    `<line x1="${left}" y1="${top + plotH}" x2="${width - 10}" y2="${top + plotH}" class="axis" />`,
    `<text x="${left}" y="${height - 4}" class="note">${esc(`UTC, one group of bars per ${duration(bucketMs)}`)}</text>`,
  );
  names.forEach((name, p) => {
    const x = left + (p % 4) * 180;
    const y = height + 8 + 22 * Math.floor(p / 4);
    parts.push(
      `<rect x="${x}" y="${y}" width="12" height="12" fill="${providerColor(p)}" />`,
      `<text x="${x + 18}" y="${y + 11}">${esc(name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Why there is no grade to chart, in one line, or null when some task has one. Only the architect
 * grades: in `gates` or `manual` review mode every verdict comes without a grade.
 */
export function noGradesLine(r: ReportData): string | null {
  if (r.tasks.some((t) => gradeLetter(t.grade) !== null)) return null;
  const verdicts = r.tasks.filter((t) => t.verdict !== null);
  if (verdicts.length === 0) return 'No grades: no task was reviewed in this window.';
  const count = (v: string) => verdicts.filter((t) => t.verdict === v).length;
  const parts = [
    `${count('approve')} approved`,
    `${count('changes')} sent back for changes`,
    `${count('reject')} rejected`,
  ].filter((p) => !p.startsWith('0 '));
  return (
    `No grades: the ${verdicts.length} review(s) in this window came without one (${parts.join(', ')}). ` +
    'Only the architect grades; the gates judge pass or fail.'
  );
}

/** How many graded tasks got each letter; null when none has a grade (noGradesLine says why). */
export function gradeHistogram(r: ReportData): string | null {
  const counts = GRADE_LETTERS.map((letter) => r.tasks.filter((t) => gradeLetter(t.grade) === letter).length);
  if (counts.every((c) => c === 0)) return null;
  const max = Math.max(1, ...counts);
  const width = 320;
  const top = 22;
  const plotH = 130;
  const height = top + plotH + 30;
  const barW = 40;
  const parts = [svgOpen(width, height, 'grade histogram')];
  GRADE_LETTERS.forEach((letter, i) => {
    const count = counts[i] ?? 0;
    const h = (count / max) * plotH;
    const x = 20 + i * 58;
    parts.push(
      `<rect x="${x}" y="${n(top + plotH - h)}" width="${barW}" height="${n(h)}" class="grade-${letter}"><title>${letter}: ${count}</title></rect>`,
      `<text x="${x + barW / 2}" y="${n(top + plotH - h - 6)}" text-anchor="middle">${count}</text>`,
      `<text x="${x + barW / 2}" y="${top + plotH + 20}" text-anchor="middle" class="strong">${letter}</text>`,
    );
  });
  parts.push(
    `<line x1="10" y1="${top + plotH}" x2="${width - 10}" y2="${top + plotH}" class="axis" />`,
    '</svg>',
  );
  return parts.join('');
}

interface Placed {
  task: string;
  a: AttemptDigest;
  start: number;
  end: number;
  lane: number;
}

/**
 * One row per provider@host; each attempt a rect from its start to its end, clipped to the window.
 * Attempts that overlap in one slot (concurrency above 1) get stacked lanes inside the row.
 */
export function slotChart(r: ReportData): string {
  const axis = timeAxis(r.window);
  const { from: since, until } = axis;
  const span = until - since;
  const rows = new Map<string, Placed[]>();
  for (const t of r.tasks) {
    for (const a of t.attempts) {
      const start = Date.parse(a.startedAt);
      const end = a.endedAt ? Date.parse(a.endedAt) : Date.parse(r.window.until);
      if (end < since || start > until) continue;
      const key = `${a.provider}@${a.host}`;
      rows.set(key, [...(rows.get(key) ?? []), { task: t.id, a, start, end, lane: 0 }]);
    }
  }
  const names = [...rows.keys()].sort();
  const laneCounts = names.map((name) => packLanes(rows.get(name) ?? []));
  const width = 760;
  const left = 150;
  const right = 24;
  const plotW = width - left - right;
  const laneH = 16;
  const gap = 8;
  const top = 8;
  const rowTops: number[] = [];
  let y = top;
  for (const lanes of laneCounts) {
    rowTops.push(y);
    y += lanes * laneH + gap;
  }
  const axisY = Math.max(y, top + laneH + gap) + 10;
  const height = axisY + 30;
  const x = (t: number) => left + ((Math.min(Math.max(t, since), until) - since) / span) * plotW;
  const parts = [svgOpen(width, height, 'attempts per slot over the window')];
  names.forEach((name, i) => {
    const rowTop = rowTops[i] ?? top;
    const rowH = (laneCounts[i] ?? 1) * laneH;
    parts.push(
      `<rect x="${left}" y="${rowTop}" width="${plotW}" height="${rowH}" class="lane" />`,
      `<text x="${left - 8}" y="${n(rowTop + rowH / 2 + 4)}" text-anchor="end">${esc(name)}</text>`,
    );
    for (const p of rows.get(name) ?? []) {
      const x1 = x(p.start);
      const tip = `${p.task} #${p.a.n} ${p.a.outcome}, ${duration(p.a.durationMs)} (${shortTime(p.a.startedAt)} → ${p.a.endedAt ? shortTime(p.a.endedAt) : 'running'})`;
      parts.push(
        `<rect x="${n(x1)}" y="${rowTop + p.lane * laneH + 2}" width="${n(Math.max(2, x(p.end) - x1))}" height="${laneH - 4}" fill="${OUTCOME_COLORS[p.a.outcome]}"><title>${esc(tip)}</title></rect>`,
      );
    }
  });
  if (names.length === 0) parts.push(`<text x="${left}" y="${top + 12}">no attempts in this window</text>`);
  for (const t of tickTimes(axis, 6)) {
    parts.push(`<text x="${n(x(t))}" y="${axisY}" text-anchor="middle">${tickLabel(axis, t)}</text>`);
  }
  Object.entries(OUTCOME_COLORS).forEach(([outcome, color], i) => {
    const lx = left + i * 84;
    parts.push(
      `<rect x="${lx}" y="${axisY + 10}" width="12" height="12" fill="${color}" />`,
      `<text x="${lx + 16}" y="${axisY + 21}">${outcome}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Assigns each attempt the first lane free at its start; returns how many lanes the row needs. */
function packLanes(placed: Placed[]): number {
  const laneEnds: number[] = [];
  placed.sort((a, b) => a.start - b.start || a.end - b.end);
  for (const p of placed) {
    const free = laneEnds.findIndex((end) => end <= p.start);
    p.lane = free === -1 ? laneEnds.length : free;
    laneEnds[p.lane] = p.end;
  }
  return Math.max(1, laneEnds.length);
}
