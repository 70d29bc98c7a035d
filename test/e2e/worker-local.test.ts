import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureSession } from '../../src/client/session.js';
import { configSchema } from '../../src/config/schema.js';
import { LocalRunner } from '../../src/hosts/runner.js';
import { WorkerHost } from '../../src/hosts/worker.js';
import { profileFor, resolveSecrets } from '../../src/providers/index.js';
import { launchContext } from '../../src/providers/probe.js';
import { git, makeRepo } from '../../src/testing/git.js';
import { waitFor } from '../../src/testing/wait.js';
import { tid } from '../../src/testing/ids.js';

let repo: string;
let workdir: string;
let host: WorkerHost;
const socket = `ns-test-${process.pid}-${Date.now()}`;

beforeAll(async () => {
  repo = makeRepo();
  workdir = mkdtempSync(path.join(os.tmpdir(), 'ns-work-'));
  host = new WorkerHost('local', new LocalRunner(), workdir, '0000beef', socket);
  await host.prepare();
});
afterAll(async () => {
  await new LocalRunner().run(['tmux', '-S', host.tmux.socket, 'kill-server']);
  rmSync(workdir, { recursive: true, force: true });
  rmSync(repo, { recursive: true, force: true });
});

it('runs an attempt in tmux on ns/<id>, records exit.json, and fetches the branch home', async () => {
  const base = git(repo, 'rev-parse', 'HEAD');
  await host.ensureMirror('app', 'main');
  await host.pushBase(repo, 'app', tid('t1'), base);
  await host.createWorktree('app', tid('t1'));
  await host.launch({
    taskId: tid('t1'),
    attempt: 1,
    repo: 'app',
    argv: [
      'sh',
      '-c',
      'echo "secret is $MY_SECRET"; cat "$1" > out.txt; echo left > leftover.txt',
      'sh',
      '{{nightshift:prompt-file}}',
    ],
    env: { MY_SECRET: "s3cr'et $(x)" },
    stdin: 'null',
    prompt: "hello; $(touch /tmp/canary) `x` 'q'",
  });
  // exit.json lands just before the pane dies: wait for both.
  const status = await waitFor('exit.json and a dead pane', async () => {
    const s = await host.status('app', tid('t1'), 1);
    return s.exit && s.pane?.dead ? s : null;
  });
  expect(status.exit?.exitCode).toBe(0);
  expect(status.pane?.dead).toBe(true);
  const log = await host.readLog(tid('t1'), 1);
  expect(log).toContain("secret is s3cr'et $(x)");
  const tip = await host.fetchBranch(repo, 'app', tid('t1'), base);
  expect(git(repo, 'show', `${tip}:out.txt`)).toBe("hello; $(touch /tmp/canary) `x` 'q'");
  expect(git(repo, 'show', `${tip}:leftover.txt`)).toBe('left');
  expect(git(repo, 'rev-parse', 'main')).toBe(base);
  // the env file with the secret is gone
  expect((await host.runner.run(['test', '-e', path.join(host.taskDir(tid('t1')), 'env')])).exitCode).toBe(1);
});

it('refuses an executor that pushes to main, and records it', async () => {
  const base = git(repo, 'rev-parse', 'HEAD');
  await host.pushBase(repo, 'app', tid('t2'), base);
  await host.createWorktree('app', tid('t2'));
  await host.launch({
    taskId: tid('t2'),
    attempt: 1,
    repo: 'app',
    argv: [
      'sh',
      '-c',
      'echo x > x && git add x && git -c user.name=a -c user.email=a@b commit -qm x && git push origin HEAD:main; git branch -f main HEAD; echo done',
    ],
    env: {},
    stdin: 'null',
    prompt: 'p',
  });
  await waitFor('exit', async () => (await host.status('app', tid('t2'), 1)).exit);
  expect((await host.mainTouched('app', tid('t2'))).length).toBeGreaterThan(0);
  const mirrorMain = await host.runner.run([
    'git',
    '--git-dir',
    host.mirror('app'),
    'rev-parse',
    '-q',
    '--verify',
    'refs/heads/main',
  ]);
  expect(mirrorMain.stdout.trim()).toBe('');
  expect(git(repo, 'rev-parse', 'main')).toBe(base);
});

