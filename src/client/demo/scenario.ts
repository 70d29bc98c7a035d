/**
 * The demo night: a temporary workspace with a small git repository that has a test suite, the local
 * host, two scripted providers (one healthy, one whose probe answers nothing), and six specs that show
 * what nightshift is for — two that succeed, one whose executor deletes a function, one that fails its
 * tests and succeeds after a review round, one that hangs, and one that loops past its commit budget.
 * The executors are the scripted simulator, not an AI: every spec carries its own script.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runGit } from '../../git/run.js';

export interface DemoWorkspace {
  root: string;
  repo: string;
  mode: 'gates' | 'llm';
}

const MATH_JS = `// A tiny library for nightshift's demo night.
function add(a, b) {
  return a + b;
}

function square(x) {
  return mul(x, x);
}

function mul(a, b) {
  let product = 0;
  for (let i = 0; i < Math.abs(b); i++) product = add(product, a);
  return b < 0 ? -product : product;
}

module.exports = { add, mul, square };
`;

const MATH_TEST = `const test = require('node:test');
const assert = require('node:assert');
const { add, mul } = require('../src/math.js');

test('add_adds', () => assert.equal(add(2, 3), 5));
test('mul_multiplies', () => assert.equal(mul(4, -3), -12));
test('square_squares', () => assert.equal(require('../src/math.js').square(7), 49));
`;

/** Round 1 forgets the zero check (its test fails); round 2, on the same branch, adds it. */
const DIV_ROUNDS = [
  'if [ -f src/div.js ]; then',
  '  echo "round 2: adding the zero check the review asked for"',
  "  printf '%s\\n' \"const div = (a, b) => { if (b === 0) throw new RangeError('division by zero'); return a / b; };\" 'module.exports = { div };' > src/div.js",
  'else',
  '  echo "round 1: a first try"',
  "  printf '%s\\n' 'const div = (a, b) => a / b;' 'module.exports = { div };' > src/div.js",
  'fi',
].join('\n');

const w = (file: string, text: string) => `write ${file} ${JSON.stringify(text)}`;

function spec(front: Record<string, string>, body: string, script: string[]): string {
  const lines = Object.entries(front).map(([k, v]) => `${k}: ${v}`);
  return ['---', ...lines, '---', body.trim(), '', '```nightshift-script', ...script, '```', ''].join('\n');
}

/** The six specs of the demo, by file name. */
export function demoSpecs(): Record<string, string> {
  return {
    '1-sub.md': spec(
      {
        title: 'Add sub()',
        id: 'add-sub',
        priority: '2',
        tests: '[sub_subtracts]',
        stop: 'Stop when sub_subtracts passes.',
      },
      'Add a `sub(a, b)` function to src/math.js that returns a minus b, export it, and add the named test next to the existing ones. Keep every existing function and test as it is.',
      [
        'print "reading src/math.js"',
        'sleep 2',
        w('src/sub.js', 'const sub = (a, b) => a - b;\nmodule.exports = { sub };\n'),
        w(
          'test/sub.test.js',
          "const test = require('node:test');\nconst assert = require('node:assert');\nconst { sub } = require('../src/sub.js');\n\ntest('sub_subtracts', () => assert.equal(sub(5, 3), 2));\n",
        ),
        'commit "Add sub() with its test"',
        'print "sub() added; tests pass"',
        'exit 0',
      ],
    ),
    '2-clamp.md': spec(
      {
        title: 'Add clamp()',
        id: 'add-clamp',
        priority: '1',
        tests: '[clamp_bounds]',
        stop: 'Stop when clamp_bounds passes.',
      },
      'Add a `clamp(x, lo, hi)` helper in its own module src/clamp.js that keeps x within [lo, hi], with the named test. Do not touch src/math.js.',
      [
        'print "planning clamp()"',
        'sleep 3',
        w(
          'src/clamp.js',
          'const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));\nmodule.exports = { clamp };\n',
        ),
        w(
          'test/clamp.test.js',
          "const test = require('node:test');\nconst assert = require('node:assert');\nconst { clamp } = require('../src/clamp.js');\n\ntest('clamp_bounds', () => assert.deepEqual([clamp(-1, 0, 9), clamp(5, 0, 9), clamp(12, 0, 9)], [0, 5, 9]));\n",
        ),
        'commit "Add clamp()"',
        'exit 0',
      ],
    ),
    '3-simplify.md': spec(
      {
        title: 'Speed up mul()',
        id: 'faster-mul',
        tests: '[mul_is_fast]',
        stop: 'Stop when mul_is_fast passes.',
        reviewRounds: '1',
      },
      'The multiplication in src/math.js loops; make it fast for large numbers and cover it with the named test. Keep the module API intact.',
      [
        'print "mul() is slow: rewriting the module from scratch"',
        'sleep 2',
        w(
          'src/math.js',
          '// Simpler: one line each.\nfunction add(a, b) {\n  return a + b;\n}\n\nfunction mul(a, b) {\n  return a * b;\n}\n\nmodule.exports = { add, mul };\n',
        ),
        w(
          'test/fast.test.js',
          "const test = require('node:test');\nconst assert = require('node:assert');\nconst { mul } = require('../src/math.js');\n\ntest('mul_is_fast', () => assert.equal(mul(1e6, 1e6), 1e12));\n",
        ),
        'commit "Rewrite math.js"',
        'exit 0',
      ],
    ),
    '4-div.md': spec(
      {
        title: 'Add div() that refuses zero',
        id: 'add-div',
        tests: '[div_divides, div_refuses_zero]',
        stop: 'Stop when both named tests pass.',
        reviewRounds: '2',
      },
      'Add `div(a, b)` in src/div.js that divides and throws a RangeError when b is 0, with the two named tests.',
      [
        `sh ${JSON.stringify(DIV_ROUNDS)}`,
        w(
          'test/div.test.js',
          "const test = require('node:test');\nconst assert = require('node:assert');\nconst { div } = require('../src/div.js');\n\ntest('div_divides', () => assert.equal(div(9, 3), 3));\ntest('div_refuses_zero', () => assert.throws(() => div(1, 0), RangeError));\n",
        ),
        'commit "div()"',
        'exit 0',
      ],
    ),
    '5-hang.md': spec(
      {
        title: 'Document the API',
        id: 'write-docs',
        tests: '[docs_exist]',
        stop: 'Stop when the README lists every function.',
        attempts: '1',
        idle: '12s',
      },
      'Write API documentation for every function in src/ into README.md.',
      ['print "thinking about the docs..."', 'hang'],
    ),
    '6-loop.md': spec(
      {
        title: 'Polish the test suite',
        id: 'polish-tests',
        tests: '[suite_is_tidy]',
        stop: 'Stop after one pass over the tests.',
        reviewRounds: '0',
      },
      'Tidy the test suite: consistent names and messages, plus the named test. One commit is plenty.',
      [
        w('test/tidy.test.js', "const test = require('node:test');\n\ntest('suite_is_tidy', () => {});\n"),
        ...Array.from({ length: 8 }, (_, i) => [
          w('test/notes.txt', `pass ${i + 1}\n`),
          `commit "Polish pass ${i + 1}"`,
        ]).flat(),
        'exit 0',
      ],
    ),
  };
}

