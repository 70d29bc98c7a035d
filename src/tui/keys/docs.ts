/**
 * Everything generated from the keymap: the footer's few keys, the `?` overlay and
 * docs/keybindings.md (a test fails when the committed file differs from keybindingsMarkdown()).
 */
import { DEFAULT_BINDINGS, keyLabel, keysFor, SCOPE_TITLES, type Scope } from './bindings.js';
import {
  COMMAND_DANGER,
  COMMAND_DESCRIPTIONS,
  COMMAND_LABELS,
  isHiddenInReadOnly,
  type Command,
} from './commands.js';

export interface HelpEntry {
  scope: Scope;
  command: Command;
  keys: string;
  description: string;
  note: string;
}

function noteFor(command: Command): string {
  const danger = COMMAND_DANGER[command];
  if (danger === 'confirm') return 'asks first; hidden in --read-only';
  if (danger === 'mutates') return 'hidden in --read-only';
  return '';
}

/** The order a reader wants: what works everywhere, then each pane, then the modal layers. */
const DOC_ORDER: readonly Scope[] = [
  'global',
  'board',
  'detail',
  'providers',
  'events',
  'architect',
  'dialog',
  'menu',
  'help',
  'filter',
  'drafts',
];

export function helpEntries(readOnly: boolean): HelpEntry[] {
  const entries: HelpEntry[] = [];
  for (const scope of DOC_ORDER) {
    for (const command of Object.keys(DEFAULT_BINDINGS[scope]) as Command[]) {
      if (readOnly && isHiddenInReadOnly(command)) continue;
      entries.push({
        scope,
        command,
        keys: keysFor(scope, command).map(keyLabel).join(' '),
        description: COMMAND_DESCRIPTIONS[command],
        note: noteFor(command),
      });
    }
  }
  return entries;
}

/** The help overlay's text lines (headings are marked for bold). */
export function helpLines(readOnly: boolean): { text: string; heading: boolean }[] {
  const lines: { text: string; heading: boolean }[] = [];
  let scope: Scope | null = null;
  const width = Math.max(...helpEntries(false).map((e) => e.keys.length));
  for (const e of helpEntries(readOnly)) {
    if (e.scope !== scope) {
      if (scope !== null) lines.push({ text: '', heading: false });
      scope = e.scope;
      lines.push({ text: SCOPE_TITLES[e.scope], heading: true });
    }
    lines.push({
      text: `  ${e.keys.padEnd(width)}  ${e.description}${e.note ? ` (${e.note})` : ''}`,
      heading: false,
    });
  }
  if (readOnly)
    lines.push(
      { text: '', heading: false },
      { text: 'Read-only mode: keys that change anything are hidden.', heading: false },
    );
  return lines;
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** docs/keybindings.md, generated. */
export function keybindingsMarkdown(): string {
  const out: string[] = [
    '# Keybindings',
    '',
    '<!-- Generated from src/tui/keys/ by keybindingsMarkdown(); do not edit by hand. -->',
    '<!-- Regenerate: npm run build && node -e "import(\'./dist/tui/keys/docs.js\').then((m) => process.stdout.write(m.keybindingsMarkdown()))" > docs/keybindings.md -->',
    '',
    'Keys are tried in layers: an open dialog, menu, help or filter input first, then the focused',
    'pane, then the keys that work everywhere. A key that cannot act says why in the status line.',
    'With `--read-only`, the keys marked "hidden in --read-only" are not bound at all.',
  ];
  let scope: Scope | null = null;
  for (const e of helpEntries(false)) {
    if (e.scope !== scope) {
      scope = e.scope;
      out.push(
        '',
        `## ${SCOPE_TITLES[e.scope]}`,
        '',
        '| Keys | Command | What it does | Notes |',
        '| --- | --- | --- | --- |',
      );
    }
    const keys = keysFor(e.scope, e.command)
      .map((k) => `\`${keyLabel(k)}\``)
      .join(' ');
    out.push(`| ${cell(keys)} | ${e.command} | ${cell(e.description)} | ${e.note} |`);
  }
  return `${out.join('\n')}\n`;
}

export interface FooterItem {
  keys: string;
  label: string;
}

/** Candidates per layer, most useful first; the footer shows the ones that can act now. */
const FOOTER: Readonly<Record<Scope, readonly Command[]>> = {
  global: [],
  board: [
    'down',
    'open',
    'filter',
    'startDaemon',
    'attach',
    'logs',
    'zoom',
    'kill',
    'retry',
    'approve',
    'reject',
    'freezeAll',
  ],
  detail: ['nextTab', 'down', 'zoom', 'attach', 'logs', 'kill', 'retry', 'approve', 'reject'],
  providers: ['down', 'freezeProvider', 'gates', 'freezeAll', 'startDaemon'],
  events: ['down', 'open', 'back'],
  architect: ['down', 'attach', 'back'],
  dialog: ['dialogSwitch', 'dialogAccept', 'dialogYes', 'back'],
  menu: ['down', 'menuToggle', 'back'],
  help: ['down', 'back'],
  filter: ['filterAccept', 'filterErase', 'back'],
  drafts: ['down', 'open', 'draftAccept', 'draftDiscard', 'draftEdit', 'back'],
};

const PANE_ACTIONS = 5;

/** The 5–7 keys that work in `scope` now: its enabled candidates, then help and quit for panes. */
export function footerItems(scope: Scope, enabled: (c: Command) => boolean): FooterItem[] {
  const item = (s: Scope, c: Command): FooterItem => {
    if (c === 'down') {
      const up = keysFor(s, 'up')[0];
      return { keys: `${keyLabel(keysFor(s, 'down')[0] ?? '')}/${keyLabel(up ?? '')}`, label: 'move' };
    }
    if (c === 'nextTab')
      return {
        keys: `${keyLabel(keysFor(s, 'prevTab')[0] ?? '')}${keyLabel(keysFor(s, c)[0] ?? '')}`,
        label: 'tab',
      };
    const label =
      c === 'back' && s === 'dialog'
        ? 'cancel'
        : c === 'back' && s !== 'global'
          ? 'close'
          : COMMAND_LABELS[c];
    return { keys: keyLabel(keysFor(s, c)[0] ?? keysFor('global', c)[0] ?? '?'), label };
  };
  const modal =
    scope === 'dialog' || scope === 'menu' || scope === 'help' || scope === 'filter' || scope === 'drafts';
  const picked = FOOTER[scope].filter(enabled).slice(0, modal ? 4 : PANE_ACTIONS);
  const items = picked.map((c) => item(keysFor(scope, c).length ? scope : 'global', c));
  if (!modal) items.push(item('global', 'help'), item('global', 'quit'));
  return items;
}
