/**
 * Untrusted text (file names, executor output, titles, reasons) made safe to print: every control and
 * bidi character except newline and tab becomes a visible `\uXXXX`, so the text can neither drive a
 * terminal (ESC sequences, BEL, C1 CSI) nor reorder what a reader sees. The one function every sink
 * uses: the daemon's log, the CLI's stdout and stderr, the report and the TUI.
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function visible(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
