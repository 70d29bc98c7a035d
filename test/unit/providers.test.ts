/**
 * Provider profiles: the exact argv and environment each builds (a change fails here first), secrets
 * kept out of argv, the Claude Code probe/run parity, and how each profile reads output and judges a
 * probe — as tables of real-looking output.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NightshiftError } from '../../src/core/errors.js';
import { configSchema, PROVIDER_KINDS, type ProviderConfig } from '../../src/config/schema.js';
import { CLAUDE_PROBE_ENV, PROBE_DIFFERENCES } from '../../src/providers/claude-code.js';
import { substitutePrompt } from '../../src/providers/common.js';
import { DEFAULT_BACKOFF, ruleFor } from '../../src/core/failures.js';
import { enterRunning, newTask } from '../../src/core/task.js';
import { decideFailure, MAX_FREE_RETRIES } from '../../src/daemon/outcomes.js';
import {
  failure,
  lastLine,
  PROVIDER_FAILURE_CODES,
  providerCanRecover,
} from '../../src/providers/failures.js';
import {
  crashWindowMs,
  fitPrompt,
  profileFor,
  PROMPT_ARG_MAX_BYTES,
  PromptTooLargeError,
  readAttempt,
  resolveSecrets,
} from '../../src/providers/index.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import {
  PROMPT_FILE_TOKEN,
  PROMPT_TOKEN,
  type ExecutorCommand,
  type LaunchContext,
  type OutputReading,
  type ProbeResultInput,
  type RunFacts,
} from '../../src/providers/types.js';
import { tid } from '../../src/testing/ids.js';

const SID = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const ctx: LaunchContext = {
  taskId: 'add-backoff',
  attempt: 1,
  worktree: '/srv/ns/tasks/add-backoff/wt',
  stateDir: '/srv/ns/state/glm',
  sessionId: SID,
  scriptedAgent: '/srv/ns/bin/scripted-agent.mjs',
  root: false,
};

/** The command without its largePrompt form (checked on its own in 'prompts over one argv word'). */
function withoutLarge(cmd: ExecutorCommand): Omit<ExecutorCommand, 'largePrompt'> {
  const { largePrompt: _large, ...rest } = cmd;
  return rest;
}

function provider(raw: Record<string, unknown>): ProviderConfig {
  return configSchema.parse({ providers: { p: raw } }).providers['p']!;
}

const glm = provider({
  kind: 'claude-code',
  model: 'glm-5.1',
  env: { ANTHROPIC_BASE_URL: 'https://open.bigmodel.cn/api/anthropic' },
  secretEnv: { ANTHROPIC_AUTH_TOKEN: 'ZHIPU_API_KEY' },
});
const GLM_SECRET = { ANTHROPIC_AUTH_TOKEN: 'zhipu-secret-value' };
const SLOTS = (m: string) => ({
  ANTHROPIC_MODEL: m,
  ANTHROPIC_DEFAULT_OPUS_MODEL: m,
  ANTHROPIC_DEFAULT_SONNET_MODEL: m,
  ANTHROPIC_DEFAULT_HAIKU_MODEL: m,
  CLAUDE_CODE_SUBAGENT_MODEL: m,
});

describe('claude-code command lines', () => {
  const profile = profileFor('claude-code');

  it('builds exactly the documented run', () => {
    expect(withoutLarge(profile.buildRun(glm, ctx, GLM_SECRET))).toEqual({
      argv: [
        'claude',
        '-p',
        '--bare',
        '--setting-sources',
        '',
        '--strict-mcp-config',
        '--output-format',
        'stream-json',
        '--verbose',
        '--dangerously-skip-permissions',
        '--max-turns',
        '200',
        '--session-id',
        SID,
        '--model',
        'glm-5.1',
        '--',
        PROMPT_TOKEN,
      ],
      env: {
        ANTHROPIC_BASE_URL: 'https://open.bigmodel.cn/api/anthropic',
        ANTHROPIC_AUTH_TOKEN: 'zhipu-secret-value',
        CLAUDE_CONFIG_DIR: '/srv/ns/state/glm/claude',
        ...SLOTS('glm-5.1'),
        API_TIMEOUT_MS: '600000',
        CLAUDE_CODE_MAX_RETRIES: '4',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      },
      secretKeys: ['ANTHROPIC_AUTH_TOKEN'],
      stdin: 'null',
    });
  });

  it('builds exactly the documented probe', () => {
    expect(withoutLarge(profile.buildProbe(glm, ctx, GLM_SECRET, 'ns-probe-1a2b'))).toEqual({
      argv: [
        'claude',
        '-p',
        '--bare',
        '--setting-sources',
        '',
        '--strict-mcp-config',
        '--output-format',
        'json',
        '--verbose',
        '--dangerously-skip-permissions',
        '--max-turns',
        '1',
        '--tools',
        '',
        '--no-session-persistence',
        '--model',
        'glm-5.1',
        '--',
        PROMPT_TOKEN,
      ],
      env: {
        ANTHROPIC_BASE_URL: 'https://open.bigmodel.cn/api/anthropic',
        ANTHROPIC_AUTH_TOKEN: 'zhipu-secret-value',
        CLAUDE_CONFIG_DIR: '/srv/ns/state/glm/claude',
        ...SLOTS('glm-5.1'),
        API_TIMEOUT_MS: '30000',
        CLAUDE_CODE_MAX_RETRIES: '1',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      },
      secretKeys: ['ANTHROPIC_AUTH_TOKEN'],
      stdin: 'null',
      prompt: 'Reply with exactly: ns-probe-1a2b',
    });
  });

  it('adds IS_SANDBOX=1 as root, resumes a session, and leaves model slots alone without a model', () => {
    const anthropic = provider({
      kind: 'claude-code',
      secretEnv: { ANTHROPIC_API_KEY: 'ANTHROPIC_API_KEY' },
    });
    const cmd = profile.buildRun(
      anthropic,
      { ...ctx, root: true, resumeSessionId: 'prev-uuid' },
      { ANTHROPIC_API_KEY: 'k' },
    );
    expect(cmd.env['IS_SANDBOX']).toBe('1');
    expect(cmd.argv).toContain('--resume');
    expect(cmd.argv[cmd.argv.indexOf('--resume') + 1]).toBe('prev-uuid');
    expect(cmd.argv).not.toContain('--session-id');
    expect(cmd.argv).not.toContain('--model');
    expect(Object.keys(cmd.env).filter((k) => k.includes('MODEL'))).toEqual([]);
    expect(profile.buildRun(glm, ctx, GLM_SECRET).env['IS_SANDBOX']).toBeUndefined();
  });

  it('lets the operator tune the run timeouts but never the probe', () => {
    const slow = provider({
      ...glm,
      env: { ...glm.env, API_TIMEOUT_MS: '3000000', CLAUDE_CODE_MAX_RETRIES: '8' },
    });
    expect(profile.buildRun(slow, ctx, GLM_SECRET).env).toMatchObject({
      API_TIMEOUT_MS: '3000000',
      CLAUDE_CODE_MAX_RETRIES: '8',
    });
    expect(profile.buildProbe(slow, ctx, GLM_SECRET, 'n').env).toMatchObject(CLAUDE_PROBE_ENV);
  });

  it('never lets config override what nightshift controls', () => {
    const sneaky = provider({
      ...glm,
      env: { ...glm.env, CLAUDE_CONFIG_DIR: '/home/me/.claude', ANTHROPIC_MODEL: 'claude-opus' },
    });
    const cmd = profile.buildRun(sneaky, ctx, GLM_SECRET);
    expect(cmd.env['CLAUDE_CONFIG_DIR']).toBe('/srv/ns/state/glm/claude');
    expect(cmd.env['ANTHROPIC_MODEL']).toBe('glm-5.1');
  });
});

