/**
 * The port through which the architect writes specs (`nightshift plan`, follow-ups), and its `llm`
 * implementation: one Messages call through @anthropic-ai/sdk with a forced tool whose input is the
 * answer, validated with zod, asked once more when it is unusable. The `claude-code` mode is another
 * ArchitectWriter (claude-writer.ts; docs/architect.md). Never throws: a failure is a reason.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { parseDuration } from '../core/duration.js';
import { makeRedactor } from '../lib/redact.js';
import { fromMessage } from './architect-answer.js';
import { missingCredential, pickCredential, type ArchitectConfig, type Env } from './architect-credential.js';
import { clip } from './architect-prompt.js';
import { loadSdk, type Sdk } from './sdk.js';
import type { Fetch } from './architect.js';
import { claudeWriter, type WriterPaths } from './claude-writer.js';
import type { ArchitectWriter, Usage } from './writer-port.js';

export type { ArchitectWriter, Usage, WriterRequest, WriterResult } from './writer-port.js';

export const sumUsage = (a: Usage | null, b: Usage | null): Usage | null =>
  !a
    ? b
    : !b
      ? a
      : {
          inputTokens: a.inputTokens + b.inputTokens,
          outputTokens: a.outputTokens + b.outputTokens,
          costUsd: a.costUsd === null || b.costUsd === null ? null : a.costUsd + b.costUsd,
        };

const MAX_TOKENS = 16_384;
const ANTHROPIC_VERSION = '2023-06-01';

/**
 * The `llm` writer: the architect's endpoint, model, credential and timeout from `architect.*`. Throws
 * (an invalid-config NightshiftError is not needed here: the caller checks resolveArchitectMode) when no
 * credential is set.
 */
export function sdkWriter(
  config: ArchitectConfig,
  env: Env,
  opts: { fetch?: Fetch; log?: (line: string) => void } = {},
): ArchitectWriter {
  const credential = pickCredential(config, env);
  if (!credential) throw new Error(missingCredential(config));
  const redact = makeRedactor([credential.value]);
  const log = (line: string) => opts.log?.(redact(line));
  const timeout = Math.min(parseDuration(config.timeout) ?? 5 * 60_000, 2 ** 31 - 1);
  const baseURL = config.baseURL ?? 'https://api.anthropic.com';
  const options: ConstructorParameters<Sdk['default']>[0] = {
    ...(credential.kind === 'apiKey' ? { apiKey: credential.value } : { authToken: credential.value }),
    baseURL,
    timeout,
    maxRetries: 2,
    defaultHeaders: {
      'anthropic-version': ANTHROPIC_VERSION,
      ...(credential.kind === 'apiKey' ? { 'x-api-key': credential.value, authorization: null } : {}),
    },
    fetch: opts.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    logLevel: 'off',
  };
  // Made at the first call: the SDK is loaded only by a process that asks the architect (sdk.ts).
  let client: Anthropic | null = null;
  return async (req) => {
    let usage: Usage | null = null;
    let problem = '';
    for (let request = 1; request <= 2; request++) {
      const prompt =
        request === 1
          ? req.prompt
          : `${req.prompt}\n\nYour previous answer was unusable: ${problem}. Call ${req.toolName} again with a valid input.`;
      log(`asking ${config.model} at ${baseURL} (${req.purpose}, request ${request} of 2)`);
      let answer: ReturnType<typeof fromMessage>;
      try {
        client ??= new (await loadSdk()).default(options);
        answer = fromMessage(
          await client.messages.create(
            {
              model: config.model,
              max_tokens: MAX_TOKENS,
              system: req.system,
              messages: [{ role: 'user', content: prompt }],
              tools: [
                {
                  name: req.toolName,
                  description: 'Your whole answer. Call it exactly once.',
                  input_schema: req.jsonSchema as Anthropic.Tool.InputSchema,
                },
              ],
              tool_choice: { type: 'tool', name: req.toolName },
            },
            { signal: AbortSignal.timeout(timeout) },
          ),
        );
      } catch (e) {
        const reason = redact(`architect request failed (${req.purpose}): ${clip(String(e), 300)}`);
        log(reason);
        return { ok: false, reason, usage };
      }
      if (answer.usage) usage = sumUsage(usage, { ...answer.usage, costUsd: null });
      const call = answer.tools.find((t) => t.name === req.toolName);
      let input: unknown = call?.input;
      if (typeof input === 'string') {
        try {
          input = JSON.parse(input);
        } catch {
          input = undefined;
        }
      }
      const parsed = req.schema.safeParse(input);
      if (call && parsed.success) return { ok: true, value: parsed.data, usage };
      problem = !call
        ? `no ${req.toolName} call (stop_reason ${answer.stopReason ?? 'none'})`
        : `the input does not match the schema: ${clip(
            parsed.error?.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') ?? '',
            500,
          )}`;
      log(`unusable answer (${req.purpose}, request ${request} of 2): ${problem}`);
    }
    return { ok: false, reason: `the architect gave no usable answer in 2 requests: ${problem}`, usage };
  };
}

/**
 * The writer of the architect's mode in effect, or null when it writes no specs (`gates`, `manual`, or
 * `llm` / `claude-code` without its credential). `claude-code` writes in a Claude Code session in an
 * isolated checkout of the repo under the workspace (review/claude-writer.ts).
 */
export function architectWriter(
  config: ArchitectConfig,
  env: Env,
  log: (line: string) => void,
  paths: WriterPaths,
): ArchitectWriter | null {
  if (!pickCredential(config, env)) return null;
  if (config.mode === 'llm') return sdkWriter(config, env, { log: (l) => log(`architect: ${l}`) });
  if (config.mode === 'claude-code')
    return claudeWriter(config, env, { paths, log: (l) => log(`architect: ${l}`) });
  return null;
}
