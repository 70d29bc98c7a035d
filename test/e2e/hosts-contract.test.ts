/**
 * One contract for both command runners (BullMQ-style adapter conformance): the same tests run against
 * the local runner and the ssh runner talking to a real sshd on 127.0.0.1, each with its own tmux
 * socket, workdir and repo. Then, ssh only: a dead link is a LinkError, and a link that drops mid-task
 * leaves the executor running and is re-established by the next call. Hostile specs (ids, titles,
 * bodies, paths, env values) go through the whole launch path — parseSpec, promptFor, the provider's
 * buildRun, launchAttempt, the runner — to an executor that records what it got, which must be what was
 * sent, byte for byte, with no shell ever interpreting any of it (a canary file is never created).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { configSchema, type Config } from '../../src/config/schema.js';
import { SpecError } from '../../src/core/errors.js';
import { isTaskId } from '../../src/core/ids.js';
import { newTask } from '../../src/core/task.js';
import { launchAttempt, promptFor } from '../../src/daemon/attempts.js';
import {
  CommandError,
  controlPathFor,
  LinkError,
  LocalRunner,
  SshRunner,
  type CommandRunner,
} from '../../src/hosts/runner.js';
import { BranchError, WorkerHost } from '../../src/hosts/worker.js';
import { parseConfig } from '../../src/config/load.js';
import { PROMPT_ARG_MAX_BYTES, profileFor } from '../../src/providers/index.js';
import { ensureScriptedAgent, launchContext } from '../../src/providers/probe.js';
import { parseSpec } from '../../src/spec/parse.js';
import { BIDI, CONTROL } from '../../src/spec/schema.js';
import { scriptedSpec } from '../../src/testing/night.js';
import { git, makeRepo } from '../../src/testing/git.js';
import { freePort, SSHD_MISSING, sshdAvailable, startSshd, type TestSshd } from '../../src/testing/sshd.js';
import { waitFor } from '../../src/testing/wait.js';
import { tid } from '../../src/testing/ids.js';

const seed = Number(process.env.FC_SEED ?? Date.now());
console.log('fast-check seed', seed);
if (!sshdAvailable) console.warn(SSHD_MISSING);

const RUN = `${process.pid}-${randomBytes(3).toString('hex')}`;
const local = new LocalRunner();

interface Harness {
  kind: 'local' | 'ssh';
  tmp: string;
  socket: string;
  runner: CommandRunner;
  host: WorkerHost;
  repo: string;
  base: string;
  canary: string;
  sshd: TestSshd | null;
  /** A second, independent runner to the same host (its own ControlMaster for ssh). */
  fresh(): CommandRunner;
}

type Cleanup = () => unknown;

/** Builds a harness; every resource is registered in `cleanups` as soon as it exists. */
async function setUp(kind: 'local' | 'ssh', cleanups: Cleanup[]): Promise<Harness> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), `ns-contract-${kind}-`));
  cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
  const socket = `ns-contract-${kind}-${RUN}`;
  // The executors' server lives in the workdir (hosts/layout.ts); removing tmp removes its socket file.
  cleanups.push(async () => {
    await local.run(['tmux', '-S', path.join(tmp, 'work', 'tmux', socket), 'kill-server']);
  });
  const sshd = kind === 'ssh' ? await startSshd() : null;
  if (sshd) cleanups.push(() => sshd.stop());
  const makeRunner = (name: string): CommandRunner => {
    const runner = sshd
      ? new SshRunner(sshd.sshTarget(path.join(tmp, name), `ssh-${name}`))
      : new LocalRunner();
    cleanups.push(() => runner.close());
    return runner;
  };
  const runner = makeRunner('cm');
  const repo = makeRepo({ 'README.md': '# app\n' });
  cleanups.push(() => rmSync(repo, { recursive: true, force: true }));
  const host = new WorkerHost(kind, runner, path.join(tmp, 'work'), '0000beef', socket);
  await host.prepare();
  await host.ensureMirror('app', 'main');
  let n = 0;
  return {
    kind,
    tmp,
    socket,
    runner,
    host,
    repo,
    base: git(repo, 'rev-parse', 'HEAD'),
    canary: path.join(tmp, 'CANARY'),
    sshd,
    fresh: () => makeRunner(`fresh-${++n}`),
  };
}

/** Runs every cleanup, newest first, even when some fail. */
async function tearDown(cleanups: Cleanup[]): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (err) {
      console.warn('cleanup failed:', err);
    }
  }
}

/** Strings a shell would love to interpret. `canary` is the file any successful injection creates. */
function hostileFragments(canary: string): string[] {
  return [
    "'",
    '"',
    "'\\''",
    `$(touch ${canary})`,
    `\`touch ${canary}\``,
    `; touch ${canary}`,
    ` && touch ${canary}`,
    `| touch ${canary} |`,
    `\ntouch ${canary}\n`,
    `'; touch ${canary}; '`,
    `"; touch ${canary}; "`,
    '\n--',
    '--',
    '-rf',
    '--help',
    '-',
    '*',
    '?',
    '[!a]',
    '~',
    '$HOME',
    '${PATH}',
    '$1',
    '$@',
    '\\',
    '\\n',
    '\t',
    '\r\n',
    ' ',
    '%s%n',
    '#',
    '!',
    '&',
    '>',
    '<(x)',
    '{a,b}',
    '{{nightshift:prompt}}',
    ';',
    '\\;',
    'é',
    '日本語',
    '🙂',
    '\u202e',
  ];
}

