/**
 * Replaces known secret values in text, also as a JSON string escapes them (a message that quotes a
 * value with JSON.stringify). Secrets shorter than 4 characters are not worth hiding by substitution.
 */
import { findSecretPatterns } from './secret-patterns.js';

export interface Redactor {
  (text: string): string;
  /** The forms it replaces, longest first (for a caller that redacts a byte stream piece by piece). */
  readonly values?: readonly string[];
}

const REDACTED = '[redacted]';

export function makeRedactor(secrets: Iterable<string>): Redactor {
  const long = [...secrets].filter((s) => s.length >= 4);
  const forms = long.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]);
  const values = [...new Set(forms)].sort((a, b) => b.length - a.length);
  if (values.length === 0) return Object.assign((text: string) => text, { values });
  const redact = (text: string) => {
    let out = text;
    for (const v of values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  };
  return Object.assign(redact, { values });
}

/** A secret known by its value, and the name it is shown under (an environment variable's name). */
export interface NamedSecret {
  name: string;
  value: string;
}

/**
 * Like makeRedactor, but each secret is replaced by `[secret: NAME]` so a reader sees which one was there
 * and why it matters; with `patterns`, every match of the key-pattern table (secret-patterns.ts) too, as
 * `[secret: aws-access-key]`. For text shown to people and the architect, such as a diff.
 */
export function makeNamedRedactor(
  secrets: Iterable<NamedSecret>,
  opts: { patterns?: boolean } = {},
): (text: string) => string {
  const forms = new Map<string, string>();
  for (const { name, value } of secrets) {
    if (value.length < 4) continue;
    for (const form of [value, JSON.stringify(value).slice(1, -1)])
      if (!forms.has(form)) forms.set(form, name);
  }
  const ordered = [...forms].sort((a, b) => b[0].length - a[0].length);
  return (text: string) => {
    let out = text;
    for (const [value, name] of ordered) {
      if (out.includes(value)) out = out.split(value).join(`[secret: ${name}]`);
    }
    if (!opts.patterns) return out;
    const matches = findSecretPatterns(out);
    for (const m of matches.reverse()) {
      out = `${out.slice(0, m.index)}[secret: ${m.name}]${out.slice(m.index + m.length)}`;
    }
    return out;
  };
}

/**
 * Redacts a byte stream that arrives in pieces (an attempt's log). Each call takes the bytes that just
 * arrived and returns the redacted bytes that are safe to write; it holds back, unwritten, what could
 * still be the start of a secret (up to the longest form less one byte) or of a UTF-8 character, and
 * never cuts through a secret it can already see whole. `final` writes everything held. Bytes that are
 * not UTF-8 pass through unchanged: the search is on bytes, not on decoded text.
 */
export class StreamRedactor {
  private readonly needles: Buffer[];
  private readonly holdBack: number;
  private held: Buffer = Buffer.alloc(0);

  constructor(private readonly redact: Redactor) {
    this.needles = (redact.values ?? []).map((v) => Buffer.from(v)).sort((a, b) => b.length - a.length);
    this.holdBack = Math.max(0, ...this.needles.map((n) => n.length - 1));
  }

  /** How many bytes are held back, not yet returned. */
  get pending(): number {
    return this.held.length;
  }

  push(bytes: Uint8Array, final = false): Buffer {
    const data = this.held.length ? Buffer.concat([this.held, bytes]) : Buffer.from(bytes);
    const cut = final ? data.length : this.safeCut(data);
    this.held = Buffer.from(data.subarray(cut));
    return this.redactBytes(data.subarray(0, cut));
  }

  /** The end of the part of `data` that can be written now. */
  private safeCut(data: Buffer): number {
    let cut = Math.max(0, data.length - this.holdBack);
    // A secret seen whole that the cut would split waits whole (so no piece is written in the clear).
    for (let moved = true; moved && cut > 0;) {
      moved = false;
      for (const n of this.needles) {
        const at = data.indexOf(n, Math.max(0, cut - n.length + 1));
        if (at >= 0 && at < cut) {
          cut = at;
          moved = true;
        }
      }
    }
    // Nor is a UTF-8 character split: a character begun before the cut and not finished by it waits.
    return charStart(data, cut);
  }

  private redactBytes(data: Buffer): Buffer {
    // A redactor that does not say what it replaces is applied to each piece as text (never skipped).
    if (!this.redact.values) return Buffer.from(this.redact(data.toString('utf8')));
    let out = data;
    const mark = Buffer.from(REDACTED);
    for (const n of this.needles) {
      if (out.indexOf(n) < 0) continue;
      const parts: Buffer[] = [];
      let from = 0;
      for (let at = out.indexOf(n); at >= 0; at = out.indexOf(n, from)) {
        parts.push(out.subarray(from, at), mark);
        from = at + n.length;
      }
      parts.push(out.subarray(from));
      out = Buffer.concat(parts);
    }
    return Buffer.from(out);
  }
}

/**
 * `cut`, or the start of the UTF-8 character that the cut would leave unfinished. Bytes that are not
 * UTF-8 do not move it (and it never moves back more than three bytes).
 */
function charStart(data: Uint8Array, cut: number): number {
  let lead = cut - 1;
  while (lead >= 0 && cut - lead < 4 && (data[lead]! & 0xc0) === 0x80) lead--;
  if (lead < 0) return cut;
  const byte = data[lead]!;
  const length = byte >= 0xf8 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
  return cut - lead < length ? lead : cut;
}

/** A copy of `value` with the redactor applied to every string in it (keys included). */
export function redactDeep<T>(value: T, redact: Redactor): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, inner]) => [redact(k), walk(inner)]));
    }
    return v;
  };
  return walk(value) as T;
}
