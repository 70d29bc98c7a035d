/**
 * Everything the screen shows, derived from the snapshot, the UI state and the clock. The expensive
 * parts (grouping 1,000 tasks, building a diff's lines) are memoized on their inputs; every pane gets
 * only the slice that fits.
 */
import { useMemo } from 'react';
import type { TaskRecord } from '../../core/task.js';
import type { LiveTarget, TuiSnapshot, TuiSource } from '../../client/live/source.js';
import { disabledReason, type KeyContext } from '../keys/availability.js';
import type { Scope } from '../keys/bindings.js';
import { footerItems, helpLines, type FooterItem } from '../keys/docs.js';
import {
  boardRange,
  boardRows,
  effectiveSelection,
  rowIndexOf,
  windowStart,
  type BoardRange,
  type BoardRow,
} from '../state/board.js';
import {
  eventLine,
  eventTask,
  historyLines,
  reviewLines,
  specLines,
  wrapLines,
  type Line,
} from '../state/detail.js';
import { computeLayout, providersPaneLines, zoomLayout, type Layout } from '../state/layout.js';
import type { UiState } from '../state/ui.js';
import {
  daemonStartedSince,
  gateEnabled,
  headerView,
  hostRows,
  providerRows,
  type HeaderView,
  type HostRowView,
  type ProviderRowView,
} from '../state/view.js';
import type { GateMenuItem } from '../components/Dialogs.js';
import { draftsView, type DraftsView } from './useDraftsView.js';
import { useArchitectLive, useLiveView } from './useLiveView.js';
import { architectModel } from '../../client/architect.js';
import { waitingReason } from '../../client/waiting.js';
import { architectQueueLines, architectTitle, triageLines } from '../state/architect.js';
import { plural } from '../../lib/plural.js';

const NO_WAITING: Readonly<Record<string, string>> = {};

/** How long "starting the daemon…" shows before the header says it did not come up. */
export const DAEMON_START_WAIT_MS = 15_000;

export interface Slice<T> {
  all: readonly T[];
  visible: readonly T[];
  first: number;
}

export interface ScreenView {
  /** The layout as drawn: zoomLayout() of the screen's while the detail is zoomed. */
  layout: Layout;
  zoomed: boolean;
  rows: readonly BoardRow[];
  boardTop: number;
  visibleRows: readonly BoardRow[];
  /** Why each pending task waits (the daemon's dispatch pass), for the board's rows. */
  waiting: Readonly<Record<string, string>>;
  /** Which tasks the board shows when they do not all fit. */
  boardRange: BoardRange | null;
  shown: number;
  selectedId: string | null;
  task: TaskRecord | null;
  header: HeaderView;
  providers: readonly ProviderRowView[];
  hosts: readonly HostRowView[];
  selectedProvider: ProviderRowView | null;
  detail: Slice<Line> & { subtitle: string; subtitleColor?: string };
  events: Slice<Line> & { cursorTask: string | null };
  help: Slice<{ text: string; heading: boolean }>;
  drafts: DraftsView;
  gates: readonly GateMenuItem[];
  liveTarget: LiveTarget | null;
  /** The Architect view (key 5), built only while it is shown. */
  architect: ArchitectScreen | null;
  keyContext: KeyContext;
  scope: Scope;
  footer: readonly FooterItem[];
}

export interface ArchitectScreen {
  title: string;
  subtitle: string;
  subtitleColor?: string;
  live: readonly Line[];
  queue: readonly Line[];
  triage: Slice<Line>;
  topH: number;
  bottomH: number;
}

function slice<T>(all: readonly T[], first: number, height: number): Slice<T> {
  const start = Math.max(0, Math.min(first, all.length - height));
  return { all, visible: all.slice(start, start + Math.max(0, height)), first: start };
}

function liveTargetOf(task: TaskRecord | null): LiveTarget | null {
  const a = task?.attempts.at(-1);
  if (!task || !a) return null;
  return {
    taskId: task.id,
    attempt: a.n,
    host: a.host,
    running: task.state === 'running' && a.outcome === 'running',
  };
}

