/**
 * The architect: an LLM (through @anthropic-ai/sdk, any Anthropic-compatible endpoint) that grades a
 * branch against its spec with a forced `submit_verdict` tool call, validated with zod. A malformed or
 * missing verdict is asked for once more, then reported as a supervisor failure: it never approves by
 * default. Timeouts and retries are explicit and every retry is logged.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { ClientOptions } from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import { formatDuration, parseDuration } from '../core/duration.js';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import type { Review } from '../core/task.js';
import type { Usage as CallUsage } from '../core/usage.js';
import { makeRedactor, type Redactor } from '../lib/redact.js';
import { addUsage, fromMessage, fromStream } from './architect-answer.js';
import { loadSdk, type Sdk } from './sdk.js';
import {
  missingCredential,
  pickCredential,
  type ArchitectConfig,
  type Credential,
  type Env,
} from './architect-credential.js';
import {
  VERDICT_TOOL,
  VERDICT_TOOL_NAME,
  buildUserContent,
  clip,
  parseVerdict,
  retryNote,
  systemPrompt,
  type Answer,
  type ReviewInput,
  type Usage,
  type Verdict,
} from './architect-prompt.js';
import { FenceBreach, newNonce } from './fence.js';

export {
  GRADES,
  gradePoints,
  verdictSchema,
  type Finding,
  type Grade,
  type ReviewInput,
  type Usage,
  type Verdict,
} from './architect-prompt.js';

export {
  resolveArchitectMode,
  type ArchitectConfig,
  type ArchitectMode,
  type Env,
} from './architect-credential.js';

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Retries the client makes on 408/409/429/5xx/529 and connection errors (never on 401). */
export const MAX_RETRIES = 2;
/** Requests per review: the first, plus one more when the verdict was malformed or missing. */
const VERDICT_REQUESTS = 2;
const MAX_TOKENS = 8192;
/** The Messages API version third-party endpoints document (the 1.x SDK sends a newer one). */
const ANTHROPIC_VERSION = '2023-06-01';
const DEFAULT_BASE_URL = 'https://api.anthropic.com';

/**
 * A review's outcome, with the tokens its requests used (core/usage.ts's shape; the SDK reports no
 * cost, so `costUsd` is null and `architect.price` prices it when it is recorded).
 */
export type ReviewResult =
  | { ok: true; verdict: Verdict; usage: CallUsage | null }
  | { ok: false; reason: string; attribution: 'supervisor'; usage?: CallUsage | null };

const callUsage = (u: Usage | null): CallUsage | null => (u ? { ...u, costUsd: null } : null);

/** A review as the task record stores it. */
/** What wholeFiles needs of a repository: git/repo.ts's Repo. */
export interface FileSource {
  changedFiles(base: string, head: string): Promise<string[]>;
  show(ref: string, file: string): Promise<string | null>;
}

/**
 * The changed files' whole contents at `head`, for a small change: only when the diff has at most
 * `budget` characters (`architect.wholeFiles`; 0 sends none), and only as many files, in diff order, as
 * fit in that many characters together. Deleted and binary files are left out. The prompt builder still
 * fits them in `diffBudget` beside the diff.
 */
export async function wholeFiles(
  repo: FileSource,
  base: string,
  head: string,
  diffChars: number,
  budget: number,
): Promise<{ path: string; content: string }[]> {
  if (budget <= 0 || diffChars > budget) return [];
  const files: { path: string; content: string }[] = [];
  let room = budget;
  for (const file of await repo.changedFiles(base, head)) {
    const content = await repo.show(head, file);
    if (content === null || content.includes('\0') || content.length > room) continue;
    files.push({ path: file, content });
    room -= content.length;
  }
  return files;
}

export function toReview(v: Verdict): Review {
  return { ...v, approvedBy: v.verdict === 'approve' ? 'architect' : null };
}

const seconds = (ms: number) => (ms < 60_000 ? `${Number((ms / 1000).toFixed(1))}s` : formatDuration(ms));

/** What a caller may follow of a review while it runs. */
export interface ReviewWatch {
  /** Each piece of the answer as it arrives (streaming), or the whole answer at once (not streaming). */
  onText?: (piece: string) => void;
}

