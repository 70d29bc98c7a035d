/**
 * What needs the reader, first in the report: each failed or parked task, why in words for a person, and
 * the exact command or TUI key that acts on it. Which action applies is `can()` (core/can.ts), the one
 * decision the request applier and the TUI ask too.
 */
import { can } from '../../core/can.js';
import { PARK_NEEDS_PERSON } from '../../core/park.js';
import type { TaskRecord } from '../../core/task.js';
import { FAILED_TODO, FAILED_TODO_BY_CODE, FAILURE_WORDS, PARK_WORDS } from './attention-words.js';
import type { ActionHint, AttentionItem } from './model.js';
import { escapeHtml as esc, escapeMarkdown as md } from './text.js';

/**
 * The TUI's keys for these requests on the selected task. They are tui/keys/bindings.ts's (`global`
 * scope); client/ may not import tui/, so a unit test holds the two equal.
 */
export const TUI_KEYS: Readonly<Record<ActionHint['action'], string>> = {
  approve: 'A',
  reject: 'X',
  retry: 'r',
};

function hint(task: TaskRecord, action: ActionHint['action']): ActionHint[] {
  return can(task, action).ok
    ? [{ action, command: `nightshift ${action} ${task.id}`, key: TUI_KEYS[action] }]
    : [];
}

const failedGates = (t: TaskRecord): string[] => t.gates.filter((g) => !g.passed).map((g) => g.name);

function fill(text: string, t: TaskRecord): string {
  return text.replaceAll('<branch>', `ns/${t.id}`).replaceAll('<id>', t.id).replaceAll('<repo>', t.spec.repo);
}

/**
 * The failed and parked tasks among `tasks`: first those a person must act on (parked before failed),
 * then the parks that resume by themselves; oldest update first within each.
 */
export function attentionOf(
  tasks: readonly TaskRecord[],
  parkReasons: ReadonlyMap<string, { reason: string }>,
): AttentionItem[] {
  const items: (AttentionItem & { at: string })[] = [];
  for (const t of tasks) {
    if (t.parked) {
      const words = PARK_WORDS[t.parked];
      const needsPerson = PARK_NEEDS_PERSON[t.parked];
      items.push({
        id: t.id,
        title: t.title,
        state: t.state,
        parked: t.parked,
        failureCode: null,
        needsPerson,
        what: fill(words.what, t),
        detail: parkReasons.get(t.id)?.reason ?? null,
        failedGates: failedGates(t),
        todo: fill(words.todo, t),
        actions: needsPerson ? [...hint(t, 'approve'), ...hint(t, 'reject')] : [],
        at: t.updatedAt,
      });
    } else if (t.state === 'failed') {
      const code = t.failure?.code ?? null;
      const todo = (code && FAILED_TODO_BY_CODE[code]) ?? FAILED_TODO[t.failure?.attribution ?? 'spec'];
      items.push({
        id: t.id,
        title: t.title,
        state: t.state,
        parked: null,
        failureCode: code,
        needsPerson: true,
        what: code ? FAILURE_WORDS[code] : 'It failed.',
        detail: t.failure?.reason ?? t.history.findLast((h) => h.to === 'failed')?.reason ?? null,
        failedGates: failedGates(t),
        todo: fill(todo, t),
        actions: hint(t, 'retry'),
        at: t.updatedAt,
      });
    }
  }
  items.sort(
    (a, b) =>
      Number(b.needsPerson) - Number(a.needsPerson) ||
      Number(b.parked !== null) - Number(a.parked !== null) ||
      a.at.localeCompare(b.at) ||
      a.id.localeCompare(b.id),
  );
  return items.map(({ at: _at, ...item }) => item);
}

const stateText = (a: AttentionItem): string =>
  a.parked
    ? `${a.state === 'review' ? 'in review' : a.state}, parked (${a.parked})`
    : `failed (${a.failureCode ?? '?'})`;

