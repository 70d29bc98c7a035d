/**
 * The runner's output filter (REDACT_AWK, run by the host's real awk) hides exactly what makeRedactor
 * hides, line by line. Reproduce a failure with FC_SEED=<printed seed>.
 */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { REDACT_AWK } from '../../src/hosts/scripts.js';
import { makeRedactor } from '../../src/lib/redact.js';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now();
console.log('fast-check seed', seed);

function filter(text: string, secrets: readonly string[]): string {
  const names = secrets.map((_, i) => `SECRET_${i}`);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, LC_ALL: 'C' };
  secrets.forEach((s, i) => (env[`SECRET_${i}`] = s));
  env.NIGHTSHIFT_SECRET_VARS = names.join(' ');
  const r = spawnSync('awk', [REDACT_AWK], { input: text, env, encoding: 'latin1' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

/** makeRedactor applied line by line, every line ending in a newline (awk's print). */
function expected(text: string, secrets: readonly string[]): string {
  if (text === '') return '';
  const redact = makeRedactor(secrets);
  const lines = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
  return lines.map((l) => `${redact(l)}\n`).join('');
}

it('replaces every secret alone, mid-line, twice, JSON-escaped, and leaves the rest alone', () => {
  const key = 'sk-a"b\\c\td';
  const text = `${key}\nx ${key} y ${key}\n{"k":${JSON.stringify(key)}}\nabc ok\nno newline ${key}`;
  const out = filter(text, [key, 'abc', 'unused-value']);
  expect(out).toBe(
    '[redacted]\nx [redacted] y [redacted]\n{"k":"[redacted]"}\nabc ok\nno newline [redacted]\n',
  );
  expect(out).toBe(expected(text, [key, 'abc', 'unused-value']));
});

it('matches makeRedactor on arbitrary ASCII lines and secrets', () => {
  // Few characters, so secrets overlap, nest and repeat; control characters exercise the JSON forms.
  const char = fc.constantFrom('a', 'b', 'k', '-', '"', '\\', '\t', '\r', ' ', '\x01', '\x1f', '/', '[');
  const secret = fc.string({ unit: char, minLength: 1, maxLength: 8 });
  fc.assert(
    fc.property(
      fc.uniqueArray(secret, { minLength: 1, maxLength: 4 }),
      fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.string({ unit: char, maxLength: 6 })), { maxLength: 30 }),
      fc.boolean(),
      (secrets, parts, newline) => {
        let text = '';
        for (const [pick, kind, noise] of parts) {
          const s = secrets[pick % secrets.length]!;
          text += kind === 0 ? s : kind === 1 ? JSON.stringify(s).slice(1, -1) : kind === 2 ? '\n' : noise;
        }
        if (newline) text += '\n';
        expect(filter(text, secrets)).toBe(expected(text, secrets));
      },
    ),
    { seed, numRuns: 150 },
  );
});
