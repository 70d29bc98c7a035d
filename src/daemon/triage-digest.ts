/**
 * The triage log's decisions (docs/architect.md, "Triage"), pure: which of a monitor cycle's events are
 * trouble (a task failed, an attempt failed and was retried, a kill, a park, a provider's breaker moved),
 * whether the cycle needs a note at all, and the compact digest the architect reads. Every reason in an
 * event may carry an executor's words (its output, its exit message): in the digest each is redacted,
 * made visible (no control characters), clipped, and JSON-quoted on a line of its own — data to read,
 * never instructions to follow; triage.ts fences the whole digest besides.
 */
import type { NightshiftEvent } from '../core/events.js';
import { visible } from '../lib/visible.js';

/** A park is a task.updated the store cannot tell apart by itself: triage.ts adds it from the record. */
export interface ParkEntry {
  type: 'task.parked';
  time: string;
  task: string;
  parked: string;
  reason: string;
}

export type TriageEntry = NightshiftEvent | ParkEntry;

export type TroubleKind = 'failed' | 'retried' | 'killed' | 'parked' | 'breaker';

export interface Trouble {
  kind: TroubleKind;
  time: string;
  /** The task, or the provider of a breaker change. */
  subject: string;
  provider: string | null;
  /** Untrusted: may hold an executor's words. */
  reason: string;
}

/** Bounds of the digest: lines of trouble listed, characters per quoted reason, characters in all. */
export const DIGEST_MAX_ITEMS = 30;
export const DIGEST_REASON_CHARS = 240;
export const DIGEST_MAX_CHARS = 8000;

/**
 * The cycle's trouble, oldest first. `breakers` holds each provider's breaker as last seen before the
 * cycle (and is not changed): a provider.health event is trouble only when its breaker differs from it
 * (or from the one before it in this cycle). A provider not seen before counts when its breaker is not
 * closed.
 */
export function cycleTrouble(
  entries: readonly TriageEntry[],
  breakers: ReadonlyMap<string, string>,
): Trouble[] {
  const seen = new Map(breakers);
  const providerOf = new Map<string, string>();
  const out: Trouble[] = [];
  for (const e of entries) {
    if (e.type === 'task.transition') {
      if (e.provider) providerOf.set(e.task, e.provider);
      const provider = e.provider ?? providerOf.get(e.task) ?? null;
      const reason = `${e.attribution ? `[${e.attribution}] ` : ''}${e.reason}`;
      if (e.to === 'failed') out.push({ kind: 'failed', time: e.time, subject: e.task, provider, reason });
      else if (e.from === 'running' && e.to === 'pending')
        out.push({ kind: 'retried', time: e.time, subject: e.task, provider, reason });
    } else if (e.type === 'task.killing') {
      const provider = providerOf.get(e.task) ?? null;
      out.push({
        kind: 'killed',
        time: e.time,
        subject: e.task,
        provider,
        reason: `on ${e.host}: ${e.reason}`,
      });
    } else if (e.type === 'task.parked') {
      const provider = providerOf.get(e.task) ?? null;
      out.push({
        kind: 'parked',
        time: e.time,
        subject: e.task,
        provider,
        reason: `(${e.parked}) ${e.reason}`,
      });
    } else if (e.type === 'provider.health') {
      const before = seen.get(e.provider) ?? 'closed';
      seen.set(e.provider, e.breaker);
      if (e.breaker !== before)
        out.push({
          kind: 'breaker',
          time: e.time,
          subject: e.provider,
          provider: e.provider,
          reason: `${before} → ${e.breaker}, live limit ${e.limit}: ${e.reason}`,
        });
    } else if (e.type === 'monitor.breaker') {
      out.push({ kind: 'breaker', time: e.time, subject: 'all providers', provider: null, reason: e.reason });
    }
  }
  return out;
}

/** Whether the cycle needs a note: only when something went wrong. */
export function needsNote(trouble: readonly Trouble[]): boolean {
  return trouble.length > 0;
}

/** Untrusted text as one safe, quoted line: redacted, control characters visible, clipped, JSON-quoted. */
export function quoteData(text: string, redact: (t: string) => string, max = DIGEST_REASON_CHARS): string {
  const flat = visible(redact(text).replace(/\s+/g, ' ').trim());
  const clipped = flat.length > max ? `${flat.slice(0, max)}…` : flat;
  return JSON.stringify(clipped);
}

const clock = (iso: string) => (iso.length >= 16 ? iso.slice(11, 16) : iso);

/**
 * The digest the architect reads: a summary line, counts per provider, then one line per trouble (the
 * newest DIGEST_MAX_ITEMS, and how many were left out), at most DIGEST_MAX_CHARS characters. Ids and
 * provider names are ours (validated), but quoted all the same.
 */
export function triageDigest(trouble: readonly Trouble[], redact: (t: string) => string): string {
  const counts = new Map<TroubleKind, number>();
  const perProvider = new Map<string, number>();
  for (const t of trouble) {
    counts.set(t.kind, (counts.get(t.kind) ?? 0) + 1);
    if (t.provider) perProvider.set(t.provider, (perProvider.get(t.provider) ?? 0) + 1);
  }
  const kinds: TroubleKind[] = ['failed', 'retried', 'killed', 'parked', 'breaker'];
  const lines = [
    `This cycle: ${kinds.map((k) => `${counts.get(k) ?? 0} ${k}`).join(', ')}.`,
    `Trouble per provider: ${
      [...perProvider.entries()].map(([p, n]) => `${quoteData(p, redact, 60)} ${n}`).join(', ') ||
      'none named'
    }.`,
  ];
  // The newest lines that fit, in time order; the older ones are counted, not listed.
  const items = trouble.slice(-DIGEST_MAX_ITEMS).map((t) => {
    const provider =
      t.provider && t.kind !== 'breaker' ? ` provider=${quoteData(t.provider, redact, 60)}` : '';
    return `${clock(t.time)} ${t.kind} ${quoteData(t.subject, redact, 80)}${provider} reason=${quoteData(t.reason, redact)}`;
  });
  let room = DIGEST_MAX_CHARS - lines.join('\n').length - 60;
  let first = items.length;
  while (first > 0 && room - (items[first - 1]!.length + 1) >= 0) room -= items[--first]!.length + 1;
  const left = trouble.length - (items.length - first);
  if (left > 0) lines.push(`(${left} older lines left out)`);
  lines.push(...items.slice(first));
  const text = lines.join('\n');
  return text;
}
