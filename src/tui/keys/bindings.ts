/**
 * The default keymap: which keys run which command in which layer. Layers are tried modal first,
 * then the focused pane, then global; the first handler that consumes a key ends the search.
 */
import { Command, isHiddenInReadOnly } from './commands.js';

/** A normalized key: a printable character ("j", "G", "?") or a named key ("enter", "shift+tab"). */
export type KeyName = string;

export const PANES = ['board', 'detail', 'providers', 'events', 'architect'] as const;
export type Pane = (typeof PANES)[number];
/** The panes of the main screen, which Tab cycles through; the Architect view (5) takes the whole body. */
export const MAIN_PANES: readonly Pane[] = ['board', 'detail', 'providers', 'events'];

export const MODAL_SCOPES = ['dialog', 'menu', 'help', 'filter', 'drafts'] as const;
export type ModalScope = (typeof MODAL_SCOPES)[number];

export type Scope = 'global' | Pane | ModalScope;
export const SCOPES: readonly Scope[] = [...MODAL_SCOPES, ...PANES, 'global'];

export const SCOPE_TITLES: Readonly<Record<Scope, string>> = {
  global: 'Everywhere',
  board: 'Board (task list)',
  detail: 'Detail (Spec, Executor, Review, History)',
  providers: 'Providers and hosts',
  events: 'Event log',
  architect: 'Architect view (review in progress, waiting, verdicts, triage log)',
  dialog: 'Confirm dialog',
  menu: 'Gates menu',
  help: 'Help overlay',
  filter: 'Filter input (typing edits the filter)',
  drafts: 'Drafts view (specs the architect wrote)',
};

type Bindings = Readonly<Partial<Record<Command, readonly KeyName[]>>>;

const LIST: Bindings = {
  down: ['j', 'down'],
  up: ['k', 'up'],
  top: ['g', 'home'],
  bottom: ['G', 'end'],
};
const PAGED: Bindings = { ...LIST, pageDown: ['pagedown', 'ctrl+d'], pageUp: ['pageup', 'ctrl+u'] };

export const DEFAULT_BINDINGS: Readonly<Record<Scope, Bindings>> = {
  global: {
    nextPane: ['tab'],
    prevPane: ['shift+tab'],
    paneBoard: ['1'],
    paneDetail: ['2'],
    paneProviders: ['3'],
    paneEvents: ['4'],
    paneArchitect: ['5'],
    back: ['esc'],
    filter: ['/'],
    help: ['?'],
    freezeAll: ['f'],
    freezeProvider: ['F'],
    kill: ['x'],
    retry: ['r'],
    approve: ['A'],
    reject: ['X'],
    gates: ['t'],
    probe: ['p'],
    attach: ['a'],
    logs: ['l'],
    startDaemon: ['D'],
    stopDaemon: ['S'],
    reloadConfig: ['R'],
    morningReport: ['m'],
    quit: ['q'],
    forceQuit: ['ctrl+c'],
    drafts: ['d'],
    zoom: ['z'],
  },
  board: { ...PAGED, open: ['enter'] },
  detail: { ...PAGED, nextTab: [']', 'right'], prevTab: ['[', 'left'] },
  providers: LIST,
  events: { ...PAGED, open: ['enter'] },
  architect: PAGED,
  dialog: {
    dialogSwitch: ['left', 'right', 'tab', 'h'],
    dialogAccept: ['enter'],
    dialogYes: ['y'],
    back: ['esc', 'n'],
  },
  menu: { ...LIST, menuToggle: ['space', 'enter'], back: ['esc', 't'] },
  help: { ...PAGED, back: ['esc', '?', 'q'] },
  filter: { filterAccept: ['enter'], filterErase: ['backspace'], back: ['esc'] },
  drafts: {
    ...PAGED,
    open: ['enter'],
    draftEdit: ['e'],
    draftAccept: ['A'],
    draftDiscard: ['X'],
    back: ['esc', 'd'],
  },
};

/** The command `key` runs in `scope`, if any (hidden commands are not bound in read-only mode). */
export function commandFor(scope: Scope, key: KeyName, readOnly: boolean): Command | null {
  for (const [command, keys] of Object.entries(DEFAULT_BINDINGS[scope]) as [Command, readonly KeyName[]][]) {
    if (keys.includes(key) && !(readOnly && isHiddenInReadOnly(command))) return command;
  }
  return null;
}

/** The command `key` would run in `scope` if it were not hidden (to explain read-only mode). */
export function hiddenCommandFor(scope: Scope, key: KeyName): Command | null {
  return commandFor(scope, key, false);
}

export function keysFor(scope: Scope, command: Command): readonly KeyName[] {
  return DEFAULT_BINDINGS[scope][command] ?? [];
}

const KEY_LABELS: Readonly<Record<string, string>> = {
  enter: 'Enter',
  esc: 'Esc',
  tab: 'Tab',
  'shift+tab': 'Shift+Tab',
  up: '↑',
  down: '↓',
  left: '←',
  right: '→',
  home: 'Home',
  end: 'End',
  pageup: 'PgUp',
  pagedown: 'PgDn',
  space: 'Space',
  backspace: 'Backspace',
  'ctrl+c': 'Ctrl+C',
  'ctrl+d': 'Ctrl+D',
  'ctrl+u': 'Ctrl+U',
};

export function keyLabel(key: KeyName): string {
  return KEY_LABELS[key] ?? key;
}

/** Every command's keys across scopes: for the tests' "nothing is unreachable" check. */
export function boundCommands(): Set<Command> {
  const bound = new Set<Command>();
  for (const scope of SCOPES)
    for (const command of Object.keys(DEFAULT_BINDINGS[scope])) bound.add(command as Command);
  return bound;
}

export { Command };
