/**
 * Whether a host runs executors as the supervisor's own Unix user while secrets are configured: then an
 * executor can read what the supervisor can (/proc/<daemon pid>/environ, the workspace, ~/.ssh), and no
 * tmux or environment hygiene stops it. Only a dedicated user or another machine does (docs/hosts.md).
 */
import type { Config } from '../config/schema.js';

/** The configured secrets' variable names (provider secretEnv sources, the architect's key when set). */
export function configuredSecretNames(config: Config, env: NodeJS.ProcessEnv): string[] {
  const names = new Set<string>();
  for (const p of Object.values(config.providers))
    for (const source of Object.values(p.secretEnv)) names.add(source);
  for (const key of [config.architect.apiKeyEnv, config.architect.authTokenEnv]) {
    if (key && env[key]) names.add(key);
  }
  return [...names].sort();
}

/**
 * The doctor's warning for host `name`, or null: a `local` host always runs executors as the
 * supervisor's user (an `ssh` host to another user of the same machine does not).
 */
export function sharedUserWarning(
  name: string,
  config: Config,
  env: NodeJS.ProcessEnv,
): { detail: string; fix: string } | null {
  if (config.hosts[name]?.kind !== 'local') return null;
  const secrets = configuredSecretNames(config, env);
  if (secrets.length === 0) return null;
  return {
    detail: `executors on ${name} run as your own user, so they can read every secret this supervisor holds (${secrets.join(', ')}), e.g. from /proc/<daemon pid>/environ`,
    fix: `run them as a dedicated user instead: an ssh host to agent@localhost (docs/hosts.md, "A dedicated user")`,
  };
}
