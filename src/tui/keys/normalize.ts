/** Ink's (input, key) pair → one KeyName the keymap understands. */
import type { Key } from 'ink';
import type { KeyName } from './bindings.js';

export interface KeyPress {
  name: KeyName;
  /** Printable text typed (for the filter input); empty for named keys. */
  text: string;
}

export function normalizeKey(input: string, key: Key): KeyPress | null {
  const named = (name: KeyName): KeyPress => ({ name, text: '' });
  if (key.ctrl && input.length === 1 && /[a-z]/i.test(input)) return named(`ctrl+${input.toLowerCase()}`);
  if (key.upArrow) return named('up');
  if (key.downArrow) return named('down');
  if (key.leftArrow) return named('left');
  if (key.rightArrow) return named('right');
  if (key.pageUp) return named('pageup');
  if (key.pageDown) return named('pagedown');
  if (key.home) return named('home');
  if (key.end) return named('end');
  if (key.return) return named('enter');
  if (key.escape) return named('esc');
  if (key.tab) return named(key.shift ? 'shift+tab' : 'tab');
  if (key.backspace || key.delete) return named('backspace');
  if (input === ' ') return { name: 'space', text: ' ' };
  const chars = [...input];
  if (chars.length !== 1 || chars[0]! < ' ' || chars[0] === '\u007f') return null;
  return { name: input, text: input };
}

/**
 * One character of a chunk, as Ink reports that character when it arrives alone (its parse-keypress):
 * Ink flags Enter, Tab, Backspace and Ctrl+letter only for a chunk of exactly that one character.
 */
function alone(c: string, key: Key): [string, Key] {
  const base = { ...key, shift: /[A-Z]/.test(c) };
  if (c === '\r') return ['', { ...base, return: true }];
  if (c === '\t') return ['', { ...base, tab: true }];
  if (c === '\b') return ['', { ...base, backspace: true }];
  if (c === '\u007f') return ['', { ...base, delete: true }];
  if (c !== '\n' && c >= '\u0001' && c <= '\u001a')
    return [String.fromCharCode(c.charCodeAt(0) + 96), { ...base, ctrl: true }];
  return [c, base];
}

/**
 * Every key in one chunk of input. Fast typing, a held key or a paste arrives as one string ("jjj",
 * or "add\r" typed over ssh): that is one press per character, in order, Enter included.
 */
export function normalizeInput(input: string, key: Key): KeyPress[] {
  const chars = [...input];
  if (chars.length <= 1 || key.ctrl || key.meta) {
    const press = normalizeKey(input, key);
    return press ? [press] : [];
  }
  return chars.flatMap((c) => {
    const press = normalizeKey(...alone(c, key));
    return press ? [press] : [];
  });
}
