/**
 * The Architect view's live pane over a real workspace (client/live/workspace-source.ts), from an
 * `architect.started` event alone: llm mode follows the streamed file as it grows; claude-code mode
 * attaches read-only to a real tmux session the event names, on the architect's own server (its socket
 * under the workspace's architect directory, as the claude-code architect makes it).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArchitectStarted } from '../../src/client/architect.js';
import type { LiveFrame, LiveView } from '../../src/client/live/source.js';
import { WorkspaceSource } from '../../src/client/live/workspace-source.js';
import { architectSocketPath } from '../../src/hosts/layout.js';
import { systemClock } from '../../src/lib/clock.js';
import { waitFor } from '../../src/testing/wait.js';
import { makeWorkspace, type TestWorkspace } from '../../src/testing/workspace.js';

const socket = `ns-arch-${process.pid}-${Date.now().toString(36)}`;
let ws: TestWorkspace;
let source: WorkspaceSource;
let view: LiveView | null = null;

beforeEach(async () => {
  ws = makeWorkspace();
  source = await WorkspaceSource.open({
    root: ws.root,
    clock: systemClock,
    env: { ...process.env, NIGHTSHIFT_TMUX_SOCKET: socket },
    watch: false,
  });
});
afterEach(async () => {
  view?.dispose();
  view = null;
  await source.close();
  spawnSync('tmux', ['-S', architectSocketPath(ws.paths), 'kill-server']);
  ws.cleanup();
});

const started = (over: Partial<ArchitectStarted>): ArchitectStarted => ({
  type: 'architect.started',
  time: new Date().toISOString(),
  task: 'demo',
  round: 0,
  mode: 'llm',
  reason: 'reviews round 1',
  ...over,
});

const until = (what: string, test: (f: LiveFrame) => boolean) =>
  waitFor(what, () => (view && test(view.frame()) ? view.frame() : null), 15_000, 20);

describe('the Architect view’s live pane', () => {
  it('llm mode: follows logs/architect/<task>-r<round>.log as the answer streams in', async () => {
    const file = path.join(ws.root, 'logs', 'architect', 'demo-r0.log');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '# model reviews demo\n{"grade":"B');
    view = source.openArchitectLive(started({ stream: 'logs/architect/demo-r0.log' }), {
      cols: 80,
      rows: 10,
    });
    await until('the first piece', (f) => f.lines.join('\n').includes('{"grade":"B'));
    appendFileSync(file, '+","verdict":"approve"\u001b[2J}\n');
    const f = await until('the next piece', (fr) => fr.lines.join('\n').includes('"verdict":"approve"'));
    expect(f.mode).toBe('log');
    expect(f.lines.join('\n')).not.toContain('\u001b');
  });

  it('refuses a stream path outside logs/architect/', async () => {
    view = source.openArchitectLive(started({ stream: '../../etc/passwd' }), { cols: 80, rows: 10 });
    const f = await until('the note', (fr) => (fr.note ?? '').includes('is not under logs/architect/'));
    expect(f.lines).toEqual([]);
  });

  it('claude-code mode: attaches read-only to the session the event names, on the architect’s own socket', async () => {
    mkdirSync(path.dirname(architectSocketPath(ws.paths)), { recursive: true, mode: 0o700 });
    const made = spawnSync('tmux', [
      '-S',
      architectSocketPath(ws.paths),
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-s',
      'ns-architect-demo',
      '-x',
      '200',
      '-y',
      '50',
      '--',
      'sh',
      '-c',
      'echo "architect reads src/http.ts"; sleep 60',
    ]);
    expect(made.status).toBe(0);
    view = source.openArchitectLive(started({ mode: 'claude-code', session: 'ns-architect-demo' }), {
      cols: 80,
      rows: 10,
    });
    const f = await until('the session’s screen', (fr) =>
      fr.lines.join('\n').includes('architect reads src/http.ts'),
    );
    expect(f.mode).toBe('tmux');
    expect(source.architectAttachArgv('ns-architect-demo', false)).toEqual([
      'tmux',
      '-S',
      architectSocketPath(ws.paths),
      'attach-session',
      '-t',
      '=ns-architect-demo',
    ]);
    expect(() => source.architectAttachArgv('-t evil', false)).toThrow(/not a tmux session name/);
  });
});