/** Hostile strings: short mixes of fragments and arbitrary code points, and long ones up to 20 KB. */
function hostile(canary: string, opts: { nul: boolean; maxLong?: number }): fc.Arbitrary<string> {
  const fragment = fc.constantFrom(...hostileFragments(canary));
  const piece = fc.oneof(
    { weight: 3, arbitrary: fragment },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  );
  const short = fc.array(piece, { maxLength: 8 }).map((parts) => parts.join(''));
  const long = fc
    .tuple(
      fc.array(fragment, { minLength: 1, maxLength: 5 }),
      fc.integer({ min: Math.min(1000, opts.maxLong ?? 20_000), max: opts.maxLong ?? 20_000 }),
    )
    .map(([parts, size]) => {
      let text = '';
      for (let i = 0; text.length < size; i++) text += parts[i % parts.length];
      return text;
    });
  const any = fc.oneof({ weight: 5, arbitrary: short }, { weight: 1, arbitrary: long });
  return opts.nul ? any : any.map((s) => s.replaceAll('\0', ''));
}

/** Task ids: valid ones, and hostile ones that validation must refuse before anything reaches a host. */
function hostileIds(canary: string): fc.Arbitrary<string> {
  const valid = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/).filter(isTaskId);
  const invalid = fc.oneof(
    fc.constantFrom(
      '',
      '../escape',
      'a/b',
      'Upper',
      '-rf',
      'a b',
      'pending',
      'x'.repeat(64),
      'ns-é',
      `a$(touch ${canary})`,
      `a\`touch ${canary}\``,
      `a; touch ${canary}`,
      `a' ; touch ${canary} '`,
      'a\ntouch-x',
      '=ns-a',
      'a.b:c',
    ),
    hostile(canary, { nul: false, maxLong: 100 }).filter((id) => !isTaskId(id)),
  );
  return fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: invalid });
}

const CONTROL_ALL = new RegExp(CONTROL.source, 'g');
const BIDI_ALL = new RegExp(BIDI.source, 'g');
/** Hostile text the spec schema accepts as plain text: no control or bidi characters. */
const plainText = (t: string) => t.replace(CONTROL_ALL, '').replace(BIDI_ALL, '').trim();
/** …on one line, not starting with "-", at most `max` code points. */
const plainLine = (t: string, max: number) =>
  `x ${Array.from(plainText(t).replace(/[\r\n]+/g, ' '))
    .slice(0, max)
    .join('')}`.trim();

interface HostileSpec {
  id: string;
  title: string;
  tests: string[];
  stop: string;
  file: string;
  body: string;
}

/** A spec file: strings go into the front matter as YAML double-quoted scalars (JSON syntax). */
function specFile(s: HostileSpec): string {
  return [
    '---',
    `id: ${JSON.stringify(s.id)}`,
    `title: ${JSON.stringify(s.title)}`,
    `tests: [${s.tests.map((t) => JSON.stringify(`src/${t}.test.ts`)).join(', ')}]`,
    `stop: ${JSON.stringify(s.stop)}`,
    '---',
    `# ${s.title}`,
    '',
    `Edit \`src/${s.file}.ts\` and \`../${s.file}\`, then run \`npm test -- '${s.file}'\`.`,
    '',
    s.body,
    '',
  ].join('\n');
}

/**
 * The executor: records what it got — an operator's argv word, the prompt (as one argv word, from the
 * prompt file, or on stdin), and one plain and one secret env value — in received.json, as JSON.
 */
const RECORDER = [
  'const fs = require("fs");',
  'const [word, how, arg] = process.argv.slice(1);',
  'const prompt = how === "word" ? arg : fs.readFileSync(how === "file" ? arg : 0, "utf8");',
  'const { X = null, S = null } = process.env;',
  'fs.writeFileSync("received.json", JSON.stringify({ word, how, prompt, X, S }));',
].join('\n');

/** The config: a `command` provider running RECORDER, taking the prompt as `how` says. */
function injectionConfig(repo: string, how: 'word' | 'file' | 'stdin', word: string, x: string): Config {
  const input = {
    word: ['{{nightshift:prompt}}'],
    file: ['{{nightshift:prompt-file}}'],
    stdin: [],
  }[how];
  return configSchema.parse({
    repos: { app: { path: repo } },
    providers: {
      'probe-me': {
        kind: 'command',
        command: ['node', '-e', RECORDER, '--', word, how, ...input],
        env: { X: x },
        secretEnv: { S: 'NS_INJ_SECRET' },
      },
    },
  });
}

/**
 * Processes of ours on this ControlPath: ssh clients naming it in their argv, and the ControlMaster,
 * which renames itself "ssh: <control socket> [mux]".
 */
