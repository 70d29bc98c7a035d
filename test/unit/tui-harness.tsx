/**
 * The App in ink-testing-library on a MemorySource, for test/unit/tui-app*.test.tsx: keys are pressed one
 * at a time, each waiting for the frame it changes; waits are predicates on the frame with a deadline.
 */
import { render } from 'ink-testing-library';
import type { TaskRecord } from '../../src/core/task.js';
import { waitFor } from '../../src/testing/wait.js';
import { App } from '../../src/tui/app/App.js';
import { MemorySource, sampleTask } from '../../src/tui/data/memory-source.js';
import type { TuiSnapshot } from '../../src/client/live/source.js';
import type { ManualClock } from '../../src/lib/clock.js';
import { ManualTimers } from '../../src/lib/timers.js';

export const KEY = {
  down: '\u001b[B',
  right: '\u001b[C',
  esc: '\u001b',
  enter: '\r',
  ctrlC: '\u0003',
  tab: '\t',
};
export const SIZE = { rows: 30, cols: 100 };

export const TASKS: TaskRecord[] = [
  sampleTask('alpha', 'running', { provider: 'glm', host: 'oci' }),
  sampleTask('beta', 'review', { grade: 'B+' }),
  sampleTask('gamma', 'pending'),
  sampleTask('delta', 'failed'),
];

export const BASE: Partial<TuiSnapshot> = {
  tasks: TASKS,
  providers: [
    { name: 'glm', kind: 'claude-code', hosts: ['oci'], ceiling: 2 },
    { name: 'codex', kind: 'codex', hosts: ['local'], ceiling: 1 },
  ],
  hosts: [{ name: 'oci', kind: 'ssh' }],
  gates: [
    { name: 'tests', enabled: true, runnable: true },
    { name: 'lint', enabled: false, runnable: false },
  ],
};

let unmount: (() => void) | null = null;

/** Unmounts the app the last start() rendered (each test file calls it after each test). */
export function stopApp(): void {
  unmount?.();
  unmount = null;
}

export function start(
  opts: {
    readOnly?: boolean;
    snapshot?: Partial<TuiSnapshot>;
    size?: { rows: number; cols: number };
    clock?: ManualClock;
  } = {},
) {
  const source = new MemorySource({ ...BASE, ...opts.snapshot }, opts.clock);
  // With a manual clock, the screen's ticks are manual too: advance() moves both.
  const timers = opts.clock ? new ManualTimers(opts.clock) : undefined;
  const handed: string[][] = [];
  const terminal = {
    handOver: (argv: readonly string[]) => {
      handed.push([...argv]);
      return { ok: true, code: 0, message: 'tmux finished' };
    },
  };
  const r = render(
    <App
      source={source}
      readOnly={opts.readOnly ?? false}
      env={{ PAGER: 'most' }}
      terminal={terminal}
      size={opts.size ?? SIZE}
      {...(timers ? { timers } : {})}
    />,
  );
  unmount = r.unmount;
  const frame = () => r.lastFrame() ?? '';
  const until = (what: string, test: (f: string) => boolean) =>
    waitFor(what, () => test(frame()), 5000, 10).catch((err: Error) => {
      throw new Error(`${err.message}; the last frame:\n${frame()}`);
    });
  const press = async (keys: string, settled?: (f: string) => boolean) => {
    const list = keys === KEY.esc || keys === KEY.enter || keys.startsWith('\u001b[') ? [keys] : [...keys];
    for (const [i, k] of list.entries()) {
      const before = frame();
      r.stdin.write(k);
      // Each key of a sequence changes the frame (a move, a status line): wait for it before the next.
      if (i < list.length - 1)
        await waitFor(`a frame after ${JSON.stringify(k)}`, () => frame() !== before, 2000, 5);
    }
    if (settled) await until('the expected frame', settled);
  };
  /** Moves the manual clock (start({ clock })) by `ms`, firing the screen's ticks on the way. */
  const advance = (ms: number) => {
    if (!timers) throw new Error('advance() needs start({ clock })');
    timers.advance(ms);
  };
  return { source, handed, frame, until, press, advance, stdin: (data: string) => r.stdin.write(data) };
}
