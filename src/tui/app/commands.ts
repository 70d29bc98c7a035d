/**
 * What each command does. The TUI changes nothing itself: requests go through the source (the
 * workspace client), the outcome lands in the status line. A disabled command says why instead.
 */
import type { Request, TuiSnapshot, TuiSource } from '../../client/live/source.js';
import { pagerArgv } from '../../client/terminal.js';
import type { TaskRecord } from '../../core/task.js';
import { assertNever } from '../../lib/assert.js';
import type { ScreenView } from '../hooks/useScreenView.js';
import { disabledReason } from '../keys/availability.js';
import { keyLabel, type Scope } from '../keys/bindings.js';
import type { Command } from '../keys/commands.js';
import type { KeyPress } from '../keys/normalize.js';
import { moveSelection, rowIndexOf, windowStart, boardRows, type Move } from '../state/board.js';
import { oneLine, short } from '../state/format.js';
import { isSecondCtrlC, type ConfirmTarget, type UiAction, type UiState } from '../state/ui.js';
import type { Tone } from '../theme/theme.js';
import type { TerminalControl } from './terminal-control.js';
import { runDraftCommand } from './draft-commands.js';

export interface CommandDeps {
  ui: UiState;
  dispatch: (action: UiAction) => void;
  view: ScreenView;
  snap: TuiSnapshot;
  source: TuiSource;
  terminal: TerminalControl;
  env: NodeJS.ProcessEnv;
  now: number;
  exit: () => void;
}

/** The dialog for a dangerous task command: names the task and where it runs. */
export function confirmTarget(
  command: ConfirmTarget['command'],
  task: TaskRecord,
  now: number,
): ConfirmTarget {
  const a = task.attempts.at(-1);
  const on = a ? ` on ${a.host}` : '';
  const grade = `grade ${task.review?.grade ?? '-'}`;
  switch (command) {
    case 'kill':
      return {
        command,
        question:
          a && task.state === 'running' ? `Kill ${task.id}${on}?` : `Kill ${task.id} (pending, not started)?`,
        detail:
          a && task.state === 'running'
            ? `attempt ${a.n} on ${a.provider}@${a.host}, running ${short(now - Date.parse(a.startedAt))}; it fails as killed`
            : 'it fails as killed; r can retry it later',
        request: { kind: 'kill', task: task.id },
      };
    case 'retry':
      return {
        command,
        question: `Retry ${task.id}${a ? ` (last run${on})` : ''}?`,
        detail: `it failed: ${oneLine(task.failure?.reason ?? 'no reason recorded')}; it goes back to pending`,
        request: { kind: 'retry', task: task.id },
      };
    case 'approve':
      return {
        command,
        question: `Approve ${task.id}${a ? ` (from ${a.provider}${on})` : ''}?`,
        detail: `${grade}; it joins the merge queue and lands on main`,
        request: { kind: 'approve', task: task.id },
      };
    case 'reject':
      return {
        command,
        question: `Reject ${task.id}${a ? ` (from ${a.provider}${on})` : ''}?`,
        detail: `${grade}; it fails as rejected, charged to the spec`,
        request: { kind: 'reject', task: task.id },
      };
  }
}

const MOVES: Partial<Record<Command, Move>> = {
  down: 'down',
  up: 'up',
  pageDown: 'pageDown',
  pageUp: 'pageUp',
  top: 'top',
  bottom: 'bottom',
};

function scrollTo(current: number, move: Move, page: number, max: number): number {
  const next: Record<Move, number> = {
    down: current + 1,
    up: current - 1,
    pageDown: current + page,
    pageUp: current - page,
    top: 0,
    bottom: max,
  };
  return Math.max(0, Math.min(max, next[move]));
}

/** In the event log, down goes toward the newest event (fewer lines back). */
const TOWARD_OLDER: Readonly<Record<Move, Move>> = {
  down: 'up',
  up: 'down',
  pageDown: 'pageUp',
  pageUp: 'pageDown',
  top: 'bottom',
  bottom: 'top',
};

