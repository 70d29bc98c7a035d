/**
 * Scripting an agent loop against the loopback Messages API server (anthropic-server.ts): the tool
 * results a client such as Claude Code sent back, and `turns`, a handler that answers turn by turn.
 */
import {
  text,
  type Handler,
  type MessagesBody,
  type RecordedRequest,
  type Reply,
} from './anthropic-server.js';

/** A tool_result block of a request's messages, its content as text. */
export interface ToolResult {
  /** The index of the message that holds it. */
  message: number;
  toolUseId: string;
  content: string;
  isError: boolean;
}

/**
 * Every tool_result in a request's messages, in order: what an agent loop (Claude Code) sent back after
 * the tool calls this server scripted (`toolUse('Read', …)`), for a handler to pick its next turn from
 * and for tests to assert on.
 */
export function toolResults(body: MessagesBody | null): ToolResult[] {
  const out: ToolResult[] = [];
  (body?.messages ?? []).forEach((m, message) => {
    if (m.role !== 'user' || !Array.isArray(m.content)) return;
    for (const b of m.content as Record<string, unknown>[]) {
      if (b?.['type'] !== 'tool_result') continue;
      const c = b['content'];
      const content =
        typeof c === 'string'
          ? c
          : Array.isArray(c)
            ? (c as { text?: unknown }[]).map((x) => (typeof x?.text === 'string' ? x.text : '')).join('\n')
            : '';
      out.push({
        message,
        toolUseId: typeof b['tool_use_id'] === 'string' ? b['tool_use_id'] : '',
        content,
        isError: b['is_error'] === true,
      });
    }
  });
  return out;
}

/**
 * A scripted agent turn by turn: `turns[n]` answers the request that carries `n` tool results since the
 * last plain user prompt (0: the prompt itself, 1: after the first tool ran, …); past the end, the last.
 * With Claude Code this drives a real agent loop: ask to Read a file, then answer.
 */
export function turns(...steps: Handler[]): (r: RecordedRequest) => Reply {
  return (r) => {
    const messages = r.body?.messages ?? [];
    let n = 0;
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (m?.role !== 'user') continue;
      const blocks = Array.isArray(m.content) ? (m.content as { type?: unknown }[]) : [];
      if (!blocks.some((b) => b?.type === 'tool_result')) break;
      n++;
    }
    const step = steps[Math.min(n, steps.length - 1)] ?? text('ok');
    return typeof step === 'function' ? step(r) : step;
  };
}
