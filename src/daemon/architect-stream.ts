/**
 * The llm architect's streamed answer, appended as it arrives to logs/architect/<task>-r<round>.log, the
 * file the TUI's Architect view follows (its `architect.started` event names it). Known secrets are
 * redacted piece by piece (lib/redact.ts StreamRedactor: a secret split across two pieces is still
 * caught); the file stops growing at `cap` bytes and says so. A write that fails is logged once and the
 * review goes on: the file is for watching, never for judging.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StreamRedactor, type Redactor } from '../lib/redact.js';

/** How much of one review's streamed text is kept (a verdict is a few KiB; the tool JSON a few more). */
export const ARCHITECT_STREAM_CAP = 256 * 1024;

export interface ArchitectStream {
  /** Appends a piece of the answer (redacted, within the cap). */
  write(piece: string): void;
  /** Writes what the redactor held back, then a closing line. */
  close(footer: string): void;
}

export function openArchitectStream(
  file: string,
  header: string,
  redact: Redactor,
  log: (line: string) => void,
  cap = ARCHITECT_STREAM_CAP,
): ArchitectStream {
  const redactor = new StreamRedactor(redact);
  let written = 0;
  let broken = false;
  let cut = false;
  const append = (bytes: Buffer, force = false) => {
    if (broken || bytes.length === 0) return;
    let data = bytes;
    if (!force) {
      if (cut) return;
      if (written + data.length > cap) {
        data = Buffer.concat([
          data.subarray(0, Math.max(0, cap - written)),
          Buffer.from(`\n[… the rest is not kept: over ${cap} bytes]\n`),
        ]);
        cut = true;
      }
    }
    try {
      appendFileSync(file, data, { mode: 0o600 });
      written += data.length;
    } catch (err) {
      broken = true;
      log(`architect: could not write ${file}: ${(err as Error).message}; the review goes on`);
    }
  };
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${redact(header)}\n`, { mode: 0o600 });
  } catch (err) {
    broken = true;
    log(`architect: could not start ${file}: ${(err as Error).message}; the review goes on`);
  }
  return {
    write: (piece) => append(redactor.push(Buffer.from(piece, 'utf8'))),
    close: (footer) => {
      append(redactor.push(Buffer.alloc(0), true));
      append(Buffer.from(`\n${redact(footer)}\n`), true);
    },
  };
}