export function useScreenView(
  source: TuiSource,
  snap: TuiSnapshot,
  ui: UiState,
  now: number,
  size: { rows: number; cols: number },
  readOnly: boolean,
): ScreenView {
  const rows = useMemo(() => boardRows(snap.tasks, ui.filter), [snap.tasks, ui.filter]);
  const shown = useMemo(() => rows.filter((r) => r.kind === 'task').length, [rows]);
  const selectedId = effectiveSelection(rows, ui.selected);
  const cursor = rowIndexOf(rows, selectedId);
  const selectedRow = rows[cursor];
  const task = selectedRow?.kind === 'task' ? selectedRow.task : null;

  const providers = useMemo(() => providerRows(snap, now), [snap, now]);
  const hosts = useMemo(() => hostRows(snap), [snap]);
  const base = computeLayout(size, providersPaneLines(providers.length, hosts.length));
  // Zoomed (z), the detail takes the whole body; the board keeps its own layout for moves.
  const zoomed = ui.zoom && !base.tooSmall;
  const layout = zoomed ? zoomLayout(base) : base;
  const boardTop = windowStart(rows.length, Math.max(0, cursor), base.boardBody, ui.boardTop);
  const selectedProvider = providers[Math.min(ui.providerCursor, providers.length - 1)] ?? null;

  const daemonRequested =
    ui.daemonRequestedAt !== null && !snap.daemon && now - ui.daemonRequestedAt < DAEMON_START_WAIT_MS;
  // Failed: asked for, not there after the wait, and never seen starting since (one that started and
  // then stopped says so itself, from the event log).
  const daemonFailed =
    ui.daemonRequestedAt !== null &&
    !snap.daemon &&
    !daemonRequested &&
    !daemonStartedSince(snap.events, ui.daemonRequestedAt);
  const header = headerView(snap, now, { readOnly, daemonRequested, daemonFailed });

  const liveTarget = ui.tab === 'executor' ? liveTargetOf(task) : null;
  const live = useLiveView(source, liveTarget, { cols: layout.detailText, rows: layout.detailBody });
  const specText = useMemo(
    () => (ui.tab === 'spec' && task ? source.specText(task.id) : null),
    [source, ui.tab, task],
  );
  const reviewRound = task?.review?.round ?? task?.round ?? 0;
  const diff = useMemo(
    () => (ui.tab === 'review' && task ? source.diff(task.id, reviewRound) : null),
    [source, ui.tab, task, reviewRound],
  );
  const tabNow = ui.tab === 'history' ? now : 0;
  const waits = task ? waitingReason(snap.daemonState, task) : null;
  const detailCols = layout.detailText;
  const detailAll = useMemo((): { lines: Line[]; subtitle: string; color?: string } => {
    const tab = detailTab();
    // Prose wraps at the pane's width (zoomed: the screen's).
    return { ...tab, lines: wrapLines(tab.lines, detailCols) };
    function detailTab(): { lines: Line[]; subtitle: string; color?: string } {
      if (!task) return { lines: [], subtitle: 'no task selected' };
      switch (ui.tab) {
        case 'spec':
          return waits
            ? { lines: specLines(specText), subtitle: `waits: ${waits}`, color: 'yellow' }
            : { lines: specLines(specText), subtitle: `${task.title} · ${task.state}` };
        case 'review':
          return {
            lines: reviewLines(task, diff?.text ?? null, diff?.label ?? ''),
            subtitle: `review of round ${reviewRound}`,
          };
        case 'history':
          return {
            lines: historyLines(task, tabNow, waits),
            subtitle: `${plural(task.attempts.length, 'attempt')} · ${plural(task.history.length, 'transition')}`,
          };
        case 'executor':
          return { lines: [], subtitle: '' };
      }
    }
  }, [task, ui.tab, specText, diff, reviewRound, tabNow, waits, detailCols]);
  const liveLines = useMemo(() => live.lines.map((text): Line => ({ text })), [live.lines]);
  const executor = ui.tab === 'executor';
  const detail = executor
    ? {
        ...slice(liveLines, 0, layout.detailBody),
        subtitle: !task
          ? 'no task selected'
          : !liveTarget
            ? `${task.id} has not started${waits ? `: it waits: ${waits}` : ': nothing to show yet'}`
            : `${live.title}${live.note ? ` — ${live.note}` : ''}`,
        subtitleColor: live.mode === 'tmux' ? 'green' : live.note ? 'yellow' : undefined,
      }
    : {
        ...slice(detailAll.lines, ui.detailScroll, layout.detailBody),
        subtitle: detailAll.subtitle,
        ...(detailAll.color ? { subtitleColor: detailAll.color } : {}),
      };

  const architectOn = ui.focus === 'architect';
  const archModel = useMemo(() => architectModel(snap.events, snap.tasks), [snap.events, snap.tasks]);
  // Its own split of the body: the live review on top, the lists below, half each.
  const archBodyH = layout.topH + layout.bottomH;
  const archTopH = Math.ceil(archBodyH / 2);
  const archListH = Math.max(0, archBodyH - archTopH - 3);
  const archLiveH = Math.max(0, archTopH - 4);
  const archLive = useArchitectLive(source, architectOn ? archModel.current : null, {
    cols: layout.cols - 2,
    rows: archLiveH,
  });
  const archNow = architectOn ? now : 0;
  const archQueue = useMemo(() => architectQueueLines(archModel, archNow), [archModel, archNow]);
  const triageW = layout.cols - layout.providersW - 2;
  const archTriage = useMemo(() => triageLines(archModel, triageW), [archModel, triageW]);
  let architect: ArchitectScreen | null = null;
  if (architectOn) {
    const head = architectTitle(archModel);
    const note = archModel.current && archLive.note ? ` — ${archLive.note}` : '';
    architect = {
      title: head.title,
      subtitle: `${head.subtitle}${note}`,
      ...(archLive.mode === 'tmux' ? { subtitleColor: 'green' } : note ? { subtitleColor: 'yellow' } : {}),
      live: archModel.current ? archLive.lines.slice(-archLiveH).map((text): Line => ({ text })) : [],
      queue: archQueue.slice(0, archListH),
      triage: slice(archTriage, ui.architectScroll, archListH),
      topH: archTopH,
      bottomH: archBodyH - archTopH,
    };
  }

  const eventLines = useMemo(() => snap.events.map(eventLine), [snap.events]);
  const eventsEnd = Math.max(0, eventLines.length - ui.eventsBack);
  const events = slice(eventLines, eventsEnd - layout.bottomBody, layout.bottomBody);
  const lastEvent = snap.events[Math.min(eventsEnd, snap.events.length) - 1];

  const helpAll = useMemo(() => helpLines(readOnly), [readOnly]);
  const help = slice(
    helpAll,
    ui.modal?.kind === 'help' ? ui.modal.scroll : 0,
    layout.topH + layout.bottomH - 3,
  );

  const gates = useMemo(
    () =>
      snap.gates.map((g): GateMenuItem => {
        const toggled = snap.toggles.gates[g.name];
        const note = !g.runnable
          ? 'no command in the config'
          : toggled !== undefined
            ? 'set by a toggle'
            : 'from the config';
        return { name: g.name, enabled: gateEnabled(snap, g.name), note };
      }),
    [snap],
  );

  const liveTask = task ? liveTargetOf(task) : null;
  const hasLog = useMemo(
    () => (liveTask ? source.attemptLog(liveTask.taskId, liveTask.attempt) !== null : false),
    // re-checked when the snapshot changes: the log appears after the attempt starts
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [source, liveTask?.taskId, liveTask?.attempt, snap.version],
  );
  const drafts = draftsView(source, ui, layout.topH + layout.bottomH - 5);
  const keyContext: KeyContext = {
    readOnly,
    zoomed,
    focus: ui.focus,
    task,
    provider: selectedProvider,
    daemon: snap.daemon,
    daemonRequested,
    hasLog,
    eventTask: lastEvent ? eventTask(lastEvent) : null,
    draft: drafts.selected?.name ?? null,
    hasDrafts: source.drafts !== undefined,
    draftsOpen: ui.modal?.kind === 'drafts',
    architect: archModel.current
      ? {
          session: archModel.current.session ?? null,
          mode: archModel.current.mode,
          task: archModel.current.task,
        }
      : null,
  };
  const scope: Scope = ui.modal
    ? ui.modal.kind === 'confirm'
      ? 'dialog'
      : ui.modal.kind === 'gates'
        ? 'menu'
        : ui.modal.kind === 'drafts'
          ? 'drafts'
          : 'help'
    : ui.filterEditing
      ? 'filter'
      : ui.focus;
  const footer = footerItems(scope, (c) => disabledReason(c, keyContext) === null);

  return {
    layout,
    zoomed,
    rows,
    boardTop,
    visibleRows: rows.slice(boardTop, boardTop + base.boardBody),
    boardRange: boardRange(rows, boardTop, base.boardBody),
    waiting: snap.daemonState?.waiting ?? NO_WAITING,
    shown,
    selectedId,
    task,
    header,
    providers,
    hosts,
    selectedProvider,
    detail,
    events: { ...events, cursorTask: keyContext.eventTask },
    help,
    gates,
    drafts,
    liveTarget,
    architect,
    keyContext,
    scope,
    footer,
  };
}
