/**
 * Replaces known secret values in text, also as a JSON string escapes them (a message that quotes a
 * value with JSON.stringify). Secrets shorter than 4 characters are not worth hiding by substitution.
 */
export type Redactor = (text: string) => string;

export function makeRedactor(secrets: Iterable<string>): Redactor {
  const long = [...secrets].filter((s) => s.length >= 4);
  const forms = long.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]);
  const values = [...new Set(forms)].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const v of values) if (out.includes(v)) out = out.split(v).join('[redacted]');
    return out;
  };
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
