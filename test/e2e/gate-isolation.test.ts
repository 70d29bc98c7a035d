/**
 * Gates in isolation, on real git and real processes: the gate checkout holds none of the supervisor's
 * refs and borrows its objects; gate commands see only the allowed environment; under bwrap nothing
 * outside the checkout is writable and the network is off; and the supervisor's refs are checked after
 * every gate run, a change put back and reported.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { NightshiftError } from '../../src/core/errors.js';
import { newTask } from '../../src/core/task.js';
import { GateRuns } from '../../src/daemon/gate-runs.js';
import { objectDirectory, prepareGateCheckout } from '../../src/git/gate-checkout.js';
import { Repo } from '../../src/git/repo.js';
import { LocalRunner } from '../../src/hosts/runner.js';
import { probeBwrap, type SandboxProbe } from '../../src/hosts/sandbox.js';
import { runDoctor } from '../../src/providers/doctor.js';
import { runGates } from '../../src/review/gates.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { git, makeRepo } from '../../src/testing/git.js';
import { tid } from '../../src/testing/ids.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let bwrap: SandboxProbe;
beforeAll(async () => {
  bwrap = await probeBwrap(new LocalRunner());
  if (!bwrap.ok) console.log(`bwrap tests skipped: ${bwrap.detail}`);
});

const task = newTask({ id: tid('t'), dedupKey: 'k', spec: taskSpec(), now: 0 }).task;

/** A supervisor repo: main, a tag, and ns/t one commit ahead (checked out back on main). */
function supervisorRepo() {
  const repo = makeRepo({ 'README.md': '# app\n', 'test.sh': 'exit 0\n' });
  dirs.push(repo);
  git(repo, 'tag', 'v1');
  git(repo, 'checkout', '-q', '-b', 'ns/t');
  writeFileSync(path.join(repo, 'feature.txt'), 'feature\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'feature');
  const tip = git(repo, 'rev-parse', 'HEAD');
  git(repo, 'checkout', '-q', 'main');
  const main = git(repo, 'rev-parse', 'main');
  return { repo, tip, main };
}

const workDirs: string[] = [];
function workDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'ns-gate-'));
  dirs.push(d);
  workDirs.push(d);
  return d;
}

describe('the gate checkout', () => {
  it("holds none of the supervisor's refs, shares its objects, and is made afresh (no planted hook survives)", async () => {
    const { repo, tip, main } = supervisorRepo();
    const dir = path.join(workDir(), 'work', 'app', 't');
    const checkout = await prepareGateCheckout(repo, dir, tip);
    expect(checkout.objects).toBe(await objectDirectory(repo));
    expect(git(dir, 'for-each-ref')).toBe('');
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(tip);
    expect(readFileSync(path.join(dir, 'feature.txt'), 'utf8')).toBe('feature\n');
    expect(git(dir, 'status', '--porcelain')).toBe('');
    // Objects come from the supervisor's object directory; none were copied.
    expect(git(dir, 'count-objects', '-v')).toMatch(/^count: 0$/m);
    expect(git(dir, 'count-objects', '-v')).toMatch(/^size-pack: 0$/m);
    // `git update-ref refs/heads/main HEAD` in the checkout moves only the checkout's own ref.
    git(dir, 'update-ref', 'refs/heads/main', 'HEAD');
    expect(git(repo, 'rev-parse', 'main')).toBe(main);
    // What the branch's code leaves in .git is gone next time.
    mkdirSync(path.join(dir, '.git', 'hooks'), { recursive: true });
    writeFileSync(path.join(dir, '.git', 'hooks', 'post-checkout'), '#!/bin/sh\ntouch planted\n', {
      mode: 0o755,
    });
    await prepareGateCheckout(repo, dir, main);
    expect(existsSync(path.join(dir, 'planted'))).toBe(false);
    expect(existsSync(path.join(dir, '.git', 'hooks'))).toBe(false);
    expect(git(dir, 'for-each-ref')).toBe('');
    expect(existsSync(path.join(dir, 'feature.txt'))).toBe(false);
  });

  it('replaces a linked worktree of the supervisor repo left at the same place, and prunes it', async () => {
    const { repo, tip } = supervisorRepo();
    const dir = path.join(workDir(), 'work', 'app', 't');
    git(repo, 'worktree', 'add', '-q', '--detach', dir, tip);
    expect(git(repo, 'worktree', 'list')).toContain(dir);
    await prepareGateCheckout(repo, dir, tip);
    expect(git(repo, 'worktree', 'list')).not.toContain(dir);
    expect(git(dir, 'for-each-ref')).toBe('');
  });
});