/** Removes the documented probe/run differences from an argv. */
function withoutDifferences(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === '--no-session-persistence') continue;
    if ((PROBE_DIFFERENCES.flags as readonly string[]).includes(w)) {
      i++;
      continue;
    }
    out.push(w);
  }
  return out;
}

describe('claude-code probe/run parity', () => {
  const profile = profileFor('claude-code');
  const envName = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,12}$/);

  it('the probe is the run except for the documented differences, for any config and context', () => {
    fc.assert(
      fc.property(
        fc.option(fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/), { nil: undefined }),
        fc.dictionary(envName, fc.string({ maxLength: 20 }), { maxKeys: 4 }),
        fc.dictionary(envName, fc.string({ minLength: 1, maxLength: 20 }), { maxKeys: 3 }),
        fc.boolean(),
        fc.option(fc.uuid(), { nil: undefined }),
        (model, env, secrets, root, resume) => {
          const cfg = provider({
            kind: 'claude-code',
            ...(model ? { model } : {}),
            env,
            secretEnv: Object.fromEntries(Object.keys(secrets).map((k) => [k, `SRC_${k}`])),
          });
          const c = { ...ctx, root, ...(resume ? { resumeSessionId: resume } : {}) };
          const run = profile.buildRun(cfg, c, secrets);
          const probe = profile.buildProbe(cfg, c, secrets, 'nonce-xyz');
          expect(withoutDifferences(probe.argv)).toEqual(withoutDifferences(run.argv));
          const strip = (e: Record<string, string>) =>
            Object.fromEntries(
              Object.entries(e).filter(([k]) => !(PROBE_DIFFERENCES.env as readonly string[]).includes(k)),
            );
          expect(strip(probe.env)).toEqual(strip(run.env));
          expect(probe.secretKeys).toEqual(run.secretKeys);
          expect(probe.stdin).toBe(run.stdin);
          // The prompt token sits at the same place, last, after `--`.
          expect(probe.argv.slice(-2)).toEqual(['--', PROMPT_TOKEN]);
          expect(run.argv.slice(-2)).toEqual(['--', PROMPT_TOKEN]);
          expect(probe.env).toMatchObject(CLAUDE_PROBE_ENV);
        },
      ),
    );
  });
});

