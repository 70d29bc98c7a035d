/**
 * The decisions of hosts/ (WorkerHost and its modules, Tmux, load sensing) on a FakeRunner that asserts
 * every command's exact argv in order: what a launch sends, how status.sh's output is read, when
 * salvage commits, how load is judged. The real commands run in the e2e tests (worker-local,
 * hosts-contract, hostile-executor); here the point is the argv and the parsing.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { NightshiftError } from '../../src/core/errors.js';
import { parseStatuses } from '../../src/hosts/attempt-status.js';
import { sampleLoad } from '../../src/hosts/load.js';
import { envFileText, quoteArgv } from '../../src/hosts/quote.js';
import { CommandError } from '../../src/hosts/runner.js';
import {
  LOAD_SH,
  MOVED_SH,
  REAP_SH,
  RUN_SH,
  STAGE_BUSY,
  STAGE_FOREIGN_SERVER,
  STAGE_NO_RECORD,
  STAGE_NO_SESSION,
  STAGE_SH,
  STATUS_SH,
} from '../../src/hosts/scripts.js';
import { newSessionArgs, PANE_FORMAT, TMUX_CONF } from '../../src/hosts/tmux.js';
import { WorkerHost, type LaunchSpec } from '../../src/hosts/worker.js';
import { FakeRunner } from '../../src/testing/fake-runner.js';
import { tid } from '../../src/testing/ids.js';

const FACTS = ['sh', '-c', 'printf "%s\\n%s\\n%s\\n" "$HOME" "$PATH" "$(id -u)"; getconf _NPROCESSORS_ONLN'];
const W = '/w';
const TMUX = ['env', '-i', 'PATH=/usr/bin:/bin', 'HOME=/home/u', 'LANG=C.UTF-8', 'tmux', '-u', '-S'];
const SOCKET = '/w/tmux/nightshift';
const CONF = '/w/ws/0000beef/tmux.conf';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let runners: FakeRunner[] = [];
function fake(): FakeRunner {
  const r = new FakeRunner('w1', 'ssh');
  runners.push(r);
  return r;
}
afterEach(() => {
  const all = runners;
  runners = [];
  for (const r of all) r.verify();
});

/** A WorkerHost whose prepare() ran on `runner`, with run.sh and tmux.conf already installed. */
async function prepared(runner = fake()): Promise<WorkerHost> {
  runner
    .expect(FACTS, { stdout: '/home/u\n/usr/bin:/bin\n1000\n4\n' })
    .expect([
      'mkdir',
      '-p',
      '-m',
      '700',
      W,
      '/w/tmux',
      '/w/ws',
      '/w/ws/0000beef',
      '/w/ws/0000beef/repos',
      '/w/ws/0000beef/tasks',
      '/w/ws/0000beef/worktrees',
      '/w/ws/0000beef/bin',
      '/w/ws/0000beef/state',
    ])
    .expect(['chmod', '700', '/w/tmux'])
    .expect(['sha256sum', '/w/ws/0000beef/run.sh'], { stdout: `${sha(RUN_SH)}  /w/ws/0000beef/run.sh\n` })
    .expect(['sha256sum', CONF], { stdout: `${sha(TMUX_CONF)}  ${CONF}\n` });
  const host = new WorkerHost('w1', runner, W, '0000beef', 'nightshift', fake());
  await host.prepare();
  runner.verify();
  return host;
}

describe('FakeRunner', () => {
  it('fails on an unexpected command, even one the code swallows, and on one never run', async () => {
    const r = new FakeRunner();
    r.expect(['git', 'status']);
    await r.run(['git', 'log']).catch(() => null);
    expect(() => r.verify()).toThrow(/expected \["git","status"\]\n {2}got {6}\["git","log"\]/);
    r.expect(['true']);
    expect(() => r.verify()).toThrow(/never ran: \["true"\]/);
    await expect(r.run(['x'])).rejects.toThrow(/none was expected/);
    expect(() => r.verify()).toThrow();
  });

  it('throws CommandError on a non-zero exit only with check: true', async () => {
    const r = new FakeRunner().expect(['false'], { exitCode: 1 }).expect(['false'], { exitCode: 1 });
    expect((await r.run(['false'])).exitCode).toBe(1);
    await expect(r.run(['false'], { check: true })).rejects.toBeInstanceOf(CommandError);
    r.verify();
  });
});