describe('gate commands', () => {
  it('see only PATH, HOME, LANG, CI, gates.env and the run marker: no secret, nothing else', async () => {
    const { repo, tip, main } = supervisorRepo();
    const dir = path.join(workDir(), 'checkout');
    await prepareGateCheckout(repo, dir, tip);
    const config = configSchema.parse({
      providers: { p: { kind: 'command', command: ['true'], secretEnv: { KEY: 'NS_T_PROVIDER_KEY' } } },
      gates: {
        tests: { enabled: true, command: 'env; exit 1' },
        env: ['NS_T_ALLOWED', 'NS_T_PROVIDER_KEY'],
        sandbox: 'none',
      },
    });
    const [tests] = await runGates({
      worktree: dir,
      base: main,
      head: tip,
      task,
      specText: '',
      config,
      enabled: ['tests'],
      env: {
        PATH: process.env['PATH'],
        HOME: '/home/someone',
        LANG: 'C.UTF-8',
        NS_T_ALLOWED: 'yes',
        NS_T_PROVIDER_KEY: 'sk-provider-secret-value',
        ANTHROPIC_API_KEY: 'sk-architect-secret-value',
        NS_T_OTHER: 'daemon-only',
      },
    });
    const evidence = tests!.evidence;
    const names = new Set(
      evidence
        .split('\n')
        .map((l) => /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(l)?.[1])
        .filter(Boolean),
    );
    // sh itself adds PWD (and some shells SHLVL, OLDPWD, _).
    for (const shell of ['PWD', 'SHLVL', 'OLDPWD', '_']) names.delete(shell);
    expect([...names].sort()).toEqual(['CI', 'HOME', 'LANG', 'NIGHTSHIFT_GATE_RUN', 'NS_T_ALLOWED', 'PATH']);
    expect(evidence).toContain('HOME=/home/someone');
    expect(evidence).not.toContain('secret-value');
    expect(evidence).not.toContain('daemon-only');
  });
});