/** A code span for text of plain characters (ids are a-z, 0-9 and "-"); escaped text otherwise. */
const mdCode = (text: string): string => (/^[\w .:/-]+$/.test(text) ? `\`${text}\`` : md(text));

export function attentionMarkdown(items: readonly AttentionItem[]): string[] {
  const urgent = items.filter((a) => a.needsPerson);
  const waiting = items.filter((a) => !a.needsPerson);
  const out = ['## Needs you', ''];
  if (urgent.length === 0)
    out.push('Nothing needs you: no task in this window failed or waits for a person.', '');
  urgent.forEach((a, i) => {
    out.push(`${i + 1}. **${md(a.title)}** (${md(a.id)}): ${md(stateText(a))}`);
    out.push(`   - what happened: ${md(a.what)}`);
    if (a.detail) out.push(`   - recorded: ${md(a.detail)}`);
    if (a.failedGates.length) out.push(`   - failed gates: ${a.failedGates.map(md).join(', ')}`);
    out.push(`   - to do: ${md(a.todo)}`);
    if (a.actions.length) {
      const commands = a.actions.map((h) => mdCode(h.command)).join(' or ');
      const keys = a.actions.map((h) => `${mdCode(h.key)} (${h.action})`).join(', ');
      out.push(`   - act: ${commands}; in the TUI, on its row: ${keys}`);
    }
  });
  if (urgent.length) out.push('');
  if (waiting.length) {
    out.push('Waiting, and will go on by itself:', '');
    for (const a of waiting) {
      const detail = a.detail ? ` (${md(a.detail)})` : '';
      out.push(
        `- **${md(a.title)}** (${md(a.id)}): ${md(stateText(a))}. ${md(a.what)}${detail} ${md(a.todo)}`,
      );
    }
    out.push('');
  }
  return out;
}

export function attentionHtml(items: readonly AttentionItem[]): string {
  const urgent = items.filter((a) => a.needsPerson);
  const waiting = items.filter((a) => !a.needsPerson);
  const parts = ['<section class="attention">', '<h2>Needs you</h2>'];
  if (urgent.length === 0)
    parts.push(
      '<p class="muted">Nothing needs you: no task in this window failed or waits for a person.</p>',
    );
  else {
    const rows = urgent.map((a) => {
      const act = a.actions.length
        ? `<p class="act">${a.actions.map((h) => `<code>${esc(h.command)}</code>`).join(' or ')}` +
          `<span class="muted"> · in the TUI, on its row: </span>` +
          `${a.actions.map((h) => `<kbd>${esc(h.key)}</kbd> ${esc(h.action)}`).join(', ')}</p>`
        : '';
      return (
        `<li><b>${esc(a.title)}</b> <code>${esc(a.id)}</code> <span class="state-${esc(a.state)}">${esc(stateText(a))}</span>` +
        `<p>${esc(a.what)}${a.detail ? ` <span class="muted">Recorded: ${esc(a.detail)}</span>` : ''}</p>` +
        (a.failedGates.length
          ? `<p>Failed gates: ${a.failedGates.map((g) => `<b>${esc(g)}</b>`).join(', ')}</p>`
          : '') +
        `<p>${esc(a.todo)}</p>${act}</li>`
      );
    });
    parts.push(`<ol>${rows.join('')}</ol>`);
  }
  if (waiting.length) {
    const rows = waiting.map(
      (a) =>
        `<li><b>${esc(a.title)}</b> <code>${esc(a.id)}</code> ${esc(stateText(a))}: ${esc(a.what)} ` +
        `${a.detail ? `<span class="muted">(${esc(a.detail)})</span> ` : ''}${esc(a.todo)}</li>`,
    );
    parts.push('<p>Waiting, and will go on by itself:</p>', `<ul>${rows.join('')}</ul>`);
  }
  parts.push('</section>');
  return parts.join('\n');
}
