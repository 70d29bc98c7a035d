/**
 * Where the claude-code architect runs: a tmux session on the supervisor's host, on the architect's own
 * socket (hosts/layout.ts: architectSocketPath), so the TUI can show its live pane and `a` can attach.
 * Like an executor's launch (hosts/launch.ts), the prompt, the environment (secrets included) and the
 * argv travel in files of a 0700 run directory, never on the tmux command line; the session's fixed
 * script sources the environment file and deletes it before the CLI starts.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { envFileText, quoteArgv } from '../hosts/quote.js';
import type { CommandRunner } from '../hosts/runner.js';
import { TMUX_CONF, Tmux } from '../hosts/tmux.js';

/** One run of the CLI in a session. */
export interface SessionRun {
  /** The tmux session's name (architectSessionName). */
  session: string;
  cwd: string;
  argv: readonly string[];
  /** The CLI's whole environment, credential included: written to a 0600 file, never to argv. */
  env: Record<string, string>;
  /** Given to the CLI on stdin. */
  prompt: string;
  timeoutMs: number;
}

export interface SessionOutcome {
  /** The CLI's exit code; null when it was killed at the deadline. */
  exitCode: number | null;
  /** Its stdout and stderr, in the order printed. */
  output: string;
  timedOut: boolean;
  /** Ended by stop(): the daemon is stopping; nobody's fault, and nothing to record. */
  stopped?: boolean;
}

/** Runs the architect's CLI somewhere and waits for it: tmux in the daemon, anything in unit tests. */
export interface ArchitectSessions {
  run(r: SessionRun): Promise<SessionOutcome>;
  /** Ends the running session at once (the daemon stops); later runs end as soon as they start. */
  stop?(): Promise<void>;
}

/**
 * The session's script: `$1` is the run directory. Sources `env` (KEY='value' lines, envFileText) and
 * deletes it, reads the argv from `argv` (quoteArgv's single-quoted words: eval only removes quotes),
 * runs it with `prompt` on stdin, shows its output in the pane and keeps it in `out.log`, then writes
 * the exit code to `rc` (last, through a rename: its presence means the run ended).
 */
export const ARCHITECT_SH = `set -u
D=$1
set -a
. "$D/env"
set +a
rm -f "$D/env"
eval "set -- $(cat "$D/argv")"
unset TMUX TMUX_PANE
{ "$@" < "$D/prompt" 2>&1; echo $? > "$D/rc.tmp"; } | tee "$D/out.log"
mv "$D/rc.tmp" "$D/rc"
`;

export class TmuxArchitectSessions implements ArchitectSessions {
  private readonly tmux: Tmux;
  private stopped = false;
  private current: string | null = null;

  constructor(
    private readonly o: {
      runner: CommandRunner;
      /** The architect's directory (paths.architectDir): runs/ and the tmux config live there. */
      dir: string;
      socket: string;
      env: { path: string; home: string };
      /** How often to look for the end of a run. */
      pollMs?: number;
    },
  ) {
    const conf = path.join(o.dir, 'tmux.conf');
    this.tmux = new Tmux(o.runner, o.socket, conf, o.env);
  }

  async run(r: SessionRun): Promise<SessionOutcome> {
    const runDir = path.join(this.o.dir, 'runs', r.session);
    mkdirSync(this.o.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.o.dir, 0o700);
    mkdirSync(path.dirname(this.o.socket), { recursive: true, mode: 0o700 });
    writeFileSync(path.join(this.o.dir, 'tmux.conf'), TMUX_CONF);
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(runDir, 'prompt'), r.prompt, { mode: 0o600 });
    writeFileSync(path.join(runDir, 'env'), envFileText(r.env), { mode: 0o600 });
    writeFileSync(path.join(runDir, 'argv'), quoteArgv(r.argv), { mode: 0o600 });
    // The last run's dead pane stays for the TUI until the next run replaces it.
    await this.tmux.kill(r.session);
    if (this.stopped) return { exitCode: null, output: '', timedOut: false, stopped: true };
    await this.tmux.newSession(r.session, r.cwd, ['sh', '-c', ARCHITECT_SH, 'nightshift-architect', runDir]);
    this.current = r.session;
    const rcFile = path.join(runDir, 'rc');
    const deadline = performance.now() + r.timeoutMs;
    const pollMs = this.o.pollMs ?? 200;
    while (!existsSync(rcFile)) {
      if (this.stopped) {
        await this.tmux.kill(r.session);
        return { exitCode: null, output: readOut(runDir), timedOut: false, stopped: true };
      }
      if (performance.now() > deadline) {
        await this.tmux.kill(r.session);
        return { exitCode: null, output: readOut(runDir), timedOut: true };
      }
      await new Promise((res) => setTimeout(res, pollMs));
    }
    this.current = null;
    const code = Number(readFileSync(rcFile, 'utf8').trim());
    return { exitCode: Number.isInteger(code) ? code : null, output: readOut(runDir), timedOut: false };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.current) await this.tmux.kill(this.current);
  }
}

function readOut(runDir: string): string {
  try {
    return readFileSync(path.join(runDir, 'out.log'), 'utf8');
  } catch {
    return '';
  }
}