export interface ArchitectOptions {
  /** One line per event (request, retry, verdict, failure); never contains the credential. */
  log?: (line: string) => void;
  /** Replaces the global fetch (tests). */
  fetch?: Fetch;
  /** Use the streaming Messages API (SSE) instead of one JSON answer. */
  stream?: boolean;
  /** Draws each request's fence nonce (fence.ts); tests pass a known one. Default: 128 random bits. */
  nonce?: () => string;
}

/** An error's message with its cause's code (`fetch failed (ECONNREFUSED)`). */
function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
  const detail =
    typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  return detail && !e.message.includes(detail) ? `${e.message} (${detail})` : e.message;
}

/** Whether the SDK retries this response (its own rule: x-should-retry, then 408/409/429/5xx). */
function retryable(res: Response): boolean {
  const header = res.headers.get('x-should-retry');
  if (header === 'true' || header === 'false') return header === 'true';
  return [408, 409, 429].includes(res.status) || res.status >= 500;
}

export class Architect {
  readonly model: string;
  readonly baseURL: string;
  readonly timeoutMs: number;
  readonly diffBudget: number;
  private readonly credential: Credential;
  private readonly clientOptions: ClientOptions;
  /** The SDK's client, made at the first call (sdk.ts), with the SDK its errors are told apart by. */
  private client: Promise<{ client: Anthropic; sdk: Sdk }> | null = null;
  private sdk: Sdk | null = null;
  private readonly log: (line: string) => void;
  private readonly redact: Redactor;
  private readonly stream: boolean;
  private readonly nonce: () => string;

  /** Throws when no credential is set: call resolveArchitectMode first. */
  constructor(config: ArchitectConfig, env: Env, opts: ArchitectOptions = {}) {
    const credential = pickCredential(config, env);
    if (!credential) {
      throw new NightshiftError(ErrorCode.invalidConfig, missingCredential(config), {
        field: 'architect.apiKeyEnv',
      });
    }
    this.credential = credential;
    this.model = config.model;
    this.baseURL = config.baseURL ?? DEFAULT_BASE_URL;
    // One timer must hold it (setTimeout fires at once past 2^31-1 ms, about 24 days).
    this.timeoutMs = Math.min(parseDuration(config.timeout) ?? 5 * 60_000, 2 ** 31 - 1);
    this.diffBudget = config.diffBudget;
    this.stream = opts.stream ?? false;
    this.nonce = opts.nonce ?? newNonce;
    this.redact = makeRedactor([credential.value]);
    const log = opts.log ?? (() => {});
    this.log = (line) => log(this.redact(line));
    const sdkLog = (level: string) => (message: string) => this.log(`sdk ${level}: ${message}`);
    this.clientOptions = {
      // Exactly one credential, explicitly: the 1.x client otherwise looks in the environment and on disk.
      ...(credential.kind === 'apiKey' ? { apiKey: credential.value } : { authToken: credential.value }),
      baseURL: this.baseURL,
      timeout: this.timeoutMs,
      maxRetries: MAX_RETRIES,
      // The scheme third-party endpoints document: x-api-key for keys (1.x sends keys as Bearer).
      defaultHeaders: {
        'anthropic-version': ANTHROPIC_VERSION,
        ...(credential.kind === 'apiKey' ? { 'x-api-key': credential.value, authorization: null } : {}),
      },
      fetch: this.observe(opts.fetch ?? ((input, init) => globalThis.fetch(input, init))),
      logLevel: 'warn',
      logger: { error: sdkLog('error'), warn: sdkLog('warn'), info: () => {}, debug: () => {} },
    };
  }

  private connect(): Promise<{ client: Anthropic; sdk: Sdk }> {
    return (this.client ??= loadSdk().then((sdk) => {
      this.sdk = sdk;
      return { client: new sdk.default(this.clientOptions), sdk };
    }));
  }