describe('other profiles: exact command lines', () => {
  it('codex: a Responses-API provider declared with -c, the key passed by name', () => {
    const cfg = provider({
      kind: 'codex',
      model: 'gpt-5-codex',
      env: { OPENAI_BASE_URL: 'https://llm.example.com/v1' },
      secretEnv: { NS_CODEX_KEY: 'MY_KEY' },
    });
    expect(withoutLarge(profileFor('codex').buildRun(cfg, ctx, { NS_CODEX_KEY: 'sk-codex' }))).toEqual({
      argv: [
        'codex',
        'exec',
        '--json',
        '--skip-git-repo-check',
        '-C',
        ctx.worktree,
        '-m',
        'gpt-5-codex',
        '-c',
        'model_provider="ns"',
        '-c',
        'model_providers.ns.name="nightshift"',
        '-c',
        'model_providers.ns.base_url="https://llm.example.com/v1"',
        '-c',
        'model_providers.ns.env_key="NS_CODEX_KEY"',
        '-c',
        'model_providers.ns.wire_api="responses"',
        '--dangerously-bypass-approvals-and-sandbox',
        PROMPT_TOKEN,
      ],
      env: {
        OPENAI_BASE_URL: 'https://llm.example.com/v1',
        NS_CODEX_KEY: 'sk-codex',
        CODEX_HOME: '/srv/ns/state/glm/codex',
      },
      secretKeys: ['NS_CODEX_KEY'],
      stdin: 'null',
    });
    const plain = provider({ kind: 'codex', secretEnv: { OPENAI_API_KEY: 'OPENAI_API_KEY' } });
    expect(profileFor('codex').buildRun(plain, ctx, { OPENAI_API_KEY: 'k' }).argv).not.toContain('-c');
  });

  it('aider: OpenAI-compatible base on argv, key in env, history out of the worktree', () => {
    const cfg = provider({
      kind: 'aider',
      model: 'glm-4.7',
      env: { OPENAI_API_BASE: 'https://open.bigmodel.cn/api/coding/paas/v4' },
      secretEnv: { OPENAI_API_KEY: 'ZHIPU_API_KEY' },
    });
    expect(withoutLarge(profileFor('aider').buildRun(cfg, ctx, { OPENAI_API_KEY: 'zk' }))).toEqual({
      argv: [
        'aider',
        '--model',
        'openai/glm-4.7',
        '--openai-api-base',
        'https://open.bigmodel.cn/api/coding/paas/v4',
        '--message',
        PROMPT_TOKEN,
        '--yes-always',
        '--no-check-update',
        '--no-pretty',
        '--no-fancy-input',
        '--no-gitignore',
        '--no-show-model-warnings',
        '--no-detect-urls',
        '--analytics-disable',
        '--input-history-file',
        '/srv/ns/state/glm/aider/input.history',
        '--chat-history-file',
        '/srv/ns/state/glm/aider/chat.history.md',
      ],
      env: { OPENAI_API_BASE: 'https://open.bigmodel.cn/api/coding/paas/v4', OPENAI_API_KEY: 'zk' },
      secretKeys: ['OPENAI_API_KEY'],
      stdin: 'null',
    });
    expect(
      profileFor('aider')
        .buildRun(provider({ kind: 'aider', model: 'deepseek/deepseek-chat' }), ctx, {})
        .argv.slice(1, 3),
    ).toEqual(['--model', 'deepseek/deepseek-chat']);
  });

  it('opencode: everything through OPENCODE_CONFIG_CONTENT, the key as {env:NAME}', () => {
    const cfg = provider({
      kind: 'opencode',
      model: 'glm-4.7',
      env: { OPENAI_BASE_URL: 'https://open.bigmodel.cn/api/coding/paas/v4' },
      secretEnv: { ZHIPU_API_KEY: 'ZHIPU_API_KEY' },
    });
    const cmd = profileFor('opencode').buildRun(cfg, ctx, { ZHIPU_API_KEY: 'zk-secret' });
    expect(cmd.argv).toEqual([
      'opencode',
      'run',
      '--format',
      'json',
      '-m',
      'nightshift/glm-4.7',
      '--dir',
      ctx.worktree,
      PROMPT_TOKEN,
    ]);
    expect(JSON.parse(cmd.env['OPENCODE_CONFIG_CONTENT']!)).toEqual({
      $schema: 'https://opencode.ai/config.json',
      autoupdate: false,
      share: 'disabled',
      permission: { edit: 'allow', bash: 'allow', webfetch: 'allow' },
      model: 'nightshift/glm-4.7',
      provider: {
        nightshift: {
          npm: '@ai-sdk/openai-compatible',
          name: 'nightshift',
          options: { baseURL: 'https://open.bigmodel.cn/api/coding/paas/v4', apiKey: '{env:ZHIPU_API_KEY}' },
          models: { 'glm-4.7': {} },
        },
      },
    });
    expect(cmd.env['OPENCODE_CONFIG_CONTENT']).not.toContain('zk-secret');
    expect(cmd.env).toMatchObject({
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      XDG_CONFIG_HOME: '/srv/ns/state/glm/opencode/config',
      XDG_DATA_HOME: '/srv/ns/state/glm/opencode/data',
      XDG_CACHE_HOME: '/srv/ns/state/glm/opencode/cache',
      XDG_STATE_HOME: '/srv/ns/state/glm/opencode/state',
      ZHIPU_API_KEY: 'zk-secret',
    });
    expect(cmd.secretKeys).toEqual(['ZHIPU_API_KEY']);
  });

  it('command: argv as given, prompt tokens kept for the runner, stdin when there is none', () => {
    const cfg = provider({
      kind: 'command',
      command: ['my-agent', '--prompt-file', PROMPT_FILE_TOKEN, '--fast'],
      env: { MY_AGENT_MODE: 'batch' },
      secretEnv: { MY_AGENT_KEY: 'AGENT_KEY' },
    });
    expect(profileFor('command').buildRun(cfg, ctx, { MY_AGENT_KEY: 's3' })).toEqual({
      argv: ['my-agent', '--prompt-file', PROMPT_FILE_TOKEN, '--fast'],
      env: { MY_AGENT_MODE: 'batch', MY_AGENT_KEY: 's3' },
      secretKeys: ['MY_AGENT_KEY'],
      stdin: 'null',
    });
    expect(profileFor('command').buildProbe(cfg, ctx, {}, 'n1')).toMatchObject({
      argv: ['my-agent', '--prompt-file', PROMPT_FILE_TOKEN, '--fast'],
      prompt: 'Reply with exactly: n1',
    });
    expect(
      profileFor('command').buildRun(provider({ kind: 'command', command: ['agent'] }), ctx, {}).stdin,
    ).toBe('prompt');
    expect(profileFor('command').binary(cfg)).toBe('my-agent');
  });

  it('command: refuses a missing command and a token inside a word', () => {
    expect(() => profileFor('command').buildRun(provider({ kind: 'command' }), ctx, {})).toThrow(
      NightshiftError,
    );
    expect(() =>
      profileFor('command').buildRun(
        provider({ kind: 'command', command: ['a', `--p=${PROMPT_TOKEN}`] }),
        ctx,
        {},
      ),
    ).toThrow(/inside the argv word/);
  });

  it('scripted: node <agent> --prompt-file <file>; the probe asks for the nonce with the configured behaviour', () => {
    const cfg = provider({ kind: 'scripted', scripted: { probe: 'hang' } });
    expect(profileFor('scripted').buildRun(cfg, ctx, {})).toEqual({
      argv: ['node', '/srv/ns/bin/scripted-agent.mjs', '--prompt-file', PROMPT_FILE_TOKEN],
      env: {},
      secretKeys: [],
      stdin: 'null',
    });
    expect(profileFor('scripted').buildProbe(cfg, ctx, {}, 'n2').argv).toEqual([
      'node',
      '/srv/ns/bin/scripted-agent.mjs',
      '--probe',
      'n2',
      '--probe-behaviour',
      'hang',
    ]);
  });

  it('substitutePrompt replaces whole-word tokens only', () => {
    expect(substitutePrompt(['a', PROMPT_TOKEN, PROMPT_FILE_TOKEN, `x${PROMPT_TOKEN}`], 'P', '/f')).toEqual([
      'a',
      'P',
      '/f',
      `x${PROMPT_TOKEN}`,
    ]);
  });
});

