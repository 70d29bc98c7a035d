/**
 * A real HTTP server on 127.0.0.1 that speaks enough of the Anthropic Messages API to drive Claude Code
 * (or any Anthropic client) with no model: `POST /v1/messages` (also `?beta=true`), non-streaming JSON
 * and streaming SSE, `HEAD /` → 200.
 *
 * Each `POST /v1/messages` takes the next handler from a queue (`enqueue`), or the default handler when
 * the queue is empty. Handlers: `text`, `toolUse`, `toolJson` (tool input as raw, possibly invalid, JSON
 * text), `empty`, `error`, `hang`, `stall` (headers, then nothing), or a function of the request.
 * Every request is recorded (method, path, headers, parsed body) for assertions; `waitFor` waits on a
 * predicate over the recorded requests, event-driven. `close()` destroys open sockets, hung ones included.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Reply =
  | { kind: 'text'; text: string }
  | { kind: 'tool_use'; name: string; input: unknown; text?: string }
  | { kind: 'tool_json'; name: string; json: string }
  | { kind: 'empty' }
  | { kind: 'error'; status: number; type: string; message: string; headers?: Record<string, string> }
  | { kind: 'hang' }
  | { kind: 'stall' }
  | { kind: 'held'; reply: Reply; release: Promise<void> };

/**
 * `reply`, streamed only up to its first content delta (the first half of its first block) until
 * `release` resolves; then the rest. Not streaming, the whole answer waits for `release`.
 */
export const held = (reply: Reply, release: Promise<void>): Reply => ({ kind: 'held', reply, release });

/** A reply, or a function choosing one from the request (e.g. to echo part of the prompt). */
export type Handler = Reply | ((request: RecordedRequest) => Reply);

export const text = (value: string): Reply => ({ kind: 'text', text: value });
export const toolUse = (name: string, input: unknown, preface?: string): Reply => ({
  kind: 'tool_use',
  name,
  input,
  ...(preface !== undefined ? { text: preface } : {}),
});
/**
 * A tool call whose input is raw JSON text, valid or not. Streaming sends it as `input_json_delta`
 * pieces; non-streaming puts the text itself in `input` (a string, as some compatible endpoints do).
 */
export const toolJson = (name: string, json: string): Reply => ({ kind: 'tool_json', name, json });
/** An answer with no content at all: the client's result text is "". */
export const empty = (): Reply => ({ kind: 'empty' });
/** An API error; `headers` adds response headers (`retry-after`, say). */
export const error = (
  status: number,
  type: string,
  message: string,
  headers?: Record<string, string>,
): Reply => ({
  kind: 'error',
  status,
  type,
  message,
  ...(headers ? { headers } : {}),
});
/** Accept the request and never answer (until `close()`). */
export const hang = (): Reply => ({ kind: 'hang' });
/**
 * Answer 200 with headers and the start of a body (streaming: `message_start`), then never finish (until
 * `close()`): a client whose only timeout stops at the response headers waits forever.
 */
export const stall = (): Reply => ({ kind: 'stall' });

export interface RecordedRequest {
  method: string;
  /** Path with query, as sent (`/v1/messages?beta=true`). */
  url: string;
  /** Path without query. */
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, or null when there was none or it was not JSON. */
  body: MessagesBody | null;
  rawBody: string;
  /** The reply given (null for requests that are not Messages calls). */
  reply: Reply | null;
}

export interface MessagesBody {
  model?: string;
  max_tokens?: number;
  stream?: boolean;
  system?: unknown;
  messages?: { role: string; content: unknown }[];
  tools?: { name: string }[];
  [key: string]: unknown;
}

