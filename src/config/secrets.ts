/**
 * The secret values a workspace knows of: the environment variables named by each provider's
 * `secretEnv`, by the architect's `apiKeyEnv` / `authTokenEnv` and by each notifier's `urlEnv` /
 * `tokenEnv`, as set in `env`. Everything nightshift
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
  // A notifier's URL may hold a token (Slack's does): the variable holding it is a secret like a key.
  for (const n of config.notify) {
    if (n.urlEnv) names.add(n.urlEnv);
    if (n.kind === 'ntfy' && n.tokenEnv) names.add(n.tokenEnv);
  }
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
