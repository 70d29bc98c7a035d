/**
 * The board: tasks grouped by state, filtered, sorted, and windowed. Everything here is pure and
 * works on the whole list once per change; only the visible window is ever handed to Ink.
 */
import type { TaskRecord, TaskState } from '../../core/task.js';
import { BOARD_ORDER } from '../theme/theme.js';
import { fit, oneLine, short } from './format.js';

export type BoardRow =
  { kind: 'header'; state: TaskState; count: number } | { kind: 'task'; task: TaskRecord };

export type Move = 'down' | 'up' | 'pageDown' | 'pageUp' | 'top' | 'bottom';

const lastAttempt = (t: TaskRecord) => t.attempts.at(-1) ?? null;

/** Case-insensitive substring match on id, title, state, provider and host of the last attempt. */
export function matchesFilter(task: TaskRecord, filter: string): boolean {
  const f = filter.trim().toLowerCase();
  if (!f) return true;
  const a = lastAttempt(task);
  return [task.id, task.title, task.state, a?.provider ?? task.spec.provider ?? '', a?.host ?? ''].some((s) =>
    s.toLowerCase().includes(f),
  );
}

const time = (iso: string | null | undefined) => (iso ? Date.parse(iso) || 0 : 0);

/** Ids in natural order (t2 before t10), the tie-break of tasks with the same times. */
const ids = new Intl.Collator('en', { numeric: true });

const ORDER: Readonly<Record<TaskState, (a: TaskRecord, b: TaskRecord) => number>> = {
  running: (a, b) =>
    time(lastAttempt(a)?.startedAt) - time(lastAttempt(b)?.startedAt) || ids.compare(a.id, b.id),
  review: (a, b) => time(a.updatedAt) - time(b.updatedAt) || ids.compare(a.id, b.id),
  pending: (a, b) =>
    b.spec.priority - a.spec.priority || time(a.createdAt) - time(b.createdAt) || ids.compare(a.id, b.id),
  failed: (a, b) => time(b.updatedAt) - time(a.updatedAt) || ids.compare(a.id, b.id),
  done: (a, b) =>
    time(b.merge?.at ?? b.updatedAt) - time(a.merge?.at ?? a.updatedAt) || ids.compare(a.id, b.id),
};

/** Header and task rows in board order; empty groups are left out. */
export function boardRows(tasks: readonly TaskRecord[], filter: string): BoardRow[] {
  const groups = new Map<TaskState, TaskRecord[]>(BOARD_ORDER.map((s) => [s, []]));
  for (const task of tasks) if (matchesFilter(task, filter)) groups.get(task.state)?.push(task);
  const rows: BoardRow[] = [];
  for (const state of BOARD_ORDER) {
    const list = groups.get(state) ?? [];
    if (!list.length) continue;
    list.sort(ORDER[state]);
    rows.push({ kind: 'header', state, count: list.length });
    for (const task of list) rows.push({ kind: 'task', task });
  }
  return rows;
}

export function rowIndexOf(rows: readonly BoardRow[], id: string | null): number {
  if (id === null) return -1;
  return rows.findIndex((r) => r.kind === 'task' && r.task.id === id);
}

/** The selection as shown: the stored id while it is on the board, else the first task. */
export function effectiveSelection(rows: readonly BoardRow[], selected: string | null): string | null {
  if (rowIndexOf(rows, selected) >= 0) return selected;
  const first = rows.find((r) => r.kind === 'task');
  return first?.kind === 'task' ? first.task.id : null;
}

function nearestTask(rows: readonly BoardRow[], from: number, step: 1 | -1): number {
  for (let i = from; i >= 0 && i < rows.length; i += step) if (rows[i]?.kind === 'task') return i;
  for (let i = from - step; i >= 0 && i < rows.length; i -= step) if (rows[i]?.kind === 'task') return i;
  return -1;
}

