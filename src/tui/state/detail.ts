/**
 * The detail tabs and the event log as display lines. Built once per change of their inputs; the
 * pane shows only the slice that fits (the diff of a large change may be thousands of lines).
 */
import type { NightshiftEvent } from '../../core/events.js';
import type { TaskRecord } from '../../core/task.js';
import { ago, clockTime, oneLine, short, textLines } from './format.js';
import { chargedAttempts } from '../../core/failures.js';
import { describeTotal, taskUsage } from '../../core/usage-totals.js';
import { describeUsage } from '../../core/usage.js';

export interface Line {
  text: string;
  color?: string;
  bold?: boolean;
  dim?: boolean;
  /** Cut at the pane's edge instead of wrapped (a diff's lines, where columns matter). */
  cut?: boolean;
}

/**
 * Lines as a pane of `width` columns shows them: prose wraps at spaces (a word longer than the width is
 * split), its continuation indented like the line; `cut` lines stay whole for the pane to truncate.
 */
export function wrapLines(lines: readonly Line[], width: number): Line[] {
  if (width < 8) return [...lines];
  const out: Line[] = [];
  for (const line of lines) {
    const chars = [...line.text];
    if (line.cut || chars.length <= width) {
      out.push(line);
      continue;
    }
    const indent = ' '.repeat(Math.min(/^ */.exec(line.text)![0].length, Math.floor(width / 2)));
    let rest = chars;
    let first = true;
    while (rest.length) {
      const room = first ? width : width - indent.length;
      let take = rest.length;
      if (rest.length > room) {
        const space = rest.lastIndexOf(' ', room);
        take = space > 0 ? space : room;
      }
      const piece = rest.slice(0, take).join('').trimEnd();
      out.push({ ...line, text: first ? piece : indent + piece.trimStart() });
      rest = rest.slice(take);
      while (rest[0] === ' ') rest = rest.slice(1);
      first = false;
    }
  }
  return out;
}

const plain = (text: string): Line => ({ text });
const heading = (text: string): Line => ({ text, bold: true });
const dim = (text: string): Line => ({ text, dim: true });
const time = (iso: string | null | undefined) => (iso ? Date.parse(iso) || 0 : 0);

export function specLines(text: string | null): Line[] {
  if (text === null) return [dim('(the spec file cannot be read)')];
  return textLines(text).map(plain);
}

/** Finding severities that block a merge (shown red, and first). */
const BLOCKING = /block|major|high|error/i;

/** The Review tab: what failed first (failing gates with their evidence, blocking findings), then the rest. */
export function reviewLines(task: TaskRecord, diff: string | null, diffLabel: string): Line[] {
  const lines: Line[] = [];
  const r = task.review;
  lines.push(
    heading(
      `Round ${task.round} · grade ${r?.grade ?? '-'} · verdict ${r?.verdict ?? 'pending'}${
        r?.approvedBy ? ` (approved by ${oneLine(r.approvedBy)})` : ''
      }`,
    ),
  );
  if (task.parked)
    lines.push({ text: `Parked: ${oneLine(task.parked)} — A approves, X rejects`, color: 'yellow' });
  const gateLine = (g: TaskRecord['gates'][number]): Line => ({
    text: `  ${g.passed ? '✓' : '✗'} ${g.name}  ${short(g.durationMs)}`,
    color: g.passed ? 'green' : 'red',
  });
  const evidence = (g: TaskRecord['gates'][number]) => {
    for (const l of textLines(g.evidence.trimEnd())) if (l) lines.push(dim(`      ${l}`));
  };
  const findingLine = (f: NonNullable<typeof r>['findings'][number]): Line => {
    const where = `${f.file}${f.line !== null ? `:${f.line}` : ''}`;
    return {
      text: `  [${oneLine(f.severity)}] ${oneLine(where)}  ${oneLine(f.text)}`,
      color: BLOCKING.test(f.severity) ? 'red' : undefined,
    };
  };
  // What failed comes first: the failing gates with their evidence, and the blocking findings.
  const failed = task.gates.filter((g) => !g.passed);
  const blocking = (r?.findings ?? []).filter((f) => BLOCKING.test(f.severity));
  if (failed.length || blocking.length) {
    lines.push({ text: 'What failed', bold: true, color: 'red' });
    for (const g of failed) {
      lines.push(gateLine(g));
      evidence(g);
    }
    for (const f of blocking) lines.push(findingLine(f));
  }
  if (r?.summary) {
    lines.push(heading('Summary'));
    for (const l of textLines(r.summary)) lines.push(plain(`  ${l}`));
  }
  lines.push(heading(`Gates (${task.gates.length ? task.gates.length : 'none run yet'})`));
  for (const g of task.gates) {
    lines.push(gateLine(g));
    if (g.passed) evidence(g);
    else lines.push(dim('      (its evidence is under What failed)'));
  }
  const others = (r?.findings ?? []).filter((f) => !BLOCKING.test(f.severity));
  if (others.length) {
    lines.push(heading(`Findings (${others.length}${blocking.length ? ` more` : ''})`));
    for (const f of others) lines.push(findingLine(f));
  }
  if (diff === null) {
    lines.push(dim(`No diff file for this round (${diffLabel}).`));
  } else {
    lines.push(heading(`Diff (${diffLabel})`));
    for (const l of textLines(diff.endsWith('\n') ? diff.slice(0, -1) : diff)) {
      const color =
        l.startsWith('+') && !l.startsWith('+++')
          ? 'green'
          : l.startsWith('-') && !l.startsWith('---')
            ? 'red'
            : l.startsWith('@@')
              ? 'cyan'
              : undefined;
      lines.push(color ? { text: l, color, cut: true } : { text: l, cut: true });
    }
  }
  return lines;
}

