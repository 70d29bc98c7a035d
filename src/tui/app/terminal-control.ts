/**
 * Handing the terminal over (tmux attach, $PAGER) and taking it back. Ink is paused around a blocking
 * call to the client's handOverTerminal: raw mode off and the main screen back for the program, then
 * the alternate screen, raw mode and a full redraw for us. Tests pass a fake that records the argv.
 */
import type { Instance } from 'ink';
import { handOverTerminal, type HandOverResult } from '../../client/terminal.js';

export interface TerminalControl {
  handOver(argv: readonly string[]): HandOverResult;
}

export const ENTER_ALT_SCREEN = '\u001b[?1049h\u001b[2J\u001b[H';
export const LEAVE_ALT_SCREEN = '\u001b[?1049l';
export const SHOW_CURSOR = '\u001b[?25h';
export const HIDE_CURSOR = '\u001b[?25l';

export function inkTerminalControl(opts: {
  instance: () => Instance | null;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}): TerminalControl {
  return {
    handOver(argv) {
      const raw = opts.stdin.isTTY ? opts.stdin.isRaw : false;
      if (opts.stdin.isTTY) opts.stdin.setRawMode(false);
      opts.stdout.write(LEAVE_ALT_SCREEN + SHOW_CURSOR);
      // Out of raw mode, Ctrl+C in the pager signals our whole process group: that is not a quit.
      const ignore = () => undefined;
      process.on('SIGINT', ignore);
      try {
        return handOverTerminal(argv, { env: opts.env });
      } finally {
        opts.stdout.write(ENTER_ALT_SCREEN + HIDE_CURSOR);
        if (opts.stdin.isTTY) opts.stdin.setRawMode(raw);
        // Forget the previous frame so the next render draws the whole screen again.
        opts.instance()?.clear();
        // A signal that arrived during the blocking call is delivered on the next turns of the loop.
        setTimeout(() => process.off('SIGINT', ignore), 200);
      }
    },
  };
}
