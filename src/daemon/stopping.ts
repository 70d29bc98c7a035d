/**
 * When the daemon stops on its own: which failures of a tick no retry can fix (an fsync error, a full
 * disk, a workspace deleted under it), and the message each stops with. Everything else is retried by
 * the loop with a growing pause (loop.ts).
 */
import { existsSync } from 'node:fs';
import { coerceError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from '../core/failures.js';
import type { WorkspacePaths } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { FatalIoError } from '../queue/fsx.js';
import type { TickFailure } from './loop.js';

/** Whether an error is a full disk (ENOSPC from any write: the queue, the event log, a mirrored log). */
export function isDiskFull(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') return true;
  }
  return false;
}

/** A failure no retry can fix stops the daemon; anything else is retried with a growing pause. */
export function classifyFailure(paths: WorkspacePaths, err: unknown): TickFailure {
  if (err instanceof FatalIoError)
    return {
      stop: true,
      message: `fatal: ${err.describe()}; the daemon stops (exit 1)`,
      exitCode: 1,
      reason: `fatal I/O error: ${err.message}`,
    };
  if (isDiskFull(err))
    return {
      stop: true,
      message: `the disk holding ${paths.root} is full (${coerceError(err).message}); the daemon stops (exit 1). Free some space, then start it again: executors keep running in tmux and are adopted`,
      exitCode: 1,
    };
  if (!existsSync(paths.queue))
    return {
      stop: true,
      message: `the workspace's queue ${paths.queue} is gone (was the workspace deleted?); the daemon stops (exit 1)`,
      exitCode: 1,
    };
  return { stop: false };
}

/** The retry backoff the config asks for. */
export function backoffOf(config: Config): BackoffPolicy {
  return {
    ...DEFAULT_BACKOFF,
    initialMs: parseDuration(config.defaults.retryInitial) ?? DEFAULT_BACKOFF.initialMs,
    maxMs: parseDuration(config.defaults.retryMax) ?? DEFAULT_BACKOFF.maxMs,
  };
}
