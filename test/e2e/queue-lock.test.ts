/**
 * queue/lock is read without following links or blocking on FIFOs: a FIFO there once hung
 * `nightshift ls` for ten minutes. The real CLI runs as a child process with a timeout as the guard.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, expect, it } from 'vitest';
import { workspacePaths, type WorkspacePaths } from '../../src/config/paths.js';
import { ensureDir } from '../../src/queue/fsx.js';

const BIN = fileURLToPath(new URL('../../bin/nightshift.js', import.meta.url));
const roots: string[] = [];
let paths: WorkspacePaths;

beforeEach(() => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-lock-'));
  roots.push(root);
  writeFileSync(
    path.join(root, 'nightshift.config.yaml'),
    'repos:\n  app: { path: /tmp/x }\nhosts:\n  local: { kind: local }\nproviders:\n  p: { kind: scripted }\n',
  );
  paths = workspacePaths(root);
  ensureDir(path.dirname(paths.lock));
});
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/**
 * `nightshift ls` to its exit, killed after 2 minutes so that a hang (the FIFO bug: ten minutes) fails the
 * test instead of stalling it; a slow start on a busy machine (18 s seen at a load of 30) does not.
 */
function ls(): { status: number | null; stderr: string; timedOut: boolean } {
  const r = spawnSync(process.execPath, [BIN, '-w', paths.root, 'ls'], {
    encoding: 'utf8',
    timeout: 120_000,
    killSignal: 'SIGKILL',
  });
  return { status: r.status, stderr: r.stderr, timedOut: r.signal === 'SIGKILL' };
}

it('a FIFO at queue/lock makes `ls` fail fast, naming the path and what to do', () => {
  execFileSync('mkfifo', [paths.lock]);
  const r = ls();
  expect(r.timedOut).toBe(false);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain(`${paths.lock}: workspace lock is not a regular file`);
  expect(r.stderr).toContain(`remove it (\`rm ${paths.lock}\`)`);
});

it('a symlink at queue/lock is refused, not followed, and its target is untouched', () => {
  const target = path.join(paths.root, 'elsewhere.json');
  writeFileSync(target, '{"keep":true}');
  symlinkSync(target, paths.lock);
  const r = ls();
  expect(r.timedOut).toBe(false);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain(`${paths.lock}: workspace lock is a symbolic link`);
  expect(readFileSync(target, 'utf8')).toBe('{"keep":true}');
});
