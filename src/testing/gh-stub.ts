/**
 * A `gh` stand-in on PATH (the process boundary pr mode and `nightshift import github` cross): a small
 * node script that records every call (argv, cwd, the body file's text) as one JSON line, and answers
 * like GitHub would, from its own state file: `pr create` adds a pull request for its --head and prints
 * its URL; `pr list --head=X` prints the ones for X; `issue list` prints the issues a test set.
 * Writing `fail` in its directory makes every call fail with that text on stderr (exit 1).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface GhCall {
  argv: string[];
  cwd: string;
  /** The text of --body-file, when there was one. */
  body: string | null;
}

export interface GhStub {
  dir: string;
  /** PATH with the stand-in first. */
  path: string;
  /** The environment to run nightshift with: `base` plus PATH and the stub's directory. */
  env(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  calls(): GhCall[];
  /** Every call fails (exit 1, `message` on stderr) until `fail(null)`. */
  fail(message: string | null): void;
  setIssues(issues: unknown[]): void;
  /** The next `pr create` opens its pull request but fails as if the connection dropped before the answer. */
  loseNextAnswer(): void;
  cleanup(): void;
}

const SCRIPT = String.raw`#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
const dir = process.env.GH_STUB_DIR;
const argv = process.argv.slice(2);
const flag = (name) => {
  const a = argv.find((x) => x.startsWith('--' + name + '='));
  if (a) return a.slice(name.length + 3);
  const i = argv.indexOf('--' + name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const bodyFile = flag('body-file');
let body = null;
try { if (bodyFile) body = fs.readFileSync(bodyFile, 'utf8'); } catch { body = '(unreadable)'; }
fs.appendFileSync(path.join(dir, 'calls.jsonl'), JSON.stringify({ argv, cwd: process.cwd(), body }) + '\n');
const failFile = path.join(dir, 'fail');
if (fs.existsSync(failFile)) {
  process.stderr.write(fs.readFileSync(failFile, 'utf8'));
  process.exit(1);
}
const stateFile = path.join(dir, 'state.json');
const state = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : { prs: [] };
const [a, b] = argv;
if (a === 'pr' && b === 'create') {
  const number = state.prs.length + 1;
  const url = 'https://github.com/acme/app/pull/' + number;
  state.prs.push({ head: flag('head'), url, number });
  fs.writeFileSync(stateFile, JSON.stringify(state));
  const lost = path.join(dir, 'lose-answer');
  if (fs.existsSync(lost)) {
    fs.rmSync(lost);
    process.stderr.write('error connecting to api.github.com\n');
    process.exit(1);
  }
  process.stdout.write('Creating pull request for ' + flag('head') + ' into ' + flag('base') + '\n\n' + url + '\n');
} else if (a === 'pr' && b === 'list') {
  const head = flag('head');
  process.stdout.write(JSON.stringify(state.prs.filter((p) => p.head === head).map(({ url, number }) => ({ url, number }))));
} else if (a === 'issue' && b === 'list') {
  const issues = path.join(dir, 'issues.json');
  process.stdout.write(fs.existsSync(issues) ? fs.readFileSync(issues, 'utf8') : '[]');
} else {
  process.stderr.write('gh stub: unknown command ' + argv.join(' ') + '\n');
  process.exit(2);
}
`;

export function makeGhStub(): GhStub {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-gh-'));
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'gh'), SCRIPT);
  chmodSync(path.join(bin, 'gh'), 0o755);
  const searchPath = `${bin}:${process.env['PATH'] ?? ''}`;
  return {
    dir,
    path: searchPath,
    env: (base = process.env) => ({ ...base, PATH: searchPath, GH_STUB_DIR: dir }),
    calls() {
      const file = path.join(dir, 'calls.jsonl');
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as GhCall);
    },
    fail(message) {
      if (message === null) rmSync(path.join(dir, 'fail'), { force: true });
      else writeFileSync(path.join(dir, 'fail'), message);
    },
    loseNextAnswer() {
      writeFileSync(path.join(dir, 'lose-answer'), '');
    },
    setIssues(issues) {
      writeFileSync(path.join(dir, 'issues.json'), JSON.stringify(issues));
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
