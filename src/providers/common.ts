/** Helpers shared by the profiles: prompts, env layering, JSON-lines parsing, probe verdicts. */
import { randomBytes } from 'node:crypto';
import { ErrorCode, NightshiftError, type ErrorContext } from '../core/errors.js';
import type { ProviderConfig } from '../config/schema.js';
import { lastLine, oneLine, statusOf, statusReason } from './failures.js';
import {
  PROMPT_FILE_TOKEN,
  PROMPT_TOKEN,
  type ExecutorCommand,
  type ProbeResultInput,
  type ProbeVerdict,
} from './types.js';

/** The probe's prompt. Every profile asks the same question. */
export function probePrompt(nonce: string): string {
  return `Reply with exactly: ${nonce}`;
}

/** A fresh probe nonce: short, unguessable, no characters a shell or model would mangle. */
export function newNonce(): string {
  return `ns-probe-${randomBytes(6).toString('hex')}`;
}

/**
 * The executor environment: `base` defaults, then the operator's `env`, then the secrets, then what the
 * profile must control (`fixed`). Nothing from the supervisor's own environment leaks in.
 */
export function layerEnv(
  cfg: ProviderConfig,
  secrets: Record<string, string>,
  base: Record<string, string>,
  fixed: Record<string, string>,
): { env: Record<string, string>; secretKeys: string[] } {
  const env: Record<string, string> = { ...base, ...cfg.env, ...secrets, ...fixed };
  const secretKeys = Object.keys(secrets)
    .filter((k) => env[k] === secrets[k])
    .sort();
  return { env, secretKeys };
}

/** Replaces whole-word prompt tokens in an argv (what the runner script does on the host). */
export function substitutePrompt(argv: readonly string[], prompt: string, promptFile: string): string[] {
  return argv.map((w) => (w === PROMPT_TOKEN ? prompt : w === PROMPT_FILE_TOKEN ? promptFile : w));
}

/**
 * The longest prompt that fits in one argv word: Linux caps each exec argument at MAX_ARG_STRLEN
 * (32 pages = 128 KiB, its terminating NUL included). Specs may be up to 1 MiB (spec/parse.ts).
 */
export const PROMPT_ARG_MAX_BYTES = 128 * 1024 - 1;

/** A prompt that no input of this executor can take: refused at dispatch, before any host is touched. */
export class PromptTooLargeError extends NightshiftError {
  override readonly name = 'PromptTooLargeError';
  constructor(message: string, context: ErrorContext = {}) {
    super(ErrorCode.promptTooLarge, message, context);
  }
}

/**
 * The argv and stdin a run uses for `prompt`: as built when the prompt fits in one argv word (or the
 * command takes no PROMPT_TOKEN), else the profile's `largePrompt` form (its file or stdin input).
 * Without one, refuses with an error naming the task, the provider and the limit — never a silent
 * truncation, nor an exec that fails with E2BIG and reads as the executor's crash.
 */
export function fitPrompt(
  cmd: ExecutorCommand,
  prompt: string,
  who: { taskId: string; provider: string },
): { argv: string[]; stdin: 'null' | 'prompt' } {
  const bytes = Buffer.byteLength(prompt);
  if (!cmd.argv.includes(PROMPT_TOKEN) || bytes <= PROMPT_ARG_MAX_BYTES)
    return { argv: cmd.argv, stdin: cmd.stdin };
  if (cmd.largePrompt) return cmd.largePrompt;
  throw new PromptTooLargeError(
    `the prompt is ${bytes} bytes, and this provider takes it as one argv word, which Linux limits to ${PROMPT_ARG_MAX_BYTES} bytes`,
    {
      taskId: who.taskId,
      provider: who.provider,
      hint: `shorten the spec, or give the provider's command ${PROMPT_FILE_TOKEN} (or no prompt token: the prompt then arrives on stdin)`,
    },
  );
}

/** Tokens must be whole argv words: the runner replaces words, never substrings. */
export function checkTokens(argv: readonly string[], provider: string): void {
  for (const word of argv) {
    if (
      word !== PROMPT_TOKEN &&
      word !== PROMPT_FILE_TOKEN &&
      (word.includes(PROMPT_TOKEN) || word.includes(PROMPT_FILE_TOKEN))
    ) {
      throw new NightshiftError(
        ErrorCode.invalidConfig,
        `prompt token inside the argv word ${JSON.stringify(word)}`,
        {
          provider,
          field: 'command',
          hint: `put ${PROMPT_TOKEN} or ${PROMPT_FILE_TOKEN} in an argv element of its own`,
        },
      );
    }
  }
}

/**
 * Every JSON object in a log, in order: lines that are objects, and lines that are arrays of objects
 * (Claude Code's `--output-format json --verbose`), with stderr noise between them ignored.
 */
export function jsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    !!v && typeof v === 'object' && !Array.isArray(v);
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{') && !t.startsWith('[')) continue;
    try {
      const v: unknown = JSON.parse(t);
      if (isObject(v)) out.push(v);
      else if (Array.isArray(v)) out.push(...v.filter(isObject));
    } catch {
      // not a JSON line: stderr noise, a partial line at a kill
    }
  }
  return out;
}

/** JSON objects from a whole-document JSON answer (object or array, possibly pretty-printed) or lines. */
export function jsonObjects(text: string): Record<string, unknown>[] {
  const t = text.trim();
  if (t.startsWith('[') || t.startsWith('{')) {
    try {
      const v: unknown = JSON.parse(t);
      if (Array.isArray(v))
        return v.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object');
      if (v && typeof v === 'object') return [v as Record<string, unknown>];
    } catch {
      // fall through to lines
    }
  }
  return jsonLines(text);
}

export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
export const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
export const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

export function timeoutReason(result: ProbeResultInput): string {
  return result.timeoutMs
    ? `no answer within ${Math.round(result.timeoutMs / 1000)}s`
    : 'no answer before the probe timeout';
}

/** Removes lines that merely echo the probe prompt, so an echo is never taken for an answer. */
export function withoutEcho(text: string, nonce: string): string {
  const prompt = probePrompt(nonce);
  return text
    .split('\n')
    .filter((l) => !l.includes(prompt))
    .join('\n');
}

/**
 * The verdict for executors whose answer is plain text: exit 0 and the nonce in stdout (not in a line
 * that echoes the prompt). Failure reasons name what went wrong as precisely as the output allows.
 */
export function judgeText(result: ProbeResultInput, nonce: string): ProbeVerdict {
  if (result.timedOut) return { ok: false, reason: timeoutReason(result) };
  const answer = withoutEcho(result.stdout, nonce);
  if (result.exitCode !== 0) {
    const both = `${result.stderr}\n${result.stdout}`;
    const status = statusOf(null, both);
    const detail = lastLine(result.stderr) || lastLine(result.stdout);
    if (status !== null)
      return { ok: false, reason: `${statusReason(status)}${detail ? `: ${detail}` : ''}` };
    return { ok: false, reason: `exited ${result.exitCode}${detail ? `: ${detail}` : ''}` };
  }
  if (!answer.trim()) return { ok: false, reason: 'empty output' };
  if (answer.includes(nonce)) return { ok: true, reason: 'answered' };
  const status = statusOf(null, answer);
  if (status !== null) return { ok: false, reason: `${statusReason(status)}: ${lastLine(answer)}` };
  return { ok: false, reason: `answered without the nonce: ${oneLine(answer, 80)}` };
}