/** `waits`: why the daemon holds the (pending) task back, shown first (client/waiting.ts). */
export function historyLines(task: TaskRecord, now: number, waits: string | null = null): Line[] {
  // Attempts the provider or the supervisor caused use up none of the spec's: say how many did.
  const charged = chargedAttempts(task.attempts);
  const lines: Line[] = [];
  if (waits) lines.push({ text: `Waits: ${oneLine(waits)}`, color: 'yellow' });
  lines.push(
    heading(`Attempts (${task.attempts.length} run; ${charged} of the spec's ${task.spec.attempts} used)`),
  );
  for (const a of task.attempts) {
    const took = a.endedAt
      ? short(time(a.endedAt) - time(a.startedAt))
      : `${short(now - time(a.startedAt))} so far`;
    const exit = a.exitCode !== null ? ` exit ${a.exitCode}` : '';
    lines.push({
      text: `  #${a.n} ${a.provider}@${a.host}  ${clockTime(a.startedAt)} → ${a.endedAt ? clockTime(a.endedAt) : 'now'} (${took})  ${a.outcome}${exit}`,
      color:
        a.outcome === 'running' || a.outcome === 'collecting'
          ? 'cyan'
          : a.outcome === 'exited'
            ? undefined
            : 'red',
    });
    if (a.usage) lines.push(dim(`      used ${describeUsage(a.usage)}`));
    if (a.reason || a.code) {
      lines.push(
        dim(`      ${a.attribution ?? '?'}${a.code ? ` ${a.code}` : ''}: ${oneLine(a.reason ?? '')}`),
      );
    }
  }
  // Tokens and cost, executors and architect (docs/cost.md).
  const cost = taskUsage(task);
  if (cost.total.calls) {
    lines.push(
      dim(
        `Cost: ${describeTotal(cost.total)}${cost.architect.calls ? ` (architect ${describeTotal(cost.architect)})` : ''}`,
      ),
    );
  }
  if (task.failure) {
    lines.push({
      text: `Failure: [${task.failure.attribution}] ${task.failure.code}: ${oneLine(task.failure.reason)}`,
      color: 'red',
    });
  }
  if (task.merge)
    lines.push({
      text: `Merged ${task.merge.sha.slice(0, 12)} at ${clockTime(task.merge.at)}`,
      color: 'green',
    });
  lines.push(heading(`Transitions (${task.history.length})`));
  for (const h of task.history) {
    lines.push(plain(`  ${clockTime(h.at)}  ${h.from ?? '·'} → ${h.to}  ${oneLine(h.reason)}`));
  }
  lines.push(
    dim(`created ${ago(task.createdAt, now)} from ${oneLine(task.spec.source)} · branch ${task.branch}`),
  );
  return lines;
}

/** One line per event, oldest first. */
export function eventLine(e: NightshiftEvent): Line {
  const task = 'task' in e && e.task ? ` ${e.task}` : '';
  let what = 'reason' in e ? e.reason : '';
  if (e.type === 'task.transition') what = `${e.from} → ${e.to}: ${e.reason}`;
  if (e.type === 'provider.probe') what = `${e.provider}@${e.host} ${e.ok ? 'ok' : 'FAILED'}: ${e.reason}`;
  if (e.type === 'request.applied') what = `${e.kind} ${e.ok ? 'ok' : 'refused'}: ${e.reason}`;
  const bad =
    (e.type === 'task.transition' && e.to === 'failed') ||
    (e.type === 'provider.probe' && !e.ok) ||
    (e.type === 'request.applied' && !e.ok) ||
    e.type === 'queue.refused' ||
    e.type === 'monitor.breaker';
  return {
    text: `${clockTime(e.time)} ${e.type}${task}  ${oneLine(what)}`,
    ...(bad ? { color: 'red' } : e.type === 'task.transition' && e.to === 'done' ? { color: 'green' } : {}),
  };
}

export function eventTask(e: NightshiftEvent): string | null {
  return 'task' in e && typeof e.task === 'string' ? e.task : null;
}
