/**
 * OpenAI Codex CLI (`codex exec --json`). A custom endpoint is declared as a model provider `ns` through
 * `-c` overrides when `env.OPENAI_BASE_URL` is set; it must speak the Responses API (the chat wire API is
 * rejected). The key is passed by *name* (`env_key`), never by value. Codex retries forever on an
 * unreachable endpoint, so the outer timeout is mandatory. CODEX_HOME is nightshift's own.
 * The probe is the run with the nonce prompt: nothing else differs.
 */
import path from 'node:path';
import type { ProviderConfig } from '../config/schema.js';
import { jsonLines, layerEnv, obj, probePrompt, str, timeoutReason } from './common.js';
import { tokenCount } from '../core/usage.js';
import { classify, failure, lastLine, oneLine, statusOf, statusReason } from './failures.js';
import {
  PROMPT_TOKEN,
  type ExecutorCommand,
  type LaunchContext,
  type OutputReading,
  type ProbeResultInput,
  type ProbeVerdict,
  type ProviderProfile,
} from './types.js';

/** The env var codex reads the key from: OPENAI_API_KEY when mapped, else the only secretEnv entry. */
export function codexKeyName(cfg: ProviderConfig): string {
  const names = Object.keys(cfg.secretEnv).sort();
  if (names.includes('OPENAI_API_KEY') || names.length === 0) return 'OPENAI_API_KEY';
  return names[0] ?? 'OPENAI_API_KEY';
}

/** A TOML string for a `-c key=value` override (JSON string syntax is valid TOML for these values). */
const toml = (value: string) => JSON.stringify(value);

function buildCodex(
  cfg: ProviderConfig,
  ctx: LaunchContext,
  secrets: Record<string, string>,
  nonce: string | null,
): ExecutorCommand {
  const baseUrl = cfg.env['OPENAI_BASE_URL'];
  const provider = baseUrl
    ? [
        '-c',
        `model_provider=${toml('ns')}`,
        '-c',
        `model_providers.ns.name=${toml('nightshift')}`,
        '-c',
        `model_providers.ns.base_url=${toml(baseUrl)}`,
        '-c',
        `model_providers.ns.env_key=${toml(codexKeyName(cfg))}`,
        '-c',
        `model_providers.ns.wire_api=${toml('responses')}`,
      ]
    : [];
  const argv = [
    'codex',
    'exec',
    '--json',
    '--skip-git-repo-check',
    '-C',
    ctx.worktree,
    ...(cfg.model ? ['-m', cfg.model] : []),
    ...provider,
    '--dangerously-bypass-approvals-and-sandbox',
    PROMPT_TOKEN,
  ];
  const { env, secretKeys } = layerEnv(
    cfg,
    secrets,
    {},
    { CODEX_HOME: path.posix.join(ctx.stateDir, 'codex') },
  );
  return {
    argv,
    env,
    secretKeys,
    stdin: 'null',
    // `codex exec -` reads the prompt from stdin.
    largePrompt: { argv: argv.map((w) => (w === PROMPT_TOKEN ? '-' : w)), stdin: 'prompt' },
    ...(nonce !== null ? { prompt: probePrompt(nonce) } : {}),
  };
}

interface CodexEvents {
  completed: boolean;
  failedMessage: string | null;
  messages: string[];
  usage: OutputReading['usage'];
}

function readEvents(text: string): CodexEvents {
  const events = jsonLines(text);
  let completed = false;
  let failedMessage: string | null = null;
  let errorMessage: string | null = null;
  const messages: string[] = [];
  let usage: CodexEvents['usage'] = null;
  const total = { inputTokens: 0, outputTokens: 0, reportedCostUsd: null };
  for (const e of events) {
    const type = str(e['type']);
    if (type === 'turn.completed') {
      completed = true;
      const u = obj(e['usage']);
      // input_tokens already counts cached_input_tokens; codex reports no cost.
      total.inputTokens += tokenCount(u['input_tokens']);
      total.outputTokens += tokenCount(u['output_tokens']);
      usage = total;
    } else if (type === 'turn.failed') {
      failedMessage = str(obj(e['error'])['message']) || 'turn failed';
    } else if (type === 'error') {
      errorMessage = str(e['message']) || 'error';
    } else if (type === 'item.completed') {
      const item = obj(e['item']);
      const kind = str(item['type']) || str(item['item_type']);
      if (kind === 'agent_message' || kind === 'assistant_message') messages.push(str(item['text']));
    }
  }
  // An `error` event followed by a completed turn was a retried hiccup, not the outcome.
  if (!completed && !failedMessage && errorMessage) failedMessage = errorMessage;
  return { completed: completed && !failedMessage, failedMessage, messages, usage };
}

export function readCodexOutput(log: string, exitCode: number): OutputReading {
  const ev = readEvents(log);
  const result = ev.messages.at(-1) ?? null;
  let fail: OutputReading['failure'] = null;
  if (ev.failedMessage !== null) {
    fail = classify(null, ev.failedMessage) ?? failure('agent-error', oneLine(ev.failedMessage));
  } else if (!ev.completed) {
    fail =
      classify(null, log) ??
      (exitCode !== 0
        ? failure('exit-nonzero', `codex exited ${exitCode}: ${lastLine(log)}`)
        : failure('empty-output', 'codex finished without a completed turn'));
  } else if (!result?.trim()) {
    fail = failure('empty-output', 'codex completed the turn without an answer');
  } else if (exitCode !== 0) {
    fail = failure('exit-nonzero', `codex exited ${exitCode} after a completed turn`);
  }
  return { completed: fail === null, result, usage: ev.usage, failure: fail };
}

export function judgeCodexProbe(probe: ProbeResultInput, nonce: string): ProbeVerdict {
  if (probe.timedOut) return { ok: false, reason: timeoutReason(probe) };
  const ev = readEvents(probe.stdout);
  if (ev.failedMessage !== null) {
    const status = statusOf(null, ev.failedMessage);
    return {
      ok: false,
      reason: `${status !== null ? statusReason(status) : 'turn failed'}: ${oneLine(ev.failedMessage, 120)}`,
    };
  }
  if (!ev.completed) {
    if (!probe.stdout.trim() && !probe.stderr.trim()) return { ok: false, reason: 'empty output' };
    const status = statusOf(null, `${probe.stdout}\n${probe.stderr}`);
    const detail = lastLine(probe.stderr) || lastLine(probe.stdout);
    if (status !== null) return { ok: false, reason: `${statusReason(status)}: ${detail}` };
    return { ok: false, reason: `exited ${probe.exitCode} without completing a turn: ${detail}` };
  }
  const answer = ev.messages.join('\n');
  if (!answer.trim()) return { ok: false, reason: 'empty answer' };
  if (probe.exitCode !== 0) return { ok: false, reason: `exited ${probe.exitCode}` };
  if (!answer.includes(nonce))
    return { ok: false, reason: `answered without the nonce: ${oneLine(answer, 80)}` };
  return { ok: true, reason: 'answered' };
}

export const codex: ProviderProfile = {
  kind: 'codex',
  binary: () => 'codex',
  versionArgv: () => ['codex', '--version'],
  buildRun: (cfg, ctx, secrets) => buildCodex(cfg, ctx, secrets, null),
  buildProbe: (cfg, ctx, secrets, nonce) => buildCodex(cfg, ctx, secrets, nonce),
  judgeProbe: judgeCodexProbe,
  readOutput: readCodexOutput,
};
