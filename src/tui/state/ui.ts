/**
 * The TUI's own state (what is focused, selected, open), changed only by this reducer. Data from the
 * workspace is not copied in here: it is derived from the snapshot at render time.
 */
import { assertNever } from '../../lib/assert.js';
import type { Request } from '../../client/live/source.js';
import { MAIN_PANES, type Pane } from '../keys/bindings.js';
import type { Tone } from '../theme/theme.js';

export const DETAIL_TABS = ['spec', 'executor', 'review', 'history'] as const;
export type DetailTab = (typeof DETAIL_TABS)[number];

export const TAB_TITLES: Readonly<Record<DetailTab, string>> = {
  spec: 'Spec',
  executor: 'Executor',
  review: 'Review',
  history: 'History',
};

/** A dangerous request waiting for a yes: the dialog names the task and where it runs. */
export interface ConfirmTarget {
  command: 'kill' | 'retry' | 'approve' | 'reject';
  /** "Kill http-backoff on oci?" */
  question: string;
  /** One more line of context (state, attempt, reason). */
  detail: string;
  request: Request;
}

export type Modal =
  | { kind: 'help'; scroll: number }
  | { kind: 'confirm'; target: ConfirmTarget; choice: 'cancel' | 'confirm' }
  | { kind: 'gates'; cursor: number }
  /** The Drafts view: a list, or (reading) the selected draft's text scrolled by `scroll`. */
  | { kind: 'drafts'; cursor: number; reading: boolean; scroll: number };

export interface Status {
  text: string;
  tone: Tone;
  /** When it was said (the source's clock): it shows for STATUS_TTL_MS of its tone. */
  at: number;
}

/** How long a status message stays: outcomes a few seconds, errors long enough to read twice. */
export const STATUS_TTL_MS: Readonly<Record<Tone, number>> = {
  info: 6000,
  ok: 6000,
  warn: 10_000,
  error: 20_000,
};

/** The status line's message at `now`, or null once it has expired. */
export function visibleStatus(status: Status | null, now: number): Status | null {
  return status && now - status.at < STATUS_TTL_MS[status.tone] ? status : null;
}

export interface UiState {
  focus: Pane;
  /** The selected task's id (the board shows the first task while this one is not on it). */
  selected: string | null;
  /** The board's first visible row last time (a hint: the cursor always stays visible). */
  boardTop: number;
  tab: DetailTab;
  detailScroll: number;
  /** The detail fills the screen (z). */
  zoom: boolean;
  providerCursor: number;
  /** Lines scrolled up from the newest event; 0 follows the tail. */
  eventsBack: number;
  /** The Architect view's lists (waiting, verdicts, triage): lines scrolled down from the top. */
  architectScroll: number;
  filter: string;
  filterEditing: boolean;
  modal: Modal | null;
  status: Status | null;
  /** When Ctrl+C was pressed last (a second press within the window quits). */
  ctrlCAt: number | null;
  /** When D asked for a daemon that has not shown up yet. */
  daemonRequestedAt: number | null;
}

export type UiAction =
  | { type: 'focus'; pane: Pane }
  | { type: 'cyclePane'; delta: 1 | -1 }
  | { type: 'select'; id: string | null; top: number }
  | { type: 'setTab'; tab: DetailTab }
  | { type: 'cycleTab'; delta: 1 | -1 }
  | { type: 'zoom'; on: boolean }
  | { type: 'scrollDetail'; to: number }
  | { type: 'scrollEvents'; back: number }
  | { type: 'scrollArchitect'; to: number }
  | { type: 'providerCursor'; index: number }
  | { type: 'filterStart' }
  | { type: 'filterType'; text: string }
  | { type: 'filterErase' }
  | { type: 'filterAccept' }
  /** `keep`: the task the board shows selected now, which stays selected on the whole board. */
  | { type: 'filterClear'; keep: string | null }
  | { type: 'openHelp' }
  | { type: 'scrollHelp'; to: number }
  | { type: 'openConfirm'; target: ConfirmTarget }
  | { type: 'switchChoice' }
  | { type: 'openGates' }
  | { type: 'gatesCursor'; index: number }
  | { type: 'openDrafts' }
  | { type: 'draftsCursor'; index: number }
  | { type: 'draftsRead'; reading: boolean }
  | { type: 'draftsScroll'; to: number }
  | { type: 'closeModal' }
  | { type: 'status'; text: string; tone: Tone; at: number }
  | { type: 'ctrlC'; at: number }
  | { type: 'daemonRequested'; at: number | null };

export const CTRL_C_WINDOW_MS = 2000;

export function initialUiState(): UiState {
  return {
    focus: 'board',
    selected: null,
    boardTop: 0,
    tab: 'spec',
    detailScroll: 0,
    zoom: false,
    providerCursor: 0,
    eventsBack: 0,
    architectScroll: 0,
    filter: '',
    filterEditing: false,
    modal: null,
    status: null,
    ctrlCAt: null,
    daemonRequestedAt: null,
  };
}

