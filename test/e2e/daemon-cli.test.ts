import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { waitFor } from '../../src/testing/wait.js';
import { killTmuxServers, localExecutorSocket } from '../../src/testing/executor-tmux.js';

const socket = `ns-dcli-${process.pid}`;
const root = mkdtempSync(path.join(os.tmpdir(), 'ns-dcli-'));
writeFileSync(
  path.join(root, 'nightshift.config.yaml'),
  'repos:\n  app: { path: /tmp/x }\nhosts:\n  local: { kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }\nproviders:\n  p: { kind: scripted }\n',
);
const env = { ...process.env, NIGHTSHIFT_TMUX_SOCKET: socket };
const bin = path.resolve('bin/nightshift.js');
afterAll(() => {
  killTmuxServers(socket, [localExecutorSocket(root, socket)]);
  rmSync(root, { recursive: true, force: true });
});

it('`nightshift --daemon --once` runs one monitor cycle and exits 0', () => {
  execFileSync(process.execPath, [bin, '-w', root, '--daemon', '--once'], {
    env,
    stdio: 'pipe',
    timeout: 60_000,
  });
  const log = readFileSync(path.join(root, 'logs', 'daemon.log'), 'utf8');
  expect(log).toMatch(/monitor\.cycle/);
  expect(log).toMatch(/daemon\.stopped .*--once/);
});

it('`nightshift daemon --once` (the subcommand form) also runs one cycle and exits 0', () => {
  execFileSync(process.execPath, [bin, '-w', root, 'daemon', '--once'], {
    env,
    stdio: 'pipe',
    timeout: 60_000,
  });
  const log = readFileSync(path.join(root, 'logs', 'daemon.log'), 'utf8');
  expect(log.match(/daemon\.stopped .*--once/g)?.length).toBe(2);
});

it('a second daemon on the same workspace exits 1, says who holds it, and changes nothing', async () => {
  const first = spawn(process.execPath, [bin, '-w', root, 'daemon'], { env, stdio: 'ignore' });
  try {
    await waitFor('first daemon holds the lock', () => {
      try {
        return (
          (JSON.parse(readFileSync(path.join(root, 'queue', 'lock'), 'utf8')) as { pid: number }).pid ===
          first.pid
        );
      } catch {
        return false;
      }
    });
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, [bin, '-w', root, 'daemon'], { env, stdio: 'pipe', timeout: 30_000 });
    } catch (err) {
      status = (err as { status: number }).status;
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(1);
    expect(stderr).toMatch(new RegExp(`locked by daemon pid ${first.pid}`));
  } finally {
    first.kill('SIGTERM');
    await new Promise((resolve) => first.once('exit', resolve));
  }
  const log = readFileSync(path.join(root, 'logs', 'daemon.log'), 'utf8');
  expect(log).toMatch(/daemon\.stopped .*SIGTERM: executors keep running in tmux/);
});
