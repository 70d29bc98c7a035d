/**
 * The failures a profile can read from an executor's output. Who is charged and whether the task is
 * tried again come from the one failure table, src/core/failures.ts (FAILURE_RULES): a profile only
 * names the code, so its attribution can never disagree with the daemon's.
 */
import { ruleFor, type FailureCode } from '../core/failures.js';
import type { OutputReading, RunFacts } from './types.js';

/** The codes profiles produce (a subset of the core table: a renamed code fails to compile here). */
export const PROVIDER_FAILURE_CODES = [
  /** 401/403 (bad or expired credential) or 404 (wrong base URL or model id). */
  'auth',
  /** 429, quota or balance exhausted. */
  'rate-limit',
  /** 529 / overloaded_error. */
  'overloaded',
  /** Other 5xx, or the endpoint could not be reached. */
  'server-error',
  /** The executor finished without an answer (empty or missing result). */
  'empty-output',
  /** The agent reported an error nothing more precise matches. */
  'agent-error',
  /** The executor exited non-zero with nothing recognisable in its output (an executor crash). */
  'exit-nonzero',
  /** An `exit-nonzero` within the provider's crashWindow, with no commits and almost no output. */
  'crash-on-start',
  /** The agent used up its turn budget: the task is probably too big for one attempt. */
  'max-turns',
] as const satisfies readonly FailureCode[];

export type ProviderFailureCode = (typeof PROVIDER_FAILURE_CODES)[number];
export type Failure = NonNullable<OutputReading['failure']>;

export function failure(code: ProviderFailureCode, reason: string): Failure {
  return { code, attribution: ruleFor(code).attribution, reason };
}

/**
 * Whether trying the *same provider* again, with nobody changing anything, can succeed. Only `auth`
 * cannot: a refused key, a wrong model id or base URL stays wrong until someone fixes the config, so
 * the breaker should stay open rather than burn probes (the task itself may still go elsewhere).
 */
export function providerCanRecover(code: FailureCode): boolean {
  return code !== 'auth';
}

const AUTH_TEXT =
  /unauthori[sz]ed|forbidden|authentication|invalid (x-)?api[ _-]?key|incorrect api key|not logged in|invalid[_ ]token|permission denied/i;
const RATE_TEXT = /rate[ _-]?limit|quota|too many requests|insufficient (balance|credit|funds)/i;
const OVERLOADED_TEXT = /overloaded/i;
const SERVER_TEXT =
  /\b5\d\d\b|internal server error|bad gateway|service unavailable|econnrefused|connection (refused|error)/i;
const NOT_FOUND_TEXT = /model[^.\n]{0,40}(not (exist|found)|does not exist)|not_found_error/i;

/** The HTTP status a failure text or field most likely means, or null. A number in the text wins. */
export function statusOf(status: unknown, text: string): number | null {
  if (typeof status === 'number' && status >= 400) return status;
  const explicit = /\b(40[134]|429|5\d\d)\b/.exec(text);
  if (explicit) return Number(explicit[1]);
  if (AUTH_TEXT.test(text)) return /forbidden/i.test(text) ? 403 : 401;
  if (NOT_FOUND_TEXT.test(text)) return 404;
  if (RATE_TEXT.test(text)) return 429;
  if (OVERLOADED_TEXT.test(text)) return 529;
  if (SERVER_TEXT.test(text)) return 503;
  return null;
}

/** A short human reason for a status, the same words in probes and run failures. */
export function statusReason(status: number): string {
  if (status === 401 || status === 403) return `authentication failed (${status})`;
  if (status === 404) return 'model or endpoint not found (404)';
  if (status === 429) return 'rate limited or out of quota (429)';
  if (status === 529) return 'provider overloaded (529)';
  if (status >= 500) return `provider server error (${status})`;
  return `request rejected (${status})`;
}

export function codeForStatus(status: number): ProviderFailureCode {
  if (status === 401 || status === 403 || status === 404) return 'auth';
  if (status === 429) return 'rate-limit';
  if (status === 529) return 'overloaded';
  if (status >= 500) return 'server-error';
  return 'agent-error';
}

/** Classifies an error (status field and/or text); null when nothing is recognised. */
export function classify(status: unknown, text: string): Failure | null {
  const s = statusOf(status, text);
  if (s === null) return null;
  const detail = oneLine(text);
  return failure(codeForStatus(s), detail ? `${statusReason(s)}: ${detail}` : statusReason(s));
}

/** First 200 characters of a text, on one line. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The last non-empty line of a text (for "exited 1: …" reasons). */
export function lastLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim());
  return oneLine(lines.at(-1) ?? '');
}

/** The default `crashWindow` (config: providers.<name>.crashWindow). */
export const DEFAULT_CRASH_WINDOW_MS = 10_000;
/** "Almost no output": at most this many bytes of log (a one-screen error or stack trace). */
export const CRASH_OUTPUT_MAX_BYTES = 2048;

/** "exited 139 (signal 11)": the shell reports death by signal N as 128+N. */
export function exitText(exitCode: number): string {
  return exitCode > 128 && exitCode < 160 ? `${exitCode} (signal ${exitCode - 128})` : String(exitCode);
}

/**
 * The crash-on-start rule, shared by every profile: a non-zero exit (or death by a signal) within
 * `windowMs` of the start, having made no commit and printed almost nothing, is the agent CLI failing
 * to start (a missing binary, a broken install, flags it rejects) — a `provider` failure that feeds
 * the breaker — not the spec's work going wrong. Only a reading that found nothing more precise
 * (no failure, `exit-nonzero`, or `empty-output` with a non-zero exit) is reclassified; a recognised
 * cause (auth, rate limit…) stands, and unknown facts (an older runner's record) change nothing.
 */
export function crashOnStart(
  reading: OutputReading,
  log: string,
  run: RunFacts,
  windowMs: number,
): OutputReading {
  const code = reading.failure?.code ?? null;
  // empty-output too: Claude Code reads a crash before any result line as "no result line".
  const unexplained = code === null || code === 'exit-nonzero' || code === 'empty-output';
  if (
    run.exitCode === 0 ||
    !unexplained ||
    run.durationMs === null ||
    run.durationMs > windowMs ||
    run.committed !== false ||
    Buffer.byteLength(log.trim()) > CRASH_OUTPUT_MAX_BYTES
  )
    return reading;
  const seconds = Math.max(0, Math.round(run.durationMs / 1000));
  const detail = lastLine(log);
  return {
    ...reading,
    completed: false,
    failure: failure(
      'crash-on-start',
      `exited ${exitText(run.exitCode)} ${seconds} s after start, with no commit and almost no output${detail ? `: ${detail}` : ''}`,
    ),
  };
}
