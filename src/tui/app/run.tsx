/**
 * Terminal setup: the alternate screen, Ink with Ctrl+C left to the keymap, slow frames noted, the
 * terminal restored however the TUI ends. Resolves when the person quits; the daemon keeps running.
 */
import { appendFileSync } from 'node:fs';
import { render, type Instance } from 'ink';
import { ErrorCode, NightshiftError } from '../../core/errors.js';
import type { Clock } from '../../lib/clock.js';
import { WorkspaceSource } from '../data/workspace-source.js';
import { App } from './App.js';
import { ENTER_ALT_SCREEN, inkTerminalControl, LEAVE_ALT_SCREEN, SHOW_CURSOR } from './terminal-control.js';

/** A frame slower than this is noted (render budget). */
export const SLOW_RENDER_MS = 50;

export interface StartTuiOptions {
  root: string;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  readOnly: boolean;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

/** Slow frames: each one appended to $NIGHTSHIFT_TUI_LOG when set, a summary on stderr at exit. */
export class SlowFrames {
  count = 0;
  worst = 0;
  constructor(
    private readonly logFile: string | undefined,
    private readonly now: () => number,
  ) {}

  note(ms: number): void {
    if (ms < SLOW_RENDER_MS) return;
    this.count++;
    this.worst = Math.max(this.worst, ms);
    if (this.logFile) {
      try {
        appendFileSync(
          this.logFile,
          `${new Date(this.now()).toISOString()} slow frame ${ms.toFixed(1)} ms\n`,
        );
      } catch {
        /* a debug log must never break the screen */
      }
    }
  }

  summary(): string | null {
    if (!this.count) return null;
    return `nightshift tui: ${this.count} frame(s) over ${SLOW_RENDER_MS} ms (worst ${this.worst.toFixed(0)} ms)\n`;
  }
}

export async function startTui(opts: StartTuiOptions): Promise<void> {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  if (!stdin.isTTY || !stdout.isTTY) {
    throw new NightshiftError(ErrorCode.usage, 'the TUI needs a terminal (stdin and stdout are not a TTY)', {
      hint: 'use `nightshift ls`, `nightshift show <id>` or `nightshift logs <id>` from scripts',
    });
  }
  const source = await WorkspaceSource.open({ root: opts.root, clock: opts.clock, env: opts.env });
  const slow = new SlowFrames(opts.env['NIGHTSHIFT_TUI_LOG'], () => opts.clock.now());
  let instance: Instance | null = null;
  const restore = () => stdout.write(LEAVE_ALT_SCREEN + SHOW_CURSOR);
  process.once('exit', restore);
  const stop = () => instance?.unmount();
  process.once('SIGTERM', stop);
  process.once('SIGHUP', stop);
  stdout.write(ENTER_ALT_SCREEN);
  try {
    const terminal = inkTerminalControl({ instance: () => instance, stdin, stdout, env: opts.env });
    instance = render(<App source={source} readOnly={opts.readOnly} env={opts.env} terminal={terminal} />, {
      stdin,
      stdout,
      stderr,
      exitOnCtrlC: false,
      // Ink 6.8's incremental mode garbles this screen (rows drift on partial updates): redraw whole frames.
      incrementalRendering: false,
      maxFps: 30,
      onRender: ({ renderTime }) => slow.note(renderTime),
    });
    await instance.waitUntilExit();
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGHUP', stop);
    process.off('exit', restore);
    restore();
    await source.close();
    const summary = slow.summary();
    if (summary) stderr.write(summary);
  }
}
