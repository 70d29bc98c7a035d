/**
 * The Executor tab's live view: a read-only `tmux attach` running in a pseudo-terminal (node-pty),
 * its output interpreted by a headless xterm, the screen read back as text lines. When there is no
 * session to attach to (the attempt ended, tmux is absent, the link is down) it follows the mirrored
 * log file instead and says why. Updates reach the screen at most four times a second.
 */
import { statSync } from 'node:fs';
import type { Terminal as XtermTerminal } from '@xterm/headless';
import type * as pty from 'node-pty';
import type { LiveFrame, LiveView } from './source.js';
import { stripAnsi, textLines } from '../../lib/screen-text.js';
import { readTail } from './tail.js';
import { throttle, UPDATE_INTERVAL_MS, type Throttled } from './throttle.js';

type HeadlessTerminal = XtermTerminal;

interface PtyModules {
  Terminal: typeof XtermTerminal;
  spawn: typeof pty.spawn;
}

let ptyModules: Promise<PtyModules> | null = null;
/**
 * node-pty and @xterm/headless, loaded when the first live view attaches: nothing else needs them, and
 * loading them costs the first frame ~50 ms.
 */
function loadPtyModules(): Promise<PtyModules> {
  ptyModules ??= Promise.all([import('@xterm/headless'), import('node-pty')]).then(([x, p]) => {
    // Both are CommonJS: module.exports is the default export (named ones only as Node detects them).
    const xtermExports = (x as unknown as { default: { Terminal: typeof XtermTerminal } }).default;
    const ptyExports = (p as unknown as { default?: typeof pty }).default ?? p;
    return { Terminal: xtermExports.Terminal, spawn: ptyExports.spawn };
  });
  return ptyModules;
}

/**
 * The pseudo-terminal's size: the executor windows' size (hosts/worker.ts: new-session -x 200 -y 50)
 * plus tmux's status line. `ignore-size` keeps a view from resizing the window while a person is
 * attached too, but tmux sizes a window to its only client even so: this size leaves it as it was.
 */
export const PTY_COLS = 200;
export const PTY_ROWS = 51;
/** How much of a log file the fallback reads (its end). */
const LOG_TAIL_BYTES = 64 * 1024;
const LOG_KEEP_LINES = 1000;

export interface LivePaneOptions {
  /** What the title says, e.g. "tmux ns-x on oci". */
  tmuxTitle: string;
  /** The attach argv, or null to follow the log at once. */
  argv: readonly string[] | null;
  /** Why there is no argv (shown as the note), when argv is null. */
  reason: string | null;
  logFile: string;
  logLabel: string;
  rows: number;
  env: NodeJS.ProcessEnv;
  intervalMs?: number;
  spawn?: typeof pty.spawn;
}

export class LivePane implements LiveView {
  private readonly listeners = new Set<() => void>();
  private readonly notify: Throttled;
  private current: LiveFrame;
  /** The frame the listeners were last told of. */
  private published: LiveFrame | null = null;
  private rows: number;
  private term: HeadlessTerminal | null = null;
  private proc: pty.IPty | null = null;
  private poll: NodeJS.Timeout | null = null;
  private logSize = -1;
  private logLines: string[] = [];
  /** Why the view follows the log (without the "no log yet" part, which comes and goes). */
  private logReason: string | null = null;
  private disposed = false;