/** The task a move lands on (skipping group headers). */
export function moveSelection(
  rows: readonly BoardRow[],
  selected: string | null,
  move: Move,
  height: number,
): string | null {
  const current = rowIndexOf(rows, effectiveSelection(rows, selected));
  if (current < 0) return null;
  const page = Math.max(1, height - 1);
  const target: Record<Move, [number, 1 | -1]> = {
    down: [current + 1, 1],
    up: [current - 1, -1],
    pageDown: [Math.min(rows.length - 1, current + page), 1],
    pageUp: [Math.max(0, current - page), -1],
    top: [0, 1],
    bottom: [rows.length - 1, -1],
  };
  const [from, step] = target[move];
  const clamped = Math.min(rows.length - 1, Math.max(0, from));
  const index = nearestTask(rows, clamped, step);
  const row = rows[index];
  return row?.kind === 'task' ? row.task.id : selected;
}

/**
 * First visible row: the previous top (`hint`) when the cursor is still inside the window, else just
 * enough scrolling to show it — and the header of the first group when the cursor is at the top.
 */
export function windowStart(total: number, cursor: number, height: number, hint: number): number {
  if (height <= 0 || total <= height) return 0;
  let top = Math.min(Math.max(hint, cursor - height + 1), Math.max(0, cursor));
  if (cursor <= 1) top = 0;
  return Math.max(0, Math.min(top, total - height));
}

/** Which tasks a window of the board shows: "20–38 of 50", and whether more lie above or below. */
export interface BoardRange {
  first: number;
  last: number;
  total: number;
  above: boolean;
  below: boolean;
}

/** The tasks (1-based, in board order) in rows[top, top + height); null when every row fits. */
export function boardRange(rows: readonly BoardRow[], top: number, height: number): BoardRange | null {
  if (rows.length <= height) return null;
  let before = 0;
  let inView = 0;
  let total = 0;
  rows.forEach((r, i) => {
    if (r.kind !== 'task') return;
    total++;
    if (i < top) before++;
    else if (i < top + height) inView++;
  });
  return {
    first: before + 1,
    last: before + inView,
    total,
    above: top > 0,
    below: top + height < rows.length,
  };
}

/** "20–38 of 50 ↑↓": the title's marker of a board that does not fit. */
export function rangeText(range: BoardRange | null): string {
  if (!range) return '';
  const arrows = `${range.above ? '↑' : ''}${range.below ? '↓' : ''}`;
  const span = range.last >= range.first ? `${range.first}–${range.last}` : `${range.first - 1}`;
  return `${span} of ${range.total}${arrows ? ` ${arrows}` : ''}`;
}

/** The elapsed time a row shows: in this state so far, or (done) from queueing to merge. */
export function elapsedMs(task: TaskRecord, now: number): number | null {
  if (task.state === 'done') return time(task.merge?.at ?? task.updatedAt) - time(task.createdAt);
  if (task.state === 'running') {
    const started = lastAttempt(task)?.startedAt;
    return started ? now - time(started) : null;
  }
  const since = task.history.at(-1)?.at ?? task.updatedAt;
  return now - time(since);
}

export function whereText(task: TaskRecord): string {
  const a = lastAttempt(task);
  if (a) return `${a.provider}@${a.host}`;
  return task.spec.provider ? `${task.spec.provider}@?` : '-';
}

/**
 * One board row as fixed-width text (glyph drawn separately): id, title, where, attempt, elapsed, grade.
 * A pending task the daemon holds back shows why in place of where (`waits`, client/waiting.ts).
 */
export function taskRowText(
  task: TaskRecord,
  now: number,
  width: number,
  waits: string | null = null,
): string {
  const id = fit(task.id, Math.min(20, Math.max(8, Math.floor(width / 5))));
  const attempt = fit(task.attempts.length ? `#${task.attempts.length}` : '', 3);
  const elapsed = fit(short(elapsedMs(task, now)), 6);
  const grade = fit(task.review?.grade ?? (task.parked ? '!' : '-'), 2);
  // Under 48 columns (the board of an 80-column terminal) the title needs the room more than provider@host does.
  const where = width >= 48 ? `${fit(waits ? oneLine(waits) : whereText(task), width >= 70 ? 18 : 12)} ` : '';
  const fixed = [...id].length + 1 + [...where].length + 3 + 1 + 6 + 1 + 2 + 1;
  const title = fit(oneLine(task.title), Math.max(4, width - fixed));
  return fit(`${id} ${title} ${where}${attempt} ${elapsed} ${grade}`, width);
}
