import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slotChart } from '../../src/client/report/charts.js';
import { gradeLetter } from '../../src/client/report/grades.js';
import {
  buildReport,
  gradeToPoints,
  pointsToGrade,
  readEvents,
  redactDeep,
} from '../../src/client/report/index.js';
import { enterReview, enterRunning, newTask, type TaskRecord } from '../../src/core/task.js';
import { makeRedactor } from '../../src/lib/redact.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { tid } from '../../src/testing/ids.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 26, 20);

const spec = taskSpec({ timeoutMs: HOUR, idleMs: HOUR });

function running(id: string, provider: string, startH: number): TaskRecord {
  const created = newTask({ id: tid(id), dedupKey: id, spec: { ...spec, title: id }, now: T0 }).task;
  return enterRunning(created, { now: T0 + startH * HOUR, provider, host: 'local' }).task;
}

describe('grades', () => {
  it('maps letters to points and back', () => {
    expect(['A', 'A-', 'B+', 'b', 'C-', 'F', 'Z', null].map(gradeToPoints)).toEqual([
      4,
      3.7,
      3.3,
      3,
      1.7,
      0,
      null,
      null,
    ]);
    expect([4, 3.65, 3.1, 2, 0.2].map(pointsToGrade)).toEqual(['A', 'A-', 'B', 'C', 'F']);
    expect(['B+', 'D', 'F', 'D-', 'nope'].map(gradeLetter)).toEqual(['B', 'D', 'F', null, null]);
  });
});

describe('buildReport', () => {
  it('counts a running attempt up to the end of the window, and providers missing from the config', () => {
    const a = enterReview(running('a', 'glm', 0), { now: T0 + HOUR, exitCode: 0 }).task;
    const b = running('b', 'gone', 0.5);
    const r = buildReport({ tasks: [a, b], events: [], since: T0, until: T0 + 2 * HOUR, providers: ['glm'] });
    expect(r.providers.map((p) => [p.name, p.configured, p.attempts, p.finished, p.successRate])).toEqual([
      ['glm', true, 1, 1, 1],
      ['gone', false, 1, 0, null],
    ]);
    const digest = r.tasks.find((t) => t.id === 'b');
    expect(digest).toMatchObject({ endedAt: null, durationMs: null });
    expect(digest?.attempts[0]).toMatchObject({ outcome: 'running', durationMs: 1.5 * HOUR });
  });

  it('stacks attempts that overlap on one slot into lanes', () => {
    const tasks = [running('a', 'glm', 0), running('b', 'glm', 0.5), running('c', 'glm', 1)];
    const svg = slotChart(
      buildReport({ tasks, events: [], since: T0, until: T0 + 2 * HOUR, providers: ['glm'] }),
    );
    const ys = [...svg.matchAll(/<rect [^>]*y="(\d+)"[^>]*fill="#3b6fb6"><title>/g)].map((m) => m[1]);
    expect(ys).toHaveLength(3);
    expect(new Set(ys).size).toBe(3);
  });

  it('redacts every string, keys included', () => {
    const redact = makeRedactor(['s3cr3t-value']);
    expect(redactDeep({ a: ['x s3cr3t-value y', 1, null], 's3cr3t-value': true }, redact)).toEqual({
      a: ['x [redacted] y', 1, null],
      '[redacted]': true,
    });
  });
});

describe('readEvents', () => {
  it('skips torn lines and events whose fields have the wrong types', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-events-'));
    try {
      const file = path.join(dir, 'events.jsonl');
      const time = new Date(T0).toISOString();
      writeFileSync(
        file,
        [
          JSON.stringify({
            type: 'provider.health',
            time,
            provider: 'glm',
            breaker: 'open',
            limit: 1,
            reason: 'r',
          }),
          JSON.stringify({
            type: 'provider.health',
            time,
            provider: 'glm',
            breaker: 'open',
            limit: '1',
            reason: 'r',
          }),
          JSON.stringify({ type: 'monitor.breaker', time: 'not a time', reason: 'r' }),
          '{"type":"provider.probe","time":',
        ].join('\n'),
      );
      expect(readEvents(file)).toHaveLength(1);
      expect(readEvents(path.join(dir, 'missing.jsonl'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
