/**
 * The Architect view's lines (docs/architect.md, "The Architect view"), from the read model
 * (client/architect.ts): the review in progress as a title, the tasks waiting and the recent verdicts
 * as one list, the triage notes as another. Every text here can hold an executor's words (a task's
 * title, a verdict's summary quoting output, a note): each goes through oneLine/textLines, which make
 * control characters visible, so nothing can drive the terminal.
 */
import type { ArchitectModel } from '../../client/architect.js';
import type { Line } from './detail.js';
import { ago, clockTime, oneLine, textLines } from './format.js';

/** The review pane's title and subtitle. */
export function architectTitle(model: ArchitectModel): { title: string; subtitle: string } {
  const c = model.current;
  if (!c) {
    const last = model.verdicts[0];
    return {
      title: 'no review in progress',
      subtitle: last
        ? `last verdict: ${oneLine(last.task)} ${last.verdict} (${last.grade ?? '-'}) at ${clockTime(last.time)}`
        : 'the architect has not reviewed anything yet',
    };
  }
  const where = c.session
    ? `tmux session ${oneLine(c.session)} (a attaches)`
    : c.stream
      ? oneLine(c.stream)
      : 'no live text';
  return {
    title: `reviewing ${oneLine(c.task)}, round ${c.round + 1} (${oneLine(c.mode)}) since ${clockTime(c.time)}`,
    subtitle: `${oneLine(c.reason)} · ${where}`,
  };
}

const VERDICT_COLOR: Readonly<Record<string, string>> = {
  approve: 'green',
  changes: 'yellow',
  reject: 'red',
  unavailable: 'red',
};

/** Waiting tasks, then recent verdicts with grades. */
export function architectQueueLines(model: ArchitectModel, now: number): Line[] {
  const lines: Line[] = [{ text: `Waiting for review (${model.waiting.length})`, bold: true }];
  if (!model.waiting.length) lines.push({ text: '  none', dim: true });
  for (const w of model.waiting)
    lines.push({ text: `  ${oneLine(w.id)}  ${oneLine(w.title)}  (${ago(w.since, now)})` });
  lines.push({ text: `Recent verdicts (${model.verdicts.length})`, bold: true });
  if (!model.verdicts.length) lines.push({ text: '  none yet', dim: true });
  for (const v of model.verdicts) {
    const color = VERDICT_COLOR[v.verdict];
    lines.push({
      text: `  ${clockTime(v.time)} ${oneLine(v.task)} r${v.round + 1}  ${oneLine(v.grade ?? '-')}  ${oneLine(v.verdict)}  ${oneLine(v.reason)}`,
      ...(color ? { color } : {}),
    });
  }
  return lines;
}

/** `text` in pieces of at most `width` code points. */
function wrap(text: string, width: number): string[] {
  const chars = [...text];
  if (width <= 0 || chars.length <= width) return [text];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += width) out.push(chars.slice(i, i + width).join(''));
  return out;
}

/** The triage log, newest first: a time line, then the note's lines, wrapped to `width` columns. */
export function triageLines(model: ArchitectModel, width: number): Line[] {
  if (!model.triage.length)
    return [{ text: 'no triage notes (architect.triage: true asks for one after a bad cycle)', dim: true }];
  const lines: Line[] = [];
  for (const t of model.triage) {
    const failed = t.note.startsWith('no note:') || t.note.startsWith('triage is off:');
    lines.push({ text: clockTime(t.time), bold: true, ...(failed ? { color: 'yellow' } : {}) });
    for (const l of textLines(t.note)) for (const w of wrap(l, width - 2)) lines.push({ text: `  ${w}` });
  }
  return lines;
}
