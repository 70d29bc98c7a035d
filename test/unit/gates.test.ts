/** The gates on real git repositories in temp dirs: each gate passing and failing, with its evidence. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../src/config/schema.js';
import { NightshiftError } from '../../src/core/errors.js';
import { GATE_NAMES, type GateName } from '../../src/core/gates.js';
import { newTask, type TaskSpec } from '../../src/core/task.js';
import type { Toggles } from '../../src/queue/toggles.js';
import { EVIDENCE_LIMIT, enabledGates, runGates } from '../../src/review/gates.js';
import { git, makeRepo } from '../../src/testing/git.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { tid } from '../../src/testing/ids.js';
import { waitFor } from '../../src/testing/wait.js';

const spec: TaskSpec = taskSpec();

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Whether a process exists (signal 0 checks without sending). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

type Change = Record<string, string | Buffer | null>;

function write(dir: string, change: Change): void {
  for (const [name, text] of Object.entries(change)) {
    const file = path.join(dir, name);
    if (text === null) {
      rmSync(file);
      continue;
    }
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
}

/** A repo whose `main` holds `files`, with branch ns/t checked out: one commit per change. */
function branch(files: Change, ...commits: Change[]): { dir: string; base: string } {
  const dir = makeRepo();
  dirs.push(dir);
  write(dir, files);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--allow-empty', '-m', 'base files');
  const base = git(dir, 'rev-parse', 'HEAD');
  git(dir, 'checkout', '-q', '-b', 'ns/t');
  commits.forEach((change, i) => {
    write(dir, change);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '--allow-empty', '-m', `change ${i + 1}`);
  });
  return { dir, base };
}

interface Run {
  gates?: Record<string, unknown>;
  enabled: GateName[];
  tests?: string[];
  specText?: string;
  config?: Record<string, unknown>;
  clock?: () => number;
}

function gates(repo: { dir: string; base: string }, run: Run) {
  const config: Config = configSchema.parse({ ...run.config, gates: run.gates ?? {} });
  const task = newTask({
    id: tid('t'),
    dedupKey: 'k',
    spec: { ...spec, tests: run.tests ?? [] },
    now: 0,
  }).task;
  return runGates({
    worktree: repo.dir,
    base: repo.base,
    head: 'HEAD',
    task,
    specText: run.specText ?? '# Do the thing\n',
    config,
    enabled: run.enabled,
    ...(run.clock ? { clock: run.clock } : {}),
  });
}

async function gate(repo: { dir: string; base: string }, run: Run) {
  const [result, ...rest] = await gates(repo, run);
  expect(rest).toEqual([]);
  return result!;
}

describe('enabledGates', () => {
  const config = configSchema.parse({
    gates: {
      tests: { enabled: true, command: 'npm test' },
      lint: { enabled: false, command: 'npm run lint' },
      diff: { enabled: true },
      commits: { enabled: true },
    },
  });
  const toggles = (gates: Toggles['gates']): Toggles => ({ frozen: false, frozenProviders: [], gates });

  it('takes the config, then toggles, then the spec, in the fixed order', () => {
    // secrets is on unless turned off.
    expect(enabledGates(config, toggles({}), spec)).toEqual(['tests', 'diff', 'commits', 'secrets']);
    // Toggles override the config, and turn on gates that have no config section.
    expect(
      enabledGates(config, toggles({ tests: false, lint: true, deletions: true, secrets: false }), spec),
    ).toEqual(['lint', 'diff', 'deletions', 'commits']);
    // The spec's list restricts; it cannot turn on what the config and toggles leave off.
    expect(
      enabledGates(config, toggles({ tests: false }), {
        ...spec,
        gates: ['named-tests', 'commits', 'tests', 'diff'],
      }),
    ).toEqual(['diff', 'commits']);
    expect(enabledGates(config, toggles({}), { ...spec, gates: [] })).toEqual([]);
    // With no config at all, every gate but secrets is off until toggled on.
    expect(enabledGates(configSchema.parse({}), toggles({}), spec)).toEqual(['secrets']);
    expect(
      enabledGates(configSchema.parse({}), toggles({ 'named-tests': true, secrets: false }), spec),
    ).toEqual(['named-tests']);
  });
});

