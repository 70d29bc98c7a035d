/**
 * The Architect view (key 5) end to end, in real tmux: an `llm` architect on the loopback Messages-API
 * server reviews a scripted task while the TUI watches. The server streams the first half of its answer
 * and holds the rest until the test releases it, so the view must show the review in progress with the
 * streamed part, then the verdict with its grade. The TUI runs in a private tmux server and starts the
 * daemon in a window beside it; nightshift's own tmux (executors) is a second private socket.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import {
  held,
  startAnthropicServer,
  toolUse,
  type AnthropicServer,
} from '../../src/testing/anthropic-server.js';
import { isAlive, readLock } from '../../src/queue/lock.js';
import { makeNight, scriptedSpec, type Night } from '../../src/testing/night.js';
import { envOutsideTmux, killServer, TmuxScreen } from '../../src/testing/tmux-screen.js';
import { waitFor } from '../../src/testing/wait.js';

const BIN = fileURLToPath(new URL('../../bin/nightshift.js', import.meta.url));
const TERM_SOCKET = `ns-tui-arch-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const TASK = 'arch-task';
/**
 * The streamed text: the server sends it in two halves of equal length, holding the second. The stream's
 * redactor keeps back the tail of a piece that could begin a secret, so the view shows the start of FIRST.
 */
const FIRST = 'streamed-before-release: reading the diff of arch-task\n';
const SECOND = 'streamed-after-the-release: the change looks right ok.\n';
const SUMMARY = 'One file added, as the spec asks.';

let night: Night | null = null;
let server: AnthropicServer | null = null;
let term: TmuxScreen | null = null;

function daemonPid(): number | null {
  const lock = night ? readLock(night.paths.lock) : null;
  return lock?.kind === 'daemon' ? lock.pid : null;
}

afterAll(async () => {
  try {
    const pid = daemonPid();
    if (pid && isAlive(pid)) {
      process.kill(pid, 'SIGTERM');
      // The daemon is a child of our tmux server, which must reap it (see TmuxScreen.reap).
      await waitFor(
        'the daemon to stop',
        () => {
          term?.reap();
          return !isAlive(pid);
        },
        30_000,
      ).catch(() => {
        if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      });
    }
  } finally {
    term?.kill();
    if (night) killServer(night.socket);
    await night?.cleanup();
    await server?.close();
    if (night && !process.env['NS_KEEP_TEST_DIRS']) rmSync(night.root, { recursive: true, force: true });
  }
});

it('shows a review in progress with the text streamed so far, then the verdict with its grade', async () => {
  expect(existsSync(fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url)))).toBe(true);
  expect(FIRST.length).toBe(SECOND.length);
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  server = await startAnthropicServer();
  server.enqueue(
    held(
      toolUse(
        'submit_verdict',
        { grade: 'A-', verdict: 'approve', summary: SUMMARY, findings: [] },
        FIRST + SECOND,
      ),
      released,
    ),
  );
  night = makeNight({
    providers: '  good: { kind: scripted, hosts: [local], concurrency: 1 }',
    extra: [
      'architect:',
      '  mode: llm',
      `  baseURL: ${server.url}`,
      '  apiKeyEnv: NS_TEST_ARCHITECT_KEY',
      '  timeout: 10m',
      'defaults: { retryInitial: 1s, retryMax: 2s, livenessEvery: 1s, monitorEvery: 1h }',
    ].join('\n'),
  });
  mkdirSync(night.paths.specs, { recursive: true });
  night.dropSpec(
    `${TASK}.md`,
    scriptedSpec(TASK, ['write arch.txt "arch\\n"', 'commit "arch"', 'exit 0'].join('\n')),
  );
  const env = envOutsideTmux({
    NIGHTSHIFT_TMUX_SOCKET: night.socket,
    NS_TEST_ARCHITECT_KEY: 'test-architect-key',
    ANTHROPIC_API_KEY: '',
    ANTHROPIC_BASE_URL: '',
    // As on a CI runner: Ink would draw nothing until exit in its CI mode, which the TUI turns off.
    CI: 'true',
    XDG_CACHE_HOME: `${night.root}/.cache`,
  });
  term = TmuxScreen.start({
    socket: TERM_SOCKET,
    session: 'term',
    window: 'tui',
    argv: [process.execPath, BIN, '-w', night.root],
    env,
    cwd: night.root,
    cols: 160,
    rows: 45,
  });
  await waitFor('the daemon to hold the workspace lock', daemonPid, 60_000);
  await term.waitForScreen('tui', 'the board', (s) => s.includes('[1] Board'), 60_000);
  term.keys('tui', '5');

  const live = await term.waitForScreen(
    'tui',
    'the review in progress with the first half of the answer',
    (s) => s.includes(`reviewing ${TASK}, round 1 (llm)`) && s.includes('streamed-before-release: reading'),
    120_000,
  );
  // The second half is still held by the server: the view cannot show it, nor a verdict.
  expect(live).not.toContain('streamed-after-the-release');
  expect(live).toContain('Recent verdicts (0)');
  expect(server.messages()).toHaveLength(1);

  release();
  const done = await term.waitForScreen(
    'tui',
    'the verdict with its grade',
    (s) =>
      s.includes('no review in progress') &&
      s.includes(`last verdict: ${TASK} approve (A-)`) &&
      /Recent verdicts \(1\)/.test(s) &&
      new RegExp(`${TASK} r1 +A- +approve +${SUMMARY.slice(0, 20)}`).test(s),
    120_000,
  );
  expect(done).not.toContain('reviewing arch-task');
});
