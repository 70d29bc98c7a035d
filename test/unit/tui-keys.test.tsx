import { readFileSync } from 'node:fs';
import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import { sampleTask } from '../../src/tui/data/memory-source.js';
import { disabledReason, type KeyContext } from '../../src/tui/keys/availability.js';
import { boundCommands, DEFAULT_BINDINGS, PANES, SCOPES, commandFor } from '../../src/tui/keys/bindings.js';
import { COMMANDS, COMMAND_DANGER, type Command } from '../../src/tui/keys/commands.js';
import { dispatchKey, type Layer } from '../../src/tui/keys/dispatcher.js';
import { footerItems, helpEntries, helpLines, keybindingsMarkdown } from '../../src/tui/keys/docs.js';
import { normalizeInput, normalizeKey } from '../../src/tui/keys/normalize.js';
import type { ProviderRowView } from '../../src/tui/state/view.js';

const PROVIDER: ProviderRowView = {
  name: 'glm',
  kind: 'claude-code',
  hosts: ['oci'],
  breaker: 'open',
  reason: 'probe failed: timeout',
  throttle: null,
  limit: 1,
  ceiling: 2,
  running: 0,
  lastProbe: { ok: false, reason: 'timeout' },
  grade: null,
  frozen: false,
  spark: '',
  perHour: 0,
  avgGrade: '–',
  usage: null,
  budget: null,
};

const ctx = (patch: Partial<KeyContext> = {}): KeyContext => ({
  readOnly: false,
  focus: 'board',
  task: null,
  provider: null,
  daemon: null,
  daemonRequested: false,
  hasLog: false,
  eventTask: null,
  ...patch,
});

describe('the keymap as data', () => {
  it('docs/keybindings.md is generated from the keymap and up to date', () => {
    // Stale? Regenerate with the command at the top of docs/keybindings.md.
    expect(readFileSync(new URL('../../docs/keybindings.md', import.meta.url), 'utf8')).toBe(
      keybindingsMarkdown(),
    );
  });

  it('says each thing once in the help: a note never repeats its description', () => {
    for (const readOnly of [false, true]) {
      for (const e of helpEntries(readOnly)) {
        for (const part of e.note.split('; ').filter(Boolean))
          expect(e.description, `${e.command}: "${part}" twice`).not.toContain(part);
      }
    }
    const kill = helpLines(false).find((l) => l.text.includes('Kill the selected task'));
    expect(kill?.text).toMatch(
      /Kill the selected task \(pending or running\) \(asks first; hidden in --read-only\)$/,
    );
  });

  it('binds every command somewhere, and no key twice in one layer', () => {
    expect([...boundCommands()].sort()).toEqual([...COMMANDS].sort());
    for (const scope of SCOPES) {
      const keys = Object.values(DEFAULT_BINDINGS[scope]).flat();
      expect(new Set(keys).size, `duplicate key in ${scope}`).toBe(keys.length);
    }
  });

  it('never shadows a global key from a pane', () => {
    const global = new Set(Object.values(DEFAULT_BINDINGS.global).flat());
    for (const pane of PANES) {
      for (const key of Object.values(DEFAULT_BINDINGS[pane]).flat())
        expect(global.has(key), `${pane}: ${key}`).toBe(false);
    }
  });

  it('avoids the tmux prefixes for anything', () => {
    const all = SCOPES.flatMap((s) => Object.values(DEFAULT_BINDINGS[s]).flat());
    expect(all).not.toContain('ctrl+b');
    expect(all).not.toContain('ctrl+a');
  });

  it('declares kill, retry, approve and reject as confirmed, and hides every mutating key in read-only mode', () => {
    for (const c of ['kill', 'retry', 'approve', 'reject'] as const)
      expect(COMMAND_DANGER[c]).toBe('confirm');
    for (const key of ['x', 'r', 'A', 'X', 'f', 'F', 't', 'D']) {
      expect(commandFor('global', key, false), key).not.toBeNull();
      expect(commandFor('global', key, true), key).toBeNull();
    }
    expect(commandFor('global', 'a', true)).toBe('attach');
    const help = helpLines(true)
      .map((l) => l.text)
      .join('\n');
    expect(help).not.toMatch(/Kill the selected task/);
    expect(help).toMatch(/Read-only mode/);
  });
});

describe('disabled keys explain themselves', () => {
  const running = sampleTask('alpha', 'running');
  const cases: [Command, Partial<KeyContext>, RegExp][] = [
    ['retry', { task: running }, /^task alpha is running; only failed tasks can be retried$/],
    [
      'kill',
      { task: sampleTask('d', 'done') },
      /^task d is done; only pending or running tasks can be killed$/,
    ],
    ['approve', { task: running }, /^task alpha is running; only tasks in review can be approved$/],
    ['reject', { task: null }, /no task selected/],
    ['attach', { task: sampleTask('p', 'pending') }, /p has not started/],
    [
      'attach',
      { task: sampleTask('f', 'failed') },
      /f is failed: its tmux session is over \(l shows its log\)/,
    ],
    ['logs', { task: running, hasLog: false }, /no log file yet for attempt 1 of alpha/],
    ['probe', {}, /^no provider is configured$/],
    ['probe', { provider: PROVIDER }, /^no daemon: probes of glm run in the daemon \(D starts it\)$/],
    [
      'startDaemon',
      { daemon: { pid: 7, host: 'h', kind: 'daemon', since: '' } },
      /a daemon already runs \(pid 7\)/,
    ],
    ['kill', { readOnly: true, task: running }, /kill is not available in --read-only mode/],
  ];
  it.each(cases)('%s', (command, patch, reason) => {
    expect(disabledReason(command, ctx(patch))).toMatch(reason);
  });

  it('lets the same keys act when they can', () => {
    expect(disabledReason('retry', ctx({ task: sampleTask('f', 'failed') }))).toBeNull();
    expect(disabledReason('attach', ctx({ task: sampleTask('r', 'running') }))).toBeNull();
    expect(disabledReason('approve', ctx({ task: sampleTask('v', 'review') }))).toBeNull();
    const daemon = { pid: 7, host: 'h', kind: 'daemon' as const, since: '' };
    expect(disabledReason('probe', ctx({ provider: PROVIDER, daemon }))).toBeNull();
  });
});