it('salvages uncommitted work before a kill', async () => {
  const base = git(repo, 'rev-parse', 'HEAD');
  await host.pushBase(repo, 'app', tid('t3'), base);
  await host.createWorktree('app', tid('t3'));
  await host.launch({
    taskId: tid('t3'),
    attempt: 1,
    repo: 'app',
    argv: ['sh', '-c', 'echo wip > wip.txt; echo ready; exec sleep 600'],
    env: {},
    stdin: 'null',
    prompt: 'p',
  });
  await waitFor('ready', async () => (await host.readLog(tid('t3'), 1)).includes('ready'));
  const salvaged = await host.kill('app', tid('t3'), 1);
  expect(salvaged).toMatch(/^[0-9a-f]{40}$/);
  const ref = await host.runner.run([
    'git',
    '--git-dir',
    host.mirror('app'),
    'show',
    'refs/nightshift/salvage/t3/1:wip.txt',
  ]);
  expect(ref.stdout.trim()).toBe('wip');
  expect(await host.tmux.has('ns-t3')).toBe(false);
});

it('continues a branch that descends from the base, and starts anew one left on an older base', async () => {
  const b1 = git(repo, 'rev-parse', 'HEAD');
  const wt = host.worktree(tid('t4'));
  const head = () => git(wt, 'rev-parse', 'HEAD');
  await host.ensureMirror('app', 'main');
  // Prepared on b1; an attempt commits on it: the next attempt on the same base continues that work.
  await host.pushBase(repo, 'app', tid('t4'), b1);
  await host.createWorktree('app', tid('t4'));
  expect(head()).toBe(b1);
  git(wt, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'work');
  const work = head();
  await host.createWorktree('app', tid('t4'));
  expect(head()).toBe(work);
  // main moved on and the task now records b2: the branch, not descending from it, starts at b2.
  git(repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'main moved');
  const b2 = git(repo, 'rev-parse', 'HEAD');
  await host.pushBase(repo, 'app', tid('t4'), b2);
  git(wt, 'reset', '-q', '--hard', b1);
  await host.createWorktree('app', tid('t4'));
  expect(head()).toBe(b2);
  // A review round keeps its branch whatever the base (it may be told to rebase onto it).
  git(wt, 'reset', '-q', '--hard', work);
  await host.createWorktree('app', tid('t4'), true);
  expect(head()).toBe(work);
});

