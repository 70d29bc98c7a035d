/**
 * Issue 13, behaviours 4 and 13 against a real daemon (bin/nightshift.js, dist/): `--until-idle` with
 * dependencies that can never be met, `nightshift stop`, and `nightshift reload` / SIGHUP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/testing/wait.js';
import { killTmuxServers, localExecutorSocket, tmuxAt } from '../../src/testing/executor-tmux.js';
import { makeRepo } from '../../src/testing/git.js';
import { scriptedSpec } from '../../src/testing/night.js';
import { specText } from '../../src/testing/workspace.js';
import { workspacePaths } from '../../src/config/paths.js';
import { workspaceId } from '../../src/config/workspace-identity.js';
import { sessionName } from '../../src/hosts/session-names.js';
import { tid } from '../../src/testing/ids.js';

const bin = path.resolve('bin/nightshift.js');
const roots: { root: string; socket: string }[] = [];
afterAll(() => {
  for (const { root, socket } of roots) {
    killTmuxServers(socket, [localExecutorSocket(root, socket)]);
    rmSync(root, { recursive: true, force: true });
  }
});

const CONFIG =
  'repos:\n  app: { path: /tmp/x }\nhosts:\n  local: { kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }\nproviders:\n  p: { kind: scripted }\n';

function workspace(config = CONFIG): { root: string; env: NodeJS.ProcessEnv } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-qc-'));
  const socket = `ns-qc-${process.pid}-${roots.length}`;
  roots.push({ root, socket });
  writeFileSync(path.join(root, 'nightshift.config.yaml'), config);
  return { root, env: { ...process.env, NIGHTSHIFT_TMUX_SOCKET: socket } };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}
function run(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`nightshift ${args.join(' ')} did not exit in ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Drops a spec into the inbox as if written a minute ago (settled). */
function drop(root: string, id: string, deps: string[]): void {
  mkdirSync(path.join(root, 'specs'), { recursive: true });
  const file = path.join(root, 'specs', `${id}.md`);
  writeFileSync(
    file,
    specText({
      id,
      extra: `dependsOn: [${deps.join(', ')}]`,
      body: `Implement the ${id} part of the retry client, with exponential backoff and tests for it.`,
    }),
  );
  const then = new Date(Date.now() - 60_000);
  utimesSync(file, then, then);
}

function task(root: string, env: NodeJS.ProcessEnv, id: string) {
  return run(env, ['-w', root, 'show', id, '--json']).then(
    (r) => JSON.parse(r.stdout) as { state: string; failure: { code: string; reason: string } | null },
  );
}

describe('daemon --until-idle with dependencies that can never be met', () => {
  it('exits once nothing can progress, failing the tasks that wait for a never-queued id', async () => {
    const { root, env } = workspace();
    // The inbox waits for a dependency not queued yet (files arrive in any order).
    drop(root, 'b', ['ghost']);
    drop(root, 'c', ['b']);
    const daemon = await run(env, ['-w', root, 'daemon', '--until-idle']);
    expect(daemon.stderr).toContain('--until-idle: nothing left that can progress');
    expect(daemon.code).toBe(0);
    const b = await task(root, env, 'b');
    expect(b.state).toBe('failed');
    expect(b.failure).toMatchObject({ code: 'dependency-failed' });
    expect(b.failure?.reason).toContain('dependency ghost was never queued');
    const c = await task(root, env, 'c');
    expect(c.failure?.reason).toContain('dependency b can never be met');
  });
});

