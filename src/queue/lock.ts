/**
 * The workspace lock: one writer of queue state at a time. The daemon holds it for its whole life;
 * a CLI command holds it briefly when no daemon runs. A lock whose holder process is gone (same host)
 * is stale and taken over.
 */
import { linkSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import { readRegularFile, uniqueSuffix, writeNewFileSync } from './fsx.js';

export type LockKind = 'daemon' | 'cli';

export interface LockInfo {
  pid: number;
  host: string;
  kind: LockKind;
  since: string;
}

/**
 * The lock's contents, or null when there is none or it is not a lock nightshift wrote (then it is
 * stale). Never follows a link or blocks on a FIFO: anything at the path but a plain file is refused
 * with an `unsafe-file` error naming it, since nightshift cannot tell who holds the workspace.
 */
export function readLock(file: string): LockInfo | null {
  let text: string;
  try {
    text = readRegularFile(file, 64 * 1024).toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (err instanceof NightshiftError && err.code === ErrorCode.invalidSpec) return null; // too big: not ours
    const what =
      err instanceof NightshiftError ? err.message : `cannot be read (${code ?? (err as Error).message})`;
    throw new NightshiftError(ErrorCode.unsafeFile, `workspace lock ${what}`, {
      file,
      hint: `only nightshift writes this file; make sure no nightshift runs this workspace, remove it (\`rm ${file}\`) and run the command again`,
    });
  }
  try {
    return JSON.parse(text) as LockInfo;
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock's holder if it is a live process, else null. */
export function liveHolder(file: string): LockInfo | null {
  const info = readLock(file);
  if (!info) return null;
  if (info.host === os.hostname() && !isAlive(info.pid)) return null;
  return info;
}

export class WorkspaceLock {
  private constructor(
    readonly file: string,
    readonly info: LockInfo,
  ) {}

  /** Tries once; returns null if a live process holds the lock. */
  static tryAcquire(file: string, kind: LockKind, now: number): WorkspaceLock | null {
    const info: LockInfo = {
      pid: process.pid,
      host: os.hostname(),
      kind,
      since: new Date(now).toISOString(),
    };
    const tmp = path.join(path.dirname(file), `.lock.${uniqueSuffix()}`);
    writeNewFileSync(tmp, JSON.stringify(info), 0o600);
    try {
      for (let round = 0; round < 3; round++) {
        try {
          linkSync(tmp, file); // fails with EEXIST if someone holds it: the claim is atomic
          sweepDebris(file);
          return new WorkspaceLock(file, info);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const held = readLock(file);
        if (held && (held.host !== os.hostname() || isAlive(held.pid))) return null;
        breakStaleLock(file, held);
      }
      return null;
    } finally {
      unlinkSync(tmp);
    }
  }

  /** Waits up to `timeoutMs` for a short-lived holder; gives up at once if a daemon holds it. */
  static async acquire(
    file: string,
    kind: LockKind,
    now: () => number,
    timeoutMs = 15_000,
  ): Promise<WorkspaceLock> {
    const deadline = now() + timeoutMs;
    for (;;) {
      const lock = WorkspaceLock.tryAcquire(file, kind, now());
      if (lock) return lock;
      const holder = readLock(file);
      if (holder?.kind === 'daemon' || now() > deadline) {
        throw new NightshiftError(
          ErrorCode.locked,
          `the workspace is locked by ${holder?.kind ?? 'another process'} pid ${holder?.pid ?? '?'} on ${holder?.host ?? '?'}`,
          {
            file,
            hint:
              holder?.kind === 'daemon' ? 'a daemon already runs this workspace' : 'try again in a moment',
          },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  release(): void {
    const current = readLock(this.file);
    if (current && current.pid === this.info.pid && current.since === this.info.since) unlinkSync(this.file);
  }
}

/**
 * A process killed while claiming or breaking the lock leaves `.lock.<pid>-<hex>` or
 * `lock.stale.<pid>-<hex>` behind. Whoever holds the lock removes those of dead processes.
 */
function sweepDebris(file: string): void {
  const dir = path.dirname(file);
  const base = path.basename(file);
  for (const name of readdirSync(dir)) {
    const m = new RegExp(`^(?:\\.${base}|${base}\\.stale)\\.(\\d+)-[0-9a-f]+$`).exec(name);
    if (m && Number(m[1]) !== process.pid && !isAlive(Number(m[1]))) {
      try {
        unlinkSync(path.join(dir, name));
      } catch {
        /* already gone */
      }
    }
  }
}

/** Moves a dead holder's lock aside; if it turns out to be a fresh lock, puts it back. */
function breakStaleLock(file: string, seen: LockInfo | null): void {
  const aside = `${file}.stale.${uniqueSuffix()}`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = readLock(aside);
  if (seen && moved && (moved.pid !== seen.pid || moved.since !== seen.since)) {
    try {
      linkSync(aside, file);
    } catch {
      /* someone else claimed it meanwhile: theirs stands */
    }
  }
  unlinkSync(aside);
}
