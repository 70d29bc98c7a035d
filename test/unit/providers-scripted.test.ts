/**
 * The scripted agent, run for real: a child `node` process in a temp git repo, every step executed, its
 * output read back through the scripted profile. The agent's source is transpiled on the fly (no type
 * check, no project imports to resolve), so these tests never run a stale dist/ build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { substitutePrompt } from '../../src/providers/common.js';
import { profileFor } from '../../src/providers/index.js';
import type { LaunchContext } from '../../src/providers/types.js';

const SOURCE = path.resolve(import.meta.dirname, '../../src/providers/scripted-agent.ts');
let tmp: string;
let agent: string;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ns-scripted-'));
  const out = ts.transpileModule(readFileSync(SOURCE, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  agent = path.join(tmp, 'scripted-agent.mjs');
  writeFileSync(agent, out.outputText);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const GIT_ID = [
  '-c',
  'user.name=Test',
  '-c',
  'user.email=test@example.invalid',
  '-c',
  'commit.gpgsign=false',
];

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', [...GIT_ID, ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A repo on `main` with one commit, and (optionally) a bare `origin`. */
function makeRepo(withOrigin = false): string {
  const dir = mkdtempSync(path.join(tmp, 'repo-'));
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(dir, 'README.md'), '# demo\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'init');
  git(dir, 'checkout', '-q', '-b', 'ns/demo');
  if (withOrigin) {
    const origin = `${dir}-origin.git`;
    spawnSync('git', ['init', '-q', '--bare', '-b', 'main', origin]);
    git(dir, 'remote', 'add', 'origin', origin);
  }
  return dir;
}

const script = (...steps: string[]) =>
  `# Task\n\nDo the thing.\n\n\`\`\`nightshift-script\n${steps.join('\n')}\n\`\`\`\n\n\`\`\`nightshift-script\nexit 9\n\`\`\`\n`;

