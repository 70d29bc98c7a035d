/**
 * opencode (`opencode run --format json`), configured entirely through OPENCODE_CONFIG_CONTENT so no
 * user config applies. With `env.OPENAI_BASE_URL` set, nightshift declares an OpenAI-compatible provider
 * `nightshift` whose apiKey is `{env:<secret name>}` (opencode substitutes it: the key never appears in
 * argv or in the config text); otherwise `model` must be opencode's own `provider/model`. An explicit
 * `env.OPENCODE_CONFIG_CONTENT` is used as given. Data, config and cache live in nightshift's state dir.
 * Exits 1 on errors (≈5 s on 401, ≈70 s on 5xx). The probe is the run with the nonce prompt.
 */
import path from 'node:path';
import type { ProviderConfig } from '../config/schema.js';
import { jsonLines, layerEnv, obj, probePrompt, str, timeoutReason } from './common.js';
import { reportedCost, tokenCount } from '../core/usage.js';
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

export const OPENCODE_PROVIDER_ID = 'nightshift';

function keyName(cfg: ProviderConfig): string | null {
  const names = Object.keys(cfg.secretEnv).sort();
  return names.includes('OPENAI_API_KEY') ? 'OPENAI_API_KEY' : (names[0] ?? null);
}

/** The model argument and config text opencode gets. */
export function opencodeConfig(cfg: ProviderConfig): { model: string | null; content: string } {
  const baseUrl = cfg.env['OPENAI_BASE_URL'];
  const given = cfg.env['OPENCODE_CONFIG_CONTENT'];
  const model = cfg.model ? (baseUrl ? `${OPENCODE_PROVIDER_ID}/${cfg.model}` : cfg.model) : null;
  if (given !== undefined) return { model, content: given };
  const key = keyName(cfg);
  const config: Record<string, unknown> = {
    $schema: 'https://opencode.ai/config.json',
    autoupdate: false,
    share: 'disabled',
    permission: { edit: 'allow', bash: 'allow', webfetch: 'allow' },
    ...(model ? { model } : {}),
    ...(baseUrl && cfg.model
      ? {
          provider: {
            [OPENCODE_PROVIDER_ID]: {
              npm: '@ai-sdk/openai-compatible',
              name: 'nightshift',
              options: { baseURL: baseUrl, ...(key ? { apiKey: `{env:${key}}` } : {}) },
              models: { [cfg.model]: {} },
            },
          },
        }
      : {}),
  };
  return { model, content: JSON.stringify(config) };
}

function buildOpencode(
  cfg: ProviderConfig,
  ctx: LaunchContext,
  secrets: Record<string, string>,
  nonce: string | null,
): ExecutorCommand {
  const { model, content } = opencodeConfig(cfg);
  const state = path.posix.join(ctx.stateDir, 'opencode');
  const argv = [
    'opencode',
    'run',
    '--format',
    'json',
    ...(model ? ['-m', model] : []),
    '--dir',
    ctx.worktree,
    PROMPT_TOKEN,
  ];
  const { env, secretKeys } = layerEnv(
    cfg,
    secrets,
    {},
    {
      OPENCODE_CONFIG_CONTENT: content,
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      XDG_CONFIG_HOME: path.posix.join(state, 'config'),
      XDG_DATA_HOME: path.posix.join(state, 'data'),
      XDG_CACHE_HOME: path.posix.join(state, 'cache'),
      XDG_STATE_HOME: path.posix.join(state, 'state'),
    },
  );
  return {
    argv,
    env,
    secretKeys,
    stdin: 'null',
    // `opencode run` reads a non-terminal stdin to its end and appends it to the message.
    largePrompt: { argv: argv.filter((w) => w !== PROMPT_TOKEN), stdin: 'prompt' },
    ...(nonce !== null ? { prompt: probePrompt(nonce) } : {}),
  };
}

interface OpencodeEvents {
  stopped: boolean;
  error: { status: unknown; message: string } | null;
  texts: string[];
  usage: OutputReading['usage'];
}

