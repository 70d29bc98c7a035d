/**
 * Notifications: the daemon tells people what needs them (the morning report, a provider's breaker
 * opening, a task parked for a person, the daemon stopping on its own, the window's end) through the
 * `notify:` list of the config: a generic JSON webhook, a Slack-compatible incoming webhook, ntfy.
 *
 * `send` never throws and never waits: a notice joins a bounded in-memory queue per notifier, drained
 * in the background, one request at a time, each with a timeout; a failure is retried with exponential
 * backoff (injected timers) and given up after `maxTries`, with one `notify.failed` event. URLs may hold
 * tokens: they come from the environment, and no message names one (a notifier is named by its index,
 * kind and variable; a failure by its HTTP status or error code, never by the error's text).
 */
import { parseDuration } from '../core/duration.js';
import { visible } from '../lib/visible.js';
import type { NotifierConfig } from '../config/integrations.js';
import type { Config } from '../config/schema.js';
import type { Timers } from './loop.js';

/** The contract other parts call (`cost` for a budget freeze): kind, a one-line title, the text. */
export interface Notice {
  kind: 'report' | 'breaker-open' | 'parked' | 'daemon-stopped' | 'budget' | 'window-ended' | 'test';
  title: string;
  text: string;
  /** A URL or a path (the report's) a reader can follow. */
  link?: string;
}

/** A configured notifier, resolved against the environment. */
export interface NotifyTarget {
  /** How messages name it: `notify[0] (slack, NS_SLACK_URL)`; never its URL. */
  name: string;
  config: NotifierConfig;
  url: string;
  token: string | null;
  timeoutMs: number;
}

/** A notice's text is cut here (an executor's output can end up in a reason). */
export const MAX_TEXT = 3000;
export const MAX_TITLE = 200;

/** Resolves each notifier's URL and token from `env`; each one that cannot be used is a problem. */
export function resolveTargets(
  config: Pick<Config, 'notify'>,
  env: NodeJS.ProcessEnv,
): { targets: NotifyTarget[]; problems: string[] } {
  const targets: NotifyTarget[] = [];
  const problems: string[] = [];
  config.notify.forEach((n, i) => {
    const name = `notify[${i}] (${n.kind}${n.urlEnv ? `, ${n.urlEnv}` : ''})`;
    const url = n.urlEnv ? env[n.urlEnv] : n.kind === 'ntfy' ? n.url : undefined;
    if (!url) {
      problems.push(`${name}: the environment variable ${n.urlEnv ?? '?'} is not set; set it to the URL`);
      return;
    }
    if (!/^https?:\/\/[^\s]+$/i.test(url) || !URL.canParse(url)) {
      problems.push(`${name}: ${n.urlEnv ?? 'url'} does not hold an http:// or https:// URL`);
      return;
    }
    let token: string | null = null;
    if (n.kind === 'ntfy' && n.tokenEnv) {
      token = env[n.tokenEnv] ?? null;
      if (!token) {
        problems.push(`${name}: the environment variable ${n.tokenEnv} (tokenEnv) is not set`);
        return;
      }
    }
    targets.push({ name, config: n, url, token, timeoutMs: parseDuration(n.timeout) ?? 10_000 });
  });
  return { targets, problems };
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Slack's three escapes: no `<!channel>` or `<url|label>` can come from a task's title. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A header value: printable ASCII on one line (ntfy's Title; anything else would make fetch throw). */
function headerValue(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_TITLE);
}

export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The request a notice makes to a target. Pure. */
export function buildRequest(target: NotifyTarget, notice: Notice, time: string): HttpRequest {
  const title = cut(visible(notice.title), MAX_TITLE);
  const text = cut(visible(notice.text), MAX_TEXT);
  const link = notice.link ? cut(visible(notice.link), 1000) : undefined;
  const n = target.config;
  switch (n.kind) {
    case 'webhook':
      return {
        url: target.url,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ source: 'nightshift', kind: notice.kind, title, text, link, time }),
      };
    case 'slack': {
      const lines = [`*${slackEscape(title)}*`, slackEscape(text)];
      if (link) lines.push(slackEscape(link));
      return {
        url: target.url,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: lines.join('\n') }),
      };
    }
    case 'ntfy': {
      const base = target.url.replace(/\/+$/, '');
      const headers: Record<string, string> = {
        'content-type': 'text/plain; charset=utf-8',
        Title: headerValue(title),
        Tags: `nightshift,${notice.kind}`,
      };
      if (link && /^https?:\/\//i.test(link)) headers['Click'] = headerValue(link);
      if (target.token) headers['Authorization'] = `Bearer ${target.token}`;
      return { url: n.topic ? `${base}/${n.topic}` : base, headers, body: text };
    }
  }
}

