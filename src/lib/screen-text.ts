/**
 * Untrusted text made ready for a screen: control characters visible (lib/visible.ts), carriage-return
 * progress resolved, ANSI escapes removed. Shared by the TUI's formatting and the client's live views.
 */
import { visible } from './visible.js';

/** Replaces control and bidi characters with a visible \uXXXX (lib/visible.ts; a line break too). Tabs become two spaces. */
export function clean(text: string): string {
  return visible(text.replace(/\t/g, '  ')).replace(/\n/g, '\\u000a');
}

/** Untrusted multi-line text as display lines (control characters visible, \r progress resolved). */
export function textLines(text: string): string[] {
  return text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => clean(line.slice(line.lastIndexOf('\r') + 1)));
}

/** Removes ANSI escape sequences (for log files shown as plain text). */
export function stripAnsi(text: string): string {
  return text.replace(
    /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)|\u001b[@-Z\\-_]/g,
    '',
  );
}
