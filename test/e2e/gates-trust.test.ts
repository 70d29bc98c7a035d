/**
 * The gates that see what a branch does to its tests and what it adds, on real git repositories and a
 * real test runner (node --test, whose junit reporter writes a real JUnit report): tests-kept (with the
 * base's suite run in a checkout of the base, counted once per base), named-tests proven from a report,
 * and secrets.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import type { GateName } from '../../src/core/gates.js';
import { newTask } from '../../src/core/task.js';
import { runGates } from '../../src/review/gates.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { git, makeRepo } from '../../src/testing/git.js';
import { tid } from '../../src/testing/ids.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

type Change = Record<string, string | null>;

function write(dir: string, change: Change): void {
  for (const [name, text] of Object.entries(change)) {
    const file = path.join(dir, name);
    if (text === null) rmSync(file);
    else {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
  }
}

/** main holds `files`; ns/t adds one commit per change. */
function branch(files: Change, ...commits: Change[]): { dir: string; base: string } {
  const dir = makeRepo();
  dirs.push(dir);
  write(dir, { '.gitignore': 'junit.xml\n', ...files });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'base');
  const base = git(dir, 'rev-parse', 'HEAD');
  git(dir, 'checkout', '-q', '-b', 'ns/t');
  commits.forEach((change, i) => {
    write(dir, change);
    git(dir, 'add', '-A', '-f');
    git(dir, 'commit', '-q', '-m', `change ${i + 1}`);
  });
  return { dir, base };
}

const testFile = (...tests: string[]) =>
  "import { test } from 'node:test';\nimport assert from 'node:assert';\n" + tests.join('\n') + '\n';
const TWO = testFile(
  "test('adds', () => { assert.equal(1 + 1, 2); });",
  "test('subtracts', () => { assert.equal(2 - 1, 1); });",
);
const JUNIT_NODE = ['node', '--test', '--test-reporter=junit', '--test-reporter-destination=junit.xml'];

function scratch(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-gates-trust-'));
  dirs.push(dir);
  return dir;
}

async function judge(
  repo: { dir: string; base: string },
  opts: {
    enabled: GateName[];
    tests?: Record<string, unknown>;
    named?: string[];
    specText?: string;
    cacheFile?: string;
    env?: NodeJS.ProcessEnv;
    config?: Record<string, unknown>;
  },
) {
  const config = configSchema.parse({
    ...opts.config,
    gates: opts.tests ? { tests: { enabled: true, timeout: '150s', ...opts.tests } } : {},
  });
  const task = newTask({
    id: tid('t'),
    dedupKey: 'k',
    spec: { ...taskSpec(), tests: opts.named ?? [] },
    now: 0,
  }).task;
  const baseDir = path.join(scratch(), 'base');
  return runGates({
    worktree: repo.dir,
    base: repo.base,
    head: 'HEAD',
    task,
    specText: opts.specText ?? '# Do the thing\n',
    config,
    enabled: opts.enabled,
    // Gate commands get PATH from this environment (python3 with pytest may be a pyenv shim).
    env: opts.env ?? { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    baseSuite: {
      checkout: (commit) => {
        git(repo.dir, 'worktree', 'add', '-q', '--detach', baseDir, commit);
        return Promise.resolve(baseDir);
      },
      ...(opts.cacheFile ? { cacheFile: opts.cacheFile } : {}),
    },
  });
}

describe('tests-kept', () => {
  it('fails a branch that deletes the existing test file, unless the spec names its path', async () => {
    const repo = branch({ 'math.test.mjs': TWO }, { 'math.test.mjs': null, 'x.mjs': 'export {};\n' });
    const tests = { command: ['node', '--test', '--test-reporter=spec'] };
    const [kept] = await judge(repo, { enabled: ['tests-kept'], tests });
    expect(kept!.passed).toBe(false);
    expect(kept!.evidence).toContain(
      'deletes existing test files that the spec does not name: math.test.mjs',
    );
    expect(kept!.evidence).toMatch(/ran 2 on the base \(from console output[^)]*\) and 0 on the branch/);
    const [allowed] = await judge(repo, {
      enabled: ['tests-kept'],
      tests,
      specText: 'Remove math.test.mjs: the module is gone.',
    });
    expect(allowed!.passed, allowed!.evidence).toBe(true);
  });

  it('fails a branch whose suite runs fewer tests (one skipped), counting the base once per base', async () => {
    const repo = branch(
      { 'math.test.mjs': TWO },
      {
        'math.test.mjs': TWO.replace("test('subtracts'", "test.skip('subtracts'"),
      },
    );
    const counter = path.join(scratch(), 'runs');
    const cacheFile = path.join(scratch(), 'state', 'base-tests.json');
    const tests = { command: `echo run >> ${counter} && ${JUNIT_NODE.join(' ')}`, report: 'junit.xml' };
    const [kept] = await judge(repo, { enabled: ['tests-kept'], tests, cacheFile });
    expect(kept!.passed).toBe(false);
    expect(kept!.evidence).toContain(
      'The suite ran 2 on the base (from the JUnit report at junit.xml) and 1 on the branch (from the JUnit report at junit.xml): 1 fewer.',
    );
    expect(readFileSync(counter, 'utf8')).toBe('run\nrun\n');
    // Another task on the same base: the base's count comes from the cache, only the head runs.
    const [again] = await judge(repo, { enabled: ['tests-kept'], tests, cacheFile });
    expect(again!.passed).toBe(false);
    expect(again!.evidence).toContain('counted once for this base');
    expect(readFileSync(counter, 'utf8')).toBe('run\nrun\nrun\n');
    expect(JSON.parse(readFileSync(cacheFile, 'utf8'))).toMatchObject({ version: 1 });
  });

  it('fails a branch that empties assertions, and passes one that adds a test', async () => {
    const emptied = branch(
      { 'math.test.mjs': TWO },
      { 'math.test.mjs': TWO.replace('assert.equal(1 + 1, 2);', '') },
    );
    const tests = { command: ['node', '--test', '--test-reporter=spec'] };
    const [kept] = await judge(emptied, { enabled: ['tests-kept'], tests });
    expect(kept!.passed).toBe(false);
    expect(kept!.evidence).toContain('removes assertions from existing tests: math.test.mjs (−1 +0)');
    const grown = branch(
      { 'math.test.mjs': TWO },
      { 'more.test.mjs': testFile("test('multiplies', () => { assert.equal(2 * 2, 4); });") },
    );
    const [ok] = await judge(grown, { enabled: ['tests-kept'], tests });
    expect(ok!.passed, ok!.evidence).toBe(true);
    expect(ok!.evidence).toMatch(/ran 2 on the base .* and 3 on the branch/);
  });
});

