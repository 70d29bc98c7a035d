/**
 * The import boundary of the CLI's start-up (issue 17): `--help`, `--version`, `ls`, `show` and `add` on
 * the built CLI (bin/nightshift.js over dist/) never load the TUI, the architect's SDK, the daemon or the
 * morning report. Every module each run loads is logged by bench/fixtures/module-log.js (ES modules
 * through a loader hook, CommonJS from require's cache at exit); a command that reads the report is the
 * control that the log would show one. Needs `npm run build` first.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { makeWorkspace, specText } from '../../src/testing/workspace.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'nightshift.js');
const MODULE_LOG = path.join(ROOT, 'bench', 'fixtures', 'module-log.js');
const DIST = `${path.join(ROOT, 'dist')}/`;

/** What these commands must never load, by the path of the module (node_modules resolve through links). */
const FORBIDDEN: readonly [string, (url: string) => boolean][] = [
  ['the Anthropic SDK', (u) => u.includes('/node_modules/@anthropic-ai/sdk/')],
  ['ink', (u) => u.includes('/node_modules/ink/')],
  ['react', (u) => /\/node_modules\/react(-reconciler)?\//.test(u)],
  ['the TUI', (u) => u.includes(`${DIST}tui/`) || u.includes(`${DIST}tui-bundle/`)],
  ['the live client', (u) => u.includes(`${DIST}client/live/`)],
  // queue/state/daemon.json's reader (a leaf: fs and queue/fsx) is what clients read the daemon's state by.
  ['the daemon', (u) => u.includes(`${DIST}daemon/`) && !u.endsWith('/daemon/state-file.js')],
  ['the report', (u) => u.includes(`${DIST}client/report/`)],
];

const ws = makeWorkspace();
const scratch = mkdtempSync(path.join(os.tmpdir(), 'ns-startup-'));
afterAll(() => {
  ws.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs the CLI under the module log; the modules it loaded (file: URLs), and its output. */
function loaded(args: string[]): { modules: string[]; stdout: string } {
  const log = path.join(scratch, `modules-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, '');
  const res = spawnSync(process.execPath, ['--import', MODULE_LOG, BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NS_MODULE_LOG: log },
  });
  expect(res.status, `nightshift ${args.join(' ')}: ${res.stderr}`).toBe(0);
  const modules = readFileSync(log, 'utf8')
    .split('\n')
    .map((line) => line.split('\t')[0]!)
    .filter((url) => url.startsWith('file:'));
  return { modules, stdout: res.stdout };
}

function breaches(modules: readonly string[]): string[] {
  return FORBIDDEN.flatMap(([what, test]) => modules.filter(test).map((u) => `${what}: ${u}`));
}

describe('the CLI loads only what a command needs', () => {
  const specFile = path.join(scratch, 'startup-a.md');
  writeFileSync(specFile, specText({ id: 'startup-a' }));

  it('add, ls, show, --help and --version load none of the TUI, the SDK, the daemon or the report', () => {
    const runs: [string[], (out: string, modules: string[]) => void][] = [
      [['-w', ws.root, 'add', specFile], (out) => expect(out).toContain('startup-a')],
      [['-w', ws.root, 'ls'], (out) => expect(out).toMatch(/^startup-a\s+pending/m)],
      [['-w', ws.root, 'ls', '--json'], (out) => expect(JSON.parse(out)).toHaveLength(1)],
      [['-w', ws.root, 'show', 'startup-a'], (out) => expect(out).toContain('history')],
      [['-w', ws.root, 'show', 'startup-a', '--json'], (out) => expect(out).toContain('"cost"')],
      [['--help'], (out) => expect(out).toMatch(/^ {2}report \[options\]/m)],
      [['ls', '--help'], (out) => expect(out).toContain('--state <state>')],
      [['--version'], (out) => expect(out.trim()).toMatch(/^\d+\.\d+\.\d+/)],
      [['-w', ws.root, '-V'], (out) => expect(out.trim()).toMatch(/^\d+\.\d+\.\d+/)],
    ];
    for (const [args, check] of runs) {
      const { modules, stdout } = loaded(args);
      check(stdout, modules);
      expect(breaches(modules), `nightshift ${args.join(' ')}`).toEqual([]);
    }
  });

  it('loads the one command module it runs, not the others', () => {
    const { modules } = loaded(['-w', ws.root, 'ls']);
    expect(modules).toContain(`file://${DIST}cli/commands/ls.js`);
    expect(modules.filter((u) => u.includes(`${DIST}cli/commands/`))).toEqual([
      `file://${DIST}cli/commands/ls.js`,
    ]);
  });

  it('would see a breach: report loads the report, plan --help nothing of the SDK until it runs', () => {
    const report = loaded(['-w', ws.root, 'report']);
    expect(breaches(report.modules).some((b) => b.startsWith('the report:'))).toBe(true);
    expect(breaches(loaded(['plan', '--help']).modules)).toEqual([]);
  });
});
