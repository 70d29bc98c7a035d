/**
 * The report's shape for a reader, on fixed records and a fixed clock: charts fitted to the night's active
 * time, no empty grade chart in gates mode, what needs a person first (with real commands and keys), and
 * the HTML's use of the page's width. Untrusted text stays escaped in the new "Needs you" section.
 */
import os from 'node:os';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TUI_KEYS } from '../../src/client/report/attention.js';
import { gradeHistogram, slotChart, throughputChart } from '../../src/client/report/charts.js';
import { buildReport, renderHtml, renderMarkdown, type ReportData } from '../../src/client/report/index.js';
import { MAX_BUCKETS, timeAxis } from '../../src/client/report/time-axis.js';
import type { NightshiftEvent } from '../../src/core/events.js';
import type { GateName } from '../../src/core/gates.js';
import {
  enterDone,
  enterFailed,
  enterReview,
  enterRunning,
  newTask,
  updateTask,
  type Review,
  type TaskRecord,
} from '../../src/core/task.js';
import { keysFor } from '../../src/tui/keys/bindings.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { tid } from '../../src/testing/ids.js';
import { runCli } from '../../src/testing/workspace.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The window: 20:00 → 08:00 UTC, read at 08:00. */
const SINCE = Date.UTC(2026, 10, 26, 20);
const UNTIL = SINCE + 12 * HOUR;
const at = (minutes: number): number => SINCE + minutes * MINUTE;

const gatesApproval: Review = {
  grade: null,
  verdict: 'approve',
  summary: 'All enabled gates passed.',
  findings: [],
  approvedBy: 'gates',
};

function queued(id: string, title = `Task ${id}`, repo = 'app'): TaskRecord {
  return newTask({ id: tid(id), dedupKey: id, spec: taskSpec({ title, repo }), now: SINCE - HOUR }).task;
}

/** Ran from `start` to `end` (minutes after 20:00), judged by the gates and merged at `end`. */
function merged(id: string, start: number, end: number): TaskRecord {
  let t = enterRunning(queued(id), { now: at(start), provider: 'glm', host: 'local' }).task;
  t = enterReview(t, { now: at(end), exitCode: 0 }).task;
  t = updateTask(t, at(end), 'judged', { review: gatesApproval }).task;
  return enterDone(t, { now: at(end), sha: 'abcdef1234567890abcdef1234567890abcdef12' }).task;
}

function failed(id: string, title: string, reason: string, minute: number): TaskRecord {
  const t = enterRunning(queued(id, title), { now: at(minute - 5), provider: 'glm', host: 'local' }).task;
  return enterFailed(t, { now: at(minute), code: 'exit-nonzero', attribution: 'spec', reason }).task;
}

function parked(id: string, reason: TaskRecord['parked'] & string, minute: number, repo = 'app'): TaskRecord {
  let t = enterRunning(queued(id, `Task ${id}`, repo), {
    now: at(minute - 5),
    provider: 'glm',
    host: 'local',
  }).task;
  t = enterReview(t, { now: at(minute), exitCode: 0 }).task;
  return updateTask(t, at(minute), `parked: ${reason}`, { parked: reason }).task;
}

const report = (tasks: TaskRecord[], events: NightshiftEvent[] = []): ReportData =>
  buildReport({ tasks, events, since: SINCE, until: UNTIL, providers: ['glm'] });

