/**
 * The host as the daemon's single-job modules (launcher, watcher, collector, adoption, ending, monitor,
 * attempts.ts's launch and worktree, log-mirror.ts's log and screen) use it: exactly the members of
 * WorkerHost they call, so that their decisions can be unit-tested on an in-memory host
 * (src/testing/fake-host.ts).
 * WorkerHost satisfies it structurally; the supervisor still builds and is given WorkerHosts.
 */
import type { WorkerHost } from '../hosts/worker.js';
import type { Tmux } from '../hosts/tmux.js';

export interface HostPort extends Pick<
  WorkerHost,
  // identity and layout (launchContext, the worktree the executor runs in)
  | 'name'
  | 'workspace'
  | 'info'
  | 'dir'
  | 'session'
  | 'worktree'
  // preparing and launching an attempt
  | 'installFile'
  | 'ensureDir'
  | 'ensureMirror'
  | 'pushBase'
  | 'pushBranch'
  | 'createWorktree'
  | 'forgetSetup'
  | 'launch'
  // watching it
  | 'waitForExit'
  | 'wakeExitWaiters'
  | 'status'
  | 'statuses'
  | 'attemptStarted'
  | 'readLogBytes'
  | 'captureScreen'
  // ending and collecting it
  | 'kill'
  | 'closeSession'
  | 'afterRun'
  | 'mainTouched'
  | 'mainMoved'
  | 'fetchBranch'
> {
  /** The monitor cycle lists the host's sessions to report strays. */
  readonly tmux: Pick<Tmux, 'list'>;
}
