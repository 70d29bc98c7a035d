/**
 * The runner script itself (RUN_SH), run by a real sh: when it fails before the executor can start (no
 * worktree, no command), exit.json says so, and the attempt is the worker's fault — never a provider's
 * crash on start, whatever the exit code looks like.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { readAttemptOutput } from '../../src/daemon/attempts.js';
import { RUN_SH } from '../../src/hosts/scripts.js';
import type { ExitRecord } from '../../src/hosts/worker.js';
import { makeRepo } from '../../src/testing/git.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function taskDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-runner-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'prompt.md'), 'the prompt\n');
  return dir;
}

async function run(dir: string, worktree: string, argv: string[]) {
  const r = await execa('sh', ['-c', RUN_SH, 'sh', dir, worktree, '1', 'null', '--', ...argv], {
    reject: false,
    stdin: 'ignore',
  });
  const exit = JSON.parse(readFileSync(path.join(dir, 'exit.json'), 'utf8')) as ExitRecord;
  const log = readFileSync(path.join(dir, 'attempt-1.log'), 'utf8');
  return { code: r.exitCode, exit, log };
}

const config = configSchema.parse({
  providers: {
    claude: { kind: 'claude-code' },
    codex: { kind: 'codex' },
    aider: { kind: 'aider' },
    opencode: { kind: 'opencode' },
    cmd: { kind: 'command', command: ['x'] },
    scripted: { kind: 'scripted' },
  },
});

describe('the runner script', () => {
  it('marks its own failure (no worktree) in exit.json, and every profile reads it as the worker’s', async () => {
    const dir = taskDir();
    const { code, exit, log } = await run(dir, path.join(dir, 'gone'), ['true']);
    expect(code).toBe(127);
    expect(exit).toMatchObject({ exitCode: 127, committed: false, runnerFailed: true });
    expect(log).toMatch(/the worktree .*gone is missing/);
    for (const provider of Object.keys(config.providers)) {
      const reading = readAttemptOutput(config, provider, log, exit);
      expect(reading.failure, provider).toMatchObject({ code: 'launch-failed', attribution: 'worker' });
      expect(reading.failure?.reason).toMatch(/is missing/);
    }
  });

  it('leaves an executor’s own quick crash to the crash-on-start rule (the provider’s)', async () => {
    const dir = taskDir();
    const repo = makeRepo();
    dirs.push(repo);
    const { code, exit, log } = await run(dir, repo, ['sh', '-c', 'echo boom; exit 3']);
    expect(code).toBe(3);
    expect(exit).toMatchObject({ exitCode: 3, committed: false, runnerFailed: false });
    const reading = readAttemptOutput(config, 'cmd', log, exit);
    expect(reading.failure).toMatchObject({ code: 'crash-on-start', attribution: 'provider' });
  });
});