describe('a short night in a long window', () => {
  // One hour of work, 22:00 → 23:00, in the default 12-hour window: four merges.
  const night = [merged('a', 120, 135), merged('b', 125, 150), merged('c', 150, 170), merged('d', 165, 180)];

  it('spans the charts over the active hour in 5-minute buckets, not 12 hours of 1-hour ones', () => {
    const r = report(night);
    expect(r.window).toMatchObject({
      hours: 12,
      activeFrom: new Date(at(120)).toISOString(),
      activeUntil: new Date(at(180)).toISOString(),
      activeHours: 1,
    });
    expect(timeAxis(r.window)).toEqual({ from: at(120), until: at(180), bucketMs: 5 * MINUTE, buckets: 12 });
    const svg = throughputChart(r);
    expect(svg).toContain('one group of bars per 5m');
    // One bar per bucket with a merge (22:15, 22:30, 22:50, 23:00 → the last falls in the 22:55 bucket).
    const bars = [...svg.matchAll(/<rect [^>]*><title>glm: (\d+) merged, ([^<]+)<\/title>/g)].map(
      (m) => m[2],
    );
    expect(bars).toEqual(['2026-11-26 22:15', '2026-11-26 22:30', '2026-11-26 22:50', '2026-11-26 22:55']);
    expect(svg).toContain('>22:00</text>');
    expect(svg).not.toContain('>20:00</text>');
  });

  it('draws an attempt that ran the whole active hour across the slot chart, not as a sliver', () => {
    const whole = enterRunning(queued('w'), { now: at(120), provider: 'glm', host: 'local' }).task;
    const done = enterReview(whole, { now: at(180), exitCode: 0 }).task;
    const svg = slotChart(report([done]));
    const width = Number(/<rect x="[\d.]+" y="\d+" width="([\d.]+)"[^>]*fill="#3f9b52">/.exec(svg)?.[1]);
    // The plot is 586 px wide; the old 12-hour axis gave this hour 49 px.
    expect(width).toBeGreaterThan(580);
  });

  it('counts merged per hour over the active time', () => {
    const r = report(night);
    expect(r.totals.tasksPerHour).toBe(4);
    expect(r.providers[0]?.tasksPerHour).toBe(4);
    expect(renderMarkdown(r)).toContain('- throughput: 4 merged/hour over 1h of activity');
  });

  it('has no active time and no rate when nothing happened, and charts the whole window then', () => {
    const r = report([queued('idle')]);
    expect(r.window).toMatchObject({ activeFrom: null, activeUntil: null, activeHours: 0 });
    expect(r.totals.tasksPerHour).toBe(0);
    expect(timeAxis(r.window)).toMatchObject({ from: SINCE, until: UNTIL, bucketMs: HOUR, buckets: 12 });
  });

  it('keeps any active span inside a readable number of round buckets (fast-check)', () => {
    const seed = Number(process.env['FC_SEED'] ?? Date.now());
    console.log('report time-axis fast-check seed', seed);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30 * 24 * 60 }),
        fc.integer({ min: 0, max: 30 * 24 * 60 }),
        (startMin, lengthMin) => {
          const from = SINCE + startMin * MINUTE;
          const until = from + lengthMin * MINUTE;
          const axis = timeAxis({
            since: new Date(SINCE).toISOString(),
            until: new Date(until).toISOString(),
            hours: 0,
            activeFrom: new Date(from).toISOString(),
            activeUntil: new Date(until).toISOString(),
            activeHours: 0,
          });
          expect(axis.from).toBeLessThanOrEqual(from);
          expect(axis.until).toBeGreaterThanOrEqual(until);
          expect(axis.buckets).toBeGreaterThanOrEqual(1);
          expect(axis.buckets).toBeLessThanOrEqual(MAX_BUCKETS + 1);
          expect(axis.from % axis.bucketMs).toBe(0);
        },
      ),
      { seed, numRuns: 300 },
    );
  });
});

describe('grades in gates mode', () => {
  it('leaves the grade chart out and says in one line what was judged instead', () => {
    const r = report([merged('a', 0, 30), merged('b', 30, 60)]);
    expect(gradeHistogram(r)).toBeNull();
    const html = renderHtml(r);
    expect(html).not.toContain('aria-label="grade histogram"');
    expect(html).toContain(
      'No grades: the 2 review(s) in this window came without one (2 approved). Only the architect grades; the gates judge pass or fail.',
    );
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(renderMarkdown(r)).toContain(
      '- No grades: the 2 review(s) in this window came without one (2 approved).',
    );
  });

  it('still draws the chart when one task has a grade', () => {
    const graded = updateTask(merged('g', 0, 30), at(30), 'graded', {
      review: { ...gatesApproval, grade: 'B+', approvedBy: 'architect' },
    }).task;
    expect(gradeHistogram(report([graded, merged('a', 0, 30)]))).toContain('<title>B: 1</title>');
  });
});

