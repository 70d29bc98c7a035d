/** Colours and glyphs: the one place the TUI's look is decided. */
import type { TaskState } from '../../core/state.js';

export type Tone = 'info' | 'ok' | 'warn' | 'error';

export const STATE_GLYPH: Readonly<Record<TaskState, string>> = {
  pending: '○',
  running: '●',
  review: '◆',
  done: '✓',
  failed: '✗',
};

export const STATE_COLOR: Readonly<Record<TaskState, string>> = {
  pending: 'gray',
  running: 'cyan',
  review: 'yellow',
  done: 'green',
  failed: 'red',
};

/** The board shows active work first and the (long) done list last. */
export const BOARD_ORDER: readonly TaskState[] = ['running', 'review', 'pending', 'failed', 'done'];

export const TONE_COLOR: Readonly<Record<Tone, string>> = {
  info: 'white',
  ok: 'green',
  warn: 'yellow',
  error: 'red',
};

export const theme = {
  focusBorder: 'cyan',
  border: 'gray',
  dim: 'gray',
  selected: 'blue',
  frozen: 'red',
  key: 'cyan',
  pass: 'green',
  fail: 'red',
} as const;

export const SPARK_BARS = '▁▂▃▄▅▆▇█';
