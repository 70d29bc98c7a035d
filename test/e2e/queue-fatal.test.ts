/**
 * An fsync error is fatal (src/queue/fsx.ts FatalIoError): nothing may turn it into a failed request or
 * a "tick failed" line and carry on. The fault is injected at the process boundary: the real CLI and
 * daemon run with fixtures/queue-worker.mjs preloaded, whose NS_FAIL_FSYNC_OF hook makes fsync(2) of
 * one file name fail with EIO, as a dying disk's would.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeEach, expect, it } from 'vitest';
import { workspacePaths, type WorkspacePaths } from '../../src/config/paths.js';
import { specText } from '../../src/testing/workspace.js';
import { waitFor } from '../../src/testing/wait.js';
import { killTmuxServers, localExecutorSocket } from '../../src/testing/executor-tmux.js';

const WORKER = pathToFileURL(fileURLToPath(new URL('./fixtures/queue-worker.mjs', import.meta.url))).href;
const BIN = fileURLToPath(new URL('../../bin/nightshift.js', import.meta.url));
const socket = `ns-fatal-${process.pid}`;
const roots: string[] = [];
let paths: WorkspacePaths;

beforeEach(() => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-fatal-'));
  roots.push(root);
  writeFileSync(
    path.join(root, 'nightshift.config.yaml'),
    'repos:\n  app: { path: /tmp/x }\nhosts:\n  local: { kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }\nproviders:\n  p: { kind: scripted }\n',
  );
  paths = workspacePaths(root);
});
afterAll(() => {
  killTmuxServers(
    socket,
    roots.map((r) => localExecutorSocket(r, socket)),
  );
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** Runs bin/nightshift.js to its exit; `failing` names the file whose fsync fails. */
function run(
  args: string[],
  failing: string | null,
): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(
    process.execPath,
    [...(failing ? ['--import', WORKER] : []), BIN, '-w', paths.root, ...args],
    {
      env: {
        ...process.env,
        NIGHTSHIFT_TMUX_SOCKET: socket,
        ...(failing ? { NS_FAIL_FSYNC_OF: failing } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  child.stdout?.resume();
  const done = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
  return { child, done };
}

const pendingRequests = () => readdirSync(paths.requests).filter((n) => !n.startsWith('.'));

it('`nightshift add` stops with exit 1 when fsync fails, and records no failed request', async () => {
  const file = path.join(paths.root, 'good.md');
  writeFileSync(file, specText({ id: 'good' }));
  const add = await run(['add', file], 'spec.md').done;
  expect(add.code).toBe(1);
  // Named once, as the file it was headed for, not the staging copy in queue/tmp.
  const line = add.stderr.split('\n').find((l) => l.includes('EIO')) ?? '';
  expect(line).toContain(
    `${path.join(paths.stateDir('pending'), 'good', 'spec.md')}: fsync of its new contents failed, it was not written: EIO`,
  );
  expect(line.split('spec.md').length - 1).toBe(1);
  expect(add.stderr).toMatch(/check it \(dmesg, df\)/);
  // Not applied and not recorded: the request waits for a healthy run.
  const [name] = pendingRequests();
  expect(name).toBeDefined();
  expect(existsSync(path.join(paths.requestsApplied, name!))).toBe(false);
  expect(readdirSync(paths.stateDir('pending'))).toEqual([]);

  const ls = await run(['ls', '--json'], null).done;
  expect(ls.code).toBe(0);
  expect(pendingRequests()).toEqual([]);
  expect(readdirSync(paths.stateDir('pending'))).toEqual(['good']);
  expect(readdirSync(paths.tmp)).toEqual([]); // recovery swept the half-made staging directory
});

it(
  'the daemon exits 1 on an fsync error in a tick instead of logging "tick failed" and going on',
  { timeout: 60_000 },
  async () => {
    const daemon = run(['daemon'], 'spec.md');
    await waitFor('the daemon to hold the lock', () => {
      try {
        return (JSON.parse(readFileSync(paths.lock, 'utf8')) as { pid: number }).pid === daemon.child.pid;
      } catch {
        return false;
      }
    });
    writeFileSync(path.join(paths.specs, 'good.md'), specText({ id: 'good' }));
    // A guard against a daemon that carries on (the bug), not synchronisation: it exits within a second.
    let guard: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      daemon.done,
      new Promise<never>((_resolve, reject) => {
        guard = setTimeout(() => {
          daemon.child.kill('SIGKILL');
          reject(new Error('the daemon was still running 30 s after the fsync error'));
        }, 30_000);
      }),
    ]).finally(() => clearTimeout(guard));
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(
      /fatal: .*pending\/good\/spec\.md: fsync of its new contents failed, it was not written: EIO.*the daemon stops \(exit 1\)/,
    );
    expect(exit.stderr).not.toMatch(/tick failed/);
    // Nothing lost: the spec is still in the inbox, not queued, not rejected; the lock is released.
    expect(readdirSync(paths.specs).filter((n) => !n.startsWith('.'))).toEqual(['good.md']);
    expect(existsSync(path.join(paths.rejected, 'good.md'))).toBe(false);
    expect(readdirSync(paths.stateDir('pending'))).toEqual([]);
    expect(existsSync(paths.lock)).toBe(false);
    expect(readFileSync(paths.events, 'utf8')).toMatch(/"daemon\.stopped".*fatal I\/O error/);
  },
);
