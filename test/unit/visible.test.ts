/** lib/visible.ts: the one function that makes untrusted text safe to print. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { visible } from '../../src/lib/visible.js';

// Every C0 control but \n and \t, DEL, every C1 control, and the bidi overrides and isolates.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('visible', () => {
  it('makes escape sequences, BEL and C1 controls visible and keeps newlines and tabs', () => {
    expect(visible('a\u001b]0;pwned\u0007b')).toBe('a\\u001b]0;pwned\\u0007b');
    expect(visible('\u001b[2J\u009b31m\r')).toBe('\\u001b[2J\\u009b31m\\u000d');
    expect(visible('one\n\ttwo \u202eevil')).toBe('one\n\ttwo \\u202eevil');
  });

  it('leaves no unsafe character and is idempotent: property', () => {
    const seed = Date.now() ^ (Math.random() * 0x7fffffff);
    console.log(`visible property seed ${seed}`);
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const out = visible(text);
        expect(out).not.toMatch(UNSAFE);
        expect(visible(out)).toBe(out);
      }),
      { seed, numRuns: 300 },
    );
  });
});
