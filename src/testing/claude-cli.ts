/**
 * The real Claude Code CLI for e2e tests: NIGHTSHIFT_CLAUDE_BIN, or installed once from npm into a cache
 * outside the repo (os.tmpdir()/ns-claude-cache). When it cannot be had (offline, say) the answer says
 * why, for the suite to skip and say so.
 */
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export const CLAUDE_VERSION = process.env['NIGHTSHIFT_CLAUDE_VERSION'] ?? '2.1.332';
export const CLAUDE_CACHE = path.join(os.tmpdir(), 'ns-claude-cache');

export async function findClaude(): Promise<{ bin: string; version: string } | { problem: string }> {
  const fromEnv = process.env['NIGHTSHIFT_CLAUDE_BIN'];
  const bin = fromEnv ?? path.join(CLAUDE_CACHE, 'node_modules', '.bin', 'claude');
  const version = async () => {
    const r = await execa(bin, ['--version'], { reject: false, timeout: 30_000, stdin: 'ignore' });
    return r.exitCode === 0 ? String(r.stdout).trim() : null;
  };
  if (fromEnv) {
    const v = await version();
    return v ? { bin, version: v } : { problem: `NIGHTSHIFT_CLAUDE_BIN=${fromEnv} does not run` };
  }
  const have = existsSync(bin) ? await version() : null;
  if (have?.startsWith(CLAUDE_VERSION)) return { bin, version: have };
  mkdirSync(CLAUDE_CACHE, { recursive: true });
  const install = await execa(
    'npm',
    [
      'install',
      '--prefix',
      CLAUDE_CACHE,
      '--no-audit',
      '--no-fund',
      `@anthropic-ai/claude-code@${CLAUDE_VERSION}`,
    ],
    { reject: false, timeout: 300_000, stdin: 'ignore' },
  );
  if (install.exitCode !== 0) {
    return {
      problem: `npm install @anthropic-ai/claude-code@${CLAUDE_VERSION} failed: ${String(install.stderr).trim().split('\n').at(-1)}`,
    };
  }
  const v = existsSync(bin) ? await version() : null;
  return v
    ? { bin, version: v }
    : { problem: `installed @anthropic-ai/claude-code@${CLAUDE_VERSION} but ${bin} does not run` };
}