/** Why a request failed, without the error's text (which may quote the URL). */
export function failureReason(err: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no answer within ${timeoutMs} ms`;
  let code: string | undefined;
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string' && /^[A-Z_]+$/.test(c)) code = c;
    if (!(e as { cause?: unknown }).cause) break;
  }
  return code ? `network error (${code})` : 'network error';
}

export interface NotifierPorts {
  fetch: typeof fetch;
  timers: Timers;
  /** Wall-clock ms (the notice's time). */
  now: () => number;
  /** One line for the daemon's log (no URL is ever in it). */
  log: (line: string) => void;
  /** Removes known secret values from a notice's text (the daemon's redactor). */
  redact?: (text: string) => string;
  /** Called once when a notice is given up on (the daemon records a notify.failed event). */
  gaveUp: (target: string, notice: Notice, reason: string) => void;
}

export interface NotifierOptions {
  /** Tries per notice (default 5). */
  maxTries?: number;
  /** The first retry's wait, doubled each time up to maxBackoffMs (default 2 s → 5 min). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Notices waiting per notifier; the oldest is dropped beyond it (default 50). */
  maxQueue?: number;
}

interface Job {
  notice: Notice;
  time: string;
  tries: number;
}

/** One notifier's queue and its single request in flight. */
class Lane {
  readonly queue: Job[] = [];
  busy = false;
  timer: unknown = null;
  constructor(readonly target: NotifyTarget) {}
}

export class Notifier {
  private readonly lanes: Lane[];
  private readonly idleWaiters = new Set<() => void>();
  private closed = false;
  private readonly maxTries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxQueue: number;

  constructor(
    targets: readonly NotifyTarget[],
    private readonly ports: NotifierPorts,
    opts: NotifierOptions = {},
  ) {
    this.lanes = targets.map((t) => new Lane(t));
    this.maxTries = opts.maxTries ?? 5;
    this.backoffMs = opts.backoffMs ?? 2000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5 * 60_000;
    this.maxQueue = opts.maxQueue ?? 50;
  }

  get size(): number {
    return this.lanes.length;
  }

  /** Queues `n` for every notifier that takes its kind. Never throws, never waits. */
  send(notice: Notice): void {
    try {
      if (this.closed) return;
      const redact = this.ports.redact ?? ((t: string) => t);
      const n: Notice = {
        ...notice,
        title: redact(notice.title),
        text: redact(notice.text),
        ...(notice.link !== undefined ? { link: redact(notice.link) } : {}),
      };
      const time = new Date(this.ports.now()).toISOString();
      for (const lane of this.lanes) {
        const events = lane.target.config.events;
        if (events && !events.includes(n.kind)) continue;
        if (lane.queue.length >= this.maxQueue) {
          const dropped = lane.queue.shift();
          if (dropped)
            this.ports.log(`${lane.target.name}: queue full, dropped the notice "${dropped.notice.title}"`);
        }
        lane.queue.push({ notice: n, time, tries: 0 });
        this.pump(lane);
      }
    } catch (err) {
      try {
        this.ports.log(`notify: could not queue a notice (${failureReason(err, false, 0)})`);
      } catch {
        // Nothing left to tell.
      }
    }
  }

  /** Sends `n` to each notifier once, now, and says how each went (for `nightshift notify test`). */
  async sendNow(n: Notice): Promise<{ name: string; ok: boolean; reason: string }[]> {
    const time = new Date(this.ports.now()).toISOString();
    return Promise.all(
      this.lanes.map(async (lane) => {
        const reason = await this.request(lane.target, { notice: n, time, tries: 0 });
        return { name: lane.target.name, ok: reason === null, reason: reason ?? 'ok' };
      }),
    );
  }

  /** Resolves when every queue is empty, or after `deadlineMs` (the crash path's short wait). */
  flush(deadlineMs: number): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.idleWaiters.delete(done);
        this.ports.timers.clear(timer);
        resolve();
      };
      const timer = this.ports.timers.set(done, deadlineMs);
      this.idleWaiters.add(done);
      // A notice waiting for its retry is tried now: there may be no later.
      for (const lane of this.lanes) {
        if (lane.timer !== null) {
          this.ports.timers.clear(lane.timer);
          lane.timer = null;
          this.pump(lane);
        }
      }
    });
  }

  /** Stops retrying; what is queued is dropped. */
  close(): void {
    this.closed = true;
    for (const lane of this.lanes) {
      if (lane.timer !== null) this.ports.timers.clear(lane.timer);
      lane.timer = null;
      lane.queue.length = 0;
    }
    this.settle();
  }

  private idle(): boolean {
    return this.lanes.every((l) => l.queue.length === 0 && !l.busy);
  }

  private settle(): void {
    if (!this.idle()) return;
    for (const resolve of [...this.idleWaiters]) resolve();
  }

  private pump(lane: Lane): void {
    if (lane.busy || lane.timer !== null || this.closed) return;
    const job = lane.queue[0];
    if (!job) return this.settle();
    lane.busy = true;
    void this.request(lane.target, job).then((reason) => {
      lane.busy = false;
      if (this.closed) return;
      job.tries++;
      if (reason === null) {
        lane.queue.shift();
      } else if (job.tries >= this.maxTries) {
        lane.queue.shift();
        const why = `gave up on the ${job.notice.kind} notice after ${job.tries} tries; last: ${reason}`;
        this.ports.log(`${lane.target.name}: ${why}`);
        this.ports.gaveUp(lane.target.name, job.notice, why);
      } else {
        const wait = Math.min(this.backoffMs * 2 ** (job.tries - 1), this.maxBackoffMs);
        this.ports.log(`${lane.target.name}: try ${job.tries} failed (${reason}); again in ${wait} ms`);
        lane.timer = this.ports.timers.set(() => {
          lane.timer = null;
          this.pump(lane);
        }, wait);
        return;
      }
      this.pump(lane);
    });
  }

  /** One request; null when it was answered 2xx, else why not. Never rejects. */
  private async request(target: NotifyTarget, job: Job): Promise<string | null> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = this.ports.timers.set(() => {
      timedOut = true;
      controller.abort();
    }, target.timeoutMs);
    try {
      const req = buildRequest(target, job.notice, job.time);
      const res = await this.ports.fetch(req.url, {
        method: 'POST',
        headers: req.headers,
        body: req.body,
        signal: controller.signal,
        redirect: 'error',
      });
      // The body is not read for its content (it may be anything), only drained.
      await res.arrayBuffer().catch(() => undefined);
      return res.ok ? null : `HTTP ${res.status}`;
    } catch (err) {
      return failureReason(err, timedOut, target.timeoutMs);
    } finally {
      this.ports.timers.clear(timer);
    }
  }
}
