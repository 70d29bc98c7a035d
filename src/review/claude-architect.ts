/**
 * The claude-code architect's general call (docs/architect.md, "claude-code"): one headless Claude Code
 * session in `cwd` (for a review, the isolated gate checkout), read-only tools plus the Bash commands the
 * caller allows, an answer validated with a zod schema. The answer comes through the CLI's structured
 * output (`--json-schema`: a StructuredOutput tool), else a final fenced JSON block; an unusable one gets
 * one repair round in the same session, asking for just the JSON. A later call may resume the session
 * (`resume`), so it remembers what it said before. Reviews use it (claude-review.ts); `plan` can too.
 *
 * Every failure is typed and charged to the supervisor: a missing CLI, a dead endpoint, a timeout or an
 * unusable answer is never the branch's fault and never an approval.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { makeRedactor } from '../lib/redact.js';
import type { ArchitectSessions } from './architect-tmux.js';
import { pickCredential, missingCredential, type ArchitectConfig, type Env } from './architect-credential.js';
import {
  BASH_ENV_TEXT,
  addUsage,
  architectArgv,
  architectEnv,
  lastJsonBlock,
  readCliOutput,
  type Usage,
} from './claude-architect-cli.js';

export type { Usage } from './claude-architect-cli.js';

/**
 * Why a call gave no value: each is the supervisor's (or its endpoint's), never the branch's. `stopped`:
 * the daemon stopped the session (nobody's fault; nothing to record).
 */
export type ClaudeArchitectFailureCode =
  'no-credential' | 'cli-missing' | 'endpoint' | 'timeout' | 'unusable' | 'stopped';

export type ClaudeArchitectResult<T> =
  | { ok: true; value: T; sessionId: string; usage: Usage | null; denials: string[] }
  | {
      ok: false;
      code: ClaudeArchitectFailureCode;
      reason: string;
      attribution: 'supervisor';
      /** The session, when one started: a later call may still resume it. */
      sessionId: string | null;
      usage: Usage | null;
    };

export interface ClaudeArchitectOptions<T> {
  /** Where the session runs and what its tools see: the isolated checkout for a review. */
  cwd: string;
  prompt: string;
  /** Validates the answer; its JSON Schema (z.toJSONSchema, or `jsonSchema`) goes to `--json-schema`. */
  schema: z.ZodType<T>;
  /** The JSON Schema to send, when the zod schema's own is not the one to show the model. */
  jsonSchema?: object;
  /** Beyond Read, Grep and Glob: `Bash(<gate command>:*)` patterns. Every other tool call is refused. */
  allowedTools: readonly string[];
  /** Continue this session (a later review round) instead of starting a new one. */
  resume?: string;
  /** nightshift's instructions, appended to Claude Code's system prompt. */
  systemPrompt?: string;
  config: ArchitectConfig;
  env: Env;
  /** paths.architectDir: the CLI's config and sessions, and the Bash environment file. */
  architectDir: string;
  /** The tmux session's name (architectSessionName). */
  session: string;
  sessions: ArchitectSessions;
  /** One line per run and failure; never holds the credential. */
  log?: (line: string) => void;
  /** Whether the supervisor runs as root (Claude Code then needs IS_SANDBOX=1). */
  root?: boolean;
}

const fail = <T>(
  code: ClaudeArchitectFailureCode,
  reason: string,
  sessionId: string | null,
  usage: Usage | null,
): ClaudeArchitectResult<T> => ({ ok: false, code, reason, attribution: 'supervisor', sessionId, usage });

/** The note of the repair round: what was wrong, and to answer with the JSON alone. */
export function repairPrompt(problem: string): string {
  return (
    `Your last answer could not be used: ${problem}.\n` +
    'Do not explore any further. Answer now with exactly the JSON object the schema asks for: call the ' +
    'StructuredOutput tool once with it (or, if you cannot, end with one fenced ```json block holding it ' +
    'and nothing else).'
  );
}

