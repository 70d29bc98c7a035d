/**
 * @anthropic-ai/sdk, loaded on first use. It is ~20 MB of a process's memory and a daemon whose
 * architect is `gates` or `claude-code` never calls it, so nothing imports it at start-up: the API
 * architect (architect.ts) and the writer (architect-writer.ts) build their client on their first call.
 */
import type * as AnthropicSdk from '@anthropic-ai/sdk';

export type Sdk = typeof AnthropicSdk;

let loading: Promise<Sdk> | null = null;

export function loadSdk(): Promise<Sdk> {
  return (loading ??= import('@anthropic-ai/sdk'));
}