describe('nightshift stop and reload against a running daemon', () => {
  const repo = makeRepo();
  const config = (concurrency: string, extra = '') =>
    `repos:\n  app: { path: ${JSON.stringify(repo)}, main: main }\nhosts:\n  local: { kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }\nproviders:\n  p: { kind: scripted, concurrency: ${concurrency} }\n${extra}`;
  const { root, env } = workspace(config('1'));
  const configFile = path.join(root, 'nightshift.config.yaml');
  const release = path.join(root, 'release');
  const hold = (id: string) =>
    scriptedSpec(id, `print "holding"\nsh "while [ ! -f ${release} ]; do sleep 0.1; done"`);
  let daemon: ChildProcess;
  let daemonExit: Promise<number | null>;
  const state = async (id: string) => (await task(root, env, id)).state;
  const log = () => readFileSync(path.join(root, 'logs', 'daemon.log'), 'utf8');
  afterAll(() => {
    writeFileSync(release, '');
    if (daemon.exitCode === null) daemon.kill('SIGTERM');
    rmSync(repo, { recursive: true, force: true });
  });

  it('starts one task and holds the second at the live limit', async () => {
    writeFileSync(path.join(root, 'one.md'), hold('one'));
    writeFileSync(path.join(root, 'two.md'), hold('two'));
    expect(
      (await run(env, ['-w', root, 'add', path.join(root, 'one.md'), path.join(root, 'two.md')])).code,
    ).toBe(0);
    daemon = spawn(process.execPath, [bin, '-w', root, 'daemon'], { env, stdio: 'ignore' });
    daemonExit = new Promise((resolve) => daemon.once('exit', resolve));
    await waitFor('one running', async () => (await state('one')) === 'running', 90_000, 250);
    const ls = await run(env, ['-w', root, 'ls']);
    expect(ls.stdout).toMatch(/two.*at its live limit 1/);
  });

  it('reload with an invalid config keeps the old one and names the field, in its output and the log', async () => {
    writeFileSync(configFile, config('two'));
    const r = await run(env, ['-w', root, 'reload']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /config not reloaded, the daemon keeps the config it had: .*providers\.p\.concurrency/,
    );
    expect(log()).toMatch(/reload: config not reloaded.*providers\.p\.concurrency/);
    // (`show` would refuse the invalid config too: the queue is read directly.)
    expect(existsSync(path.join(root, 'queue', 'pending', 'two'))).toBe(true);
    expect(daemon.exitCode).toBe(null);
  });

  it('reload that raises the limit lets the waiting task start, and names what needs a restart', async () => {
    writeFileSync(configFile, config('2', 'architect: { timeout: 6m }\n'));
    const r = await run(env, ['-w', root, 'reload']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('applied providers.p.concurrency (1 → 2)');
    expect(r.stdout).toMatch(/kept until a restart .*architect\.timeout/);
    await waitFor('two running', async () => (await state('two')) === 'running', 60_000, 250);
  });

  it('SIGHUP reloads too', async () => {
    writeFileSync(configFile, config('3', 'architect: { timeout: 6m }\n'));
    daemon.kill('SIGHUP');
    await waitFor(
      'the SIGHUP reload in the log',
      () => /applied providers\.p\.concurrency \(2 → 3\)/.test(log()),
      60_000,
    );
    expect(daemon.exitCode).toBe(null);
  });

  it('stop waits for the daemon to exit, and leaves the executors running in tmux', async () => {
    const r = await run(env, ['-w', root, 'stop']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`daemon pid ${daemon.pid} stopped`));
    expect(await daemonExit).toBe(0);
    expect(log()).toMatch(/daemon\.stopped .*stop requested \(nightshift stop\)/);
    const socket = localExecutorSocket(root, String(env['NIGHTSHIFT_TMUX_SOCKET']));
    const ws = workspaceId(workspacePaths(root));
    expect(tmuxAt(socket, ['has-session', '-t', `=${sessionName(ws, tid('one'))}`]).status).toBe(0);
    expect(tmuxAt(socket, ['has-session', '-t', `=${sessionName(ws, tid('two'))}`]).status).toBe(0);
    // With no daemon: nothing to stop (0), nothing to reload (1).
    const again = await run(env, ['-w', root, 'stop']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('no daemon is running');
    expect((await run(env, ['-w', root, 'reload'])).code).toBe(1);
  });
});
