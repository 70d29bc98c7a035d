import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attachArgv, tmuxAttachWords, tmuxSocket } from '../../src/client/attach.js';
import { startDaemon, type ProcessStarter } from '../../src/client/daemon-start.js';
import { handOverTerminal, pagerArgv } from '../../src/client/terminal.js';
import { WorkspaceClient } from '../../src/client/workspace.js';
import { parseConfig } from '../../src/config/load.js';
import { ManualClock } from '../../src/lib/clock.js';
import { QueueStore } from '../../src/queue/store.js';
import { parseSpec } from '../../src/spec/parse.js';
import { makeWorkspace, specText, type TestWorkspace } from '../../src/testing/workspace.js';
import { tid } from '../../src/testing/ids.js';
import { parseWorkspaceId } from '../../src/core/workspace-id.js';

let ws: TestWorkspace;
beforeEach(() => {
  ws = makeWorkspace();
  // This workspace's id on shared workers: its sessions are ns-c0ffee00_<task id>.
  mkdirSync(path.dirname(ws.paths.workspaceIdFile), { recursive: true });
  writeFileSync(ws.paths.workspaceIdFile, 'c0ffee00\n');
});
afterEach(() => ws.cleanup());

describe('attach argv (the TUI builds none itself)', () => {
  const config = parseConfig(
    [
      'hosts:',
      '  local: { kind: local }',
      '  oci: { kind: ssh, ssh: ubuntu@oci-worker, port: 2222, identityFile: /keys/id, sshConfig: /etc/ns.ssh, workdir: ~/.nightshift }',
    ].join('\n'),
    'nightshift.config.yaml',
  );

  it('is tmux itself for a local host: read-only, UTF-8 and ignore-size for the live view', () => {
    expect(
      attachArgv(config, ws.paths, 'local', tid('x-1'), {
        socket: 'nightshift',
        purpose: 'view',
        readOnly: true,
      }),
    ).toEqual([
      'tmux',
      '-u',
      '-S',
      path.join(ws.paths.root, 'hosts', 'local', 'tmux', 'nightshift'),
      'attach-session',
      '-r',
      '-f',
      'ignore-size',
      '-t',
      '=ns-c0ffee00_x-1',
    ]);
    expect(
      attachArgv(config, ws.paths, 'local', tid('x-1'), { socket: 's', purpose: 'person', readOnly: false }),
    ).toEqual([
      'tmux',
      '-S',
      path.join(ws.paths.root, 'hosts', 'local', 'tmux', 's'),
      'attach-session',
      '-t',
      '=ns-c0ffee00_x-1',
    ]);
  });

  it('goes through ssh -t for an ssh host, with its options and the remote words quoted', () => {
    const argv = attachArgv(config, ws.paths, 'oci', tid('x-1'), {
      socket: 'nightshift',
      purpose: 'person',
      readOnly: true,
    });
    expect(argv.slice(0, 7)).toEqual([
      'ssh',
      '-F',
      '/etc/ns.ssh',
      '-p',
      '2222',
      '-o',
      'IdentityFile="/keys/id"',
    ]);
    expect(argv).toContain('BatchMode=yes');
    expect(argv.slice(-4)).toEqual([
      '-t',
      '--',
      'ubuntu@oci-worker',
      "'tmux' '-S' '.nightshift/tmux/nightshift' 'attach-session' '-r' '-t' '=ns-c0ffee00_x-1'",
    ]);
  });

  it('refuses an unknown host and a task id that is not one', () => {
    expect(() =>
      attachArgv(config, ws.paths, 'mars', tid('x'), { socket: 's', purpose: 'view', readOnly: true }),
    ).toThrow(/host "mars"/);
    // A plain string is not a TaskId: ids are checked where they enter (core/ids.ts), not here.
    tmuxAttachWords(
      // @ts-expect-error -- '../evil' never becomes a TaskId
      { workspace: parseWorkspaceId('c0ffee00'), taskId: '../evil' },
      { socket: 's', purpose: 'view', readOnly: true },
    );
    expect(() => tid('../evil')).toThrow(/invalid task id/);
  });

  it("reaches only this workspace's session: another workspace's id names another session", () => {
    const words = (workspace: string) =>
      tmuxAttachWords(
        { workspace: parseWorkspaceId(workspace), taskId: tid('same') },
        { socket: 's', purpose: 'person', readOnly: true },
      ).at(-1);
    expect(words('c0ffee00')).toBe('=ns-c0ffee00_same');
    expect(words('0badf00d')).toBe('=ns-0badf00d_same');
    // The workspace's own id, as kept in queue/state/workspace-id, whatever the task.
    expect(
      attachArgv(config, ws.paths, 'local', tid('same'), {
        socket: 's',
        purpose: 'person',
        readOnly: true,
      }).at(-1),
    ).toBe('=ns-c0ffee00_same');
  });

  it('takes the socket from NIGHTSHIFT_TMUX_SOCKET', () => {
    expect(tmuxSocket({})).toBe('nightshift');
    expect(tmuxSocket({ NIGHTSHIFT_TMUX_SOCKET: 'mine' })).toBe('mine');
  });
});

