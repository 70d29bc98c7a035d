/**
 * Secrets found by their shape: the one table of high-confidence key patterns, used by the secrets gate
 * (a diff that adds one fails) and by the named redactor (a diff shown to people says `[secret: NAME]`
 * where one was). A pattern is here only when its shape alone makes a false match unlikely: a fixed
 * prefix and a long random body, or a PEM private key header.
 */

export interface SecretPattern {
  /** Shown in place of the match: `[secret: aws-access-key]`. */
  name: string;
  /** Global; matches the secret itself (not the text around it). */
  pattern: RegExp;
}

/** The table. Order matters only where two could match at one place: the first listed wins. */
export const SECRET_PATTERNS: readonly SecretPattern[] = [
  { name: 'anthropic-api-key', pattern: /\bsk-ant-(?:api|admin|oat)\d{2}-[A-Za-z0-9_-]{32,}/g },
  {
    name: 'openai-api-key',
    // The project, service-account and admin forms, and the older form: both carry `T3BlbkFJ`
    // ("OpenAI" in base64) in the middle.
    pattern: /\bsk-(?!ant-)(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{16,}T3BlbkFJ[A-Za-z0-9_-]{16,}/g,
  },
  { name: 'openai-api-key', pattern: /\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{80,}/g },
  // AWS's own documentation example (AKIAIOSFODNN7EXAMPLE) is not a key.
  { name: 'aws-access-key', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)(?![0-9A-Z]{9}EXAMPLE)[0-9A-Z]{16}\b/g },
  { name: 'github-token', pattern: /\bgh[pousr]_[A-Za-z0-9]{36,255}\b/g },
  { name: 'github-token', pattern: /\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b/g },
  { name: 'slack-token', pattern: /\bxox[abp]-[0-9]{6,}-[A-Za-z0-9-]{10,}/g },
  { name: 'google-api-key', pattern: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g },
  {
    name: 'private-key',
    // The whole block when its end is in the same text; else the header line alone.
    pattern:
      /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]{0,20000}?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)?/g,
  },
];

export interface PatternMatch {
  name: string;
  /** Offset of the match in the text. */
  index: number;
  length: number;
}

/** Every match of the table in `text`, in order, without overlaps (the earlier and then longer wins). */
export function findSecretPatterns(text: string): PatternMatch[] {
  const all: PatternMatch[] = [];
  for (const { name, pattern } of SECRET_PATTERNS) {
    for (const m of text.matchAll(new RegExp(pattern.source, pattern.flags))) {
      all.push({ name, index: m.index, length: m[0].length });
    }
  }
  all.sort((a, b) => a.index - b.index || b.length - a.length);
  const kept: PatternMatch[] = [];
  for (const match of all) {
    const last = kept.at(-1);
    if (last && match.index < last.index + last.length) continue;
    kept.push(match);
  }
  return kept;
}