it('never runs an executor on the tmux server of the TUI, even under the same socket name', async () => {
  // The TUI's `nightshift` session starts its server first, with the user's config and environment:
  // the executors' server (`-S <workdir>/tmux/<name>`) is another one.
  const tuiSocket = `${socket}-tui`;
  const work = mkdtempSync(path.join(os.tmpdir(), 'ns-work-tui-'));
  try {
    ensureSession(tuiSocket, 'nightshift', work, [{ name: 'tui', argv: ['sleep', '600'] }]);
    const other = new WorkerHost('local', new LocalRunner(), work, '0000beef', tuiSocket);
    await other.prepare();
    await other.ensureMirror('app', 'main');
    const base = git(repo, 'rev-parse', 'HEAD');
    await other.pushBase(repo, 'app', tid('quick'), base);
    await other.createWorktree('app', tid('quick'));
    await other.launch({
      taskId: tid('quick'),
      attempt: 1,
      repo: 'app',
      argv: ['sh', '-c', 'exit 3'],
      env: {},
      stdin: 'null',
      prompt: 'p',
    });
    const done = await waitFor('exit.json and a dead pane', async () => {
      const s = await other.status('app', tid('quick'), 1);
      return s.exit && s.pane?.dead ? s : null;
    });
    expect(done.exit).toMatchObject({ attempt: 1, exitCode: 3 });
    // The pane stayed (remain-on-exit, set as the session was created); tmux 3.3 now and then marks a
    // pane that exits at once dead without its status, which exit.json records all the same.
    expect(done.pane).toMatchObject({ session: other.session(tid('quick')), dead: true });
    expect([3, null]).toContain(done.pane?.exitStatus);
    const remain = (where: string[], target: string) =>
      spawnSync('tmux', [...where, 'show-options', '-w', '-v', '-t', target, 'remain-on-exit'], {
        encoding: 'utf8',
      }).stdout.trim();
    expect(remain(['-S', other.tmux.socket], `=${other.session(tid('quick'))}:`)).toBe('on');
    const tuiSessions = spawnSync('tmux', ['-L', tuiSocket, 'list-sessions', '-F', '#{session_name}'], {
      encoding: 'utf8',
    }).stdout;
    expect(tuiSessions.split('\n').filter(Boolean)).toEqual(['nightshift']);
    // The TUI's own window keeps tmux's default: a TUI that exits takes its window with it.
    expect(remain(['-L', tuiSocket], '=nightshift:=tui')).toBe('off');
  } finally {
    await new LocalRunner().run(['tmux', '-L', tuiSocket, 'kill-server']);
    await new LocalRunner().run(['tmux', '-S', path.join(work, 'tmux', tuiSocket), 'kill-server']);
    rmSync(work, { recursive: true, force: true });
  }
});

it('catches an executor that moves main around the guard hook (core.hooksPath), and puts main back', async () => {
  const base = git(repo, 'rev-parse', 'HEAD');
  await host.ensureMirror('app', 'main');
  await host.pushBase(repo, 'app', tid('t5'), base);
  await host.createWorktree('app', tid('t5'));
  await host.launch({
    taskId: tid('t5'),
    attempt: 1,
    repo: 'app',
    argv: [
      'sh',
      '-c',
      'echo y > y && git add y && git -c user.name=a -c user.email=a@b commit -qm y && git -c core.hooksPath=/nonexistent branch -f main HEAD && echo moved',
    ],
    env: {},
    stdin: 'null',
    prompt: 'p',
  });
  const status = await waitFor('exit', async () => (await host.status('app', tid('t5'), 1)).exit);
  expect(status.exitCode).toBe(0);
  const mirrorMain = async () =>
    (
      await host.runner.run([
        'git',
        '--git-dir',
        host.mirror('app'),
        'rev-parse',
        '-q',
        '--verify',
        'refs/heads/main',
      ])
    ).stdout.trim();
  // The hook never ran, so it recorded nothing; the mirror's main really moved.
  expect(await host.mainTouched('app', tid('t5'))).toEqual([]);
  const tip = (await host.status('app', tid('t5'), 1)).head;
  expect(await mirrorMain()).toBe(tip);
  const moved = await host.mainMoved('app', tid('t5'), 1);
  expect(moved).toEqual([{ ref: 'refs/heads/main', from: null, to: tip, attributed: true, restored: true }]);
  expect(await mirrorMain()).toBe('');
  expect(git(repo, 'rev-parse', 'main')).toBe(base);
  // Once put back, it is not reported again; an attempt that moved nothing reports nothing.
  expect(await host.mainMoved('app', tid('t5'), 1)).toEqual([]);
  expect(await host.mainMoved('app', tid('t1'), 1)).toEqual([]);
});

