/**
 * Telling the workspace's daemon to stop or reload its config, for the CLI and the TUI. Needs no valid
 * config (a reload is how a person learns what is wrong with an edited one): only the workspace's paths.
 */
import type { Clock } from '../lib/clock.js';
import type { WorkspacePaths } from '../config/paths.js';
import { liveHolder, type LockInfo } from '../queue/lock.js';
import { readOutcome, writeRequest, type RequestOutcome } from '../queue/requests.js';

export type ControlRequest = { kind: 'stop'; pid: number } | { kind: 'reload' };

/** The daemon that holds the workspace, if one does. */
export function runningDaemon(paths: WorkspacePaths): LockInfo | null {
  const holder = liveHolder(paths.lock);
  return holder?.kind === 'daemon' ? holder : null;
}

/**
 * Sends a request to the running daemon and waits up to `waitMs` for its outcome; `queued` when the
 * daemon has not applied it yet.
 */
export async function sendToDaemon(
  paths: WorkspacePaths,
  request: ControlRequest,
  clock: Clock,
  waitMs: number,
): Promise<RequestOutcome & { queued?: boolean; request: string }> {
  const name = writeRequest(paths, request, clock);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const done = readOutcome(paths, name);
    if (done) return { ...done.outcome, request: name };
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    ok: false,
    queued: true,
    request: name,
    message: `the daemon has not applied request ${name} yet`,
  };
}

/** Waits up to `timeoutMs` for the daemon with `pid` to let go of the workspace; true once it has. */
export async function waitForDaemonExit(
  paths: WorkspacePaths,
  pid: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (runningDaemon(paths)?.pid !== pid) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