describe('what needs the reader', () => {
  it('lists parks a person must act on, then failures, then parks that go on by themselves', () => {
    const r = report([
      failed('f1', 'Broken build', 'exit 2 after 40 commits', 100),
      parked('p-dirty', 'checkout-dirty', 90),
      parked('p-approve', 'awaiting-approval', 200),
      parked('p-human', 'needs-human', 150),
    ]);
    expect(r.attention.map((a) => [a.id, a.needsPerson, a.actions.map((h) => h.command)])).toEqual([
      ['p-human', true, ['nightshift approve p-human', 'nightshift reject p-human']],
      ['p-approve', true, ['nightshift approve p-approve', 'nightshift reject p-approve']],
      ['f1', true, ['nightshift retry f1']],
      ['p-dirty', false, []],
    ]);
    const md = renderMarkdown(r);
    const section = md.slice(md.indexOf('## Needs you'), md.indexOf('## Summary'));
    expect(section).toContain('3. **Broken build** (f1): failed (exit-nonzero)');
    expect(section).toContain('   - what happened: The agent exited with an error after doing some work.');
    expect(section).toContain('   - recorded: exit 2 after 40 commits');
    expect(section).toContain('Waiting, and will go on by itself:');
    expect(section).toContain('the merge then resumes by itself.');
  });

  it('says so in one line when nothing needs the reader', () => {
    const md = renderMarkdown(report([merged('a', 0, 30)]));
    expect(md).toContain('Nothing needs you: no task in this window failed or waits for a person.');
  });

  it("names the TUI's real keys and real CLI commands", async () => {
    for (const action of ['approve', 'reject', 'retry'] as const) {
      expect(keysFor('global', action)).toContain(TUI_KEYS[action]);
      const help = await runCli([action, '--help'], { cwd: os.tmpdir() });
      expect(help.code, help.stderr).toBe(0);
      expect(help.stdout).toContain(`${action} [options] <id>`);
    }
  });

  it('escapes a hostile title, reason and repo in the "Needs you" section', () => {
    const title = '<img src=x onerror=alert(1)> **bold** [x](javascript:alert(1))';
    const reason = 'exit 1 | </li><script>alert(2)</script> \u202egnp.exe `code`';
    const r = report(
      [failed('f1', title, reason, 100), parked('p1', 'no-main', 120, '<b>repo</b>')],
      [
        {
          type: 'task.updated',
          time: new Date(at(120)).toISOString(),
          task: 'p1',
          reason: '<i>main</i> gone',
        },
      ],
    );
    expect(r.attention.find((a) => a.id === 'p1')).toMatchObject({
      detail: '<i>main</i> gone',
      todo: 'Fix repos.<b>repo</b>.main in the config (or create the branch), then approve it.',
    });
    const html = renderHtml(r);
    const section = html.slice(html.indexOf('<section class="attention">'), html.indexOf('</section>'));
    for (const raw of ['<img', '<script', '</li><script', '<b>repo', '<i>main'])
      expect(section).not.toContain(raw);
    expect(section).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(section).toContain('&lt;/li&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(section).toContain('\\u202e');
    expect(section).toContain('repos.&lt;b&gt;repo&lt;/b&gt;.main');
    const md = renderMarkdown(r);
    const mdSection = md.slice(md.indexOf('## Needs you'), md.indexOf('## Summary'));
    expect(mdSection).toContain(
      '**\\<img src=x onerror=alert(1)\\> \\*\\*bold\\*\\* \\[x\\](javascript:alert(1))**',
    );
    expect(mdSection).toContain(
      'recorded: exit 1 \\| \\</li\\>\\<script\\>alert(2)\\</script\\> \\\\u202egnp.exe \\`code\\`',
    );
    expect(mdSection).toContain('repos.\\<b\\>repo\\</b\\>.main');
    expect(mdSection).not.toMatch(/(?<!\\)<(img|script|b|i)\b/);
  });
});

describe('the review summary', () => {
  it("is taken out of a park's reason, which names the failed gates for a person instead", () => {
    const summary = 'Gates failed: tests, <b>lint</b>. Fix them on this branch.';
    let t = enterRunning(queued('h'), { now: at(0), provider: 'glm', host: 'local' }).task;
    t = enterReview(t, { now: at(30), exitCode: 0 }).task;
    t = updateTask(t, at(31), `review rounds used up (2): ${summary}`, {
      gates: [
        { name: 'tests', passed: false, durationMs: 1, evidence: '1 failed' },
        // Gate names are a closed set where task.json is read; the report escapes them all the same.
        { name: '<b>lint</b>' as GateName, passed: false, durationMs: 1, evidence: 'x' },
        { name: 'diff', passed: true, durationMs: 1, evidence: 'ok' },
      ],
      review: { ...gatesApproval, verdict: 'changes', summary },
      parked: 'needs-human',
    }).task;
    const update: NightshiftEvent = {
      type: 'task.updated',
      time: new Date(at(31)).toISOString(),
      task: 'h',
      reason: `review rounds used up (2): ${summary}`,
    };
    const r = report([t], [update]);
    expect(r.attention[0]).toMatchObject({
      detail: 'review rounds used up (2)',
      failedGates: ['tests', '<b>lint</b>'],
    });
    expect(r.tasks[0]?.why).toBe('needs-human: review rounds used up (2)');
    expect(r.timeline.find((e) => e.kind === 'parked')?.text).toBe(
      'Task h: needs-human — review rounds used up (2)',
    );
    const md = renderMarkdown(r);
    expect(md).toContain('   - failed gates: tests, \\<b\\>lint\\</b\\>');
    // The summary is still there once, labelled as what the agent was told.
    expect(md.match(/Fix them on this branch/g)).toHaveLength(1);
    expect(md).toContain('- sent back to the agent with these notes: Gates failed:');
    const html = renderHtml(r);
    expect(html).toContain('<p>Failed gates: <b>tests</b>, <b>&lt;b&gt;lint&lt;/b&gt;</b></p>');
    expect(html).not.toContain('<b>lint</b>');
  });

  it('is shown as notes sent to the agent when it sent the work back', () => {
    let t = enterRunning(queued('s'), { now: at(0), provider: 'glm', host: 'local' }).task;
    t = enterReview(t, { now: at(30), exitCode: 0 }).task;
    t = updateTask(t, at(31), 'judged', {
      review: {
        ...gatesApproval,
        verdict: 'changes',
        summary: 'Gates failed: tests. Fix them on this branch.',
      },
    }).task;
    const r = report([t]);
    expect(renderMarkdown(r)).toContain(
      '- sent back to the agent with these notes: Gates failed: tests. Fix them on this branch.',
    );
    expect(renderMarkdown(r)).not.toMatch(/^- (summary|review): Gates failed/m);
    expect(renderHtml(r)).toContain('sent back to the agent with these notes: Gates failed: tests.');
  });
});

describe('the HTML page', () => {
  it('lets the tasks table use a wide window and stacks its cells on a narrow one', () => {
    const html = renderHtml(report([merged('a', 0, 30), failed('f', 'F', 'x', 60)]));
    const css = /<style>([\s\S]*)<\/style>/.exec(html)?.[1] ?? '';
    const bodyMax = Number(/body \{[^}]*max-width: (\d+)px/.exec(css)?.[1]);
    // At 1280 px the content is the window less its padding (it was capped at 1100 px).
    expect(bodyMax).toBeGreaterThanOrEqual(1280);
    expect(html).toMatch(/<div class="table-wrap"><table class="tasks">/);
    expect(css).toMatch(/\.table-wrap \{ overflow-x: auto; \}/);
    const narrow = /@media \(max-width: (\d+)px\) \{([\s\S]*?)\n\}/.exec(css);
    expect(Number(narrow?.[1])).toBeLessThan(1280);
    expect(narrow?.[2]).toContain('table.tasks tr, table.tasks td { display: block; }');
    expect(html).toContain('<td class="num" data-label="Duration">');
    expect(css).toContain('svg { max-width: 100%; height: auto; }');
  });
});
