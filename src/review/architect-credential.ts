/**
 * The architect's credential and the mode in effect: exactly one credential, from the variable the
 * config names (authTokenEnv, then apiKeyEnv), and `llm` without one falls back to `manual` with a note
 * saying what to export. The value never leaves the Architect (architect.ts) and its redactor.
 */
import type { Config } from '../config/schema.js';

export type ArchitectConfig = Config['architect'];
export type ArchitectMode = ArchitectConfig['mode'];
export type Env = Readonly<Record<string, string | undefined>>;

/** The credential the architect sends: its kind, the variable it came from, its value. */
export interface Credential {
  kind: 'apiKey' | 'authToken';
  envName: string;
  value: string;
}

/** authTokenEnv wins when configured and set (apiKeyEnv has a default); empty values count as unset. */
export function pickCredential(cfg: ArchitectConfig, env: Env): Credential | null {
  for (const [kind, envName] of [
    ['authToken', cfg.authTokenEnv],
    ['apiKey', cfg.apiKeyEnv],
  ] as const) {
    const value = envName ? env[envName]?.trim() : undefined;
    if (envName && value) return { kind, envName, value };
  }
  return null;
}

/**
 * What to export when `mode: llm` (or `claude-code`) finds no credential: resolveArchitectMode's note,
 * Architect's error.
 */
export function missingCredential(cfg: ArchitectConfig): string {
  const names = [cfg.apiKeyEnv, cfg.authTokenEnv].filter((v): v is string => !!v);
  if (names.length === 0) {
    return (
      `mode ${cfg.mode} needs a key, but neither architect.apiKeyEnv nor architect.authTokenEnv names a variable: ` +
      'falling back to manual review (a person approves each branch). Set architect.apiKeyEnv (for example ' +
      'ANTHROPIC_API_KEY) or architect.authTokenEnv and export that variable.'
    );
  }
  const list = names.map((v) => `$${v}`).join(' or ');
  return (
    `mode ${cfg.mode} needs ${list}, which is not set: falling back to manual review (a person approves each ` +
    `branch). Export ${names.join(' or ')} in the supervisor's environment to use the architect.`
  );
}

/**
 * The mode in effect: `llm` or `claude-code` without its key variable falls back to `manual`, with a
 * note saying so.
 */
export function resolveArchitectMode(
  cfg: ArchitectConfig,
  env: Env,
): { mode: ArchitectMode; note: string | null } {
  const needsKey = cfg.mode === 'llm' || cfg.mode === 'claude-code';
  if (!needsKey || pickCredential(cfg, env)) return { mode: cfg.mode, note: null };
  return { mode: 'manual', note: missingCredential(cfg) };
}
