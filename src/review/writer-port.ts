/**
 * The port through which the architect writes specs (`nightshift plan`, follow-ups): its request, its
 * answer, and the writer's type. The writers are in architect-writer.ts (`llm`) and claude-writer.ts
 * (`claude-code`); architectWriter() picks one.
 */
import type { z } from 'zod';

/** Tokens and cost of architect calls: same shape as core/usage.ts (the lead unifies them). */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
}

export interface WriterRequest {
  /** What for: in log lines and events. */
  purpose: 'plan' | 'follow-up';
  system: string;
  prompt: string;
  /** The answer's shape: the tool (llm) or structured output (claude-code) gets jsonSchema. */
  toolName: string;
  jsonSchema: Record<string, unknown>;
  schema: z.ZodType;
  /**
   * The repository the specs are for: the claude-code writer explores a fresh isolated checkout of its
   * `main` (the llm writer has the bounded summary in its prompt instead).
   */
  repo?: { name: string; dir: string; main: string };
}

export type WriterResult =
  { ok: true; value: unknown; usage: Usage | null } | { ok: false; reason: string; usage: Usage | null };

/** Asks the architect for one answer of `req.schema`'s shape. Never throws. */
export type ArchitectWriter = (req: WriterRequest) => Promise<WriterResult>;