/** j/k/g/G/PgUp/PgDn: what moves depends on the layer the key reached. */
function runMove(move: Move, scope: Scope, d: CommandDeps): boolean {
  const { ui, dispatch, view } = d;
  const { layout } = view;
  switch (scope) {
    case 'board': {
      const id = moveSelection(view.rows, view.selectedId, move, layout.boardBody);
      const top = windowStart(view.rows.length, rowIndexOf(view.rows, id), layout.boardBody, view.boardTop);
      dispatch({ type: 'select', id, top });
      return true;
    }
    case 'detail': {
      const max = Math.max(0, view.detail.all.length - layout.detailBody);
      dispatch({ type: 'scrollDetail', to: scrollTo(view.detail.first, move, layout.detailBody, max) });
      return true;
    }
    case 'providers': {
      const index = scrollTo(ui.providerCursor, move, 1, Math.max(0, view.providers.length - 1));
      dispatch({ type: 'providerCursor', index });
      return true;
    }
    case 'architect': {
      const a = view.architect;
      const page = Math.max(1, (a?.bottomH ?? 0) - 3);
      const max = Math.max(0, (a?.triage.all.length ?? 0) - page);
      dispatch({ type: 'scrollArchitect', to: scrollTo(a?.triage.first ?? 0, move, page, max) });
      return true;
    }
    case 'events': {
      const max = Math.max(0, view.events.all.length - layout.bottomBody);
      dispatch({
        type: 'scrollEvents',
        back: scrollTo(ui.eventsBack, TOWARD_OLDER[move], layout.bottomBody, max),
      });
      return true;
    }
    case 'help': {
      if (ui.modal?.kind !== 'help') return false;
      const page = view.help.visible.length;
      const max = Math.max(0, view.help.all.length - page);
      dispatch({ type: 'scrollHelp', to: scrollTo(view.help.first, move, page, max) });
      return true;
    }
    case 'drafts': {
      if (ui.modal?.kind !== 'drafts') return false;
      if (ui.modal.reading) {
        const page = view.drafts.text.visible.length || 1;
        const max = Math.max(0, view.drafts.text.all.length - page);
        dispatch({ type: 'draftsScroll', to: scrollTo(view.drafts.text.first, move, page, max) });
      } else {
        const max = Math.max(0, view.drafts.rows.length - 1);
        dispatch({ type: 'draftsCursor', index: scrollTo(view.drafts.cursor, move, 10, max) });
      }
      return true;
    }
    case 'menu':
      if (ui.modal?.kind !== 'gates') return false;
      dispatch({ type: 'gatesCursor', index: scrollTo(ui.modal.cursor, move, 1, view.gates.length - 1) });
      return true;
    case 'dialog':
    case 'filter':
    case 'global':
      return false;
    default:
      return assertNever(scope, 'scope');
  }
}