describe('named tests from a structured report', () => {
  const tests = { command: JUNIT_NODE, report: 'junit.xml' };

  it('a test that only prints the name does not pass when a report is configured', async () => {
    const repo = branch(
      { 'math.test.mjs': TWO },
      {
        'backoff.test.mjs': testFile(
          "// test_backoff_doubles\ntest('something else', () => { console.log('✓ test_backoff_doubles'); });",
        ),
      },
    );
    const [named] = await judge(repo, { enabled: ['named-tests'], tests, named: ['test_backoff_doubles'] });
    expect(named!.passed).toBe(false);
    expect(named!.evidence).toContain('(from the JUnit report at junit.xml)');
    expect(named!.evidence).toContain('  - test_backoff_doubles: not in the report');
    // Without a report, console parsing is fooled, and the evidence says where the verdict came from.
    const [fooled] = await judge(repo, {
      enabled: ['named-tests'],
      tests: { command: ['node', '--test', '--test-reporter=spec'] },
      named: ['test_backoff_doubles'],
    });
    expect(fooled!.evidence).toContain('from console output: configure gates.tests.report');
  });

  it('a report committed on the branch is removed before the run and proves nothing', async () => {
    const fake =
      '<testsuites><testsuite><testcase classname="t" name="test_backoff_doubles"/></testsuite></testsuites>';
    const repo = branch(
      {},
      {
        'junit.xml': fake,
        'backoff.test.mjs': testFile("test('test_backoff_doubles', () => { assert.equal(1, 2); });"),
      },
    );
    const [named] = await judge(repo, {
      enabled: ['named-tests'],
      tests: { command: ['node', '--test', '--test-reporter=spec'], report: 'junit.xml' },
      named: ['test_backoff_doubles'],
    });
    expect(named!.passed).toBe(false);
    expect(named!.evidence).toContain(
      'The report at junit.xml (gates.tests.report) could not be read: the tests command did not write it',
    );
  });

  it('a real test by that name passes, proven from the report', async () => {
    const repo = branch(
      {},
      { 'backoff.test.mjs': testFile("test('test_backoff_doubles', () => { assert.equal(2 * 2, 4); });") },
    );
    const [named] = await judge(repo, { enabled: ['named-tests'], tests, named: ['test_backoff_doubles'] });
    expect(named!.passed, named!.evidence).toBe(true);
    expect(named!.evidence).toContain('(from the JUnit report at junit.xml)');
  });

  it('a report path through a symlink the branch committed is neither removed through nor read', async () => {
    const outside = scratch();
    writeFileSync(path.join(outside, 'junit.xml'), 'precious');
    const repo = branch({}, { 'x.mjs': 'export {};\n' });
    git(repo.dir, 'rm', '-q', '--cached', '.gitignore');
    const { symlinkSync } = await import('node:fs');
    symlinkSync(outside, path.join(repo.dir, 'out'));
    git(repo.dir, 'add', 'out');
    git(repo.dir, 'commit', '-q', '-m', 'link');
    const [named] = await judge(repo, {
      enabled: ['named-tests'],
      tests: { command: ['true'], report: 'out/junit.xml' },
      named: ['x'],
    });
    expect(named!.passed).toBe(false);
    expect(named!.evidence).toContain('out is not a directory (a symlink?)');
    expect(readFileSync(path.join(outside, 'junit.xml'), 'utf8')).toBe('precious');
  });
});

