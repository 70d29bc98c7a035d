/**
 * The llm architect's streamed answer on disk (src/daemon/architect-stream.ts): redacted even when a
 * secret arrives split across two pieces, capped, and a review never fails because the file cannot be
 * written.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openArchitectStream } from '../../src/daemon/architect-stream.js';
import { makeRedactor } from '../../src/lib/redact.js';

const SECRET = 'sk-ant-0123456789abcdefghij';
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ns-astream-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the architect stream file', () => {
  it('redacts a secret split across pieces and keeps the header and footer', () => {
    const file = path.join(dir, 'logs', 'architect', 't-r0.log');
    const s = openArchitectStream(file, '# header', makeRedactor([SECRET]), () => {});
    s.write('{"summary":"the key ');
    s.write(SECRET.slice(0, 10));
    s.write(`${SECRET.slice(10)} leaked"}`);
    s.close('# verdict: changes (C)');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(SECRET);
    expect(text).toBe('# header\n{"summary":"the key [redacted] leaked"}\n# verdict: changes (C)\n');
  });

  it('stops growing at the cap and says so', () => {
    const file = path.join(dir, 'a.log');
    const s = openArchitectStream(file, '#', makeRedactor([]), () => {}, 100);
    for (let i = 0; i < 50; i++) s.write('0123456789');
    s.close('# end');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('[… the rest is not kept: over 100 bytes]');
    expect(text.length).toBeLessThan(200);
    expect(text.endsWith('# end\n')).toBe(true);
  });

  it('a file that cannot be written is logged once; writing goes on without throwing', () => {
    const logs: string[] = [];
    // A parent that is a file: mkdir and every write fail (ENOTDIR), for root too.
    writeFileSync(path.join(dir, 'plain'), '');
    const file = path.join(dir, 'plain', 'x.log');
    const s = openArchitectStream(file, '#', makeRedactor([]), (l) => logs.push(l));
    s.write('piece');
    s.close('# end');
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/could not start .*the review goes on/);
  });
});
