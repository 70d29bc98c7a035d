/**
 * The claude-code architect's command line, as pure functions (docs/architect.md, "claude-code"): the
 * argv (`claude -p --bare …` with read-only tools, Bash limited to the gate commands, structured output
 * through `--json-schema`), its environment (the endpoint and credential as variables, never argv), the
 * Bash patterns built from the configured gate commands, and the reading of the CLI's stream-json output.
 */
import path from 'node:path';
import type { Config } from '../config/schema.js';
import type { Credential } from './architect-credential.js';

import { MODEL_SLOTS } from '../providers/claude-code.js';
import type { Usage } from '../core/usage.js';

export type { Usage };

/** The tools the architect may use without asking: reading only. */
export const READ_TOOLS = ['Read', 'Grep', 'Glob'] as const;
/** Denied by name whatever else allows them: nothing that writes, fetches or starts another agent. */
export const DENIED_TOOLS = [
  'Write',
  'Edit',
  'MultiEdit',
  'NotebookEdit',
  'WebFetch',
  'WebSearch',
  'Task',
  'Agent',
] as const;

/** A command the Bash patterns can hold: no parentheses (they end the pattern), no newline. */
const PATTERN_SAFE = /^[^()\n\r]+$/;
const PLAIN_WORD = /^[A-Za-z0-9_./=:@%+,-]+$/;

/**
 * `Bash(<cmd>)` and `Bash(<cmd>:*)` for each enabled gate command (`gates.tests.command`,
 * `gates.lint.command`): the only Bash the architect may run, exactly these commands or these commands
 * followed by more arguments. An argv command is spelled with plain words only; a command the pattern
 * syntax cannot hold is left out (and named in `skipped`).
 */
export function gateBashPatterns(gates: Config['gates']): { patterns: string[]; skipped: string[] } {
  const patterns: string[] = [];
  const skipped: string[] = [];
  for (const gate of [gates.tests, gates.lint]) {
    if (!gate?.enabled) continue;
    const cmd = typeof gate.command === 'string' ? gate.command.trim() : spell(gate.command);
    if (cmd === null || !PATTERN_SAFE.test(cmd)) {
      skipped.push(typeof gate.command === 'string' ? gate.command : gate.command.join(' '));
      continue;
    }
    patterns.push(`Bash(${cmd})`, `Bash(${cmd}:*)`);
  }
  return { patterns: [...new Set(patterns)], skipped };
}

/** An argv as a shell would be typed, when every word is plain; null otherwise. */
function spell(argv: readonly string[]): string | null {
  return argv.every((w) => PLAIN_WORD.test(w)) ? argv.join(' ') : null;
}

export interface ArchitectArgvOptions {
  cli: string;
  model: string;
  /** The JSON Schema of the answer (`--json-schema`): the CLI adds a StructuredOutput tool for it. */
  jsonSchema: object;
  /** Tools allowed without asking, beyond READ_TOOLS (`Bash(npm test:*)`). */
  allowedTools: readonly string[];
  maxTurns: number;
  /** A new session's id, or the session to continue. */
  session: { kind: 'new'; id: string } | { kind: 'resume'; id: string };
  /** nightshift's instructions, appended to Claude Code's system prompt. */
  systemPrompt?: string;
}

/**
 * The argv. The prompt is not in it: it goes on stdin (an argv word has a size limit, and a prompt
 * starting with "-" would be read as an option). `--permission-mode dontAsk` refuses every tool call
 * that `--allowedTools` does not allow, without asking anyone.
 */
export function architectArgv(o: ArchitectArgvOptions): string[] {
  const bash = o.allowedTools.some((t) => t.startsWith('Bash('));
  return [
    o.cli,
    '-p',
    '--bare',
    '--setting-sources',
    '',
    '--strict-mcp-config',
    '--output-format',
    'stream-json',
    '--verbose',
    '--tools',
    [...READ_TOOLS, ...(bash ? ['Bash'] : [])].join(','),
    '--permission-mode',
    'dontAsk',
    '--allowedTools',
    [...READ_TOOLS, ...o.allowedTools].join(','),
    '--disallowedTools',
    DENIED_TOOLS.join(','),
    '--json-schema',
    JSON.stringify(o.jsonSchema),
    '--max-turns',
    String(o.maxTurns),
    ...(o.session.kind === 'resume' ? ['--resume', o.session.id] : ['--session-id', o.session.id]),
    '--model',
    o.model,
    ...(o.systemPrompt ? ['--append-system-prompt', o.systemPrompt] : []),
  ];
}

export const DEFAULT_BASE_URL = 'https://api.anthropic.com';

/**
 * The whole environment of the CLI, as executors get theirs (providers/claude-code.ts): nothing of the
 * supervisor's but PATH and HOME; the endpoint and the one credential as the variables Claude Code
 * reads; every model slot set to the configured model; Claude Code's state in the architect's own
 * directory. `secretKeys` names the entries that hold secrets.
 */
export function architectEnv(o: {
  config: Config['architect'];
  credential: Credential;
  env: Readonly<Record<string, string | undefined>>;
  architectDir: string;
  timeoutMs: number;
  root: boolean;
}): { env: Record<string, string>; secretKeys: string[] } {
  const key = o.credential.kind === 'apiKey' ? 'ANTHROPIC_API_KEY' : 'ANTHROPIC_AUTH_TOKEN';
  const env: Record<string, string> = {
    PATH: o.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: o.env['HOME'] ?? '/',
    LANG: 'C.UTF-8',
    CLAUDE_CONFIG_DIR: path.join(o.architectDir, 'claude'),
    ANTHROPIC_BASE_URL: o.config.baseURL ?? DEFAULT_BASE_URL,
    [key]: o.credential.value,
    ...Object.fromEntries(MODEL_SLOTS.map((k) => [k, o.config.model])),
    API_TIMEOUT_MS: String(o.timeoutMs),
    CLAUDE_CODE_MAX_RETRIES: '2',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    // Sourced before each Bash command: the gate commands never see the credential.
    CLAUDE_ENV_FILE: path.join(o.architectDir, 'bash-env.sh'),
    ...(o.root ? { IS_SANDBOX: '1' } : {}),
  };
  return { env, secretKeys: [key] };
}

