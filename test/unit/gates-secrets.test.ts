/** The key-pattern table, the named redaction and the secrets gate's decisions: pure, no git. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { namedSecretRedactor, namedSecrets, secretNames } from '../../src/config/secrets.js';
import { makeNamedRedactor } from '../../src/lib/redact.js';
import { findSecretPatterns, SECRET_PATTERNS } from '../../src/lib/secret-patterns.js';
import { parseUnifiedDiff } from '../../src/review/deletions.js';
import {
  findAddedSecrets,
  mergeFindings,
  secretForms,
  secretsVerdict,
  splitCommitPatches,
} from '../../src/review/secrets-gate.js';

const seed = Number(process.env['FC_SEED'] ?? Date.now());
console.log('fast-check seed', seed);

// Built from pieces so this file holds no string a scanner would take for a real key.
const body = (n: number, alphabet = 'aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0z') =>
  Array.from({ length: n }, (_, i) => alphabet[(i * 7) % alphabet.length]).join('');
const SAMPLES: Record<string, string> = {
  'anthropic-api-key': `sk-ant-api03-${body(93)}AA`,
  'openai-api-key': `sk-proj-${body(40)}T3BlbkFJ${body(40)}`,
  'aws-access-key': `AKIA${'Q2RS4TU6VW8XY0ZA'}`,
  'github-token': `ghp_${body(36)}`,
  'slack-token': `xoxb-123456789012-${body(24)}`,
  'google-api-key': `AIza${body(35)}`,
  'private-key': `-----BEGIN RSA PRIVATE KEY-----\nMIIEow${body(60)}\n-----END RSA PRIVATE KEY-----`,
};

describe('the key-pattern table', () => {
  it.each(Object.entries(SAMPLES))('finds %s by its shape, inside other text', (name, sample) => {
    const text = `const key = "${sample}"; // here`;
    expect(findSecretPatterns(text)).toEqual([{ name, index: 13, length: sample.length }]);
  });

  it('lists each kind once by name and matches globally', () => {
    const names = new Set(SECRET_PATTERNS.map((p) => p.name));
    expect([...names].sort()).toEqual(Object.keys(SAMPLES).sort());
    for (const p of SECRET_PATTERNS) expect(p.pattern.flags).toContain('g');
  });

  it('leaves alone what only looks close: examples, short or prefix-only strings, words', () => {
    for (const text of [
      'AKIAIOSFODNN7EXAMPLE',
      'sk-ant-',
      'sk-1234',
      'task-ant-api03-is-not-a-key',
      'ghp_short',
      'xoxb-',
      'AIza too short',
      '-----BEGIN PUBLIC KEY-----',
      'github_pat_',
      'the skeleton of a ghost',
    ]) {
      expect(findSecretPatterns(text), text).toEqual([]);
    }
  });

  it('finds a sample wherever it sits in random text, and nothing in text made of other characters', () => {
    const sample = fc.constantFrom(...Object.entries(SAMPLES));
    const filler = fc.string({ unit: fc.constantFrom(' ', '\n', '"', '=', ':', '.', ',', '(', ')') });
    fc.assert(
      fc.property(filler, sample, filler, (before, [name, value], after) => {
        expect(findSecretPatterns(before + value + after).map((m) => m.name)).toEqual([name]);
        expect(findSecretPatterns(before + after)).toEqual([]);
      }),
      { seed, numRuns: 300 },
    );
  });
});

describe('the named redaction', () => {
  const config = configSchema.parse({
    providers: { glm: { kind: 'claude-code', secretEnv: { ANTHROPIC_AUTH_TOKEN: 'ZHIPU_API_KEY' } } },
    architect: { apiKeyEnv: 'ANTHROPIC_API_KEY' },
  });
  const env = { ZHIPU_API_KEY: 'zhipu-value-1234567890', ANTHROPIC_API_KEY: 'arch-value-abcdef', OTHER: 'x' };

  it('names each configured secret by its variable, and each pattern match by its kind', () => {
    expect([...secretNames(config)].sort()).toEqual(['ANTHROPIC_API_KEY', 'ZHIPU_API_KEY']);
    expect(namedSecrets(config, env)).toHaveLength(2);
    const show = namedSecretRedactor(config, env);
    const text = `+KEY=zhipu-value-1234567890\n+"arch-value-abcdef"\n+aws = ${SAMPLES['aws-access-key']}\n`;
    const shown = show(text);
    expect(shown).toBe(
      '+KEY=[secret: ZHIPU_API_KEY]\n+"[secret: ANTHROPIC_API_KEY]"\n+aws = [secret: aws-access-key]\n',
    );
    expect(shown).not.toContain('[redacted]');
  });

  it('replaces the longer of two overlapping secrets first, and JSON-escaped forms', () => {
    const show = makeNamedRedactor([
      { name: 'SHORT', value: 'abcd1234' },
      { name: 'LONG', value: 'abcd1234-and-more' },
      { name: 'QUOTED', value: 'a"b\\c-9999' },
      { name: 'TINY', value: 'abc' },
    ]);
    expect(show('abcd1234-and-more abcd1234 "a\\"b\\\\c-9999" abc')).toBe(
      '[secret: LONG] [secret: SHORT] "[secret: QUOTED]" abc',
    );
  });

  it('leaves no configured value in any text', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 4 }), fc.string(), fc.string(), (value, a, b) => {
        const show = makeNamedRedactor([{ name: 'K', value }]);
        expect(show(a + value + b)).not.toContain(value);
      }),
      { seed, numRuns: 300 },
    );
  });
});

describe('the secrets gate decisions', () => {
  const forms = secretForms([{ name: 'ZHIPU_API_KEY', value: 'zhipu-value-1234567890' }]);
  const diff = [
    'diff --git a/config.txt b/config.txt',
    'new file mode 100644',
    '--- /dev/null',
    '+++ b/config.txt',
    '@@ -0,0 +1,3 @@',
    '+hello',
    '+token: zhipu-value-1234567890',
    `+b64: ${Buffer.from('zhipu-value-1234567890').toString('base64').replace(/=+$/, '')}`,
    'diff --git a/k.pem b/k.pem',
    '--- /dev/null',
    '+++ b/k.pem',
    '@@ -0,0 +1,3 @@',
    '+-----BEGIN OPENSSH PRIVATE KEY-----',
    `+${body(60)}`,
    '+-----END OPENSSH PRIVATE KEY-----',
    '',
  ].join('\n');

  it('finds configured values (as written and base64) and patterns by file and line, never the value', () => {
    const findings = findAddedSecrets(parseUnifiedDiff(diff), forms);
    expect(findings).toEqual([
      { file: 'config.txt', line: 2, name: 'ZHIPU_API_KEY', commit: null },
      { file: 'config.txt', line: 3, name: 'ZHIPU_API_KEY', commit: null },
      { file: 'k.pem', line: 1, name: 'private-key', commit: null },
    ]);
    const verdict = secretsVerdict(findings, (t) => t);
    expect(verdict.passed).toBe(false);
    expect(verdict.evidence).toContain('  config.txt:2  [secret: ZHIPU_API_KEY]');
    expect(verdict.evidence).toContain('  k.pem:1  [secret: private-key]');
    expect(verdict.evidence).not.toContain('zhipu-value');
  });

  it('passes a diff with no secret; a removed secret is not an added one', () => {
    const removal = diff.replace(/^\+(?!\+\+)/gm, '-').replace('@@ -0,0 +1,3 @@', '@@ -1,3 +0,0 @@');
    expect(findAddedSecrets(parseUnifiedDiff(removal), forms)).toEqual([]);
    expect(secretsVerdict([], (t) => t).passed).toBe(true);
  });

  it('splits per-commit patches and keeps a commit-only finding once, saying it is gone from the diff', () => {
    const log = `\u0000${'a'.repeat(40)}\n${diff}\u0000${'b'.repeat(40)}\n`;
    const parts = splitCommitPatches(log);
    expect(parts.map((p) => p.commit)).toEqual(['a'.repeat(40), 'b'.repeat(40)]);
    const inCommit = findAddedSecrets(parseUnifiedDiff(parts[0]!.patch), forms, 'a'.repeat(40));
    const merged = mergeFindings([
      ...findAddedSecrets(parseUnifiedDiff(diff), forms).slice(0, 1),
      ...inCommit,
    ]);
    expect(merged.filter((f) => f.name === 'ZHIPU_API_KEY')).toHaveLength(1);
    expect(merged.find((f) => f.name === 'private-key')?.commit).toBe('a'.repeat(40));
    expect(secretsVerdict(merged, (t) => t).evidence).toContain('gone from the final diff');
  });
});
