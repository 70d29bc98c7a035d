/**
 * The claude-code architect's decisions, as pure functions and over an injected session port (the
 * process boundary): its argv and environment, the Bash patterns from the gate commands, the reading of
 * the CLI's output, and how askClaudeArchitect classifies failures and spends its one repair round.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema } from '../../src/config/schema.js';
import { resolveArchitectMode } from '../../src/review/architect-credential.js';
import type { ArchitectSessions, SessionOutcome, SessionRun } from '../../src/review/architect-tmux.js';
import {
  architectArgv,
  architectEnv,
  gateBashPatterns,
  lastJsonBlock,
  readCliOutput,
} from '../../src/review/claude-architect-cli.js';
import { askClaudeArchitect } from '../../src/review/claude-architect.js';

const KEY = 'sk-unit-secret-9999';
const SID = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
const config = (over: Record<string, unknown> = {}) =>
  configSchema.parse({ architect: { mode: 'claude-code', ...over } });

const result = (o: Record<string, unknown>) =>
  JSON.stringify({
    type: 'result',
    subtype: 'success',
    is_error: false,
    session_id: SID,
    result: '',
    usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 2 },
    total_cost_usd: 0.01,
    ...o,
  });

describe('gateBashPatterns', () => {
  it('allows exactly the enabled gate commands, with or without more arguments', () => {
    const c = configSchema.parse({
      gates: {
        tests: { enabled: true, command: 'npm test' },
        lint: { enabled: true, command: ['npx', 'eslint', '.'] },
      },
    });
    expect(gateBashPatterns(c.gates)).toEqual({
      patterns: ['Bash(npm test)', 'Bash(npm test:*)', 'Bash(npx eslint .)', 'Bash(npx eslint .:*)'],
      skipped: [],
    });
  });

  it('leaves out a disabled gate and a command the pattern syntax cannot hold', () => {
    const c = configSchema.parse({
      gates: {
        tests: { enabled: false, command: 'npm test' },
        lint: { enabled: true, command: ['sh', '-c', 'make lint'] },
      },
    });
    expect(gateBashPatterns(c.gates)).toEqual({ patterns: [], skipped: ['sh -c make lint'] });
    const paren = configSchema.parse({ gates: { tests: { enabled: true, command: 'make (all)' } } });
    expect(gateBashPatterns(paren.gates).patterns).toEqual([]);
  });
});

describe('architectArgv and architectEnv', () => {
  const argv = (allowed: string[], resume = false) =>
    architectArgv({
      cli: 'claude',
      model: 'glm-5.1',
      jsonSchema: { type: 'object' },
      allowedTools: allowed,
      maxTurns: 30,
      session: resume ? { kind: 'resume', id: SID } : { kind: 'new', id: SID },
      systemPrompt: 'be strict',
    });

  it('is bare, asks nobody, offers read-only tools and Bash only for the allowed commands', () => {
    const a = argv(['Bash(npm test:*)']);
    expect(a.slice(0, 3)).toEqual(['claude', '-p', '--bare']);
    expect(a[a.indexOf('--setting-sources') + 1]).toBe('');
    expect(a[a.indexOf('--permission-mode') + 1]).toBe('dontAsk');
    expect(a[a.indexOf('--tools') + 1]).toBe('Read,Grep,Glob,Bash');
    expect(a[a.indexOf('--allowedTools') + 1]).toBe('Read,Grep,Glob,Bash(npm test:*)');
    expect(a[a.indexOf('--disallowedTools') + 1]).toMatch(/^Write,Edit,/);
    expect(a[a.indexOf('--json-schema') + 1]).toBe('{"type":"object"}');
    expect(a[a.indexOf('--session-id') + 1]).toBe(SID);
    expect(a).not.toContain('--dangerously-skip-permissions');
    expect(a).not.toContain('--resume');
    expect(argv([])[argv([]).indexOf('--tools') + 1]).toBe('Read,Grep,Glob');
    const r = argv([], true);
    expect(r[r.indexOf('--resume') + 1]).toBe(SID);
    expect(r).not.toContain('--session-id');
  });

  it('passes the credential as the variable Claude Code reads, and nothing else of the environment', () => {
    const base = {
      credential: { kind: 'authToken' as const, envName: 'ZHIPU_API_KEY', value: KEY },
      env: { PATH: '/bin', HOME: '/home/n', ZHIPU_API_KEY: KEY, OTHER_SECRET: 'nope' },
      architectDir: '/ws/architect',
      timeoutMs: 60_000,
      root: false,
    };
    const { env, secretKeys } = architectEnv({
      ...base,
      config: config({ baseURL: 'https://e.example/api' }).architect,
    });
    expect(env['ANTHROPIC_AUTH_TOKEN']).toBe(KEY);
    expect(env['ANTHROPIC_API_KEY']).toBeUndefined();
    expect(secretKeys).toEqual(['ANTHROPIC_AUTH_TOKEN']);
    expect(env['ANTHROPIC_BASE_URL']).toBe('https://e.example/api');
    expect(env['CLAUDE_CONFIG_DIR']).toBe('/ws/architect/claude');
    expect(env['CLAUDE_ENV_FILE']).toBe('/ws/architect/bash-env.sh');
    expect(Object.values(env)).not.toContain('nope');
    expect(Object.keys(env)).not.toContain('ZHIPU_API_KEY');
    expect(env['IS_SANDBOX']).toBeUndefined();
    expect(architectEnv({ ...base, root: true, config: config().architect }).env['IS_SANDBOX']).toBe('1');
  });
});

describe('readCliOutput', () => {
  it('a missing binary is the CLI missing, not the endpoint', () => {
    expect(readCliOutput('sh: 1: /no/claude: not found\n', 127)).toMatchObject({
      ok: false,
      kind: 'cli-missing',
    });
  });

  it('an error result is the endpoint, with its status', () => {
    const r = readCliOutput(result({ is_error: true, api_error_status: 401, result: 'Invalid API key' }), 1);
    expect(r).toMatchObject({
      ok: false,
      kind: 'endpoint',
      reason: 'HTTP 401: Invalid API key',
      sessionId: SID,
    });
  });

  it('a result carries the structured output, the session, the usage with its cost and the refusals', () => {
    const lines = [
      JSON.stringify({ type: 'system', subtype: 'init', session_id: SID }),
      'some stderr line',
      result({
        structured_output: { a: 1 },
        permission_denials: [{ tool_name: 'Bash', tool_input: { command: 'touch x' } }],
      }),
    ].join('\n');
    expect(readCliOutput(lines, 0)).toEqual({
      ok: true,
      sessionId: SID,
      structured: { a: 1 },
      text: '',
      usage: { inputTokens: 12, outputTokens: 5, costUsd: 0.01 },
      denials: ['Bash: {"command":"touch x"}'],
      maxTurns: false,
    });
  });

  it('the fallback reads the last fenced JSON block', () => {
    expect(lastJsonBlock('x\n```json\n{"a":1}\n```\nthen\n```json\n{"a":2}\n```')).toEqual({
      ok: true,
      value: { a: 2 },
    });
    expect(lastJsonBlock('no block')).toMatchObject({ ok: false });
  });
});

describe('askClaudeArchitect', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A session port that answers each run with the next scripted output, recording the runs. */
  function scripted(outputs: SessionOutcome[]) {
    const runs: SessionRun[] = [];
    const sessions: ArchitectSessions = {
      run: (r) => {
        runs.push(r);
        return Promise.resolve(outputs.shift() ?? { exitCode: 1, output: '', timedOut: false });
      },
    };
    return { runs, sessions };
  }

  function ask(sessions: ArchitectSessions, env: Record<string, string> = { ANTHROPIC_API_KEY: KEY }) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-aca-'));
    dirs.push(dir);
    const log: string[] = [];
    const answer = askClaudeArchitect({
      cwd: dir,
      prompt: 'review',
      schema: z.object({ n: z.number() }),
      allowedTools: [],
      config: config().architect,
      env,
      architectDir: path.join(dir, 'architect'),
      session: 'ns-architect-review',
      sessions,
      log: (l) => log.push(l),
    });
    return { answer, log };
  }

  it('a dead endpoint fails at once as the endpoint, without a repair round, the key nowhere', async () => {
    const { runs, sessions } = scripted([
      {
        exitCode: 1,
        output: result({ is_error: true, api_error_status: 500, result: `boom ${KEY}` }),
        timedOut: false,
      },
    ]);
    const { answer, log } = ask(sessions);
    const r = await answer;
    expect(r).toMatchObject({ ok: false, code: 'endpoint', attribution: 'supervisor' });
    expect(runs).toHaveLength(1);
    expect(JSON.stringify(r)).not.toContain(KEY);
    expect(log.join('\n')).not.toContain(KEY);
    expect(runs[0]?.argv.join(' ')).not.toContain(KEY);
    expect(runs[0]?.env['ANTHROPIC_API_KEY']).toBe(KEY);
  });

  it('an unusable answer gets one repair round in the same session, then fails as unusable', async () => {
    const prose = { exitCode: 0, output: result({ result: 'It is fine.' }), timedOut: false };
    const { runs, sessions } = scripted([prose, prose]);
    const r = await ask(sessions).answer;
    expect(r).toMatchObject({ ok: false, code: 'unusable', sessionId: SID });
    expect(runs).toHaveLength(2);
    expect(runs[1]?.argv[runs[1].argv.indexOf('--resume') + 1]).toBe(SID);
    expect(runs[1]?.prompt).toMatch(/^Your last answer could not be used: no StructuredOutput call/);
  });

  it('a repaired answer is used, its usage summed over both runs', async () => {
    const { sessions } = scripted([
      { exitCode: 0, output: result({ structured_output: { n: 'x' } }), timedOut: false },
      { exitCode: 0, output: result({ result: 'here:\n```json\n{"n": 3}\n```' }), timedOut: false },
    ]);
    const r = await ask(sessions).answer;
    expect(r).toMatchObject({ ok: true, value: { n: 3 }, sessionId: SID });
    expect(r.ok && r.usage).toEqual({ inputTokens: 24, outputTokens: 10, costUsd: 0.02 });
  });

  it('a missing CLI, a timeout and a missing credential are typed failures', async () => {
    const missing = await ask(
      scripted([{ exitCode: 127, output: 'sh: claude: not found', timedOut: false }]).sessions,
    ).answer;
    expect(missing).toMatchObject({ ok: false, code: 'cli-missing' });
    expect(!missing.ok && missing.reason).toMatch(/install Claude Code or set architect\.cli/);
    const late = await ask(scripted([{ exitCode: null, output: '', timedOut: true }]).sessions).answer;
    expect(late).toMatchObject({ ok: false, code: 'timeout' });
    const none = scripted([]);
    expect(await ask(none.sessions, {}).answer).toMatchObject({ ok: false, code: 'no-credential' });
    expect(none.runs).toHaveLength(0);
  });

  it('claude-code without its key falls back to manual like llm', () => {
    expect(resolveArchitectMode(config().architect, {})).toMatchObject({ mode: 'manual' });
    expect(resolveArchitectMode(config().architect, {}).note).toMatch(
      /^mode claude-code needs \$ANTHROPIC_API_KEY/,
    );
    expect(resolveArchitectMode(config().architect, { ANTHROPIC_API_KEY: KEY })).toEqual({
      mode: 'claude-code',
      note: null,
    });
  });
});
