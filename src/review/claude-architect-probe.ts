/**
 * `nightshift doctor`'s checks of the claude-code architect (docs/architect.md): its CLI installed, its
 * version, and a live `--bare` probe built by the same argv and environment builders as a review
 * (claude-architect-cli.ts), like executors' probes: a one-line answer holding a nonce, through the
 * structured output, under a short API timeout, one retry and an outer kill. Only when mode is claude-code.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { Config } from '../config/schema.js';
import type { DoctorCheck } from '../providers/doctor-check.js';
import { makeRedactor } from '../lib/redact.js';
import { missingCredential, pickCredential, type Env } from './architect-credential.js';
import { BASH_ENV_TEXT, architectArgv, architectEnv, readCliOutput } from './claude-architect-cli.js';

/** The probe's own limits, as executors' (providers/claude-code.ts: CLAUDE_PROBE_ENV). */
const PROBE_API_TIMEOUT_MS = 30_000;
const PROBE_KILL_MS = 90_000;

export async function claudeArchitectChecks(
  config: Config,
  env: Env,
  o: { architectDir: string; probe: boolean },
): Promise<DoctorCheck[]> {
  const cfg = config.architect;
  if (cfg.mode !== 'claude-code') return [];
  const checks: DoctorCheck[] = [];
  const add = (check: string, ok: boolean, detail: string, fix: string | null) =>
    checks.push({
      scope: 'architect',
      name: 'claude-code',
      host: 'supervisor',
      check,
      ok,
      level: 'error',
      detail,
      fix,
    });
  const version = await execa(cfg.cli, ['--version'], {
    reject: false,
    timeout: 30_000,
    stdin: 'ignore',
    env: { PATH: env['PATH'] ?? '/usr/bin:/bin', HOME: env['HOME'] ?? os.homedir() },
    extendEnv: false,
  });
  if (version.exitCode !== 0) {
    add(
      'cli',
      false,
      `${cfg.cli} does not run on the supervisor's host: ${String(version.stderr || version.message)
        .trim()
        .split('\n')
        .at(-1)}`,
      'install Claude Code (npm install -g @anthropic-ai/claude-code) or set architect.cli to its path',
    );
    return checks;
  }
  add('cli', true, `${cfg.cli}: ${String(version.stdout).trim()}`, null);
  const credential = pickCredential(cfg, env);
  if (!credential) {
    add(
      'credential',
      false,
      missingCredential(cfg),
      'export the variable architect.apiKeyEnv or authTokenEnv names',
    );
    return checks;
  }
  if (!o.probe) return checks;
  const redact = makeRedactor([credential.value]);
  const nonce = `ns-probe-${randomBytes(6).toString('hex')}`;
  const { env: cliEnv } = architectEnv({
    config: cfg,
    credential,
    env,
    architectDir: o.architectDir,
    timeoutMs: PROBE_API_TIMEOUT_MS,
    root: process.getuid?.() === 0,
  });
  cliEnv['CLAUDE_CODE_MAX_RETRIES'] = '1';
  mkdirSync(o.architectDir, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(o.architectDir, 'bash-env.sh'), BASH_ENV_TEXT, { mode: 0o600 });
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'ns-architect-probe-'));
  try {
    const argv = architectArgv({
      cli: cfg.cli,
      model: cfg.model,
      jsonSchema: { type: 'object', properties: { reply: { type: 'string' } }, required: ['reply'] },
      allowedTools: [],
      maxTurns: 3,
      session: { kind: 'new', id: randomUUID() },
    });
    const [bin = cfg.cli, ...args] = argv;
    const r = await execa(bin, args, {
      cwd,
      env: cliEnv,
      extendEnv: false,
      input: `Reply with exactly: ${nonce}`,
      timeout: PROBE_KILL_MS,
      reject: false,
      all: true,
    });
    const read = readCliOutput(String(r.all ?? ''), r.timedOut ? null : (r.exitCode ?? null));
    const said =
      read.ok && (JSON.stringify(read.structured ?? null).includes(nonce) || read.text.includes(nonce));
    add(
      'probe',
      said,
      redact(
        r.timedOut
          ? `no answer within ${PROBE_KILL_MS / 1000}s from ${cliEnv['ANTHROPIC_BASE_URL']}`
          : !read.ok
            ? read.reason
            : said
              ? `answered through ${cliEnv['ANTHROPIC_BASE_URL']} with ${cfg.model}`
              : 'answered without the nonce',
      ),
      said ? null : 'check architect.baseURL, architect.model and the credential; run the probe again',
    );
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
  return checks;
}
