/**
 * The local process-tree reaper and the gate process runner, with real processes: what a gate command
 * starts dies with it, double forks (`setsid`, `nohup … &`) included, found by the marker variable.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGateProcess } from '../../src/hosts/gate-process.js';
import { findMarked, GATE_MARKER, reapMarked } from '../../src/hosts/reap.js';
import { waitFor } from '../../src/testing/wait.js';

const linux = existsSync('/proc/self/environ');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Alive and not a zombie (an orphan killed here may wait for its reaping by pid 1). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const pidsIn = (file: string): number[] =>
  readFileSync(file, 'utf8').split(/\s+/).filter(Boolean).map(Number);

describe.skipIf(!linux)('reapMarked', () => {
  it('finds processes by the marker in their environment and kills them, leaving others alone', async () => {
    const value = `t${process.pid}${Date.now()}`;
    const marked = spawn('sleep', ['1000'], {
      env: { ...process.env, [GATE_MARKER]: value },
      detached: true,
    });
    const other = spawn('sleep', ['1000'], { env: { ...process.env, [GATE_MARKER]: `${value}x` } });
    try {
      await waitFor('the marked sleep', () => findMarked(GATE_MARKER, value).includes(marked.pid!));
      expect(findMarked(GATE_MARKER, value)).toEqual([marked.pid]);
      expect(reapMarked(GATE_MARKER, value)).toEqual([marked.pid]);
      await waitFor('the marked sleep to die', () => !alive(marked.pid!));
      expect(alive(other.pid!)).toBe(true);
      expect(findMarked(GATE_MARKER, value)).toEqual([]);
    } finally {
      marked.kill('SIGKILL');
      other.kill('SIGKILL');
    }
  });
});

describe.skipIf(!linux)('runGateProcess', () => {
  it('leaves no process behind: setsid and nohup double forks are killed when the command ends', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-reap-'));
    dirs.push(dir);
    const result = await runGateProcess(
      [
        'sh',
        '-c',
        // Both escape the process group; both hold the output pipe open, as a careless test's would.
        `setsid sh -c 'echo $$ > setsid.pid; exec sleep 1000' & nohup sleep 1000 & echo $! > nohup.pid; ` +
          `while [ ! -s setsid.pid ]; do :; done; echo started`,
      ],
      { cwd: dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, timeoutMs: 60_000 },
    );
    expect(result.exitCode).toBe(0);
    expect(result.output).toContain('started');
    const pids = [...pidsIn(path.join(dir, 'setsid.pid')), ...pidsIn(path.join(dir, 'nohup.pid'))];
    expect(pids).toHaveLength(2);
    // The setsid one left the process group: only the marker finds it.
    expect(result.survivors).toBeGreaterThanOrEqual(1);
    await waitFor('both double-forked sleeps to die', () => pids.every((pid) => !alive(pid)));
  });

  it('times out: the whole tree dies, and the result says so', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-reap-'));
    dirs.push(dir);
    const result = await runGateProcess(
      [
        'sh',
        '-c',
        `setsid sh -c 'echo $$ > setsid.pid; exec sleep 1000' & trap '' TERM; echo waiting; sleep 1000`,
      ],
      { cwd: dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, timeoutMs: 1500 },
    );
    expect(result.timedOut).toBe(true);
    expect(result.output).toContain('waiting');
    const [pid] = pidsIn(path.join(dir, 'setsid.pid'));
    await waitFor('the setsid sleep to die', () => !alive(pid!));
  });

  it('gives exactly the environment it is given, plus the marker', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-reap-'));
    dirs.push(dir);
    const result = await runGateProcess(['/usr/bin/env'], {
      cwd: dir,
      env: { PATH: '/usr/bin:/bin', ONLY: 'this' },
      timeoutMs: 60_000,
    });
    const names = result.output
      .trim()
      .split('\n')
      .map((l) => l.split('=')[0])
      .sort();
    expect(names).toEqual([GATE_MARKER, 'ONLY', 'PATH'].sort());
  });

  it('a command that does not exist exits 127', async () => {
    const result = await runGateProcess(['/nonexistent/nightshift-gate-x'], {
      cwd: os.tmpdir(),
      env: { PATH: '/usr/bin:/bin' },
      timeoutMs: 10_000,
    });
    expect(result.exitCode).toBe(127);
  });
});
