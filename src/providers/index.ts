/** The provider profiles by kind, and secret resolution from the supervisor's environment. */
import { ErrorCode, NightshiftError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import type { ProviderConfig } from '../config/schema.js';
import { aider } from './aider.js';
import { claudeCode } from './claude-code.js';
import { codex } from './codex.js';
import { command } from './command.js';
import { opencode } from './opencode.js';
import { scripted } from './scripted.js';
import { crashOnStart, DEFAULT_CRASH_WINDOW_MS } from './failures.js';
import type { OutputReading, ProviderProfile, RunFacts } from './types.js';

export { PROMPT_FILE_TOKEN, PROMPT_TOKEN } from './types.js';
export type {
  ExecutorCommand,
  LaunchContext,
  OutputReading,
  ProbeResultInput,
  ProbeVerdict,
  ProviderProfile,
  RunFacts,
} from './types.js';
export { PROVIDER_FAILURE_CODES, providerCanRecover, type ProviderFailureCode } from './failures.js';
export {
  fitPrompt,
  newNonce,
  probePrompt,
  PROMPT_ARG_MAX_BYTES,
  PromptTooLargeError,
  substitutePrompt,
} from './common.js';

const PROFILES: Record<ProviderConfig['kind'], ProviderProfile> = {
  'claude-code': claudeCode,
  codex,
  aider,
  opencode,
  command,
  scripted,
};

export function profileFor(kind: ProviderConfig['kind']): ProviderProfile {
  return PROFILES[kind];
}

/** The provider's crash-on-start window in ms (`crashWindow`, default 10 s). */
export function crashWindowMs(cfg: ProviderConfig): number {
  return parseDuration(cfg.crashWindow ?? '') ?? DEFAULT_CRASH_WINDOW_MS;
}

/**
 * Reads a finished attempt: the profile's own reading of its log and exit code, then the shared
 * crash-on-start rule (failures.ts) from how long it ran and whether it committed.
 */
export function readAttempt(cfg: ProviderConfig, log: string, run: RunFacts): OutputReading {
  return crashOnStart(profileFor(cfg.kind).readOutput(log, run.exitCode), log, run, crashWindowMs(cfg));
}

/**
 * Reads every `secretEnv` mapping (executor variable → supervisor variable) from `env`. Secrets only
 * ever come from the supervisor's environment; a missing or empty one stops the provider with an
 * error naming the provider, the variable and what to do. Also callable as (name, cfg, env).
 */
export function resolveSecrets(
  cfg: ProviderConfig,
  env: NodeJS.ProcessEnv,
  providerName?: string,
): Record<string, string>;
export function resolveSecrets(
  providerName: string,
  cfg: ProviderConfig,
  env: NodeJS.ProcessEnv,
): Record<string, string>;
export function resolveSecrets(
  a: ProviderConfig | string,
  b: NodeJS.ProcessEnv | ProviderConfig,
  c?: string | NodeJS.ProcessEnv,
): Record<string, string> {
  const [cfg, env, name] =
    typeof a === 'string'
      ? [b as ProviderConfig, (c ?? {}) as NodeJS.ProcessEnv, a]
      : [a, b as NodeJS.ProcessEnv, typeof c === 'string' ? c : a.kind];
  const secrets: Record<string, string> = {};
  const missing: [target: string, source: string][] = [];
  for (const [target, source] of Object.entries(cfg.secretEnv)) {
    const value = env[source];
    if (value === undefined || value === '') missing.push([target, source]);
    else secrets[target] = value;
  }
  const [first] = missing;
  if (first) {
    const sources = missing.map(([, source]) => source);
    const mappings = missing.map(([t, s]) => `${t} ← ${s}`).join(', ');
    throw new NightshiftError(
      ErrorCode.invalidConfig,
      `${sources.length === 1 ? 'environment variable' : 'environment variables'} ${sources.join(', ')} ${sources.length === 1 ? 'is' : 'are'} not set (secretEnv ${mappings})`,
      {
        provider: name,
        field: `secretEnv.${first[0]}`,
        hint: `export ${first[1]}=<the key> in the environment that starts nightshift, or remove the mapping from providers.${name}.secretEnv`,
      },
    );
  }
  return secrets;
}