describe('WorkerHost.prepare', () => {
  it('reads the facts, makes the layout, and writes run.sh only when its hash differs', async () => {
    const runner = fake();
    runner
      .expect(FACTS, { stdout: '/home/u\n/usr/bin:/bin\n1000\n4\n' })
      .expect([
        'mkdir',
        '-p',
        '-m',
        '700',
        '/home/u/ns',
        '/home/u/ns/tmux',
        '/home/u/ns/ws',
        '/home/u/ns/ws/0000beef',
        ...['repos', 'tasks', 'worktrees', 'bin', 'state'].map((d) => `/home/u/ns/ws/0000beef/${d}`),
      ])
      .expect(['chmod', '700', '/home/u/ns/tmux'])
      .expect(['sha256sum', '/home/u/ns/ws/0000beef/run.sh'], { exitCode: 1, stderr: 'No such file' })
      .expect(
        [
          'sh',
          '-c',
          'umask 077 && cat > "$1" && chmod "$2" "$1"',
          'sh',
          '/home/u/ns/ws/0000beef/run.sh',
          '755',
        ],
        {},
        { input: RUN_SH },
      )
      .expect(['sha256sum', '/home/u/ns/ws/0000beef/tmux.conf'], { stdout: `${sha(TMUX_CONF)}  x\n` });
    const host = new WorkerHost('w1', runner, '~/ns', '0000beef', 'nightshift', fake());
    expect(await host.prepare()).toEqual({
      home: '/home/u',
      path: '/usr/bin:/bin',
      uid: 1000,
      cores: 4,
      workdir: '/home/u/ns',
    });
    // Installed once per process: no second check.
    await host.installFile('/home/u/ns/ws/0000beef/run.sh', RUN_SH, '755');
  });

  it('names the host when its environment cannot be read', async () => {
    const runner = fake().expect(FACTS, { exitCode: 1, stderr: 'getconf: not found' });
    await expect(new WorkerHost('w1', runner, W, '0000beef').prepare()).rejects.toThrow(/getconf: not found/);
  });
});

describe('WorkerHost.launch', () => {
  const spec: LaunchSpec = {
    taskId: tid('fix-a'),
    attempt: 2,
    repo: 'app',
    argv: ['claude', '-p', '{{nightshift:prompt}}', 'x;'],
    env: { TOKEN: 'sk-secret' },
    secretKeys: ['TOKEN'],
    stdin: 'null',
    prompt: 'do it\n',
  };
  const runnerArgv = [
    'env',
    '-i',
    'PATH=/usr/bin:/bin',
    'HOME=/home/u',
    'LANG=C.UTF-8',
    `NIGHTSHIFT_EXIT_SOCKET=${SOCKET}`,
    'sh',
    '/w/ws/0000beef/run.sh',
    '/w/ws/0000beef/tasks/fix-a',
    '/w/ws/0000beef/worktrees/fix-a',
    '2',
    'null',
    '--argv-file',
  ];
  const prompt = Buffer.from(spec.prompt);
  const env = Buffer.from(envFileText({ TOKEN: 'sk-secret', NIGHTSHIFT_TASK: 'fix-a' }, ['TOKEN']));
  const argvFile = Buffer.from(quoteArgv(spec.argv));
  const stage = [
    'sh',
    '-c',
    STAGE_SH,
    'sh',
    '/w/ws/0000beef/tasks/fix-a',
    String(prompt.length),
    String(env.length),
    String(argvFile.length),
    'ns-0000beef_fix-a',
    SOCKET,
    CONF,
    '/w/ws/0000beef/repos/app.git',
    '2',
    'refs/heads/main refs/heads/master',
    ...newSessionArgs('ns-0000beef_fix-a', '/w/ws/0000beef/worktrees/fix-a', runnerArgv),
  ];

  it('stages the files on stdin and starts the session in one command: no spec text, no secret in argv', async () => {
    const runner = fake();
    const host = await prepared(runner);
    runner.expect(stage, {}, { input: Buffer.concat([prompt, env, argvFile]) });
    await host.launch(spec);
    const sent = runner.calls.at(-1)?.argv.join('\0') ?? '';
    expect(sent).not.toContain('sk-secret');
    expect(sent).not.toContain('do it');
  });

  it.each([
    [STAGE_BUSY, '', /session ns-0000beef_fix-a is already running/],
    [STAGE_NO_SESSION, 'server exited', /could not start session ns-0000beef_fix-a: server exited/],
    [STAGE_NO_RECORD, 'bad ref', /protected refs of app .* nothing was started: bad ref/],
    [1, 'disk full', /could not stage attempt 2: disk full/],
  ])('turns stage.sh exit %i into an error that says why', async (exitCode, stderr, message) => {
    const runner = fake();
    const host = await prepared(runner);
    runner.expect(stage, { exitCode, stderr });
    await expect(host.launch(spec)).rejects.toThrow(message);
  });

  it('names the variables of a foreign tmux server, never their values, and how to stop it', async () => {
    const runner = fake();
    const host = await prepared(runner);
    runner.expect(stage, { exitCode: STAGE_FOREIGN_SERVER, stdout: 'ANTHROPIC_API_KEY\nPATHX\n' });
    const error = await host.launch(spec).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NightshiftError);
    const { message, context } = error as NightshiftError;
    expect(message).toContain('(ANTHROPIC_API_KEY, PATHX)');
    expect(context.hint).toContain(`tmux -S ${SOCKET} kill-server`);
  });
});

