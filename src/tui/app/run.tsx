/**
 * Terminal setup: the alternate screen, Ink with Ctrl+C left to the keymap, slow frames noted, the
 * terminal restored however the TUI ends. Resolves when the person quits; the daemon keeps running.
 */
import { appendFileSync } from 'node:fs';
import { render, type Instance } from 'ink';
import { ErrorCode, NightshiftError } from '../../core/errors.js';
import type { Clock } from '../../lib/clock.js';
import type { LiveView, TuiSource } from '../../client/live/source.js';
import { WorkspaceSource } from '../../client/live/workspace-source.js';
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

/**
 * Slow frames: each one appended to $NIGHTSHIFT_TUI_LOG when set, a summary on stderr at exit. With
 * $NIGHTSHIFT_TUI_FRAMES=1 as well, every frame goes to the log (for benchmarks): `frame <ms>` for Ink's
 * render of the output (what the slow-frame budget counts), and `update <ms> cpu <ms>` for a whole update,
 * from the store's notification to the end of React's flush (render, commit, layout, Ink's output and its
 * write), with the CPU time the process spent meanwhile (which a busy machine inflates far less). Those
 * lines are buffered and written once a second: no frame waits for a file write.
 */
export class SlowFrames {
  count = 0;
  worst = 0;
  private buffered: string[] = [];
  private readonly timer: NodeJS.Timeout | null = null;
  constructor(
    private readonly logFile: string | undefined,
    private readonly now: () => number,
    /** Log every frame and update, not only the slow frames (needs logFile). */
    readonly every = false,
  ) {
    if (this.every && this.logFile) {
      this.timer = setInterval(() => this.flush(), 1000);
      this.timer.unref();
    }
  }

  note(ms: number): void {
    if (this.every) this.buffered.push(`${this.stamp()} frame ${ms.toFixed(2)} ms\n`);
    if (ms < SLOW_RENDER_MS) return;
    this.count++;
    this.worst = Math.max(this.worst, ms);
    this.append(`${this.stamp()} slow frame ${ms.toFixed(1)} ms\n`);
  }

  /** A line for the log (when there is one), stamped. */
  mark(text: string): void {
    this.append(`${this.stamp()} ${text}\n`);
  }

  /** A whole update: its duration and the CPU time it took (logged only when every frame is). */
  update(ms: number, cpuMs: number): void {
    if (this.every)
      this.buffered.push(`${this.stamp()} update ${ms.toFixed(2)} ms cpu ${cpuMs.toFixed(2)} ms\n`);
  }

  /** Writes what is buffered and stops the timer. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.flush();
  }

  summary(): string | null {
    if (!this.count) return null;
    return `nightshift tui: ${this.count} frame(s) over ${SLOW_RENDER_MS} ms (worst ${this.worst.toFixed(0)} ms)\n`;
  }

  private stamp(): string {
    return new Date(this.now()).toISOString();
  }

  private flush(): void {
    if (!this.buffered.length) return;
    const text = this.buffered.join('');
    this.buffered = [];
    this.append(text);
  }

  private append(text: string): void {
    if (!this.logFile) return;
    try {
      appendFileSync(this.logFile, text);
    } catch {
      /* a debug log must never break the screen */
    }
  }
}

/**
 * The source as App sees it, each notification (the workspace's, a live view's) timed until React has
 * flushed the update it causes. React flushes in a microtask that the listener queues, so a microtask
 * queued after the listener returns runs once the frame is done.
 */
export function timedSource(source: TuiSource, note: (ms: number, cpuMs: number) => void): TuiSource {
  const timed = (listener: () => void) => (): void => {
    const start = performance.now();
    const cpu = process.cpuUsage();
    listener();
    queueMicrotask(() => {
      const used = process.cpuUsage(cpu);
      note(performance.now() - start, (used.user + used.system) / 1000);
    });
  };
  const timedView = (view: LiveView): LiveView => ({
    subscribe: (listener) => view.subscribe(timed(listener)),
    frame: () => view.frame(),
    resize: (cols, rows) => view.resize(cols, rows),
    dispose: () => view.dispose(),
  });
  return {
    clock: source.clock,
    getSnapshot: source.getSnapshot,
    subscribe: (listener) => source.subscribe(timed(listener)),
    refresh: () => source.refresh(),
    specText: (taskId) => source.specText(taskId),
    diff: (taskId, round) => source.diff(taskId, round),
    attemptLog: (taskId, attempt) => source.attemptLog(taskId, attempt),
    submit: (request) => source.submit(request),
    attachArgv: (target, readOnly) => source.attachArgv(target, readOnly),
    startDaemon: () => source.startDaemon(),
    morningReport: () => source.morningReport(),
    openLive: (target, size) => timedView(source.openLive(target, size)),
    openArchitectLive: (started, size) => timedView(source.openArchitectLive(started, size)),
    architectAttachArgv: (session, readOnly) => source.architectAttachArgv(session, readOnly),
    close: () => source.close(),
  };
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
  const reading = { at: performance.now(), cpu: process.cpuUsage() };
  // The first frame needs only the first read of the queue, not the watcher's initial scan.
  const workspace = await WorkspaceSource.open({
    root: opts.root,
    clock: opts.clock,
    env: opts.env,
    waitForWatcher: false,
  });
  const logFile = opts.env['NIGHTSHIFT_TUI_LOG'];
  const slow = new SlowFrames(
    logFile,
    () => opts.clock.now(),
    !!logFile && opts.env['NIGHTSHIFT_TUI_FRAMES'] === '1',
  );
  const source = slow.every ? timedSource(workspace, (ms, cpuMs) => slow.update(ms, cpuMs)) : workspace;
  const read = { at: performance.now(), cpu: process.cpuUsage() };
  let rendered = 0;
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
      onRender: ({ renderTime }) => {
        slow.note(renderTime);
        // performance.now() counts from the process's start, process.cpuUsage() is the CPU time since then.
        if (rendered++ === 0) {
          const cpuMs = (u: NodeJS.CpuUsage) => Math.round((u.user + u.system) / 1000);
          const total = cpuMs(process.cpuUsage());
          slow.mark(
            `first frame at ${Math.round(performance.now())} ms after the process started, CPU ${total} ms` +
              ` (workspace read ${Math.round(reading.at)}–${Math.round(read.at)} ms, CPU ${cpuMs(read.cpu) - cpuMs(reading.cpu)} ms;` +
              ` then render, layout and output, CPU ${total - cpuMs(read.cpu)} ms, Ink's output ${renderTime.toFixed(1)} ms)`,
          );
        }
      },
    });
    await instance.waitUntilExit();
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGHUP', stop);
    process.off('exit', restore);
    restore();
    await workspace.close();
    slow.close();
    const summary = slow.summary();
    if (summary) stderr.write(summary);
  }
}
