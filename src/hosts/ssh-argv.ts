/**
 * The ssh command lines nightshift builds, without running anything: the options every connection uses
 * (the ControlMaster socket under the workspace) and the interactive `ssh -t` of an attach. Kept apart
 * from runner.ts (which loads execa) so a client that only needs the argv, the TUI's attach, does not
 * load the process runner.
 */
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import type { WorkspacePaths } from '../config/paths.js';
import type { HostConfig } from '../config/schema.js';
import { quoteArgv } from './quote.js';

export interface SshTarget {
  /** Host name in nightshift's config (for messages). */
  name: string;
  /** user@host or a Host alias from the user's ssh config. */
  destination: string;
  sshConfig?: string;
  port?: number;
  identityFile?: string;
  /** Directory for ControlMaster sockets (created 0700). */
  controlDir: string;
  /** Extra -o options (tests use them for known_hosts files). */
  extraOptions?: string[];
}

/** The target of an ssh host in the config: its ControlMaster sockets live under the workspace's state. */
export function sshTargetFor(
  name: string,
  cfg: Extract<HostConfig, { kind: 'ssh' }>,
  paths: WorkspacePaths,
  extraOptions?: string[],
): SshTarget {
  return {
    name,
    destination: cfg.ssh,
    ...(cfg.sshConfig ? { sshConfig: cfg.sshConfig } : {}),
    ...(cfg.port ? { port: cfg.port } : {}),
    ...(cfg.identityFile ? { identityFile: cfg.identityFile } : {}),
    controlDir: path.join(paths.stateStore, 'ssh'),
    ...(extraOptions ? { extraOptions } : {}),
  };
}

/**
 * The ssh options every connection uses: multiplexed, kept alive, never prompting. ssh reads `%` tokens
 * in the ControlPath and IdentityFile, so their own `%` are doubled (only the socket's `%C` is a token).
 * The ControlPath goes as `-S <path>`, one argument ssh takes whole (`-o ControlPath=<path>` is split at
 * whitespace); the key as `-o IdentityFile="<path>"`, since `-i` checks the path before it expands `%%`.
 * `-F` is read as given.
 */
export function sshOptions(t: SshTarget, controlPath: string): string[] {
  return [
    ...sshReachOptions(t),
    '-o',
    'ControlMaster=auto',
    '-S',
    path.join(escapePercent(path.dirname(controlPath)), path.basename(controlPath)),
    '-o',
    'ControlPersist=10m',
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=3',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'BatchMode=yes',
    ...(t.extraOptions ?? []).flatMap((o) => ['-o', o]),
  ];
}

/**
 * How to reach the host and whom to be there, as every connection says it: `-F`, `-p` and the key (with
 * IdentitiesOnly). Also the start of the command doctor suggests trying by hand.
 */
export function sshReachOptions(t: Pick<SshTarget, 'sshConfig' | 'port' | 'identityFile'>): string[] {
  return [
    ...(t.sshConfig ? ['-F', t.sshConfig] : []),
    ...(t.port ? ['-p', String(t.port)] : []),
    ...(t.identityFile
      ? ['-o', `IdentityFile=${sshConfigWord(escapePercent(t.identityFile))}`, '-o', 'IdentitiesOnly=yes']
      : []),
  ];
}

/** `ssh <options> -t -- <destination> '<quoted argv>'`: argv run on the host with a terminal. */
export function interactiveSshArgv(t: SshTarget, controlPath: string, argv: readonly string[]): string[] {
  return ['ssh', ...sshOptions(t, controlPath), '-t', '--', t.destination, quoteArgv(argv)];
}

/** `%` doubled: ssh reads `%` tokens in the ControlPath and IdentityFile, and `%%` is a literal `%`. */
function escapePercent(p: string): string {
  return p.replaceAll('%', '%%');
}

/** One word of an ssh config line (as in `-o Key=<word>`): double-quoted, `"` and `\` backslashed. */
function sshConfigWord(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * A ControlPath under `dir`, short enough for a unix socket (sun_path is ~104 bytes): when the
 * workspace path is long, a private directory under the system temp dir is used instead. Either way
 * the directory must be private (privateDir): whoever can write to it can put a socket of theirs where
 * ssh would send our commands.
 */
export function controlPathFor(dir: string): string {
  let base = dir;
  if (path.join(base, 'cm-0123456789012345678901234567890123456789').length > 100) {
    const hash = createHash('sha256').update(dir).digest('hex').slice(0, 12);
    base = path.join(os.tmpdir(), `ns-ssh-${process.getuid?.() ?? 0}-${hash}`);
  }
  privateDir(base);
  return path.join(base, 'cm-%C');
}

/**
 * Creates `dir` mode 0700, or checks the one that is there: a real directory (not a symlink) owned by
 * this user, with no group or other permissions (set to 0700 when it has some). Anything else is
 * refused with an error naming the path.
 */
export function privateDir(dir: string): void {
  if (!lstatSync(dir, { throwIfNoEntry: false })) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const refuse = (why: string) =>
    new NightshiftError(ErrorCode.unsafeFile, `ssh control directory ${why}`, {
      file: dir,
      hint: `remove ${dir} (nightshift creates it again, mode 0700), or check who else uses this machine`,
    });
  if (st.isSymbolicLink()) throw refuse('is a symbolic link; it must be a real directory');
  if (!st.isDirectory()) throw refuse('is not a directory');
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw refuse(`is owned by uid ${st.uid}, not by you (uid ${uid})`);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}
