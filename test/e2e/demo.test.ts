import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { QueueStore } from '../../src/queue/store.js';
import { workspacePaths } from '../../src/config/paths.js';
import { systemClock } from '../../src/lib/clock.js';
import { killTmuxServers, localExecutorSocket } from '../../src/testing/executor-tmux.js';
import { tid } from '../../src/testing/ids.js';

const socket = `ns-demo-${process.pid}`;
let root = '';
afterAll(() => {
  killTmuxServers(socket, root ? [localExecutorSocket(root, socket)] : []);
  if (root) rmSync(root, { recursive: true, force: true });
});

it('runs the whole demo night headless: probe catches the dead provider, gates fail and pass, merges land, the hang is killed', () => {
  const out = execFileSync(process.execPath, ['bin/nightshift.js', 'demo', '--headless'], {
    env: { ...process.env, NIGHTSHIFT_TMUX_SOCKET: socket, ANTHROPIC_API_KEY: '', ANTHROPIC_BASE_URL: '' },
    encoding: 'utf8',
    timeout: 170_000,
  });
  root = /workspace (\S+)/.exec(out)?.[1] ?? '';
  expect(existsSync(root)).toBe(true);
  const tasks = new Map(new QueueStore(workspacePaths(root), systemClock).list().map((t) => [t.id, t]));
  expect(tasks.get(tid('add-sub'))?.state).toBe('done');
  expect(tasks.get(tid('add-clamp'))?.state).toBe('done');
  // Fails its tests in round 1, passes after the review round, on the same branch.
  expect(tasks.get(tid('add-div'))).toMatchObject({ state: 'done', round: 1 });
  // Deletes a function: the deletions gate catches it, rounds run out, a person decides.
  const mul = tasks.get(tid('faster-mul'));
  expect(mul).toMatchObject({ state: 'review', parked: 'needs-human' });
  expect(mul?.gates.find((g) => g.name === 'deletions')).toMatchObject({ passed: false });
  expect(mul?.gates.find((g) => g.name === 'deletions')?.evidence).toMatch(/square/);
  // Hangs: killed for idleness.
  expect(tasks.get(tid('write-docs'))).toMatchObject({ state: 'failed' });
  expect(tasks.get(tid('write-docs'))?.attempts[0]?.outcome).toBe('idle');
  // Loops past its commit budget.
  const polish = tasks.get(tid('polish-tests'));
  expect(polish?.gates.find((g) => g.name === 'commits')).toMatchObject({ passed: false });
  // The dead provider was caught by its probe and got no work.
  expect([...tasks.values()].flatMap((t) => t.attempts).every((a) => a.provider === 'scripted')).toBe(true);
  expect(out).toMatch(/provider\.probe provider=flaky .*empty/);
  // Main moved, and the report exists.
  const repo = path.join(root, 'app');
  const log = execFileSync('git', ['-C', repo, 'log', '--oneline', 'main'], { encoding: 'utf8' });
  expect(log).toMatch(/sub\(\)/);
  expect(readFileSync(path.join(root, 'reports', 'demo.md'), 'utf8')).toMatch(
    /Add div\(\) that refuses zero \(add-div\): merged/,
  );
  expect(readFileSync(path.join(root, 'reports', 'demo.html'), 'utf8')).toMatch(/<svg/);
  expect(out).toMatch(/clean up: .*rm -rf/);
}, 180_000);
