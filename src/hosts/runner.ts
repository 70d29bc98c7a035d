/**
 * Command runners: how nightshift runs a process on a host. `local` uses execa with argv arrays (never a
 * shell); `ssh` uses the system ssh, so the user's ~/.ssh/config, agent and known_hosts apply, with a
 * ControlMaster under the workspace so each command costs milliseconds, not a handshake.
 *
 * ssh exits 255 when the link fails: that is a `worker` failure (LinkError), never the command's.
 */
import os from 'node:os';
import { execa } from 'execa';
import { ErrorCode, NightshiftError, type ErrorContext } from '../core/errors.js';
import { noteSpawn } from '../lib/activity.js';
import { quoteArgv } from './quote.js';
import { controlPathFor, interactiveSshArgv, sshOptions, type SshTarget } from './ssh-argv.js';

export { controlPathFor, type SshTarget };

export interface RunOptions {
  /** Data for the process's stdin. */
  input?: string | Uint8Array;
  /** Kill the process (SIGTERM, then SIGKILL) after this long. */
  timeoutMs?: number;
  /** Extra environment for a local process (remote processes get theirs through env files). */
  env?: Record<string, string>;
  /** Throw CommandError when the command exits non-zero (by default the result says so and nothing throws). */
  check?: boolean;
  /** Keep stdout's bytes as they are (RunResult.stdoutBytes): output that may not be UTF-8, or may end mid-character. */
  binary?: boolean;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  /** stdout's bytes, undecoded, when the command ran with `binary`. */
  stdoutBytes?: Buffer;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
  /** The signal that killed the local process (for ssh: our client, not the remote command). */
  killedBy?: string;
}

export interface CommandRunner {
  readonly host: string;
  readonly kind: 'local' | 'ssh';
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** The argv that runs `argv` on this host with a terminal (for attaching to tmux). */
  interactiveArgv(argv: readonly string[]): string[];
  /** Environment for a local git that must reach this host (GIT_SSH_COMMAND for ssh hosts). */
  gitTransport(): { urlFor(remotePath: string): string; env: Record<string, string> };
  close(): Promise<void>;
}

/** The ssh link failed (exit 255): charge the worker, not the executor. */
export class LinkError extends NightshiftError {
  override readonly name = 'LinkError';
  readonly attribution = 'worker' as const;
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(ErrorCode.linkDown, message, context, options);
  }
}

/** A command that had to succeed did not. */
export class CommandError extends NightshiftError {
  override readonly name = 'CommandError';
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
    host: string,
  ) {
    super(
      ErrorCode.io,
      `\`${argv.slice(0, 4).join(' ')}${argv.length > 4 ? ' …' : ''}\` exited ${result.exitCode}${result.timedOut ? ' (timed out)' : ''}: ${(result.stderr || result.stdout).trim().slice(0, 500)}`,
      { host },
    );
  }
}

async function exec(
  file: string,
  args: readonly string[],
  opts: RunOptions,
  extraEnv: Record<string, string> | undefined,
): Promise<RunResult> {
  const started = performance.now();
  noteSpawn();
  const result = await execa(file, args, {
    reject: false,
    stdin: opts.input === undefined ? 'ignore' : 'pipe',
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(opts.timeoutMs ? { timeout: opts.timeoutMs, forceKillAfterDelay: 2000 } : {}),
    env: { ...extraEnv, ...opts.env },
    stripFinalNewline: false,
    encoding: opts.binary ? 'buffer' : 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    windowsHide: true,
  });
  const spawnFailed = result.exitCode === undefined && !result.signal && !result.timedOut;
  const text = (out: string | Uint8Array | undefined) =>
    out instanceof Uint8Array ? Buffer.from(out).toString('utf8') : (out ?? '');
  const stderr = text(result.stderr);
  return {
    exitCode: exitCodeOf(result),
    stdout: text(result.stdout),
    ...(opts.binary ? { stdoutBytes: Buffer.from((result.stdout as Uint8Array | undefined) ?? []) } : {}),
    // A command that could not start says why, as a shell would ("…: not found").
    stderr: spawnFailed && !stderr ? `${result.shortMessage ?? ''}\n` : stderr,
    timedOut: result.timedOut === true,
    durationMs: performance.now() - started,
    ...(result.signal && !result.timedOut ? { killedBy: result.signal } : {}),
  };
}

/**
 * The exit status a shell would report: 127 for a command that does not exist, 126 for one that cannot
 * be executed, 128+n for a signal, 124 for our own timeout (as timeout(1) reports it).
 */
