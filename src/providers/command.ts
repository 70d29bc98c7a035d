/**
 * A custom executor: `command` is an argv array run as given (no shell). PROMPT_TOKEN / PROMPT_FILE_TOKEN
 * may appear as whole argv words; with neither, the prompt arrives on stdin. The environment is `env`
 * plus the secrets. The contract is the exit status: 0 means the attempt finished.
 * The probe is the same command with the nonce prompt; it passes when stdout holds the nonce (a line
 * that merely echoes the prompt does not count).
 */
import { ErrorCode, NightshiftError } from '../core/errors.js';
import type { ProviderConfig } from '../config/schema.js';
import { checkTokens, judgeText, layerEnv, probePrompt } from './common.js';
import { classify, failure, lastLine } from './failures.js';
import {
  PROMPT_FILE_TOKEN,
  PROMPT_TOKEN,
  type ExecutorCommand,
  type OutputReading,
  type ProviderProfile,
} from './types.js';

function commandOf(cfg: ProviderConfig): string[] {
  if (!cfg.command?.length) {
    throw new NightshiftError(ErrorCode.invalidConfig, 'a provider of kind "command" needs a command', {
      field: 'command',
      hint: `give the executor as an argv array, e.g. command: [my-agent, --prompt-file, "${PROMPT_FILE_TOKEN}"]`,
    });
  }
  checkTokens(cfg.command, cfg.kind);
  return [...cfg.command];
}

function buildCommand(
  cfg: ProviderConfig,
  secrets: Record<string, string>,
  nonce: string | null,
): ExecutorCommand {
  const argv = commandOf(cfg);
  const takesPrompt = argv.includes(PROMPT_TOKEN) || argv.includes(PROMPT_FILE_TOKEN);
  const { env, secretKeys } = layerEnv(cfg, secrets, {}, {});
  return {
    argv,
    env,
    secretKeys,
    stdin: takesPrompt ? 'null' : 'prompt',
    ...(nonce !== null ? { prompt: probePrompt(nonce) } : {}),
  };
}

export function readCommandOutput(log: string, exitCode: number): OutputReading {
  if (exitCode === 0) return { completed: true, result: lastLine(log) || null, usage: null, failure: null };
  return {
    completed: false,
    result: null,
    usage: null,
    failure:
      classify(null, log) ??
      failure('exit-nonzero', `exited ${exitCode}${lastLine(log) ? `: ${lastLine(log)}` : ''}`),
  };
}

export const command: ProviderProfile = {
  kind: 'command',
  binary: (cfg) => cfg.command?.[0] ?? null,
  versionArgv: () => null,
  buildRun: (cfg, _ctx, secrets) => buildCommand(cfg, secrets, null),
  buildProbe: (cfg, _ctx, secrets, nonce) => buildCommand(cfg, secrets, nonce),
  judgeProbe: judgeText,
  readOutput: readCommandOutput,
};