/** Launches attempt 1 of `id` on `repoName` running `script` in its worktree, and waits for its end. */
async function runAttempt(on: WorkerHost, repoName: string, id: string, script: string): Promise<void> {
  await on.pushBase(repo, repoName, tid(id), git(repo, 'rev-parse', 'HEAD'));
  await on.createWorktree(repoName, tid(id));
  await on.launch({
    taskId: tid(id),
    attempt: 1,
    repo: repoName,
    argv: ['sh', '-c', script],
    env: {},
    stdin: 'null',
    prompt: 'p',
  });
  const status = await waitFor('exit', async () => (await on.status(repoName, tid(id), 1)).exit);
  expect(status.exitCode).toBe(0);
}

/** The mirror's value of `ref`, '' when it has none. */
async function mirrorRef(repoName: string, ref: string): Promise<string> {
  const r = await host.runner.run([
    'git',
    '--git-dir',
    host.mirror(repoName),
    'rev-parse',
    '-q',
    '--verify',
    ref,
  ]);
  return r.stdout.trim();
}

const COMMIT = 'git -c user.name=a -c user.email=a@b commit -q';
const UNHOOKED = 'git -c core.hooksPath=/nonexistent';

it('blames an executor that moves main and then amends its branch away from it, and puts main back', async () => {
  await host.ensureMirror('app', 'main');
  await runAttempt(
    host,
    'app',
    't6',
    `echo a > a && git add a && ${COMMIT} -m a && ${UNHOOKED} branch -f main HEAD && ${COMMIT} --amend -m a2`,
  );
  const moved = await mirrorRef('app', 'refs/heads/main');
  const tip = (await host.status('app', tid('t6'), 1)).head;
  // main is no longer in ns/t6: only the branch's reflog ties it to the task.
  expect(moved).toMatch(/^[0-9a-f]{40}$/);
  expect(moved).not.toBe(tip);
  expect(
    (
      await host.runner.run([
        'git',
        '--git-dir',
        host.mirror('app'),
        'merge-base',
        '--is-ancestor',
        moved,
        't6',
      ])
    ).exitCode,
  ).not.toBe(0);
  expect(await host.mainMoved('app', tid('t6'), 1)).toEqual([
    { ref: 'refs/heads/main', from: null, to: moved, attributed: true, restored: true },
  ]);
  expect(await mirrorRef('app', 'refs/heads/main')).toBe('');
});

it('puts back a main moved to a commit the branch never held, and reports it unattributed', async () => {
  await host.ensureMirror('app', 'main');
  // master exists at the launch and is deleted; main is set to a commit made with commit-tree.
  const base = git(repo, 'rev-parse', 'HEAD');
  await host.pushBase(repo, 'app', tid('t7'), base);
  expect(
    (
      await host.runner.run([
        'git',
        '-c',
        'core.hooksPath=/dev/null',
        '--git-dir',
        host.mirror('app'),
        'update-ref',
        'refs/heads/master',
        base,
      ])
    ).exitCode,
  ).toBe(0);
  await runAttempt(
    host,
    'app',
    't7',
    `${UNHOOKED} update-ref refs/heads/main "$(git commit-tree -m forged HEAD^{tree})" && ${UNHOOKED} update-ref -d refs/heads/master`,
  );
  const forged = await mirrorRef('app', 'refs/heads/main');
  expect(forged).toMatch(/^[0-9a-f]{40}$/);
  expect(await mirrorRef('app', 'refs/heads/master')).toBe('');
  const moved = await host.mainMoved('app', tid('t7'), 1);
  expect(moved.sort((a, b) => a.ref.localeCompare(b.ref))).toEqual([
    { ref: 'refs/heads/main', from: null, to: forged, attributed: false, restored: true },
    { ref: 'refs/heads/master', from: base, to: null, attributed: false, restored: true },
  ]);
  expect(await mirrorRef('app', 'refs/heads/main')).toBe('');
  expect(await mirrorRef('app', 'refs/heads/master')).toBe(base);
  expect(await host.mainMoved('app', tid('t7'), 1)).toEqual([]);
  await host.runner.run([
    'git',
    '-c',
    'core.hooksPath=/dev/null',
    '--git-dir',
    host.mirror('app'),
    'update-ref',
    '-d',
    'refs/heads/master',
  ]);
});

