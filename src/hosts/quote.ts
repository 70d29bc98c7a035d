/**
 * THE one audited function that turns an argv into a remote shell command line. ssh joins its
 * arguments and the remote shell re-parses them, so every word is single-quoted (' → '\'') here and
 * nowhere else. Nothing else in nightshift builds shell text from data.
 */
import { ErrorCode, NightshiftError } from '../core/errors.js';

export function quoteWord(word: string): string {
  if (word.includes('\0')) {
    throw new NightshiftError(
      ErrorCode.usage,
      'a command argument contains a NUL byte, which no process can receive',
    );
  }
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new NightshiftError(ErrorCode.internal, 'empty command');
  return argv.map(quoteWord).join(' ');
}

/**
 * A command as a person pastes it into a shell (messages and fixes, never run): words of safe characters
 * bare, every other word quoted as quoteWord does.
 */
export function shownArgv(argv: readonly string[]): string {
  return argv.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : quoteWord(w))).join(' ');
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkEnvName(key: string): string {
  if (!ENV_NAME.test(key)) {
    throw new NightshiftError(
      ErrorCode.invalidConfig,
      `not an environment variable name: ${JSON.stringify(key)}`,
    );
  }
  return key;
}

/**
 * `KEY='value'` lines for an env file the runner script sources. Keys must be plain names. With
 * `secretKeys` (names of entries whose values are secrets), a last line NIGHTSHIFT_SECRET_VARS='A B'
 * tells the runner which values to redact from the executor's output (names only: the values stay in
 * the environment, out of every argv).
 */
export function envFileText(
  env: Readonly<Record<string, string>>,
  secretKeys: readonly string[] = [],
): string {
  const lines = Object.entries(env).map(([key, value]) => `${checkEnvName(key)}=${quoteWord(value)}\n`);
  const names = [...new Set(secretKeys)].map(checkEnvName);
  if (names.length > 0) lines.push(`NIGHTSHIFT_SECRET_VARS=${quoteWord(names.join(' '))}\n`);
  return lines.join('');
}