export interface AnthropicServer {
  /** Base URL to give a client, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in order. */
  readonly requests: readonly RecordedRequest[];
  /** Only the `POST /v1/messages` requests. */
  messages(): RecordedRequest[];
  enqueue(...handlers: Handler[]): void;
  setDefault(handler: Handler): void;
  /** Resolves with the first recorded request (past or future) matching `predicate`. */
  waitFor(predicate: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** Number of requests currently held open by `hang()` or `stall()`. */
  hanging(): number;
  close(): Promise<void>;
}

export interface AnthropicServerOptions {
  handlers?: Handler[];
  /** Used when the queue is empty; defaults to `text('ok')`. */
  defaultHandler?: Handler;
}

/** All text in the last user message (string content or text blocks). */
export function lastUserText(body: MessagesBody | null): string {
  const messages = body?.messages ?? [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) {
      return (m.content as { type?: unknown; text?: unknown }[])
        .map((b) => (b?.type === 'text' && typeof b.text === 'string' ? b.text : ''))
        .join('\n');
    }
  }
  return '';
}

let counter = 0;
const nextId = (prefix: string) =>
  `${prefix}_${Date.now().toString(36)}${(counter++).toString(36).padStart(6, '0')}`;

/** A rough token count (4 characters a token): enough for usage assertions. */
const tokens = (chars: number) => Math.max(1, Math.ceil(chars / 4));

type Block =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown; json?: string };

function blocksFor(reply: Reply): Block[] {
  switch (reply.kind) {
    case 'text':
      return [{ type: 'text', text: reply.text }];
    case 'tool_use':
      return [
        ...(reply.text ? [{ type: 'text' as const, text: reply.text }] : []),
        { type: 'tool_use', id: nextId('toolu'), name: reply.name, input: reply.input },
      ];
    case 'tool_json':
      return [
        { type: 'tool_use', id: nextId('toolu'), name: reply.name, input: reply.json, json: reply.json },
      ];
    case 'empty':
      return [];
    case 'error':
    case 'hang':
    case 'stall':
      return [];
    case 'held':
      return blocksFor(reply.reply);
  }
}

function outputTokens(blocks: Block[]): number {
  const chars = blocks.reduce(
    (n, b) => n + (b.type === 'text' ? b.text.length : (b.json ?? JSON.stringify(b.input)).length),
    0,
  );
  return tokens(chars);
}

function sse(res: http.ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Where a `held` reply's stream waits: the chunks before it are written, the rest once released. */
const HOLD = 'hold';

/** Writes SSE to `res`, pausing at the first `HOLD` mark until `release` resolves (if one is given). */
class SseWriter {
  private readonly pending: string[] = [];
  private waiting = false;
  constructor(
    private readonly res: http.ServerResponse,
    private readonly release: Promise<void> | null,
  ) {}
  write(event: string, data: unknown): void {
    this.push(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
  mark(): void {
    if (this.release && !this.waiting) {
      this.waiting = true;
      void this.release.then(() => {
        this.waiting = false;
        for (const chunk of this.pending.splice(0)) this.push(chunk);
      });
    }
  }
  end(): void {
    this.push(HOLD);
  }
  private push(chunk: string): void {
    if (this.waiting) {
      this.pending.push(chunk);
      return;
    }
    if (this.res.destroyed) return;
    if (chunk === HOLD) this.res.end();
    else this.res.write(chunk);
  }
}

function answer(res: http.ServerResponse, body: MessagesBody | null, raw: string, reply: Reply): void {
  if (reply.kind === 'hang') return;
  if (reply.kind === 'held' && body?.stream !== true) {
    void reply.release.then(() => {
      if (!res.destroyed) answer(res, body, raw, reply.reply);
    });
    return;
  }
  if (reply.kind === 'stall') {
    if (body?.stream === true) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': nextId('req') });
      sse(res, 'message_start', {
        type: 'message_start',
        message: {
          id: nextId('msg'),
          type: 'message',
          role: 'assistant',
          model: body.model ?? 'unknown-model',
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: tokens(raw.length), output_tokens: 1 },
        },
      });
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': nextId('req') });
      res.write('{"id":');
    }
    return;
  }
  if (reply.kind === 'error') {
    res.writeHead(reply.status, {
      'content-type': 'application/json',
      'request-id': nextId('req'),
      ...reply.headers,
    });
    res.end(JSON.stringify({ type: 'error', error: { type: reply.type, message: reply.message } }));
    return;
  }
  const blocks = blocksFor(reply);
  const stopReason = blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
  const model = body?.model ?? 'unknown-model';
  const input_tokens = tokens(raw.length);
  const output_tokens = outputTokens(blocks);
  const id = nextId('msg');
  if (body?.stream !== true) {
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': nextId('req') });
    res.end(
      JSON.stringify({
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: blocks.map((b) => (b.type === 'tool_use' ? { ...b, json: undefined } : b)),
        stop_reason: stopReason,
        stop_sequence: null,
        usage: { input_tokens, output_tokens },
      }),
    );
    return;
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'request-id': nextId('req'),
  });
  const w = new SseWriter(res, reply.kind === 'held' ? reply.release : null);
  w.write('message_start', {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens, output_tokens: 1 },
    },
  });
  w.write('ping', { type: 'ping' });
  blocks.forEach((block, index) => {
    if (block.type === 'text') {
      w.write('content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'text', text: '' },
      });
      // Two deltas so clients really have to concatenate.
      const half = Math.ceil(block.text.length / 2);
      for (const part of [block.text.slice(0, half), block.text.slice(half)]) {
        if (part)
          w.write('content_block_delta', {
            type: 'content_block_delta',
            index,
            delta: { type: 'text_delta', text: part },
          });
        w.mark();
      }
    } else {
      w.write('content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      const json = block.json ?? JSON.stringify(block.input);
      const half = Math.ceil(json.length / 2);
      for (const part of [json.slice(0, half), json.slice(half)]) {
        w.write('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: part },
        });
        w.mark();
      }
    }
    w.write('content_block_stop', { type: 'content_block_stop', index });
  });
  w.write('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens },
  });
  w.write('message_stop', { type: 'message_stop' });
  w.end();
}