describe('starting the daemon', () => {
  const fake = (hasSession: boolean) => {
    const calls: string[][] = [];
    const starter: ProcessStarter = {
      run: (argv) => {
        calls.push(['run', ...argv]);
        return { status: argv.includes('has-session') ? (hasSession ? 0 : 1) : 0, stderr: '' };
      },
      detach: (argv, opts) => {
        calls.push(['detach', ...argv, `cwd=${opts.cwd}`, `socket=${opts.env['NIGHTSHIFT_TMUX_SOCKET']}`]);
        return 4242;
      },
    };
    return { calls, starter };
  };

  it('opens a daemon window in the nightshift tmux session when there is one', () => {
    const { calls, starter } = fake(true);
    const r = startDaemon({ root: ws.root, socket: 'ns', env: {}, command: ['node', '/ns/bin.js'], starter });
    expect(r).toMatchObject({ ok: true, how: 'tmux' });
    expect(calls).toEqual([
      ['run', 'tmux', '-L', 'ns', 'has-session', '-t', '=nightshift'],
      [
        'run',
        'tmux',
        '-L',
        'ns',
        'new-window',
        '-d',
        '-t',
        '=nightshift:',
        '-n',
        'daemon',
        '-c',
        ws.paths.root,
        '-e',
        'NIGHTSHIFT_TMUX_SOCKET=ns',
        '--',
        'node',
        '/ns/bin.js',
        'daemon',
        '--workspace',
        ws.paths.root,
      ],
    ]);
  });

  it('starts a detached child when there is no nightshift session', () => {
    const { calls, starter } = fake(false);
    const r = startDaemon({
      root: ws.root,
      socket: 'ns',
      env: { PATH: '/bin' },
      command: ['node', '/ns/bin.js'],
      starter,
    });
    expect(r).toEqual({
      ok: true,
      how: 'detached',
      message: 'daemon starting as pid 4242 (its log: logs/daemon.log)',
    });
    expect(calls[1]).toEqual([
      'detach',
      'node',
      '/ns/bin.js',
      'daemon',
      '--workspace',
      ws.paths.root,
      `cwd=${ws.paths.root}`,
      'socket=ns',
    ]);
  });
});

describe('handing the terminal over', () => {
  it('runs a program to completion and reports how it ended', () => {
    expect(handOverTerminal(['true'])).toEqual({ ok: true, code: 0, message: 'true finished' });
    expect(handOverTerminal(['sh', '-c', 'exit 3'])).toEqual({
      ok: false,
      code: 3,
      message: 'sh exited with 3',
    });
    expect(handOverTerminal(['no-such-program-here']).message).toMatch(
      /no-such-program-here is not installed/,
    );
  });

  it('drops $TMUX so tmux attach works from inside tmux', () => {
    const r = handOverTerminal(['sh', '-c', 'test -z "$TMUX"'], {
      env: { TMUX: '/tmp/x,1,0', PATH: process.env['PATH'] },
    });
    expect(r.ok).toBe(true);
  });

  it('opens a file in $PAGER as a shell command line, the file passed as "$1"', () => {
    expect(pagerArgv('/l/a b.log', {})).toEqual(['sh', '-c', 'less -R "$1"', 'sh', '/l/a b.log']);
    expect(pagerArgv('/l/x.log', { PAGER: 'most -s' })).toEqual([
      'sh',
      '-c',
      'most -s "$1"',
      'sh',
      '/l/x.log',
    ]);
  });
});

it('a client opened without the cache sees tasks another store writes', () => {
  const clock = new ManualClock();
  const client = WorkspaceClient.open(ws.root, clock, { cache: false });
  expect(client.store.list()).toEqual([]);
  new QueueStore(ws.paths, clock).enqueue(
    parseSpec(Buffer.from(specText({ id: 'late' })), { file: 'late.md', config: ws.config }),
  );
  expect(client.store.list().map((t) => t.id)).toEqual(['late']);
});