describe('WorkerHost.statuses', () => {
  const tip = 'a'.repeat(40);
  const attempts = [
    { repo: 'app', id: tid('fix-a'), attempt: 2 },
    { repo: 'app', id: tid('fix-b'), attempt: 1 },
  ];
  const argv = [
    'sh',
    '-c',
    STATUS_SH,
    'sh',
    SOCKET,
    CONF,
    '2',
    '1',
    '/w/ws/0000beef/tasks/fix-a',
    '/w/ws/0000beef/tasks/fix-b',
    '/w/ws/0000beef/repos/app.git',
    '/w/ws/0000beef/tasks/fix-a/attempt-2.log',
    '/w/ws/0000beef/tasks/fix-b/attempt-1.log',
  ];
  const out = [
    'panes',
    'pane\tns-0000beef_fix-a\t1\t0\t4242',
    'pane\tns-0000beef_fix-b\t0\t\t4343',
    '.',
    '{"attempt":2,"exitCode":0,"startedAt":"s","endedAt":"e","committed":true}',
    '{"attempt":0,"exitCode":1,"startedAt":"s","endedAt":"e"}',
    '.',
    'mirror 0',
    `${tip} refs/heads/ns/fix-a`,
    '.',
    '  120 /w/ws/0000beef/tasks/fix-a/attempt-2.log',
    '  120 total',
    '',
  ].join('\n');

  it('sends one command for every attempt and reads panes, exit records, tips and log sizes', async () => {
    const runner = fake();
    const host = await prepared(runner);
    runner.expect(argv, { stdout: out });
    const [a, b] = await host.statuses(attempts);
    expect(a).toEqual({
      pane: { session: 'ns-0000beef_fix-a', dead: true, exitStatus: 0, pid: 4242 },
      exit: { attempt: 2, exitCode: 0, startedAt: 's', endedAt: 'e', committed: true },
      logBytes: 120,
      head: tip,
    });
    // A record of another attempt is no exit of this one; no log, no branch yet.
    expect(b).toEqual({
      pane: { session: 'ns-0000beef_fix-b', dead: false, exitStatus: null, pid: 4343 },
      exit: null,
      logBytes: 0,
      head: null,
    });
  });

  it('is an error naming the host when status.sh fails or its output is cut short', async () => {
    const runner = fake();
    const host = await prepared(runner);
    runner.expect(argv, { exitCode: 3, stderr: 'tmux: protocol version mismatch' });
    await expect(host.statuses(attempts)).rejects.toThrow(/protocol version mismatch/);
    expect(
      parseStatuses(
        'panes\n.\n',
        attempts,
        ['/m'],
        [],
        () => '/m',
        (id) => `ns-0000beef_${id}`,
      ),
    ).toBeNull();
  });

  it('lists panes in the format parsePanes reads', () => {
    expect(STATUS_SH).toContain(PANE_FORMAT);
  });
});

describe('salvage and kill', () => {
  const wt = '/w/ws/0000beef/worktrees/fix-a';
  const index = '/w/ws/0000beef/tasks/fix-a/salvage-2.index';
  const withIndex = (...args: string[]) => ['env', `GIT_INDEX_FILE=${index}`, 'git', '-C', wt, ...args];
  const commit = 'c'.repeat(40);

  it('commits nothing for a clean worktree', async () => {
    const runner = fake();
    const host = await prepared(runner);
    runner.expect(['git', '-C', wt, 'status', '--porcelain'], { stdout: '' });
    expect(await host.salvage('app', tid('fix-a'), 2)).toBeNull();
  });

  it('commits a dirty worktree through a private index to refs/nightshift/salvage/<id>/<n>', async () => {
    const runner = fake();
    const host = await prepared(runner);
    runner
      .expect(['git', '-C', wt, 'status', '--porcelain'], { stdout: ' M a.ts\n' })
      .expect(withIndex('read-tree', 'HEAD'))
      .expect(withIndex('add', '-A'))
      .expect(withIndex('write-tree'), { stdout: `${'t'.repeat(40)}\n` })
      .expect(['git', '-C', wt, 'rev-parse', 'HEAD'], { stdout: `${'h'.repeat(40)}\n` })
      .expect(
        [
          'git',
          ...['-c', 'user.name=nightshift', '-c', 'user.email=nightshift@localhost'],
          '-C',
          wt,
          'commit-tree',
          't'.repeat(40),
          '-p',
          'h'.repeat(40),
          '-m',
          'nightshift: salvage of fix-a attempt 2',
        ],
        { stdout: `${commit}\n` },
      )
      .expect(['rm', '-f', index])
      .expect([
        'git',
        '--git-dir',
        '/w/ws/0000beef/repos/app.git',
        'update-ref',
        'refs/nightshift/salvage/fix-a/2',
        commit,
      ]);
    expect(await host.salvage('app', tid('fix-a'), 2)).toBe(commit);
  });

  it('kill salvages, kills the session, then reaps what the attempt left', async () => {
    const runner = fake();
    const host = await prepared(runner);
    runner
      .expect(['git', '-C', wt, 'status', '--porcelain'], { stdout: '' })
      .expect([...TMUX, SOCKET, '-f', CONF, 'kill-session', '-t', '=ns-0000beef_fix-a'])
      .expect(['sh', '-c', REAP_SH, 'sh', '/w/ws/0000beef/tasks/fix-a', '2']);
    expect(await host.kill('app', tid('fix-a'), 2)).toBeNull();
  });
});

