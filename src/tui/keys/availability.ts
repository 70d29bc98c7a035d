/**
 * Why a command cannot act right now, or null when it can. Every command has an entry (a missing one
 * does not compile); the dispatcher shows the reason in the status line, so a key never silently
 * does nothing.
 */
import { can, type TaskAction } from '../../core/can.js';
import type { TaskRecord } from '../../core/task.js';
import type { LockInfo } from '../../client/live/source.js';
import type { ProviderRowView } from '../state/view.js';
import type { Pane } from './bindings.js';
import { COMMAND_LABELS, isHiddenInReadOnly, type Command } from './commands.js';

export interface KeyContext {
  readOnly: boolean;
  focus: Pane;
  task: TaskRecord | null;
  provider: ProviderRowView | null;
  daemon: LockInfo | null;
  daemonRequested: boolean;
  /** Whether the selected task's latest attempt has a log file. */
  hasLog: boolean;
  /** The task of the event under the cursor in the events pane. */
  eventTask: string | null;
  /** The draft under the cursor in the Drafts view; null when none (or the view is closed). */
  draft?: string | null;
  /** Whether this workspace has a drafts directory to show (not the demo). */
  hasDrafts?: boolean;
  /** Whether the Drafts view is open. */
  draftsOpen?: boolean;
  /** Whether the detail is zoomed to the whole screen. */
  zoomed?: boolean;
  /** The Architect view's review in progress: its tmux session (claude-code mode), its mode. */
  architect?: { session: string | null; mode: string; task: string } | null;
}

type Reason = (c: KeyContext) => string | null;

const needDraft: Reason = (c) =>
  c.draft ? null : 'no draft selected (specs/drafts/ is empty: `nightshift plan` writes some)';

const always: Reason = () => null;

const needTask =
  (then: (t: TaskRecord) => string | null): Reason =>
  (c) =>
    c.task ? then(c.task) : 'no task selected (the board is empty or filtered out)';

/** What core/can.ts says, the same answer the request applier gives. */
const allowed = (action: TaskAction): Reason =>
  needTask((t) => {
    const permission = can(t, action);
    return permission.ok ? null : permission.reason;
  });

export const DISABLED_REASON: Readonly<Record<Command, Reason>> = {
  down: always,
  up: always,
  pageDown: always,
  pageUp: always,
  top: always,
  bottom: always,
  nextPane: always,
  prevPane: always,
  paneBoard: always,
  paneDetail: always,
  paneProviders: always,
  paneEvents: always,
  paneArchitect: always,
  nextTab: always,
  prevTab: always,
  zoom: (c) =>
    c.focus === 'architect'
      ? 'the Architect view is full screen already'
      : c.task || c.zoomed
        ? null
        : 'no task selected',
  open: (c) => {
    if (c.draftsOpen) return c.draft ? null : 'no draft to read (specs/drafts/ is empty)';
    if (c.focus === 'events') return c.eventTask ? null : 'this event names no task';
    if (c.focus === 'board') return c.task ? null : 'no task selected';
    return 'nothing to open here';
  },
  back: always,
  filter: always,
  help: always,
  freezeAll: always,
  freezeProvider: (c) => (c.provider ? null : 'no provider is configured'),
  kill: allowed('kill'),
  retry: allowed('retry'),
  approve: allowed('approve'),
  reject: allowed('reject'),
  gates: always,
  probe: (c) => {
    if (!c.provider) return 'no provider is configured';
    return c.daemon ? null : `no daemon: probes of ${c.provider.name} run in the daemon (D starts it)`;
  },
  attach: (c) => {
    if (c.focus === 'architect') {
      const a = c.architect;
      if (!a) return 'no review is in progress: the architect has no session now';
      if (!a.session)
        return `the architect reviews ${a.task} in ${a.mode} mode: no tmux session (its text streams here)`;
      return null;
    }
    return needTask((t) => {
      if (!t.attempts.length) return `${t.id} has not started: there is no session to attach to`;
      if (t.state !== 'running') return `${t.id} is ${t.state}: its tmux session is over (l shows its log)`;
      return null;
    })(c);
  },
  logs: (c) =>
    needTask((t) => {
      const a = t.attempts.at(-1);
      if (!a) return `${t.id} has not started: no log yet`;
      return c.hasLog ? null : `no log file yet for attempt ${a.n} of ${t.id}`;
    })(c),
  startDaemon: (c) => {
    if (c.daemon) return `a daemon already runs (pid ${c.daemon.pid})`;
    return c.daemonRequested ? 'a daemon is starting; give it a moment' : null;
  },
  stopDaemon: (c) => (c.daemon ? null : 'no daemon is running (D starts one)'),
  reloadConfig: (c) =>
    c.daemon ? null : 'no daemon is running: the next one reads the config when it starts (D)',
  morningReport: always,
  quit: always,
  forceQuit: always,
  dialogSwitch: always,
  dialogAccept: always,
  dialogYes: always,
  menuToggle: always,
  filterAccept: always,
  filterErase: always,
  drafts: (c) => (c.hasDrafts === false ? 'this source has no specs/drafts/' : null),
  draftEdit: needDraft,
  draftAccept: needDraft,
  draftDiscard: needDraft,
};

/** The reason `command` cannot run, including read-only mode. */
export function disabledReason(command: Command, c: KeyContext): string | null {
  if (c.readOnly && isHiddenInReadOnly(command)) {
    return `${COMMAND_LABELS[command]} is not available in --read-only mode`;
  }
  return DISABLED_REASON[command](c);
}