describe('runGates', () => {
  it('runs the enabled gates in the fixed order, timing each', async () => {
    const repo = branch({ 'a.ts': 'export const a = 1;\n' }, { 'b.ts': 'export const b = 2;\n' });
    let now = 0;
    const results = await gates(repo, {
      enabled: ['commits', 'deletions', 'diff', 'tests'],
      gates: { tests: { enabled: true, command: ['true'] } },
      clock: () => (now += 5),
    });
    expect(results.map((r) => r.name)).toEqual(['tests', 'diff', 'deletions', 'commits']);
    expect(results.every((r) => r.passed && r.durationMs === 5)).toBe(true);
    expect(await gates(repo, { enabled: [] })).toEqual([]);
  });

  it('throws when git cannot do its part: that is the supervisor’s failure, not the branch’s', async () => {
    const repo = branch({ 'a.ts': 'x\n' });
    await expect(gates({ ...repo, base: 'no-such-branch' }, { enabled: ['commits'] })).rejects.toThrow(
      NightshiftError,
    );
    await expect(gates({ ...repo, base: '--output=/tmp/x' }, { enabled: ['diff'] })).rejects.toThrow(
      /not a revision/,
    );
    await expect(
      gates({ dir: path.join(repo.dir, 'gone'), base: repo.base }, { enabled: ['diff'] }),
    ).rejects.toThrow(/does not exist/);
  });
});

