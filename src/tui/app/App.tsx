/**
 * The root component: UI state in a reducer, workspace data from the source, every key through the
 * one dispatcher (modal layer, then the focused pane, then global).
 */
import { useApp } from 'ink';
import { useMemo, useReducer, useState } from 'react';
import type { TuiSource } from '../../client/live/source.js';
import { systemTimers, type Timers } from '../../lib/timers.js';
import { useKeyInput } from '../hooks/useKeyInput.js';
import { useNow } from '../hooks/useNow.js';
import { DAEMON_START_WAIT_MS, useScreenView } from '../hooks/useScreenView.js';
import { useSnapshot } from '../hooks/useSnapshot.js';
import { useTerminalSize, type TerminalSize } from '../hooks/useTerminalSize.js';
import type { ModalScope, Scope } from '../keys/bindings.js';
import type { Command } from '../keys/commands.js';
import { dispatchKey, type Layer } from '../keys/dispatcher.js';
import type { KeyPress } from '../keys/normalize.js';
import { MainScreen } from '../screens/MainScreen.js';
import { latestShownSince, nextTickAt } from '../state/ticks.js';
import { initialUiState, STATUS_TTL_MS, uiReducer, visibleStatus } from '../state/ui.js';
import { runCommand } from './commands.js';
import { colorDisabled } from '../../lib/color.js';
import { ColorContext } from '../theme/color.js';
import type { TerminalControl } from './terminal-control.js';

export interface AppProps {
  source: TuiSource;
  readOnly: boolean;
  env: NodeJS.ProcessEnv;
  terminal: TerminalControl;
  /** A fixed terminal size (tests); otherwise the real terminal's, following resizes. */
  size?: TerminalSize;
  /** When the screen's clock ticks (tests pass manual timers); Node's timers otherwise. */
  timers?: Timers;
}

const MODAL_HINTS: Readonly<Record<ModalScope, string>> = {
  dialog: 'y does it, n or Esc cancels, Enter chooses',
  menu: 'Space toggles a gate, Esc closes',
  help: 'Esc closes the help',
  filter: 'Enter keeps the filter, Esc clears it',
  drafts: 'Enter reads, e edits, A accepts, X discards, Esc closes',
};

export function App({ source, readOnly, env, terminal, size: fixedSize, timers = systemTimers }: AppProps) {
  const snap = useSnapshot(source);
  const [ui, dispatch] = useReducer(uiReducer, undefined, initialUiState);
  // The clock redraws only when a time on screen can change its text (state/ticks.ts).
  const since = useMemo(() => latestShownSince(snap), [snap]);
  // Deadlines a redraw must meet: the started daemon's wait, and the status message's expiry.
  const deadlines = [
    ...(ui.daemonRequestedAt === null ? [] : [ui.daemonRequestedAt + DAEMON_START_WAIT_MS]),
    ...(ui.status ? [ui.status.at + STATUS_TTL_MS[ui.status.tone]] : []),
  ];
  const now = useNow(source.clock, timers, (t) => nextTickAt(t, since, deadlines));
  const size = useTerminalSize(fixedSize);
  const { exit } = useApp();
  const view = useScreenView(source, snap, ui, now, size, readOnly);
  // NO_COLOR: the CLI's decision (lib/color.ts), taken once.
  const [color] = useState(() => !colorDisabled(env));

  useKeyInput((key: KeyPress) => {
    const deps = { ui, dispatch, view, snap, source, terminal, env, now: source.clock.now(), exit };
    const run = (scope: Scope) => (command: Command, k: KeyPress) => runCommand(command, scope, k, deps);
    const layers: Layer[] = [];
    if (
      view.scope === 'dialog' ||
      view.scope === 'menu' ||
      view.scope === 'help' ||
      view.scope === 'filter' ||
      view.scope === 'drafts'
    ) {
      const scope = view.scope;
      layers.push({
        scope,
        run: run(scope),
        modal: { passThrough: ['ctrl+c'], hint: MODAL_HINTS[scope] },
        ...(scope === 'filter'
          ? {
              fallback: (k: KeyPress) => {
                if (!k.text) return false;
                dispatch({ type: 'filterType', text: k.text });
                return true;
              },
            }
          : {}),
      });
    }
    layers.push({ scope: ui.focus, run: run(ui.focus) }, { scope: 'global', run: run('global') });
    dispatchKey(layers, key, {
      readOnly,
      say: (text) => dispatch({ type: 'status', text, tone: 'warn', at: source.clock.now() }),
    });
  });

  // A message shows for a few seconds of the source's clock (STATUS_TTL_MS), then the line clears.
  const status =
    visibleStatus(ui.status, now) ??
    (snap.error
      ? { text: `reading the workspace failed: ${snap.error}`, tone: 'error' as const, at: now }
      : null);
  return (
    <ColorContext.Provider value={color}>
      <MainScreen
        view={view}
        ui={ui}
        status={status}
        readOnly={readOnly}
        now={now}
        total={snap.tasks.length}
      />
    </ColorContext.Provider>
  );
}
