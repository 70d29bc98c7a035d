/**
 * Claude Code headless (`claude -p`), against Anthropic or any Anthropic-compatible endpoint.
 *
 * ONE builder makes both the run and the probe, so they cannot drift (the seed's probe differed from
 * its run by one flag). The probe differs from the run in exactly these ways, and nothing else:
 *   - prompt:            `Reply with exactly: <nonce>` (still through PROMPT_TOKEN)
 *   - `--output-format`: `json` instead of `stream-json` (one document to judge)
 *   - `--max-turns`:     `1` instead of `200`
 *   - `--tools ""`:      no tools
 *   - session:           `--no-session-persistence` instead of `--session-id <uuid>` / `--resume <uuid>`
 *   - env:               `API_TIMEOUT_MS=30000`, `CLAUDE_CODE_MAX_RETRIES=1` (over any configured value)
 * PROBE_DIFFERENCES lists them for the parity test.
 *
 * The prompt goes last, after `--`, not straight after `-p` as in REFERENCE.md: `-p` is a boolean flag
 * and the prompt a positional argument, and a prompt that starts with "-" (every spec with front
 * matter starts with "---") fails with "unknown option" when it comes before `--` (seen with 2.1.332).
 */
import path from 'node:path';
import type { ProviderConfig } from '../config/schema.js';
import { jsonLines, jsonObjects, layerEnv, num, obj, probePrompt, str, timeoutReason } from './common.js';
import { reportedCost, tokenCount } from '../core/usage.js';
import { classify, failure, lastLine, oneLine, statusOf, statusReason, type Failure } from './failures.js';
import {
  PROMPT_TOKEN,
  type ExecutorCommand,
  type LaunchContext,
  type OutputReading,
  type ProbeResultInput,
  type ProbeVerdict,
  type ProviderProfile,
} from './types.js';

/** Defaults the operator may override through `env` (GLM wants a much longer API_TIMEOUT_MS). */
export const CLAUDE_RUN_DEFAULTS = { API_TIMEOUT_MS: '600000', CLAUDE_CODE_MAX_RETRIES: '4' } as const;
/** Forced on the probe: it must answer fast or fail fast. */
export const CLAUDE_PROBE_ENV = { API_TIMEOUT_MS: '30000', CLAUDE_CODE_MAX_RETRIES: '1' } as const;
export const CLAUDE_MAX_TURNS = '200';

/** The documented probe/run differences, for tests: flags whose value or presence differs. */
export const PROBE_DIFFERENCES = {
  flags: [
    '--output-format',
    '--max-turns',
    '--tools',
    '--no-session-persistence',
    '--session-id',
    '--resume',
  ],
  env: Object.keys(CLAUDE_PROBE_ENV),
} as const;

/** Every model slot Claude Code reads: all set to the one configured model. */
export const MODEL_SLOTS = [
  'ANTHROPIC_MODEL',
  'ANTHROPIC_DEFAULT_OPUS_MODEL',
  'ANTHROPIC_DEFAULT_SONNET_MODEL',
  'ANTHROPIC_DEFAULT_HAIKU_MODEL',
  'CLAUDE_CODE_SUBAGENT_MODEL',
] as const;

type Mode = { kind: 'run' } | { kind: 'probe'; nonce: string };

export function buildClaude(
  cfg: ProviderConfig,
  ctx: LaunchContext,
  secrets: Record<string, string>,
  mode: Mode,
): ExecutorCommand {
  const probe = mode.kind === 'probe';
  const model = cfg.model;
  const fixed: Record<string, string> = {
    CLAUDE_CONFIG_DIR: path.posix.join(ctx.stateDir, 'claude'),
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    ...(model ? Object.fromEntries(MODEL_SLOTS.map((k) => [k, model])) : {}),
    ...(ctx.root ? { IS_SANDBOX: '1' } : {}),
    ...(probe ? CLAUDE_PROBE_ENV : {}),
  };
  const { env, secretKeys } = layerEnv(cfg, secrets, { ...CLAUDE_RUN_DEFAULTS }, fixed);
  const session = probe
    ? ['--no-session-persistence']
    : ctx.resumeSessionId
      ? ['--resume', ctx.resumeSessionId]
      : ['--session-id', ctx.sessionId];
  const argv = [
    'claude',
    '-p',
    '--bare',
    '--setting-sources',
    '',
    '--strict-mcp-config',
    '--output-format',
    probe ? 'json' : 'stream-json',
    '--verbose',
    '--dangerously-skip-permissions',
    '--max-turns',
    probe ? '1' : CLAUDE_MAX_TURNS,
    ...(probe ? ['--tools', ''] : []),
    ...session,
    ...(model ? ['--model', model] : []),
    // After `--`: a prompt starting with "-" (a spec's "---" front matter) is otherwise read as an option.
    '--',
    PROMPT_TOKEN,
  ];
  return {
    argv,
    env,
    secretKeys,
    stdin: 'null',
    // `claude -p` with no prompt argument reads the prompt from stdin.
    largePrompt: { argv: argv.slice(0, -2), stdin: 'prompt' },
    ...(probe ? { prompt: probePrompt(mode.nonce) } : {}),
  };
}

/** The `result` object of a Claude Code answer (json, verbose json array, or stream-json lines). */
function resultOf(objects: Record<string, unknown>[]): Record<string, unknown> | null {
  for (let i = objects.length - 1; i >= 0; i--) {
    const o = objects[i];
    if (o && o['type'] === 'result') return o;
  }
  return null;
}