const hasPytest = (() => {
  try {
    execFileSync('python3', ['-m', 'pytest', '--version'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
})();

describe('named tests from each report format, written by the real runner', () => {
  const vitest = path.resolve('node_modules/.bin/vitest');
  const nodeTests = {
    'real.test.mjs': testFile("test('test_real', () => { assert.equal(2 * 2, 4); });"),
    'liar.test.mjs': testFile("// test_liar\ntest('other', () => { console.log('✓ test_liar'); });"),
  };
  it.each([
    ['node junit', nodeTests, JUNIT_NODE, 'junit.xml', 'JUnit'],
    [
      'node tap',
      nodeTests,
      ['node', '--test', '--test-reporter=tap', '--test-reporter-destination=junit.xml'],
      'junit.xml',
      'TAP',
    ],
    [
      'vitest json',
      {
        'real.test.ts':
          "import { it, expect } from 'vitest';\nit('test_real', () => expect(2 * 2).toBe(4));\n",
        'liar.test.ts':
          "import { it } from 'vitest';\n// test_liar\nit('other', () => { console.log('✓ test_liar'); });\n",
      },
      [vitest, 'run', '--reporter=verbose', '--reporter=json', '--outputFile.json=junit.xml'],
      'junit.xml',
      'vitest JSON',
    ],
    ...(hasPytest
      ? [
          [
            'pytest junitxml',
            {
              'test_real.py': 'def test_real():\n    assert 2 * 2 == 4\n',
              'test_liar.py': "# test_liar\ndef test_other():\n    print('test_liar PASSED')\n",
            },
            ['python3', '-m', 'pytest', '-v', '-s', '-p', 'no:cacheprovider', '--junitxml=junit.xml'],
            'junit.xml',
            'JUnit',
          ] as const,
        ]
      : []),
  ] as const)('%s', async (_name, files, command, report, label) => {
    const repo = branch({}, files);
    const [named] = await judge(repo, {
      enabled: ['named-tests'],
      tests: { command: [...command], report },
      named: ['test_real', 'test_liar'],
    });
    expect(named!.passed).toBe(false);
    expect(named!.evidence).toContain(`(from the ${label} report at ${report})`);
    expect(named!.evidence).toContain('  - test_liar: not in the report');
    expect(named!.evidence).not.toContain('test_real:');
  });
});

describe('secrets', () => {
  const config = {
    providers: { glm: { kind: 'claude-code', secretEnv: { ANTHROPIC_AUTH_TOKEN: 'ZHIPU_API_KEY' } } },
  };
  const value = 'zk-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c';
  const aws = ['AKIA', 'Q2RS4TU6VW8XY0ZA'].join('');

  it('fails a branch that adds a configured secret, naming file, line and variable, never the value', async () => {
    const repo = branch({ 'app.mjs': 'export {};\n' }, { 'conf/app.env': `MODE=prod\nTOKEN=${value}\n` });
    const [secrets] = await judge(repo, { enabled: ['secrets'], config, env: { ZHIPU_API_KEY: value } });
    expect(secrets!.passed).toBe(false);
    expect(secrets!.evidence).toContain('  conf/app.env:2  [secret: ZHIPU_API_KEY]');
    expect(secrets!.evidence).not.toContain(value);
  });

  it('fails a key pattern added in one commit and removed in the next, and one in a commit message', async () => {
    const repo = branch({}, { 'k.txt': `aws=${aws}\n` }, { 'k.txt': 'gone\n' });
    const [secrets] = await judge(repo, { enabled: ['secrets'] });
    expect(secrets!.passed).toBe(false);
    expect(secrets!.evidence).toMatch(
      / {2}k\.txt:1 {2}\[secret: aws-access-key\] \(in commit [0-9a-f]{12}, gone from the final diff\)/,
    );
    expect(secrets!.evidence).not.toContain(aws);
    const told = branch({}, { 'a.txt': 'a\n' });
    git(told.dir, 'commit', '-q', '--amend', '-m', `use ${aws}`);
    const [message] = await judge(told, { enabled: ['secrets'] });
    expect(message!.evidence).toMatch(/\(commit message\) {2}\[secret: aws-access-key\]/);
  });

  it('passes a branch with neither', async () => {
    const repo = branch({}, { 'a.txt': 'AKIAIOSFODNN7EXAMPLE is the documented example\n' });
    const [secrets] = await judge(repo, { enabled: ['secrets'], config, env: { ZHIPU_API_KEY: value } });
    expect(secrets!.passed, secrets!.evidence).toBe(true);
  });
});
