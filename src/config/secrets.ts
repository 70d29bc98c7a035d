/**
 * The secret values a workspace knows of: the environment variables named by each provider's
 * `secretEnv` and by the architect's `apiKeyEnv` / `authTokenEnv`, as set in `env`. Everything nightshift
 * writes (task records, applied requests, events, logs, reports) passes through a redactor built from
 * these; a variable that is unset is simply not a secret to hide.
 */
import { makeRedactor, type Redactor } from '../lib/redact.js';
import type { Config } from './schema.js';

/** The names of the environment variables the config treats as secrets. */
export function secretNames(config: Config): Set<string> {
  const names = new Set<string>();
  for (const provider of Object.values(config.providers)) {
    for (const source of Object.values(provider.secretEnv)) names.add(source);
  }
  if (config.architect.apiKeyEnv) names.add(config.architect.apiKeyEnv);
  if (config.architect.authTokenEnv) names.add(config.architect.authTokenEnv);
  return names;
}

export function secretValues(config: Config, env: NodeJS.ProcessEnv): string[] {
  return [...secretNames(config)].flatMap((name) => (env[name] ? [env[name]] : []));
}

export function secretRedactor(config: Config, env: NodeJS.ProcessEnv): Redactor {
  return makeRedactor(secretValues(config, env));
}