/** A failure from the `result` line: the structured `api_error_status` first, then its text. */
function resultFailure(result: Record<string, unknown>): Failure | null {
  const text = str(result['result']);
  const subtype = str(result['subtype']);
  if (subtype === 'error_max_turns')
    return failure('max-turns', `stopped at the turn limit after ${num(result['num_turns'])} turns`);
  if (result['is_error'] === true) {
    return (
      classify(result['api_error_status'], text) ??
      failure('agent-error', oneLine(text) || `claude reported an error (${subtype || 'no detail'})`)
    );
  }
  if (!text.trim()) return failure('empty-output', 'claude finished with an empty answer');
  return null;
}

/** `system/api_retry` lines with a status that retrying cannot fix. */
function fatalRetry(objects: Record<string, unknown>[]): Failure | null {
  for (const o of objects) {
    if (o['type'] !== 'system' || o['subtype'] !== 'api_retry') continue;
    const status = num(o['error_status']);
    if (status === 401 || status === 403 || status === 404) {
      return failure(
        'auth',
        `${statusReason(status)}: the endpoint refused the request (${str(o['error']) || 'api_retry'})`,
      );
    }
  }
  return null;
}

function lastRetry(objects: Record<string, unknown>[]): Failure | null {
  for (let i = objects.length - 1; i >= 0; i--) {
    const o = objects[i];
    if (o?.['type'] === 'system' && o['subtype'] === 'api_retry')
      return classify(o['error_status'], str(o['error']));
  }
  return null;
}

export function readClaudeOutput(log: string, exitCode: number): OutputReading {
  const objects = jsonLines(log);
  const result = resultOf(objects);
  const u = obj(result?.['usage']);
  // The last result line is the run's total; its cost is at Claude's prices whatever the model.
  const usage: OutputReading['usage'] = result
    ? {
        inputTokens:
          tokenCount(u['input_tokens']) +
          tokenCount(u['cache_creation_input_tokens']) +
          tokenCount(u['cache_read_input_tokens']),
        outputTokens: tokenCount(u['output_tokens']),
        reportedCostUsd: reportedCost(result['total_cost_usd']),
      }
    : null;
  const text = result ? str(result['result']) : null;
  const fatal = fatalRetry(objects);
  const fromResult = result ? resultFailure(result) : null;
  // A successful result stands even after a retried error; otherwise a fatal retry explains best.
  let fail = fromResult ? (fatal ?? fromResult) : null;
  if (!result) {
    fail =
      fatal ??
      lastRetry(objects) ??
      classify(
        null,
        log
          .split('\n')
          .filter((l) => !l.trim().startsWith('{'))
          .join('\n'),
      ) ??
      failure(
        'empty-output',
        `no result line (exit ${exitCode})${lastLine(log) ? `: ${lastLine(log)}` : ''}`,
      );
  }
  if (!fail && exitCode !== 0)
    fail = failure('exit-nonzero', `claude exited ${exitCode} after a successful result`);
  const sessionId = sessionOf(objects, result);
  return {
    completed: fail === null,
    result: text,
    usage,
    failure: fail,
    ...(sessionId ? { sessionId } : {}),
  };
}

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The session the run ended in: the result line's `session_id`, else the init line's (a run cut off
 * before its result). Only a UUID: the log is the executor's output, and this goes into a later argv.
 */
function sessionOf(
  objects: Record<string, unknown>[],
  result: Record<string, unknown> | null,
): string | null {
  const init = objects.find((o) => o['type'] === 'system' && o['subtype'] === 'init');
  for (const o of [result, init]) {
    const id = str(o?.['session_id']);
    if (SESSION_ID.test(id)) return id;
  }
  return null;
}

export function judgeClaudeProbe(probe: ProbeResultInput, nonce: string): ProbeVerdict {
  if (probe.timedOut) return { ok: false, reason: timeoutReason(probe) };
  const result = resultOf(jsonObjects(probe.stdout));
  if (!result) {
    if (!probe.stdout.trim() && !probe.stderr.trim()) {
      return {
        ok: false,
        reason: probe.exitCode === 0 ? 'empty output' : `exited ${probe.exitCode} with no output`,
      };
    }
    const status = statusOf(null, `${probe.stdout}\n${probe.stderr}`);
    const detail = lastLine(probe.stderr) || lastLine(probe.stdout);
    if (status !== null) return { ok: false, reason: `${statusReason(status)}: ${detail}` };
    return {
      ok: false,
      reason: probe.exitCode === 0 ? `empty output: ${detail}` : `exited ${probe.exitCode}: ${detail}`,
    };
  }
  const text = str(result['result']);
  if (result['is_error'] === true) {
    const status = statusOf(result['api_error_status'], text);
    if (status !== null) return { ok: false, reason: `${statusReason(status)}: ${oneLine(text, 120)}` };
    return { ok: false, reason: `error: ${oneLine(text, 120) || str(result['subtype']) || 'no detail'}` };
  }
  if (!text.trim()) return { ok: false, reason: 'empty answer' };
  if (probe.exitCode !== 0) return { ok: false, reason: `exited ${probe.exitCode}` };
  if (!text.includes(nonce)) return { ok: false, reason: `answered without the nonce: ${oneLine(text, 80)}` };
  return { ok: true, reason: 'answered' };
}

export const claudeCode: ProviderProfile = {
  kind: 'claude-code',
  binary: () => 'claude',
  versionArgv: () => ['claude', '--version'],
  buildRun: (cfg, ctx, secrets) => buildClaude(cfg, ctx, secrets, { kind: 'run' }),
  buildProbe: (cfg, ctx, secrets, nonce) => buildClaude(cfg, ctx, secrets, { kind: 'probe', nonce }),
  judgeProbe: judgeClaudeProbe,
  readOutput: readClaudeOutput,
  // REFERENCE.md: claude retries a refused credential for minutes; the first 401/403/404 retry is enough.
  liveFailure: (lines) => fatalRetry(jsonLines(lines)),
};
