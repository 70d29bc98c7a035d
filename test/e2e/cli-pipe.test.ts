/**
 * The real CLI (bin/nightshift.js) whose output's reader goes away, as in `nightshift ls | head -2`: it
 * must end quietly (exit 0, nothing on stderr), not with Node's unhandled EPIPE stack trace.
 * Needs `npm run build` first: the CLI runs from dist/.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, specText } from '../../src/testing/workspace.js';

const BIN = fileURLToPath(new URL('../../bin/nightshift.js', import.meta.url));
const ws = makeWorkspace();
afterAll(() => ws.cleanup());

/** Runs the CLI with its stdout's reading end closed before it writes anything. */
function withClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '-w', ws.root, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('a closed output pipe', () => {
  it('ends --help, schema and ls quietly with exit 0', async () => {
    for (let i = 0; i < 3; i++) {
      writeFileSync(
        path.join(ws.paths.specs, `t${i}.md`),
        specText({ id: `t${i}`, body: `Task ${i} `.repeat(10) }),
      );
    }
    expect((await runCli(['ls'], { cwd: ws.root })).code).toBe(0);
    for (const args of [['--help'], ['schema'], ['ls'], ['ls', '--json']]) {
      const r = await withClosedStdout(args);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.code, args.join(' ')).toBe(0);
    }
  });
});
