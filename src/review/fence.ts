/**
 * Fences for untrusted text in the architect's prompt. Every piece of text nightshift did not write
 * (spec, gate evidence, diff, whole files, paths, the model's own earlier answer) goes between
 * `<data-N kind="…">` and `</data-N>`, where N is a random nonce drawn for each request. The content
 * cannot predict N, so it cannot close its fence and write outside it; content that contains N anyway
 * is refused (FenceBreach), never sent. Pure: the caller draws the nonce (newNonce).
 */
import { randomBytes } from 'node:crypto';

/** 128 bits from the system's CSPRNG, as 32 lowercase hex digits. */
export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

export const NONCE_PATTERN = /^[0-9a-f]{32,}$/;

/** Content that holds the request's nonce: it could close its own fence, so nothing is sent. */
export class FenceBreach extends Error {
  override readonly name = 'FenceBreach';
  constructor(readonly kind: string) {
    super(
      `the ${kind} contains this request's fence nonce, so it could pass for nightshift's own text; ` +
        'nothing was sent to the architect (review it by hand)',
    );
  }
}

/** Whether `text` holds the nonce, in any letter case (a model may read the tag case-insensitively). */
export function holdsNonce(text: string, nonce: string): boolean {
  return text.toLowerCase().includes(nonce.toLowerCase());
}

export interface Fencer {
  readonly nonce: string;
  /** The opening tag's name, `data-<nonce>`: the system prompt names it. */
  readonly tag: string;
  /** `content` between this request's tags; `attrs` values are JSON-quoted. Throws FenceBreach. */
  fence(kind: string, content: string, attrs?: Record<string, string>): string;
}

export function makeFencer(nonce: string): Fencer {
  if (!NONCE_PATTERN.test(nonce)) throw new Error(`not a fence nonce: ${JSON.stringify(nonce)}`);
  const tag = `data-${nonce}`;
  return {
    nonce,
    tag,
    fence(kind, content, attrs = {}) {
      for (const [name, value] of Object.entries(attrs)) {
        if (holdsNonce(value, nonce)) throw new FenceBreach(`${kind} ${name}`);
      }
      if (holdsNonce(content, nonce)) throw new FenceBreach(kind);
      const extra = Object.entries(attrs)
        .map(([name, value]) => ` ${name}=${JSON.stringify(value)}`)
        .join('');
      return `<${tag} kind="${kind}"${extra}>\n${content}\n</${tag}>`;
    },
  };
}
