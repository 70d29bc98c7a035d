/**
 * The morning report's "Triage" section: the architect's notes on the night's bad monitor cycles
 * (`architect.triage` events; docs/architect.md, "Triage"), oldest first. A note is the model's words
 * about executors' words: untrusted, escaped by each format like every other text.
 */
import type { NightshiftEvent } from '../../core/events.js';
import { escapeHtml, escapeMarkdown, shortTime } from './text.js';

export interface TriageNote {
  at: string;
  note: string;
}

export function triageNotes(
  events: readonly NightshiftEvent[],
  inWindow: (iso: string | null | undefined) => boolean,
): TriageNote[] {
  return events.flatMap((e) =>
    e.type === 'architect.triage' && inWindow(e.time) ? [{ at: e.time, note: e.reason }] : [],
  );
}

export function triageMarkdown(notes: readonly TriageNote[] | undefined): string[] {
  if (!notes?.length) return [];
  const out = ['## Triage', ''];
  for (const n of notes) {
    const lines = n.note.split(/\r?\n/).filter((l) => l.trim());
    out.push(`- ${shortTime(n.at)}: ${lines.map(escapeMarkdown).join(' / ')}`);
  }
  out.push('');
  return out;
}

export function triageHtml(notes: readonly TriageNote[] | undefined): string[] {
  if (!notes?.length) return [];
  const items = notes.map(
    (n) =>
      `<li><b>${escapeHtml(shortTime(n.at))}</b> ${n.note
        .split(/\r?\n/)
        .map((l) => escapeHtml(l))
        .join('<br>')}</li>`,
  );
  return ['<h2>Triage</h2>', `<ul>${items.join('')}</ul>`];
}