/** Creates the demo workspace and repository under the system temp directory. */
export async function createDemoWorkspace(env: NodeJS.ProcessEnv): Promise<DemoWorkspace> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'nightshift-demo-'));
  const repo = path.join(root, 'app');
  mkdirSync(path.join(repo, 'src'), { recursive: true });
  mkdirSync(path.join(repo, 'test'), { recursive: true });
  writeFileSync(path.join(repo, 'src', 'math.js'), MATH_JS);
  writeFileSync(path.join(repo, 'test', 'math.test.js'), MATH_TEST);
  writeFileSync(path.join(repo, 'README.md'), '# app\n\nThe demo repository nightshift works on tonight.\n');
  const git = (...args: string[]) =>
    runGit(repo, ['-c', 'user.name=demo', '-c', 'user.email=demo@localhost', ...args]);
  await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  await git('commit', '-q', '-m', 'The demo app before tonight');

  const llm = Boolean(env['ANTHROPIC_API_KEY'] || env['ANTHROPIC_BASE_URL']);
  const config = [
    '# nightshift demo workspace (created by `nightshift demo`).',
    'repos:',
    `  app: { path: ${JSON.stringify(repo)}, main: main, merge: rebase }`,
    'hosts:',
    '  # The demo runs beside everything else on this machine: do not hold work back for its load.',
    '  local: { kind: local, maxLoadPerCore: 50, minFreeMemMB: 64, minFreeDiskMB: 64 }',
    'providers:',
    '  # Both are the scripted simulator (not an AI). "flaky" answers its probe with nothing.',
    '  scripted: { kind: scripted, hosts: [local], concurrency: 3 }',
    '  flaky: { kind: scripted, hosts: [local], concurrency: 2, scripted: { probe: silent } }',
    'architect:',
    `  mode: ${llm ? 'llm' : 'gates'}`,
    ...(llm ? ['  apiKeyEnv: ANTHROPIC_API_KEY'] : []),
    'gates:',
    '  tests: { enabled: true, command: node --test, timeout: 2m }',
    '  named-tests: { enabled: true }',
    '  diff: { enabled: true, maxLines: 400, maxFiles: 20 }',
    '  deletions: { enabled: true }',
    '  commits: { enabled: true, max: 5 }',
    'defaults: { timeout: 5m, idle: 30s, attempts: 2, reviewRounds: 1, monitorEvery: 1m, retryInitial: 2s, retryMax: 10s, livenessEvery: 3s }',
    '',
  ].join('\n');
  writeFileSync(path.join(root, 'nightshift.config.yaml'), config, { mode: 0o600 });
  mkdirSync(path.join(root, 'specs'), { recursive: true });
  return { root, repo, mode: llm ? 'llm' : 'gates' };
}

/** Drops the six specs into the inbox, a few seconds apart so the board fills up as you watch. */
export function dropDemoSpecs(root: string): void {
  for (const [name, text] of Object.entries(demoSpecs())) writeFileSync(path.join(root, 'specs', name), text);
}