/** The file CLAUDE_ENV_FILE names: the credential variables removed from every Bash command's environment. */
export const BASH_ENV_TEXT = 'unset ANTHROPIC_API_KEY ANTHROPIC_AUTH_TOKEN\n';

/** What one CLI run left: its result, or why there is none. */
export type CliReading =
  | {
      ok: true;
      sessionId: string | null;
      /** `structured_output`, when the model called StructuredOutput. */
      structured: unknown;
      text: string;
      usage: Usage | null;
      /** Tool calls the CLI refused (`permission_denials`), as "Tool: input" lines. */
      denials: string[];
      /** `error_max_turns`: the session ended at the turn limit, with no answer. */
      maxTurns: boolean;
    }
  | { ok: false; kind: 'cli-missing' | 'endpoint' | 'no-result'; reason: string; sessionId: string | null };

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function jsonLines(log: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of log.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const v: unknown = JSON.parse(t);
      if (v && typeof v === 'object' && !Array.isArray(v)) out.push(v as Record<string, unknown>);
    } catch {
      // Not JSON: a line of stderr.
    }
  }
  return out;
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const oneLine = (s: string, max = 300) => s.replace(/\s+/g, ' ').trim().slice(0, max);

/**
 * Reads the CLI's output (stream-json lines, stderr mixed in) and its exit code. A missing binary
 * (exit 126/127 with no JSON) and an error result (`is_error`) are nightshift's or the endpoint's
 * fault, never the branch's.
 */
export function readCliOutput(log: string, exitCode: number | null): CliReading {
  const objects = jsonLines(log);
  const result = [...objects].reverse().find((o) => o['type'] === 'result') ?? null;
  const init = objects.find((o) => o['type'] === 'system' && o['subtype'] === 'init');
  const sid = [result, init].map((o) => str(o?.['session_id'])).find((s) => SESSION_ID.test(s)) ?? null;
  const plain = log
    .split('\n')
    .filter((l) => !l.trim().startsWith('{') && l.trim())
    .join('\n');
  if (!result) {
    if (objects.length === 0 && (exitCode === 127 || exitCode === 126)) {
      return { ok: false, kind: 'cli-missing', reason: oneLine(plain) || `exit ${exitCode}`, sessionId: sid };
    }
    const retry = [...objects].reverse().find((o) => o['type'] === 'system' && o['subtype'] === 'api_retry');
    const why = retry
      ? `the endpoint answered ${num(retry['error_status']) || 'an error'} (${oneLine(str(retry['error']))})`
      : oneLine(plain.split('\n').slice(-3).join(' ')) || 'no output';
    return {
      ok: false,
      kind: 'no-result',
      reason: `no result (exit ${exitCode ?? '?'}): ${why}`,
      sessionId: sid,
    };
  }
  const text = str(result['result']);
  if (result['is_error'] === true && result['subtype'] !== 'error_max_turns') {
    const status = result['api_error_status'];
    return {
      ok: false,
      kind: 'endpoint',
      reason: `${typeof status === 'number' ? `HTTP ${status}: ` : ''}${oneLine(text) || str(result['subtype']) || 'error'}`,
      sessionId: sid,
    };
  }
  const u = result['usage'] as Record<string, unknown> | undefined;
  const usage: Usage | null = u
    ? {
        inputTokens:
          num(u['input_tokens']) + num(u['cache_creation_input_tokens']) + num(u['cache_read_input_tokens']),
        outputTokens: num(u['output_tokens']),
        costUsd: typeof result['total_cost_usd'] === 'number' ? result['total_cost_usd'] : null,
      }
    : null;
  const denials = Array.isArray(result['permission_denials'])
    ? (result['permission_denials'] as Record<string, unknown>[]).map(
        (d) => `${str(d['tool_name'])}: ${oneLine(JSON.stringify(d['tool_input'] ?? null), 200)}`,
      )
    : [];
  return {
    ok: true,
    sessionId: sid,
    structured: result['structured_output'],
    text,
    usage,
    denials,
    maxTurns: result['subtype'] === 'error_max_turns',
  };
}

/** The last fenced ```json block of a text (the fallback when there is no structured output), parsed. */
export function lastJsonBlock(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  const blocks = [...text.matchAll(/```(?:json)?[ \t]*\n([\s\S]*?)\n```/g)];
  const last = blocks.at(-1)?.[1];
  if (last === undefined) return { ok: false, problem: 'no StructuredOutput call and no fenced JSON block' };
  try {
    return { ok: true, value: JSON.parse(last) };
  } catch (e) {
    return { ok: false, problem: `the fenced JSON block is not valid JSON (${(e as Error).message})` };
  }
}

export const addUsage = (a: Usage | null, b: Usage | null): Usage | null =>
  !b
    ? a
    : {
        inputTokens: (a?.inputTokens ?? 0) + b.inputTokens,
        outputTokens: (a?.outputTokens ?? 0) + b.outputTokens,
        costUsd: a?.costUsd == null && b.costUsd == null ? null : (a?.costUsd ?? 0) + (b.costUsd ?? 0),
      };