  /**
   * Grades a change. Never throws; a failure is the supervisor's and never an approval. Each request
   * draws a new fence nonce; content that holds it is refused before anything is sent.
   */
  async review(input: ReviewInput, watch: ReviewWatch = {}): Promise<ReviewResult> {
    let usage: Usage | null = null;
    let problem = '';
    for (let request = 1; request <= VERDICT_REQUESTS; request++) {
      const nonce = this.nonce();
      let content: ReturnType<typeof buildUserContent>;
      let text: string;
      try {
        content = buildUserContent(input, this.diffBudget, nonce);
        text = request === 1 ? content.text : content.text + retryNote(problem, nonce);
      } catch (e) {
        if (!(e instanceof FenceBreach)) throw e;
        const reason = `architect not asked: ${e.message}`;
        this.log(`refused: ${reason}`);
        return { ok: false, reason, attribution: 'supervisor' };
      }
      if (request === 1) {
        const trimmed = content.diff.cuts.length
          ? `, trimmed to ${content.diff.text.length} of ${content.diff.totalChars}`
          : '';
        this.log(
          `asking ${this.model} at ${this.baseURL} to review "${clip(input.title, 80)}" (round ${input.round + 1}; ` +
            `diff ${content.diff.totalChars} chars${trimmed}; ${content.files.length} whole files; timeout ${seconds(this.timeoutMs)})`,
        );
      }
      const started = performance.now();
      const sent = await this.send(text, nonce, watch.onText);
      if (!sent.ok) {
        this.log(`failed: ${sent.reason}`);
        return { ok: false, reason: sent.reason, attribution: 'supervisor' };
      }
      const u = sent.answer.usage;
      if (u) usage = addUsage(usage, u);
      const parsed = parseVerdict(sent.answer);
      const took = seconds(performance.now() - started);
      if (parsed.ok) {
        const v = parsed.verdict;
        this.log(
          `verdict ${v.verdict} (${v.grade}, ${v.findings.length} finding${v.findings.length === 1 ? '' : 's'}) in ${took}` +
            (u ? `, ${u.inputTokens} in / ${u.outputTokens} out tokens` : ''),
        );
        return { ok: true, verdict: v, usage: callUsage(usage) };
      }
      problem = this.redact(parsed.problem);
      this.log(
        `unusable verdict (request ${request} of ${VERDICT_REQUESTS}, ${took}): ${problem}` +
          (request < VERDICT_REQUESTS ? '; asking once more' : ''),
      );
    }
    const reason = `architect gave no valid verdict in ${VERDICT_REQUESTS} requests: ${problem}`;
    return { ok: false, reason, attribution: 'supervisor', usage: callUsage(usage) };
  }

  /** One review request. */
  private send(
    text: string,
    nonce: string,
    onText?: (piece: string) => void,
  ): Promise<{ ok: true; answer: Answer } | { ok: false; reason: string }> {
    return this.call(
      {
        model: this.model,
        max_tokens: MAX_TOKENS,
        system: systemPrompt(nonce),
        messages: [{ role: 'user', content: text }],
        tools: [VERDICT_TOOL],
        tool_choice: { type: 'tool', name: VERDICT_TOOL_NAME },
      },
      onText,
    );
  }

  /**
   * A short free-text answer (the triage note, src/daemon/triage.ts): one Messages call under the same
   * client, credential, deadline and error wording as a review. Never throws.
   */
  async note(
    system: string,
    text: string,
    maxTokens: number,
  ): Promise<{ ok: true; text: string; usage: Usage | null } | { ok: false; reason: string }> {
    const sent = await this.call({
      model: this.model,
      max_tokens: maxTokens,
      system,
      messages: [{ role: 'user', content: text }],
    });
    if (!sent.ok) return sent;
    return { ok: true, text: this.redact(sent.answer.text), usage: sent.answer.usage };
  }

