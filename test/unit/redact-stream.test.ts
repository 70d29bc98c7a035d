/**
 * StreamRedactor: an attempt's log redacted as it arrives in pieces cut anywhere (mid-secret,
 * mid-character) comes out exactly as the whole text redacted at once.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { makeRedactor, StreamRedactor } from '../../src/lib/redact.js';

const seed = Number(process.env['FC_SEED'] ?? Date.now());
console.log('fast-check seed', seed);

// One secret whose JSON form differs (a quote, a backslash) and holds a multi-byte character; one short.
const SECRETS = ['sk-Ab"c\\dé-123456', 'tok€n-9999'];
const redact = makeRedactor(SECRETS);
const pieces = [
  'a',
  ' ',
  '\n',
  'é',
  '€',
  '😀',
  'sk-Ab',
  'tok',
  ...SECRETS,
  ...SECRETS.map((s) => JSON.stringify(s).slice(1, -1)),
];

/** Feeds `bytes` cut at `cuts`, then a final empty push; returns each piece written. */
function stream(bytes: Buffer, cuts: number[]): Buffer[] {
  const r = new StreamRedactor(redact);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(r.push(bytes.subarray(from, p)));
    from = p;
  }
  out.push(r.push(Buffer.alloc(0), true));
  expect(r.pending).toBe(0);
  return out;
}

it('writes what redacting the whole text would, whatever the cuts, and never half a character', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...pieces), { maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (parts, cuts) => {
        const text = parts.join('');
        const out = stream(Buffer.from(text), cuts);
        expect(Buffer.concat(out).toString('hex')).toBe(Buffer.from(redact(text)).toString('hex'));
        // Each piece is whole UTF-8: it decodes and encodes back to itself (the live check reads text).
        for (const piece of out) expect(Buffer.from(piece.toString('utf8')).equals(piece)).toBe(true);
        for (const s of SECRETS) expect(Buffer.concat(out).includes(Buffer.from(s))).toBe(false);
      },
    ),
    { seed, numRuns: 500 },
  );
});

it('passes bytes that are not UTF-8 through unchanged', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 12 }), (raw, cuts) => {
      const bytes = Buffer.from(raw);
      expect(Buffer.concat(stream(bytes, cuts)).equals(bytes)).toBe(true);
    }),
    { seed, numRuns: 500 },
  );
});

it('holds back no more than the longest secret less one byte, plus a character begun', () => {
  const r = new StreamRedactor(redact);
  const longest = Math.max(...(redact.values ?? []).map((v) => Buffer.byteLength(v)));
  expect(r.push(Buffer.from('x'.repeat(100))).length).toBe(100 - (longest - 1));
  expect(r.pending).toBe(longest - 1);
  // A character begun at the cut waits whole.
  const r2 = new StreamRedactor(redact);
  const text = Buffer.from(`${'x'.repeat(50)}€${'y'.repeat(longest - 2)}`);
  expect(r2.push(text).toString()).toBe('x'.repeat(50));
  // With no secrets, nothing waits but an unfinished character.
  const plain = new StreamRedactor(makeRedactor([]));
  const bytes = Buffer.from('ab€');
  expect(plain.push(bytes.subarray(0, 4)).toString()).toBe('ab');
  expect(plain.pending).toBe(2);
  expect(plain.push(bytes.subarray(4)).toString()).toBe('€');
});

it('applies a redactor that does not list its values to each piece as text, rather than skip it', () => {
  const r = new StreamRedactor((t) => t.replaceAll('hush-hush', '[redacted]'));
  expect(r.push(Buffer.from('say hush-hush now')).toString()).toBe('say [redacted] now');
});