  constructor(private readonly opts: LivePaneOptions) {
    this.rows = Math.max(1, opts.rows);
    this.notify = throttle(() => this.publish(), opts.intervalMs ?? UPDATE_INTERVAL_MS);
    this.current = { mode: 'none', title: opts.tmuxTitle, note: 'connecting…', lines: [] };
    if (opts.argv) this.attach(opts.argv);
    else this.followLog(opts.reason);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  frame(): LiveFrame {
    return this.current;
  }

  resize(_cols: number, rows: number): void {
    if (rows === this.rows) return;
    this.rows = Math.max(1, rows);
    this.notify();
  }

  dispose(): void {
    this.disposed = true;
    this.notify.cancel();
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    this.killPty();
    this.listeners.clear();
  }

  private attach(argv: readonly string[]): void {
    loadPtyModules().then(
      (modules) => {
        if (!this.disposed) this.attachWith(modules, argv);
      },
      (err: unknown) => this.followLog(`could not load the terminal emulator: ${(err as Error).message}`),
    );
  }

  private attachWith({ Terminal, spawn }: PtyModules, argv: readonly string[]): void {
    const [file, ...args] = argv;
    const { TMUX: _tmux, ...env } = this.opts.env;
    const term = new Terminal({ cols: PTY_COLS, rows: PTY_ROWS, scrollback: 0, allowProposedApi: true });
    this.term = term;
    try {
      const proc = (this.opts.spawn ?? spawn)(file ?? 'tmux', args, {
        name: 'xterm-256color',
        cols: PTY_COLS,
        rows: PTY_ROWS,
        env: { ...env, TERM: 'xterm-256color' },
      });
      this.proc = proc;
      proc.onData((data) => term.write(data, () => this.notify()));
      proc.onExit(() => {
        if (this.disposed) return;
        // Let xterm finish parsing what arrived before the exit, then read the last words.
        term.write('', () => {
          const last = this.screenLines()
            .filter((l) => l.trim())
            .at(-1)
            ?.trim();
          this.proc = null;
          this.followLog(last ? `tmux: ${last}` : 'the tmux session ended');
        });
      });
      this.current = { mode: 'tmux', title: this.opts.tmuxTitle, note: null, lines: [] };
      this.notify();
    } catch (err) {
      this.followLog(`could not start ${file ?? 'tmux'}: ${(err as Error).message}`);
    }
  }

  private killPty(): void {
    const proc = this.proc;
    this.proc = null;
    try {
      proc?.kill();
    } catch {
      /* already gone */
    }
    this.term?.dispose();
    this.term = null;
  }

  private screenLines(): string[] {
    const term = this.term;
    if (!term) return [];
    const buffer = term.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < term.rows; y++)
      lines.push(buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? '');
    return lines;
  }

  /**
   * The rows that matter: the window ending at the cursor (where an agent writes), blank lines above
   * the cursor skipped. Rows below the cursor (tmux's status bar among them) are left out.
   */
  private tmuxLines(): string[] {
    const lines = this.screenLines();
    let last = Math.min(lines.length - 1, this.term ? this.term.buffer.active.cursorY : 0);
    while (last > 0 && !lines[last]?.trim()) last--;
    return textLines(lines.slice(Math.max(0, last + 1 - this.rows), last + 1).join('\n'));
  }

  private followLog(note: string | null): void {
    if (this.disposed) return;
    this.killPty();
    this.logReason = note;
    this.current = { mode: 'log', title: this.opts.logLabel, note, lines: [] };
    this.readLog();
    this.poll = setInterval(() => this.readLog(), this.opts.intervalMs ?? UPDATE_INTERVAL_MS);
    this.notify();
  }

  private readLog(): void {
    let size: number;
    try {
      size = statSync(this.opts.logFile).size;
    } catch {
      if (this.logSize !== -2) {
        this.logSize = -2;
        this.logLines = [];
        this.notify();
      }
      return;
    }
    if (size === this.logSize) return;
    const tail = readTail(this.opts.logFile, LOG_TAIL_BYTES);
    if (!tail) return;
    this.logSize = tail.size;
    const text = stripAnsi(tail.text);
    this.logLines = textLines(text.endsWith('\n') ? text.slice(0, -1) : text).slice(-LOG_KEEP_LINES);
    this.notify();
  }

  /** Tells the listeners, unless the frame is the one they have (tmux redrew its status line, say). */
  private publish(): void {
    if (this.disposed) return;
    const { mode, title, note } = this.current; // note: only the tmux mode keeps it as is
    if (mode === 'tmux') {
      this.current = { mode, title, note, lines: this.tmuxLines() };
    } else if (mode === 'log') {
      const missing = this.logSize === -2;
      this.current = {
        mode,
        title,
        note: missing
          ? [this.logReason, `no log yet at ${this.opts.logLabel}`].filter(Boolean).join('; ')
          : this.logReason,
        lines: this.logLines.slice(-this.rows),
      };
    }
    if (this.published && sameFrame(this.published, this.current)) {
      this.current = this.published;
      return;
    }
    this.published = this.current;
    for (const listener of this.listeners) listener();
  }
}

function sameFrame(a: LiveFrame, b: LiveFrame): boolean {
  return (
    a.mode === b.mode &&
    a.title === b.title &&
    a.note === b.note &&
    a.lines.length === b.lines.length &&
    a.lines.every((line, i) => line === b.lines[i])
  );
}
