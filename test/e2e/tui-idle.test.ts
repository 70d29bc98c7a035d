/**
 * Redraw only on change, in the real TUI: `nightshift --no-tmux` in a tmux server of the test's own, on a
 * board where nothing changes and every time shown is over a minute old. Over a window, every frame it
 * renders is counted from its frame log (NIGHTSHIFT_TUI_FRAMES), and every byte it writes to its terminal
 * is caught (`tmux pipe-pane`; a frame rewrites the header, which names the workspace). The bounds are on
 * those counts, never on time: it rendered a frame every second (10 in the window, each the same text,
 * so Ink wrote none of them); now the clock may tick once, if the window crosses a minute.
 * test/unit/tui-redraw.test.tsx counts the same over a manual clock.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { enterRunning } from '../../src/core/task.js';
import { ManualClock } from '../../src/lib/clock.js';
import { QueueStore } from '../../src/queue/store.js';
import { parseSpec } from '../../src/spec/parse.js';
import { envOutsideTmux, TmuxScreen } from '../../src/testing/tmux-screen.js';
import { waitFor } from '../../src/testing/wait.js';
import { makeWorkspace, specText, type TestWorkspace } from '../../src/testing/workspace.js';

const BIN = fileURLToPath(new URL('../../bin/nightshift.js', import.meta.url));
const tag = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const WINDOW_MS = 10_000;

let ws: TestWorkspace | null = null;
let term: TmuxScreen | null = null;
afterEach(() => {
  term?.kill();
  term = null;
  ws?.cleanup();
  ws = null;
});

it('renders nothing and writes nothing while nothing changes, beyond a tick of the minute', async () => {
  ws = makeWorkspace();
  // Every task queued two hours ago, two of them running for the last hour: the board shows no seconds.
  const clock = new ManualClock(Date.now() - 2 * 3_600_000);
  const store = new QueueStore(ws.paths, clock);
  store.ensureLayout();
  for (let i = 1; i <= 12; i++) {
    const id = `idle-${String(i).padStart(2, '0')}`;
    store.enqueue(
      parseSpec(
        Buffer.from(
          specText({
            id,
            title: `Idle task ${i}`,
            body: `Idle task ${i}: change nothing, and stop when the tests pass.`,
          }),
        ),
        {
          file: `${id}.md`,
          config: ws.config,
        },
      ),
    );
  }
  clock.advance(3_600_000);
  for (const id of ['idle-01', 'idle-02'])
    store.transition(id as never, (t) =>
      enterRunning(t, { now: clock.now(), provider: 'scripted', host: 'local' }),
    );

  const root = ws.root;
  // Every frame Ink renders (whether or not its text changed) is logged with its time (src/tui/app/run.tsx).
  const frameLog = path.join(root, 'tui-frames.log');
  term = TmuxScreen.start({
    socket: `ns-tui-idle-${tag}`,
    session: 'idle',
    window: 'tui',
    argv: [process.execPath, BIN, '-w', root, '--no-tmux'],
    env: envOutsideTmux({
      NIGHTSHIFT_TMUX_SOCKET: `ns-tui-idle-ns-${tag}`,
      XDG_CACHE_HOME: path.join(root, '.cache'),
      NIGHTSHIFT_TUI_LOG: frameLog,
      NIGHTSHIFT_TUI_FRAMES: '1',
    }),
    cwd: root,
    cols: 120,
    rows: 32,
  });
  const t = term;
  await t.waitForScreen('tui', 'the board', (s) => s.includes('idle-01') && s.includes(root), 60_000);
  // Every byte written to the terminal from here on, as tmux receives it.
  const out = path.join(root, 'tui-output.bin');
  t.tmux(['pipe-pane', '-O', '-t', t.target('tui'), `cat > '${out}'`]);
  await waitFor('the pipe to the output file', () => existsSync(out), 10_000, 20);
  // The window to count over: a measurement period, not a wait for something. The watcher's own scan
  // finishes in it and the source reads every task again: what it finds is what it holds.
  const start = Date.now();
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
  const end = Date.now();
  const written = readFileSync(out, 'latin1');
  // A key that changes the screen (the selection moves): its frame shows in the pipe, and once its log
  // line is written every frame before it is too (the log is written in order, once a second).
  t.keys('tui', 'j');
  const stamps = await waitFor(
    'the frame after a key, logged and piped',
    () => {
      const logged = existsSync(frameLog) ? frameStamps(readFileSync(frameLog, 'utf8')) : [];
      return logged.some((at) => at > end) && readFileSync(out, 'latin1').length > written.length
        ? logged
        : null;
    },
    15_000,
    50,
  );
  t.tmux(['pipe-pane', '-t', t.target('tui')]);
  const frames = stamps.filter((at) => at > start && at <= end).length;
  const ticks = 1 + Math.floor((end - start) / 60_000);
  console.log(`tui-idle: ${frames} frame(s) rendered, ${written.length} bytes written in ${end - start} ms`);
  // It rendered a frame a second (10 here), each the same as the last.
  expect(frames).toBeLessThanOrEqual(ticks);
  expect(written.split(root).length - 1).toBeLessThanOrEqual(ticks);
});

/** The times of the `frame <ms>` lines of NIGHTSHIFT_TUI_LOG (src/tui/app/run.tsx, SlowFrames). */
function frameStamps(log: string): number[] {
  return [...log.matchAll(/^(\S+) frame [\d.]+ ms$/gm)].map((m) => Date.parse(m[1]!));
}