export function runCommand(command: Command, scope: Scope, key: KeyPress, d: CommandDeps): boolean {
  const { ui, dispatch, view, source } = d;
  const say = (text: string, tone: Tone = 'info') =>
    dispatch({ type: 'status', text, tone, at: source.clock.now() });
  const reason = disabledReason(command, view.keyContext);
  if (reason) {
    say(`${keyLabel(key.name)}: ${reason}`, 'warn');
    return true;
  }
  const submit = (request: Request, doing: string) => {
    say(`${doing}…`);
    source.submit(request).then(
      (o) => say(o.message, o.ok ? 'ok' : 'error'),
      (err: unknown) => say(`${doing} failed: ${(err as Error).message}`, 'error'),
    );
  };
  const move = MOVES[command];
  if (move) return runMove(move, scope, d);
  switch (command) {
    case 'down':
    case 'up':
    case 'pageDown':
    case 'pageUp':
    case 'top':
    case 'bottom':
      return false;
    case 'nextPane':
    case 'prevPane':
      dispatch({ type: 'cyclePane', delta: command === 'nextPane' ? 1 : -1 });
      return true;
    case 'paneBoard':
    case 'paneDetail':
    case 'paneProviders':
    case 'paneEvents':
    case 'paneArchitect': {
      const pane = (
        {
          paneBoard: 'board',
          paneDetail: 'detail',
          paneProviders: 'providers',
          paneEvents: 'events',
          paneArchitect: 'architect',
        } as const
      )[command];
      dispatch({ type: 'focus', pane });
      return true;
    }
    case 'nextTab':
    case 'prevTab':
      dispatch({ type: 'cycleTab', delta: command === 'nextTab' ? 1 : -1 });
      return true;
    case 'zoom':
      dispatch({ type: 'zoom', on: !ui.zoom });
      return true;
    case 'open': {
      if (scope === 'drafts' && ui.modal?.kind === 'drafts') {
        dispatch({ type: 'draftsRead', reading: !ui.modal.reading });
        return true;
      }
      if (scope === 'events' && view.events.cursorTask) {
        const id = view.events.cursorTask;
        const rows = boardRows(d.snap.tasks, '');
        if (rowIndexOf(rows, id) < 0) {
          say(`${id} is no longer in the queue`, 'warn');
          return true;
        }
        dispatch({ type: 'filterClear', keep: id });
        dispatch({
          type: 'select',
          id,
          top: windowStart(rows.length, rowIndexOf(rows, id), view.layout.boardBody, 0),
        });
        dispatch({ type: 'focus', pane: 'board' });
        return true;
      }
      dispatch({ type: 'focus', pane: 'detail' });
      return true;
    }
    case 'back':
      if (scope === 'drafts' && ui.modal?.kind === 'drafts' && ui.modal.reading) {
        dispatch({ type: 'draftsRead', reading: false });
      } else if (scope === 'dialog' || scope === 'menu' || scope === 'help' || scope === 'drafts') {
        dispatch({ type: 'closeModal' });
        if (scope === 'dialog') say('cancelled');
      } else if (scope === 'filter') dispatch({ type: 'filterClear', keep: view.selectedId });
      else if (ui.zoom) dispatch({ type: 'zoom', on: false });
      else if (ui.focus !== 'board') dispatch({ type: 'focus', pane: 'board' });
      else if (ui.filter) dispatch({ type: 'filterClear', keep: view.selectedId });
      else say('Esc: nothing to go back from (q quits)');
      return true;
    case 'filter':
      dispatch({ type: 'filterStart' });
      return true;
    case 'help':
      dispatch({ type: 'openHelp' });
      return true;
    case 'freezeAll':
      submit(
        { kind: d.snap.toggles.frozen ? 'thaw' : 'freeze', provider: null },
        d.snap.toggles.frozen ? 'thawing dispatch' : 'freezing dispatch',
      );
      return true;
    case 'freezeProvider': {
      const name = view.selectedProvider?.name ?? '';
      const frozen = d.snap.toggles.frozenProviders.includes(name);
      submit(
        { kind: frozen ? 'thaw' : 'freeze', provider: name },
        `${frozen ? 'thawing' : 'freezing'} provider ${name}`,
      );
      return true;
    }
    case 'kill':
    case 'retry':
    case 'approve':
    case 'reject':
      if (view.task) dispatch({ type: 'openConfirm', target: confirmTarget(command, view.task, d.now) });
      return true;
    case 'gates':
      dispatch({ type: 'openGates' });
      return true;
    case 'probe': {
      const name = view.selectedProvider?.name ?? '';
      submit({ kind: 'probe', provider: name }, `asking the daemon to probe ${name}`);
      return true;
    }
    case 'attach':
    case 'logs': {
      if (command === 'attach' && ui.focus === 'architect') return attachArchitect(d, key);
      const t = view.task;
      const a = t?.attempts.at(-1);
      if (!t || !a) return true;
      let argv: string[];
      try {
        if (command === 'attach') {
          argv = source.attachArgv(
            { taskId: t.id, attempt: a.n, host: a.host, running: true },
            view.keyContext.readOnly,
          );
        } else {
          argv = pagerArgv(source.attemptLog(t.id, a.n) ?? '', d.env);
        }
      } catch (err) {
        say(`${keyLabel(key.name)}: ${(err as Error).message}`, 'error');
        return true;
      }
      const result = d.terminal.handOver(argv);
      say(
        command === 'attach' ? `back from ns-${t.id} (${result.message})` : result.message,
        result.ok ? 'info' : 'warn',
      );
      return true;
    }
    case 'startDaemon': {
      const result = source.startDaemon();
      if (result.ok) dispatch({ type: 'daemonRequested', at: d.now });
      say(result.message, result.ok ? 'info' : 'error');
      return true;
    }
    case 'stopDaemon': {
      const pid = view.keyContext.daemon?.pid;
      if (pid) submit({ kind: 'stop', pid }, `asking daemon pid ${pid} to stop`);
      return true;
    }
    case 'reloadConfig':
      submit({ kind: 'reload' }, 'asking the daemon to reload its config');
      return true;
    case 'morningReport':
      openMorningReport(d, say);
      return true;
    case 'quit':
      d.exit();
      return true;
    case 'forceQuit':
      if (isSecondCtrlC(ui, d.now)) d.exit();
      else dispatch({ type: 'ctrlC', at: d.now });
      return true;
    case 'dialogSwitch':
      dispatch({ type: 'switchChoice' });
      return true;
    case 'dialogAccept':
    case 'dialogYes':
      if (ui.modal?.kind !== 'confirm') return false;
      dispatch({ type: 'closeModal' });
      if (command === 'dialogYes' || ui.modal.choice === 'confirm')
        submit(ui.modal.target.request, ui.modal.target.question.replace(/\?$/, ''));
      else say('cancelled');
      return true;
    case 'menuToggle': {
      if (ui.modal?.kind !== 'gates') return false;
      const gate = view.gates[ui.modal.cursor];
      if (gate)
        submit(
          { kind: 'gate', gate: gate.name, enabled: !gate.enabled },
          `turning gate ${gate.name} ${gate.enabled ? 'off' : 'on'}`,
        );
      return true;
    }
    case 'filterAccept':
      dispatch({ type: 'filterAccept' });
      return true;
    case 'filterErase':
      dispatch({ type: 'filterErase' });
      return true;
    case 'drafts':
    case 'draftEdit':
    case 'draftAccept':
    case 'draftDiscard':
      return runDraftCommand(command, d);
    default:
      return assertNever(command, 'command');
  }
}

