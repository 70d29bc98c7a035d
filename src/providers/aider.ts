/**
 * aider (`aider --message`), through an OpenAI-compatible endpoint. aider reads OPENAI_API_KEY from its
 * environment, so the key never touches argv; the base URL (`env.OPENAI_API_BASE`) is passed as
 * `--openai-api-base`. Its history files live in nightshift's state dir, not the worktree, and it never
 * edits .gitignore, fetches URLs from the prompt or sends analytics.
 *
 * **aider exits 0 even when the model call failed**: completion is judged from its output, never from
 * the exit code alone. The probe is the run with the nonce prompt.
 */
import path from 'node:path';
import type { ProviderConfig } from '../config/schema.js';
import { judgeText, layerEnv, probePrompt, withoutEcho } from './common.js';
import { reportedCost, tokenCount } from '../core/usage.js';
import { classify, failure, lastLine, oneLine, statusOf, statusReason } from './failures.js';
import {
  PROMPT_FILE_TOKEN,
  PROMPT_TOKEN,
  type ExecutorCommand,
  type LaunchContext,
  type OutputReading,
  type ProbeResultInput,
  type ProbeVerdict,
  type ProviderProfile,
} from './types.js';

/** `openai/<m>` unless the model already names a litellm provider (`deepseek/deepseek-chat`). */
export function aiderModel(model: string): string {
  return model.includes('/') ? model : `openai/${model}`;
}

function buildAider(
  cfg: ProviderConfig,
  ctx: LaunchContext,
  secrets: Record<string, string>,
  nonce: string | null,
): ExecutorCommand {
  const base = cfg.env['OPENAI_API_BASE'];
  const state = path.posix.join(ctx.stateDir, 'aider');
  const argv = [
    'aider',
    ...(cfg.model ? ['--model', aiderModel(cfg.model)] : []),
    ...(base ? ['--openai-api-base', base] : []),
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
    path.posix.join(state, 'input.history'),
    '--chat-history-file',
    path.posix.join(state, 'chat.history.md'),
  ];
  const { env, secretKeys } = layerEnv(cfg, secrets, {}, {});
  const at = argv.indexOf('--message');
  const fromFile = [...argv.slice(0, at), '--message-file', PROMPT_FILE_TOKEN, ...argv.slice(at + 2)];
  return {
    argv,
    env,
    secretKeys,
    stdin: 'null',
    largePrompt: { argv: fromFile, stdin: 'null' },
    ...(nonce !== null ? { prompt: probePrompt(nonce) } : {}),
  };
}

/** aider's own error lines (litellm exception names and its explanations). */
const AIDER_ERROR =
  /litellm\.\w+Error|AuthenticationError|RateLimitError|NotFoundError|APIConnectionError|InternalServerError|ServiceUnavailableError|BadRequestError|The API provider (is not able to authenticate you|has rate limited you)|servers are down or overloaded|timed out without returning a response/;

const TOKENS = /Tokens:\s*([\d.]+)(k?)\s+sent.*?([\d.]+)(k?)\s+received/;
/** aider's own price of one message: `Cost: $0.01 message, $0.05 session.` */
const COST = /Cost:\s*\$([\d.]+)\s+message/;

function count(n: string | undefined, k: string | undefined): number {
  return tokenCount(Number(n ?? 0) * (k ? 1000 : 1));
}

function errorLines(log: string): string {
  return log
    .split('\n')
    .filter((l) => AIDER_ERROR.test(l))
    .join('\n');
}

export function readAiderOutput(log: string, exitCode: number): OutputReading {
  let usage: OutputReading['usage'] = null;
  const total: NonNullable<OutputReading['usage']> = { inputTokens: 0, outputTokens: 0, reportedCostUsd: 0 };
  for (const line of log.split('\n')) {
    const m = TOKENS.exec(line);
    if (!m) continue;
    total.inputTokens += count(m[1], m[2]);
    total.outputTokens += count(m[3], m[4]);
    // A message without its cost (a model litellm cannot price) makes the run's cost unknown.
    const cost = reportedCost(Number(COST.exec(line)?.[1] ?? NaN));
    total.reportedCostUsd =
      total.reportedCostUsd === null || cost === null ? null : total.reportedCostUsd + cost;
    usage = total;
  }
  const errors = errorLines(log);
  let fail: OutputReading['failure'] = null;
  if (errors) {
    fail = classify(null, errors) ?? failure('agent-error', oneLine(errors));
  } else if (exitCode !== 0) {
    fail = classify(null, log) ?? failure('exit-nonzero', `aider exited ${exitCode}: ${lastLine(log)}`);
  } else if (!log.trim()) {
    fail = failure('empty-output', 'aider printed nothing');
  } else if (usage === null) {
    // Every model call prints a Tokens line: none means the model never answered.
    fail = failure('empty-output', `aider finished without a model answer: ${lastLine(log)}`);
  }
  return { completed: fail === null, result: fail ? null : lastLine(log), usage, failure: fail };
}

export function judgeAiderProbe(probe: ProbeResultInput, nonce: string): ProbeVerdict {
  if (probe.timedOut) return judgeText(probe, nonce);
  // aider exits 0 after a failed model call: its error lines decide before the exit code does.
  const errors = errorLines(`${probe.stdout}\n${probe.stderr}`);
  if (errors) {
    const status = statusOf(null, errors);
    return {
      ok: false,
      reason: `${status !== null ? statusReason(status) : 'model call failed'}: ${oneLine(errors, 120)}`,
    };
  }
  if (
    probe.exitCode === 0 &&
    !probe.timedOut &&
    !withoutEcho(probe.stdout, nonce).includes(nonce) &&
    !TOKENS.test(probe.stdout)
  ) {
    return { ok: false, reason: 'empty answer: aider got no answer from the model' };
  }
  return judgeText(probe, nonce);
}

export const aider: ProviderProfile = {
  kind: 'aider',
  binary: () => 'aider',
  versionArgv: () => ['aider', '--version'],
  buildRun: (cfg, ctx, secrets) => buildAider(cfg, ctx, secrets, null),
  buildProbe: (cfg, ctx, secrets, nonce) => buildAider(cfg, ctx, secrets, nonce),
  judgeProbe: judgeAiderProbe,
  readOutput: readAiderOutput,
};
