/** Test fixtures: an isolated temp workspace per test, and an in-process CLI runner. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../cli/main.js';
import type { CliIO } from '../cli/io.js';
import { parseConfig } from '../config/load.js';
import { workspacePaths, type WorkspacePaths } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { ManualClock, type Clock } from '../lib/clock.js';

export const TEST_CONFIG = `repos:
  app: { path: /tmp/nightshift-test-app, main: main }
hosts:
  local: { kind: local }
providers:
  scripted: { kind: scripted, hosts: [local], concurrency: 2 }
  other: { kind: scripted, hosts: [local], concurrency: 1 }
gates:
  tests: { enabled: true, command: npm test }
  diff: { enabled: true }
`;

export interface TestWorkspace {
  root: string;
  paths: WorkspacePaths;
  config: Config;
  cleanup(): void;
}

export function makeWorkspace(configText = TEST_CONFIG): TestWorkspace {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-test-'));
  writeFileSync(path.join(root, 'nightshift.config.yaml'), configText, { mode: 0o600 });
  mkdirSync(path.join(root, 'specs'));
  return {
    root,
    paths: workspacePaths(root),
    config: parseConfig(configText, 'nightshift.config.yaml'),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** A valid spec body with tests and a stop condition. */
export function specText(opts: { id?: string; title?: string; extra?: string; body?: string } = {}): string {
  const front = [
    '---',
    `title: ${opts.title ?? 'Add exponential backoff to the HTTP client'}`,
    ...(opts.id ? [`id: ${opts.id}`] : []),
    'tests: [test_backoff_doubles, test_backoff_caps_at_max]',
    'stop: Stop when these two tests pass.',
    ...(opts.extra ? [opts.extra] : []),
    '---',
  ];
  const body =
    opts.body ??
    'Retry failed requests with exponential backoff starting at 100 ms and doubling each time, capped at ten seconds, with full jitter, and keep the existing client API unchanged.';
  return `${front.join('\n')}\n${body}\n`;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process against a workspace. */
export async function runCli(
  args: string[],
  opts: { cwd: string; clock?: Clock; env?: NodeJS.ProcessEnv },
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    cwd: opts.cwd,
    env: opts.env ?? {},
    clock: opts.clock ?? new ManualClock(Date.UTC(2026, 10, 26, 22)),
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}