describe('tests and lint gates', () => {
  it('passes when the command exits 0, run in the worktree', async () => {
    const repo = branch({}, { 'only-here.txt': 'x\n' });
    const result = await gate(repo, {
      enabled: ['tests'],
      gates: {
        tests: {
          enabled: true,
          command: ['node', '-e', 'process.exit(require("fs").existsSync("only-here.txt") ? 0 : 1)'],
        },
      },
    });
    expect(result).toMatchObject({ name: 'tests', passed: true });
    expect(result.evidence).toMatch(/^`node -e .*` passed in /);
  });

  it('fails with the tail of the output, stdout and stderr as printed', async () => {
    const repo = branch({});
    const result = await gate(repo, {
      enabled: ['tests'],
      gates: {
        tests: {
          enabled: true,
          command:
            'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo "ok line $i"; done; echo "FAIL: the last words" >&2; exit 3',
        },
      },
    });
    expect(result.passed).toBe(false);
    expect(result.evidence).toMatch(/exited 3 after .*Make the failing tests pass/);
    expect(result.evidence).toMatch(/ok line 3000\nFAIL: the last words$/);
    expect(result.evidence).not.toContain('ok line 1\n');
    expect(result.evidence).toMatch(/earlier characters cut/);
    expect(result.evidence.length).toBeLessThanOrEqual(EVIDENCE_LIMIT);
  });

  it('fails a command that runs past its timeout, and stops its children', async () => {
    const repo = branch({});
    const pids = mkdtempSync(path.join(os.tmpdir(), 'ns-gate-pids-'));
    dirs.push(pids);
    const bgPid = path.join(pids, 'background.pid');
    const result = await gate(repo, {
      enabled: ['tests'],
      // The background sleep holds the output pipe: only a process-group kill lets the gate finish.
      gates: {
        tests: {
          enabled: true,
          command: `echo started; sleep 3600 & echo $! > ${bgPid}; sleep 3600`,
          timeout: '300ms',
        },
      },
    });
    expect(result.passed).toBe(false);
    expect(result.evidence).toMatch(/timed out after 300ms \(gates\.tests\.timeout\)/);
    expect(result.evidence).toContain('started');
    // Its child is gone too (no bound on the duration: a child left alive is what fails here).
    const pid = Number(readFileSync(bgPid, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    await waitFor(`the background sleep (pid ${pid}) to end`, () => !alive(pid));
  });

  it('fails a gate that is on without a command, or whose command cannot start', async () => {
    const repo = branch({});
    const missing = await gate(repo, { enabled: ['tests'] });
    expect(missing.passed).toBe(false);
    expect(missing.evidence).toMatch(/no command\. Set gates\.tests\.command in nightshift\.config\.yaml/);
    const notFound = await gate(repo, {
      enabled: ['lint'],
      gates: { lint: { enabled: true, command: ['nightshift-no-such-linter'] } },
    });
    expect(notFound.passed).toBe(false);
    expect(notFound.evidence).toMatch(/could not be started \(exit 127: not found\)/);
  });

  it('runs lint with its own command and shows what it reported', async () => {
    const repo = branch({});
    const result = await gate(repo, {
      enabled: ['lint'],
      gates: {
        tests: { enabled: true, command: 'exit 0' },
        lint: { enabled: true, command: ['sh', '-c', 'echo "src/a.ts:3:1 no-unused-vars"; exit 1'] },
      },
    });
    expect(result).toMatchObject({ name: 'lint', passed: false });
    expect(result.evidence).toMatch(/exited 1 .*Fix what it reports[^]*src\/a\.ts:3:1 no-unused-vars/);
  });

  it('gives the command none of the supervisor’s secrets, and redacts them from evidence', async () => {
    const repo = branch({});
    process.env.NS_GATES_TEST_SECRET = 'hunter2-very-secret';
    try {
      const result = await gate(repo, {
        enabled: ['tests'],
        config: { providers: { p: { kind: 'scripted', secretEnv: { TOKEN: 'NS_GATES_TEST_SECRET' } } } },
        gates: {
          tests: {
            enabled: true,
            command: 'echo "seen=[$NS_GATES_TEST_SECRET] ci=$CI"; echo hunter2-very-secret; exit 1',
          },
        },
      });
      expect(result.evidence).toContain('seen=[] ci=true');
      expect(result.evidence).toContain('[redacted]');
      expect(result.evidence).not.toContain('hunter2');
    } finally {
      delete process.env.NS_GATES_TEST_SECRET;
    }
  });
});

describe('named-tests gate', () => {
  const testFile = (body: string) =>
    `import { test } from 'node:test';\nimport assert from 'node:assert';\n${body}\n`;
  const nodeTest = ['node', '--test', '--test-reporter=spec'];

  it('passes with no named tests, without running anything', async () => {
    const repo = branch({});
    const result = await gate(repo, { enabled: ['named-tests'] });
    expect(result).toMatchObject({ passed: true, evidence: 'spec names no tests' });
  });

  it('passes when every named test is added and passes; runs the tests command once for both gates', async () => {
    const counter = mkdtempSync(path.join(os.tmpdir(), 'ns-count-'));
    dirs.push(counter);
    const count = path.join(counter, 'runs');
    const repo = branch(
      { 'math.mjs': 'export const add = (a, b) => a + b;\n' },
      {
        'math.test.mjs': testFile(
          "import { add } from './math.mjs';\ntest('adds_two_numbers', () => assert.equal(add(1, 1), 2));\ntest('adds_zero', () => assert.equal(add(1, 0), 1));",
        ),
      },
    );
    const results = await gates(repo, {
      enabled: ['tests', 'named-tests'],
      tests: ['adds_two_numbers', 'adds_zero'],
      gates: {
        tests: { enabled: true, command: ['sh', '-c', 'echo run >> "$0"; exec "$@"', count, ...nodeTest] },
      },
    });
    expect(results.map((r) => [r.name, r.passed])).toEqual([
      ['tests', true],
      ['named-tests', true],
    ]);
    expect(results[1]!.evidence).toBe(
      'All 2 named tests are added by the diff and pass (from console output: configure gates.tests.report): adds_two_numbers, adds_zero.',
    );
    expect(readFileSync(count, 'utf8')).toBe('run\n');
  });

  it('fails when a named test is missing from the diff and the output', async () => {
    const repo = branch(
      {},
      { 'math.test.mjs': testFile("test('adds_two_numbers', () => assert.equal(1 + 1, 2));") },
    );
    const result = await gate(repo, {
      enabled: ['named-tests'],
      tests: ['adds_two_numbers', 'handles_overflow'],
      gates: { tests: { enabled: false, command: nodeTest } },
    });
    expect(result.passed).toBe(false);
    expect(result.evidence).toContain(
      'Not found in the lines the diff adds (write a test with exactly this name): handles_overflow.',
    );
    expect(result.evidence).toContain('  - handles_overflow: not in the output');
    expect(result.evidence).not.toContain('adds_two_numbers:');
    expect(result.evidence).toMatch(/per-test reporter/);
  });

  it('fails when a named test is added but fails, showing the output when the tests gate is off', async () => {
    const repo = branch(
      {},
      { 'math.test.mjs': testFile("test('adds_two_numbers', () => assert.equal(1 + 1, 3));") },
    );
    const result = await gate(repo, {
      enabled: ['named-tests'],
      tests: ['adds_two_numbers'],
      gates: { tests: { enabled: true, command: nodeTest } },
    });
    expect(result.passed).toBe(false);
    expect(result.evidence).not.toContain('Not found in the lines');
    expect(result.evidence).toMatch(
      /Did not pass \(from console output: configure gates.tests.report\) in the run of `node --test --test-reporter=spec`:\n {2}- adds_two_numbers: failed/,
    );
    expect(result.evidence).toMatch(/The end of its output:\n\n[^]*✖ adds_two[^]*AssertionError/);
  });

  it('fails when there is no tests command to run', async () => {
    const repo = branch({}, { 't.py': 'def test_x():\n    pass\n' });
    const result = await gate(repo, { enabled: ['named-tests'], tests: ['test_x'] });
    expect(result.passed).toBe(false);
    expect(result.evidence).toMatch(/no tests command is configured/);
  });
});

describe('diff gate', () => {
  const lines = (n: number, word: string) =>
    Array.from({ length: n }, (_, i) => `${word} ${i}`).join('\n') + '\n';

  it('passes within the budget', async () => {
    const repo = branch({ 'a.txt': lines(5, 'a') }, { 'a.txt': lines(6, 'a'), 'b.txt': lines(3, 'b') });
    const result = await gate(repo, { enabled: ['diff'], gates: { diff: { enabled: true } } });
    expect(result.passed).toBe(true);
    expect(result.evidence).toBe(
      '4 changed lines (+4 −0) in 2 files; the budget is 1500 lines and 40 files.',
    );
  });

  it('fails over the line budget, listing the largest changes', async () => {
    const repo = branch({ 'a.txt': lines(10, 'a') }, { 'a.txt': lines(10, 'A'), 'b.txt': lines(5, 'b') });
    const result = await gate(repo, { enabled: ['diff'], gates: { diff: { enabled: true, maxLines: 20 } } });
    expect(result.passed).toBe(false);
    expect(result.evidence).toMatch(
      /^25 changed lines \(\+15 −10\) in 2 files; the budget is 20 lines and 40 files\. Over by 5 lines/,
    );
    expect(result.evidence).toMatch(/The largest changes:\n {2}\+10 −10 {2}a\.txt\n {2}\+5 −0 {2}b\.txt$/);
  });

  it('fails over the file budget, counting binary files', async () => {
    const repo = branch({}, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.bin': Buffer.from([0, 1, 2, 0, 255]) });
    const result = await gate(repo, { enabled: ['diff'], gates: { diff: { enabled: true, maxFiles: 2 } } });
    expect(result.passed).toBe(false);
    expect(result.evidence).toMatch(/^2 changed lines \(\+2 −0\) in 3 files;.*Over by 1 file/);
    expect(result.evidence).toContain('  binary  c.bin');
  });
});

describe('deletions gate', () => {
  const cases: {
    language: string;
    file: string;
    before: string;
    after: string;
    name: string;
    line: number;
  }[] = [
    {
      language: 'TypeScript',
      file: 'src/util.ts',
      before:
        'export function keep(): number {\n  return 1;\n}\n\nexport function parseRow(s: string) {\n  return s.split(",");\n}\n',
      after: 'export function keep(): number {\n  return 1;\n}\n',
      name: 'parseRow',
      line: 5,
    },
    {
      language: 'Python',
      file: 'app/store.py',
      before: 'class Store:\n    def get(self, k):\n        return k\n\n    def purge(self):\n        pass\n',
      after: 'class Store:\n    def get(self, k):\n        return k\n',
      name: 'purge',
      line: 5,
    },
    {
      language: 'Go',
      file: 'server/server.go',
      before:
        'package server\n\nfunc New() *Server { return &Server{} }\n\nfunc (s *Server) Shutdown() error {\n\treturn nil\n}\n',
      after: 'package server\n\nfunc New() *Server { return &Server{} }\n',
      name: 'Shutdown',
      line: 5,
    },
    {
      language: 'Rust',
      file: 'src/lib.rs',
      before: 'pub fn keep() -> u32 {\n    1\n}\n\npub fn checksum(data: &[u8]) -> u32 {\n    0\n}\n',
      after: 'pub fn keep() -> u32 {\n    1\n}\n',
      name: 'checksum',
      line: 5,
    },
  ];

  for (const c of cases) {
    it(`fails when a ${c.language} definition is removed, unless the spec names it`, async () => {
      const repo = branch({ [c.file]: c.before }, { [c.file]: c.after });
      const failed = await gate(repo, { enabled: ['deletions'] });
      expect(failed.passed).toBe(false);
      expect(failed.evidence).toMatch(
        /^The diff removes 1 definition that the spec does not name\. Restore them/,
      );
      expect(failed.evidence).toContain(`  ${c.file}:${c.line}  `);
      expect(failed.evidence).toMatch(new RegExp(`\\b${c.name}\\b`));
      const allowed = await gate(repo, {
        enabled: ['deletions'],
        specText: `# Clean up\n\nRemove \`${c.name}\`: nothing calls it any more.\n`,
      });
      expect(allowed.passed).toBe(true);
      expect(allowed.evidence).toMatch(
        new RegExp(`Removed as the spec names them: .*${c.name}.*\\(${c.file}:${c.line}\\)`),
      );
    });
  }

  it('passes a function moved to another file, and an edited signature', async () => {
    const before = {
      'src/a.ts':
        'export function moved(x: number) {\n  return x;\n}\nexport function edited(a: string) {\n  return a;\n}\n',
      'src/b.ts': 'export const b = 1;\n',
    };
    const repo = branch(before, {
      'src/a.ts': 'export function edited(a: string, b = 2) {\n  return a + b;\n}\n',
      'src/b.ts': 'export const b = 1;\n\nexport function moved(x: number) {\n  return x;\n}\n',
    });
    const result = await gate(repo, { enabled: ['deletions'] });
    expect(result.passed).toBe(true);
    expect(result.evidence).toBe(
      'No function, method, class or export definition removed. 2 definitions moved or changed in place, under the same name.',
    );
  });

  it('fails a removed class method, a deleted file and a dropped export', async () => {
    const repo = branch(
      {
        'src/queue.ts':
          'export class Queue {\n  push(x: number): void {\n    this.items.push(x);\n  }\n\n  async drain(): Promise<void> {\n    await this.flush();\n  }\n}\n',
        'src/old.py': 'def legacy():\n    return 1\n',
        'src/api.ts': 'export function api() {\n  return 1;\n}\n',
      },
      {
        'src/queue.ts': 'export class Queue {\n  push(x: number): void {\n    this.items.push(x);\n  }\n}\n',
        'src/old.py': null,
        'src/api.ts': 'function api() {\n  return 1;\n}\n',
      },
    );
    const result = await gate(repo, { enabled: ['deletions'] });
    expect(result.passed).toBe(false);
    expect(result.evidence).toContain('The diff removes 3 definitions');
    expect(result.evidence).toContain(
      'src/api.ts:1  function (no longer exported) api: export function api() {',
    );
    expect(result.evidence).toContain('src/old.py:1  def legacy: def legacy():');
    expect(result.evidence).toContain('src/queue.ts:6  method drain: async drain(): Promise<void> {');
  });

  it('ignores files in other languages', async () => {
    const repo = branch({ 'notes.md': 'function notCode() {\n' }, { 'notes.md': 'gone\n' });
    expect((await gate(repo, { enabled: ['deletions'] })).passed).toBe(true);
  });
});

describe('commits gate', () => {
  it('passes up to the limit and fails past it', async () => {
    const few = branch({}, { 'a.txt': '1' }, { 'a.txt': '2' }, { 'a.txt': '3' });
    const ok = await gate(few, { enabled: ['commits'], gates: { commits: { enabled: true, max: 15 } } });
    expect(ok).toMatchObject({ passed: true, evidence: '3 commits (the limit is 15).' });

    const many = branch({}, ...Array.from({ length: 20 }, (_, i) => ({ 'a.txt': String(i) })));
    const failed = await gate(many, { enabled: ['commits'], gates: { commits: { enabled: true, max: 15 } } });
    expect(failed.passed).toBe(false);
    expect(failed.evidence).toMatch(
      new RegExp(
        `^20 commits on the branch, more than the limit of 15\\. Squash related commits \\(e\\.g\\. \`git rebase -i ${many.base.slice(0, 12)}\`\\)`,
      ),
    );
  });

  it('uses the default limit when toggled on without a config section', async () => {
    const repo = branch({}, { 'a.txt': '1' });
    expect(await gate(repo, { enabled: ['commits'] })).toMatchObject({
      passed: true,
      evidence: '1 commit (the limit is 15).',
    });
  });
});

it('names every gate', () => {
  expect(GATE_NAMES).toEqual([
    'tests',
    'lint',
    'named-tests',
    'tests-kept',
    'diff',
    'deletions',
    'commits',
    'secrets',
  ]);
});
