/**
 * Runs one gate command locally (docs/gates.md#isolation): exactly the environment given plus a marker
 * variable random per run, in a process group of its own, stdin closed. At its deadline the group gets
 * SIGTERM and, `KILL_AFTER_MS` later, SIGKILL. Whenever it ends, the group and every process carrying the
 * marker are killed (reap.ts), so nothing it started outlives it, double forks included.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { noteSpawn } from '../lib/activity.js';
import { GATE_MARKER, killGroup, reapMarked } from './reap.js';

export interface GateProcessResult {
  exitCode: number;
  /** stdout then stderr (a command that merges them gets them in the order printed). */
  output: string;
  timedOut: boolean;
  durationMs: number;
  /** Marked processes still alive when the command ended (killed): what it left behind. */
  survivors: number;
}

/** SIGTERM first, SIGKILL this long after. */
const KILL_AFTER_MS = 5000;
/** Output kept: the first and the last half of this many bytes. */
const OUTPUT_CAP = 64 * 1024 * 1024;
/** After the command and its tree are killed, how long its pipes may take to close. */
const DRAIN_MS = 10_000;

export function runGateProcess(
  argv: readonly string[],
  opts: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<GateProcessResult> {
  const [file, ...args] = argv;
  const marker = randomBytes(16).toString('hex');
  const started = performance.now();
  return new Promise((resolve) => {
    const output = new CappedOutput(OUTPUT_CAP);
    noteSpawn();
    const child = spawn(file ?? 'false', args, {
      cwd: opts.cwd,
      env: { ...opts.env, [GATE_MARKER]: marker },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pgid = child.pid;
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      timedOut = true;
      if (pgid) killGroup(pgid, 'SIGTERM');
      killTimer = setTimeout(() => {
        if (pgid) reapMarked(GATE_MARKER, marker, pgid);
      }, KILL_AFTER_MS);
    }, opts.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    let spawnError: NodeJS.ErrnoException | null = null;
    let finished = false;
    const streams = Promise.all(
      [child.stdout, child.stderr].map(
        (s) => new Promise<void>((done) => (s.readableEnded || s.destroyed ? done() : s.once('close', done))),
      ),
    );
    const finish = (code: number | null, sig: NodeJS.Signals | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      if (killTimer) clearTimeout(killTimer);
      const survivors = reapMarked(GATE_MARKER, marker, pgid).length;
      const drained = new Promise<void>((done) => {
        const t = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          done();
        }, DRAIN_MS);
        void streams.then(() => {
          clearTimeout(t);
          done();
        });
      });
      void drained.then(() =>
        resolve({
          exitCode: exitStatus(code, sig, spawnError),
          output: output.text() + (spawnError && !output.size ? `${spawnError.message}\n` : ''),
          timedOut,
          durationMs: performance.now() - started,
          survivors,
        }),
      );
    };
    child.once('exit', finish);
    // A command that cannot start (no such file) has no pid and never exits.
    child.on('error', (err) => {
      spawnError = err;
      if (!child.pid) finish(null, null);
    });
  });
}

/** A shell's exit status: the code, 128+n for a signal, 127/126 for a command that could not start. */
function exitStatus(
  code: number | null,
  sig: NodeJS.Signals | null,
  err: NodeJS.ErrnoException | null,
): number {
  if (typeof code === 'number') return code;
  if (sig) return 128 + ((os.constants.signals as Record<string, number | undefined>)[sig] ?? 9);
  if (err?.code === 'ENOENT') return 127;
  return 126;
}

/** Bytes up to a cap: past it, the first half and the last half are kept, with the cut said. */
class CappedOutput {
  private head: Buffer[] = [];
  private headSize = 0;
  private tail: Buffer[] = [];
  private tailSize = 0;
  private cut = 0;
  size = 0;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.headSize < this.cap / 2) {
      const take = chunk.subarray(0, this.cap / 2 - this.headSize);
      this.head.push(take);
      this.headSize += take.length;
      chunk = chunk.subarray(take.length);
      if (!chunk.length) return;
    }
    this.tail.push(chunk);
    this.tailSize += chunk.length;
    while (this.tailSize > this.cap / 2 && this.tail.length > 1) {
      const dropped = this.tail.shift()!;
      this.tailSize -= dropped.length;
      this.cut += dropped.length;
    }
  }

  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail = Buffer.concat(this.tail).toString('utf8');
    return this.cut ? `${head}\n[… ${this.cut} bytes of output cut]\n${tail}` : head + tail;
  }
}