  /** One Messages call (the SDK's retries included) under one deadline of `timeout`. */
  private async call(
    body: MessageCreateParamsNonStreaming,
    onText?: (piece: string) => void,
  ): Promise<{ ok: true; answer: Answer } | { ok: false; reason: string }> {
    // The SDK's timeout covers one attempt until the headers arrive; this deadline covers the whole call,
    // retries and a stalled body included. A call that hits it is not retried.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.timeoutMs);
    const signal = deadline.signal;
    try {
      // The raw event stream, not the SDK's MessageStream helper: that one parses the tool's JSON itself at
      // content_block_stop and throws on a malformed one, which must reach parseVerdict (and its retry).
      const { client } = await this.connect();
      const answer = this.stream
        ? await fromStream(await client.messages.create({ ...body, stream: true }, { signal }), onText)
        : fromMessage(await client.messages.create(body, { signal }));
      if (!this.stream && onText)
        onText(answer.tools.map((t) => JSON.stringify(t.input)).join('') + answer.text);
      // A stream cut by the deadline ends quietly in the SDK: do not mistake it for a short answer.
      if (signal.aborted) return { ok: false, reason: this.timeoutReason() };
      return { ok: true, answer };
    } catch (e) {
      return { ok: false, reason: this.redact(this.describe(e, signal.aborted)) };
    } finally {
      clearTimeout(timer);
    }
  }

  private timeoutReason(): string {
    return `architect did not answer within ${seconds(this.timeoutMs)} (architect.timeout)`;
  }

  private describe(e: unknown, deadlineHit: boolean): string {
    const attempts = `after ${MAX_RETRIES + 1} attempts`;
    // The SDK is loaded by the time it can throw; if loading it failed, the error is described as is.
    const sdk = this.sdk;
    if (!sdk) return `architect request failed: ${clip(errorText(e), 300)}`;
    const { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } = sdk;
    if (deadlineHit || e instanceof APIConnectionTimeoutError || e instanceof APIUserAbortError) {
      return this.timeoutReason();
    }
    if (e instanceof APIConnectionError) {
      return `architect could not reach ${this.baseURL} ${attempts}: ${errorText(e.cause ?? e)}`;
    }
    if (e instanceof APIError && typeof e.status === 'number') {
      const said = e.apiMessage ? `: ${clip(e.apiMessage, 300)}` : '';
      const s = e.status;
      if (s === 401) return `architect authentication failed (401): check ${this.credential.envName}${said}`;
      if (s === 403)
        return `architect permission denied (403): check ${this.credential.envName} and model ${this.model}${said}`;
      if (s === 404)
        return `architect endpoint not found (404) at ${this.baseURL}: check architect.baseURL and architect.model${said}`;
      if (s === 429) return `architect rate limited (429) ${attempts}${said}`;
      if (s === 529 || e.type === 'overloaded_error') return `architect overloaded (${s}) ${attempts}${said}`;
      if (s >= 500) return `architect server error (${s}) ${attempts}${said}`;
      return `architect request refused (${s}${e.type ? ` ${e.type}` : ''})${said}`;
    }
    if (e instanceof APIError) {
      // An `error` event in the middle of a stream: the client cannot retry it.
      return `architect stream failed (${e.type ?? 'error'})${e.apiMessage ? `: ${clip(e.apiMessage, 300)}` : ''}`;
    }
    return `architect request failed: ${clip(errorText(e), 300)}`;
  }

  /** Wraps fetch to log every HTTP attempt that fails, and whether the client will retry it. */
  private observe(base: Fetch): Fetch {
    const total = MAX_RETRIES + 1;
    return async (input, init) => {
      const attempt = Number(new Headers(init?.headers).get('x-stainless-retry-count') ?? '0') + 1;
      let res: Response;
      try {
        res = await base(input, init);
      } catch (e) {
        if (!init?.signal?.aborted) {
          const more = attempt < total ? '; retrying' : '; no retries left';
          this.log(`connection failed (attempt ${attempt} of ${total}): ${errorText(e)}${more}`);
        }
        throw e;
      }
      if (!res.ok) {
        const willRetry = retryable(res) && attempt < total;
        const after = res.headers.get('retry-after');
        const next = willRetry
          ? `; retrying${after ? ` after ${after}s (retry-after)` : ' with backoff'}`
          : retryable(res)
            ? '; no retries left'
            : '; not retried';
        this.log(`HTTP ${res.status} from ${this.baseURL} (attempt ${attempt} of ${total})${next}`);
      }
      return res;
    };
  }
}