interface AgentRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the agent with the scripted profile's own argv (tokens substituted as the runner does). */
function runAgent(cwd: string, prompt: string): Promise<AgentRun> {
  const promptFile = path.join(cwd, '..', `${path.basename(cwd)}.prompt.md`);
  writeFileSync(promptFile, prompt);
  const cfg = configSchema.parse({ providers: { demo: { kind: 'scripted' } } }).providers['demo']!;
  const cmd = profileFor('scripted').buildRun(cfg, ctxFor(cwd), {});
  const [file, ...args] = substitutePrompt(cmd.argv, '', promptFile);
  return new Promise((resolve) => {
    const child = spawn(file!, args, { cwd, env: { PATH: process.env['PATH'] ?? '', ...cmd.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function ctxFor(worktree: string): LaunchContext {
  return {
    taskId: 'demo',
    attempt: 1,
    worktree,
    stateDir: path.join(tmp, 'state'),
    sessionId: '00000000-0000-4000-8000-000000000000',
    scriptedAgent: agent,
    root: false,
  };
}

/** Starts the agent and resolves once `predicate` holds for its stdout (event-driven, no sleeps). */
function startUntil(cwd: string, args: string[], predicate: (out: string) => boolean) {
  const child = spawn(process.execPath, [agent, ...args], { cwd });
  let stdout = '';
  let exited = false;
  child.on('exit', () => (exited = true));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (predicate(stdout)) resolve(stdout);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before the predicate held: ${stdout}`)));
    if (predicate(stdout)) resolve(stdout);
  });
  return { child, ready, exited: () => exited };
}

const read = (r: AgentRun) => profileFor('scripted').readOutput(r.stdout + r.stderr, r.code ?? 137);

describe('scripted agent', () => {
  it('says plainly that it is a simulator, not an AI', () => {
    const r = spawnSync(process.execPath, [agent, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/simulator/);
    expect(r.stdout).toMatch(/NOT an AI/);
  });

  it('executes every step of the first nightshift-script block in a real worktree', async () => {
    const repo = makeRepo();
    const r = await runAgent(
      repo,
      script(
        '# comments and blank lines are ignored',
        '',
        'write src/add.ts "export const add = (a: number, b: number) => a + b;\\n"',
        'append src/add.ts "// appended\\n"',
        'write "docs/with space.md" "x"',
        'write tmp.txt "scratch"',
        'delete tmp.txt',
        'sh "echo from-sh > sh.txt && echo sh-stdout"',
        'sh "exit 3"',
        'print "Working on it"',
        'sleep 0.05',
        'commit "Add add()"',
        'commit "nothing left"',
      ),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[scripted] write src/add.ts');
    expect(r.stdout).toContain('sh-stdout');
    expect(r.stdout).toContain('[scripted] sh exited 3');
    expect(r.stdout).toContain('Working on it');
    expect(readFileSync(path.join(repo, 'src/add.ts'), 'utf8')).toBe(
      'export const add = (a: number, b: number) => a + b;\n// appended\n',
    );
    expect(readFileSync(path.join(repo, 'docs/with space.md'), 'utf8')).toBe('x');
    expect(existsSync(path.join(repo, 'tmp.txt'))).toBe(false);
    expect(readFileSync(path.join(repo, 'sh.txt'), 'utf8')).toBe('from-sh\n');
    // One commit on top of init, by the fixed identity, holding everything; the tree is clean.
    expect(git(repo, 'log', '--format=%an <%ae>|%s', 'main..HEAD').trim()).toBe(
      'nightshift scripted agent <scripted-agent@nightshift.invalid>|Add add()',
    );
    expect(git(repo, 'status', '--porcelain')).toBe('');
    const lastLine = r.stdout.trim().split('\n').at(-1)!;
    expect(JSON.parse(lastLine)).toEqual({
      type: 'result',
      result: 'scripted agent completed 11 steps',
      is_error: false,
    });
    expect(read(r)).toEqual({
      completed: true,
      result: 'scripted agent completed 11 steps',
      usage: null,
      failure: null,
    });
  });

  it('push-main reports the push exit status and carries on', async () => {
    const withOrigin = makeRepo(true);
    const ok = await runAgent(
      withOrigin,
      script('write a.txt "a"', 'commit "a"', 'push-main', 'print "after"'),
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('[scripted] push-main exited 0');
    expect(git(withOrigin, 'ls-remote', 'origin', 'refs/heads/main')).toContain(
      git(withOrigin, 'rev-parse', 'HEAD').trim(),
    );

    const noOrigin = makeRepo(false);
    const failed = await runAgent(noOrigin, script('push-main', 'print "after"'));
    expect(failed.code).toBe(0);
    expect(failed.stdout).toMatch(/\[scripted\] push-main exited [1-9]/);
    expect(failed.stdout).toContain('after');
    expect(read(failed).completed).toBe(true);
  });

  it('exit <code> stops with that code and an error result', async () => {
    const repo = makeRepo();
    const r = await runAgent(repo, script('write a.txt "a"', 'exit 3', 'write b.txt "b"'));
    expect(r.code).toBe(3);
    expect(existsSync(path.join(repo, 'a.txt'))).toBe(true);
    expect(existsSync(path.join(repo, 'b.txt'))).toBe(false);
    expect(read(r)).toMatchObject({
      completed: false,
      failure: { code: 'exit-nonzero', attribution: 'spec' },
    });
  });

  it('silent exits 0 having printed nothing: an empty-output failure', async () => {
    const repo = makeRepo();
    const r = await runAgent(repo, script('write a.txt "a"', 'print "never shown"', 'silent'));
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(existsSync(path.join(repo, 'a.txt'))).toBe(true);
    expect(read(r)).toMatchObject({
      completed: false,
      failure: { code: 'empty-output', attribution: 'provider' },
    });
  });

  it('hang prints nothing more and never exits', async () => {
    const repo = makeRepo();
    writeFileSync(path.join(repo, '..', 'hang.md'), script('print "before"', 'hang'));
    const run = startUntil(repo, ['--prompt-file', path.join(repo, '..', 'hang.md')], (o) =>
      o.includes('before'),
    );
    await run.ready;
    // Still alive after a real, bounded wait on an event that must not happen.
    const exitedEarly = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      run.child.once('exit', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    expect(exitedEarly).toBe(false);
    run.child.kill('SIGKILL');
  });

  it.each([
    ['an absolute path', 'write /tmp/evil.txt "x"'],
    ['a .. escape', 'write ../evil.txt "x"'],
    ['a deeper .. escape', 'write src/../../evil.txt "x"'],
    ['.git', 'write .git/hooks/pre-commit "x"'],
    ['delete outside', 'delete ../outside'],
  ])('refuses %s with exit 2', async (_name, step) => {
    const repo = makeRepo();
    const r = await runAgent(repo, script(step));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing path/);
    expect(existsSync(path.join(repo, '..', 'evil.txt'))).toBe(false);
  });

  it('refuses to write through a symlink that leaves the worktree', async () => {
    const repo = makeRepo();
    const outside = mkdtempSync(path.join(tmp, 'outside-'));
    symlinkSync(outside, path.join(repo, 'link'));
    const r = await runAgent(repo, script('write link/evil.txt "x"'));
    expect(r.code).toBe(2);
    expect(existsSync(path.join(outside, 'evil.txt'))).toBe(false);
  });

  it('refuses to write through a symlinked file that points out of the worktree', async () => {
    const repo = makeRepo();
    const target = path.join(mkdtempSync(path.join(tmp, 'outside-')), 'victim.txt');
    writeFileSync(target, 'original');
    symlinkSync(target, path.join(repo, 'innocent.txt'));
    const r = await runAgent(repo, script('append innocent.txt "pwned"'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/link out of the worktree/);
    expect(readFileSync(target, 'utf8')).toBe('original');
  });

  it('rejects a malformed script before doing anything', async () => {
    const repo = makeRepo();
    const r = await runAgent(repo, script('write a.txt "a"', 'frobnicate'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line \d+: unknown step "frobnicate"/);
    expect(existsSync(path.join(repo, 'a.txt'))).toBe(false);
  });

  it('a prompt with no script does nothing and says so', async () => {
    const repo = makeRepo();
    const r = await runAgent(repo, '# Task\n\nNo script here.\n');
    expect(r.code).toBe(0);
    expect(read(r).result).toMatch(/no nightshift-script block/);
  });

  describe('probe mode', () => {
    const cfg = (probe?: 'ok' | 'silent' | 'hang' | 'fail') =>
      configSchema.parse({
        providers: { demo: { kind: 'scripted', ...(probe ? { scripted: { probe } } : {}) } },
      }).providers['demo']!;

    const probeOnce = (behaviour?: 'ok' | 'silent' | 'fail') => {
      const cmd = profileFor('scripted').buildProbe(cfg(behaviour), ctxFor(tmp), {}, 'ns-probe-abc123');
      const [file, ...args] = cmd.argv;
      const r = spawnSync(file!, args, { encoding: 'utf8' });
      return profileFor('scripted').judgeProbe(
        { exitCode: r.status ?? 137, stdout: r.stdout, stderr: r.stderr, timedOut: false },
        'ns-probe-abc123',
      );
    };

    it('ok prints the nonce', () => expect(probeOnce()).toEqual({ ok: true, reason: 'answered' }));
    it('silent prints nothing', () =>
      expect(probeOnce('silent')).toEqual({ ok: false, reason: 'empty output' }));
    it('fail exits 1 with an error', () => {
      const v = probeOnce('fail');
      expect(v.ok).toBe(false);
      expect(v.reason).toMatch(/^exited 1: .*simulated probe failure/);
    });
    it('hang never answers', async () => {
      const cmd = profileFor('scripted').buildProbe(cfg('hang'), ctxFor(tmp), {}, 'n');
      expect(cmd.argv.slice(-2)).toEqual(['--probe-behaviour', 'hang']);
      const child = spawn(cmd.argv[0]!, cmd.argv.slice(1));
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise<void>((resolve) => child.once('spawn', () => resolve()));
      const exited = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 300);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      expect(exited).toBe(false);
      expect(out).toBe('');
      child.kill('SIGKILL');
      expect(
        profileFor('scripted').judgeProbe(
          { exitCode: 124, stdout: out, stderr: '', timedOut: true, timeoutMs: 5000 },
          'n',
        ),
      ).toEqual({ ok: false, reason: 'no answer within 5s' });
    });
  });
});

describe('scripted agent build', () => {
  it('is self-contained: it imports node: builtins only', () => {
    const source = readFileSync(SOURCE, 'utf8');
    const imports = [...source.matchAll(/\bfrom '([^']+)'|\bimport\(?\s*'([^']+)'/g)].map(
      (m) => m[1] ?? m[2],
    );
    expect(imports.length).toBeGreaterThan(0);
    for (const spec of imports) expect(spec).toMatch(/^node:/);
  });

  const dist = path.resolve(import.meta.dirname, '../../dist/providers/scripted-agent.js');
  it.skipIf(!existsSync(dist))('the built copy in dist/providers runs on its own', () => {
    const r = spawnSync(process.execPath, [dist, '--probe', 'nonce-1'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('nonce-1\n');
  });
});