describe('the keys ask core/can.ts, like the request applier', () => {
  it('offers approve for a task parked after its approval (docs/merge.md: `approve` queues it again)', () => {
    const t = sampleTask('v', 'review');
    const parked = {
      ...t,
      parked: 'push-failed' as const,
      review: { grade: 'A', verdict: 'approve' as const, summary: '', findings: [], approvedBy: 'architect' },
    };
    expect(disabledReason('approve', ctx({ task: parked }))).toBeNull();
    expect(disabledReason('approve', ctx({ task: { ...parked, parked: null } }))).toBe(
      'task v is already approved (by architect): it waits in the merge queue',
    );
  });
});

describe('the footer', () => {
  it('shows 5 to 7 keys that can act in the focused pane, help and quit last', () => {
    const c = ctx({ task: sampleTask('r', 'running'), hasLog: true });
    const items = footerItems('board', (cmd) => disabledReason(cmd, c) === null);
    expect(items.length).toBeGreaterThanOrEqual(5);
    expect(items.length).toBeLessThanOrEqual(7);
    expect(items.map((i) => i.label)).toEqual([
      'move',
      'open',
      'filter',
      'start daemon',
      'attach',
      'help',
      'quit',
    ]);
    const ro = ctx({ ...c, readOnly: true });
    expect(footerItems('board', (cmd) => disabledReason(cmd, ro) === null).map((i) => i.keys)).not.toContain(
      'x',
    );
  });

  it('shows the dialog keys while a dialog is open', () => {
    expect(footerItems('dialog', () => true).map((i) => `${i.keys} ${i.label}`)).toEqual([
      '← switch',
      'Enter choose',
      'y yes',
      'Esc cancel',
    ]);
  });
});

describe('the dispatcher', () => {
  const said: string[] = [];
  const say = (t: string) => said.push(t);
  const layer = (scope: Layer['scope'], log: string[], extra: Partial<Layer> = {}): Layer => ({
    scope,
    run: (command) => {
      log.push(`${scope}:${command}`);
      return true;
    },
    ...extra,
  });

  it('tries the modal, then the focused pane, then global; the first consumer wins', () => {
    const log: string[] = [];
    const layers = [layer('board', log), layer('global', log)];
    dispatchKey(layers, { name: 'j', text: 'j' }, { readOnly: false, say });
    dispatchKey(layers, { name: 'x', text: 'x' }, { readOnly: false, say });
    expect(log).toEqual(['board:down', 'global:kill']);
  });

  it('lets a modal swallow everything but Ctrl+C, and say how to leave it', () => {
    const log: string[] = [];
    const modal = layer('dialog', log, { modal: { passThrough: ['ctrl+c'], hint: 'Esc cancels' } });
    const layers = [modal, layer('board', log), layer('global', log)];
    said.length = 0;
    dispatchKey(layers, { name: 'x', text: 'x' }, { readOnly: false, say });
    dispatchKey(layers, { name: 'ctrl+c', text: '' }, { readOnly: false, say });
    dispatchKey(layers, { name: 'enter', text: '' }, { readOnly: false, say });
    expect(log).toEqual(['global:forceQuit', 'dialog:dialogAccept']);
    expect(said).toEqual(['x: not used here — Esc cancels']);
  });

  it('explains unbound keys and keys hidden by --read-only', () => {
    said.length = 0;
    const log: string[] = [];
    dispatchKey(
      [layer('board', log), layer('global', log)],
      { name: 'Z', text: 'Z' },
      { readOnly: false, say },
    );
    dispatchKey(
      [layer('board', log), layer('global', log)],
      { name: 'x', text: 'x' },
      { readOnly: true, say },
    );
    expect(log).toEqual([]);
    expect(said).toEqual([
      'Z: no key bound here — ? shows every key',
      'x: kill is not available in --read-only mode',
    ]);
  });
});

describe('key normalization', () => {
  const key = (patch: Partial<Key>): Key => ({
    upArrow: false,
    downArrow: false,
    leftArrow: false,
    rightArrow: false,
    pageDown: false,
    pageUp: false,
    home: false,
    end: false,
    return: false,
    escape: false,
    ctrl: false,
    shift: false,
    tab: false,
    backspace: false,
    delete: false,
    meta: false,
    super: false,
    hyper: false,
    capsLock: false,
    numLock: false,
    ...patch,
  });
  it('names keys the way the keymap does', () => {
    expect(normalizeKey('', key({ downArrow: true }))?.name).toBe('down');
    expect(normalizeKey('', key({ tab: true, shift: true }))?.name).toBe('shift+tab');
    expect(normalizeKey('c', key({ ctrl: true }))?.name).toBe('ctrl+c');
    expect(normalizeKey('G', key({ shift: true }))).toEqual({ name: 'G', text: 'G' });
    expect(normalizeKey(' ', key({}))).toEqual({ name: 'space', text: ' ' });
    expect(normalizeKey('\u0007', key({}))).toBeNull();
  });

  it('splits a chunk of fast typing into one press per key', () => {
    expect(normalizeInput('jjG', key({})).map((p) => p.name)).toEqual(['j', 'j', 'G']);
    expect(normalizeInput('', key({ downArrow: true })).map((p) => p.name)).toEqual(['down']);
  });
});
