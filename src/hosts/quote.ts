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

/** `KEY='value'` lines for an env file the runner script sources. Keys must be plain names. */
export function envFileText(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([key, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
        throw new NightshiftError(
          ErrorCode.invalidConfig,
          `not an environment variable name: ${JSON.stringify(key)}`,
        );
      }
      return `${key}=${quoteWord(value)}\n`;
    })
    .join('');
}