export async function startAnthropicServer(opts: AnthropicServerOptions = {}): Promise<AnthropicServer> {
  const queue: Handler[] = [...(opts.handlers ?? [])];
  let fallback: Handler = opts.defaultHandler ?? text('ok');
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const events = new EventEmitter();
  let hung = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const url = req.url ?? '/';
      const path = url.split('?')[0] ?? '/';
      let body: MessagesBody | null = null;
      try {
        body = rawBody ? (JSON.parse(rawBody) as MessagesBody) : null;
      } catch {
        body = null;
      }
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        url,
        path,
        headers: req.headers,
        body,
        rawBody,
        reply: null,
      };
      if (record.method === 'POST' && path.replace(/\/+$/, '') === '/v1/messages') {
        const handler = queue.shift() ?? fallback;
        const reply = typeof handler === 'function' ? handler(record) : handler;
        record.reply = reply;
        requests.push(record);
        events.emit('request', record);
        if (reply.kind === 'hang' || reply.kind === 'stall') {
          hung++;
          res.on('close', () => hung--);
        }
        answer(res, body, rawBody, reply);
        return;
      }
      requests.push(record);
      events.emit('request', record);
      if (record.method === 'HEAD' || (record.method === 'GET' && path === '/')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(record.method === 'HEAD' ? undefined : 'ok');
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `no route ${path}` } }),
      );
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    messages: () => requests.filter((r) => r.reply !== null),
    enqueue: (...handlers) => {
      queue.push(...handlers);
    },
    setDefault: (handler) => {
      fallback = handler;
    },
    hanging: () => hung,
    waitFor: (predicate, timeoutMs = 30_000) =>
      new Promise<RecordedRequest>((resolve, reject) => {
        const found = requests.find(predicate);
        if (found) return resolve(found);
        const onRequest = (r: RecordedRequest) => {
          if (!predicate(r)) return;
          cleanup();
          resolve(r);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching request within ${timeoutMs} ms (${requests.length} received)`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          events.off('request', onRequest);
        };
        events.on('request', onRequest);
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        server.close(() => resolve());
      }),
  };
}
