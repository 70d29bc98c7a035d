/**
 * The Messages API's answer, read into the Answer the verdict parser takes (architect-prompt.ts): from
 * one JSON message, or from the events of a stream (SSE), tool calls and text in block order, with the
 * token usage when the endpoint reports it.
 */
import type { Message, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import type { Answer, Usage } from './architect-prompt.js';

export const addUsage = (a: Usage | null, b: Usage): Usage => ({
  inputTokens: (a?.inputTokens ?? 0) + b.inputTokens,
  outputTokens: (a?.outputTokens ?? 0) + b.outputTokens,
});

function usageOf(u: { input_tokens?: unknown; output_tokens?: unknown } | null | undefined): Usage | null {
  if (typeof u?.input_tokens !== 'number' || typeof u.output_tokens !== 'number') return null;
  return { inputTokens: u.input_tokens, outputTokens: u.output_tokens };
}

export function fromMessage(m: Message): Answer {
  const tools: Answer['tools'] = [];
  let text = '';
  for (const block of m.content) {
    if (block.type === 'tool_use') tools.push({ name: block.name, input: block.input, json: null });
    else if (block.type === 'text') text += block.text;
  }
  return { tools, text, stopReason: m.stop_reason, usage: usageOf(m.usage) };
}

/**
 * `onText` hears each piece of the answer as it arrives (text, and the tool call's JSON as it is built):
 * what the Architect view shows while a review is in progress.
 */
export async function fromStream(
  events: AsyncIterable<RawMessageStreamEvent>,
  onText: (piece: string) => void = () => {},
): Promise<Answer> {
  const blocks = new Map<number, { name: string | null; input: unknown; json: string; text: string }>();
  let stopReason: string | null = null;
  let input: number | null = null;
  let output: number | null = null;
  for await (const ev of events) {
    if (ev.type === 'message_start') {
      const u = ev.message.usage as { input_tokens?: unknown; output_tokens?: unknown } | undefined;
      if (typeof u?.input_tokens === 'number') input = u.input_tokens;
      if (typeof u?.output_tokens === 'number') output = u.output_tokens;
    } else if (ev.type === 'content_block_start') {
      const b = ev.content_block;
      blocks.set(ev.index, {
        name: b.type === 'tool_use' ? b.name : null,
        input: b.type === 'tool_use' ? b.input : undefined,
        json: '',
        text: b.type === 'text' ? b.text : '',
      });
    } else if (ev.type === 'content_block_delta') {
      const b = blocks.get(ev.index);
      if (b && ev.delta.type === 'input_json_delta') {
        b.json += ev.delta.partial_json;
        onText(ev.delta.partial_json);
      } else if (b && ev.delta.type === 'text_delta') {
        b.text += ev.delta.text;
        onText(ev.delta.text);
      }
    } else if (ev.type === 'message_delta') {
      stopReason = ev.delta.stop_reason;
      const u = ev.usage as { input_tokens?: unknown; output_tokens?: unknown } | undefined;
      if (typeof u?.input_tokens === 'number') input = u.input_tokens;
      if (typeof u?.output_tokens === 'number') output = u.output_tokens;
    }
  }
  const ordered = [...blocks.entries()].sort(([a], [b]) => a - b).map(([, b]) => b);
  return {
    tools: ordered
      .filter((b) => b.name !== null)
      .map((b) => ({ name: b.name ?? '', input: b.input, json: b.json === '' ? null : b.json })),
    text: ordered.map((b) => b.text).join(''),
    stopReason,
    usage: input !== null && output !== null ? { inputTokens: input, outputTokens: output } : null,
  };
}