describe('protected refs', () => {
  it('reads moved.sh lines into MovedRefs, and no record as nothing moved', async () => {
    const runner = fake();
    const host = await prepared(runner);
    const [a, b] = ['a'.repeat(40), 'b'.repeat(40)];
    // The two arguments after the id are what earlier collections on this mirror found (ref-guard.ts):
    // nothing at first, then the restore the first collection made.
    const argv = (restores: string) => [
      'sh',
      '-c',
      MOVED_SH,
      'sh',
      '/w/ws/0000beef/tasks/fix-a',
      '/w/ws/0000beef/repos/app.git',
      '2',
      'fix-a',
      restores,
      '',
      'refs/heads/main',
      'refs/heads/master',
    ];
    runner
      .expect(argv(''), {
        stdout: `refs/heads/main ${a} ${b} task restored\nrefs/heads/master - ${b} unattributed lost\n`,
      })
      .expect(argv(`refs/heads/main ${b} ${a}`), { exitCode: 3 });
    expect(await host.mainMoved('app', tid('fix-a'), 2)).toEqual([
      { ref: 'refs/heads/main', from: a, to: b, attributed: true, restored: true },
      { ref: 'refs/heads/master', from: null, to: b, attributed: false, restored: false },
    ]);
    expect(await host.mainMoved('app', tid('fix-a'), 2)).toEqual([]);
  });
});

describe('Tmux through the runner', () => {
  it('reads no server as no sessions, and another failure as an error', async () => {
    const runner = fake();
    const host = await prepared(runner);
    const list = [...TMUX, SOCKET, '-f', CONF, 'list-panes', '-a', '-F', PANE_FORMAT];
    runner
      .expect(list, { exitCode: 1, stderr: 'no server running on /w/tmux/nightshift' })
      .expect(list, { exitCode: 1, stderr: 'lost server' });
    expect(await host.tmux.list()).toEqual([]);
    await expect(host.tmux.list()).rejects.toThrow(/list-panes failed: lost server/);
  });
});

describe('load sensing', () => {
  const cfg = configSchema.parse({
    providers: {},
    hosts: { w1: { kind: 'local', maxLoadPerCore: 1, minFreeMemMB: 512, minFreeDiskMB: 1024 } },
  }).hosts.w1!;
  const df = '/dev/sda1 100000000 50000000 2000000 50% /w';

  it('judges a host over its thresholds and counts live ns- sessions only', async () => {
    const runner = fake();
    const host = await prepared(runner);
    runner
      .expect(['sh', '-c', LOAD_SH, 'sh', W], { stdout: `9.50\n4\n400000\n${df}\n` })
      .expect([...TMUX, SOCKET, '-f', CONF, 'list-panes', '-a', '-F', PANE_FORMAT], {
        stdout: 'ns-a\t0\t\t1\nns-b\t1\t0\t2\nnightshift\t0\t\t3\n',
      });
    const sample = await sampleLoad(host, cfg, 7);
    expect(sample).toMatchObject({
      loadPerCore: 9.5 / 4,
      memAvailableMB: 391,
      diskFreeMB: 1953,
      sessions: 1,
    });
    expect(sample.over).toEqual([
      'load 2.38/core is over maxLoadPerCore 1',
      '391 MB free memory is under minFreeMemMB 512',
    ]);
  });

  it('is an error naming what it could not read, never a sample of zeros', async () => {
    const runner = fake();
    const host = await prepared(runner);
    runner.expect(['sh', '-c', LOAD_SH, 'sh', W], { stdout: `0.1\n4\n\n${df}\n` });
    await expect(sampleLoad(host, cfg, 7)).rejects.toThrow(/no number for MemAvailable \(kB\) \(read ""\)/);
  });
});