/** The value in a run's answer, or what is wrong with it. */
export function answerValue<T>(
  schema: z.ZodType<T>,
  structured: unknown,
  text: string,
): { ok: true; value: T } | { ok: false; problem: string } {
  let candidate: unknown = structured;
  if (candidate === undefined || candidate === null) {
    const block = lastJsonBlock(text);
    if (!block.ok) return { ok: false, problem: block.problem };
    candidate = block.value;
  }
  const parsed = schema.safeParse(candidate);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'answer'}: ${i.message}`);
  return { ok: false, problem: `the answer does not match its schema: ${issues.join('; ')}` };
}

/**
 * Runs the architect's session and returns its validated answer, or a typed failure. Never throws for
 * anything the CLI or the endpoint does; the credential is passed as an environment variable through a
 * 0600 file and removed from every reason and log line.
 */
export async function askClaudeArchitect<T>(
  opts: ClaudeArchitectOptions<T>,
): Promise<ClaudeArchitectResult<T>> {
  const credential = pickCredential(opts.config, opts.env);
  if (!credential) return fail('no-credential', missingCredential(opts.config), null, null);
  const redact = makeRedactor([credential.value]);
  const log = (line: string) => opts.log?.(redact(line));
  const timeoutMs = Math.min(parseDuration(opts.config.timeout) ?? 5 * 60_000, 2 ** 31 - 1);
  const { env } = architectEnv({
    config: opts.config,
    credential,
    env: opts.env,
    architectDir: opts.architectDir,
    timeoutMs,
    root: opts.root ?? false,
  });
  mkdirSync(opts.architectDir, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(opts.architectDir, 'bash-env.sh'), BASH_ENV_TEXT, { mode: 0o600 });
  const jsonSchema = opts.jsonSchema ?? z.toJSONSchema(opts.schema, { io: 'input' });
  let sessionId = opts.resume ?? randomUUID();
  let resume = opts.resume !== undefined;
  let usage: Usage | null = null;
  let problem = '';
  const denials: string[] = [];
  for (let run = 1; run <= 2; run++) {
    const argv = architectArgv({
      cli: opts.config.cli,
      model: opts.config.model,
      jsonSchema,
      allowedTools: opts.allowedTools,
      maxTurns: opts.config.maxTurns,
      session: resume ? { kind: 'resume', id: sessionId } : { kind: 'new', id: sessionId },
      ...(opts.systemPrompt ? { systemPrompt: opts.systemPrompt } : {}),
    });
    log(
      `${run === 1 ? 'asking' : 'repair: asking'} ${opts.config.model} at ${env['ANTHROPIC_BASE_URL']} in ` +
        `session ${opts.session} (${resume ? 'resuming' : 'new'} ${sessionId}; in ${opts.cwd})`,
    );
    const out = await opts.sessions.run({
      session: opts.session,
      cwd: opts.cwd,
      argv,
      env,
      prompt: run === 1 ? opts.prompt : repairPrompt(problem),
      timeoutMs,
    });
    if (out.stopped) return fail('stopped', 'the architect session was stopped', sessionId, usage);
    if (out.timedOut) {
      const reason = `architect did not answer within ${opts.config.timeout} (architect.timeout)`;
      log(`failed: ${reason}`);
      return fail('timeout', reason, sessionId, usage);
    }
    const read = readCliOutput(out.output, out.exitCode);
    if (!read.ok) {
      const reason = redact(
        read.kind === 'cli-missing'
          ? `the architect's CLI ${JSON.stringify(opts.config.cli)} did not run (${read.reason}): install Claude Code or set architect.cli`
          : `architect session failed at ${env['ANTHROPIC_BASE_URL']}: ${read.reason}`,
      );
      log(`failed: ${reason}`);
      return fail(read.kind === 'cli-missing' ? 'cli-missing' : 'endpoint', reason, read.sessionId, usage);
    }
    usage = addUsage(usage, read.usage);
    denials.push(...read.denials);
    if (read.sessionId) sessionId = read.sessionId;
    resume = true;
    if (read.denials.length) log(`refused ${read.denials.length} tool call(s): ${read.denials.join('; ')}`);
    const value = read.maxTurns
      ? {
          ok: false as const,
          problem: `the session stopped at the turn limit (${opts.config.maxTurns}) without an answer`,
        }
      : answerValue(opts.schema, read.structured, read.text);
    if (value.ok) {
      log(
        `answered in session ${sessionId}` +
          (usage ? ` (${usage.inputTokens} in / ${usage.outputTokens} out tokens)` : ''),
      );
      return { ok: true, value: value.value, sessionId, usage, denials };
    }
    problem = redact(value.problem);
    log(
      `unusable answer (run ${run} of 2): ${problem}${run === 1 ? '; asking once more in the same session' : ''}`,
    );
  }
  return fail('unusable', `architect gave no valid answer in 2 runs: ${problem}`, sessionId, usage);
}