function readEvents(text: string): OpencodeEvents {
  const out: OpencodeEvents = { stopped: false, error: null, texts: [], usage: null };
  for (const e of jsonLines(text)) {
    const type = str(e['type']);
    const part = obj(e['part']);
    if (type === 'text') out.texts.push(str(part['text']));
    else if (type === 'step_finish') {
      const t = obj(part['tokens']);
      const cache = obj(t['cache']);
      const cost = reportedCost(part['cost']);
      const before = out.usage;
      out.usage = {
        inputTokens:
          (before?.inputTokens ?? 0) +
          tokenCount(t['input']) +
          tokenCount(cache['read']) +
          tokenCount(cache['write']),
        outputTokens: (before?.outputTokens ?? 0) + tokenCount(t['output']) + tokenCount(t['reasoning']),
        // Each step's own cost; a step without one makes the run's cost unknown.
        reportedCostUsd:
          before && before.reportedCostUsd === null
            ? null
            : cost === null
              ? null
              : (before?.reportedCostUsd ?? 0) + cost,
      };
      out.stopped = str(part['reason']) === 'stop';
    } else if (type === 'error') {
      const err = obj(e['error']);
      const data = obj(err['data']);
      out.error = {
        status: data['statusCode'],
        message:
          str(data['message']) || str(err['message']) || str(e['message']) || str(err['name']) || 'error',
      };
    }
  }
  return out;
}

export function readOpencodeOutput(log: string, exitCode: number): OutputReading {
  const ev = readEvents(log);
  const result = ev.texts.at(-1) ?? null;
  let fail: OutputReading['failure'] = null;
  if (ev.error)
    fail = classify(ev.error.status, ev.error.message) ?? failure('agent-error', oneLine(ev.error.message));
  else if (exitCode !== 0)
    fail = classify(null, log) ?? failure('exit-nonzero', `opencode exited ${exitCode}: ${lastLine(log)}`);
  else if (!ev.stopped) fail = failure('empty-output', 'opencode finished without a final step');
  else if (!result?.trim()) fail = failure('empty-output', 'opencode finished with an empty answer');
  return { completed: fail === null, result, usage: ev.usage, failure: fail };
}

export function judgeOpencodeProbe(probe: ProbeResultInput, nonce: string): ProbeVerdict {
  if (probe.timedOut) return { ok: false, reason: timeoutReason(probe) };
  const ev = readEvents(probe.stdout);
  if (ev.error) {
    const status = statusOf(ev.error.status, ev.error.message);
    return {
      ok: false,
      reason: `${status !== null ? statusReason(status) : 'error'}: ${oneLine(ev.error.message, 120)}`,
    };
  }
  if (probe.exitCode !== 0) {
    const detail = lastLine(probe.stderr) || lastLine(probe.stdout);
    const status = statusOf(null, `${probe.stdout}\n${probe.stderr}`);
    if (status !== null) return { ok: false, reason: `${statusReason(status)}: ${detail}` };
    return { ok: false, reason: `exited ${probe.exitCode}${detail ? `: ${detail}` : ''}` };
  }
  const answer = ev.texts.join('\n');
  if (!answer.trim()) return { ok: false, reason: probe.stdout.trim() ? 'empty answer' : 'empty output' };
  if (!answer.includes(nonce))
    return { ok: false, reason: `answered without the nonce: ${oneLine(answer, 80)}` };
  return { ok: true, reason: 'answered' };
}

export const opencode: ProviderProfile = {
  kind: 'opencode',
  binary: () => 'opencode',
  versionArgv: () => ['opencode', '--version'],
  buildRun: (cfg, ctx, secrets) => buildOpencode(cfg, ctx, secrets, null),
  buildProbe: (cfg, ctx, secrets, nonce) => buildOpencode(cfg, ctx, secrets, nonce),
  judgeProbe: judgeOpencodeProbe,
  readOutput: readOpencodeOutput,
};
