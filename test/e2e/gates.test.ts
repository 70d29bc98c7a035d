/**
 * The tests and named-tests gates against real test runners: each project's branch adds a passing and a
 * failing test, and the gate must tell them apart from the runner's own output. Runners that are not
 * installed here (pytest, cargo, go) are skipped.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { newTask, type TaskSpec } from '../../src/core/task.js';
import { runGates } from '../../src/review/gates.js';
import { git, makeRepo } from '../../src/testing/git.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { tid } from '../../src/testing/ids.js';

const has = (argv: string[]): boolean => {
  try {
    execFileSync(argv[0]!, argv.slice(1), { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
};

const spec: TaskSpec = taskSpec();

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Commits `base` on main, then `branch` on ns/t, and runs the tests and named-tests gates. */
async function judge(opts: {
  base: Record<string, string>;
  branch: Record<string, string>;
  command: string[];
  tests: string[];
}) {
  const dir = makeRepo();
  dirs.push(dir);
  const write = (files: Record<string, string>) => {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), text);
    }
    git(dir, 'add', '-A');
  };
  write({ ...opts.base, '.gitignore': 'target/\nnode_modules/\n__pycache__/\n.pytest_cache/\n' });
  git(dir, 'commit', '-q', '-m', 'project');
  const base = git(dir, 'rev-parse', 'HEAD');
  git(dir, 'checkout', '-q', '-b', 'ns/t');
  write(opts.branch);
  git(dir, 'commit', '-q', '-m', 'add tests');
  const [tests, named] = await runGates({
    worktree: dir,
    base,
    head: 'HEAD',
    task: newTask({ id: tid('t'), dedupKey: 'k', spec: { ...spec, tests: opts.tests }, now: 0 }).task,
    specText: '# Add tests\n',
    config: configSchema.parse({
      gates: { tests: { enabled: true, command: opts.command, timeout: '150s' } },
    }),
    enabled: ['tests', 'named-tests'],
  });
  return { tests: tests!, named: named! };
}

/** The good test passes, the bad one fails, a name the branch never added is missing. */
function expectJudged(result: Awaited<ReturnType<typeof judge>>, good: string, bad: string, absent: string) {
  expect(result.tests.passed, result.tests.evidence).toBe(false);
  expect(result.named.passed).toBe(false);
  expect(result.named.evidence).toContain(`  - ${bad}: failed`);
  expect(result.named.evidence).toContain(`  - ${absent}: not in the output`);
  expect(result.named.evidence).toContain(`(write a test with exactly this name): ${absent}.`);
  expect(result.named.evidence).not.toContain(`- ${good}:`);
}

describe('named tests against real runners', () => {
  it('node --test (spec reporter)', async () => {
    const result = await judge({
      base: { 'sum.mjs': 'export const sum = (a, b) => a + b;\n' },
      branch: {
        'sum.test.mjs':
          "import { test } from 'node:test';\nimport assert from 'node:assert';\nimport { sum } from './sum.mjs';\n" +
          "test('sums two numbers', () => assert.equal(sum(1, 2), 3));\n" +
          "test('sums negatives', () => assert.equal(sum(-1, -2), 3));\n",
      },
      command: ['node', '--test', '--test-reporter=spec'],
      tests: ['sums two numbers', 'sums negatives', 'sums nothing'],
    });
    expectJudged(result, 'sums two numbers', 'sums negatives', 'sums nothing');
  });

  it('vitest --reporter=verbose', async () => {
    const vitest = path.resolve('node_modules/.bin/vitest');
    const result = await judge({
      base: { 'sum.ts': 'export const sum = (a: number, b: number) => a + b;\n' },
      branch: {
        'sum.test.ts':
          "import { describe, expect, it } from 'vitest';\nimport { sum } from './sum';\n" +
          "describe('sum', () => {\n  it('adds two numbers', () => expect(sum(1, 2)).toBe(3));\n" +
          "  it('adds negatives', () => expect(sum(-1, -2)).toBe(3));\n});\n",
      },
      command: [vitest, 'run', '--reporter=verbose'],
      tests: ['sum > adds two numbers', 'adds negatives', 'adds nothing'],
    });
    expectJudged(result, 'sum > adds two numbers', 'adds negatives', 'adds nothing');
  });

  it.skipIf(!has(['python3', '-m', 'pytest', '--version']))('pytest -v', async () => {
    const result = await judge({
      base: { 'calc.py': 'def add(a, b):\n    return a + b\n' },
      branch: {
        'test_calc.py':
          'from calc import add\n\n\ndef test_add_small():\n    assert add(1, 2) == 3\n\n\n' +
          'class TestNegative:\n    def test_add_negative(self):\n        assert add(-1, -2) == 3\n',
      },
      command: ['python3', '-m', 'pytest', '-v', '-p', 'no:cacheprovider'],
      tests: ['test_add_small', 'TestNegative::test_add_negative', 'test_add_none'],
    });
    expectJudged(result, 'test_add_small', 'TestNegative::test_add_negative', 'test_add_none');
  });

  it.skipIf(!has(['cargo', '--version']))('cargo test', async () => {
    const result = await judge({
      base: {
        'Cargo.toml': '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n',
        'src/lib.rs': 'pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n',
      },
      branch: {
        'src/lib.rs':
          'pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n' +
          '    #[test]\n    fn adds_small() {\n        assert_eq!(add(1, 2), 3);\n    }\n\n' +
          '    #[test]\n    fn adds_negative() {\n        assert_eq!(add(-1, -2), 3);\n    }\n}\n',
      },
      command: ['cargo', 'test', '--offline'],
      tests: ['adds_small', 'tests::adds_negative', 'adds_none'],
    });
    expectJudged(result, 'adds_small', 'tests::adds_negative', 'adds_none');
  });

  it.skipIf(!has(['go', 'version']))('go test -v', async () => {
    const result = await judge({
      base: {
        'go.mod': 'module example.com/calc\n\ngo 1.20\n',
        'calc.go': 'package calc\n\nfunc Add(a, b int) int { return a + b }\n',
      },
      branch: {
        'calc_test.go':
          'package calc\n\nimport "testing"\n\nfunc TestAddSmall(t *testing.T) {\n\tif Add(1, 2) != 3 {\n\t\tt.Fatal("bad")\n\t}\n}\n\n' +
          'func TestAddNegative(t *testing.T) {\n\tif Add(-1, -2) != 3 {\n\t\tt.Fatal("bad")\n\t}\n}\n',
      },
      command: ['go', 'test', '-v', './...'],
      tests: ['TestAddSmall', 'TestAddNegative', 'TestAddNone'],
    });
    expectJudged(result, 'TestAddSmall', 'TestAddNegative', 'TestAddNone');
  });
});
