/**
 * `nightshift doctor` checks the claude-code architect's CLI (docs/architect.md): installed, its version,
 * and a live `--bare` probe built like a review's, against the loopback Messages API server with the real
 * CLI (skipped, saying why, when none can be had).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/lib/clock.js';
import {
  error,
  lastUserText,
  startAnthropicServer,
  text,
  toolUse,
} from '../../src/testing/anthropic-server.js';
import { findClaude } from '../../src/testing/claude-cli.js';
import { makeRepo } from '../../src/testing/git.js';
import { runCli } from '../../src/testing/workspace.js';

const found = await findClaude();
const claude = 'bin' in found ? found : null;
if (!claude)
  console.warn(
    `[doctor-architect] SKIPPED: no Claude Code CLI to run. ${'problem' in found ? found.problem : ''}`,
  );

const KEY = 'doctor-architect-key-4321';
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function workspace(architect: string[]): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-docarch-'));
  const repo = makeRepo();
  dirs.push(root, repo);
  writeFileSync(
    path.join(root, 'nightshift.config.yaml'),
    [
      `repos:\n  app: { path: ${JSON.stringify(repo)} }`,
      'hosts: {}',
      'providers: {}',
      'architect:',
      ...architect.map((l) => `  ${l}`),
      '',
    ].join('\n'),
  );
  return root;
}

type Report = {
  ok: boolean;
  checks: { scope: string; check: string; ok: boolean; detail: string; fix: string | null }[];
};

describe.skipIf(!claude)('doctor: claude-code architect', () => {
  it('passes an installed CLI whose --bare probe answers, and fails a missing one or a refused key, saying the fix', async () => {
    const server = await startAnthropicServer();
    try {
      server.setDefault((r) => {
        const nonce = /ns-probe-[0-9a-f]+/.exec(lastUserText(r.body))?.[0];
        return nonce ? toolUse('StructuredOutput', { reply: nonce }) : text('ok');
      });
      const base = [
        'mode: claude-code',
        `baseURL: ${server.url}`,
        'apiKeyEnv: NS_DOC_KEY',
        'model: probe-model',
      ];
      const env = { ...process.env, NS_DOC_KEY: KEY };
      const good = await runCli(['doctor', '--json'], {
        cwd: workspace([...base, `cli: ${JSON.stringify(claude!.bin)}`]),
        clock: systemClock,
        env,
      });
      const report = JSON.parse(good.stdout) as Report;
      const arch = report.checks.filter((c) => c.scope === 'architect');
      expect(arch.find((c) => c.check === 'cli')).toMatchObject({ ok: true });
      expect(arch.find((c) => c.check === 'cli')?.detail).toContain(claude!.version);
      expect(
        arch.find((c) => c.check === 'probe'),
        JSON.stringify(arch),
      ).toMatchObject({ ok: true });
      expect(server.messages().some((m) => m.headers['x-api-key'] === KEY)).toBe(true);
      // The probe ran bare: no tools beyond reading and the answer's.
      const tools = (server.messages().at(-1)?.body?.tools ?? []).map((t) => t.name).sort();
      expect(tools).not.toContain('Write');
      expect(tools).not.toContain('Bash');

      const missing = await runCli(['doctor', '--json'], {
        cwd: workspace([...base, 'cli: /no/such/claude']),
        clock: systemClock,
        env,
      });
      const m = (JSON.parse(missing.stdout) as Report).checks.find(
        (c) => c.scope === 'architect' && c.check === 'cli',
      );
      expect(missing.code).toBe(1);
      expect(m).toMatchObject({ ok: false });
      expect(m?.fix).toMatch(/install Claude Code .* or set architect\.cli/);

      server.setDefault(error(401, 'authentication_error', 'invalid x-api-key'));
      const refused = await runCli(['doctor', '--json'], {
        cwd: workspace([...base, `cli: ${JSON.stringify(claude!.bin)}`]),
        clock: systemClock,
        env,
      });
      const p = (JSON.parse(refused.stdout) as Report).checks.find(
        (c) => c.scope === 'architect' && c.check === 'probe',
      );
      expect(refused.code).toBe(1);
      expect(p).toMatchObject({ ok: false });
      expect(refused.stdout).not.toContain(KEY);
    } finally {
      await server.close();
    }
  }, 300_000);
});
