/**
 * A new user's first own night, offline, as the README's "Your own night" says: `init`, point
 * repos.app.path at a repository, copy the offline example into the inbox, run the night. The scripted
 * provider (the only one that works without a network) must do something visible: the example's file is
 * merged into the repository's main.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { git, makeRepo } from '../../src/testing/git.js';
import { killTmuxServers, localExecutorSocket } from '../../src/testing/executor-tmux.js';

const run = promisify(execFile);
const socket = `ns-first-${process.pid}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-first-'));
const root = path.join(dir, 'night');
const repo = makeRepo();
const env = { ...process.env, NIGHTSHIFT_TMUX_SOCKET: socket };
const bin = path.resolve('bin/nightshift.js');
afterAll(() => {
  killTmuxServers(socket, [localExecutorSocket(root, socket)]);
  rmSync(dir, { recursive: true, force: true });
  rmSync(repo, { recursive: true, force: true });
});

it('init’s offline example runs with the scripted provider and merges its file into main', async () => {
  const init = await run(process.execPath, [bin, 'init', 'night'], { cwd: dir, env });
  expect(init.stdout).toContain('hello-nightshift.md');
  expect(init.stdout).toMatch(/Next \(offline, no AI needed\)/);
  // The one edit the user makes: where the repository is (and a local host that ignores this busy
  // machine's load, as every test's host does).
  const config = path.join(root, 'nightshift.config.yaml');
  writeFileSync(
    config,
    readFileSync(config, 'utf8')
      .replace('app: { path: ~/src/app, main: main }', `app: { path: ${JSON.stringify(repo)}, main: main }`)
      .replace(
        'local: { kind: local }',
        'local: { kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }',
      ),
    { mode: 0o600 },
  );
  const lint = await run(
    process.execPath,
    [bin, '-w', root, 'lint', path.join(root, 'examples', 'hello-nightshift.md')],
    {
      env,
    },
  ).catch((e: { stdout: string; stderr: string }) => e);
  // Valid; the one warning is that it names no tests (it changes no code).
  expect(lint.stdout).toContain('1/1 spec(s) valid, 1 warning(s)');
  copyFileSync(
    path.join(root, 'examples', 'hello-nightshift.md'),
    path.join(root, 'specs', 'hello-nightshift.md'),
  );
  await run(process.execPath, [bin, '-w', root, 'daemon', '--until-idle'], { env, timeout: 300_000 });
  const ls = await run(process.execPath, [bin, '-w', root, 'ls', '--json'], { env });
  expect(JSON.parse(ls.stdout)).toEqual([expect.objectContaining({ id: 'hello-nightshift', state: 'done' })]);
  expect(git(repo, 'show', 'main:NIGHTSHIFT-HELLO.md')).toContain('# Hello from nightshift');
}, 360_000);