/** `a` in the Architect view: hands the terminal to the architect's tmux session (claude-code mode). */
function attachArchitect(d: CommandDeps, key: KeyPress): boolean {
  const say = (text: string, tone: Tone) =>
    d.dispatch({ type: 'status', text, tone, at: d.source.clock.now() });
  const session = d.view.keyContext.architect?.session;
  if (!session) return true;
  let argv: string[];
  try {
    argv = d.source.architectAttachArgv(session, d.view.keyContext.readOnly);
  } catch (err) {
    say(`${keyLabel(key.name)}: ${(err as Error).message}`, 'error');
    return true;
  }
  const result = d.terminal.handOver(argv);
  say(`back from the architect's session ${session} (${result.message})`, result.ok ? 'info' : 'warn');
  return true;
}

/** `m`: writes the morning report, shows it in $PAGER, and leaves its path in the status line. */
function openMorningReport(d: CommandDeps, say: (text: string, tone?: Tone) => void): void {
  say('writing the morning report…');
  d.source.morningReport().then(
    (report) => {
      const shown = d.terminal.handOver(pagerArgv(report.path, d.env));
      say(`morning report (${report.summary}): ${report.path}`, shown.ok ? 'ok' : 'warn');
    },
    (err: unknown) => say(`the morning report failed: ${(err as Error).message}`, 'error'),
  );
}