const cycle = <T>(list: readonly T[], current: T, delta: 1 | -1): T =>
  list[(list.indexOf(current) + delta + list.length) % list.length] ?? current;

export function uiReducer(s: UiState, a: UiAction): UiState {
  switch (a.type) {
    case 'focus':
      // Another pane ends the zoom: it is not on the screen while the detail fills it.
      return { ...s, focus: a.pane, zoom: s.zoom && a.pane === 'detail' };
    case 'cyclePane':
      return { ...s, focus: cycle(MAIN_PANES, s.focus, a.delta), zoom: false };
    case 'select':
      return {
        ...s,
        selected: a.id,
        boardTop: Math.max(0, a.top),
        detailScroll: a.id === s.selected ? s.detailScroll : 0,
      };
    case 'setTab':
      return { ...s, tab: a.tab, detailScroll: a.tab === s.tab ? s.detailScroll : 0 };
    case 'cycleTab':
      return { ...s, tab: cycle(DETAIL_TABS, s.tab, a.delta), detailScroll: 0 };
    case 'zoom':
      // Zoomed, the keys go to the detail (j/k scroll it, [ ] switch tabs); back on the board after.
      return {
        ...s,
        zoom: a.on,
        focus: a.on ? 'detail' : s.focus === 'detail' ? 'board' : s.focus,
        detailScroll: 0,
      };
    case 'scrollDetail':
      return { ...s, detailScroll: Math.max(0, a.to) };
    case 'scrollEvents':
      return { ...s, eventsBack: Math.max(0, a.back) };
    case 'scrollArchitect':
      return { ...s, architectScroll: Math.max(0, a.to) };
    case 'providerCursor':
      return { ...s, providerCursor: Math.max(0, a.index) };
    case 'filterStart':
      return { ...s, filterEditing: true, focus: 'board', boardTop: 0 };
    case 'filterType':
      return { ...s, filter: s.filter + a.text, boardTop: 0 };
    case 'filterErase':
      return { ...s, filter: [...s.filter].slice(0, -1).join(''), boardTop: 0 };
    case 'filterAccept':
      return { ...s, filterEditing: false };
    case 'filterClear':
      return { ...s, filter: '', filterEditing: false, boardTop: 0, selected: a.keep ?? s.selected };
    case 'openHelp':
      return { ...s, modal: { kind: 'help', scroll: 0 } };
    case 'scrollHelp':
      return s.modal?.kind === 'help' ? { ...s, modal: { ...s.modal, scroll: Math.max(0, a.to) } } : s;
    case 'openConfirm':
      // Always starts on Cancel: Enter straight after the key does nothing harmful.
      return { ...s, modal: { kind: 'confirm', target: a.target, choice: 'cancel' } };
    case 'switchChoice':
      return s.modal?.kind === 'confirm'
        ? { ...s, modal: { ...s.modal, choice: s.modal.choice === 'cancel' ? 'confirm' : 'cancel' } }
        : s;
    case 'openGates':
      return { ...s, modal: { kind: 'gates', cursor: 0 } };
    case 'gatesCursor':
      return s.modal?.kind === 'gates' ? { ...s, modal: { ...s.modal, cursor: Math.max(0, a.index) } } : s;
    case 'openDrafts':
      return { ...s, modal: { kind: 'drafts', cursor: 0, reading: false, scroll: 0 } };
    case 'draftsCursor':
      return s.modal?.kind === 'drafts'
        ? { ...s, modal: { ...s.modal, cursor: Math.max(0, a.index), scroll: 0 } }
        : s;
    case 'draftsRead':
      return s.modal?.kind === 'drafts' ? { ...s, modal: { ...s.modal, reading: a.reading, scroll: 0 } } : s;
    case 'draftsScroll':
      return s.modal?.kind === 'drafts' ? { ...s, modal: { ...s.modal, scroll: Math.max(0, a.to) } } : s;
    case 'closeModal':
      return { ...s, modal: null };
    case 'status':
      return { ...s, status: { text: a.text, tone: a.tone, at: a.at } };
    case 'ctrlC':
      return {
        ...s,
        ctrlCAt: a.at,
        status: { text: 'Press Ctrl+C again to quit (q quits too)', tone: 'warn', at: a.at },
      };
    case 'daemonRequested':
      return { ...s, daemonRequestedAt: a.at };
    default:
      return assertNever(a, 'ui action');
  }
}

/** Whether a Ctrl+C at `now` is the second one in the window. */
export function isSecondCtrlC(s: UiState, now: number): boolean {
  return s.ctrlCAt !== null && now - s.ctrlCAt <= CTRL_C_WINDOW_MS;
}