it("checks a repo's own main branch after a restart, from the launch's record", async () => {
  await host.ensureMirror('trunky', 'trunk');
  await runAttempt(
    host,
    'trunky',
    't8',
    `echo t > t && git add t && ${COMMIT} -m t && ${UNHOOKED} branch -f trunk HEAD`,
  );
  const tip = (await host.status('trunky', tid('t8'), 1)).head;
  expect(await mirrorRef('trunky', 'refs/heads/trunk')).toBe(tip);
  // A supervisor restarted since the launch: it has not set up the mirror, so it knows nothing of trunk.
  const fresh = new WorkerHost('local', new LocalRunner(), workdir, '0000beef', socket);
  await fresh.prepare();
  expect(fresh.protectedRefs('trunky')).not.toContain('refs/heads/trunk');
  expect(await fresh.mainMoved('trunky', tid('t8'), 1)).toEqual([
    { ref: 'refs/heads/trunk', from: null, to: tip, attributed: true, restored: true },
  ]);
  expect(await mirrorRef('trunky', 'refs/heads/trunk')).toBe('');
});

it('blames the mover once when an innocent attempt on the same mirror is collected first', async () => {
  await host.ensureMirror('app', 'main');
  // Both launched while main is as recorded (absent); only t11 moves it.
  await runAttempt(host, 'app', 't10', `echo i > i && git add i && ${COMMIT} -m i`);
  await runAttempt(
    host,
    'app',
    't11',
    `echo m > m && git add m && ${COMMIT} -m m && ${UNHOOKED} branch -f main HEAD`,
  );
  const moved = await mirrorRef('app', 'refs/heads/main');
  expect(moved).toBe((await host.status('app', tid('t11'), 1)).head);
  // The innocent one, collected first, puts main back but is not blamed.
  expect(await host.mainMoved('app', tid('t10'), 1)).toEqual([
    { ref: 'refs/heads/main', from: null, to: moved, attributed: false, restored: true },
  ]);
  expect(await mirrorRef('app', 'refs/heads/main')).toBe('');
  // The mover finds main as its record says, and is blamed for the move all the same: once.
  expect(await host.mainMoved('app', tid('t11'), 1)).toEqual([
    { ref: 'refs/heads/main', from: null, to: moved, attributed: true, restored: true, earlier: true },
  ]);
  expect(await host.mainMoved('app', tid('t11'), 1)).toEqual([]);
  expect(await host.mainMoved('app', tid('t10'), 1)).toEqual([]);
  expect(await mirrorRef('app', 'refs/heads/main')).toBe('');
});

it('starts nothing when it cannot record the protected refs', async () => {
  await expect(
    host.launch({
      taskId: tid('t9'),
      attempt: 1,
      repo: 'no-such-mirror',
      argv: ['sh', '-c', 'touch ran'],
      env: { SECRET: 'x' },
      stdin: 'null',
      prompt: 'p',
    }),
  ).rejects.toThrow(/could not record the protected refs of no-such-mirror .*nothing was started/);
  expect(await host.tmux.list()).not.toContainEqual(
    expect.objectContaining({ session: host.session(tid('t9')) }),
  );
  expect((await host.runner.run(['test', '-e', path.join(host.taskDir(tid('t9')), 'env')])).exitCode).toBe(1);
});

it('reads a missing guard record as untouched, and an unreadable one as a host error', async () => {
  expect(await host.mainTouched('app', tid('t9'))).toEqual([]);
  const record = path.join(host.mirror('app'), 'nightshift-touched', 't9');
  await host.runner.run(['mkdir', '-p', record]);
  try {
    await expect(host.mainTouched('app', tid('t9'))).rejects.toThrow(
      /could not read .*nightshift-touched\/t9/,
    );
  } finally {
    await host.runner.run(['rmdir', record]);
  }
});

