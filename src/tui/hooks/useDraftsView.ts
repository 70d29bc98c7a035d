/**
 * What the Drafts view shows: the drafts in specs/drafts/ (read while the view is open; a handful of
 * small files), the one under the cursor, and — when reading — its text sliced to the height.
 */
import type { TuiSource } from '../../client/live/source.js';
import type { DraftRow } from '../../client/drafts.js';
import type { UiState } from '../state/ui.js';

export interface DraftsView {
  rows: readonly DraftRow[];
  cursor: number;
  selected: DraftRow | null;
  /** The selected draft's lines from `first` (reading), else empty. */
  text: { all: readonly string[]; visible: readonly string[]; first: number };
}

const EMPTY: DraftsView = { rows: [], cursor: 0, selected: null, text: { all: [], visible: [], first: 0 } };

export function draftsView(source: TuiSource, ui: UiState, height: number): DraftsView {
  const modal = ui.modal;
  if (modal?.kind !== 'drafts' || !source.drafts) return EMPTY;
  const rows = source.drafts.list();
  const cursor = Math.min(modal.cursor, Math.max(0, rows.length - 1));
  const selected = rows[cursor] ?? null;
  if (!modal.reading || !selected) return { rows, cursor, selected, text: EMPTY.text };
  const all = source.drafts.text(selected.name).split('\n');
  const first = Math.max(0, Math.min(modal.scroll, all.length - height));
  return { rows, cursor, selected, text: { all, visible: all.slice(first, first + height), first } };
}
