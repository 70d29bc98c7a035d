/**
 * The ssh command lines nightshift builds, without running anything: the options every connection uses
 * (the ControlMaster socket under the workspace) and the interactive `ssh -t` of an attach. Kept apart
 * from runner.ts (which loads execa) so a client that only needs the argv, the TUI's attach, does not
 * load the process runner.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

/** The ssh options every connection uses: multiplexed, kept alive, never prompting. */
export function sshOptions(t: SshTarget, controlPath: string): string[] {
  return [
    ...(t.sshConfig ? ['-F', t.sshConfig] : []),
    ...(t.port ? ['-p', String(t.port)] : []),
    ...(t.identityFile ? ['-i', t.identityFile, '-o', 'IdentitiesOnly=yes'] : []),
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPath=${controlPath}`,
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

/** `ssh <options> -t -- <destination> '<quoted argv>'`: argv run on the host with a terminal. */
export function interactiveSshArgv(t: SshTarget, controlPath: string, argv: readonly string[]): string[] {
  return ['ssh', ...sshOptions(t, controlPath), '-t', '--', t.destination, quoteArgv(argv)];
}

/**
 * A ControlPath under `dir`, short enough for a unix socket (sun_path is ~104 bytes): when the
 * workspace path is long, a private 0700 directory under the system temp dir is used instead.
 */
export function controlPathFor(dir: string): string {
  let base = dir;
  if (path.join(base, 'cm-0123456789012345678901234567890123456789').length > 100) {
    const hash = createHash('sha256').update(dir).digest('hex').slice(0, 12);
    base = path.join(os.tmpdir(), `ns-ssh-${process.getuid?.() ?? 0}-${hash}`);
  }
  mkdirSync(base, { recursive: true, mode: 0o700 });
  return path.join(base, 'cm-%C');
}
