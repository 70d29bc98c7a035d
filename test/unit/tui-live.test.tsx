import { workspaceId } from '../../src/config/workspace-identity.js';
import { sessionName } from '../../src/hosts/session-names.js';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attachArgv } from '../../src/client/attach.js';
import { parseConfig } from '../../src/config/load.js';
import { workspacePaths } from '../../src/config/paths.js';
import { waitFor } from '../../src/testing/wait.js';
import { LivePane } from '../../src/client/live/live-pane.js';
import type { LiveFrame } from '../../src/client/live/source.js';
import { tid } from '../../src/testing/ids.js';

let dir: string;
let pane: LivePane | null = null;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ns-live-'));
});
afterEach(() => {
  pane?.dispose();
  pane = null;
  rmSync(dir, { recursive: true, force: true });
});

function open(argv: string[] | null, opts: { reason?: string; rows?: number } = {}) {
  const logFile = path.join(dir, 'attempt-1.log');
  pane = new LivePane({
    tmuxTitle: 'tmux ns-x on local (read-only)',
    argv,
    reason: opts.reason ?? null,
    logFile,
    logLabel: 'logs/x/attempt-1.log',
    rows: opts.rows ?? 5,
    env: process.env,
    intervalMs: 20,
  });
  const frames: LiveFrame[] = [];
  pane.subscribe(() => frames.push(pane!.frame()));
  const until = (what: string, test: (f: LiveFrame) => boolean) =>
    waitFor(what, () => (pane && test(pane.frame()) ? pane.frame() : null), 10_000, 10);
  return { logFile, frames, until };
}

describe('the live executor view', () => {
  it('runs the attach command in a pseudo-terminal and reads the screen back as lines', async () => {
    const { until } = open(['sh', '-c', 'printf "one\\n\\033[31mtwo\\033[0m\\nthree"; sleep 30']);
    const f = await until('three lines', (fr) => fr.lines.join('|').includes('one|two|three'));
    expect(f.mode).toBe('tmux');
    expect(f.title).toBe('tmux ns-x on local (read-only)');
  });

  it('shows the lines ending at the cursor, as many as fit', async () => {
    const { until } = open(['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do echo "line $i"; done; sleep 30'], {
      rows: 3,
    });
    const f = await until('the last lines', (fr) => fr.lines.includes('line 8'));
    expect(f.lines).toEqual(['line 6', 'line 7', 'line 8']);
  });

  it('falls back to the mirrored log when the session is not there, and says why', async () => {
    const { logFile, until } = open(['sh', '-c', 'echo "can\'t find session: =ns-x"; exit 1']);
    writeFileSync(logFile, 'from the log\n\u001b[32mcoloured\u001b[0m\nprogress 10%\rprogress 100%\n');
    const f = await until('the log', (fr) => fr.mode === 'log' && fr.lines.includes('progress 100%'));
    expect(f.note).toBe("tmux: can't find session: =ns-x");
    expect(f.title).toBe('logs/x/attempt-1.log');
    expect(f.lines).toEqual(['from the log', 'coloured', 'progress 100%']);
  });

  it('follows a growing log, and says when there is none yet', async () => {
    const { logFile, until } = open(null, { reason: 'attempt 1 is not running: its mirrored log' });
    await until(
      'the missing-log note',
      (fr) => fr.note?.includes('no log yet at logs/x/attempt-1.log') ?? false,
    );
    writeFileSync(logFile, 'first\n');
    await until('the first line', (fr) => fr.lines.includes('first'));
    appendFileSync(logFile, 'second\n');
    const f = await until('the second line', (fr) => fr.lines.includes('second'));
    expect(f.note).toBe('attempt 1 is not running: its mirrored log');
  });

  it('throttles: a flood of output becomes a handful of updates', async () => {
    const { frames, until } = open([
      'sh',
      '-c',
      'i=0; while [ $i -lt 2000 ]; do echo "flood $i"; i=$((i+1)); done; sleep 30',
    ]);
    const started = Date.now();
    await until('the end of the flood', (fr) => fr.lines.includes('flood 1999'));
    const seconds = (Date.now() - started) / 1000;
    // intervalMs is 20 here: at most one update per 20 ms (plus the one that starts the view).
    expect(frames.length).toBeLessThanOrEqual(Math.ceil((seconds * 1000) / 20) + 2);
  });

  it('tells no one when the lines it shows did not change (a status line below the cursor ticking)', async () => {
    // 200 redraws of row 20, below the cursor (where tmux's status line is), then one new line.
    const { frames, until } = open([
      'sh',
      '-c',
      'printf "steady\\n"; i=0; while [ $i -lt 200 ]; do printf "\\0337\\033[20;1Hclock $i\\0338"; i=$((i+1)); sleep 0.005; done; printf "done\\n"; sleep 30',
    ]);
    await until('the last line', (fr) => fr.lines.includes('done'));
    // What the listeners heard: the view starting, maybe an empty screen, "steady", "steady|done".
    expect(frames.map((f) => f.lines.join('|')).filter((l) => l.includes('steady'))).toEqual([
      'steady',
      'steady|done',
    ]);
    expect(frames.length).toBeLessThanOrEqual(4);
  });
});

const hasTmux = spawnSync('tmux', ['-V']).status === 0;

describe.skipIf(!hasTmux)('against a real tmux session', () => {
  const socket = `ns-live-${process.pid}`;
  afterEach(() => {
    spawnSync('tmux', ['-S', path.join(dir, 'w', 'tmux', socket), 'kill-server']);
  });

  it('attaches read-only to =ns-<workspace id>_<id> and shows what the executor prints', async () => {
    mkdirSync(path.join(dir, 'w', 'tmux'), { recursive: true, mode: 0o700 });
    const started = spawnSync('tmux', [
      '-S',
      path.join(dir, 'w', 'tmux', socket),
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-s',
      sessionName(workspaceId(workspacePaths(dir)), tid('demo')),
      '-x',
      '200',
      '-y',
      '50',
      '--',
      'sh',
      '-c',
      'echo "agent says hello"; sleep 60',
    ]);
    expect(started.status).toBe(0);
    // The attach looks for the executors' socket in the host's workdir: point it at this test's server.
    const workdir = path.join(dir, 'w');
    const config = parseConfig(
      `hosts:\n  local: { kind: local, workdir: ${JSON.stringify(workdir)} }\n`,
      'nightshift.config.yaml',
    );
    const argv = attachArgv(config, workspacePaths(dir), 'local', tid('demo'), {
      socket,
      purpose: 'view',
      readOnly: true,
    });
    expect(argv).toEqual([
      'tmux',
      '-u',
      '-S',
      path.join(workdir, 'tmux', socket),
      'attach-session',
      '-r',
      '-f',
      'ignore-size',
      '-t',
      `=${sessionName(workspaceId(workspacePaths(dir)), tid('demo'))}`,
    ]);
    const { until } = open(argv);
    const f = await until('the executor output', (fr) => fr.lines.includes('agent says hello'));
    expect(f.mode).toBe('tmux');
    // Read-only and ignore-size: the executor's window keeps its size.
    const size = spawnSync(
      'tmux',
      [
        '-S',
        path.join(dir, 'w', 'tmux', socket),
        'list-windows',
        '-t',
        `=${sessionName(workspaceId(workspacePaths(dir)), tid('demo'))}`,
        '-F',
        '#{window_width}x#{window_height}',
      ],
      {
        encoding: 'utf8',
      },
    );
    expect(size.stdout.trim()).toBe('200x50');
  });
});
