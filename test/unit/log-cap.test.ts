/** The per-attempt log cap (src/daemon/log-cap.ts): the pure decisions, then the file work. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema, parseSize } from '../../src/config/schema.js';
import {
  capShape,
  compactLog,
  compaction,
  continuationBytes,
  cutMarker,
  type CutState,
} from '../../src/daemon/log-cap.js';

describe('capShape', () => {
  it('keeps half the cap as head and half as tail, with a slack of a quarter tail (at least 64 KiB)', () => {
    expect(capShape(50 * 1024 * 1024)).toEqual({
      head: 25 * 1024 * 1024,
      tail: 25 * 1024 * 1024,
      slack: (25 * 1024 * 1024) / 4,
    });
    expect(capShape(100_001)).toEqual({ head: 50_000, tail: 50_001, slack: 65_536 });
  });
});

describe('compaction', () => {
  const shape = { head: 100, tail: 100, slack: 50 };

  it('leaves a log within the cap alone, even at the end', () => {
    expect(compaction(200, shape, null, false)).toBeNull();
    expect(compaction(200, shape, null, true)).toBeNull();
  });

  it('lets a running log grow by the slack, then cuts its middle; at the end it cuts to the cap', () => {
    expect(compaction(250, shape, null, false)).toBeNull();
    expect(compaction(251, shape, null, false)).toEqual({ keepFrom: 151, cutBytes: 51 });
    expect(compaction(201, shape, null, true)).toEqual({ keepFrom: 101, cutBytes: 1 });
  });

  it('counts the marker as not output, and adds each cut to the ones before', () => {
    const cut: CutState = { cutBytes: 1000, markerBytes: 30 };
    expect(compaction(230, shape, cut, true)).toBeNull();
    expect(compaction(240, shape, cut, true)).toEqual({ keepFrom: 140, cutBytes: 1010 });
    expect(compaction(280, shape, cut, false)).toBeNull();
    expect(compaction(281, shape, cut, false)).toEqual({ keepFrom: 181, cutBytes: 1051 });
  });

  it('a final cut keeps exactly head + tail bytes of output, and accounts for every byte: property', () => {
    const seed = Date.now() ^ (Math.random() * 0x7fffffff);
    console.log(`compaction property seed ${seed}`);
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 1000 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 20 }),
        (cap, writes) => {
          const shape = capShape(cap);
          let size = 0;
          let total = 0;
          const st: { cut: CutState | null } = { cut: null };
          const step = (final: boolean) => {
            const plan = compaction(size, shape, st.cut, final);
            if (!plan) return;
            const marker = cutMarker(plan.cutBytes, shape).length;
            size = shape.head + marker + (size - plan.keepFrom);
            st.cut = { cutBytes: plan.cutBytes, markerBytes: marker };
          };
          for (const w of writes) {
            size += w;
            total += w;
            step(false);
            // While running the file never passes the cap by more than the slack (and its marker).
            expect(size).toBeLessThanOrEqual(cap + shape.slack + (st.cut?.markerBytes ?? 0));
          }
          step(true);
          const c = st.cut;
          if (total <= cap) expect(c).toBeNull();
          else {
            expect(size - c!.markerBytes).toBe(cap);
            expect(c!.cutBytes).toBe(total - cap);
          }
        },
      ),
      { seed, numRuns: 300 },
    );
  });
});

describe('continuationBytes', () => {
  it('counts the bytes that continue a character begun before', () => {
    expect(continuationBytes(Buffer.from('é').subarray(1))).toBe(1);
    expect(continuationBytes(Buffer.from('€x').subarray(1))).toBe(2);
    expect(continuationBytes(Buffer.from('ab'))).toBe(0);
  });
});

describe('compactLog', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the head and the tail of the file, with a marker saying how many bytes were left out', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ns-logcap-'));
    const file = path.join(dir, 'attempt-1.log');
    const shape = { head: 10, tail: 10, slack: 5 };
    writeFileSync(file, 'HEAD-HEAD-' + 'm'.repeat(30) + 'TAIL-TAIL-');
    const cut = compactLog(file, shape, null, false);
    const marker = cutMarker(30, shape);
    expect(readFileSync(file, 'utf8')).toBe(`HEAD-HEAD-${marker}TAIL-TAIL-`);
    expect(marker).toContain('left out 30 bytes');
    expect(cut).toEqual({ cutBytes: 30, markerBytes: Buffer.byteLength(marker) });
    // More output, then the end: the tail moves on, the count adds up, the head stays.
    appendFileSync(file, 'x'.repeat(7) + 'LAST-LAST-');
    const end = compactLog(file, shape, cut, true);
    expect(end?.cutBytes).toBe(47);
    expect(readFileSync(file, 'utf8')).toBe(`HEAD-HEAD-${cutMarker(47, shape)}LAST-LAST-`);
    // Nothing to do: the same state back, the file untouched.
    expect(compactLog(file, shape, end ?? null, true)).toBe(end);
  });

  it('starts the tail on a whole character', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ns-logcap-'));
    const file = path.join(dir, 'attempt-1.log');
    const shape = { head: 4, tail: 5, slack: 0 };
    writeFileSync(file, 'abcd' + 'zzzz' + '€€'); // the last 5 bytes start inside the first €
    const cut = compactLog(file, shape, null, true);
    expect(readFileSync(file, 'utf8')).toBe(`abcd${cutMarker(7, shape)}€`);
    expect(cut?.cutBytes).toBe(7);
  });
});

describe('defaults.logCap', () => {
  const cap = (value: unknown) => configSchema.safeParse({ defaults: { logCap: value } });
  it('defaults to 50 MB, takes sizes with units of 1024 or bytes, and refuses less than 64 KiB', () => {
    expect(configSchema.parse({}).defaults.logCap).toBe(50 * 1024 * 1024);
    expect(cap('1MB').data?.defaults.logCap).toBe(1024 * 1024);
    expect(cap('512kb').data?.defaults.logCap).toBe(512 * 1024);
    expect(cap(100_000).data?.defaults.logCap).toBe(100_000);
    expect(parseSize('1.5GB')).toBe(1.5 * 1024 ** 3);
    for (const bad of ['10 parsecs', '-1MB', '1KB', 1000]) {
      expect(cap(bad).error?.issues[0]?.message).toMatch(/expected a size of at least 65536 bytes/);
    }
  });
});