function sshProcessesFor(controlDir: string): number[] {
  const controlPath = controlPathFor(controlDir);
  const socketPrefix = `ssh: ${path.dirname(controlPath)}/`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const client = path.basename(argv[0] ?? '') === 'ssh' && argv.includes(controlPath);
      const master = (argv[0] ?? '').startsWith(socketPrefix) && (argv[0] ?? '').includes('[mux]');
      if (client || master) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

async function alive(runner: CommandRunner, pid: number): Promise<boolean> {
  return (await runner.run(['kill', '-0', String(pid)])).exitCode === 0;
}

async function readBack(h: Harness, file: string): Promise<string> {
  const r = await h.runner.run(['cat', file], { check: true });
  return r.stdout;
}

for (const kind of ['local', 'ssh'] as const) {
  describe.skipIf(kind === 'ssh' && !sshdAvailable)(`hosts contract: ${kind} runner`, () => {
    let h: Harness;
    const cleanups: Cleanup[] = [];

    beforeAll(async () => {
      h = await setUp(kind, cleanups);
    });
    afterAll(async () => {
      await tearDown(cleanups);
    });

    it('passes argv words through exactly, bytes and all', async () => {
      const fixed = [
        '',
        ' ',
        "it's",
        '"double"',
        `$(touch ${h.canary})`,
        `\`touch ${h.canary}\``,
        'a\nb\n',
        '\n',
        '--',
        '-n',
        '-e',
        '--version',
        '日本語 🙂 é',
        '* ? [a] ~',
        '\\\\',
        '%s %d',
        'x'.repeat(20_000),
      ];
      for (const word of fixed) {
        const r = await h.runner.run(['printf', '%s', word]);
        expect(r.stdout).toBe(word);
      }
      // A whole argv at once: NUL-separated, so empty words and word boundaries show.
      const words = fc.array(hostile(h.canary, { nul: false, maxLong: 4000 }), { maxLength: 6 });
      await fc.assert(
        fc.asyncProperty(words, async (argv) => {
          const r = await h.runner.run(['printf', '%s\\0', ...argv]);
          expect(r.exitCode).toBe(0);
          expect(r.stdout).toBe(argv.length ? argv.map((w) => `${w}\0`).join('') : '\0');
        }),
        { seed, numRuns: 40 },
      );
      expect(existsSync(h.canary)).toBe(false);
    });

    it('propagates exit codes, and throws CommandError only when asked to', async () => {
      for (const code of [0, 1, 2, 3, 42, 126, 127, 128, 200, 254]) {
        const r = await h.runner.run(['sh', '-c', 'echo out; echo err >&2; exit "$1"', 'sh', String(code)]);
        expect(r).toMatchObject({ exitCode: code, stdout: 'out\n', stderr: 'err\n', timedOut: false });
      }
      const missing = await h.runner.run(['nightshift-no-such-command']);
      expect(missing.exitCode).toBe(127);
      expect(missing.stderr).toContain('nightshift-no-such-command');
      const failure = await h.runner.run(['sh', '-c', 'exit 7'], { check: true }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(CommandError);
      expect((failure as CommandError).result.exitCode).toBe(7);
    });

    it('feeds stdin input through untouched', async () => {
      const text = `line 1\n'quoted' "double" $(touch ${h.canary}) \0 nul\n日本語\n\n`;
      expect((await h.runner.run(['cat'], { input: text })).stdout).toBe(text);
      const bytes = randomBytes(256 * 1024);
      const r = await h.runner.run(['sha256sum'], { input: bytes });
      expect(r.stdout.split(' ')[0]).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect((await h.runner.run(['cat'])).stdout).toBe('');
      expect(existsSync(h.canary)).toBe(false);
    });

    it('reads an attempt log from any byte offset, bytes as they are (mid-character, not UTF-8)', async () => {
      const id = 'contract-bytes';
      const log = h.host.logPath(tid(id), 1);
      const bytes = Buffer.concat([
        Buffer.from('café 日本 🙂\n'),
        Buffer.from([0xff, 0xfe, 0xc3]),
        randomBytes(4096),
      ]);
      await h.runner.run(['sh', '-c', 'mkdir -p "${1%/*}" && cat > "$1"', 'sh', log], {
        input: bytes,
        check: true,
      });
      for (const from of [0, 1, 4, 7, 8, 14, 15, 16, 17, 18, 19, 1000, bytes.length - 1, bytes.length]) {
        const read = await h.host.readLogBytes(tid(id), 1, from);
        expect(read.toString('hex')).toBe(bytes.subarray(from).toString('hex'));
        // A bounded read (the mirror's chunks): at most `max` bytes from `from`, as they are.
        const chunk = await h.host.readLogBytes(tid(id), 1, from, 5);
        expect(chunk.toString('hex')).toBe(bytes.subarray(from, from + 5).toString('hex'));
      }
      expect((await h.host.readLogBytes(tid(id), 2, 0)).length).toBe(0);
      expect((await h.host.readLogBytes(tid(id), 2, 0, 5)).length).toBe(0);
      const r = await h.runner.run(['cat'], { input: bytes, binary: true });
      expect(r.stdoutBytes?.equals(bytes)).toBe(true);
    });

    it('kills a command that outlives its timeout', async () => {
      const pidFile = path.join(h.tmp, `timeout-${kind}.pid`);
      // No bound on the duration: a command that was not killed would hold the test to its own timeout.
      const r = await h.runner.run(['sh', '-c', 'echo $$ > "$1"; exec sleep 3600', 'sh', pidFile], {
        timeoutMs: 500,
      });
      expect(r.timedOut).toBe(true);
      expect(r.exitCode).toBe(124);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(pid).toBeGreaterThan(0);
      // The command itself is gone — on the host, not just our end of the pipe.
      await waitFor(`pid ${pid} to end`, async () => !(await alive(h.runner, pid)), 10_000);
      expect((await h.runner.run(['true'])).exitCode).toBe(0);
    });

    it('gives tmux its command as words: no word starts a tmux command or loses its ";"', async () => {
      const out = path.join(h.tmp, `tmux-words-${kind}`);
      const words = [
        ';',
        'run-shell',
        `touch ${h.canary}`,
        'x;',
        'y\\;',
        '\\',
        '',
        ' ; ',
        '{',
        '}',
        '#{pane_id}',
      ];
      await h.host.tmux.newSession('tmux-words', h.tmp, [
        'sh',
        '-c',
        'out=$1; shift; printf "%s\\0" "$@" > "$out.tmp" && mv "$out.tmp" "$out"',
        'sh',
        out,
        ...words,
      ]);
      const written = await waitFor('the words', () => existsSync(out) && readFileSync(out, 'utf8'));
      expect(written.split('\0').slice(0, -1)).toEqual(words);
      expect(existsSync(h.canary)).toBe(false);
      await h.host.tmux.kill('tmux-words');
    });

    it('launches an executor in tmux, reads exit.json, fetches ns/<id> home, leaves main alone', async () => {
      const { host, repo, base } = h;
      const id = 'contract-launch';
      await host.pushBase(repo, 'app', tid(id), base);
      await host.createWorktree('app', tid(id));
      await host.launch({
        taskId: tid(id),
        attempt: 1,
        repo: 'app',
        argv: [
          'sh',
          '-c',
          'echo "hello from $1"; printf %s "$SECRET" > secret.out; cat "$2" > prompt.out; git add -A; git -c user.name=e -c user.email=e@example.com commit -qm work',
          'sh',
          kind,
          '{{nightshift:prompt-file}}',
        ],
        env: { SECRET: "s3cr'et $(x)" },
        stdin: 'null',
        prompt: 'do the thing\n',
      });
      // exit.json lands just before the pane dies. exit.json is the record of the exit code: tmux 3.3
      // now and then marks a quickly-exiting pane dead without ever reporting its status.
      const done = await waitFor('exit.json and a dead pane', async () => {
        const s = await host.status('app', tid(id), 1);
        return s.exit && s.pane?.dead ? s : null;
      });
      expect(done.exit).toMatchObject({ attempt: 1, exitCode: 0 });
      expect(done.pane).toMatchObject({ session: host.session(tid(id)), dead: true });
      expect([0, null]).toContain(done.pane?.exitStatus);
      expect(done.head).toMatch(/^[0-9a-f]{40}$/);
      expect(done.logBytes).toBeGreaterThan(0);
      expect(await host.readLog(tid(id), 1)).toContain(`hello from ${kind}`);
      const tip = await host.fetchBranch(repo, 'app', tid(id), base);
      expect(tip).toBe(done.head);
      expect(git(repo, 'show', `${tip}:prompt.out`)).toBe('do the thing');
      expect(git(repo, 'show', `${tip}:secret.out`)).toBe("s3cr'et $(x)");
      expect(git(repo, 'rev-parse', 'main')).toBe(base);
      expect(await host.mainTouched('app', tid(id))).toEqual([]);
      // The env file (secrets) is gone once the runner started.
      expect(
        (await h.runner.run(['test', '-e', path.posix.join(host.taskDir(tid(id)), 'env')])).exitCode,
      ).toBe(1);

      // A second attempt that fails: its exit code comes back through exit.json and the pane.
      await host.launch({
        taskId: tid(id),
        attempt: 2,
        repo: 'app',
        argv: ['sh', '-c', 'echo failing; exit 3'],
        env: {},
        stdin: 'prompt',
        prompt: 'p',
      });
      const failed = await waitFor('attempt 2 to end', async () => {
        const s = await host.status('app', tid(id), 2);
        return s.exit && s.pane?.dead ? s : null;
      });
      expect(failed.exit?.exitCode).toBe(3);
      expect([3, null]).toContain(failed.pane?.exitStatus);
    });

    it('runs the scripted executor to completion: exit.json, then ns/<id> fetched home on its base', async () => {
      const { host, repo, base } = h;
      const id = 'contract-scripted';
      await host.pushBase(repo, 'app', tid(id), base);
      await host.createWorktree('app', tid(id));
      // As the scripted provider launches: its agent installed on the host, its argv from the profile.
      await ensureScriptedAgent(host);
      const cfg = parseConfig(
        `providers:\n  scripted: { kind: scripted, hosts: [local] }\n`,
        'nightshift.config.yaml',
      ).providers['scripted']!;
      const ctx = launchContext(host, 'scripted', id, 1, host.worktree(tid(id)));
      await host.ensureDir(ctx.stateDir);
      const cmd = profileFor('scripted').buildRun(cfg, ctx, {});
      const script = [
        `write src/made.txt "made on ${kind}\\n"`,
        'commit "Add made.txt"',
        'print "made it"',
        'exit 0',
      ].join('\n');
      await host.launch({
        taskId: tid(id),
        attempt: 1,
        repo: 'app',
        argv: cmd.argv,
        env: cmd.env,
        stdin: cmd.stdin,
        prompt: scriptedSpec(id, script),
      });
      const exit = await waitFor(
        'the scripted executor to end',
        async () => (await host.status('app', tid(id), 1)).exit,
        30_000,
      );
      expect(exit).toMatchObject({ attempt: 1, exitCode: 0 });
      const log = await host.readLog(tid(id), 1);
      expect(profileFor('scripted').readOutput(log, exit.exitCode)).toMatchObject({
        completed: true,
        failure: null,
      });
      const tip = await host.fetchBranch(repo, 'app', tid(id), base);
      expect(git(repo, 'log', '-1', '--format=%s', tip)).toBe('Add made.txt');
      expect(git(repo, 'show', `${tip}:src/made.txt`)).toBe(`made on ${kind}`);
      expect(git(repo, 'merge-base', '--is-ancestor', base, tip)).toBe('');
      expect(git(repo, 'rev-list', '--count', `${base}..${tip}`)).toBe('1');
      expect(git(repo, 'rev-parse', 'main')).toBe(base);
      await host.tmux.kill(host.session(tid(id)));
    });

    it("fails a fetched branch that does not descend from its base, or is gone, as the branch's fault", async () => {
      const { host, repo, base, runner } = h;
      const id = 'contract-stray';
      await host.pushBase(repo, 'app', tid(id), base);
      // ns/<id> in the mirror is a root commit of its own, not on the base.
      const mirror = host.mirror('app');
      const tree = (
        await runner.run(['git', '--git-dir', mirror, 'rev-parse', `${base}^{tree}`])
      ).stdout.trim();
      const orphan = (
        await runner.run([
          'git',
          '-c',
          'user.name=x',
          '-c',
          'user.email=x@x',
          '--git-dir',
          mirror,
          'commit-tree',
          tree,
          '-m',
          'stray',
        ])
      ).stdout.trim();
      await runner.run(['git', '--git-dir', mirror, 'update-ref', `refs/heads/ns/${id}`, orphan], {
        check: true,
      });
      const stray = await host.fetchBranch(repo, 'app', tid(id), base).catch((e: unknown) => e);
      expect(stray).toBeInstanceOf(BranchError);
      expect((stray as BranchError).message).toMatch(/does not descend from its base/);
      await runner.run(['git', '--git-dir', mirror, 'update-ref', '-d', `refs/heads/ns/${id}`], {
        check: true,
      });
      const gone = await host.fetchBranch(repo, 'app', tid(id), base).catch((e: unknown) => e);
      expect(gone).toBeInstanceOf(BranchError);
      expect((gone as BranchError).message).toMatch(/gone from the mirror/);
    });

    it('reads several attempts in one batch: running, ended, never started; with and without a tmux server', async () => {
      const { host, repo, base, runner } = h;
      // No server on the socket: every attempt reads as no pane, no exit, no log, whatever ran before.
      await runner.run(['tmux', '-S', host.tmux.socket, 'kill-server']);
      const none = await host.statuses([
        { repo: 'app', id: tid('contract-batch-a'), attempt: 1 },
        { repo: 'app', id: tid('contract-batch-b'), attempt: 1 },
      ]);
      expect(none).toEqual([
        { pane: null, exit: null, logBytes: 0, head: null },
        { pane: null, exit: null, logBytes: 0, head: null },
      ]);
      // One attempt that ends, one that keeps running, and one that never started, in one read.
      const start = async (id: string, script: string) => {
        await host.pushBase(repo, 'app', tid(id), base);
        await host.createWorktree('app', tid(id));
        await host.launch({
          taskId: tid(id),
          attempt: 1,
          repo: 'app',
          argv: ['sh', '-c', script],
          env: {},
          stdin: 'null',
          prompt: 'p',
        });
      };
      await start('contract-batch-a', 'echo ending; exit 4');
      await start('contract-batch-b', 'echo running; exec sleep 60');
      const ask = [
        { repo: 'app', id: tid('contract-batch-a'), attempt: 1 },
        { repo: 'app', id: tid('contract-batch-never'), attempt: 1 },
        { repo: 'app', id: tid('contract-batch-b'), attempt: 1 },
      ];
      const [ended, never, running] = await waitFor('a to end and b to print', async () => {
        const s = await host.statuses(ask);
        return s[0]?.exit && (s[2]?.logBytes ?? 0) > 0 ? s : null;
      });
      expect(ended?.exit).toMatchObject({ attempt: 1, exitCode: 4 });
      expect(ended?.logBytes).toBe(Buffer.byteLength('ending\n'));
      expect(ended?.pane?.session).toBe(host.session(tid('contract-batch-a')));
      expect(ended?.head).toBe(base);
      expect(never).toEqual({ pane: null, exit: null, logBytes: 0, head: null });
      expect(running).toMatchObject({ exit: null, logBytes: 'running\n'.length, head: base });
      expect(running?.pane).toMatchObject({ session: host.session(tid('contract-batch-b')), dead: false });
      expect(await host.statuses([])).toEqual([]);
      await host.kill('app', tid('contract-batch-b'), 1);
      await host.tmux.kill('ns-contract-batch-a');
    });

    it('runs the afterRun hook after a kill, in the worktree, clean, killed at its timeout, once', async () => {
      const { host, repo, base, tmp, canary } = h;
      const id = tid('contract-after-run');
      const after = path.join(tmp, 'after-run-lines');
      const sleeper = kind === 'ssh' ? '3132' : '3131';
      await host.pushBase(repo, 'app', id, base);
      await host.createWorktree('app', id);
      await host.launch({
        taskId: id,
        attempt: 1,
        repo: 'app',
        argv: ['sh', '-c', 'echo ready; exec sleep 600'],
        env: { MY_SECRET: 'sk-contract-after-run' },
        stdin: 'null',
        prompt: 'p',
      });
      await waitFor('ready', async () => (await host.readLog(id, 1)).includes('ready'));
      const hook = {
        command: [
          'sh',
          '-c',
          `echo "ran $NIGHTSHIFT_HOOK in $(pwd) secret=\${MY_SECRET:-none} arg=$1" >> ${after}; echo printed-by-hook; exec sleep ${sleeper}`,
          'sh',
          `it's $(touch ${canary})`,
        ],
        timeout: '2s',
      };
      await host.kill('app', id, 1);
      await host.afterRun(id, 1, hook);
      expect(readFileSync(after, 'utf8')).toBe(
        `ran afterRun in ${host.worktree(id)} secret=none arg=it's $(touch ${canary})\n`,
      );
      const log = await host.readLog(id, 1);
      expect(log).toContain('printed-by-hook');
      expect(log).toContain('hook afterRun timed out after 2s and was killed');
      const alive = await local.run(['pgrep', '-f', `sleep ${sleeper}`]);
      expect(alive.stdout.trim()).toBe('');
      // Already run: a second kill (the session's, or an abandoned attempt's) does not run it again.
      await host.kill('app', id, 1);
      await host.afterRun(id, 1, hook);
      expect(readFileSync(after, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
      expect(existsSync(canary)).toBe(false);
    });

    // ssh only: git over the link, a dead link, and a link that drops mid-task.
    if (kind === 'ssh') {
      it('moves git over ssh with gitTransport (GIT_SSH_COMMAND)', async () => {
        const transport = h.runner.gitTransport();
        expect(transport.env.GIT_SSH_COMMAND).toMatch(/^'ssh' /);
        const url = transport.urlFor(h.host.mirror('app'));
        expect(url).toBe(`ssh://${h.sshd?.destination}:${h.sshd?.port}${h.host.mirror('app')}`);
        const push = await local.run(
          ['git', '-C', h.repo, 'push', '-q', url, `${h.base}:refs/heads/transport-check`],
          {
            env: transport.env,
          },
        );
        expect(push.stderr).toBe('');
        expect(push.exitCode).toBe(0);
        const remote = await local.run(['git', 'ls-remote', url, 'refs/heads/transport-check'], {
          env: transport.env,
        });
        expect(remote.stdout).toBe(`${h.base}\trefs/heads/transport-check\n`);
        const fetched = await local.run(
          ['git', '-C', h.repo, 'fetch', '-q', url, 'refs/heads/transport-check:refs/heads/tc'],
          {
            env: transport.env,
          },
        );
        expect(fetched.exitCode).toBe(0);
        expect(git(h.repo, 'rev-parse', 'refs/heads/tc')).toBe(h.base);
      });

      it('reports a dead link (ssh exit 255) as LinkError, never as a command failure', async () => {
        const target = h.sshd!.sshTarget(path.join(h.tmp, 'cm-dead'), 'dead');
        const dead = new SshRunner({ ...target, port: await freePort() });
        await expect(dead.run(['true'])).rejects.toBeInstanceOf(LinkError);
        const asked = await dead.run(['true'], { check: true }).catch((e: unknown) => e);
        expect(asked).toBeInstanceOf(LinkError);
        expect(asked).not.toBeInstanceOf(CommandError);
        expect((asked as LinkError).attribution).toBe('worker');
        await expect(
          new WorkerHost('dead', dead, path.join(h.tmp, 'w'), '0000beef').prepare(),
        ).rejects.toBeInstanceOf(LinkError);
      });

      it('fetches over a dead link as LinkError (git exits 128 when its ssh fails), not a branch failure', async () => {
        // A host of its own, behind a second sshd the test can stop.
        const other = await startSshd();
        const runner = new SshRunner(other.sshTarget(path.join(h.tmp, 'cm-fetch'), 'fetch'));
        try {
          const host = new WorkerHost('fetch', runner, path.join(h.tmp, 'work-fetch'), '0000beef', h.socket);
          await host.prepare();
          await host.ensureMirror('app', 'main');
          const id = 'contract-fetch-link';
          await host.pushBase(h.repo, 'app', tid(id), h.base);
          await host.createWorktree('app', tid(id));
          git(
            host.worktree(tid(id)),
            '-c',
            'user.name=e',
            '-c',
            'user.email=e@e',
            'commit',
            '-q',
            '--allow-empty',
            '-m',
            'w',
          );
          const tip = await host.fetchBranch(h.repo, 'app', tid(id), h.base);
          expect(tip).toBe(git(host.worktree(tid(id)), 'rev-parse', 'HEAD'));
          await other.stop();
          await runner.close();
          const err = await host.fetchBranch(h.repo, 'app', tid(id), h.base).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(LinkError);
          expect((err as LinkError).attribution).toBe('worker');
        } finally {
          await runner.close();
          await other.stop();
        }
      });

      it('reports an ssh client killed by a signal as LinkError, not as the command exiting 137', async () => {
        const marker = `link-kill-${process.pid}`;
        const running = h.runner.run(['sh', '-c', 'sleep 30', marker]).catch((e: unknown) => e);
        const client = await waitFor('the ssh client running the marked command', () =>
          sshProcessesFor(path.join(h.tmp, 'cm')).find((pid) => {
            try {
              return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
            } catch {
              return false;
            }
          }),
        );
        process.kill(client, 'SIGKILL');
        const err = await running;
        expect(err).toBeInstanceOf(LinkError);
        expect((err as LinkError).message).toMatch(/killed by SIGKILL/);
        // The link itself still works: the next command opens what it needs.
        expect((await h.runner.run(['true'])).exitCode).toBe(0);
      });

      it('keeps the executor running through a dropped link and reconnects on the next call', async () => {
        const { host, repo, base } = h;
        const controlDir = path.join(h.tmp, 'cm');
        const id = 'contract-disconnect';
        const counter = path.join(h.tmp, 'starts');
        await host.pushBase(repo, 'app', tid(id), base);
        await host.createWorktree('app', tid(id));
        await host.launch({
          taskId: tid(id),
          attempt: 1,
          repo: 'app',
          argv: [
            'sh',
            '-c',
            'echo start >> "$COUNTER"; i=0; while [ $i -lt 25 ]; do echo "tick $i"; i=$((i + 1)); sleep 0.2; done',
          ],
          env: { COUNTER: counter },
          stdin: 'null',
          prompt: 'p',
        });
        await waitFor('the first ticks', async () => (await host.readLog(tid(id), 1)).includes('tick 2'));
        const before = await host.status('app', tid(id), 1);
        const runnerPid = Number(
          (await readBack(h, path.posix.join(host.taskDir(tid(id)), 'runner.pid'))).trim(),
        );

        // Drop the link: kill the ControlMaster and every ssh client on it, hard.
        const victims = sshProcessesFor(controlDir);
        expect(victims.length).toBeGreaterThan(0);
        for (const pid of victims) process.kill(pid, 'SIGKILL');
        await waitFor('the ssh processes to die', () => sshProcessesFor(controlDir).length === 0);

        // On the host, through an independent connection: tmux and the executor carry on.
        const other = h.fresh();
        try {
          const tmux = ['tmux', '-S', h.host.tmux.socket];
          expect(
            (await other.run([...tmux, 'has-session', '-t', `=${h.host.session(tid(id))}`])).exitCode,
          ).toBe(0);
          const dead = await other.run([
            ...tmux,
            'display-message',
            '-p',
            '-t',
            `=${h.host.session(tid(id))}:`,
            '#{pane_dead}',
          ]);
          expect(dead.stdout.trim()).toBe('0');
          expect(await alive(other, runnerPid)).toBe(true);
        } finally {
          await other.close();
        }

        // The same runner object reconnects on its next call and sees progress.
        const after = await host.status('app', tid(id), 1);
        expect(after.pane?.dead).toBe(false);
        await waitFor(
          'the log to grow',
          async () => (await host.status('app', tid(id), 1)).logBytes > before.logBytes,
        );
        const done = await waitFor(
          'exit.json',
          async () => (await host.status('app', tid(id), 1)).exit,
          20_000,
        );
        expect(done.exitCode).toBe(0);
        expect(await host.readLog(tid(id), 1)).toContain('tick 24');
        // Launched once: one start recorded, and the runner script's pid never changed.
        expect(readFileSync(counter, 'utf8')).toBe('start\n');
        expect(Number((await readBack(h, path.posix.join(host.taskDir(tid(id)), 'runner.pid'))).trim())).toBe(
          runnerPid,
        );
        expect(sshProcessesFor(controlDir).length).toBeGreaterThan(0); // a new ControlMaster
      });
    }

    it('carries hostile ids, titles, bodies, paths and env from spec text to the executor, byte for byte', async () => {
      // A worker whose workdir is itself hostile: every path the runner and tmux see holds shell syntax.
      const workdir = path.join(h.tmp, `w o'r"k $(touch ${h.canary}) \`touch ${h.canary}\`; é`);
      const host = new WorkerHost(kind, h.runner, workdir, '0000beef', h.socket);
      await host.prepare();
      // This workdir is too long for a socket path: its server and socket directory are under /tmp.
      onTestFinished(async () => {
        await local.run(['tmux', '-S', host.tmux.socket, 'kill-server']);
        if (host.tmux.socket.startsWith('/tmp/ns-tmux-'))
          rmSync(path.dirname(host.tmux.socket), { recursive: true, force: true });
      });
      const text = (opts: { maxLong?: number } = {}) => hostile(h.canary, { nul: false, ...opts });
      const line = (max: number) => text({ maxLong: max * 4 }).map((t) => plainLine(t, max));
      const word = text({ maxLong: 2000 }).filter((w) => !w.includes('{{nightshift:'));
      const value = text({ maxLong: 2000 });
      const spec = fc.record({
        id: hostileIds(h.canary),
        title: line(90),
        tests: fc.array(line(60), { maxLength: 3 }),
        stop: text({ maxLong: 1500 }).map((t) => plainText(t) || 'stop'),
        file: line(60),
        body: text(),
      });
      const mode = fc.constantFrom('word', 'file', 'stdin');
      const launched = new Set<string>();
      let refused = 0;
      let attempt = 0;
      await fc.assert(
        fc.asyncProperty(spec, mode, word, value, value, async (s, how, w, x, secret) => {
          const specText = specFile(s);
          const config = injectionConfig(h.repo, how, w, x);
          let parsed;
          try {
            parsed = parseSpec(Buffer.from(specText), { file: 'hostile.md', config });
          } catch (err) {
            // Refused by validation: nothing reached a host. An invalid id is always refused, by its
            // field or by its line (line 2: a control or bidi character is refused before YAML).
            expect(err).toBeInstanceOf(SpecError);
            const issues = (err as SpecError).issues;
            if (!isTaskId(s.id))
              expect(
                issues.some((i) => i.field === 'id' || i.line === 2),
                JSON.stringify(issues),
              ).toBe(true);
            refused += 1;
            expect(existsSync(h.canary)).toBe(false);
            return;
          }
          expect(isTaskId(s.id)).toBe(true);
          expect(parsed.id).toBe(s.id);
          attempt += 1;
          const task = newTask({ id: parsed.id, dedupKey: parsed.dedupKey, spec: parsed.spec, now: 0 }).task;
          const secretValue = secret.replaceAll('\0', '') || '=';
          await launchAttempt(
            { config, env: { NS_INJ_SECRET: secretValue } },
            host,
            task,
            'probe-me',
            attempt,
            parsed.text,
            h.repo,
            h.base,
          );
          launched.add(parsed.id);
          const exit = await waitFor(`exit.json of ${parsed.id} attempt ${attempt}`, async () => {
            return (await host.status('app', parsed.id, attempt)).exit;
          });
          const got = await readBack(h, path.posix.join(host.worktree(parsed.id), 'received.json'));
          expect(exit.exitCode, got).toBe(0);
          const sent = promptFor(task, parsed.text);
          expect(sent).toContain(parsed.spec.title);
          expect(JSON.parse(got)).toEqual({ word: w, how, prompt: sent, X: x, S: secretValue });
          expect(existsSync(h.canary)).toBe(false);
        }),
        { seed, numRuns: 40 },
      );
      console.log(`injection (${kind}): ${attempt} launched (${launched.size} ids), ${refused} refused`);
      // Enough specs got through for this to prove something, and only those ever reached the host.
      expect(launched.size, `${refused} refused`).toBeGreaterThanOrEqual(8);
      const dirs = (await h.runner.run(['ls', '-A', path.posix.dirname(host.taskDir(tid('x')))])).stdout;
      expect(dirs.split('\n').filter(Boolean).sort()).toEqual([...launched].sort());
      expect(existsSync(h.canary)).toBe(false);
      expect(readdirSync(h.tmp).filter((f) => f.includes('CANARY'))).toEqual([]);
    });

    it('passes a prompt of exactly the argv-word limit as one word, and a longer one through the file', async () => {
      const { host } = h;
      const run = async (id: string, attempt: number, argv: string[], prompt: string) => {
        await host.pushBase(h.repo, 'app', tid(id), h.base);
        await host.createWorktree('app', tid(id));
        await host.launch({ taskId: tid(id), attempt, repo: 'app', argv, env: {}, stdin: 'null', prompt });
        const exit = await waitFor(
          `exit.json of ${id}`,
          async () => (await host.status('app', tid(id), attempt)).exit,
        );
        return { exit, log: await host.readLog(tid(id), attempt) };
      };
      // Multi-byte, ends in newlines: the limit is in bytes, and the runner must keep trailing newlines.
      const head = '# Big\n\n日本語 $(touch x)\n';
      const limit = head + 'y'.repeat(PROMPT_ARG_MAX_BYTES - Buffer.byteLength(head) - 2) + '\n\n';
      expect(Buffer.byteLength(limit)).toBe(PROMPT_ARG_MAX_BYTES);
      const count =
        'process.stdout.write(String(Buffer.byteLength(process.argv[1])) + "|" + JSON.stringify(process.argv[1].slice(-3)))';
      const atLimit = await run('limit-word', 1, ['node', '-e', count, '--', '{{nightshift:prompt}}'], limit);
      expect(atLimit.exit.exitCode).toBe(0);
      expect(atLimit.log).toBe(`${PROMPT_ARG_MAX_BYTES}|"y\\n\\n"`);
      // One byte more cannot be one word: the kernel refuses the exec (what fitPrompt prevents).
      const over = await run(
        'over-word',
        1,
        ['node', '-e', count, '--', '{{nightshift:prompt}}'],
        `${limit}z`,
      );
      expect(over.exit.exitCode).not.toBe(0);
      expect(over.log).toMatch(/Argument list too long/);
      // A spec-sized prompt (1 MiB) through the prompt file arrives whole.
      const huge = `${'z'.repeat(1024 * 1024 - 1)}\n`;
      const file =
        'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))';
      const whole = await run('huge-file', 1, ['node', '-e', file, '--', '{{nightshift:prompt-file}}'], huge);
      expect(whole.exit.exitCode).toBe(0);
      expect(whole.log).toBe(createHash('sha256').update(huge).digest('hex'));
    });
  });
}