describe('the bwrap sandbox', () => {
  const skip = (): boolean => {
    if (bwrap.ok) return false;
    console.log(`skipped: bwrap cannot run here (${bwrap.detail})`);
    return true;
  };

  async function inSandbox(command: string[], network: boolean, readable: string[] = []) {
    const { repo, tip, main } = supervisorRepo();
    const dir = path.join(workDir(), 'checkout');
    const checkout = await prepareGateCheckout(repo, dir, tip);
    const config = configSchema.parse({ gates: { tests: { enabled: true, command } } });
    const [tests] = await runGates({
      worktree: dir,
      base: main,
      head: tip,
      task,
      specText: '',
      config,
      enabled: ['tests'],
      env: process.env,
      isolation: { sandbox: { kind: 'bwrap', network }, readable: [checkout.objects, ...readable] },
    });
    return { tests: tests!, dir, repo };
  }

  it('leaves only the checkout writable: the supervisor repo, the user files and /tmp outside are not', async () => {
    if (skip()) return;
    // Outside /tmp (which the sandbox replaces with its own), like the user's files.
    const outside = mkdtempSync('/var/tmp/ns-gate-outside-');
    dirs.push(outside);
    const say = (what: string) => `echo "${what}" | tr a-z A-Z`;
    const script = [
      `echo in > inside.txt || ${say('inside refused')}`,
      `echo x > ${JSON.stringify(path.join(outside, 'outside.txt'))} || ${say('outside refused')}`,
      `touch "$(git rev-parse --git-path objects/info/alternates | xargs cat)/planted" || ${say('objects refused')}`,
      `git update-ref refs/heads/mine HEAD && ${say('own ref written')}`,
      `git log --oneline -1 >/dev/null && ${say('objects readable')}`,
      'exit 1',
    ].join('\n');
    const { tests, dir, repo } = await inSandbox(['sh', '-c', script], false);
    const main = git(repo, 'rev-parse', 'main');
    expect(tests.evidence).toContain('OUTSIDE REFUSED');
    expect(tests.evidence).toContain('OBJECTS REFUSED');
    expect(tests.evidence).toMatch(/Read-only file system/);
    expect(tests.evidence).not.toContain('INSIDE REFUSED');
    expect(tests.evidence).toContain('OWN REF WRITTEN');
    expect(tests.evidence).toContain('OBJECTS READABLE');
    expect(existsSync(path.join(dir, 'inside.txt'))).toBe(true);
    expect(existsSync(path.join(outside, 'outside.txt'))).toBe(false);
    expect(existsSync(path.join(repo, '.git', 'objects', 'planted'))).toBe(false);
    expect(git(repo, 'rev-parse', 'main')).toBe(main);
  });

  it('refuses the network unless gates.network is on: a connect to a loopback port fails', async () => {
    if (skip()) return;
    const server = net.createServer((s) => {
      s.on('error', () => undefined);
      s.end('hello\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const probe = [
      process.execPath,
      '-e',
      `require('net').connect(${port}, '127.0.0.1').on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log('refused: ' + e.code); process.exit(3); })`,
    ];
    try {
      const off = await inSandbox(probe, false);
      expect(off.tests.passed).toBe(false);
      expect(off.tests.evidence).toContain('refused');
      const on = await inSandbox(probe, true);
      expect(on.tests.passed, on.tests.evidence).toBe(true);
    } finally {
      server.close();
    }
  });
});

describe("the supervisor's refs after a gate run", () => {
  /** Runs the tests gate with `command` through GateRuns (no sandbox), as the judgment does. */
  async function gateRun(command: string, sandbox: 'none' | 'bwrap' = 'none') {
    const { repo, tip, main } = supervisorRepo();
    const config = configSchema.parse({ gates: { tests: { enabled: true, command }, sandbox } });
    const logs: string[] = [];
    const runs = new GateRuns({ config, env: process.env, log: (l) => logs.push(l) });
    const result = await runs.run({
      task,
      repo: new Repo(repo),
      dir: path.join(workDir(), 'work', 'app', 't'),
      commit: tip,
      base: main,
      enabled: ['tests'],
      specText: '',
    });
    return { result, repo, tip, main, logs };
  }

  it('a gate that moves main in the checkout moves nothing of the supervisor', async () => {
    const { result, repo, main } = await gateRun('git update-ref refs/heads/main HEAD');
    expect(result.results[0]?.passed).toBe(true);
    expect(result.touched).toEqual([]);
    expect(git(repo, 'rev-parse', 'main')).toBe(main);
  });

  it('git -C <supervisor repo> update-ref: found, put back, reported', async () => {
    const { result, repo, tip, main } = await gateRunIn(
      (r) => `git -C ${JSON.stringify(r)} update-ref refs/heads/main "$(git rev-parse HEAD)"`,
    );
    expect(result.touched).toEqual([{ ref: 'refs/heads/main', from: main, to: tip, restored: true }]);
    expect(git(repo, 'rev-parse', 'main')).toBe(main);
  });

  it('the ref file written by path, a new ref and a moved tag: all put back', async () => {
    const { result, repo, main } = await gateRunIn((r) =>
      [
        `git rev-parse HEAD > ${JSON.stringify(path.join(r, '.git/refs/heads/main'))}`,
        `git -C ${JSON.stringify(r)} update-ref refs/heads/evil HEAD`,
        `git -C ${JSON.stringify(r)} tag -f v1 HEAD`,
      ].join('; '),
    );
    expect(result.touched.map((c) => [c.ref, c.restored])).toEqual([
      ['refs/heads/evil', true],
      ['refs/heads/main', true],
      ['refs/tags/v1', true],
    ]);
    expect(git(repo, 'rev-parse', 'main')).toBe(main);
    expect(git(repo, 'rev-parse', 'v1')).toBe(main);
    expect(git(repo, 'for-each-ref', '--format=%(refname)', 'refs/heads/evil')).toBe('');
  });

  it("another reviewed task's branch is watched: moved, put back; an unwatched ns/ branch may move (collection)", async () => {
    const { repo, tip, main } = supervisorRepo();
    git(repo, 'branch', 'ns/reviewed', main);
    git(repo, 'branch', 'ns/running', main);
    const sup = JSON.stringify(repo);
    const config = configSchema.parse({
      gates: {
        tests: {
          enabled: true,
          command: `h=$(git rev-parse HEAD); git -C ${sup} update-ref refs/heads/ns/reviewed $h; git -C ${sup} update-ref refs/heads/ns/running $h`,
        },
        sandbox: 'none',
      },
    });
    const runs = new GateRuns({ config, env: process.env, log: () => undefined });
    const result = await runs.run({
      task,
      repo: new Repo(repo),
      dir: path.join(workDir(), 'c'),
      commit: tip,
      base: main,
      enabled: ['tests'],
      specText: '',
      watched: ['refs/heads/ns/reviewed', 'refs/heads/ns/t'],
    });
    expect(result.touched).toEqual([{ ref: 'refs/heads/ns/reviewed', from: main, to: tip, restored: true }]);
    expect(git(repo, 'rev-parse', 'ns/reviewed')).toBe(main);
    expect(git(repo, 'rev-parse', 'ns/running')).toBe(tip);
  });

  it('a broken ref file (not a commit id) is put back too', async () => {
    const { result, repo, main } = await gateRunIn(
      (r) => `echo garbage > ${JSON.stringify(path.join(r, '.git/refs/heads/main'))}`,
    );
    expect(result.touched).toEqual([{ ref: 'refs/heads/main', from: main, to: null, restored: true }]);
    expect(git(repo, 'rev-parse', 'main')).toBe(main);
  });

  it('under bwrap, the same attack cannot write at all', async () => {
    if (!bwrap.ok) {
      console.log(`skipped: bwrap cannot run here (${bwrap.detail})`);
      return;
    }
    const { result, repo, main } = await gateRunIn(
      (r) => `git -C ${JSON.stringify(r)} update-ref refs/heads/main "$(git rev-parse HEAD)"`,
      'bwrap',
    );
    expect(result.results[0]?.passed).toBe(false);
    expect(result.touched).toEqual([]);
    expect(git(repo, 'rev-parse', 'main')).toBe(main);
  });

  it('gates.sandbox: bwrap with a bwrap that cannot run is an error naming the key and the fix', async () => {
    const { repo, tip, main } = supervisorRepo();
    const config = configSchema.parse({
      gates: { tests: { enabled: true, command: 'true' }, sandbox: 'bwrap' },
    });
    const runs = new GateRuns({
      config,
      env: { PATH: '/nonexistent' },
      log: () => undefined,
      probe: () => Promise.resolve({ ok: false, detail: 'bwrap not found' }),
    });
    const run = runs.run({
      task,
      repo: new Repo(repo),
      dir: path.join(workDir(), 'c'),
      commit: tip,
      base: main,
      enabled: ['tests'],
      specText: '',
    });
    const err = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NightshiftError);
    expect((err as NightshiftError).describe()).toMatch(
      /^field "gates.sandbox": gates.sandbox is bwrap, but bwrap not found; .* — install bubblewrap \(apt-get install bubblewrap\)/,
    );
    // Nothing ran: no checkout was made.
    expect(existsSync(path.join(workDirs.at(-1)!, 'c'))).toBe(false);
  });

  /** Like gateRun, with a command that names the supervisor repo. */
  async function gateRunIn(command: (repo: string) => string, sandbox: 'none' | 'bwrap' = 'none') {
    const { repo, tip, main } = supervisorRepo();
    const config = configSchema.parse({
      gates: { tests: { enabled: true, command: command(repo) }, sandbox },
    });
    const runs = new GateRuns({ config, env: process.env, log: () => undefined });
    const result = await runs.run({
      task,
      repo: new Repo(repo),
      dir: path.join(workDir(), 'work', 'app', 't'),
      commit: tip,
      base: main,
      enabled: ['tests'],
      specText: '',
    });
    return { result, repo, tip, main };
  }
});

describe('nightshift doctor', () => {
  const doctor = (gates: Record<string, unknown>, probe?: SandboxProbe) =>
    runDoctor(
      configSchema.parse({ gates }),
      new Map(),
      {},
      {
        probe: false,
        now: 0,
        ...(probe ? { sandboxProbe: () => Promise.resolve(probe) } : {}),
      },
    );

  it('says which gate isolation is in force: checkout always, the sandbox, the network', async () => {
    const [none] = await doctor({ sandbox: 'none' });
    expect(none).toMatchObject({ scope: 'gates', check: 'isolation', ok: true });
    expect(none?.detail).toMatch(/no ref of the supervisor repo.*; no sandbox \(gates.sandbox: none\)/);
    const [works] = await doctor(
      { sandbox: 'auto', network: true },
      { ok: true, detail: 'bubblewrap 0.8.0' },
    );
    expect(works).toMatchObject({ ok: true, fix: null });
    expect(works?.detail).toMatch(/sandbox bwrap \(bubblewrap 0.8.0\).*network on \(gates.network: true\)/);
    const [fallback] = await doctor({ sandbox: 'auto' }, { ok: false, detail: 'bwrap not found' });
    expect(fallback).toMatchObject({ ok: false, level: 'warning' });
    expect(fallback?.detail).toMatch(/no sandbox: gates.sandbox is auto and bwrap not found/);
    expect(fallback?.fix).toMatch(/apt-get install bubblewrap/);
    const [broken] = await doctor({ sandbox: 'bwrap' }, { ok: false, detail: 'bwrap not found' });
    expect(broken).toMatchObject({ ok: false, level: 'error' });
    expect(broken?.detail).toMatch(/gates.sandbox is bwrap but bwrap not found: gates cannot run/);
  });

  it('probes the real bwrap of this machine', async () => {
    const [real] = await doctor({ sandbox: 'bwrap' });
    expect(real?.ok).toBe(bwrap.ok);
    if (bwrap.ok) expect(real?.detail).toMatch(/sandbox bwrap .*network off/);
  });
});