it.each([0, 3])(
  'redacts a command provider’s secret from the attempt log and the pane, keeping exit code %i',
  async (code) => {
    const id = `sec${code}`;
    const secret = `sk-'canary $(x)-${randomBytes(6).toString('hex')}`;
    const gate = path.join(workdir, `go-${id}`);
    // The executor prints its key alone, mid-line, twice on a line and in a last line without a
    // newline; it waits for the test between the first lines and the rest, so the test can look at
    // the live pane and every process's argv while it runs.
    const script = [
      'echo "$API_KEY"',
      'echo "key=$API_KEY; again $API_KEY."',
      'while [ ! -e "$GATE" ]; do sleep 0.05; done',
      'echo "after the gate: $API_KEY"',
      'printf "tail %s" "$API_KEY"',
      'exit "$CODE"',
    ].join('\n');
    const cfg = configSchema.parse({
      providers: {
        cmd: {
          kind: 'command',
          command: ['sh', '-c', script],
          env: { GATE: gate, CODE: String(code) },
          secretEnv: { API_KEY: 'NS_TEST_G3_KEY' },
        },
      },
    }).providers.cmd!;
    const secrets = resolveSecrets('cmd', cfg, { NS_TEST_G3_KEY: secret });
    const cmd = profileFor('command').buildRun(
      cfg,
      launchContext(host, 'cmd', id, 1, host.worktree(tid(id))),
      secrets,
    );
    expect(cmd.secretKeys).toEqual(['API_KEY']);
    const base = git(repo, 'rev-parse', 'HEAD');
    await host.ensureMirror('app', 'main');
    await host.pushBase(repo, 'app', tid(id), base);
    await host.createWorktree('app', tid(id));
    await host.launch({
      taskId: tid(id),
      attempt: 1,
      repo: 'app',
      argv: cmd.argv,
      env: cmd.env,
      secretKeys: cmd.secretKeys,
      stdin: cmd.stdin,
      prompt: 'p',
    });
    const pane = () =>
      spawnSync(
        'tmux',
        [
          '-S',
          host.tmux.socket,
          'capture-pane',
          '-p',
          '-J',
          '-t',
          `=${host.session(tid(id))}:`,
          '-S',
          '-200',
        ],
        {
          encoding: 'utf8',
        },
      ).stdout;
    // Lines reach the pane and the log as they are printed, while the executor still runs.
    await waitFor('the first lines in the log', async () =>
      (await host.readLog(tid(id), 1)).includes('key=[redacted]; again [redacted].'),
    );
    await waitFor('the first lines in the pane', () => pane().includes('key=[redacted]; again [redacted].'));
    expect(pane()).not.toContain(secret);
    // The key is in no process's argv (ps shows those): only in environments.
    const argvs = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'latin1');
        } catch {
          return '';
        }
      });
    // (The scan saw the runner's processes: the output filter's argv is its program.)
    expect(argvs.some((a) => a.includes('awk') && a.includes('[redacted]'))).toBe(true);
    expect(argvs.filter((a) => a.includes(secret))).toEqual([]);
    writeFileSync(gate, '');
    const status = await waitFor('exit.json and a dead pane', async () => {
      const s = await host.status('app', tid(id), 1);
      return s.exit && s.pane?.dead ? s : null;
    });
    expect(status.exit?.exitCode).toBe(code);
    const log = await host.readLog(tid(id), 1);
    // A last line without a newline is kept, and gains one.
    expect(log).toBe(
      '[redacted]\nkey=[redacted]; again [redacted].\nafter the gate: [redacted]\ntail [redacted]\n',
    );
    const screen = pane();
    expect(screen).toContain('after the gate: [redacted]');
    expect(screen).toContain('tail [redacted]');
    expect(screen).not.toContain(secret);
    expect(await host.captureScreen(tid(id))).not.toContain(secret);
  },
);
