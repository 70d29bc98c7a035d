/**
 * The secret values a workspace knows of: the environment variables named by each provider's
 * `secretEnv` and by the architect's `apiKeyEnv` / `authTokenEnv`, as set in `env`. Everything nightshift
 * writes (task records, applied requests, events, logs, reports) passes through a redactor built from
 * these; a variable that is unset is simply not a secret to hide.
 */
import { makeNamedRedactor, makeRedactor, type NamedSecret, type Redactor } from '../lib/redact.js';
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

/** Each secret that is set, with the name of the variable it comes from. */
export function namedSecrets(config: Config, env: NodeJS.ProcessEnv): NamedSecret[] {
  return [...secretNames(config)].flatMap((name) => (env[name] ? [{ name, value: env[name] }] : []));
}

export function secretValues(config: Config, env: NodeJS.ProcessEnv): string[] {
  return namedSecrets(config, env).map((s) => s.value);
}

export function secretRedactor(config: Config, env: NodeJS.ProcessEnv): Redactor {
  return makeRedactor(secretValues(config, env));
}

/**
 * For text shown to people and the architect (a diff, its files): each secret becomes `[secret: NAME]`,
 * each key-pattern match `[secret: <pattern>]`, so a reader sees what was there and why it matters.
 */
export function namedSecretRedactor(config: Config, env: NodeJS.ProcessEnv): (text: string) => string {
  return makeNamedRedactor(namedSecrets(config, env), { patterns: true });
}