describe('secrets', () => {
  const configs: ProviderConfig[] = [
    glm,
    provider({ kind: 'codex', env: { OPENAI_BASE_URL: 'https://x/v1' }, secretEnv: { OPENAI_API_KEY: 'K' } }),
    provider({ kind: 'aider', model: 'm', secretEnv: { OPENAI_API_KEY: 'K' } }),
    provider({
      kind: 'opencode',
      model: 'm',
      env: { OPENAI_BASE_URL: 'https://x/v1' },
      secretEnv: { KEY: 'K' },
    }),
    provider({ kind: 'command', command: ['agent', PROMPT_TOKEN], secretEnv: { KEY: 'K' } }),
    provider({ kind: 'scripted', secretEnv: { KEY: 'K' } }),
  ];

  it('covers every kind', () => {
    expect(new Set(configs.map((c) => c.kind))).toEqual(new Set(PROVIDER_KINDS));
  });

  it.each(configs.map((c) => [c.kind, c] as const))(
    '%s: secret values never reach argv, only env and secretKeys',
    (_k, cfg) => {
      fc.assert(
        fc.property(fc.stringMatching(/^[A-Za-z0-9+/=_-]{12,40}$/), (value) => {
          const secrets = Object.fromEntries(Object.keys(cfg.secretEnv).map((k) => [k, value]));
          for (const cmd of [
            profileFor(cfg.kind).buildRun(cfg, ctx, secrets),
            profileFor(cfg.kind).buildProbe(cfg, ctx, secrets, 'nonce'),
          ]) {
            for (const word of cmd.argv) expect(word).not.toContain(value);
            for (const k of Object.keys(secrets)) expect(cmd.env[k]).toBe(value);
            expect(cmd.secretKeys).toEqual(Object.keys(secrets).sort());
            // Nothing but secretKeys holds the value: redaction by key is enough.
            for (const [k, v] of Object.entries(cmd.env))
              if (!cmd.secretKeys.includes(k)) expect(v).not.toContain(value);
          }
        }),
        { numRuns: 25 },
      );
    },
  );

  it('resolveSecrets reads each mapping from the supervisor environment', () => {
    expect(resolveSecrets(glm, { ZHIPU_API_KEY: 'zk', OTHER: 'x' })).toEqual({ ANTHROPIC_AUTH_TOKEN: 'zk' });
    expect(resolveSecrets('glm', glm, { ZHIPU_API_KEY: 'zk' })).toEqual({ ANTHROPIC_AUTH_TOKEN: 'zk' });
  });

  it('a missing secret names the provider, the variable and what to do', () => {
    let error: unknown;
    try {
      resolveSecrets(glm, { ZHIPU_API_KEY: '' }, 'glm');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NightshiftError);
    const described = (error as NightshiftError).describe();
    expect(described).toContain('provider glm');
    expect(described).toContain('ZHIPU_API_KEY');
    expect(described).toContain('ANTHROPIC_AUTH_TOKEN');
    expect(described).toMatch(/export ZHIPU_API_KEY=/);
    expect((error as NightshiftError).exitCode).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------------
// Output and probe tables

const line = (o: unknown) => JSON.stringify(o);
const INIT = line({
  type: 'system',
  subtype: 'init',
  session_id: SID,
  tools: ['Bash', 'Edit', 'Read'],
  model: 'glm-5.1',
});
const retry = (status: number, error: string) =>
  line({
    type: 'system',
    subtype: 'api_retry',
    attempt: 1,
    max_retries: 4,
    retry_delay_ms: 500,
    error_status: status,
    error,
  });
const result = (fields: Record<string, unknown>) =>
  line({
    type: 'result',
    subtype: 'success',
    is_error: false,
    num_turns: 3,
    result: 'Done: added backoff.',
    session_id: SID,
    total_cost_usd: 0.01,
    api_error_status: null,
    usage: {
      input_tokens: 100,
      cache_creation_input_tokens: 20,
      cache_read_input_tokens: 30,
      output_tokens: 40,
    },
    ...fields,
  });
const apiError = (status: number, text: string) =>
  result({
    is_error: true,
    api_error_status: status,
    result: text,
    usage: { input_tokens: 0, output_tokens: 0 },
  });

type Expect = Pick<OutputReading, 'completed'> & {
  code: string | null;
  attribution?: string;
  reason?: RegExp;
};

function check(reading: OutputReading, want: Expect) {
  expect(reading.completed).toBe(want.completed);
  expect(reading.failure?.code ?? null).toBe(want.code);
  if (want.attribution) expect(reading.failure?.attribution).toBe(want.attribution);
  if (want.reason) expect(reading.failure?.reason).toMatch(want.reason);
}

describe('claude-code readOutput', () => {
  const read = (log: string, exit: number) => profileFor('claude-code').readOutput(log, exit);
  const cases: [string, string, number, Expect][] = [
    [
      'a finished run',
      [INIT, '{"type":"assistant"}', result({})].join('\n'),
      0,
      { completed: true, code: null },
    ],
    [
      'stderr noise between lines',
      ['[claude-code:unrecognized_model] {"model":"glm-5.1"}', INIT, 'warning: x', result({})].join('\n'),
      0,
      { completed: true, code: null },
    ],
    [
      'an empty answer (exit 0, result "")',
      [INIT, result({ result: '' })].join('\n'),
      0,
      { completed: false, code: 'empty-output', attribution: 'provider' },
    ],
    ['no result line at all', INIT, 0, { completed: false, code: 'empty-output', attribution: 'provider' }],
    ['nothing at all, killed', '', 137, { completed: false, code: 'empty-output', attribution: 'provider' }],
    [
      '401 in the result',
      [INIT, apiError(401, 'Not logged in · Please run /login')].join('\n'),
      1,
      { completed: false, code: 'auth', attribution: 'provider', reason: /authentication failed \(401\)/ },
    ],
    [
      '403 in the result',
      [INIT, apiError(403, 'API Error: 403 forbidden')].join('\n'),
      1,
      { completed: false, code: 'auth' },
    ],
    [
      'auth text without a status',
      [INIT, result({ is_error: true, result: 'Invalid API key · Fix external API key' })].join('\n'),
      1,
      { completed: false, code: 'auth' },
    ],
    [
      '429 / quota',
      [INIT, apiError(429, 'API Error: Request rejected (429) · quota exceeded')].join('\n'),
      1,
      { completed: false, code: 'rate-limit', attribution: 'provider' },
    ],
    [
      '529 overloaded',
      [INIT, apiError(529, 'API Error: 529 Overloaded.')].join('\n'),
      1,
      { completed: false, code: 'overloaded', attribution: 'provider' },
    ],
    [
      '500',
      [INIT, apiError(500, 'API Error: 500 boom.')].join('\n'),
      1,
      { completed: false, code: 'server-error' },
    ],
    [
      'api_retry 401, then killed by the watchdog',
      [INIT, retry(401, 'authentication_failed')].join('\n'),
      143,
      { completed: false, code: 'auth', reason: /401/ },
    ],
    [
      'api_retry 403, then killed',
      [INIT, retry(403, 'forbidden')].join('\n'),
      143,
      { completed: false, code: 'auth' },
    ],
    [
      'api_retry 404 (wrong model or URL), then killed',
      [INIT, retry(404, 'not_found')].join('\n'),
      143,
      { completed: false, code: 'auth', reason: /404/ },
    ],
    [
      'api_retry 401 then an error result',
      [INIT, retry(401, 'authentication_failed'), apiError(401, 'Not logged in')].join('\n'),
      1,
      { completed: false, code: 'auth' },
    ],
    [
      'api_retry 529, then killed',
      [INIT, retry(529, 'overloaded')].join('\n'),
      143,
      { completed: false, code: 'overloaded' },
    ],
    [
      'a transient retry, then success',
      [INIT, retry(529, 'overloaded'), result({})].join('\n'),
      0,
      { completed: true, code: null },
    ],
    [
      'the turn limit',
      [INIT, result({ subtype: 'error_max_turns', is_error: true, result: '' })].join('\n'),
      1,
      { completed: false, code: 'max-turns', attribution: 'spec' },
    ],
    [
      'an unrecognised error',
      [INIT, result({ is_error: true, result: 'Something odd' })].join('\n'),
      1,
      { completed: false, code: 'agent-error' },
    ],
    [
      'exit 1 after a good result',
      [INIT, result({})].join('\n'),
      1,
      { completed: false, code: 'exit-nonzero' },
    ],
  ];
  it.each(cases)('%s', (_name, log, exit, want) => check(read(log, exit), want));

  it('reads usage (cache tokens count as input) and the result text', () => {
    expect(read([INIT, result({})].join('\n'), 0)).toEqual({
      completed: true,
      result: 'Done: added backoff.',
      // The CLI's own cost (at Claude's prices) rides along; pricing is the daemon's (core/usage.ts).
      usage: { inputTokens: 150, outputTokens: 40, reportedCostUsd: 0.01 },
      failure: null,
      // The session a later review round resumes.
      sessionId: SID,
    });
  });

  it('attribution comes from the core failure table; only auth cannot recover by itself', () => {
    for (const code of PROVIDER_FAILURE_CODES) {
      expect(failure(code, 'x').attribution).toBe(ruleFor(code).attribution);
    }
    expect(ruleFor('auth').attribution).toBe('provider');
    expect(providerCanRecover('auth')).toBe(false);
    expect(providerCanRecover('rate-limit')).toBe(true);
    expect(providerCanRecover('empty-output')).toBe(true);
  });
});

const probe = (p: Partial<ProbeResultInput>): ProbeResultInput => ({
  exitCode: 0,
  stdout: '',
  stderr: '',
  timedOut: false,
  ...p,
});
const NONCE = 'ns-probe-7f3a9c';

describe('claude-code judgeProbe', () => {
  const judge = (input: ProbeResultInput, nonce: string) =>
    profileFor('claude-code').judgeProbe(input, nonce);
  const json = (fields: Record<string, unknown>) => result({ num_turns: 1, result: NONCE, ...fields });
  const cases: [string, ProbeResultInput, boolean, RegExp][] = [
    ['the nonce, exit 0', probe({ stdout: json({}) }), true, /^answered$/],
    ['the verbose json array form', probe({ stdout: `[${INIT},${json({})}]` }), true, /^answered$/],
    [
      'stdout and stderr merged by the runner',
      probe({ stdout: `[claude-code:unrecognized_model] {"model":"glm"}\n[${INIT},${json({})}]\n` }),
      true,
      /^answered$/,
    ],
    [
      'no answer within the timeout',
      probe({ timedOut: true, exitCode: 137, timeoutMs: 8000 }),
      false,
      /^no answer within 8s$/,
    ],
    ['an empty answer', probe({ stdout: json({ result: '' }) }), false, /^empty answer$/],
    ['no output at all', probe({}), false, /^empty output$/],
    [
      '401',
      probe({
        exitCode: 1,
        stdout: json({ is_error: true, api_error_status: 401, result: 'Not logged in · Please run /login' }),
      }),
      false,
      /^authentication failed \(401\)/,
    ],
    [
      '529',
      probe({
        exitCode: 1,
        stdout: json({ is_error: true, api_error_status: 529, result: 'API Error: 529 Overloaded.' }),
      }),
      false,
      /overloaded \(529\)/,
    ],
    [
      '404',
      probe({
        exitCode: 1,
        stdout: json({ is_error: true, api_error_status: 404, result: 'model (x) may not exist' }),
      }),
      false,
      /not found \(404\)/,
    ],
    [
      'a crash with stderr',
      probe({ exitCode: 1, stderr: 'error: unknown option --bogus\n' }),
      false,
      /^exited 1: error: unknown option --bogus$/,
    ],
    ['a crash with nothing printed', probe({ exitCode: 2 }), false, /^exited 2 with no output$/],
    [
      'another answer',
      probe({ stdout: json({ result: 'Hello! How can I help?' }) }),
      false,
      /^answered without the nonce: Hello/,
    ],
    ['is_error false but exit 1', probe({ exitCode: 1, stdout: json({}) }), false, /^exited 1$/],
  ];
  it.each(cases)('%s', (_name, input, ok, reason) => {
    const v = judge(input, NONCE);
    expect(v.ok).toBe(ok);
    expect(v.reason).toMatch(reason);
  });
});

describe('codex readOutput and judgeProbe', () => {
  const ev = (o: Record<string, unknown>) => line(o);
  const started = [ev({ type: 'thread.started', thread_id: 't1' }), ev({ type: 'turn.started' })];
  const message = (text: string) =>
    ev({ type: 'item.completed', item: { id: 'i1', type: 'agent_message', text } });
  const completed = ev({
    type: 'turn.completed',
    usage: { input_tokens: 500, cached_input_tokens: 100, output_tokens: 60 },
  });
  const read = (log: string, exit: number) => profileFor('codex').readOutput(log, exit);
  const judge = (input: ProbeResultInput, nonce: string) => profileFor('codex').judgeProbe(input, nonce);

  it.each<[string, string, number, Expect]>([
    [
      'a completed turn',
      [...started, message('Done.'), completed].join('\n'),
      0,
      { completed: true, code: null },
    ],
    [
      'a failed turn with 401',
      [
        ...started,
        ev({
          type: 'turn.failed',
          error: { message: 'unexpected status 401 Unauthorized: invalid api key' },
        }),
      ].join('\n'),
      1,
      { completed: false, code: 'auth' },
    ],
    [
      'an error event with 429',
      [
        ...started,
        ev({ type: 'error', message: 'exceeded retry limit, last status: 429 Too Many Requests' }),
      ].join('\n'),
      1,
      { completed: false, code: 'rate-limit' },
    ],
    [
      'a retried error, then completion',
      [...started, ev({ type: 'error', message: 'Reconnecting... 1/5' }), message('ok'), completed].join(
        '\n',
      ),
      0,
      { completed: true, code: null },
    ],
    ['no completed turn, exit 0', started.join('\n'), 0, { completed: false, code: 'empty-output' }],
    [
      'a completed turn without a message',
      [...started, completed].join('\n'),
      0,
      { completed: false, code: 'empty-output' },
    ],
    ['killed, nothing recognisable', started.join('\n'), 137, { completed: false, code: 'exit-nonzero' }],
  ])('%s', (_n, log, exit, want) => check(read(log, exit), want));

  it('reads usage from turn.completed', () => {
    expect(read([...started, message('Done.'), completed].join('\n'), 0).usage).toEqual({
      inputTokens: 500,
      outputTokens: 60,
      reportedCostUsd: null,
    });
  });

  it.each<[string, ProbeResultInput, boolean, RegExp]>([
    [
      'the nonce in a completed turn',
      probe({ stdout: [...started, message(NONCE), completed].join('\n') }),
      true,
      /^answered$/,
    ],
    ['timeout', probe({ timedOut: true, timeoutMs: 60_000 }), false, /^no answer within 60s$/],
    [
      'turn.failed 401',
      probe({
        exitCode: 1,
        stdout: ev({ type: 'turn.failed', error: { message: 'status 401 Unauthorized' } }),
      }),
      false,
      /^authentication failed/,
    ],
    ['nothing', probe({ exitCode: 0 }), false, /^empty output$/],
    [
      'no nonce',
      probe({ stdout: [...started, message('hi'), completed].join('\n') }),
      false,
      /without the nonce/,
    ],
  ])('probe: %s', (_n, input, ok, reason) => {
    const v = judge(input, NONCE);
    expect(v.ok).toBe(ok);
    expect(v.reason).toMatch(reason);
  });
});

describe('aider readOutput and judgeProbe (aider exits 0 on model failure)', () => {
  const read = (log: string, exit: number) => profileFor('aider').readOutput(log, exit);
  const judge = (input: ProbeResultInput, nonce: string) => profileFor('aider').judgeProbe(input, nonce);
  const banner =
    'Aider v0.86.1\nModel: openai/glm-4.7 with whole edit format\nGit repo: .git with 12 files\n';
  it.each<[string, string, number, Expect]>([
    [
      'an answer with a Tokens line',
      `${banner}Applied edit to src/add.ts\nCommit 1a2b3c4 feat: add\nTokens: 2.3k sent, 45 received. Cost: $0.01 message, $0.01 session.\n`,
      0,
      { completed: true, code: null },
    ],
    [
      'auth failure, exit 0',
      `${banner}litellm.AuthenticationError: AuthenticationError: OpenAIException - Incorrect API key provided\nThe API provider is not able to authenticate you. Check your API key.\n`,
      0,
      { completed: false, code: 'auth', attribution: 'provider' },
    ],
    [
      'rate limit, exit 0',
      `${banner}litellm.RateLimitError: RateLimitError: quota exceeded\nThe API provider has rate limited you. Try again later or check your quotas.\n`,
      0,
      { completed: false, code: 'rate-limit' },
    ],
    [
      'server down, exit 0',
      `${banner}litellm.InternalServerError: 503 Service Unavailable\nThe API provider's servers are down or overloaded.\n`,
      0,
      { completed: false, code: 'server-error' },
    ],
    ['no model answer, exit 0', banner, 0, { completed: false, code: 'empty-output' }],
    ['nothing', '', 0, { completed: false, code: 'empty-output' }],
  ])('%s', (_n, log, exit, want) => check(read(log, exit), want));

  it('reads k-suffixed token counts', () => {
    expect(read(`${banner}Tokens: 2.3k sent, 1.2k cache write, 45 received.\n`, 0).usage).toEqual({
      inputTokens: 2300,
      outputTokens: 45,
      reportedCostUsd: null,
    });
  });

  it.each<[string, ProbeResultInput, boolean, RegExp]>([
    ['the nonce', probe({ stdout: `${banner}${NONCE}\nTokens: 1k sent, 5 received.\n` }), true, /^answered$/],
    [
      'auth error with exit 0',
      probe({ stdout: `${banner}litellm.AuthenticationError: bad key\n` }),
      false,
      /^authentication failed/,
    ],
    [
      'an echo of the prompt is not an answer',
      probe({ stdout: `${banner}> Reply with exactly: ${NONCE}\n` }),
      false,
      /^empty answer/,
    ],
  ])('probe: %s', (_n, input, ok, reason) => {
    const v = judge(input, NONCE);
    expect(v.ok).toBe(ok);
    expect(v.reason).toMatch(reason);
  });
});

describe('opencode readOutput and judgeProbe', () => {
  const read = (log: string, exit: number) => profileFor('opencode').readOutput(log, exit);
  const judge = (input: ProbeResultInput, nonce: string) => profileFor('opencode').judgeProbe(input, nonce);
  const step = line({ type: 'step_start', sessionID: 's', part: { type: 'step-start' } });
  const textEv = (t: string) => line({ type: 'text', sessionID: 's', part: { type: 'text', text: t } });
  const finish = (reason: string) =>
    line({
      type: 'step_finish',
      part: { reason, tokens: { input: 600, output: 8, reasoning: 2, cache: { read: 100, write: 0 } } },
    });
  const errorEv = (statusCode: number, message: string) =>
    line({ type: 'error', error: { name: 'APIError', data: { message, statusCode, isRetryable: false } } });

  it.each<[string, string, number, Expect]>([
    [
      'a final stop step',
      [step, finish('tool-calls'), step, textEv('Done.'), finish('stop')].join('\n'),
      0,
      { completed: true, code: null },
    ],
    [
      'a 401 error event',
      [step, errorEv(401, 'Unauthorized')].join('\n'),
      1,
      { completed: false, code: 'auth' },
    ],
    [
      'a 529 error event',
      [step, errorEv(529, 'Overloaded')].join('\n'),
      1,
      { completed: false, code: 'overloaded' },
    ],
    ['no stop step', [step, finish('tool-calls')].join('\n'), 0, { completed: false, code: 'empty-output' }],
    ['exit 1, no events', 'Error: something broke', 1, { completed: false, code: 'exit-nonzero' }],
  ])('%s', (_n, log, exit, want) => check(read(log, exit), want));

  it('sums usage over steps', () => {
    expect(read([step, finish('tool-calls'), step, textEv('x'), finish('stop')].join('\n'), 0).usage).toEqual(
      {
        inputTokens: 1400,
        outputTokens: 20,
        reportedCostUsd: null,
      },
    );
  });

  it.each<[string, ProbeResultInput, boolean, RegExp]>([
    ['the nonce', probe({ stdout: [step, textEv(NONCE), finish('stop')].join('\n') }), true, /^answered$/],
    [
      '401',
      probe({ exitCode: 1, stdout: errorEv(401, 'Unauthorized') }),
      false,
      /^authentication failed \(401\)/,
    ],
    ['timeout', probe({ timedOut: true, timeoutMs: 30_000 }), false, /^no answer within 30s$/],
    ['empty', probe({}), false, /^empty output$/],
  ])('probe: %s', (_n, input, ok, reason) => {
    const v = judge(input, NONCE);
    expect(v.ok).toBe(ok);
    expect(v.reason).toMatch(reason);
  });
});

describe('command and scripted: text answers', () => {
  it.each<[string, ProbeResultInput, boolean, RegExp]>([
    ['the nonce on stdout', probe({ stdout: `thinking...\n${NONCE}\n` }), true, /^answered$/],
    ['an echo of the prompt', probe({ stdout: `Reply with exactly: ${NONCE}\n` }), false, /^empty output$/],
    ['exit 3', probe({ exitCode: 3, stderr: 'boom\n' }), false, /^exited 3: boom$/],
    [
      '401 text and exit 1',
      probe({ exitCode: 1, stderr: 'HTTP 401 Unauthorized\n' }),
      false,
      /^authentication failed \(401\)/,
    ],
    ['timeout', probe({ timedOut: true, timeoutMs: 90_000 }), false, /^no answer within 90s$/],
    [
      'timeout with no timeout given',
      probe({ timedOut: true }),
      false,
      /^no answer before the probe timeout$/,
    ],
    ['something else', probe({ stdout: 'hello\n' }), false, /^answered without the nonce: hello$/],
  ])('command probe: %s', (_n, input, ok, reason) => {
    const v = profileFor('command').judgeProbe(input, NONCE);
    expect(v.ok).toBe(ok);
    expect(v.reason).toMatch(reason);
  });

  it('command: the exit status is the contract', () => {
    check(profileFor('command').readOutput('did it\n', 0), { completed: true, code: null });
    check(profileFor('command').readOutput('crashed\n', 2), {
      completed: false,
      code: 'exit-nonzero',
      reason: /exited 2: crashed/,
    });
    check(profileFor('command').readOutput('Error: 429 Too Many Requests\n', 1), {
      completed: false,
      code: 'rate-limit',
    });
  });

  it.each<[string, string, number, Expect]>([
    [
      'a result line',
      '[scripted] write a\n{"type":"result","result":"ok","is_error":false}\n',
      0,
      { completed: true, code: null },
    ],
    [
      'no result line',
      '[scripted] write a\n',
      0,
      { completed: false, code: 'empty-output', attribution: 'provider' },
    ],
    [
      'exit 3',
      '{"type":"result","result":"stopped","is_error":true}\n',
      3,
      { completed: false, code: 'exit-nonzero' },
    ],
    [
      'an error result with exit 0',
      '{"type":"result","result":"bad","is_error":true}\n',
      0,
      { completed: false, code: 'agent-error' },
    ],
  ])('scripted readOutput: %s', (_n, log, exit, want) =>
    check(profileFor('scripted').readOutput(log, exit), want),
  );
});

describe('profiles', () => {
  it.each(PROVIDER_KINDS)('%s has a binary and a version command (or says it has none)', (kind) => {
    const p = profileFor(kind);
    expect(p.kind).toBe(kind);
    const cfg = provider({ kind, ...(kind === 'command' ? { command: ['x'] } : {}) });
    expect(p.binary(cfg)).toBeTruthy();
    const v = p.versionArgv(cfg);
    if (v) expect(v[0]).toBe(p.binary(cfg));
  });
});

describe('crash on start (the shared rule over every profile)', () => {
  /** What each CLI prints when it dies at once: a missing module, a rejected flag, a missing binary… */
  const crashes: Record<(typeof PROVIDER_KINDS)[number], [log: string, exitCode: number]> = {
    'claude-code': ["Error: Cannot find module '@anthropic-ai/claude-code/cli.js'\n", 1],
    codex: ["error: unexpected argument '--json' found\n", 2],
    aider: ['aider: error: unrecognized arguments: --no-detect-urls\n', 2],
    opencode: ['error: Unknown argument: --format\n', 1],
    command: ['sh: 1: my-agent: not found\n', 127],
    scripted: [
      '[scripted] exit 3\n{"type":"result","result":"stopped by the script with exit 3","is_error":true}\n',
      3,
    ],
  };
  const cfgOf = (kind: (typeof PROVIDER_KINDS)[number], extra: Record<string, unknown> = {}) =>
    provider({ kind, ...(kind === 'command' ? { command: ['my-agent'] } : {}), ...extra });
  const quick = { durationMs: 1000, committed: false };

  it.each(PROVIDER_KINDS)(
    '%s: a quick non-zero exit with no commit and little output is crash-on-start',
    (kind) => {
      const [log, exitCode] = crashes[kind];
      const r = readAttempt(cfgOf(kind), log, { exitCode, ...quick });
      check(r, { completed: false, code: 'crash-on-start', attribution: 'provider', reason: /after start/ });
      expect(r.failure?.reason).toContain(lastLine(log));
      expect(ruleFor('crash-on-start')).toMatchObject({ chargesAttempt: false, crash: true });
    },
  );

  it.each(PROVIDER_KINDS)(
    "%s: a commit, a long run, much output or unknown facts keep it the spec's",
    (kind) => {
      const [log, exitCode] = crashes[kind];
      const plain = profileFor(kind).readOutput(log, exitCode).failure?.code;
      expect(plain).not.toBe('crash-on-start');
      const cfg = cfgOf(kind);
      const codeOf = (l: string, run: Partial<RunFacts>) =>
        readAttempt(cfg, l, { exitCode, ...quick, ...run }).failure?.code;
      expect(codeOf(log, { committed: true })).toBe(plain);
      expect(codeOf(log, { durationMs: 10_001 })).toBe(plain);
      expect(codeOf(log, { durationMs: null })).toBe(plain);
      expect(codeOf(log, { committed: null })).toBe(plain);
      const chatty = `${'[work] reading src/index.ts and planning the change\n'.repeat(60)}${log}`;
      expect(codeOf(chatty, {})).toBe(profileFor(kind).readOutput(chatty, exitCode).failure?.code);
      // exit 0 is never a crash, however fast.
      expect(readAttempt(cfg, log, { exitCode: 0, ...quick }).failure?.code).not.toBe('crash-on-start');
    },
  );

  it("a recognised cause stands; a signal is named; the window is the provider's crashWindow", () => {
    const cfg = cfgOf('command');
    expect(readAttempt(cfg, 'Error: 401 Unauthorized\n', { exitCode: 1, ...quick }).failure?.code).toBe(
      'auth',
    );
    expect(readAttempt(cfg, '', { exitCode: 139, ...quick }).failure?.reason).toMatch(
      /^exited 139 \(signal 11\) 1 s after start, with no commit and almost no output$/,
    );
    const slow = cfgOf('command', { crashWindow: '2s' });
    expect(crashWindowMs(slow)).toBe(2000);
    expect(crashWindowMs(cfg)).toBe(10_000);
    expect(readAttempt(slow, 'x\n', { exitCode: 1, durationMs: 3000, committed: false }).failure?.code).toBe(
      'exit-nonzero',
    );
    expect(readAttempt(slow, 'x\n', { exitCode: 1, durationMs: 2000, committed: false }).failure?.code).toBe(
      'crash-on-start',
    );
  });

  it('is bounded per task: crash-on-start uses up no attempt, but the third makes the task poison', () => {
    let task = newTask({ id: tid('boom'), dedupKey: 'k', spec: taskSpec({ attempts: 3 }), now: 0 }).task;
    const fail = (now: number) =>
      decideFailure(
        enterRunning(task, { now, provider: 'p', host: 'local' }).task,
        { code: 'crash-on-start', reason: 'exited 1 0 s after start', outcome: 'failed', exitCode: 1, now },
        DEFAULT_BACKOFF,
        () => 0.5,
      );
    for (const now of [1000, 2000]) {
      const d = fail(now);
      expect(d.providerFault).toBe(true);
      expect(d.transition.task.state).toBe('pending');
      expect(d.transition.task.attempts.at(-1)).toMatchObject({
        code: 'crash-on-start',
        attribution: 'provider',
      });
      task = d.transition.task;
    }
    const third = fail(3000);
    expect(third.transition.task.state).toBe('failed');
    expect(third.transition.task.attempts.at(-1)).toMatchObject({ code: 'poison', attribution: 'spec' });
    expect(third.transition.task.attempts.at(-1)?.reason).toMatch(
      /^executor crashed 3 times; last: exited 1/,
    );
  });

  it.each(['auth', 'fetch-failed'] as const)(
    'retries a %s failure (no attempt used) at most MAX_FREE_RETRIES times, then fails the task',
    (code) => {
      let task = newTask({ id: tid('loop'), dedupKey: 'k', spec: taskSpec({ attempts: 3 }), now: 0 }).task;
      const fail = (now: number) =>
        decideFailure(
          enterRunning(task, { now, provider: 'p', host: 'local' }).task,
          { code, reason: `${code} again`, outcome: 'failed', exitCode: 1, now },
          DEFAULT_BACKOFF,
          () => 0.5,
        );
      // An interrupted launch in between is nobody's fault and is not counted.
      task = decideFailure(
        enterRunning(task, { now: 500, provider: 'p', host: 'local' }).task,
        { code: 'launch-interrupted', reason: 'restart', outcome: 'lost', exitCode: null, now: 500 },
        DEFAULT_BACKOFF,
        () => 0.5,
      ).transition.task;
      for (let i = 1; i <= MAX_FREE_RETRIES; i++) {
        const d = fail(i * 1000);
        expect(d.transition.task.state, `failure ${i}`).toBe('pending');
        task = d.transition.task;
      }
      const last = fail(99_000).transition.task;
      expect(last.state).toBe('failed');
      expect(last.attempts.at(-1)).toMatchObject({ code: 'retries-exhausted' });
      expect(last.attempts.at(-1)?.reason).toMatch(
        new RegExp(
          `^${MAX_FREE_RETRIES + 1} tries ended in failures that use up no attempt.*last: ${code} again`,
        ),
      );
    },
  );
});

describe('prompts over one argv word (Linux MAX_ARG_STRLEN: 128 KiB)', () => {
  const big = 'x'.repeat(PROMPT_ARG_MAX_BYTES + 1);
  const fits = 'é'.repeat(Math.floor(PROMPT_ARG_MAX_BYTES / 2)); // 2 bytes each: measured in bytes
  const who = { taskId: 'big-spec', provider: 'p' };
  const cmdOf = (kind: (typeof PROVIDER_KINDS)[number], extra: Record<string, unknown> = {}) =>
    profileFor(kind).buildRun(provider({ kind, model: 'm', ...extra }), ctx, {});

  it('keeps the argv word while the prompt fits, measured in bytes', () => {
    const cmd = cmdOf('claude-code');
    expect(fitPrompt(cmd, fits, who)).toEqual({ argv: cmd.argv, stdin: 'null' });
    expect(fitPrompt(cmd, 'é'.repeat(PROMPT_ARG_MAX_BYTES / 2 + 1), who).stdin).toBe('prompt');
  });

  it.each<[(typeof PROVIDER_KINDS)[number], (argv: string[]) => string[], 'null' | 'prompt']>([
    // claude -p reads stdin when no prompt argument is given (the "--" before it goes too).
    ['claude-code', (argv) => argv.slice(0, -2), 'prompt'],
    // codex exec reads the prompt from stdin given "-".
    ['codex', (argv) => argv.map((w) => (w === PROMPT_TOKEN ? '-' : w)), 'prompt'],
    // aider --message-file <file>.
    [
      'aider',
      (argv) =>
        argv.map((w) => (w === '--message' ? '--message-file' : w === PROMPT_TOKEN ? PROMPT_FILE_TOKEN : w)),
      'null',
    ],
    // opencode run appends a non-terminal stdin to its message.
    ['opencode', (argv) => argv.filter((w) => w !== PROMPT_TOKEN), 'prompt'],
  ])('%s switches to its own file or stdin input', (kind, expected, stdin) => {
    const cmd = cmdOf(kind);
    expect(cmd.argv).toContain(PROMPT_TOKEN);
    const fit = fitPrompt(cmd, big, who);
    expect(fit).toEqual({ argv: expected(cmd.argv), stdin });
    expect(fit.argv).not.toContain(PROMPT_TOKEN);
    expect(cmd.env).toEqual(cmdOf(kind).env);
  });

  it('scripted and a command taking the prompt file or stdin need no switch', () => {
    const file = cmdOf('command', { command: ['agent', '--file', PROMPT_FILE_TOKEN] });
    expect(fitPrompt(file, big, who)).toEqual({ argv: file.argv, stdin: 'null' });
    const piped = cmdOf('command', { command: ['agent'] });
    expect(fitPrompt(piped, big, who)).toEqual({ argv: ['agent'], stdin: 'prompt' });
    const sim = cmdOf('scripted');
    expect(fitPrompt(sim, big, who)).toEqual({ argv: sim.argv, stdin: 'null' });
  });

  it('refuses a command that takes the prompt as a word, naming the task, the provider and the limit', () => {
    const cmd = cmdOf('command', { command: ['agent', PROMPT_TOKEN] });
    expect(fitPrompt(cmd, fits, who).argv).toEqual(cmd.argv);
    let err: unknown;
    try {
      fitPrompt(cmd, big, who);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PromptTooLargeError);
    const e = err as PromptTooLargeError;
    expect(e.message).toBe(
      `the prompt is ${PROMPT_ARG_MAX_BYTES + 1} bytes, and this provider takes it as one argv word, which Linux limits to 131071 bytes`,
    );
    expect(e.context).toMatchObject({ taskId: 'big-spec', provider: 'p' });
    expect(e.describe()).toMatch(/^task big-spec, provider p: the prompt is 131072 bytes/);
    expect(e.context.hint).toContain(PROMPT_FILE_TOKEN);
    expect(ruleFor('prompt-too-large')).toEqual({
      attribution: 'spec',
      retryable: false,
      chargesAttempt: false,
    });
  });
});
