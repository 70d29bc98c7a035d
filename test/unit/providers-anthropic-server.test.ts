/** The loopback Anthropic Messages server used by the provider e2e tests, checked with plain fetch. */
import { afterEach, describe, expect, it } from 'vitest';
import {
  empty,
  error,
  hang,
  startAnthropicServer,
  text,
  toolUse,
  type AnthropicServer,
} from '../../src/testing/anthropic-server.js';

let server: AnthropicServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const post = (
  s: AnthropicServer,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
) =>
  fetch(`${s.url}/v1/messages?beta=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'k-1', ...headers },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });

const ask = { model: 'm-1', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };

/** Parses an SSE body into [event, data] pairs. */
function events(body: string): [string, Record<string, unknown>][] {
  return body
    .trim()
    .split('\n\n')
    .map((chunk) => {
      const ev = /^event: (.*)$/m.exec(chunk)?.[1] ?? '';
      const data = JSON.parse(/^data: (.*)$/m.exec(chunk)?.[1] ?? '{}') as Record<string, unknown>;
      return [ev, data];
    });
}

describe('anthropic test server', () => {
  it('answers non-streaming requests from the queue, then the default, and records them', async () => {
    server = await startAnthropicServer({
      handlers: [text('first')],
      defaultHandler: toolUse('Bash', { command: 'ls' }),
    });
    const a = (await (await post(server, ask)).json()) as Record<string, unknown>;
    expect(a).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'm-1',
      content: [{ type: 'text', text: 'first' }],
      stop_reason: 'end_turn',
    });
    const b = (await (await post(server, ask)).json()) as { content: unknown[]; stop_reason: string };
    expect(b.stop_reason).toBe('tool_use');
    expect(b.content).toEqual([
      { type: 'tool_use', id: expect.any(String) as unknown, name: 'Bash', input: { command: 'ls' } },
    ]);
    expect(server.messages()).toHaveLength(2);
    expect(server.messages()[0]).toMatchObject({
      url: '/v1/messages?beta=true',
      path: '/v1/messages',
      body: ask,
    });
    expect(server.messages()[0]!.headers['x-api-key']).toBe('k-1');
  });

  it('streams SSE with text and tool_use blocks (input_json_delta)', async () => {
    server = await startAnthropicServer({
      handlers: [toolUse('Edit', { file_path: 'a.ts', new_string: 'x' }, 'Editing.')],
    });
    const res = await post(server, { ...ask, stream: true });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const evs = events(await res.text());
    expect(evs.map(([e]) => e)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const text = evs
      .filter(
        ([e, d]) => e === 'content_block_delta' && (d['delta'] as { type: string }).type === 'text_delta',
      )
      .map(([, d]) => (d['delta'] as { text: string }).text)
      .join('');
    expect(text).toBe('Editing.');
    const json = evs
      .filter(
        ([e, d]) =>
          e === 'content_block_delta' && (d['delta'] as { type: string }).type === 'input_json_delta',
      )
      .map(([, d]) => (d['delta'] as { partial_json: string }).partial_json)
      .join('');
    expect(JSON.parse(json)).toEqual({ file_path: 'a.ts', new_string: 'x' });
    expect(evs.at(-2)?.[1]).toMatchObject({ delta: { stop_reason: 'tool_use' } });
  });

  it('empty() answers with no content blocks', async () => {
    server = await startAnthropicServer({ defaultHandler: empty() });
    const evs = events(await (await post(server, { ...ask, stream: true })).text());
    expect(evs.map(([e]) => e)).toEqual(['message_start', 'ping', 'message_delta', 'message_stop']);
  });

  it('error() answers with the status and an Anthropic error body', async () => {
    server = await startAnthropicServer({ defaultHandler: error(529, 'overloaded_error', 'Overloaded') });
    const res = await post(server, { ...ask, stream: true }, { authorization: 'Bearer t' });
    expect(res.status).toBe(529);
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    expect(server.messages()[0]!.headers['authorization']).toBe('Bearer t');
  });

  it('HEAD / answers 200; unknown routes 404', async () => {
    server = await startAnthropicServer();
    expect((await fetch(`${server.url}/`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${server.url}/v1/models`)).status).toBe(404);
    expect(server.messages()).toHaveLength(0);
    expect(server.requests.map((r) => r.method)).toEqual(['HEAD', 'GET']);
  });

  it('hang() holds the request open until close() destroys the socket', async () => {
    server = await startAnthropicServer({ defaultHandler: hang() });
    const pending = post(server, ask).then(
      () => 'answered',
      () => 'socket closed',
    );
    await server.waitFor((r) => r.reply?.kind === 'hang');
    expect(server.hanging()).toBe(1);
    await server.close();
    server = null;
    expect(await pending).toBe('socket closed');
  });

  it('waitFor rejects after its timeout', async () => {
    server = await startAnthropicServer();
    await expect(server.waitFor(() => true, 50)).rejects.toThrow(/no matching request within 50 ms/);
  });
});