function exitCodeOf(result: {
  exitCode?: number;
  timedOut?: boolean;
  signal?: string;
  code?: string;
}): number {
  if (typeof result.exitCode === 'number') return result.exitCode;
  if (result.timedOut) return 124;
  if (result.signal) {
    const n = (os.constants.signals as Record<string, number | undefined>)[result.signal];
    return 128 + (n ?? 9);
  }
  if (result.code === 'ENOENT') return 127;
  if (result.code === 'EACCES' || result.code === 'EPERM') return 126;
  return 128 + 9;
}

export class LocalRunner implements CommandRunner {
  readonly kind = 'local' as const;
  constructor(readonly host = 'local') {}

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const [file, ...args] = argv;
    if (!file) throw new NightshiftError(ErrorCode.internal, 'empty command');
    const result = await exec(file, args, opts, undefined);
    if (opts.check && result.exitCode !== 0) throw new CommandError(argv, result, this.host);
    return result;
  }

  interactiveArgv(argv: readonly string[]): string[] {
    return [...argv];
  }

  gitTransport() {
    return { urlFor: (p: string) => p, env: {} };
  }

  async close(): Promise<void> {}
}

export class SshRunner implements CommandRunner {
  readonly kind = 'ssh' as const;
  readonly host: string;
  private readonly controlPath: string;

  constructor(private readonly target: SshTarget) {
    this.host = target.name;
    this.controlPath = controlPathFor(target.controlDir);
  }

  /** The ssh options every connection uses: multiplexed, kept alive, never prompting. */
  sshArgs(): string[] {
    return sshOptions(this.target, this.controlPath);
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const { timeoutMs } = opts;
    // Killing our ssh client would not stop the remote command (and the ControlMaster keeps our pipes
    // open until it ends), so a timeout is enforced on the host; ours is only a backstop for the link.
    const remote = quoteArgv(timeoutMs ? withRemoteTimeout(argv, timeoutMs) : argv);
    const result = await exec(
      'ssh',
      [...this.sshArgs(), '--', this.target.destination, remote],
      { ...opts, env: {}, ...(timeoutMs ? { timeoutMs: timeoutMs + LINK_GRACE_MS } : {}) },
      undefined,
    );
    // A signal here killed our ssh client (the remote command's own signal arrives as an exit status):
    // the link is gone, whatever the command would have done.
    if (result.exitCode === 255 || result.timedOut || result.killedBy) {
      const why = result.timedOut
        ? `no answer within ${Math.round(result.durationMs / 1000)} s`
        : result.killedBy
          ? `the ssh client was killed by ${result.killedBy}`
          : (result.stderr.trim().split('\n').at(-1) ?? 'link down');
      throw new LinkError(`ssh to ${this.target.destination} failed: ${why}`, {
        host: this.host,
        hint:
          'check that the host is up and `ssh ' + this.target.destination + ' true` works without a prompt',
      });
    }
    if (timeoutMs && (result.exitCode === 124 || result.exitCode === 137) && result.durationMs >= timeoutMs) {
      result.timedOut = true;
    }
    if (opts.check && result.exitCode !== 0) throw new CommandError(argv, result, this.host);
    return result;
  }

  interactiveArgv(argv: readonly string[]): string[] {
    return interactiveSshArgv(this.target, this.controlPath, argv);
  }

  gitTransport() {
    const sshCommand = quoteArgv(['ssh', ...this.sshArgs()]);
    const portless = this.target.destination;
    return {
      urlFor: (p: string) =>
        `ssh://${portless}${this.target.port ? `:${this.target.port}` : ''}${p.startsWith('/') ? '' : '/'}${p}`,
      env: { GIT_SSH_COMMAND: sshCommand },
    };
  }

  /** Closes the ControlMaster (the next command opens a new one). */
  async close(): Promise<void> {
    await exec('ssh', [...this.sshArgs(), '-O', 'exit', this.target.destination], {}, undefined);
  }
}

/** How long past a command's own timeout we wait for the host before blaming the link. */
const LINK_GRACE_MS = 5000;

/**
 * `argv` bounded by timeout(1) on the host: TERM at the deadline, KILL 2 s later, exit 124 (137).
 * A host without timeout(1) runs `argv` unbounded (our backstop then charges the link).
 */
function withRemoteTimeout(argv: readonly string[], timeoutMs: number): string[] {
  const seconds = (Math.max(timeoutMs, 1) / 1000).toFixed(3);
  return [
    'sh',
    '-c',
    'if command -v timeout >/dev/null 2>&1; then exec timeout -k 2 "$@"; fi; shift; exec "$@"',
    'sh',
    seconds,
    ...argv,
  ];
}
